#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pseudopodd on a 3-member etcd cluster survives losing the member it talks to.
#   1. the restart test's cluster with a 3-member store (D_ETCD_MEMBERS=3); the daemon's
#      [store] endpoints lists all three, the first first; synced and enforcing.
#   2. two probes (web -> 5432 allowed, db -> 5432 denied), an attempt every 0.2 s each.
#   3. the first member is killed (SIGKILL): the daemon moves to another member; status says
#      the store is connected again within 10 s, the watch resumed from its revision (no
#      second snapshot sync), and a policy change made through a surviving member takes
#      effect; no allowed attempt failed and no denied one connected throughout.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "$PP_SOURCE_DIR/tests/e2e/lib/daemon.sh"
h_init
D_ETCD_MEMBERS=3
d_cluster
d_apply <<<"$D_POLICY_WEB_5432"
d_start
d_listen
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
[ "$(d_status | jq -r .store.snapshot_syncs)" = 1 ] || h_fail "more than one snapshot sync"

probe() {
	local ns=$1 out=$2
	while [ -e "$H_TMP/probing" ]; do
		if h_tcp_connect "$ns" 10.201.0.10 5432 1; then echo ok; else echo fail; fi >>"$out"
		sleep 0.2
	done
}
touch "$H_TMP/probing"
probe "$D_WEB" "$H_TMP/allowed.probe" &
p1=$!
probe "$D_DB" "$H_TMP/denied.probe" &
p2=$!
h_on_exit "rm -f '$H_TMP/probing'; kill $p1 $p2 2>/dev/null || true"
sleep 2

h_log "killing member m1 (the daemon's first endpoint)"
kill -9 "${D_ETCD_PIDS[1]}"
# Survivors only from here: ctl would otherwise try the dead member first on every call.
D_URL="http://10.99.0.10:2389,http://10.99.0.10:2399"
connected() { d_status | jq -e '.store.connected == true and .store.stale != true' >/dev/null; }
sleep 1
h_wait_for 10 connected || h_fail "store not connected 10 s after losing one member of three"

h_log "a policy change through the survivors: allow 22 from web"
d_apply <<<"${D_POLICY_WEB_5432/\"5432\", protocol: TCP\}/\"5432\", protocol: TCP\}, \{port: \"22\", protocol: TCP\}}"
h_wait_for 10 h_tcp_connect "$D_WEB" 10.201.0.10 22 1 ||
	h_fail "policy change did not apply after the member loss"
st=$(d_status)
[ "$(jq -r .store.snapshot_syncs <<<"$st")" = 1 ] ||
	h_fail "the watch did not resume: $(jq -c .store <<<"$st")"
# The watch streamed from m1 (the first endpoint): it must have reconnected elsewhere.
[ "$(jq -r .store.watch_reconnects <<<"$st")" -ge 1 ] ||
	h_fail "the watch never left the killed member: $(jq -c .store <<<"$st")"
h_log "store after the loss: $(jq -c '.store | {connected, watch_reconnects, snapshot_syncs}' <<<"$st")"
sleep 1
rm -f "$H_TMP/probing"
wait "$p1" "$p2" 2>/dev/null || true

allowed_fail=$(grep -c fail "$H_TMP/allowed.probe" || true)
denied_ok=$(grep -c ok "$H_TMP/denied.probe" || true)
h_log "probes: allowed $(wc -l <"$H_TMP/allowed.probe") attempts, $allowed_fail failed;" \
	"denied $(wc -l <"$H_TMP/denied.probe") attempts, $denied_ok connected"
[ "$allowed_fail" = 0 ] || h_fail "$allowed_fail allowed attempts failed"
[ "$denied_ok" = 0 ] || h_fail "$denied_ok denied attempts connected"
h_pass "one member of three lost: enforcement unchanged, the watch resumed on a survivor"
