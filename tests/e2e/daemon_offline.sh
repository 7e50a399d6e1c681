#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pseudopodd starting without its store.
#   1. offline reboot: the daemon ran and wrote its policy snapshot
#      (<state-dir>/policy.snapshot); then it stops, etcd stops, and the pins are unloaded
#      and the programs detached (a reboot: nothing in bpffs, nothing attached — db -> 5432
#      now connects, the simulation is real). A new daemon with etcd down loads fresh maps,
#      writes the snapshot into them and only then attaches: web -> 5432 connects, db ->
#      5432 and web -> 22 are dropped; status says policy source "snapshot", store stale.
#      etcd back: the daemon syncs from the store by diff (source "store").
#   2. fail-mode = closed: the daemon stops with a long-lived allowed connection open,
#      etcd stops, the snapshot is deleted; a daemon in closed mode adopts the pins,
#      finds no store and no snapshot, and withdraws every allow: the established
#      connection keeps flowing, new connections (web -> 5432 included) are dropped.
#      etcd back: web -> 5432 connects again.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "$PP_SOURCE_DIR/tests/e2e/lib/daemon.sh"
h_init
d_cluster
d_apply <<<"$D_POLICY_WEB_5432"
d_start pseudopodd-1
d_listen
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
h_wait_for 10 test -s "$D_STATE/policy.snapshot" || h_fail "no snapshot written"
d_stop_term

h_log "offline reboot: etcd down, pins unloaded, programs detached"
d_etcd_stop
"$PPDP" detach --dev "$D_DEV" --netns "/run/netns/$D_VM" || h_fail "detach"
"$PPDP" unload --bpffs "$D_BPFFS" || h_fail "unload"
h_expect_tcp_ok "$D_DB" 10.201.0.10 5432 # nothing enforces now
d_start pseudopodd-2
st=$(d_status)
[ "$(jq -r .policy.source <<<"$st")" = snapshot ] || h_fail "source: $(jq -c .policy <<<"$st")"
[ "$(jq -r .store.stale <<<"$st")" = true ] || h_fail "store not stale"
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_WEB" 10.201.0.10 22
d_etcd_start
from_store() { d_status | jq -e '.policy.source == "store"'; }
h_wait_for 20 from_store || h_fail "no sync once etcd came back"
grep -q "ipcache +0 ~0 -0, policy keys +0 -0" "$H_TMP/pseudopodd-2.log" ||
	h_fail "the store sync after the snapshot was not an empty diff"
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432

h_log "fail-mode = closed with no store and no snapshot"
h_spawn "$D_WEB" longconn bash -c \
	'exec 3<>/dev/tcp/10.201.0.10/5432; while echo tick >&3; do sleep 0.2; done; echo broken' \
	>/dev/null
sleep 1
d_stop_term
d_etcd_stop
rm -f "$D_STATE/policy.snapshot"
sed -i 's/^fail-mode = .*/fail-mode = closed/' "$D_CONF"
d_start pseudopodd-3
[ "$(d_status | jq -r .policy.source)" = fail-closed ] || h_fail "not fail-closed"
h_expect_tcp_blocked "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
sleep 2
grep -q broken "$H_TMP/longconn.log" && h_fail "the established connection broke"
d_etcd_start
h_wait_for 20 from_store || h_fail "no sync once etcd came back (closed)"
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
d_stop_term
h_pass "offline start from the snapshot; fail-closed keeps only established flows"
