#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pseudopodd survives the store going away (fail-mode = static).
#   1. the restart test's cluster; the daemon synced and enforcing.
#   2. etcd is stopped for PP_OUTAGE_S seconds (default 30, as issue 13 asks):
#      enforcement is unchanged (web -> 5432 connects, db -> 5432 dropped), `pseudopod
#      status` says the store is stale (JSON: store.connected false, store.stale true; the
#      table shows "stale"), the API keeps answering.
#   3. etcd comes back: the daemon reconnects, the watch resumes from the last revision
#      (no second snapshot sync: store.snapshot_syncs stays 1) and a policy change made
#      after the outage takes effect.
#   4. compaction: the daemon is frozen (SIGSTOP) across an etcd restart, a policy change
#      and a compaction past its revision; thawed, its watch cannot resume, lists again, and
#      the daemon resyncs by snapshot (store.snapshot_syncs 2) — the change is enforced,
#      nothing else moved.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "$PP_SOURCE_DIR/tests/e2e/lib/daemon.sh"
OUTAGE=${PP_OUTAGE_S:-30}
h_init
d_cluster
d_apply <<<"$D_POLICY_WEB_5432"
d_start
d_listen
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
rev=$(d_status | jq -r .store.revision)

h_log "stopping etcd for ${OUTAGE}s"
t0=$(date +%s)
d_etcd_stop
stale() { d_status | jq -e '.store.stale == true and .store.connected == false'; }
h_wait_for 15 stale || h_fail "status does not say stale while etcd is down"
"$PP_CLI" status --socket "$D_SOCK" | tee "$H_TMP/status-stale.txt" | sed 's/^/    /' >&2
grep -qi stale "$H_TMP/status-stale.txt" || h_fail "the status table does not say stale"
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_WEB" 10.201.0.10 22
left=$((OUTAGE - ($(date +%s) - t0)))
[ $left -gt 0 ] && sleep $left
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432

h_log "etcd back"
d_etcd_start
connected() { d_status | jq -e '.store.connected == true and .store.stale == false'; }
h_wait_for 20 connected || h_fail "the daemon did not reconnect"
d_apply <<<"${D_POLICY_WEB_5432/\"5432\", protocol: TCP\}/\"5432\", protocol: TCP\}, \{port: \"22\", protocol: TCP\}}"
h_wait_for 10 h_tcp_connect "$D_WEB" 10.201.0.10 22 1 || h_fail "policy change after the outage"
st=$(d_status)
[ "$(jq -r .store.snapshot_syncs <<<"$st")" = 1 ] ||
	h_fail "the watch did not resume: $(jq -c .store <<<"$st")"
[ "$(jq -r .store.revision <<<"$st")" -gt "$rev" ] || h_fail "revision did not move"

h_log "compaction while the daemon is frozen"
kill -STOP "$D_PID"
d_etcd_stop
d_etcd_start
ctl policy delete prod/billing-from-web >/dev/null 2>&1 ||
	h_in "$D_STORE" etcdctl --endpoints "$D_URL" del "${D_PREFIX}policies/prod/billing-from-web" >/dev/null
d_apply <<<"$D_POLICY_WEB_5432"
rev=$(h_in "$D_STORE" etcdctl --endpoints "$D_URL" endpoint status -w json | jq '.[0].Status.header.revision')
h_in "$D_STORE" etcdctl --endpoints "$D_URL" compact "$rev" >/dev/null || h_fail "compact"
kill -CONT "$D_PID"
resynced() { d_status | jq -e '.store.snapshot_syncs == 2 and .store.connected'; }
h_wait_for 30 resynced || h_fail "no snapshot resync after compaction: $(d_status | jq -c .store)"
grep -q "revision compacted" "$H_TMP/pseudopodd.log" || h_fail "the reset was not logged"
h_expect_tcp_blocked "$D_WEB" 10.201.0.10 22
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
d_stop_term
h_pass "a ${OUTAGE}s store outage: enforcement unchanged, status stale, watch resumed; compaction resynced"
