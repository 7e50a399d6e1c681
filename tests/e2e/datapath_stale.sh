#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Stale programs (issue 10 item 4): after `unload` + `load` without `attach`, the device
# still runs the old programs on maps that are no longer pinned, and writes into the new
# pins do not reach them. Machine "a" (identity 300) runs the workload programs on ul0,
# "b" (identity 400) is the peer.
#   1. load notices and fails loudly, naming the device; status shows the program ids and
#      "NOT PINNED" (exit 1) while the old policy is still what is enforced;
#   2. once the new maps hold the new policy, status --reattach (the library's
#      dp_attached_check with reattach) puts the pinned programs in place: the new policy
#      is enforced and status is clean (exit 0);
#   3. a reload that adopts the pinned maps (the upgrade path) is not stale: load succeeds
#      and status shows the older program on the pinned maps.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_underlay
a=$(h_host a 10.99.0.2/24)
b=$(h_host b 10.99.0.3/24)
NS="/run/netns/$a"

h_datapath
policy() { # PORT: allow a -> b tcp PORT only
	pd ipcache add 10.99.0.3/32 400 || h_fail "ipcache add"
	pd policy add --dir egress --identity 400 --proto tcp --port "$1" --rule 1 ||
		h_fail "policy add"
}
pd load --mode workload --identity 300 --netns "$NS" || h_fail "load"
policy 8080
h_dp_attach "$a" ul0
h_tcp_listen "$b" 10.99.0.3 8080
h_tcp_listen "$b" 10.99.0.3 8081
h_expect_tcp_ok "$a" 10.99.0.3 8080
h_expect_tcp_blocked "$a" 10.99.0.3 8081
pd status --netns "$NS" --dev ul0 >"$H_TMP/status0" || h_fail "status before the unload: $(cat "$H_TMP/status0")"
old_id=$(awk '$1 == "ul0" && $2 == "ingress" {print $4}' "$H_TMP/status0")
[ -n "$old_id" ] || h_fail "status shows no ingress program on ul0: $(cat "$H_TMP/status0")"

# ---- 1. unload + load without attach ----
pd unload || h_fail "unload"
rc=0
pd load --mode workload --identity 300 --netns "$NS" 2>"$H_TMP/load.err" || rc=$?
cat "$H_TMP/load.err" >&2
[ $rc -eq 1 ] || h_fail "load over stale attached programs should fail (exit 1), got $rc"
grep -q "ul0 ingress runs program $old_id .*not the ones pinned" "$H_TMP/load.err" ||
	h_fail "load does not name ul0 and program $old_id"
h_log "ok: load fails loudly: stale program $old_id on ul0"
rc=0
pd status --netns "$NS" --dev ul0 >"$H_TMP/status1" 2>/dev/null || rc=$?
cat "$H_TMP/status1" >&2
[ $rc -eq 1 ] || h_fail "status with a stale program should exit 1, got $rc"
grep -q "^ul0 *ingress *eth *$old_id .*NOT PINNED" "$H_TMP/status1" || h_fail "status does not show the stale ingress program"
grep -q "^ul0 *egress *eth .*NOT PINNED" "$H_TMP/status1" || h_fail "status does not show the stale egress program"
pd status --netns "$NS" --dev ul0 --json >"$H_TMP/status1.json" 2>/dev/null || true
grep -q "\"prog_id\": *$old_id,.*\"pinned_maps\": *false" "$H_TMP/status1.json" ||
	h_fail "status --json does not report pinned_maps false: $(cat "$H_TMP/status1.json")"
# the new pins get a policy that only allows 8081; the old programs still enforce 8080
policy 8081
h_expect_tcp_ok "$a" 10.99.0.3 8080
h_expect_tcp_blocked "$a" 10.99.0.3 8081
h_log "ok: the stale program still enforces the orphaned policy (what status reports)"

# ---- 2. reattach once the maps are filled ----
pd status --netns "$NS" --dev ul0 --reattach >"$H_TMP/status2" || h_fail "status --reattach failed"
cat "$H_TMP/status2" >&2
grep -q "NOT PINNED" "$H_TMP/status2" && h_fail "still stale after --reattach"
new_id=$(awk '$1 == "ul0" && $2 == "ingress" {print $4}' "$H_TMP/status2")
[ "$new_id" != "$old_id" ] || h_fail "reattach kept program $old_id"
h_expect_tcp_ok "$a" 10.99.0.3 8081
h_expect_tcp_blocked "$a" 10.99.0.3 8080
h_log "ok: reattached ($old_id -> $new_id), the pinned maps' policy is enforced"

# ---- 3. a reload that adopts the maps is not stale ----
pd load --mode workload --identity 300 --netns "$NS" || h_fail "reload adopting the maps reported stale programs"
pd status --netns "$NS" --dev ul0 >"$H_TMP/status3" || h_fail "status after an adopting reload: $(cat "$H_TMP/status3")"
grep -q "^ul0 *ingress *eth *$new_id .*pinned (older program)" "$H_TMP/status3" ||
	h_fail "status does not show the older program on the pinned maps: $(cat "$H_TMP/status3")"
h_expect_tcp_ok "$a" 10.99.0.3 8081
h_pass
