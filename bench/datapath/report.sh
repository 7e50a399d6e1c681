#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/datapath/report.sh PKT.jsonl TRAFFIC.jsonl MODE UDP_SOCKETS SMALL_CT
#
# The datapath benchmark's tables, from the records run.sh collected: per-packet paths
# (median over rounds of the per-round medians, the round spread, minus the floor), real
# traffic per test and rule count (medians over rounds, spread, CPU per operation from the
# machine's busy time, versus no filter), the stability check and the targets. Exit 1 when
# a figure is missing. jq does the arithmetic.
set -euo pipefail
PKT=$1
TRAFFIC=$2
MODE=$3
SOCKETS=$4
SMALL_CT=$5
missing=0

echo "== per packet (BPF_PROG_TEST_RUN, ns per packet; median over rounds of each round's median; [min..max] of the round medians; -floor = minus the empty program of the same rounds) =="
echo "   load average during the run: ${PP_BENCH_LOADAVG:-?} (2 CPUs; other work shares them)"
jq -rs '
  (map(select(.part == "pkt" and .case == "empty" and .entries > 0)) | map({(.entries|tostring): .median_ns}) | add // {}) as $floor
  | map(select(.part == "pkt"))[]
  | [.case, (.entries|tostring),
     (if .error then "ERROR: " + .error else (.median_ns|round|tostring) end),
     (if .min_ns then "[\(.min_ns|round)..\(.max_ns|round)]" else "" end),
     (if .error or .entries == 0 or .case == "empty" or (.case|test("lookup")) then ""
      else "+\((.median_ns - ($floor[.entries|tostring] // 0))|round)" end),
     (if .p90_ns then (.p90_ns|round|tostring) else "" end),
     (if .hot_ns then (.hot_ns|tostring) else "" end),
     (if .policy_keys then (.policy_keys|tostring) else "" end)] | @tsv' "$PKT" |
	awk -F'\t' 'BEGIN { printf "%-18s %7s %8s %-13s %7s %7s %5s %8s\n", "case", "entries", "median", "spread", "-floor", "p90", "hot", "keys" }
	{ printf "%-18s %7s %8s %-13s %7s %7s %5s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
grep -q '"error"' "$PKT" && missing=1

# ---- per-packet targets ----
jq -rs --arg mode "$MODE" '
  map(select(.part == "pkt" and (.error|not))) as $r
  | ($r | map(select(.case == "empty" and .entries > 0)) | map({(.entries|tostring): .median_ns}) | add // {}) as $floor
  | def cost($c; $n): ($r | map(select(.case == $c and .entries == $n)) | .[0].median_ns // null) as $m
      | if $m == null then null else $m - $floor[$n|tostring] end;
  ($r | map(.entries) | map(select(. > 0)) | unique) as $sizes
  | ($sizes | max) as $big | ($sizes | min) as $small
  | ([$sizes[] | cost("established"; .)] | map(select(. != null)) | max) as $est
  | (cost("new_flow"; $big)) as $nb | (cost("new_flow"; $small)) as $ns
  | "targets (per packet\(if $mode == "quick" then ", quick: largest N \($big)" else "" end)):",
    (if $est == null then "  1. established within 30 ns of the empty program: not measured"
     else "  1. established within 30 ns of the empty program (worst N): +\($est|round) ns -> \(if $est <= 30 then "met" else "NOT MET" end)" end),
    (if $nb == null or $ns == null or $ns <= 0 then "  2. new flow at the largest N under 2x its cost at the smallest: not measured"
     else "  2. new flow at \($big) under 2x its cost at \($small) (over the floor): \($nb|round) / \($ns|round) = \(($nb / $ns * 100|round) / 100)x -> \(if $nb < 2 * $ns then "met" else "NOT MET" end)" end)
' "$PKT"

echo
echo "== real traffic, many flows (medians over rounds; spread = (max-min)/median of the rounds) =="
echo "   CPU = client + server (or sink) time on a CPU per operation (/proc/PID/schedstat: the softirq work of veth"
echo "   delivery and of every filter runs in their context); mach = the machine's busy time from /proc/stat per"
echo "   operation, every CPU, other engineers' work included (a cross-check only on a shared machine)"
echo "   crr: TCP connect + 64 B request/response + close, each from one of N source identities (a new flow each)"
echo "   udp: 64 B datagrams from N sources x $SOCKETS source ports (N x $SOCKETS flows); rate = datagrams received per second"
echo "   rr:  one established TCP connection, 64 B each way (TCP_RR)"
echo "   pseudopod-smallct: pseudopod with a $SMALL_CT-entry conntrack table, fewer than the UDP flows at the largest N (eviction)"
jq -rs '
  def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  map(select(.part == "traffic")) | group_by([.test, .rules, .filter])[]
  | (map(select(.error|not))) as $ok
  | .[0] as $h
  | if ($ok | length) == 0 then [$h.test, ($h.rules|tostring), $h.filter, "ERROR: " + (.[0].error // "no run"), "", "", "", "", "", "", ""]
    else
      ($ok | map(if .test == "udp" then (.received // 0) else .ops end / .seconds)) as $rate
      | ($ok | map((.task_cpu_s // .busy_cpu_s) as $c | if .test == "udp" then (.received // 0) else .ops end / (if $c > 0 then $c else 1e-9 end))) as $pcs
      | ($ok | map((.task_cpu_s // .busy_cpu_s) * 1e6 / (if .test == "udp" then ((.received // 0) | if . > 0 then . else 1 end) else .ops end))) as $us
      | ($ok | map(.busy_cpu_s * 1e6 / (if .test == "udp" then ((.received // 0) | if . > 0 then . else 1 end) else .ops end))) as $mus
      | [$h.test, ($h.rules|tostring), $h.filter,
         ($rate | median | round | tostring),
         (((($rate | max) - ($rate | min)) / ($rate | median) * 100) | round | tostring) + "%",
         ($pcs | median | round | tostring),
         (((($pcs | max) - ($pcs | min)) / ($pcs | median) * 100) | round | tostring) + "%",
         ($us | median | . * 100 | round / 100 | tostring),
         ($mus | median | . * 10 | round / 10 | tostring),
         (if $h.test == "udp" then ($ok | map(100 - ((.received // 0) * 100 / .ops)) | median | . * 10 | round / 10 | tostring) + "%" else "" end),
         ($ok | length | tostring)]
    end | @tsv' "$TRAFFIC" >"${TRAFFIC%.jsonl}.summary.tsv"
printf "%-5s %6s %-18s %10s %7s %11s %7s %9s %8s %7s %7s %6s\n" test N filter ops/s spread ops/CPU-s spread \
	"CPU us/op" "mach us" "vs none" loss rounds
awk -F'\t' '
	{ key = $1 SUBSEP $2; if ($3 == "none") none[key] = $6; rows[NR] = $0 }
	END {
		for (i = 1; i <= NR; i++) {
			split(rows[i], f, "\t"); key = f[1] SUBSEP f[2]
			vs = (f[3] != "none" && none[key] > 0 && f[6] ~ /^[0-9]/) ? sprintf("%+.1f%%", (f[6] / none[key] - 1) * 100) : ""
			printf "%-5s %6s %-18s %10s %7s %11s %7s %9s %8s %7s %7s %6s\n", f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], vs, f[10], f[11]
		}
	}' "${TRAFFIC%.jsonl}.summary.tsv" | sort -s -k1,1 -k2,2n
grep -q '"error"' "$TRAFFIC" && missing=1

echo
echo "stability check and comparison with the best set-based baseline (nft-set, nft-vmap, ipset), per CPU-second:"
awk -F'\t' '
	function pct(s) { sub("%", "", s); return s + 0 }
	{ key = $1 "\t" $2; v[key, $3] = $6; sp[key, $3] = pct($7); keys[key] = 1 }
	END {
		for (k in keys) {
			noise = sp[k, "none"]; best = ""; bv = 0
			if (sp[k, "pseudopod"] > noise) noise = sp[k, "pseudopod"]
			split("nft-set nft-vmap ipset", b, " ")
			for (j = 1; j <= 3; j++) if (v[k, b[j]] > bv) { bv = v[k, b[j]]; best = b[j] }
			if (v[k, "pseudopod"] == "" || bv == 0) { printf "  %s: a figure is missing\n", k; continue }
			d = (v[k, "pseudopod"] / bv - 1) * 100
			if (d < 0) ad = -d; else ad = d
			verdict = ad <= noise ? "within noise" : (d > 0 ? "pseudopod ahead" : best " ahead")
			printf "  %-4s N=%-6s pseudopod %s vs %s %s ops/CPU-s: %+.1f%%, noise (spread of none/pseudopod over rounds) %.0f%% -> %s\n", substr(k, 1, index(k, "\t") - 1), substr(k, index(k, "\t") + 1), v[k, "pseudopod"], best, bv, d, noise, verdict
		}
	}' "${TRAFFIC%.jsonl}.summary.tsv" | sort

# ---- traffic targets ----
echo "targets (traffic$([ "$MODE" = quick ] && echo ", quick: one small N only")):"
awk -F'\t' -v mode="$MODE" '
	{ v[$1, $2, $3] = $6; sp[$1, $2, $3] = $7; if ($2 + 0 > big) big = $2 + 0; if (small == "" || $2 + 0 < small) small = $2 + 0 }
	END {
		for (t = 1; t <= 3; t++) {
			split("udp rr crr", T, " "); test = T[t]
			p = v[test, big, "pseudopod"]; n = v[test, big, "none"]
			if (p == "" || n == "" || n == 0) { printf "  3. %s: pseudopod at %d rules vs no filter: not measured\n", test, big; continue }
			d = (p / n - 1) * 100
			printf "  3. %s: pseudopod at %d rules within 10%% of no filter (per CPU-s): %+.1f%% -> %s%s\n", test, big, d, (d >= -10 ? "met" : "NOT MET"), (test == "crr" ? " (crr: no target in issue 6, shown)" : "")
		}
		a = v["udp", small, "iptables-linear"]; b = v["udp", big, "iptables-linear"]
		if (a == "" || b == "" || small == big) printf "  4. linear iptables per-rule cost: not measured (one rule count)\n"
		else printf "  4. linear iptables shows its per-rule cost (UDP per CPU-s at %d rules under half of %d): %d vs %d -> %s\n", big, small, b, a, (b < a / 2 ? "shown" : "NOT shown")
	}' "${TRAFFIC%.jsonl}.summary.tsv"
exit $missing
