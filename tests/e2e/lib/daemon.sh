# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the pseudopodd e2e tests (tests/e2e/daemon_*.sh), on top of harness.sh.
#
# d_cluster: the quickstart's topology — an underlay LAN, a store host running etcd, a
#   gateway node (10.99.0.2) with pods web (10.200.1.5, app=web) and db (10.200.1.6,
#   app=db), and machine vm1 (underlay 10.99.0.20, overlay 10.201.0.10, app=billing).
#   The gateway's tunnel is pp-tunnel wg-up (gateway mode is tested on its own); the
#   machine is "enrolled" by writing the state `pseudopod enroll` leaves (enrollment.json,
#   wireguard.key, the config) from the store's own records, so these tests exercise the
#   daemon and nothing else. Sets D_STORE D_GW D_VM D_WEB D_DB D_URL D_CONF D_STATE
#   D_BPFFS D_SOCK D_DEV D_VMID.
# d_start [LOGNAME]: starts pseudopodd in vm1; sets D_PID; waits until it is ready.
# d_status: `pseudopod status -o json` against the daemon.
# d_etcd_stop / d_etcd_start: stop (SIGKILL) and restart etcd on the same data directory.
# D_ETCD_MEMBERS=3 before d_cluster: the store host runs a 3-member cluster instead (client
#   ports 2379, 2389, 2399; D_URL lists all three; D_ETCD_PIDS holds the members' PIDs).

CTL=$(h_bin pseudopodctl)
PPD_BIN=$(h_bin pseudopodd)
PP_CLI=$(h_bin pseudopod)
PPT=$(h_bin pp-tunnel)
PPDP=$(h_bin pp-datapath)

d_etcd_start() {
	D_ETCD_PID=$(h_spawn "$D_STORE" etcd etcd --name "e$H_RUN" --data-dir "$H_TMP/etcd" \
		--listen-client-urls "http://0.0.0.0:2379" --advertise-client-urls "$D_URL" \
		--listen-peer-urls "http://127.0.0.1:2380" \
		--initial-advertise-peer-urls "http://127.0.0.1:2380" \
		--initial-cluster "e$H_RUN=http://127.0.0.1:2380" --log-level error)
	h_wait_for 20 h_etcd_healthy "$D_STORE" "$D_URL" || h_fail "etcd did not become healthy"
}

# A member of the 3-member store: client port 2379 + 10 * (I - 1), peers on loopback.
d_etcd_member_start() {
	local i=$1 initial="" j
	for j in 1 2 3; do
		initial+="${initial:+,}m$j=http://127.0.0.1:$((2370 + 10 * j + 1))"
	done
	D_ETCD_PIDS[$i]=$(h_spawn "$D_STORE" "etcd-m$i" etcd --name "m$i" \
		--data-dir "$H_TMP/etcd-m$i" \
		--listen-client-urls "http://0.0.0.0:$((2369 + 10 * i))" \
		--advertise-client-urls "http://10.99.0.10:$((2369 + 10 * i))" \
		--listen-peer-urls "http://127.0.0.1:$((2370 + 10 * i + 1))" \
		--initial-advertise-peer-urls "http://127.0.0.1:$((2370 + 10 * i + 1))" \
		--initial-cluster "$initial" --initial-cluster-state new \
		--initial-cluster-token "pp$H_RUN" --log-level error)
}

d_etcd_cluster_start() {
	local i
	D_ETCD_PIDS=()
	for i in 1 2 3; do d_etcd_member_start "$i"; done
	for i in 1 2 3; do
		h_wait_for 30 h_etcd_healthy "$D_STORE" "http://10.99.0.10:$((2369 + 10 * i))" ||
			h_fail "etcd member m$i did not become healthy"
	done
}

d_etcd_stop() {
	kill -9 "$D_ETCD_PID" 2>/dev/null || true
	while kill -0 "$D_ETCD_PID" 2>/dev/null; do sleep 0.1; done
}

ctl() { h_in "$D_STORE" "$CTL" "$@" --store "$D_URL" --store-prefix "$D_PREFIX"; }

d_cluster() {
	local fail_mode=${1:-static} gw_pub vm_pub cluster
	D_PREFIX="/pp$H_RUN/"
	h_underlay
	D_STORE=$(h_host store 10.99.0.10/24)
	D_GW=$(h_node gw 10.99.0.2/24)
	D_VM=$(h_host vm1 10.99.0.20/24)
	D_WEB=$(h_pod "$D_GW" web 10.200.1.5)
	D_DB=$(h_pod "$D_GW" db 10.200.1.6)
	if [ "${D_ETCD_MEMBERS:-1}" = 3 ]; then
		D_URL="http://10.99.0.10:2379,http://10.99.0.10:2389,http://10.99.0.10:2399"
		d_etcd_cluster_start
	else
		D_URL="http://10.99.0.10:2379"
		d_etcd_start
	fi
	ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.200.0.0/16 \
		--workload-cidr 10.201.0.0/16 --tunnel wireguard >/dev/null || h_fail "init"
	ctl endpoint add --ip 10.200.1.5 --labels app=web --namespace prod >/dev/null
	ctl endpoint add --ip 10.200.1.6 --labels app=db --namespace prod >/dev/null
	D_VMID=$(ctl endpoint add --ip 10.201.0.10 --labels app=billing --namespace prod \
		--kind workload --gateway 10.99.0.2 -o json | jq -r .identity)
	[ -n "$D_VMID" ] || h_fail "machine identity"

	D_STATE="$H_TMP/state"
	mkdir -m 0700 -p "$D_STATE"
	"$PPT" writekey "$D_STATE/wireguard.key" >/dev/null
	"$PPT" writekey "$H_TMP/gw.key" >/dev/null
	vm_pub=$("$PPT" readkey "$D_STATE/wireguard.key")
	gw_pub=$("$PPT" readkey "$H_TMP/gw.key")
	h_spawn "$D_GW" tunnel-gw "$PPT" wg-up "qg$H_RUN" --private-key "$H_TMP/gw.key" \
		--port 51871 --mtu auto --underlay-dev ul0 --route 10.201.0.10/32 \
		--peer "$vm_pub,-,10.201.0.10/32" --foreground >/dev/null
	D_DEV="pv$H_RUN"
	D_BPFFS="/sys/fs/bpf/pp-e2e-$H_RUN"
	D_SOCK="$H_TMP/api.sock"
	h_on_exit "$PPDP unload --bpffs $D_BPFFS"
	cluster=$(h_in "$D_STORE" etcdctl --endpoints "$D_URL" get --print-value-only "${D_PREFIX}config")
	jq -n --arg pub "$gw_pub" --arg vmpub "$vm_pub" --argjson id "$D_VMID" \
		--argjson cluster "$cluster" \
		--arg url "$D_URL" --arg prefix "$D_PREFIX" '{
		version: 1, server: "https://10.99.0.10:8443", ca_pin: "sha256:test",
		enrolled_at: 1700000000,
		response: {version: 1, name: "vm1",
			workload: {version: 1, identity: $id, overlay_ip: "10.201.0.10",
				labels: ["k8s:app=billing", "k8s:io.kubernetes.pod.namespace=prod"],
				namespace: "prod", underlay_ip: "10.99.0.20",
				wg_public_key: $vmpub, enrolled_at: 1700000000},
			cluster: $cluster,
			gateways: {gw1: {version: 1, underlay_ip: "10.99.0.2", wireguard_port: 51871,
				wg_public_key: $pub, cidrs: ["10.200.0.0/16"]}},
			store: {endpoints: $url, prefix: $prefix}}}' >"$D_STATE/enrollment.json"
	chmod 0600 "$D_STATE/enrollment.json"
	D_CONF="$H_TMP/pseudopod.conf"
	cat >"$D_CONF" <<CONF
[agent]
mode = workload
name = vm1
state-dir = $D_STATE
bpffs-root = $D_BPFFS
api-socket = $D_SOCK
metrics-address = 127.0.0.1:9962
fail-mode = $fail_mode
log-level = info

[store]
endpoints = $D_URL
prefix = $D_PREFIX
timeout-ms = 2000

[tunnel]
mode = wireguard
device = $D_DEV
wireguard-backend = userspace
wireguard-port = 51871
CONF
}

# d_listen: TCP listeners on the machine's overlay address (once pseudopodd put it there).
# 5432 serves connections concurrently (a long-lived connection must not starve probes,
# as with nc -lk, which serves one at a time); 22 is nc.
d_listen() {
	h_spawn "$D_VM" tcp-5432 python3 -c '
import socketserver
class H(socketserver.BaseRequestHandler):
    def handle(self):
        while self.request.recv(4096):
            pass
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
socketserver.ThreadingTCPServer(("10.201.0.10", 5432), H).serve_forever()' >/dev/null
	h_wait_for 5 h_in "$D_VM" sh -c "ss -Hltn 'sport = :5432' | grep -q LISTEN"
	h_tcp_listen "$D_VM" 10.201.0.10 22
}

d_status() { "$PP_CLI" status --socket "$D_SOCK" -o json; }
d_ready() { d_status 2>/dev/null | jq -e '.ready == true' >/dev/null; }

d_start() {
	local log=${1:-pseudopodd}
	# not in $(...): the daemon must be this shell's child so that d_stop_term can wait
	h_spawn "$D_VM" "$log" "$PPD_BIN" --config "$D_CONF" >"$H_TMP/pid"
	D_PID=$(cat "$H_TMP/pid")
	h_wait_for 30 d_ready || h_fail "pseudopodd did not become ready (see $log.log)"
}

# d_stop_term: SIGTERM and wait for the exit; fails if it does not exit 0.
d_stop_term() {
	local rc=0
	kill -TERM "$D_PID"
	wait "$D_PID" || rc=$?
	[ $rc -eq 0 ] || h_fail "pseudopodd exited $rc on SIGTERM"
}

d_apply() { ctl policy apply -f - >/dev/null || h_fail "policy apply"; }

# The quickstart policy: billing accepts 5432/TCP from app=web only.
D_POLICY_WEB_5432='apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: billing-from-web, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: billing}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]'
