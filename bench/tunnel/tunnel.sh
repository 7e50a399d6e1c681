#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/tunnel.sh [--quick] [--json]
#
# Two hosts on the harness's underlay (veth pairs on a bridge). Over the same pair, in the
# same run, it measures three paths: the plain underlay, a wireguard-go tunnel set up by
# pp-tunnel, and a VXLAN tunnel (our external device on one side, an iproute2 VXLAN device
# on the other). For each: iperf3 TCP throughput (one stream) and ping round-trip time.
# Then the peer-add rate: N peers added one UAPI operation at a time to a wireguard-go
# device (the gateway's incremental path).
#   --quick  2 s iperf3, 100 pings, 1000 peers (about 30 s; what ctest runs)
#   default  10 s iperf3, 1000 pings, 1000 peers
#   --json   one JSON object instead of the table
# Needs root, iperf3, wireguard-go, wg. Env: PP_BUILD_DIR (build dir with bin/pp-tunnel).
: "${PP_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"

QUICK=0
JSON=0
for arg in "$@"; do
	case $arg in
	--quick) QUICK=1 ;;
	--json) JSON=1 ;;
	-h | --help)
		sed -n 3,18p "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "bench/tunnel: unknown argument $arg" >&2
		exit 2
		;;
	esac
done
if [ $QUICK = 1 ]; then SECS=2 PINGS=100 PEERS=1000; else SECS=10 PINGS=1000 PEERS=1000; fi
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
ip -n "$b" link add vx0 type vxlan id 42 dstport 8472 remote 10.99.0.2 local 10.99.0.3 dev ul0
ip -n "$b" addr add 10.251.0.2/24 dev vx0
ip -n "$b" link set vx0 up
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
	printf '],"peer_add":{"peers":%s,"add_per_second":%s,"remove_per_second":%s}}\n' \
		"$PEERS" "$add_rate" "$rm_rate"
else
	printf '%-16s %14s %14s %14s\n' path "TCP Gbit/s" "RTT avg ms" "RTT p99 ms"
	for r in "${results[@]}"; do
		set -- $r
		printf '%-16s %14s %14s %14s\n' "$1" "$2" "$3" "$4"
	done
	printf '\npeer changes on a wireguard-go gateway (%s peers, one UAPI operation each):\n' "$PEERS"
	printf '  add %s peers/s, remove %s peers/s\n' "$add_rate" "$rm_rate"
	printf '(iperf3 %s s one stream, %s pings at 10 ms intervals; same run, same veth pair)\n' \
		"$SECS" "$PINGS"
fi
exit 0
