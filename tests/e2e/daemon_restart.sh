#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pseudopodd survives itself: restarts under a continuous probe.
#   1. the machine (app=billing) behind a WireGuard tunnel to a gateway node with pods web
#      and db; the policy lets web reach billing's 5432 only. pseudopodd brings up the
#      tunnel (wireguard-go), loads and attaches the datapath, syncs, and is ready:
#      web -> 5432 connects, db -> 5432 and web -> 22 are dropped; `pseudopod status`,
#      `policy get` and `policy trace` answer from the live daemon.
#   2. two probes run through everything below, one connection attempt every 0.2 s each:
#      web -> 5432 must always connect (no allowed flow breaks), db -> 5432 must never
#      (no denied packet passes). A long-lived allowed connection stays open throughout.
#   3. SIGTERM: the process exits 0 and the datapath keeps enforcing with no agent; a new
#      process adopts the pins ("adopted" in its log) and its first sync writes nothing
#      (ipcache +0 ~0 -0, policy keys +0 -0): it reconciled by diff.
#   4. kill -9: the same, and the new process replaces the alive lease.
#   5. a policy change while running takes effect (web -> 22 allowed) through the watch.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "$PP_SOURCE_DIR/tests/e2e/lib/daemon.sh"
h_init
d_cluster
d_apply <<<"$D_POLICY_WEB_5432"
d_start pseudopodd-1
d_listen
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_WEB" 10.201.0.10 22

st=$(d_status)
[ "$(jq -r .enrollment.identity <<<"$st")" = "$D_VMID" ] || h_fail "status: identity"
[ "$(jq -r .store.connected <<<"$st")" = true ] || h_fail "status: store not connected"
[ "$(jq -r .policy.enforcement.ingress <<<"$st")" = true ] || h_fail "status: ingress"
[ "$(jq -r '.datapath.devices[0]' <<<"$st")" = "$D_DEV" ] || h_fail "status: devices"
"$PP_CLI" status --socket "$D_SOCK" | sed 's/^/    /' >&2
"$PP_CLI" policy get --socket "$D_SOCK" -o json | jq -e \
	'.entries[] | select(.direction == "ingress" and .ports == "5432" and
	 .policy == "prod/billing-from-web")' >/dev/null || h_fail "policy get: no 5432 entry"
"$PP_CLI" policy trace --socket "$D_SOCK" --src 10.200.1.5 --dst 10.201.0.10 --dport 5432 \
	-o json | jq -e '.verdict == "allowed"' >/dev/null || h_fail "trace web -> 5432"
"$PP_CLI" policy trace --socket "$D_SOCK" --src 10.200.1.6 --dst 10.201.0.10 --dport 5432 \
	-o json | jq -e '.verdict == "denied"' >/dev/null || h_fail "trace db -> 5432"
# identity: this machine, an address through the ipcache, every identity with its labels
"$PP_CLI" identity --socket "$D_SOCK" -o json | jq -e --argjson id "$D_VMID" \
	'.id == $id and .overlay_ip == "10.201.0.10"' >/dev/null || h_fail "identity: this machine"
"$PP_CLI" identity --socket "$D_SOCK" --ip 10.200.1.5 -o json |
	jq -e '.identity.labels | index("k8s:app=web")' >/dev/null || h_fail "identity --ip 10.200.1.5"
"$PP_CLI" identity list --socket "$D_SOCK" -o json | jq -e --argjson id "$D_VMID" \
	'.identities[] | select(.id == $id and .kind == "cluster")' >/dev/null || h_fail "identity list"

# observe: the flows from the datapath's ring buffer with both identities' labels.
"$PP_CLI" observe --socket "$D_SOCK" --last 50 -o json >"$H_TMP/flows.json"
jq -se 'map(select(.verdict == "DROPPED" and .l4.TCP.destination_port == 5432 and
	(.source.labels | index("k8s:app=db")))) | length > 0' "$H_TMP/flows.json" >/dev/null ||
	h_fail "observe: no dropped db -> 5432 flow with labels: $(head -c 600 "$H_TMP/flows.json")"
jq -se 'map(select(.verdict == "FORWARDED" and .l4.TCP.destination_port == 5432 and
	.ingress_allowed_by[0].key == "prod/billing-from-web")) | length > 0' "$H_TMP/flows.json" \
	>/dev/null || h_fail "observe: no forwarded web -> 5432 flow naming its policy"
# metrics: the Prometheus text passes promtool (when installed; the unit tests require it
# under CI=true), with the datapath's counters and the store gauges.
h_in "$D_VM" curl -sf http://127.0.0.1:9962/metrics >"$H_TMP/metrics.txt" || h_fail "/metrics"
grep -q '^pseudopod_store_connected 1' "$H_TMP/metrics.txt" || h_fail "metrics: store_connected"
grep -q '^pseudopod_drop_count_total{reason="policy-default-deny",direction="ingress"}' \
	"$H_TMP/metrics.txt" || h_fail "metrics: no default-deny drops counted"
if command -v promtool >/dev/null; then
	promtool check metrics <"$H_TMP/metrics.txt" || h_fail "promtool check metrics"
fi

# The probes: one file line per attempt, "ok" or "fail".
probe() {
	local ns=$1 port=$2 out=$3
	while [ -e "$H_TMP/probing" ]; do
		if h_tcp_connect "$ns" 10.201.0.10 "$port" 1; then echo ok; else echo fail; fi >>"$out"
		sleep 0.2
	done
}
touch "$H_TMP/probing"
probe "$D_WEB" 5432 "$H_TMP/allowed.probe" &
p1=$!
probe "$D_DB" 5432 "$H_TMP/denied.probe" &
p2=$!
h_on_exit "rm -f '$H_TMP/probing'; kill $p1 $p2 2>/dev/null || true"
# A long-lived allowed connection: a line every 0.2 s over one TCP connection.
h_spawn "$D_WEB" longconn bash -c \
	'exec 3<>/dev/tcp/10.201.0.10/5432; while echo tick >&3; do sleep 0.2; done; echo broken' \
	>/dev/null
sleep 2

h_log "SIGTERM: the datapath must keep enforcing with no agent"
d_stop_term
sleep 3
[ -d "$D_BPFFS" ] || h_fail "pins removed on SIGTERM"
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
d_start pseudopodd-2
grep -q "adopted the pins" "$H_TMP/pseudopodd-2.log" || h_fail "restart did not adopt the pins"
grep -q "ipcache +0 ~0 -0, policy keys +0 -0" "$H_TMP/pseudopodd-2.log" ||
	h_fail "restart sync was not an empty diff: $(grep 'initial sync' "$H_TMP/pseudopodd-2.log")"
sleep 2

h_log "kill -9"
kill -9 "$D_PID"
wait "$D_PID" 2>/dev/null || true
sleep 3
d_start pseudopodd-3
grep -q "ipcache +0 ~0 -0, policy keys +0 -0" "$H_TMP/pseudopodd-3.log" ||
	h_fail "restart after kill -9 was not an empty diff"
sleep 2

h_log "a live policy change through the watch: allow 22 from web"
d_apply <<<"${D_POLICY_WEB_5432/\"5432\", protocol: TCP\}/\"5432\", protocol: TCP\}, \{port: \"22\", protocol: TCP\}}"
h_wait_for 5 h_tcp_connect "$D_WEB" 10.201.0.10 22 1 || h_fail "policy change did not apply"
h_expect_tcp_blocked "$D_DB" 10.201.0.10 22

rm -f "$H_TMP/probing"
wait "$p1" "$p2"
ok=$(grep -c ok "$H_TMP/allowed.probe" || true)
bad=$(grep -c fail "$H_TMP/allowed.probe" || true)
leak=$(grep -c ok "$H_TMP/denied.probe" || true)
tries=$(wc -l <"$H_TMP/denied.probe")
h_log "allowed probe: $ok connected, $bad failed; denied probe: $leak of $tries connected"
[ "$bad" -eq 0 ] || h_fail "an allowed flow broke during a restart ($bad attempts)"
[ "$leak" -eq 0 ] || h_fail "a denied flow passed during a restart ($leak attempts)"
[ "$ok" -gt 20 ] || h_fail "the allowed probe barely ran ($ok)"
grep -q broken "$H_TMP/longconn.log" && h_fail "the long-lived connection broke"
d_stop_term
h_pass "restarts (SIGTERM, kill -9) under probe: no allowed flow broke, no denied one passed"
