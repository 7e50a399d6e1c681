# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The product's cluster for end-to-end tests, built only with the product's own commands
# (on top of harness.sh; prefix c_): a real etcd, `pseudopodctl` for the cluster objects,
# the enrollment server and tokens, a gateway node running `pseudopodd --mode gateway`, pods
# behind it, and machines that run `pseudopod enroll` and then `pseudopodd`. No pp-*
# developer tool sets anything up.
#
#   source .../harness.sh; source .../cluster.sh
#   h_init
#   c_cluster wireguard            # or vxlan: the cluster config's tunnel
#   c_pod web 10.200.1.5 app=web prod
#   c_gateway                      # pseudopodd --mode gateway on node "gw", waits for ready
#   c_enroll m1 10.99.0.21 app=billing prod   # token + `pseudopod enroll` (no start)
#   c_start m1                     # pseudopodd on m1, waits for `pseudopod status` ready
#   h_expect_tcp_ok "${C_NS[web]}" "${C_IP[m1]}" 5432
#
# Topology: underlay 10.99.0.0/24; store host 10.99.0.10 (etcd, enrollment server on
# :9443); gateway node "gw" 10.99.0.2; pod CIDR 10.200.0.0/16, workload CIDR 10.201.0.0/16.
# C_NS[name] = namespace of a pod, machine or the gateway ("gw"); C_IP[name] = its overlay
# (pods: pod IP; machines: the overlay IP enrollment allocated). c_ctl runs pseudopodctl
# against the store. Helpers that set C_* must not run in $(...).
#
# c_probe_* / c_matrix: a connectivity matrix checked in parallel (every cell at once, so a
# matrix of dropped cells costs one timeout, not one per cell). c_listen NAME PORTS... puts
# one TCP+UDP responder on the entity's address for each port.

declare -gA C_NS C_IP
C_CTL=$(h_bin pseudopodctl)
C_PPD=$(h_bin pseudopodd)
C_CLI=$(h_bin pseudopod)
C_PPT=$(h_bin pp-tunnel) # only `writekey`, as a package's postinst would make the gateway's key
C_URL=""
C_PREFIX=""
C_BACKEND=""

# At exit, before the namespaces go: stop a pseudopodd (PID) and then the wireguard-go
# processes it started (PIDs from its log; each checked to still be that wireguard-go), so
# that they remove their UAPI sockets from /var/run/wireguard (killed with the namespace
# they would leave them behind; the daemon would restart one stopped before it).
c_wg_stop() {
	local daemon=$1 log=$2 dev=$3 pid
	h_kill "$daemon"
	for pid in $(sed -n 's/.*started wireguard-go (pid \([0-9]*\)).*/\1/p' "$log" 2>/dev/null); do
		if grep -qs "$dev" "/proc/$pid/cmdline" &&
			[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = wireguard-go ]; then
			h_kill "$pid"
		fi
	done
	rm -f "/var/run/wireguard/$dev.sock"
}

c_ctl() { h_in "${C_NS[store]}" "$C_CTL" "$@" --store "$C_URL" --store-prefix "$C_PREFIX"; }
c_etcdctl() { h_in "${C_NS[store]}" etcdctl --endpoints "$C_URL" "$@"; }

# c_cluster wireguard|vxlan: underlay, etcd, `pseudopodctl init`, the gateway node (not yet
# running: add pods first, then c_gateway), PKI and the enrollment server.
c_cluster() {
	C_BACKEND=$1
	case "$C_BACKEND" in wireguard | vxlan) ;; *) h_fail "c_cluster: backend '$1'" ;; esac
	[ "$C_BACKEND" = vxlan ] || command -v wireguard-go >/dev/null ||
		h_fail "wireguard-go missing: run scripts/deps"
	C_PREFIX="/pp$H_RUN/"
	h_underlay
	C_NS[store]=$(h_host store 10.99.0.10/24)
	C_NS[gw]=$(h_node gw 10.99.0.2/24)
	C_URL=$(h_etcd "${C_NS[store]}")
	c_ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.200.0.0/16 \
		--workload-cidr 10.201.0.0/16 --tunnel "$C_BACKEND" >/dev/null || h_fail "pseudopodctl init"
	c_ctl init --pki-dir "$H_TMP/pki" --server-ip 10.99.0.10 >/dev/null || h_fail "init --pki-dir"
	h_spawn "${C_NS[store]}" enroll-server "$C_CTL" serve --pki-dir "$H_TMP/pki" \
		--store "$C_URL" --store-prefix "$C_PREFIX" >/dev/null
	h_wait_for 20 h_in "${C_NS[store]}" curl -sf -m 2 --cacert "$H_TMP/pki/ca.crt" \
		https://10.99.0.10:9443/healthz || h_fail "the enrollment server did not start"
}

# c_pod NAME IP LABELS NAMESPACE: a pod behind the gateway node, with its endpoint in the
# store. c_pod_unmanaged NAME IP: an address on the node that no endpoint names (world).
c_pod() {
	c_pod_unmanaged "$1" "$2"
	c_endpoint "$1" "$3" "$4"
}
c_pod_unmanaged() {
	C_NS[$1]=$(h_pod "${C_NS[gw]}" "$1" "$2")
	C_IP[$1]=$2
}
c_endpoint() { # NAME LABELS NAMESPACE: (re)labels a pod
	c_ctl endpoint add --ip "${C_IP[$1]}" --labels "$2" --namespace "$3" >/dev/null ||
		h_fail "endpoint add $1"
}

# c_gateway: `pseudopodd --mode gateway` on the gateway node (its key made as a package
# would), waits until it logs its first sync.
c_gateway() {
	local st="$H_TMP/gw-state" dev="cg$H_RUN" bpffs="/sys/fs/bpf/pp-e2e-$H_RUN-gw"
	mkdir -m 0700 -p "$st"
	"$C_PPT" writekey "$st/wireguard.key" >/dev/null
	h_on_exit "$(h_bin pp-datapath) unload --bpffs $bpffs"
	h_on_exit "ip -n ${C_NS[gw]} link del $dev"
	cat >"$H_TMP/gw.conf" <<CONF
[agent]
mode = gateway
name = gw1
state-dir = $st
bpffs-root = $bpffs
api-socket = $H_TMP/gw-api.sock
metrics-address =

[store]
endpoints = $C_URL
prefix = $C_PREFIX

[tunnel]
mode = $C_BACKEND
device = $dev
wireguard-backend = userspace
CONF
	C_GW_PID=$(h_spawn "${C_NS[gw]}" pseudopodd-gw "$C_PPD" --config "$H_TMP/gw.conf")
	h_on_exit "c_wg_stop $C_GW_PID $H_TMP/pseudopodd-gw.log $dev"
	h_wait_for 30 grep -q "ready: gateway synced" "$H_TMP/pseudopodd-gw.log" ||
		h_fail "the gateway did not become ready (pseudopodd-gw.log)"
}

# c_enroll NAME UNDERLAY LABELS NAMESPACE: a machine on the underlay, a one-time token for
# it, and `pseudopod enroll --no-start`; C_IP[NAME] = the overlay IP it was given. Safe to
# run several in the background at once (each writes only its own files); then call
# c_enrolled NAME in this shell to read the results.
c_enroll() {
	local name=$1 join conf="$H_TMP/$1.conf"
	[ ${#name} -le 8 ] || h_fail "c_enroll: machine name '$name' too long (device c<name><run>)"
	C_NS[$name]=$(h_host "$name" "$2/24")
	join=$(c_ctl token create --server https://10.99.0.10:9443 --pki-dir "$H_TMP/pki" \
		--labels "$3" --namespace "$4" --name "$name" -o json | jq -r .join)
	[ -n "$join" ] || h_fail "no token for $name"
	h_on_exit "$(h_bin pp-datapath) unload --bpffs /sys/fs/bpf/pp-e2e-$H_RUN-$name"
	cat >"$conf" <<CONF
[agent]
state-dir = $H_TMP/$name-state
bpffs-root = /sys/fs/bpf/pp-e2e-$H_RUN-$name
api-socket = $H_TMP/$name-api.sock

[tunnel]
device = c$name$H_RUN
wireguard-backend = userspace
CONF
	h_in "${C_NS[$name]}" "$C_CLI" enroll --config "$conf" --no-start "$join" \
		>"$H_TMP/$name-enroll.log" 2>&1 || h_fail "pseudopod enroll $name: $(cat "$H_TMP/$name-enroll.log")"
	c_enrolled "$name"
}
c_enrolled() {
	C_NS[$1]="pp${H_RUN}-$1"
	C_IP[$1]=$(jq -r .response.workload.overlay_ip "$H_TMP/$1-state/enrollment.json")
	[ -n "${C_IP[$1]}" ] && [ "${C_IP[$1]}" != null ] || h_fail "no overlay IP for $1"
}

c_status() { h_in "${C_NS[$1]}" "$C_CLI" status --socket "$H_TMP/$1-api.sock" -o json; }
c_ready() { c_status "$1" 2>/dev/null | jq -e '.ready == true' >/dev/null; }

# c_start NAME [LOGNAME]: pseudopodd on an enrolled machine (log pseudopodd-NAME, or
# LOGNAME for a restart); waits until `pseudopod status` says ready.
c_start() {
	local log=${2:-pseudopodd-$1}
	h_spawn "${C_NS[$1]}" "$log" "$C_PPD" --config "$H_TMP/$1.conf" >"$H_TMP/$1.pid"
	h_on_exit "c_wg_stop $(cat "$H_TMP/$1.pid") $H_TMP/$log.log c$1$H_RUN"
	h_wait_for 30 c_ready "$1" || h_fail "pseudopodd on $1 did not become ready"
}

c_apply() { c_ctl policy apply -f - >/dev/null || h_fail "policy apply"; }

# c_listen NAME PORT...: a TCP acceptor and a UDP echo on NAME's address for every PORT.
c_listen() {
	local name=$1
	shift
	h_spawn "${C_NS[$name]}" "listen-$name" python3 -c '
import selectors, socket, sys
ip, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
sel = selectors.DefaultSelector()
for p in ports:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, p))
        if kind == socket.SOCK_STREAM:
            s.listen(64)
        sel.register(s, selectors.EVENT_READ, kind)
print("listening", flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data == socket.SOCK_STREAM:
            c, _ = s.accept()
            c.close()
        else:
            data, peer = s.recvfrom(2048)
            print("udp", s.getsockname()[1], peer[0], data.decode(errors="replace"), flush=True)
            s.sendto(data, peer)' "${C_IP[$name]}" "$@" >/dev/null
	h_wait_for 10 grep -q listening "$H_TMP/listen-$name.log" || h_fail "listener on $name"
}

# c_probe tcp|udp FROM TO PORT [TIMEOUT]: 0 when the connection / the UDP echo made it, 1
# when nothing came back within TIMEOUT seconds (1.5): dropped; 2 when refused (a reset or
# an ICMP error: the packet got through to a closed port, which is no verdict of ours).
c_probe() {
	local proto=$1 from=$2 ip=${C_IP[$3]:-$3} port=$4 t=${5:-1.5} rc=0
	if [ "$proto" = tcp ]; then
		h_tcp_connect "${C_NS[$from]}" "$ip" "$port" "$t" || rc=$?
		case $rc in 0) return 0 ;; 124) return 1 ;; *) return 2 ;; esac
	fi
	h_in "${C_NS[$from]}" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
s.sendto(b"pp", (sys.argv[1], int(sys.argv[2])))
try:
    sys.exit(0 if s.recv(16) == b"pp" else 1)
except socket.timeout:
    sys.exit(1)
except OSError:
    sys.exit(2)' "$ip" "$port" "$t" 2>/dev/null
}
# c_drops ...: c_probe saw a drop (for h_wait_for: a verdict that flips to drop).
c_drops() {
	local rc=0
	c_probe "$@" || rc=$?
	[ $rc -eq 1 ]
}

# c_udp_send FROM TO PORT TOKEN [SRC]: one datagram (no reply awaited), from source address
# SRC if given (an address FROM does not own must be on one of its devices).
c_udp_send() {
	h_in "${C_NS[$1]}" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if len(sys.argv) > 4:
    s.bind((sys.argv[4], 0))
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))' "${C_IP[$2]:-$2}" "$3" "$4" ${5:+"$5"}
}
# c_udp_seen NAME TOKEN: NAME's listener received a datagram carrying TOKEN.
c_udp_seen() { grep -q " $2\$" "$H_TMP/listen-$1.log"; }

# c_matrix < CELLS: one cell a line, "PROTO FROM TO PORT ok|drop WHY..."; every cell runs
# at once; fails listing every cell whose outcome differs (an ok must connect / get its
# echo; a drop must see nothing at all back — a refusal means the packet passed). An "ok"
# cell is retried for up to 5 s (a first packet may wait on a handshake).
c_matrix() {
	local dir="$H_TMP/matrix.$RANDOM" n=0 bad="" proto from to port want why f pids=()
	mkdir -p "$dir"
	while read -r proto from to port want why; do
		[ -n "$proto" ] && [ "${proto:0:1}" != "#" ] || continue
		n=$((n + 1))
		(
			rc=0
			if [ "$want" = ok ]; then
				h_wait_for 5 c_probe "$proto" "$from" "$to" "$port" || rc=$?
			else
				c_probe "$proto" "$from" "$to" "$port" || rc=$?
			fi
			got=ok
			[ $rc -eq 0 ] || got=drop
			# a refusal is neither: the packet passed to a port nobody listens on
			[ "$want" = ok ] || [ $rc -ne 2 ] || got=refused
			echo "$got $want $proto $from -> $to:$port $why" >"$dir/$n"
		) &
		pids+=($!)
	done
	# only the cells: the shell's other children are the daemons
	wait "${pids[@]}"
	for f in "$dir"/*; do
		read -r got want rest <"$f"
		if [ "$got" != "$want" ]; then
			bad+=$'\n'"  expected $want, got $got: $rest"
		fi
	done
	if [ -n "$bad" ]; then
		declare -F c_on_matrix_fail >/dev/null && c_on_matrix_fail >"$H_TMP/matrix-fail.log" 2>&1
		h_fail "matrix:$bad"
	fi
	h_log "ok: matrix of $n cells"
}
