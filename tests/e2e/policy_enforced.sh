#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Store -> policy engine -> datapath, end to end, with pp-policy-sync (agent/policy_sync):
#   1. a real etcd; pseudopodctl init, endpoint add for a machine (app=billing) and two pods
#      (app=web, app=db); the datapath loaded with the machine's identity and attached to
#      the machine's ul0, with maps holding stale and current entries "from a previous
#      run" that the sync adopts (only the difference is written); a CiliumNetworkPolicy
#      allowing TCP 8080/8081 ingress from app=web only; one sync: web connects, db times
#      out, 9090 from web times out; events show both verdicts with the identities;
#   2. a second policy (a NetworkPolicy with podSelector + ipBlock/except) applied and the
#      first deleted; a re-sync that is a diff (counts printed by the tool) while a
#      connection loop web -> 8080 runs: not one attempt fails; traffic follows the new
#      policy (ipBlock allows an unregistered host, except refuses another);
#   3. an unchanged store re-syncs to zero changes; malformed store records (an ipcache
#      record over the web pod's key, a new garbage ipcache key, a new policy the engine
#      rejects, the enforcing policy overwritten with garbage and then with an invalid
#      object — its last valid version from etcd's history stays in force) are skipped
#      with log lines naming their keys and open or close nothing; an unreachable store
#      fails the sync and leaves enforcement as it was.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/store.sh"
h_init
SYNC=$(h_bin pp-policy-sync)
store_ctl_init # etcd in namespace $ns at $url, prefix $P; ctl ARGS... runs pseudopodctl
etcdput() { h_in "$ns" etcdctl --endpoints "$url" put "$1" "$2" >/dev/null; }

h_underlay
m=$(h_host machine 10.99.0.2/24)
web=$(h_host web 10.99.0.3/24)
db=$(h_host db 10.99.0.4/24)
x=$(h_host x 10.99.0.5/24) # not registered: the world, or a CIDR identity
y=$(h_host y 10.99.0.6/24) # ditto, named by an ipBlock except

ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.99.0.0/24 \
	--workload-cidr 10.98.0.0/16 >/dev/null || h_fail "pseudopodctl init"
ctl endpoint add --ip 10.99.0.2 --labels app=billing --namespace prod --kind workload \
	>/dev/null || h_fail "endpoint add machine"
ctl endpoint add --ip 10.99.0.3 --labels app=web --namespace prod >/dev/null ||
	h_fail "endpoint add web"
ctl endpoint add --ip 10.99.0.4 --labels app=db --namespace prod >/dev/null ||
	h_fail "endpoint add db"
MID=$(store_identity_of 10.99.0.2)
WID=$(store_identity_of 10.99.0.3)
DID=$(store_identity_of 10.99.0.4)
[ -n "$MID" ] && [ -n "$WID" ] && [ -n "$DID" ] || h_fail "identities not stored"
h_log "identities: machine $MID, web $WID, db $DID"

h_datapath
pd load --mode workload --identity "$MID" || h_fail "pp-datapath load"
h_dp_attach "$m" ul0

# sync NAME: one pp-policy-sync run; stdout in $H_TMP/NAME.out, stderr in NAME.err.
sync() {
	h_in "$ns" "$SYNC" --store "$url" --prefix "$P" --bpffs "$H_BPFFS" --identity "$MID" \
		--once -v >"$H_TMP/$1.out" 2>"$H_TMP/$1.err" ||
		h_fail "pp-policy-sync ($1) failed: $(cat "$H_TMP/$1.err")"
	sed "s/^/  [$1] /" "$H_TMP/$1.out" >&2
	[ -s "$H_TMP/$1.err" ] && sed "s/^/  [$1 stderr] /" "$H_TMP/$1.err" >&2
	return 0
}
expect_line() { # NAME LINE: the sync's output has exactly this line
	grep -qxF "$2" "$H_TMP/$1.out" || h_fail "sync $1: expected '$2' in: $(cat "$H_TMP/$1.out")"
}

cat >"$H_TMP/p1.yaml" <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: billing-from-web
  namespace: prod
spec:
  endpointSelector:
    matchLabels:
      app: billing
  ingress:
  - fromEndpoints:
    - matchLabels:
        app: web
    toPorts:
    - ports:
      - port: "8080"
        protocol: TCP
      - port: "8081"
        protocol: TCP
YAML
ctl policy apply -f "$H_TMP/p1.yaml" >/dev/null || h_fail "policy apply p1"

h_tcp_listen "$m" 10.99.0.2 8080
h_tcp_listen "$m" 10.99.0.2 8081
h_tcp_listen "$m" 10.99.0.2 9090
# Before any sync the endpoint enforces nothing.
h_expect_tcp_ok "$db" 10.99.0.2 8080

# Maps a previous agent (here pp-datapath by hand) left behind: one key and one ipcache
# entry the store also wants, one stale key and one stale entry. The sync adopts them.
pd ipcache add 10.99.0.3/32 "$WID"
pd ipcache add 10.99.0.200/32 999
pd policy add --dir ingress --identity "$WID" --proto tcp --port 8080 --rule 77
pd policy add --dir ingress --identity "$DID" --proto tcp --port 5432 --rule 78

events_pid=$(h_spawn "$m" events "$PPD" events --bpffs "$H_BPFFS" --json)
h_wait_for 10 h_reading_ringbuf "$events_pid" || h_fail "pp-datapath events did not open the ring buffer"

# ---- 1. first sync: adopts the maps, writes the difference ----
sync first
expect_line first "ipcache added=2 changed=0 removed=1 unchanged=1"
# + 8081 and the egress allow-all; - the stale 5432 key; the 8080 key is kept (renamed
# after the live rule)
expect_line first "policy added=2 removed=1 recounted=0 unchanged=1 relabelled=1"
expect_line first "enforce ingress=on egress=off (was ingress=on egress=off)"
grep -q "^-ipcache 10.99.0.200/32 -> 999$" "$H_TMP/first.out" || h_fail "stale ipcache entry kept"
grep -q "^+policy endpoint $MID ingress allow identity $WID tcp 8081 rule" "$H_TMP/first.out" ||
	h_fail "verbose output does not list the 8081 key"
h_expect_tcp_ok "$web" 10.99.0.2 8080
h_expect_tcp_ok "$web" 10.99.0.2 8081
h_expect_tcp_blocked "$db" 10.99.0.2 8080
h_expect_tcp_blocked "$web" 10.99.0.2 9090
# Events arrive asynchronously: wait for each one rather than sleeping a fixed time.
ev="$H_TMP/events.log"
h_wait_for 10 grep -q "\"verdict\":\"FORWARDED\".*\"direction\":\"ingress\".*\"src\":\"10.99.0.3\".*\"dport\":8080.*\"src_identity\":$WID,\"dst_identity\":$MID" "$ev" ||
	h_fail "no FORWARDED event web -> machine:8080 with identities $WID -> $MID"
h_wait_for 10 grep -q "\"verdict\":\"DROPPED\",\"reason\":\"policy-default-deny\".*\"src\":\"10.99.0.4\".*\"dport\":8080.*\"src_identity\":$DID,\"dst_identity\":$MID" "$ev" ||
	h_fail "no DROPPED event db -> machine:8080 with identities $DID -> $MID"
h_wait_for 10 grep -q "\"verdict\":\"DROPPED\".*\"src\":\"10.99.0.3\".*\"dport\":9090.*\"src_identity\":$WID" "$ev" ||
	h_fail "no DROPPED event web -> machine:9090"
h_log "ok: policy enforced from the store, events carry both verdicts with identities"

# ---- 2. second policy, first deleted, re-sync under a connection loop ----
cat >"$H_TMP/p2.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: billing-v2
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: billing
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: web
    ports:
    - protocol: TCP
      port: 8080
  - from:
    - ipBlock:
        cidr: 10.99.0.0/24
        except:
        - 10.99.0.6/32
    ports:
    - protocol: TCP
      port: 9090
YAML
loop_log="$H_TMP/loop.log"
: >"$loop_log"
# One new connection every ~50 ms, each a new flow judged by policy (new source port).
h_in "$web" bash -c "while [ ! -e '$H_TMP/loop.stop' ]; do
	if timeout 2 bash -c 'exec 3<>/dev/tcp/10.99.0.2/8080' 2>/dev/null; then
		echo ok; else echo FAIL; fi
	sleep 0.05; done" >>"$loop_log" &
loop_pid=$!
echo "$loop_pid" >>"$H_TMP/.pids"
# loop_made N: the loop has logged at least N attempts.
loop_made() { [ "$(wc -l <"$loop_log")" -ge "$1" ]; }
h_wait_for 10 loop_made 5 || h_fail "connection loop did not start"
ctl policy apply -f "$H_TMP/p2.yaml" >/dev/null || h_fail "policy apply p2"
ctl policy delete -n prod billing-from-web >/dev/null || h_fail "policy delete p1"
at_sync=$(wc -l <"$loop_log")
sync second
# Keep the loop going after the re-sync until it has tried 20 more connections.
h_wait_for 20 loop_made $((at_sync + 20)) || h_fail "connection loop stalled after the re-sync"
touch "$H_TMP/loop.stop"
wait "$loop_pid" || true
oks=$(grep -c '^ok$' "$loop_log" || true)
fails=$(grep -c '^FAIL$' "$loop_log" || true)
h_log "connection loop across the re-sync: $oks connected, $fails failed"
[ "$fails" -eq 0 ] || h_fail "the allowed flow broke during the re-sync ($fails attempts failed)"
[ "$oks" -ge 20 ] || h_fail "connection loop made too few attempts ($oks)"
# A diff: the 8080 key (and egress allow-all) stays, 8081 goes, one 9090 key comes; two CIDR identities
# (10.99.0.0/24 and the except 10.99.0.6/32) join the ipcache, nothing else moves.
expect_line second "ipcache added=2 changed=0 removed=0 unchanged=3"
# (relabelled: rule ids are engine-local and may or may not coincide across runs)
grep -q "^policy added=1 removed=1 recounted=0 unchanged=2 relabelled=[01]$" "$H_TMP/second.out" ||
	h_fail "sync second: policy counts: $(grep '^policy ' "$H_TMP/second.out")"
expect_line second "enforce ingress=on egress=off (was ingress=on egress=off)"
h_expect_tcp_ok "$web" 10.99.0.2 8080
h_expect_tcp_blocked "$web" 10.99.0.2 8081 # only the deleted policy allowed it
h_expect_tcp_blocked "$db" 10.99.0.2 8080
h_expect_tcp_ok "$x" 10.99.0.2 9090        # ipBlock: a CIDR identity
h_expect_tcp_blocked "$y" 10.99.0.2 9090   # except
h_expect_tcp_blocked "$x" 10.99.0.2 8080
h_log "ok: re-sync was a diff, no allowed connection failed, traffic follows the new policy"

# ---- 3. idempotence and malformed records ----
sync third
expect_line third "ipcache added=0 changed=0 removed=0 unchanged=5"
expect_line third "policy added=0 removed=0 recounted=0 unchanged=3 relabelled=0"

etcdput "${P}ipcache/10.99.0.3/32" '{"version":1,"identity":"web"}' # over a good record
etcdput "${P}ipcache/10.99.0.77/32" 'not json at all'
etcdput "${P}policies/prod/broken" '{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"broken","namespace":"prod"},"spec":{"endpointSelector":{"matchLabels":{"app":"billing"}},"ingress":[{"toPorts":[{"ports":[{"port":"99999","protocol":"TCP"}]}]}]}}'
sync bad
grep -q "ipcache/10.99.0.3/32" "$H_TMP/bad.err" || h_fail "no log line naming ipcache/10.99.0.3/32"
grep -q "ipcache/10.99.0.77/32" "$H_TMP/bad.err" || h_fail "no log line naming ipcache/10.99.0.77/32"
grep -q "policies/prod/broken" "$H_TMP/bad.err" || h_fail "no log line naming policies/prod/broken"
expect_line bad "ipcache added=0 changed=0 removed=0 unchanged=5"
expect_line bad "policy added=0 removed=0 recounted=0 unchanged=3 relabelled=0"
h_expect_tcp_ok "$web" 10.99.0.2 8080      # web keeps its identity in the datapath
h_expect_tcp_blocked "$db" 10.99.0.2 8080

# The enforcing policy itself overwritten: first with garbage (the store's loader drops
# it), then with JSON the engine rejects. Skipping it would open the machine (nothing
# enforces ingress any more); the sync falls back to its last valid version in etcd's
# history instead, two versions back.
etcdput "${P}policies/prod/billing-v2" 'garbage {'
etcdput "${P}policies/prod/billing-v2" '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"billing-v2","namespace":"prod"},"spec":{"podSelector":{"matchLabels":{"app":"billing"}},"ingress":[{"ports":[{"protocol":"TCP","port":70000}]}]}}'
sync overwritten
grep -q "policies/prod/billing-v2: .*using its last valid version" "$H_TMP/overwritten.err" ||
	h_fail "no log line naming policies/prod/billing-v2 and its fallback"
grep -q "(1 skipped, 1 from history)" "$H_TMP/overwritten.out" ||
	h_fail "expected one policy from history: $(head -1 "$H_TMP/overwritten.out")"
expect_line overwritten "ipcache added=0 changed=0 removed=0 unchanged=5"
expect_line overwritten "policy added=0 removed=0 recounted=0 unchanged=3 relabelled=0"
expect_line overwritten "enforce ingress=on egress=off (was ingress=on egress=off)"
h_expect_tcp_ok "$web" 10.99.0.2 8080
h_expect_tcp_blocked "$db" 10.99.0.2 8080
h_expect_tcp_ok "$x" 10.99.0.2 9090
h_log "ok: malformed records skipped with their keys named; nothing opened or closed"

# An unreachable store: exit 1, the maps keep the last good sync (fail-static).
set +e
h_in "$ns" "$SYNC" --store http://127.0.0.1:1 --prefix "$P" --bpffs "$H_BPFFS" \
	--identity "$MID" --once >"$H_TMP/down.out" 2>"$H_TMP/down.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || h_fail "unreachable store: exit $rc, expected 1: $(cat "$H_TMP/down.err")"
grep -q "not changed" "$H_TMP/down.err" || h_fail "unreachable store: $(cat "$H_TMP/down.err")"
h_expect_tcp_ok "$web" 10.99.0.2 8080
h_expect_tcp_blocked "$db" 10.99.0.2 8080
h_log "ok: store unreachable -> exit 1, enforcement unchanged"

h_kill "$events_pid"
h_pass "store -> engine -> datapath: enforced, diffed without a gap, fail-static on bad records"
