#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/datapath/run.sh [--quick] [--json] [--out FILE]
#
# The datapath benchmark, everything in one run:
#   1. per-packet cost (pp-dpbench-pkt: BPF_PROG_TEST_RUN, empty program vs datapath at
#      10 / 1k / 10k / 100k policy + ipcache entries);
#   2. real traffic between two namespaces joined by one veth pair (pp-dpbench-traffic:
#      UDP blast and TCP request/response) with no filter, with the empty tc program (the
#      hook's own cost), then pseudopod, iptables and nftables each holding N rules,
#      N = 10, 1k, 10k (--quick: 10 and 1k);
# then prints the table (pp-dpbench-report), or one JSON object with --json.
#
# All filters live in the server namespace, which this script creates: the host's own
# firewall, interfaces and routes are never touched. Needs root. Exit 0 when every figure
# was produced (targets met or not), 1 when one is missing.
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
		sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "usage: run.sh [--quick] [--json] [--out FILE]" >&2
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
for b in pp-dpbench-pkt pp-dpbench-traffic pp-dpbench-report; do
	[ -x "$BIN/$b" ] || {
		echo "run.sh: missing $BIN/$b: build target dpbench first" >&2
		exit 1
	}
done
PPDP=$BIN/pp-datapath

if [ $QUICK -eq 1 ]; then
	SIZES=(10 1000)
	PKT_ARGS=(--quick --entries "10,1000,10000,100000")
	UDP_COUNT=50000
	RR_COUNT=5000
	RUNS=2
else
	SIZES=(10 1000 10000)
	PKT_ARGS=()
	UDP_COUNT=200000
	RR_COUNT=20000
	RUNS=5
fi
UDP_PORT=9000
RR_PORT=9001
PROBE_PORT=9002
CLIENT_IP=10.201.0.1
SERVER_IP=10.201.0.2
# Identities for the pseudopod case (the server is the local endpoint).
SERVER_ID=300
CLIENT_ID=5000

h_init
# shellcheck disable=SC2034 # read by h_log (harness)
H_TEST_NAME=bench-datapath
RESULTS=$H_TMP/results.jsonl
: >"$RESULTS"

# ---- topology: client and server namespaces, one veth pair ----
CLI=$(h_ns cli)
SRV=$(h_ns srv)
ip link add eth0 netns "$CLI" type veth peer name eth0 netns "$SRV"
ip -n "$CLI" addr add "$CLIENT_IP/24" dev eth0
ip -n "$SRV" addr add "$SERVER_IP/24" dev eth0
ip -n "$CLI" link set eth0 up
ip -n "$SRV" link set eth0 up
h_wait_for 5 h_in "$CLI" ping -c1 -W1 "$SERVER_IP" ||
	h_fail "veth between $CLI and $SRV does not pass ping"

# gen KIND N PROTO PORT: the N rules of one filter, the client's allowing one last; the
# other N-1 name addresses in 10.64.0.0/10 (never the client). awk, because 10k lines from
# a shell loop take longer than the measurement.
gen() {
	awk -v kind="$1" -v n="$2" -v proto="$3" -v port="$4" -v client="$CLIENT_IP" \
		-v cid="$CLIENT_ID" 'function ip(i) {
		i++
		return "10." (64 + int(i / 65536)) "." (int(i / 256) % 256) "." (i % 256)
	}
	function rule(addr, id) {
		if (kind == "iptables")
			printf "-A INPUT -s %s/32 -p %s -m %s --dport %s -j ACCEPT\n", addr, proto, proto, port
		else if (kind == "nft")
			printf "      %s . %s . %s%s\n", addr, proto, port, addr == client ? "" : ","
		else if (kind == "ipcache")
			printf "%s/32 %d\n", addr, id
		else
			printf "--dir ingress --identity %d --proto %s --port %s\n", id, proto, port
	}
	BEGIN {
		for (i = 0; i < n - 1; i++)
			rule(ip(i), cid + 1 + i)
		rule(client, cid)
	}'
}

# error_record TEST FILTER RULES WHY: a traffic record that says why a figure is missing.
error_record() {
	jq -nc --arg t "$1" --arg f "$2" --argjson r "$3" --arg e "$4" \
		'{part:"traffic",test:$t,filter:$f,rules:$r,error:$e}' >>"$RESULTS"
}

# enforcing FILTER RULES: true when a datagram the filter does not allow (UDP to a port no
# rule names) is dropped — so a figure is never taken with a filter that is not in the path.
enforcing() {
	[ "$1" = none ] || [ "$1" = tc-empty ] && return 0
	if "$BIN/pp-dpbench-traffic" udp --client-ns "/run/netns/$CLI" --server-ns "/run/netns/$SRV" \
		--server "$SERVER_IP" --port "$PROBE_PORT" --count 20 --timeout 1 >/dev/null; then
		h_log "$1 with $2 rules lets a datagram to port $PROBE_PORT through: not enforcing"
		return 1
	fi
}

# traffic TEST FILTER RULES: one measured run; its record goes to $RESULTS.
traffic() {
	local test=$1 filter=$2 rules=$3 port count
	# Only the filter being measured may be in the path.
	if [ "$filter" != iptables ] && [ "$filter" != nftables ] &&
		[ -n "$(h_in "$SRV" nft list ruleset)" ]; then
		error_record "$test" "$filter" "$rules" "netfilter rules left over from another case"
		return
	fi
	if [ "$filter" != pseudopod ] && [ "$filter" != tc-empty ] &&
		h_in "$SRV" tc filter show dev eth0 ingress 2>/dev/null | grep -q .; then
		error_record "$test" "$filter" "$rules" "tc filter left over from another case"
		return
	fi
	if ! enforcing "$filter" "$rules"; then
		error_record "$test" "$filter" "$rules" "filter installed but not enforcing (probe passed)"
		return
	fi
	if [ "$test" = udp ]; then
		port=$UDP_PORT count=$UDP_COUNT
	else
		port=$RR_PORT count=$RR_COUNT
	fi
	h_log "$test, $filter, $rules rules"
	"$BIN/pp-dpbench-traffic" "$test" --client-ns "/run/netns/$CLI" \
		--server-ns "/run/netns/$SRV" --server "$SERVER_IP" --port "$port" \
		--count "$count" --filter "$filter" --rules "$rules" --timeout 10 --runs "$RUNS" \
		>>"$RESULTS" || true
}

# ---- iptables: N rules in INPUT, the allowing one last, policy DROP ----
iptables_on() {
	local test=$1 n=$2 proto port f=$H_TMP/iptables.rules
	[ "$test" = udp ] && proto=udp port=$UDP_PORT || proto=tcp port=$RR_PORT
	{
		echo "*filter"
		echo ":INPUT DROP [0:0]"
		echo ":FORWARD ACCEPT [0:0]"
		echo ":OUTPUT ACCEPT [0:0]"
		gen iptables "$n" "$proto" "$port"
		echo "COMMIT"
	} >"$f"
	h_in "$SRV" iptables-restore "$f"
}

# Restoring an empty rule set is not enough: the nf_tables backend keeps the filter table's
# base chains, whose hooks every later packet would still pay for. The namespace is ours,
# so its whole ruleset goes.
iptables_off() {
	h_in "$SRV" nft flush ruleset
}

# ---- nftables: one rule matching a set of N (address . protocol . port), policy drop ----
nftables_on() {
	local test=$1 n=$2 proto port f=$H_TMP/nft.rules
	[ "$test" = udp ] && proto=udp port=$UDP_PORT || proto=tcp port=$RR_PORT
	{
		echo "table inet ppbench {"
		echo "  set allowed {"
		echo "    type ipv4_addr . inet_proto . inet_service"
		echo "    elements = {"
		gen nft "$n" "$proto" "$port"
		echo "    }"
		echo "  }"
		echo "  chain input {"
		echo "    type filter hook input priority 0; policy drop;"
		echo "    ip saddr . meta l4proto . th dport @allowed accept"
		echo "  }"
		echo "}"
	} >"$f"
	h_in "$SRV" nft -f "$f"
}

nftables_off() {
	h_in "$SRV" nft flush ruleset
}

# ---- pseudopod: the datapath on the server's eth0, N ipcache + N policy entries ----
PP_BPFFS=/sys/fs/bpf/pp-bench-$H_RUN
h_on_exit "'$PPDP' unload --bpffs '$PP_BPFFS'; rm -rf '$PP_BPFFS'"
# ppdp ARGS...: pp-datapath, its output kept in the run's log.
ppdp() {
	"$PPDP" "$@" >>"$H_TMP/pp-datapath.log" 2>&1
}

pseudopod_on() {
	local test=$1 n=$2 proto port
	[ "$test" = udp ] && proto=udp port=$UDP_PORT || proto=tcp port=$RR_PORT
	gen ipcache "$n" "$proto" "$port" >"$H_TMP/ipcache.txt"
	# The policy file holds the flags of `pp-datapath policy add`, one entry a line; the
	# endpoint defaults to the loaded identity.
	gen policy "$n" "$proto" "$port" >"$H_TMP/policy.txt"
	ppdp load --bpffs "$PP_BPFFS" --mode workload --identity "$SERVER_ID" \
		--ipcache-max $((n + 1024)) --policy-max $((n + 1024)) &&
		ppdp ipcache load --bpffs "$PP_BPFFS" -f "$H_TMP/ipcache.txt" &&
		ppdp policy load --bpffs "$PP_BPFFS" -f "$H_TMP/policy.txt" &&
		ppdp policy enforce --bpffs "$PP_BPFFS" --dir ingress on &&
		ppdp attach --bpffs "$PP_BPFFS" --dev eth0 --netns "/run/netns/$SRV"
}

pseudopod_off() {
	ppdp metrics --bpffs "$PP_BPFFS" || true
	ppdp detach --bpffs "$PP_BPFFS" --dev eth0 --netns "/run/netns/$SRV" || true
	ppdp unload --bpffs "$PP_BPFFS" || true
	rm -rf "$PP_BPFFS"
	# An empty clsact left behind would still be a hook in every later case's path.
	h_in "$SRV" tc qdisc del dev eth0 clsact 2>/dev/null || true
}

# ---- the hook's own cost: empty.bpf.c on the hooks pseudopod uses (ingress + egress) ----
EMPTY_OBJ=$PP_BUILD_DIR/bench/datapath/dpbench_empty_skel/dpbench_empty.bpf.o
tc_empty_on() {
	h_in "$SRV" tc qdisc add dev eth0 clsact &&
		h_in "$SRV" tc filter add dev eth0 ingress bpf direct-action obj "$EMPTY_OBJ" sec tc &&
		h_in "$SRV" tc filter add dev eth0 egress bpf direct-action obj "$EMPTY_OBJ" sec tc
}

tc_empty_off() {
	h_in "$SRV" tc qdisc del dev eth0 clsact
}

# ---- 1. per-packet part ----
h_log "per-packet cost (BPF_PROG_TEST_RUN)"
"$BIN/pp-dpbench-pkt" "${PKT_ARGS[@]}" >>"$RESULTS" || true

# ---- 2. real traffic ----
for test in udp rr; do
	# Warm-up, not recorded: the first run after set-up is slower (page faults, ARP,
	# cold caches) and would make the baseline look worse than it is.
	"$BIN/pp-dpbench-traffic" "$test" --client-ns "/run/netns/$CLI" \
		--server-ns "/run/netns/$SRV" --server "$SERVER_IP" --port "$PROBE_PORT" \
		--count 2000 --timeout 5 >/dev/null || true
	traffic "$test" none 0
	if tc_empty_on; then
		traffic "$test" tc-empty 0
	else
		error_record "$test" tc-empty 0 "cannot attach $EMPTY_OBJ with tc"
	fi
	tc_empty_off || true
	for n in "${SIZES[@]}"; do
		if [ ! -x "$PPDP" ]; then
			error_record "$test" pseudopod "$n" "this tree has no pp-datapath binary"
		elif pseudopod_on "$test" "$n"; then
			traffic "$test" pseudopod "$n"
			pseudopod_off
		else
			error_record "$test" pseudopod "$n" "pp-datapath load/attach failed (log: pp-datapath.log)"
			tail -n 5 "$H_TMP/pp-datapath.log" >&2 || true
			pseudopod_off
		fi
		if iptables_on "$test" "$n"; then
			traffic "$test" iptables "$n"
		else
			error_record "$test" iptables "$n" "iptables-restore failed"
		fi
		iptables_off || true
		if nftables_on "$test" "$n"; then
			traffic "$test" nftables "$n"
		else
			error_record "$test" nftables "$n" "nft -f failed"
		fi
		nftables_off || true
	done
done

[ -n "$OUT" ] && cp "$RESULTS" "$OUT"
MODE=full
[ $QUICK -eq 1 ] && MODE=quick
ARGS=(--mode "$MODE")
[ $JSON -eq 1 ] && ARGS+=(--json)
"$BIN/pp-dpbench-report" "${ARGS[@]}" "$RESULTS"
