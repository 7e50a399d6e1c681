#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/tunnel.sh [--quick] [--json]
#
# Two hosts on the harness's underlay (veth pairs on a bridge). Over the same pair, in the
# same run, it measures three paths: the plain underlay, a wireguard-go tunnel set up by
# pp-tunnel, and a VXLAN tunnel (our external device on one side, an iproute2 external VXLAN
# device with a keyed route on the other). For each: iperf3 TCP throughput (one stream) and
# ping round-trip time.
# Then the same two tunnels with the pseudopod datapath attached on both ends (policy
# allowing exactly the measured ports), against the same tunnels without it: TCP
# throughput and TCP connection rate (pp-dpbench-load crr), rows alternating per round.
# Then the peer-add rate: N peers added one UAPI operation at a time to a wireguard-go
# device (the gateway's incremental path).
#   --quick  2 s iperf3, 100 pings, 1000 peers, 1 datapath round (about 45 s; what ctest runs)
#   default  10 s iperf3, 1000 pings, 1000 peers, 3 datapath rounds
#   --json   one JSON object instead of the table
# Needs root, iperf3, wireguard-go, wg, jq. Env: PP_BUILD_DIR (build dir with bin/pp-tunnel,
# pp-datapath, pp-dpbench-load).
: "${PP_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"

QUICK=0
JSON=0
for arg in "$@"; do
	case $arg in
	--quick) QUICK=1 ;;
	--json) JSON=1 ;;
	-h | --help)
		sed -n 3,20p "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "bench/tunnel: unknown argument $arg" >&2
		exit 2
		;;
	esac
done
if [ $QUICK = 1 ]; then
	SECS=2 PINGS=100 PEERS=1000 DP_ROUNDS=1 CRR=300
else
	SECS=10 PINGS=1000 PEERS=1000 DP_ROUNDS=3 CRR=3000
fi
command -v iperf3 >/dev/null || { echo "bench/tunnel: iperf3 missing (apt-get install iperf3)" >&2; exit 1; }

h_init
T=$(h_bin pp-tunnel)
h_underlay
a=$(h_host a 10.99.0.2/24)
b=$(h_host b 10.99.0.3/24)
IFA="w${H_RUN}a"
IFB="w${H_RUN}b"
IFG="w${H_RUN}g"
h_on_exit "rm -f /var/run/wireguard/$IFA.sock /var/run/wireguard/$IFB.sock /var/run/wireguard/$IFG.sock"

# WireGuard (wireguard-go on both ends).
"$T" writekey "$H_TMP/a.key"
"$T" writekey "$H_TMP/b.key"
APUB=$("$T" readkey "$H_TMP/a.key")
BPUB=$("$T" readkey "$H_TMP/b.key")
h_spawn "$a" wga "$T" wg-up "$IFA" --private-key "$H_TMP/a.key" --port 51871 --backend userspace \
	--address 10.250.0.1/24 --mtu auto --peer "$BPUB,10.99.0.3:51871,10.250.0.2/32" \
	--foreground >/dev/null
h_spawn "$b" wgb "$T" wg-up "$IFB" --private-key "$H_TMP/b.key" --port 51871 --backend userspace \
	--address 10.250.0.2/24 --mtu auto --peer "$APUB,10.99.0.2:51871,10.250.0.1/32" \
	--foreground >/dev/null
h_wait_for 15 grep -q "^ready" "$H_TMP/wga.log" || h_fail "wireguard-go tunnel a did not come up"
h_wait_for 15 grep -q "^ready" "$H_TMP/wgb.log" || h_fail "wireguard-go tunnel b did not come up"

# VXLAN (ours, external, with a route carrying the tunnel key; iproute2 on the other end).
h_in "$a" "$T" vxlan-up vx0 --address 10.251.0.1/24 --mtu auto --underlay-dev ul0 2>/dev/null
# b is external too (a route carries its key): the datapath's VXLAN programs set the VNI
# to the sender's identity, which a fixed-VNI device would drop.
ip -n "$b" link add vx0 type vxlan external dstport 8472 dev ul0
ip -n "$b" addr add 10.251.0.2/24 dev vx0
ip -n "$b" link set vx0 up
ip -n "$b" route add 10.251.0.1/32 encap ip id 42 dst 10.99.0.2 dev vx0
ip -n "$a" neigh replace 10.251.0.2 lladdr "$(ip -n "$b" link show vx0 | awk '/ether/ {print $2}')" \
	dev vx0 nud permanent
ip -n "$b" neigh replace 10.251.0.1 lladdr "$(ip -n "$a" link show vx0 | awk '/ether/ {print $2}')" \
	dev vx0 nud permanent
ip -n "$a" route add 10.251.0.2/32 encap ip id 42 dst 10.99.0.3 dev vx0

h_spawn "$b" iperf3 iperf3 -s -p 5201 >/dev/null
h_wait_for 10 h_in "$b" sh -c "ss -Hltn 'sport = :5201' | grep -q LISTEN" || h_fail "iperf3 server"
for ip in 10.99.0.3 10.250.0.2 10.251.0.2; do
	h_wait_for 15 h_in "$a" ping -c1 -W1 "$ip" || h_fail "no connectivity to $ip"
done

measure() { # NAME IP -> "name gbps avg_ms p99_ms"
	local name=$1 ip=$2 bps rtts avg p99
	# The receiver's summary line, in Mbit/s: "[  5] 0.00-2.00 sec 2.7 GBytes 11800 Mbits/sec receiver"
	bps=$(h_in "$a" iperf3 -c "$ip" -p 5201 -t "$SECS" -f m |
		awk '/receiver/ {for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) * 1e6}')
	[ -n "$bps" ] || h_fail "iperf3 to $ip printed no receiver summary"
	# 10 warm-up pings first: ARP, route and WireGuard session caches are not what we measure.
	rtts=$(h_in "$a" ping -c 10 -i 0.01 -q -W1 "$ip" >/dev/null
		h_in "$a" ping -c "$PINGS" -i 0.01 -W1 "$ip" | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | sort -n)
	avg=$(echo "$rtts" | awk '{s += $1} END {printf "%.3f", s / NR}')
	p99=$(echo "$rtts" | awk '{v[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f", v[i]}')
	echo "$name $(awk -v b="$bps" 'BEGIN {printf "%.2f", b / 1e9}') $avg $p99"
}
results=()
results+=("$(measure veth-underlay 10.99.0.3)")
results+=("$(measure wireguard-go 10.250.0.2)")
results+=("$(measure vxlan 10.251.0.2)")

# ---- the same tunnels with the datapath attached on both ends (issue 11 item 3) ----
# a (identity 300) may open TCP 5201 (iperf3) and 8080 (connection rate) to b (400) and
# ping it; b enforces ingress, a egress; everything else is default deny. Rows with and
# without alternate DP_ROUNDS times (attach / detach), so drift hits both alike.
PPD=$(h_bin pp-datapath)
LOADGEN=$(h_bin pp-dpbench-load)
BA=/sys/fs/bpf/pp-tb-$H_RUN-a
BB=/sys/fs/bpf/pp-tb-$H_RUN-b
h_on_exit "$PPD unload --bpffs $BA; $PPD unload --bpffs $BB"
dp_setup() { # BPFFS IDENTITY PEER_IDENTITY DIR PEER_WG PEER_VX PEER_UNDERLAY
	"$PPD" load --bpffs "$1" --mode workload --identity "$2" &&
		"$PPD" ipcache add --bpffs "$1" "$5/32" "$3" &&
		"$PPD" ipcache add --bpffs "$1" "$6/32" "$3" --tunnel "$7" &&
		"$PPD" policy add --bpffs "$1" --dir "$4" --identity "$3" --proto tcp --port 5201 &&
		"$PPD" policy add --bpffs "$1" --dir "$4" --identity "$3" --proto tcp --port 8080 &&
		"$PPD" policy add --bpffs "$1" --dir "$4" --identity "$3" --proto icmp --type 8
}
dp_setup "$BA" 300 400 egress 10.250.0.2 10.251.0.2 10.99.0.3 >/dev/null || h_fail "datapath on a"
dp_setup "$BB" 400 300 ingress 10.250.0.1 10.251.0.1 10.99.0.2 >/dev/null || h_fail "datapath on b"
dp_on() { # DEV_A DEV_B
	h_on_exit "$PPD detach --dev $1 --netns /run/netns/$a; $PPD detach --dev $2 --netns /run/netns/$b"
	"$PPD" attach --bpffs "$BA" --dev "$1" --netns "/run/netns/$a" &&
		"$PPD" attach --bpffs "$BB" --dev "$2" --netns "/run/netns/$b"
}
dp_off() {
	"$PPD" detach --dev "$1" --netns "/run/netns/$a"
	"$PPD" detach --dev "$2" --netns "/run/netns/$b"
}
h_spawn "$b" crr-wg "$LOADGEN" serve --addr 10.250.0.2 --port 8080 >/dev/null
h_spawn "$b" crr-vx "$LOADGEN" serve --addr 10.251.0.2 --port 8080 >/dev/null
h_wait_for 5 h_in "$b" sh -c "ss -Hltn 'sport = :8080' | grep -c LISTEN | grep -q 2" ||
	h_fail "connection-rate servers did not start"
dp_measure() { # NAME SRC DST -> "name gbps conn_per_s"
	local bps crr
	bps=$(h_in "$a" iperf3 -c "$3" -p 5201 -t "$SECS" -f m |
		awk '/receiver/ {for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) * 1e6}')
	crr=$(h_in "$a" "$LOADGEN" crr --dst "$3" --port 8080 --src "$2" --count "$CRR" \
		--max-seconds 20 | jq '.ops / .seconds | round')
	echo "$1 $(awk -v b="${bps:-0}" 'BEGIN {printf "%.2f", b / 1e9}') ${crr:-0}"
}
# denied_probe DST: with the datapath on, a connection to a port no policy allows must fail
denied_probe() {
	! h_in "$a" timeout 3 bash -c "exec 3<>/dev/tcp/$1/5202" 2>/dev/null
}
dp_rows=()
for ((round = 1; round <= DP_ROUNDS; round++)); do
	for path in "wireguard-go $IFA $IFB 10.250.0.1 10.250.0.2" "vxlan vx0 vx0 10.251.0.1 10.251.0.2"; do
		set -- $path
		dp_rows+=("$(dp_measure "$1" "$4" "$5") $round without")
		dp_on "$2" "$3" || h_fail "attach the datapath to $1"
		h_wait_for 10 h_in "$a" ping -c1 -W1 "$5" || h_fail "$1 with the datapath: no ping"
		denied_probe "$5" || h_fail "$1 with the datapath: a denied port connects"
		dp_rows+=("$(dp_measure "$1" "$4" "$5") $round with")
		dp_off "$2" "$3"
	done
done

# Peer-add rate: a fresh wireguard-go device, N peers one operation each.
h_spawn "$a" wgg "$T" wg-up "$IFG" --private-key "$H_TMP/a.key" --backend userspace \
	--foreground >/dev/null
h_wait_for 15 grep -q "^ready" "$H_TMP/wgg.log" || h_fail "gateway device did not come up"
flood=$(h_in "$a" "$T" peer-flood "$IFG" "$PEERS" --json --remove-after --backend userspace)
add_rate=$(echo "$flood" | sed -n 's/.*"add_per_second":\([0-9]*\).*/\1/p')
rm_rate=$(echo "$flood" | sed -n 's/.*"remove_per_second":\([0-9]*\).*/\1/p')

if [ $JSON = 1 ]; then
	printf '{"mode":"%s","iperf_seconds":%s,"pings":%s,"paths":[' \
		"$([ $QUICK = 1 ] && echo quick || echo full)" "$SECS" "$PINGS"
	sep=""
	for r in "${results[@]}"; do
		set -- $r
		printf '%s{"path":"%s","gbit_per_s":%s,"rtt_avg_ms":%s,"rtt_p99_ms":%s}' "$sep" "$1" "$2" "$3" "$4"
		sep=","
	done
	printf '],"datapath":['
	sep=""
	for r in "${dp_rows[@]}"; do
		set -- $r
		printf '%s{"path":"%s","gbit_per_s":%s,"conn_per_s":%s,"round":%s,"datapath":%s}' \
			"$sep" "$1" "$2" "$3" "$4" "$([ "$5" = with ] && echo true || echo false)"
		sep=","
	done
	printf '],"peer_add":{"peers":%s,"add_per_second":%s,"remove_per_second":%s}}\n' \
		"$PEERS" "$add_rate" "$rm_rate"
else
	printf '%-16s %14s %14s %14s\n' path "TCP Gbit/s" "RTT avg ms" "RTT p99 ms"
	for r in "${results[@]}"; do
		set -- $r
		printf '%-16s %14s %14s %14s\n' "$1" "$2" "$3" "$4"
	done
	printf '\ntunnel + datapath (both ends, workload programs; median of %s rounds, [min..max]):\n' \
		"$DP_ROUNDS"
	# stats: sorted numbers on stdin -> "median [min..max]"
	stats() {
		awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%g [%g..%g]", m, v[1], v[NR]}'
	}
	printf '%-14s %-9s %22s %26s\n' path datapath "TCP Gbit/s" "TCP connections/s"
	for p in wireguard-go vxlan; do
		for w in without with; do
			g=$(printf '%s\n' "${dp_rows[@]}" | awk -v p="$p" -v w="$w" '$1 == p && $5 == w {print $2}' | sort -n | stats)
			c=$(printf '%s\n' "${dp_rows[@]}" | awk -v p="$p" -v w="$w" '$1 == p && $5 == w {print $3}' | sort -n | stats)
			printf '%-14s %-9s %22s %26s\n' "$p" "$w" "$g" "$c"
		done
	done
	printf '\npeer changes on a wireguard-go gateway (%s peers, one UAPI operation each):\n' "$PEERS"
	printf '  add %s peers/s, remove %s peers/s\n' "$add_rate" "$rm_rate"
	printf '(iperf3 %s s one stream, %s pings at 10 ms intervals; same run, same veth pair)\n' \
		"$SECS" "$PINGS"
fi
exit 0
