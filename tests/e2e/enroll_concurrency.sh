#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Enrollment under concurrency and failure, with etcd TLS + auth and two server instances:
# 16 parallel redemptions of one token -> exactly one success, 15 clear "already used",
# one workload record, one overlay IP; 16 machines with 16 tokens at once -> 16 distinct
# overlay IPs; the server killed (SIGKILL) just before its txn -> no half-registered
# workload, the token still works; the workload CIDR exhausted -> a clear error and the
# token not consumed.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/enroll.sh"
h_init
enroll_cluster
enroll_serve
h_spawn "$ns" serve2 "$CTL" serve --pki-dir "$PKI" --listen 127.0.0.1 --port 9444 --rate 100000 \
	"${STORE[@]}" >/dev/null
h_wait_for 20 h_in "$ns" curl -sf -m 2 --cacert "$PKI/ca.crt" https://127.0.0.1:9444/healthz || h_fail "serve2"

# Enrolls machine $1 with join $2 in the background; result in $H_TMP/r-$1.{rc,out}.
bg_enroll() {
	local conf
	conf=$(machine "$1")
	(
		set +e
		h_in "$ns" "$PP" enroll --config "$conf" --no-start --underlay-ip 10.99.0.20 --name "$1" \
			"$2" >"$H_TMP/r-$1.out" 2>&1
		echo $? >"$H_TMP/r-$1.rc"
	) &
	BG+=($!)
}
# Waits for the enrollments only (the servers are children of this shell too).
BG=()
wait_bg() {
	local p
	for p in "${BG[@]}"; do wait "$p" || true; done
	BG=()
}
# The same join string pointed at the second instance (the URL is part of the payload).
to_9444() {
	local p
	p=$(cut -d. -f2 <<<"$1" | tr '_-' '/+')
	while [ $((${#p} % 4)) -ne 0 ]; do p+="="; done
	printf 'pp1.%s' "$(base64 -d <<<"$p" | jq -c '.url = "https://127.0.0.1:9444"' | base64 -w0 | tr '/+' '_-' | tr -d '=')"
}
wl_count() { e get "${P}workloads/" --prefix --keys-only | grep -c . || true; }

# ---- 16 parallel redemptions of one token ----
j=$(token --labels app=race --namespace prod)
j2=$(to_9444 "$j")
for i in $(seq 1 16); do
	if [ $((i % 2)) -eq 0 ]; then bg_enroll "race$i" "$j"; else bg_enroll "race$i" "$j2"; fi
done
wait_bg
ok=0 used=0
for i in $(seq 1 16); do
	rc=$(cat "$H_TMP/r-race$i.rc")
	if [ "$rc" = 0 ]; then
		ok=$((ok + 1))
	elif grep -q "token_used" "$H_TMP/r-race$i.out"; then
		used=$((used + 1))
	else
		h_fail "race$i: rc $rc: $(cat "$H_TMP/r-race$i.out")"
	fi
done
[ $ok -eq 1 ] && [ $used -eq 15 ] || h_fail "one token, 16 redemptions: $ok succeeded, $used refused as used"
[ "$(wl_count)" = 1 ] || h_fail "workload records: $(wl_count)"
[ "$(e get "${P}ipcache/" --prefix --keys-only | grep -c .)" = 1 ] || h_fail "ipcache entries"
[ "$(etcd_users | grep -c '^pp_wl_')" = 1 ] || h_fail "etcd users left by the losers: $(etcd_users)"
h_log "ok: 16 redemptions of one token: 1 success, 15 'already used', 1 record, 1 IP"

# ---- 16 machines, 16 tokens, at once ----
for i in $(seq 1 16); do
	t=$(token --labels app=fleet --namespace prod)
	[ $((i % 2)) -eq 0 ] || t=$(to_9444 "$t")
	echo "$t" >"$H_TMP/t$i"
done
for i in $(seq 1 16); do bg_enroll "fleet$i" "$(cat "$H_TMP/t$i")"; done
wait_bg
for i in $(seq 1 16); do
	[ "$(cat "$H_TMP/r-fleet$i.rc")" = 0 ] || h_fail "fleet$i: $(cat "$H_TMP/r-fleet$i.out")"
done
ips=$(e get "${P}workloads/" --prefix --print-value-only | jq -r .overlay_ip | sort)
[ "$(wc -l <<<"$ips")" = 17 ] && [ "$(sort -u <<<"$ips" | wc -l)" = 17 ] ||
	h_fail "overlay IPs not distinct: $ips"
[ "$(e get "${P}ipcache/" --prefix --keys-only | grep -c .)" = 17 ] || h_fail "ipcache entries"
h_log "ok: 16 tokens at once: 16 distinct overlay IPs"

# ---- the server killed just before its txn ----
SLOW=$(h_spawn "$ns" serve3 env PSEUDOPOD_ENROLL_TEST_PAUSE_MS=3000 "$CTL" serve --pki-dir "$PKI" \
	--listen 127.0.0.1 --port 9445 "${STORE[@]}")
h_wait_for 20 h_in "$ns" curl -sf -m 2 --cacert "$PKI/ca.crt" https://127.0.0.1:9445/healthz || h_fail "serve3"
t=$(token --labels app=crash --namespace prod --name crash1)
p=$(cut -d. -f2 <<<"$t" | tr '_-' '/+')
while [ $((${#p} % 4)) -ne 0 ]; do p+="="; done
t=$(printf 'pp1.%s' "$(base64 -d <<<"$p" | jq -c '.url = "https://127.0.0.1:9445"' | base64 -w0 | tr '/+' '_-' | tr -d '=')")
tid=$(ctl token list -o json | jq -r '.[] | select(.name == "crash1") | .id')
bg_enroll crash1 "$t"
h_wait_for 10 grep -q "GET /v1/ca\|path=/v1/ca" "$H_TMP/serve3.log" || h_fail "client never reached serve3"
sleep 1.5 # inside the 3 s pause before the commit
kill -9 "$SLOW"
wait_bg
[ "$(cat "$H_TMP/r-crash1.rc")" = 1 ] || h_fail "crash1 should have failed: $(cat "$H_TMP/r-crash1.out")"
[ -z "$(e get "${P}workloads/crash1" --prefix --keys-only)" ] || h_fail "half-registered workload"
[ ! -e "$H_TMP/m-crash1/state/enrollment.json" ] || h_fail "state written for a failed enrollment"
[ "$(ctl token list -o json | jq -r ".[] | select(.id == \"$tid\") | .uses_left")" = 1 ] ||
	h_fail "token consumed by the killed server"
h_spawn "$ns" serve3b "$CTL" serve --pki-dir "$PKI" --listen 127.0.0.1 --port 9445 "${STORE[@]}" >/dev/null
h_wait_for 20 h_in "$ns" curl -sf -m 2 --cacert "$PKI/ca.crt" https://127.0.0.1:9445/healthz || h_fail "serve3b"
bg_enroll crash1 "$t"
wait_bg
[ "$(cat "$H_TMP/r-crash1.rc")" = 0 ] || h_fail "retry after the crash: $(cat "$H_TMP/r-crash1.out")"
h_log "ok: server killed before its txn: nothing registered, token still usable"

# ---- workload CIDR exhausted ----
ctl init --cluster-name lab --cluster-id 7 --pod-cidr 10.200.0.0/16 --workload-cidr 10.202.0.0/30 \
	--force >/dev/null || h_fail "init --force"
for i in 1 2; do
	bg_enroll "full$i" "$(token --labels app=full --namespace prod)"
	wait_bg
	[ "$(cat "$H_TMP/r-full$i.rc")" = 0 ] || h_fail "full$i: $(cat "$H_TMP/r-full$i.out")"
done
t=$(token --labels app=full --namespace prod --name full3)
tid=$(ctl token list -o json | jq -r '.[] | select(.name == "full3") | .id')
bg_enroll full3 "$t"
wait_bg
grep -q "cidr_exhausted" "$H_TMP/r-full3.out" && grep -q "10.202.0.0/30 is full" "$H_TMP/r-full3.out" ||
	h_fail "exhausted: $(cat "$H_TMP/r-full3.out")"
[ "$(ctl token list -o json | jq -r ".[] | select(.id == \"$tid\") | .uses_left")" = 1 ] ||
	h_fail "token consumed although the CIDR is full"
e get "${P}workloads/" --prefix --print-value-only | jq -r .overlay_ip | grep -c '^10\.202\.0\.[12]$' | grep -qx 2 ||
	h_fail "the /30 did not give .1 and .2"
h_pass "concurrency: one token once, distinct IPs, crash before commit, CIDR exhausted"
