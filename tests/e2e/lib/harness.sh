# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The namespace test harness: every end-to-end test sources this file and builds its
# "cluster" from real parts — network namespaces, veth pairs, a bridge as the shared
# underlay, a real etcd — with names unique to the run, and removes all of it on exit,
# whether the test passes, fails or is interrupted.
#
#   source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"
#   h_init
#   h_underlay
#   a=$(h_host a 10.99.0.2/24); b=$(h_host b 10.99.0.3/24)
#   h_tcp_listen "$b" 10.99.0.3 8080
#   h_expect_tcp_ok "$a" 10.99.0.3 8080
#   h_pass "a reaches b"
#
# Names: namespaces are "pp<run>-<name>" (run = 4 hex digits), devices inside them have
# fixed short names (ul0, eth0), host-side veths are "<run><short>" so that two runs never
# collide. Processes are started with h_spawn and stopped by PID, never by name.

set -euo pipefail

H_RUN=""
H_TMP=""
H_UL_NS=""
# State lives in files under $H_TMP, not in shell arrays, because most helpers run in
# command substitutions ($(h_ns x)), i.e. in subshells whose variables are lost.
H_ETCD_NS=""
H_ETCD_URLS=""
H_ETCD_PIDS=()
: "${PP_BUILD_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build}"
: "${PP_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
export PP_BUILD_DIR PP_SOURCE_DIR

h_log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${H_TEST_NAME:-e2e}" "$*" >&2; }

h_pass() {
	h_log "PASS: $*"
	exit 0
}

h_fail() {
	h_log "FAIL: $*"
	exit 1
}

# Exit 77 (ctest SKIP_RETURN_CODE): only for a kernel feature that is genuinely missing.
h_skip() {
	h_log "SKIP: $*"
	exit 77
}

h_require_root() {
	[ "$(id -u)" -eq 0 ] || h_skip "needs root (network namespaces, BPF): run as root"
}

h_init() {
	h_require_root
	H_TEST_NAME=$(basename "${0%.sh}")
	H_RUN=$(od -An -N2 -tx2 /dev/urandom | tr -d ' \n')
	H_TMP=$(mktemp -d "/tmp/pp-e2e-${H_RUN}-XXXXXX")
	: >"$H_TMP/.namespaces"
	: >"$H_TMP/.pids"
	: >"$H_TMP/.on-exit"
	trap h_cleanup EXIT
	trap 'exit 130' INT TERM
	h_log "run $H_RUN, temp dir $H_TMP"
}

# Registers a command to run at exit (last registered runs first).
h_on_exit() {
	echo "$*" >>"$H_TMP/.on-exit"
}

h_cleanup() {
	local rc=$? pid ns cmd
	set +e
	trap - EXIT
	[ -n "$H_TMP" ] && [ -d "$H_TMP" ] || exit $rc
	while read -r cmd; do
		eval "$cmd" >/dev/null 2>&1
	done < <(tac "$H_TMP/.on-exit")
	for pid in $(tac "$H_TMP/.pids"); do
		kill "$pid" 2>/dev/null
	done
	for pid in $(cat "$H_TMP/.pids"); do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	done
	# Deleting a namespace deletes the devices inside it; veth peers go with them.
	# Processes still inside one (started by a test's own commands) are ours by
	# construction: the namespace name is unique to this run.
	for ns in $(tac "$H_TMP/.namespaces"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns delete "$ns" 2>/dev/null
	done
	h_remove_stale_uapi_sockets
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -n "$H_TMP" ]; then
		h_log "logs of failed run kept in $H_TMP"
		for f in "$H_TMP"/*.log; do
			[ -f "$f" ] || continue
			echo "----- $f (last 30 lines)" >&2
			tail -n 30 "$f" >&2
		done
	elif [ -n "$H_TMP" ]; then
		rm -rf "$H_TMP"
	fi
	exit $rc
}

# wireguard-go removes its UAPI socket only on a clean exit; the ones killed with their
# namespace above leave it behind in the folder every namespace shares. Interface names
# carry the run id, so a socket with it in its name that nobody listens on is ours.
h_remove_stale_uapi_sockets() {
	local sock
	for sock in /var/run/wireguard/*"$H_RUN"*.sock; do
		[ -S "$sock" ] || continue
		ss -Hxl "src $sock" 2>/dev/null | grep -q . && continue
		rm -f "$sock"
	done
}

# h_ns NAME: creates namespace pp<run>-NAME with loopback up; prints its name.
h_ns() {
	local ns="pp${H_RUN}-$1"
	ip netns add "$ns"
	echo "$ns" >>"$H_TMP/.namespaces"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# h_in NS CMD...: runs CMD in the network namespace only (not `ip netns exec`, which
# remounts /sys and hides /sys/fs/bpf).
h_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# h_spawn NS LOGNAME CMD...: starts CMD in NS in the background, output to
# $H_TMP/LOGNAME.log; prints its PID, which is stopped at exit.
h_spawn() {
	local ns=$1 name=$2
	shift 2
	nsenter --net="/run/netns/$ns" -- "$@" >"$H_TMP/$name.log" 2>&1 &
	local pid=$!
	echo "$pid" >>"$H_TMP/.pids"
	echo "$pid"
}

# h_kill PID: stops one process this test started (SIGTERM, then SIGKILL after 2 s).
h_kill() {
	local pid=$1
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 20); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

# h_wait_for SECONDS CMD...: retries CMD every 0.2 s until it succeeds; fails after SECONDS.
h_wait_for() {
	local secs=$1 deadline
	shift
	deadline=$(($(date +%s%N) + secs * 1000000000))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s%N)" -ge "$deadline" ]; then
			h_log "timed out after ${secs}s waiting for: $*"
			return 1
		fi
		sleep 0.2
	done
}

# h_reading_ringbuf PID: true once process PID holds a BPF ring buffer map open (map type
# 27, BPF_MAP_TYPE_RINGBUF), i.e. an event reader such as "pp-datapath events" is ready.
# For h_wait_for, instead of sleeping a fixed time after starting the reader.
h_reading_ringbuf() {
	grep -qs '^map_type:[[:space:]]*27$' /proc/"$1"/fdinfo/*
}

# h_underlay: a namespace holding bridge br0, the shared "LAN" every host plugs into.
h_underlay() {
	H_UL_NS=$(h_ns ul)
	ip -n "$H_UL_NS" link add br0 type bridge
	ip -n "$H_UL_NS" link set br0 up
	# h_host usually runs in $(...): it finds the underlay through this file.
	echo "$H_UL_NS" >"$H_TMP/.underlay"
}

# h_host NAME ADDR/LEN: a namespace with device ul0 on the underlay; prints its name.
h_host() {
	local name=$1 addr=$2 ns port ul
	[ -s "$H_TMP/.underlay" ] || h_fail "h_host $name: call h_underlay first"
	ul=$(cat "$H_TMP/.underlay")
	ns=$(h_ns "$name")
	port="u${H_RUN}${name}"
	port=${port:0:15}
	ip link add ul0 netns "$ns" type veth peer name "$port" netns "$ul"
	ip -n "$ul" link set "$port" master br0 up
	ip -n "$ns" addr add "$addr" dev ul0
	ip -n "$ns" link set ul0 up
	echo "$ns"
}

# h_node NAME ADDR/LEN: a host that routes (a Kubernetes node).
h_node() {
	local ns
	ns=$(h_host "$1" "$2")
	h_in "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	echo "$ns"
}

# h_pod NODE_NS NAME IP: a pod namespace behind a veth on the node, Calico style: the pod
# has IP/32 on eth0 with a default route via 169.254.1.1, a gateway address nobody owns
# whose neighbour entry is pinned to the node side's MAC (so no proxy ARP is needed); the
# node routes IP/32 to the veth. Prints the pod's namespace.
h_pod() {
	local node=$1 name=$2 ip=$3 ns nodeside mac
	ns=$(h_ns "$name")
	# The namespace count is unique within the run, and survives subshells.
	nodeside="p${H_RUN}n$(wc -l <"$H_TMP/.namespaces")"
	ip link add eth0 netns "$ns" type veth peer name "$nodeside" netns "$node"
	ip -n "$ns" addr add "$ip/32" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$node" link set "$nodeside" up
	mac=$(ip -n "$node" -o link show "$nodeside" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
	ip -n "$ns" route add 169.254.1.1 dev eth0 scope link
	ip -n "$ns" neigh replace 169.254.1.1 lladdr "$mac" dev eth0 nud permanent
	ip -n "$ns" route add default via 169.254.1.1 dev eth0
	ip -n "$node" route add "$ip/32" dev "$nodeside"
	echo "$ns"
}

h_etcd_healthy() {
	local ns=$1 url=$2
	h_in "$ns" curl -sf -m 2 -X POST -d '{"key":"aGVhbHRo"}' "$url/v3/kv/range" >/dev/null
}

# h_etcd NS: starts a real etcd in NS listening on all of NS's addresses, port 2379;
# waits until its JSON gateway answers; prints the client URL (first address of ul0,
# else 127.0.0.1).
h_etcd() {
	local ns=$1 addr dir pid url
	addr=$(ip -n "$ns" -4 -o addr show dev ul0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)
	[ -n "$addr" ] || addr=127.0.0.1
	dir="$H_TMP/etcd-$ns"
	mkdir -p "$dir"
	url="http://$addr:2379"
	pid=$(h_spawn "$ns" "etcd-$ns" etcd --name "e$H_RUN" --data-dir "$dir" \
		--listen-client-urls "http://0.0.0.0:2379" --advertise-client-urls "$url" \
		--listen-peer-urls "http://127.0.0.1:2380" \
		--initial-advertise-peer-urls "http://127.0.0.1:2380" \
		--initial-cluster "e$H_RUN=http://127.0.0.1:2380" --log-level error)
	h_wait_for 20 h_etcd_healthy "$ns" "$url" || h_fail "etcd in $ns did not become healthy"
	echo "$url"
}

# h_etcd_cluster N: an N-member etcd cluster on 127.0.0.1 inside its own namespace
# ($H_ETCD_NS). Sets H_ETCD_URLS (comma-separated client URLs) and H_ETCD_PIDS (array).
# Not to be called in $(...): it sets variables.
h_etcd_cluster() {
	local n=$1 i initial="" pid
	H_ETCD_NS=$(h_ns etcd)
	H_ETCD_URLS=""
	H_ETCD_PIDS=()
	for ((i = 1; i <= n; i++)); do
		initial+="${initial:+,}m$i=http://127.0.0.1:$((2380 + 10 * i))"
	done
	for ((i = 1; i <= n; i++)); do
		mkdir -p "$H_TMP/etcd-m$i"
		pid=$(h_spawn "$H_ETCD_NS" "etcd-m$i" etcd --name "m$i" --data-dir "$H_TMP/etcd-m$i" \
			--listen-client-urls "http://127.0.0.1:$((2379 + 10 * i))" \
			--advertise-client-urls "http://127.0.0.1:$((2379 + 10 * i))" \
			--listen-peer-urls "http://127.0.0.1:$((2380 + 10 * i))" \
			--initial-advertise-peer-urls "http://127.0.0.1:$((2380 + 10 * i))" \
			--initial-cluster "$initial" --initial-cluster-state new \
			--initial-cluster-token "pp$H_RUN" --log-level error)
		H_ETCD_PIDS+=("$pid") # h_etcd_cluster runs in the caller's shell: arrays survive
		H_ETCD_URLS+="${H_ETCD_URLS:+,}http://127.0.0.1:$((2379 + 10 * i))"
	done
	for ((i = 1; i <= n; i++)); do
		h_wait_for 30 h_etcd_healthy "$H_ETCD_NS" "http://127.0.0.1:$((2379 + 10 * i))" ||
			h_fail "etcd member m$i did not become healthy"
	done
}

# h_tcp_listen NS IP PORT: a TCP server that accepts any number of connections, echoes a
# line back, and stays up until the test ends.
h_tcp_listen() {
	local ns=$1 ip=$2 port=$3
	h_spawn "$ns" "tcp-$ns-$port" nc -lk "$ip" "$port" >/dev/null
	h_wait_for 5 h_in "$ns" sh -c "ss -Hltn 'sport = :$port' | grep -q LISTEN"
}

# h_udp_listen NS IP PORT: a UDP sink that records what it receives in $H_TMP.
h_udp_listen() {
	local ns=$1 ip=$2 port=$3
	h_spawn "$ns" "udp-$ns-$port" sh -c "nc -klu '$ip' '$port' > '$H_TMP/udp-$ns-$port.data'" \
		>/dev/null
	h_wait_for 5 h_in "$ns" sh -c "ss -Hlun 'sport = :$port' | grep -q ."
}

# h_tcp_connect NS IP PORT TIMEOUT: 0 connected, 1 refused/unreachable, 124 timed out.
h_tcp_connect() {
	local ns=$1 ip=$2 port=$3 t=${4:-3}
	h_in "$ns" timeout "$t" bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null
}

h_expect_tcp_ok() {
	local rc=0
	h_tcp_connect "$1" "$2" "$3" "${4:-5}" || rc=$?
	[ $rc -eq 0 ] || h_fail "TCP $1 -> $2:$3 should connect (rc=$rc)"
	h_log "ok: TCP $1 -> $2:$3 connects"
}

h_expect_tcp_blocked() {
	local rc=0
	h_tcp_connect "$1" "$2" "$3" "${4:-2}" || rc=$?
	[ $rc -eq 124 ] || h_fail "TCP $1 -> $2:$3 should time out (dropped), got rc=$rc"
	h_log "ok: TCP $1 -> $2:$3 dropped"
}

h_expect_tcp_refused() {
	local rc=0
	h_tcp_connect "$1" "$2" "$3" 3 || rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ] || h_fail "TCP $1 -> $2:$3 should be refused, got rc=$rc"
	h_log "ok: TCP $1 -> $2:$3 refused"
}

# h_udp_send NS IP PORT: sends a unique token; returns 0 if the sink (h_udp_listen) got it.
h_udp_delivered() {
	local ns=$1 ip=$2 port=$3 token="pp-$RANDOM-$RANDOM" f sink_ns
	f=$(ls "$H_TMP"/udp-*-"$port".data 2>/dev/null | head -1)
	[ -n "$f" ] || h_fail "no h_udp_listen sink on port $port"
	h_in "$ns" sh -c "echo $token | nc -u -w1 -q1 $ip $port" >/dev/null 2>&1 || true
	sleep 0.3
	grep -q "$token" "$f"
}

h_expect_udp_ok() {
	local i
	for i in 1 2 3; do
		h_udp_delivered "$1" "$2" "$3" && { h_log "ok: UDP $1 -> $2:$3 delivered"; return 0; }
	done
	h_fail "UDP $1 -> $2:$3 should be delivered"
}

h_expect_udp_blocked() {
	if h_udp_delivered "$1" "$2" "$3"; then
		h_fail "UDP $1 -> $2:$3 should be dropped"
	fi
	h_log "ok: UDP $1 -> $2:$3 dropped"
}

# h_bin NAME: path of a project binary; fails clearly if the build lacks it.
h_bin() {
	local p="$PP_BUILD_DIR/bin/$1"
	[ -x "$p" ] || h_fail "missing $p: build the project first (scripts/build)"
	echo "$p"
}

# h_wireguard_go NS IFNAME: starts wireguard-go for IFNAME in NS (foreground, as a child
# the harness stops at exit) and waits for its UAPI socket. IFNAME must be unique machine-
# wide: the sockets share /var/run/wireguard.
h_wireguard_go() {
	local ns=$1 dev=$2
	command -v wireguard-go >/dev/null || h_fail "wireguard-go missing: run scripts/deps"
	h_spawn "$ns" "wireguard-go-$dev" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$dev" >/dev/null
	h_wait_for 10 test -S "/var/run/wireguard/$dev.sock" ||
		h_fail "wireguard-go for $dev did not start"
}

# h_tunnel_key NAME: a fresh private key in $H_TMP/NAME.key written by pp-tunnel (mode
# 0600, as the agent writes it at enrollment); prints its public key:
#   WLPUB=$(h_tunnel_key wl)
h_tunnel_key() {
	local t
	t=$(h_bin pp-tunnel)
	"$t" writekey "$H_TMP/$1.key" && "$t" readkey "$H_TMP/$1.key"
}

# h_wg_pair A A_IP B B_IP A_OVERLAY B_OVERLAY...: a wireguard-go tunnel between hosts A and
# B (underlay addresses A_IP, B_IP; port 51871) configured with plain `wg`: device $wga in A
# with A_OVERLAY/24, $wgb in B with every B_OVERLAY/24 (A routes all of them into the
# tunnel), fresh keys in $H_TMP/a.key and b.key, both devices up. It sets wga and wgb
# (names unique to the run, see h_wireguard_go): not to be called in $(...).
h_wg_pair() {
	local a=$1 aip=$2 b=$3 bip=$4 aov=$5 allowed="" ip
	shift 5
	wga="wga$H_RUN"
	wgb="wgb$H_RUN"
	(umask 077; wg genkey >"$H_TMP/a.key"; wg genkey >"$H_TMP/b.key")
	h_wireguard_go "$a" "$wga"
	h_wireguard_go "$b" "$wgb"
	for ip in "$@"; do allowed+="${allowed:+,}$ip/32"; done
	h_in "$a" wg set "$wga" private-key "$H_TMP/a.key" listen-port 51871 \
		peer "$(wg pubkey <"$H_TMP/b.key")" endpoint "$bip:51871" allowed-ips "$allowed"
	h_in "$b" wg set "$wgb" private-key "$H_TMP/b.key" listen-port 51871 \
		peer "$(wg pubkey <"$H_TMP/a.key")" endpoint "$aip:51871" allowed-ips "$aov/32"
	h_in "$a" ip addr add "$aov/24" dev "$wga"
	for ip in "$@"; do h_in "$b" ip addr add "$ip/24" dev "$wgb"; done
	h_in "$a" ip link set "$wga" up
	h_in "$b" ip link set "$wgb" up
}

# h_vxlan_external NS DEV [ADDR]: a collect-metadata ("external") VXLAN device DEV on
# port 8472 in NS, as the datapath's VXLAN mode uses (the VNI and remote are set per packet),
# with ADDR if given, up. Skips the test (77) on a kernel without that mode.
h_vxlan_external() {
	local ns=$1 dev=$2 addr=${3:-}
	h_in "$ns" ip link add "$dev" type vxlan external dstport 8472 ||
		h_skip "kernel lacks VXLAN collect-metadata (external) mode"
	[ -z "$addr" ] || h_in "$ns" ip addr add "$addr" dev "$dev"
	h_in "$ns" ip link set "$dev" up
}

# The datapath under test, through pp-datapath. h_datapath (in the test's own shell, not in
# $(...)) picks a per-run bpffs root $H_BPFFS that is unpinned at exit; pd ARGS... runs
# pp-datapath on it; h_dp_attach NS DEV attaches the programs to DEV in NS, detached at exit.
h_datapath() {
	PPD=$(h_bin pp-datapath)
	H_BPFFS="/sys/fs/bpf/pp-e2e-$H_RUN"
	h_on_exit "$PPD unload --bpffs $H_BPFFS"
}

pd() {
	"$PPD" "$@" --bpffs "$H_BPFFS"
}

h_dp_attach() {
	local ns=$1 dev=$2
	h_on_exit "$PPD detach --dev $dev --netns /run/netns/$ns"
	pd attach --dev "$dev" --netns "/run/netns/$ns" || h_fail "attach to $dev in $ns"
}
