#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/datapath/run.sh [--quick] [--json] [--out DIR]
#
# The datapath benchmark, everything in one run (README.md says how to read it):
#   1. per-packet cost (pp-dpbench-pkt): BPF_PROG_TEST_RUN over a population of the shapes
#      the policy engine emits, every path (new flow, established, reply, range, CIDR,
#      denied, fragment, IPv6, L3, VXLAN, gateway), interleaved rounds, medians + spread;
#   2. real traffic with many flows between two namespaces (pp-dpbench-load): TCP
#      connect/request/close from N source identities (TCP_CRR), UDP from N sources x 4
#      ports, one established TCP request/response connection (TCP_RR), with: no filter,
#      an empty tc program, pseudopod, nftables set, nftables verdict map, iptables +
#      ipset, the linear iptables chain, and pseudopod with a conntrack table smaller than
#      the flows (eviction), each holding N rules; rounds interleave the filters; CPU is
#      the machine's busy time from /proc/stat (sender, receiver and softirq alike);
# then prints the tables with the targets (--json: the raw records, one JSON object a line,
# instead). --out DIR keeps the raw records there.
#   --quick  what ctest runs (label bench): few samples, N = 100, 2 rounds (~20 s)
#
# Every filter lives in the server namespace, which this script creates; the client
# namespace routes the source range to itself. The host's own firewall, interfaces and
# routes are never touched. Needs root, nft, iptables, ipset. Exit 0 when every figure was
# produced (targets met or not), 1 when one is missing.
set -euo pipefail

QUICK=0
JSON=0
OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--json) JSON=1 ;;
	--out)
		OUT=$2
		shift
		;;
	-h | --help)
		sed -n '4,24p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "usage: run.sh [--quick] [--json] [--out DIR]" >&2
		exit 2
		;;
	esac
	shift
done

: "${PP_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PP_BUILD_DIR:=$PP_SOURCE_DIR/build}"
# shellcheck source=/dev/null
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"

BIN=$PP_BUILD_DIR/bin
for b in pp-dpbench-pkt pp-dpbench-load pp-datapath; do
	[ -x "$BIN/$b" ] || {
		echo "run.sh: missing $BIN/$b: build target dpbench first" >&2
		exit 1
	}
done
for t in nft iptables-restore ipset jq; do
	command -v "$t" >/dev/null || {
		echo "run.sh: $t missing: run scripts/deps" >&2
		exit 1
	}
done
PPDP=$BIN/pp-datapath
LOAD=$BIN/pp-dpbench-load

if [ $QUICK -eq 1 ]; then
	SIZES=(100)
	# shellcheck disable=SC2054 # one argument: a comma-separated list
	PKT_ARGS=(--quick --entries 10,1000)
	ROUNDS=2
	CRR_COUNT=300
	UDP_COUNT=20000
	RR_COUNT=2000
else
	SIZES=(10 1000 10000)
	PKT_ARGS=()
	ROUNDS=5
	CRR_COUNT=5000
	UDP_COUNT=200000
	RR_COUNT=20000
fi
UDP_SOCKETS=4
SMALL_CT=4096 # the eviction case: fewer entries than the UDP test's flows at the largest N
TCP_PORT=8080
UDP_PORT=9000
PROBE_PORT=9002
CLIENT_IP=10.201.0.1
SERVER_IP=10.201.0.2
SRC_BASE=10.64.0.1 # source identity i: 10.64.0.1 + i
SERVER_ID=300
CLIENT_ID=5000

h_init
# shellcheck disable=SC2034 # read by h_log (harness)
H_TEST_NAME=bench-datapath
RESULTS=$H_TMP/traffic.jsonl
PKT=$H_TMP/pkt.jsonl
: >"$RESULTS"

# ---- topology: client and server namespaces, one veth pair; sources routed locally ----
CLI=$(h_ns cli)
SRV=$(h_ns srv)
ip link add eth0 netns "$CLI" type veth peer name eth0 netns "$SRV"
ip -n "$CLI" addr add "$CLIENT_IP/24" dev eth0
ip -n "$SRV" addr add "$SERVER_IP/24" dev eth0
ip -n "$CLI" link set eth0 up
ip -n "$SRV" link set eth0 up
ip -n "$CLI" link set lo up
ip -n "$SRV" link set lo up
ip -n "$CLI" route add local 10.64.0.0/16 dev lo
ip -n "$SRV" route add 10.64.0.0/16 via "$CLIENT_IP"
h_wait_for 5 h_in "$CLI" ping -c1 -W1 "$SERVER_IP" ||
	h_fail "veth between $CLI and $SRV does not pass ping"
# TCP: client and server share CPU 0 (cross-CPU wake-ups on a VM cost tens of microseconds
# and made TCP_RR swing 2x between runs); UDP: sender on CPU 0, sink on CPU 1.
SERVER_PID=$(h_spawn "$SRV" server taskset -c 0 "$LOAD" serve --addr "$SERVER_IP" --port "$TCP_PORT")
h_wait_for 5 h_in "$SRV" sh -c "ss -Hltn 'sport = :$TCP_PORT' | grep -q LISTEN"

# gen KIND N: the N identities' rules in one filter's syntax. Identity i has source
# 10.64.0.1 + i and is allowed TCP 8080 and UDP 9000 (both tests' flows); pseudopod also
# gets what a real policy set compiles to besides: an any-identity deny of TCP 22, an
# any-identity ICMP echo allow, a port range for every 10th identity. awk, because 10k
# lines from a shell loop take longer than the measurement.
gen() {
	awk -v kind="$1" -v n="$2" -v cid="$CLIENT_ID" -v tp="$TCP_PORT" -v up="$UDP_PORT" '
	function ip(i) { i++; return "10.64." int(i / 256) "." (i % 256) }
	BEGIN {
		if (kind == "policy") {
			print "--dir ingress --identity any --proto tcp --port 22 --deny --rule 1"
			print "--dir ingress --identity any --proto icmp --type 8 --rule 2"
		}
		for (i = 0; i < n; i++) {
			a = ip(i)
			if (kind == "ipcache") {
				printf "%s/32 %d\n", a, cid + i
			} else if (kind == "policy") {
				printf "--dir ingress --identity %d --proto tcp --port %d --rule 3\n", cid + i, tp
				printf "--dir ingress --identity %d --proto udp --port %d --rule 4\n", cid + i, up
				if (i % 10 == 0)
					printf "--dir ingress --identity %d --proto tcp --port 30000-32767 --rule 5\n", cid + i
			} else if (kind == "nft") {
				printf "      %s . tcp . %d, %s . udp . %d%s\n", a, tp, a, up, i == n - 1 ? "" : ","
			} else if (kind == "vmap") {
				printf "      %s . tcp . %d : accept, %s . udp . %d : accept%s\n", a, tp, a, up, i == n - 1 ? "" : ","
			} else if (kind == "ipset") {
				printf "add ppallowed %s,tcp:%d\nadd ppallowed %s,udp:%d\n", a, tp, a, up
			} else if (kind == "iptables") {
				printf "-A INPUT -s %s/32 -p tcp -m tcp --dport %d -j ACCEPT\n", a, tp
				printf "-A INPUT -s %s/32 -p udp -m udp --dport %d -j ACCEPT\n", a, up
			}
		}
	}'
}

# ---- the filters: FILTER_on N / FILTER_off ----
none_on() { :; }
none_off() { :; }

EMPTY_OBJ=$PP_BUILD_DIR/bench/datapath/dpbench_empty_skel/dpbench_empty.bpf.o
tc-empty_on() {
	h_in "$SRV" tc qdisc add dev eth0 clsact &&
		h_in "$SRV" tc filter add dev eth0 ingress bpf direct-action obj "$EMPTY_OBJ" sec tc &&
		h_in "$SRV" tc filter add dev eth0 egress bpf direct-action obj "$EMPTY_OBJ" sec tc
}
tc-empty_off() { h_in "$SRV" tc qdisc del dev eth0 clsact 2>/dev/null || true; }

PP_BPFFS=/sys/fs/bpf/pp-bench-$H_RUN
h_on_exit "'$PPDP' unload --bpffs '$PP_BPFFS' 2>/dev/null; rm -rf '$PP_BPFFS'"
ppdp() { "$PPDP" "$@" --bpffs "$PP_BPFFS" >>"$H_TMP/pp-datapath.log" 2>&1; }
pseudopod_load() { # N CONNTRACK_MAX
	gen ipcache "$1" >"$H_TMP/ipcache.txt"
	gen policy "$1" >"$H_TMP/policy.txt"
	ppdp load --mode workload --identity "$SERVER_ID" --ipcache-max $(($1 + 1024)) \
		--policy-max $((4 * $1 + 1024)) --conntrack-max "$2" --netns "/run/netns/$SRV" &&
		ppdp ipcache load -f "$H_TMP/ipcache.txt" &&
		ppdp policy load -f "$H_TMP/policy.txt" &&
		ppdp policy enforce --dir ingress on &&
		ppdp attach --dev eth0 --netns "/run/netns/$SRV"
}
pseudopod_on() { pseudopod_load "$1" 262144; }
pseudopod-smallct_on() { pseudopod_load "$1" "$SMALL_CT"; }
pseudopod_off() {
	ppdp metrics >/dev/null || true
	ppdp detach --dev eth0 --netns "/run/netns/$SRV" || true
	ppdp unload || true
	h_in "$SRV" tc qdisc del dev eth0 clsact 2>/dev/null || true
}
pseudopod-smallct_off() { pseudopod_off; }

# nftables as a user writes it: established first, then one lookup in a set.
nft-set_on() {
	{
		echo "table inet ppbench {"
		echo "  set allowed { type ipv4_addr . inet_proto . inet_service; elements = {"
		gen nft "$1"
		echo "  } }"
		echo "  chain input { type filter hook input priority 0; policy drop;"
		echo "    ct state established,related accept"
		echo "    tcp dport 22 drop"
		echo "    ip saddr . meta l4proto . th dport @allowed accept"
		echo "  }"
		echo "}"
	} >"$H_TMP/nft.rules"
	h_in "$SRV" nft -f "$H_TMP/nft.rules"
}
nft-vmap_on() {
	{
		echo "table inet ppbench {"
		echo "  map allowed { type ipv4_addr . inet_proto . inet_service : verdict; elements = {"
		gen vmap "$1"
		echo "  } }"
		echo "  chain input { type filter hook input priority 0; policy drop;"
		echo "    ct state established,related accept"
		echo "    ip saddr . meta l4proto . th dport vmap @allowed"
		echo "  }"
		echo "}"
	} >"$H_TMP/nft.rules"
	h_in "$SRV" nft -f "$H_TMP/nft.rules"
}
# A namespace's nftables ruleset is ours alone: flush it whole (restoring an empty iptables
# rule set would leave the base chains hooked and every later case would pay for them).
nft-set_off() { h_in "$SRV" nft flush ruleset; }
nft-vmap_off() { nft-set_off; }

ipset_on() {
	{
		echo "create ppallowed hash:ip,port family inet hashsize 4096 maxelem $((2 * $1 + 1024))"
		gen ipset "$1"
	} >"$H_TMP/ipset.rules"
	h_in "$SRV" ipset restore -f "$H_TMP/ipset.rules" &&
		printf '%s\n' "*filter" ":INPUT DROP [0:0]" ":FORWARD ACCEPT [0:0]" ":OUTPUT ACCEPT [0:0]" \
			"-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT" \
			"-A INPUT -m set --match-set ppallowed src,dst -j ACCEPT" "COMMIT" \
			>"$H_TMP/iptables-ipset.rules" &&
		h_in "$SRV" iptables-restore "$H_TMP/iptables-ipset.rules"
}
ipset_off() {
	h_in "$SRV" nft flush ruleset
	h_in "$SRV" ipset destroy ppallowed 2>/dev/null || true
}

# The anchor: 2N rules walked one by one, no conntrack shortcut (worst case).
iptables-linear_on() {
	{
		echo "*filter"
		echo ":INPUT DROP [0:0]"
		echo ":FORWARD ACCEPT [0:0]"
		echo ":OUTPUT ACCEPT [0:0]"
		gen iptables "$1"
		echo "COMMIT"
	} >"$H_TMP/iptables.rules"
	h_in "$SRV" iptables-restore "$H_TMP/iptables.rules"
}
iptables-linear_off() { h_in "$SRV" nft flush ruleset; }

FILTERS=(none tc-empty pseudopod nft-set nft-vmap ipset iptables-linear)

# clean_path FILTER: nothing but FILTER's own hooks may be in the path.
clean_path() {
	case $1 in none | tc-empty | pseudopod*) [ -z "$(h_in "$SRV" nft list ruleset)" ] || return 1 ;; esac
	case $1 in tc-empty | pseudopod*) ;; *) ! h_in "$SRV" tc filter show dev eth0 ingress 2>/dev/null | grep -q . || return 1 ;; esac
}

# enforcing FILTER: a datagram from an allowed source to a port no rule allows is dropped
# (checked in the first round: a figure is never taken with a filter not in the path).
enforcing() {
	local out
	case $1 in none | tc-empty) return 0 ;; esac
	h_spawn "$SRV" probe-sink "$LOAD" sink --addr "$SERVER_IP" --port "$PROBE_PORT" --expect 20 \
		--quiet-ms 300 --wait-ms 700 >/dev/null
	h_wait_for 5 grep -q ready "$H_TMP/probe-sink.log" || return 1
	h_in "$CLI" "$LOAD" udp --dst "$SERVER_IP" --port "$PROBE_PORT" --src "$SRC_BASE" --sources 1 \
		--count 20 --max-seconds 2 >/dev/null || return 1
	h_wait_for 5 grep -q received "$H_TMP/probe-sink.log" || return 1
	out=$(grep -o '"received":[0-9]*' "$H_TMP/probe-sink.log" | cut -d: -f2)
	rm -f "$H_TMP/probe-sink.log"
	[ "${out:-1}" = 0 ]
}

# record TEST FILTER N ROUND JSON: one measured run (or its error) into $RESULTS.
record() {
	jq -c --arg t "$1" --arg f "$2" --argjson n "$3" --argjson r "$4" \
		'. + {part:"traffic",test:$t,filter:$f,rules:$n,round:$r}' <<<"$5" >>"$RESULTS"
}
error_record() {
	jq -nc --arg t "$1" --arg f "$2" --argjson n "$3" --argjson r "$4" --arg e "$5" \
		'{part:"traffic",test:$t,filter:$f,rules:$n,round:$r,error:$e}' >>"$RESULTS"
}

run_crr() { # FILTER N ROUND
	local out
	out=$(h_in "$CLI" taskset -c 0 "$LOAD" crr --dst "$SERVER_IP" --port "$TCP_PORT" --src "$SRC_BASE" \
		--sources "$2" --count "$CRR_COUNT" --max-seconds 20 --peer-pid "$SERVER_PID") &&
		record crr "$1" "$2" "$3" "$out" || error_record crr "$1" "$2" "$3" "client failed"
}
run_udp() {
	local out recv sink_pid
	sink_pid=$(h_spawn "$SRV" sink taskset -c 1 "$LOAD" sink --addr "$SERVER_IP" --port "$UDP_PORT" \
		--expect "$UDP_COUNT" --quiet-ms 300)
	h_wait_for 5 grep -q ready "$H_TMP/sink.log" || true
	out=$(h_in "$CLI" taskset -c 0 "$LOAD" udp --dst "$SERVER_IP" --port "$UDP_PORT" --src "$SRC_BASE" \
		--sources "$2" --sockets "$UDP_SOCKETS" --count "$UDP_COUNT" --max-seconds 20 \
		--peer-pid "$sink_pid") || {
		error_record udp "$1" "$2" "$3" "client failed"
		return
	}
	h_wait_for 10 grep -q received "$H_TMP/sink.log" || true
	recv=$(grep -o '"received":[0-9]*' "$H_TMP/sink.log" | cut -d: -f2)
	rm -f "$H_TMP/sink.log"
	record udp "$1" "$2" "$3" "$(jq -c --argjson r "${recv:-0}" '. + {received:$r}' <<<"$out")"
}
run_rr() {
	local out
	out=$(h_in "$CLI" taskset -c 0 "$LOAD" rr --dst "$SERVER_IP" --port "$TCP_PORT" --src "$SRC_BASE" --count "$RR_COUNT" \
		--max-seconds 20 --peer-pid "$SERVER_PID") &&
		record rr "$1" "$2" "$3" "$out" || error_record rr "$1" "$2" "$3" "client failed"
}

measure() { # FILTER N ROUND
	local f=$1 n=$2 r=$3 t
	if ! "${f}_on" "$n" >>"$H_TMP/filters.log" 2>&1; then
		for t in crr udp rr; do error_record "$t" "$f" "$n" "$r" "installing the filter failed"; done
	elif ! clean_path "$f"; then
		for t in crr udp rr; do error_record "$t" "$f" "$n" "$r" "another filter left in the path"; done
	elif [ "$r" = 1 ] && ! enforcing "$f"; then
		for t in crr udp rr; do error_record "$t" "$f" "$n" "$r" "installed but not enforcing"; done
	else
		h_log "round $r: $f, $n identities"
		run_crr "$f" "$n" "$r"
		run_udp "$f" "$n" "$r"
		run_rr "$f" "$n" "$r"
	fi
	"${f}_off" >>"$H_TMP/filters.log" 2>&1 || true
}

# ---- 1. per-packet part ----
h_log "per-packet cost (BPF_PROG_TEST_RUN)"
pkt_ok=1
"$BIN/pp-dpbench-pkt" "${PKT_ARGS[@]}" >"$PKT" || pkt_ok=0

# ---- 2. real traffic, rounds interleaving the filters ----
h_log "load while measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
h_in "$CLI" "$LOAD" crr --dst "$SERVER_IP" --port "$TCP_PORT" --src "$SRC_BASE" --sources 10 \
	--count 200 --max-seconds 5 >/dev/null # warm-up, not recorded
for ((r = 1; r <= ROUNDS; r++)); do
	for n in "${SIZES[@]}"; do
		for f in "${FILTERS[@]}"; do
			measure "$f" "$n" "$r"
		done
	done
	measure pseudopod-smallct "${SIZES[-1]}" "$r"
done
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

if [ -n "$OUT" ]; then
	mkdir -p "$OUT"
	cp "$PKT" "$RESULTS" "$OUT/"
fi
rc=0
if [ $JSON -eq 1 ]; then
	cat "$PKT" "$RESULTS"
	grep -q '"error"' "$PKT" "$RESULTS" && rc=1
	exit $rc
fi
PP_BENCH_LOADAVG="$LOADAVG" bash "$PP_SOURCE_DIR/bench/datapath/report.sh" "$PKT" "$RESULTS" \
	"$([ $QUICK -eq 1 ] && echo quick || echo full)" "$UDP_SOCKETS" "$SMALL_CT" || rc=1
[ $pkt_ok -eq 1 ] || rc=1
exit $rc
