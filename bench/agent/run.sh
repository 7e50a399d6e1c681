#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/agent: pseudopodd end to end, in the e2e harness's namespaces (tests/e2e/lib/
# daemon.sh's cluster: etcd, a gateway node with pods, the machine behind WireGuard).
#   propagation  `pseudopodctl policy apply` -> a probe's verdict flips (web -> machine:22
#                allowed / denied in turn), p50/p99 over 100 changes (--quick: 10)
#   initial sync 100k ipcache entries, 10k identities, 1k policies (bench/policy's
#                generator through pp-agent-populate): start -> ready, the sync itself (from
#                the daemon's log), peak RSS (VmHWM), CPU time to ready
#   idle CPU     the synced daemon over 60 s (--quick: 5 s), from /proc/PID/schedstat
# Goals (issue 13): propagation p99 < 100 ms, initial sync < 2 s, RSS < 30 MB, idle CPU <
# 0.1% of a core. Options: --quick, --json, --changes N, --idle S, --ipcache N.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
changes=100 idle=60 ipc=100000 json=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) changes=10 idle=5 ;;
	--json) json=1 ;;
	--changes) changes=$2; shift ;;
	--idle) idle=$2; shift ;;
	--ipcache) ipc=$2; shift ;;
	*) echo "usage: run.sh [--quick] [--json] [--changes N] [--idle S] [--ipcache N]" >&2; exit 2 ;;
	esac
	shift
done
source "$PP_SOURCE_DIR/tests/e2e/lib/daemon.sh"
h_init
d_cluster
d_apply <<<"$D_POLICY_WEB_5432"
d_start bench-propagation
d_listen

# ---- propagation ----
ssh_policy() { sed "s/\"5432\"/\"$1\"/; s/billing-from-web/billing-ssh-bench/" <<<"$D_POLICY_WEB_5432"; }
ssh_policy 22 >"$H_TMP/allow.yaml"
ssh_policy 2222 >"$H_TMP/deny.yaml"
h_in "$D_WEB" python3 "$PP_SOURCE_DIR/bench/agent/probe.py" 10.201.0.10 22 "$changes" 0.02 \
	"$H_TMP/allow.yaml" "$H_TMP/deny.yaml" nsenter --net="/run/netns/$D_STORE" -- "$CTL" \
	policy apply -f - --store "$D_URL" --store-prefix "$D_PREFIX" >"$H_TMP/prop.ms" ||
	h_fail "propagation probe failed"
d_stop_term

# ---- initial sync at scale, then idle ----
P2="/pp$H_RUN-scale/"
h_in "$D_STORE" "$PP_BUILD_DIR/bin/pp-agent-populate" --endpoints "$D_URL" --prefix "$P2" --ipcache "$ipc" ||
	h_fail "populate"
h_in "$D_STORE" etcdctl --endpoints "$D_URL" put "${P2}config" \
	"$(h_in "$D_STORE" etcdctl --endpoints "$D_URL" get --print-value-only "${D_PREFIX}config")" \
	>/dev/null
jq '.response.workload.identity = 256' "$D_STATE/enrollment.json" >"$H_TMP/e.json"
cat "$H_TMP/e.json" >"$D_STATE/enrollment.json"
rm -f "$D_STATE/policy.snapshot"
sed -i "s|^prefix = .*|prefix = $P2|; s|^bpffs-root = .*|bpffs-root = $D_BPFFS-scale|" "$D_CONF"
h_on_exit "$PPDP unload --bpffs $D_BPFFS-scale"
t0=$(date +%s%N)
d_start bench-scale
t_ready=$((($(date +%s%N) - t0) / 1000000))
sync_ms=$(sed -n 's/.*initial sync at revision [0-9]* in \([0-9]*\) ms.*/\1/p' "$H_TMP/bench-scale.log")
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/"$D_PID"/status)
cpu_ns() { awk '{print $1}' /proc/"$D_PID"/schedstat; }
cpu_start=$(cpu_ns)
entries=$(d_status | jq '.datapath.maps[] | select(.name == "ipcache") | .entries')
sleep 2
c0=$(cpu_ns)
sleep "$idle"
c1=$(cpu_ns)
d_stop_term

python3 - "$H_TMP/prop.ms" "$t_ready" "$sync_ms" "$rss_kb" "$cpu_start" "$c0" "$c1" "$idle" \
	"$json" "$entries" "$changes" <<'PY'
import json, statistics, sys
f, t_ready, sync_ms, rss_kb, cpu_start, c0, c1, idle, as_json, entries, n = sys.argv[1:]
ms = sorted(float(x) for x in open(f))
def pct(p):
    return ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))]
r = {"propagation_ms": {"p50": pct(50), "p99": pct(99), "min": ms[0], "max": ms[-1], "n": len(ms)},
     "start_to_ready_ms": int(t_ready), "initial_sync_ms": int(sync_ms or 0),
     "ipcache_entries": int(entries), "peak_rss_mb": int(rss_kb) / 1024,
     "cpu_to_ready_ms": int(cpu_start) / 1e6,
     "idle_cpu_pct": (int(c1) - int(c0)) / 1e9 / float(idle) * 100, "idle_s": float(idle)}
goals = {"propagation p99 < 100 ms": r["propagation_ms"]["p99"] < 100,
         "initial sync < 2 s": r["initial_sync_ms"] < 2000,
         "peak RSS < 30 MB": r["peak_rss_mb"] < 30,
         "idle CPU < 0.1% of a core": r["idle_cpu_pct"] < 0.1}
r["goals"] = goals
if as_json == "1":
    print(json.dumps(r, indent=2))
else:
    p = r["propagation_ms"]
    print(f"propagation ({p['n']} changes)   p50 {p['p50']:.1f} ms  p99 {p['p99']:.1f} ms  [{p['min']:.1f}-{p['max']:.1f}]")
    print(f"initial sync ({r['ipcache_entries']} ipcache, 10k ids, 1k policies)  {r['initial_sync_ms']} ms (start -> ready {r['start_to_ready_ms']} ms, CPU {r['cpu_to_ready_ms']:.0f} ms)")
    print(f"peak RSS                      {r['peak_rss_mb']:.1f} MB")
    print(f"idle CPU over {idle} s           {r['idle_cpu_pct']:.3f} % of a core")
    for g, ok in goals.items():
        print(f"goal {g:28s} {'met' if ok else 'MISSED'}")
PY
h_pass "bench/agent"
