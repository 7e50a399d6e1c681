#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Two gateways serving the same machines (pp-gateway, agent/gateway.h): g1 serves pod CIDR
# 10.200.1.0/24 (pod p1, app=db), g2 10.200.2.0/24 (pod p2, app=db). Machines m1
# (app=legacy-db) and m2 (app=other) run no datapath and have both gateways as WireGuard
# peers. p1/p2's ingress policy admits app=legacy-db on 5432:
#   1. both gateways register (gateways/<name> on their own leases) and both hold a peer
#      for every machine;
#   2. both enforce: m1 reaches p1 through g1 and p2 through g2, m2 reaches neither;
#   3. a gateway stopped (SIGTERM) revokes its registration, the other's stays; one killed
#      (SIGKILL) loses it when its lease expires; enforcement stays in both datapaths.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "$PP_SOURCE_DIR/tests/e2e/lib/store.sh"
h_init
GWB=$(h_bin pp-gateway)
T=$(h_bin pp-tunnel)
PPD=$(h_bin pp-datapath)
command -v wireguard-go >/dev/null || h_fail "wireguard-go missing: run scripts/deps"

store_underlay_init
g1=$(h_node g1 10.99.0.1/24)
g2=$(h_node g2 10.99.0.5/24)
p1=$(h_pod "$g1" p1 10.200.1.5)
p2=$(h_pod "$g2" p2 10.200.2.5)
a1=$(h_pod "$g1" a1 10.200.1.6) # app=api: selected by nothing, the reachability control
a2=$(h_pod "$g2" a2 10.200.2.6)
m1=$(h_host m1 10.99.0.2/24)
m2=$(h_host m2 10.99.0.3/24)

ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.200.0.0/16 \
	--workload-cidr 10.201.0.0/16 >/dev/null || h_fail "pseudopodctl init"
ctl endpoint add --ip 10.200.1.5 --labels app=db --namespace prod >/dev/null || h_fail "p1"
ctl endpoint add --ip 10.200.2.5 --labels app=db --namespace prod >/dev/null || h_fail "p2"
ctl endpoint add --ip 10.200.1.6 --labels app=api --namespace prod >/dev/null || h_fail "a1"
ctl endpoint add --ip 10.200.2.6 --labels app=api --namespace prod >/dev/null || h_fail "a2"
for k in g1 g2 m1 m2; do "$T" writekey "$H_TMP/$k.key"; done
pub() { "$T" readkey "$H_TMP/$1.key"; }
workload() { # NAME OVERLAY UNDERLAY LABELS
	local id
	ctl endpoint add --ip "$2" --labels "$4" --namespace prod --kind workload \
		--gateway 10.99.0.1 >/dev/null || h_fail "endpoint add $1"
	id=$(store_identity_of "$2")
	store_etcdctl put "${P}workloads/$1" "{\"version\":1,\"identity\":$id,\"overlay_ip\":\"$2\",\
\"labels\":[\"k8s:$4\",\"k8s:io.kubernetes.pod.namespace=prod\"],\"namespace\":\"prod\",\
\"underlay_ip\":\"$3\",\"wg_public_key\":\"$(pub "$1")\",\"enrolled_at\":1700000000}" \
		>/dev/null || h_fail "workloads/$1"
}
workload m1 10.201.0.5 10.99.0.2 app=legacy-db
workload m2 10.201.0.6 10.99.0.3 app=other
cat >"$H_TMP/db.yaml" <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: legacy-db}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
YAML
ctl policy apply -f "$H_TMP/db.yaml" >/dev/null || h_fail "policy apply"

gateway() { # NS NAME UNDERLAY CIDR
	local dev="g${H_RUN}$2" pins="/sys/fs/bpf/pp-e2e-$H_RUN-$2"
	h_on_exit "$PPD unload --bpffs $pins"
	h_on_exit "ip -n $1 link del $dev"
	h_on_exit "rm -f /var/run/wireguard/$dev.sock"
	h_spawn "$1" "$2" "$GWB" --store "$url" --prefix "$P" --name "$2-$H_RUN" --bpffs "$pins" \
		--dev "$dev" --underlay "$3" --cidr "$4" --private-key "$H_TMP/$2.key" \
		--backend userspace --lease-ttl 3
}
g1pid=$(gateway "$g1" g1 10.99.0.1 10.200.1.0/24)
g2pid=$(gateway "$g2" g2 10.99.0.5 10.200.2.0/24)
h_wait_for 30 grep -q '^ready' "$H_TMP/g1.log" || h_fail "g1 not ready"
h_wait_for 30 grep -q '^ready' "$H_TMP/g2.log" || h_fail "g2 not ready"

# 1. both registered, both with a peer per machine
registered() { store_etcdctl get --print-value-only "${P}gateways/$1-$H_RUN" | grep -q .; }
registered g1 || h_fail "g1 should be registered"
registered g2 || h_fail "g2 should be registered"
for g in g1 g2; do
	gns=$([ $g = g1 ] && echo "$g1" || echo "$g2")
	for m in m1 m2; do
		h_in "$gns" wg show "g${H_RUN}$g" peers | grep -qF "$(pub $m)" ||
			h_fail "$g has no peer for $m"
	done
done
h_log "ok: both gateways registered, each with a peer per machine"

for i in 1 2; do
	mns=$([ $i = 1 ] && echo "$m1" || echo "$m2")
	h_on_exit "rm -f /var/run/wireguard/g${H_RUN}m$i.sock"
	h_spawn "$mns" "m$i" "$T" wg-up "g${H_RUN}m$i" --private-key "$H_TMP/m$i.key" --port 51871 \
		--backend userspace --address "10.201.0.$((4 + i))/32" --route 10.200.0.0/16 \
		--peer "$(pub g1),10.99.0.1:51871,10.200.1.0/24,1" \
		--peer "$(pub g2),10.99.0.5:51871,10.200.2.0/24,1" --foreground >/dev/null
	h_wait_for 15 grep -q '^ready' "$H_TMP/m$i.log" || h_fail "m$i's tunnel"
done
h_tcp_listen "$p1" 10.200.1.5 5432
h_tcp_listen "$p2" 10.200.2.5 5432
h_tcp_listen "$a1" 10.200.1.6 5432
h_tcp_listen "$a2" 10.200.2.6 5432

# 2. both enforce
check() {
	h_wait_for 15 h_tcp_connect "$m1" 10.200.1.5 5432 || h_fail "m1 -> p1 through g1"
	h_wait_for 15 h_tcp_connect "$m1" 10.200.2.5 5432 || h_fail "m1 -> p2 through g2"
	h_expect_tcp_blocked "$m2" 10.200.1.5 5432
	h_expect_tcp_blocked "$m2" 10.200.2.5 5432
	h_expect_tcp_ok "$m2" 10.200.1.6 5432 # m2 does reach each gateway's pods
	h_expect_tcp_ok "$m2" 10.200.2.6 5432
}
check
h_log "ok: both gateways enforce the pods' ingress policy"

# 3. registrations follow the processes; enforcement stays in the datapaths
h_kill "$g1pid"
h_wait_for 5 bash -c "! nsenter --net=/run/netns/$ns etcdctl --endpoints $url get --print-value-only ${P}gateways/g1-$H_RUN | grep -q ." ||
	h_fail "a stopped gateway's registration should be revoked"
registered g2 || h_fail "g2's registration went with g1's"
kill -9 "$g2pid"
h_wait_for 15 bash -c "! nsenter --net=/run/netns/$ns etcdctl --endpoints $url get --print-value-only ${P}gateways/g2-$H_RUN | grep -q ." ||
	h_fail "a killed gateway's registration should expire with its lease"
h_log "ok: registrations revoked on stop, expired on kill"
check
# (an ASan/UBSan build reports leaks and undefined behaviour in the gateway's log at exit)
! grep -q 'Sanitizer\|runtime error' "$H_TMP"/g1.log || h_fail "sanitizer report in the gateway's log"
h_pass "two gateways serving the same machines: both register, both enforce"
