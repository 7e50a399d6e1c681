#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The real `pseudopod` binary against the API server with fixture state (api_fixture: the
# api and metrics modules in one poll loop, as pseudopodd drives them), on a unix socket in
# a temporary directory: no root, no network namespace. Checks the tables and -o json of
# status / observe / policy get / policy trace / identity, observe's filters and --follow, the exit
# codes, and the HTTP error paths with curl (404, 405, 400 naming the parameter, 413 for
# declared and chunked oversized bodies), then scrapes /metrics through promtool.
#
#   test_cli_api.sh API_FIXTURE PSEUDOPOD
set -euo pipefail

FIXTURE=$1
PP=$2
tmp=$(mktemp -d /tmp/pp-cli-api.XXXXXX)
sock=$tmp/run/api.sock
fixture_pid=
observer_pid=
failures=0

cleanup() {
	[ -n "$observer_pid" ] && kill "$observer_pid" 2>/dev/null && wait "$observer_pid" 2>/dev/null
	[ -n "$fixture_pid" ] && kill "$fixture_pid" 2>/dev/null && wait "$fixture_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok   $*"; }
fail() {
	echo "FAIL $*" >&2
	failures=$((failures + 1))
}
# check NAME COMMAND...: the command must succeed.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}
pp() { "$PP" "$@" --socket "$sock"; }
# run_rc WANT_RC OUT ERR ARGS...: runs pseudopod, stdout/stderr to files, checks the code.
run_rc() {
	local want=$1 out=$2 err=$3 rc=0
	shift 3
	pp "$@" >"$out" 2>"$err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "pseudopod $* -> exit $rc"
	else
		fail "pseudopod $* -> exit $rc, expected $want (stderr: $(cat "$err"))"
	fi
}
contains() { grep -qF -- "$2" "$1" || { echo "  '$2' not in $1:" >&2; cat "$1" >&2; return 1; }; }
lines() { wc -l <"$1" | tr -d ' '; }

O=$tmp/out
E=$tmp/err

# --- no daemon: a clear message naming the socket, exit 1 ---
run_rc 1 "$O" "$E" status
check "not-running message names the socket" contains "$E" "pseudopodd is not running (no API on $sock): start it with systemctl start pseudopod"

"$FIXTURE" "$sock" 127.0.0.1:0 >"$tmp/fixture.out" 2>"$tmp/fixture.err" &
fixture_pid=$!
for _ in $(seq 100); do
	grep -q '^ready' "$tmp/fixture.out" 2>/dev/null && break
	sleep 0.05
done
grep -q '^ready' "$tmp/fixture.out" || { cat "$tmp/fixture.err" >&2; echo "fixture did not start" >&2; exit 1; }
metrics_port=$(sed -n 's/^ready metrics-port=//p' "$tmp/fixture.out")
check "socket is 0600" test "$(stat -c %a "$sock")" = 600

# --socket wins; otherwise [agent] api-socket of --config; a bad --config is exit 1.
printf '[agent]\napi-socket = %s\n' "$sock" >"$tmp/good.conf"
printf '[agent]\nno-such-key = 1\n' >"$tmp/bad.conf"
rc=0
"$PP" status --config "$tmp/good.conf" >"$O" 2>"$E" || rc=$?
check "status --config: api-socket from the file" test "$rc" = 0
rc=0
"$PP" status --config "$tmp/bad.conf" >"$O" 2>"$E" || rc=$?
check "status --config BAD: exit 1" test "$rc" = 1
check "status --config BAD: says why" contains "$E" "no-such-key"

# --- status ---
run_rc 0 "$O" "$E" status
check "status: enrollment section" contains "$O" $'Enrollment:\n'
check "status: name" contains "$O" "  name:       vm-db-1"
check "status: gateway table" contains "$O" "    gw-1  192.0.2.10:51871  yes     12"
check "status: store" contains "$O" "  connected: yes"
run_rc 0 "$O" "$E" status -o json
check "status -o json" jq -e '.store.connected == true and .enrollment.identity == 300' "$O"
run_rc 2 "$O" "$E" status -o yaml
run_rc 2 "$O" "$E" status extra

# --- observe ---
run_rc 0 "$O" "$E" observe
check "observe: 5 flows" test "$(lines "$O")" = 5
check "observe: table line" contains "$O" "2026-11-29T11:40:02.123456789Z INGRESS 10.244.1.5:40001 (400 k8s:app=web,k8s:io.kubernetes.pod.namespace=prod) -> 10.99.0.2:22 (300 k8s:app=db) TCP DROPPED POLICY_DENY policy=prod/deny-ssh rule=ingressDeny[0]"
run_rc 0 "$O" "$E" observe --verdict dropped
check "observe --verdict dropped: 3 flows" test "$(lines "$O")" = 3
check "observe --verdict dropped: only drops" test "$(grep -c DROPPED "$O")" = 3
run_rc 0 "$O" "$E" observe --ip fd00::2
check "observe --ip fd00::2" test "$(lines "$O")" = 1
run_rc 0 "$O" "$E" observe --port 22
check "observe --port 22" contains "$O" "10.99.0.2:22 "
run_rc 0 "$O" "$E" observe --identity 2 --last 1
check "observe --identity 2 --last 1" test "$(lines "$O")" = 1
check "observe --identity 2 --last 1: the newest" contains "$O" "INVALID_SOURCE_IP"
run_rc 0 "$O" "$E" observe -o json --last 5
check "observe -o json: Hubble fields" jq -se '.[0].IP.source == "10.244.1.5" and
	.[0].l4.TCP.destination_port == 5432 and .[0].source.labels[0] == "k8s:app=web" and
	.[0].traffic_direction == "INGRESS" and .[0].verdict == "FORWARDED" and
	.[0].ingress_allowed_by[0].name == "allow-web-to-db" and
	.[2].drop_reason_desc == "POLICY_DENIED" and .[3].l4.ICMPv4.type == 8 and
	.[4].IP.ipVersion == "IPv6" and (.[0].time | test("^2026-11-29T11:40:01.123456789Z$"))' "$O"
run_rc 1 "$O" "$E" observe --port 99999
check "observe --port 99999: the daemon names the parameter" contains "$E" "parameter 'port'"
run_rc 2 "$O" "$E" observe --verdict maybe
run_rc 0 "$O" "$E" observe --help
check "observe --help has examples" contains "$O" "Examples:"

# --follow: the history first, then flows added while it runs (SIGUSR1 adds one).
# --last 1 sizes the history only. Each new flow is awaited before the next signal (two
# pending SIGUSR1 would merge into one).
pp observe --follow --last 1 --port 5432 >"$tmp/follow" 2>"$tmp/follow.err" &
observer_pid=$!
for n in 2 3; do
	for _ in $(seq 100); do [ "$(lines "$tmp/follow")" -ge $((n - 1)) ] && break; sleep 0.05; done
	kill -USR1 "$fixture_pid"
done
for _ in $(seq 100); do [ "$(lines "$tmp/follow")" -ge 3 ] && break; sleep 0.05; done
sleep 0.5 # a repeat would show up in the next polls
kill "$observer_pid" 2>/dev/null || true
wait "$observer_pid" 2>/dev/null || true
observer_pid=
check "observe --follow: history + 2 new flows, no repeats" test "$(lines "$tmp/follow")" = 3
check "observe --follow: first new flow" contains "$tmp/follow" "10.244.1.5:50000 "
check "observe --follow: second new flow" contains "$tmp/follow" "10.244.1.5:50001 "

# --- policy ---
run_rc 0 "$O" "$E" policy get
check "policy get: entry with its policy" contains "$O" "prod/allow-web-to-db"
check "policy get: header" contains "$O" "DIRECTION VERDICT IDENTITY"
run_rc 0 "$O" "$E" policy get -o json
check "policy get -o json" jq -e '(.entries | length) == 2 and .entries[1].verdict == "deny"' "$O"
run_rc 0 "$O" "$E" policy get --endpoint 300 -o json
check "policy get --endpoint: this machine's" jq -e '.endpoint == 300' "$O"
run_rc 1 "$O" "$E" policy get --endpoint 301
check "policy get --endpoint: another named" contains "$E" "endpoint 301: not enforced here"
run_rc 1 "$O" "$E" policy get --endpoint web
check "policy get --endpoint: bad value named" contains "$E" "parameter 'endpoint': 'web' is not a number"
run_rc 2 "$O" "$E" policy trace --src 10.244.1.5 --dst 10.99.0.2 --endpoint 300
run_rc 0 "$O" "$E" policy trace --src 10.244.1.5 --dst 10.99.0.2 --dport 5432
check "policy trace: allowed" contains "$O" "verdict: allowed"
run_rc 0 "$O" "$E" policy trace --src 10.244.1.5 --dst 10.99.0.2 --dport 22 --proto tcp -o json
check "policy trace -o json: denied" jq -e '.verdict == "denied"' "$O"
run_rc 1 "$O" "$E" policy trace --src 10.0.0.66 --dst 10.99.0.2
check "policy trace: the daemon's refusal" contains "$E" "no identity for 10.0.0.66"
run_rc 1 "$O" "$E" policy trace --src 10.244.1.5 --dst fd00::2
check "policy trace: family mismatch names dst" contains "$E" "parameter 'dst'"
run_rc 2 "$O" "$E" policy trace --src 10.244.1.5
run_rc 2 "$O" "$E" policy frobnicate
run_rc 0 "$O" "$E" policy --help
check "policy --help has examples" contains "$O" "pseudopod policy trace --src"

# --- identity ---
run_rc 0 "$O" "$E" identity
check "identity: this machine's number, kind and labels" grep -q '^400 *cluster *k8s:app=web$' "$O"
check "identity: one label per line" grep -q '^ *k8s:io.kubernetes.pod.namespace=prod$' "$O"
check "identity: who this machine is" contains "$O" "name:       web-vm"
run_rc 0 "$O" "$E" identity list
check "identity list: header" grep -q '^ID *KIND *LABELS$' "$O"
check "identity list: every identity" sh -c "grep -c '^[0-9]' '$O' | grep -qx 3"
run_rc 0 "$O" "$E" identity list -o json
check "identity list -o json" jq -e '[.identities[].id] == [2, 300, 400]' "$O"
run_rc 0 "$O" "$E" identity get 300 -o json
check "identity get -o json" jq -e '.id == 300 and .labels == ["k8s:app=db"]' "$O"
run_rc 0 "$O" "$E" identity --ip 10.99.0.2
check "identity --ip: the identity" grep -q '^400 *cluster *k8s:app=web$' "$O"
check "identity --ip: the matching prefix" contains "$O" "prefix:          10.99.0.2/32"
check "identity --ip: the tunnel endpoint" contains "$O" "tunnel_endpoint: 192.0.2.2"
run_rc 1 "$O" "$E" identity get 77
check "identity get: unknown id named" contains "$E" "77: no such identity"
run_rc 0 "$O" "$E" identity --ip 192.0.2.9
check "identity --ip: an address no prefix holds is world" grep -q '^2 *reserved *reserved:world$' "$O"
check "identity --ip: no prefix" contains "$O" "prefix:          -"
run_rc 2 "$O" "$E" identity get 12ab
check "identity get: bad id named" contains "$E" "identity '12ab' is not a number"
run_rc 2 "$O" "$E" identity get
check "identity get: needs an id" contains "$E" "get needs an identity number"
run_rc 2 "$O" "$E" identity --ip 10.0.0.0/8
check "identity --ip: bad address named" contains "$E" "--ip '10.0.0.0/8' is not an IPv4 or IPv6 address"
run_rc 2 "$O" "$E" identity list --ip 10.99.0.2
run_rc 2 "$O" "$E" identity show
check "identity: unknown subcommand named" contains "$E" "unknown subcommand 'show'"
run_rc 0 "$O" "$E" identity --help
check "identity --help has examples" contains "$O" "pseudopod identity --ip"

# --- HTTP error paths (curl) ---
# http METHOD PATH [curl args...]: prints "STATUS BODY".
http() {
	local m=$1 p=$2
	shift 2
	curl -s --unix-socket "$sock" -X "$m" -o "$tmp/body" -w '%{http_code}' "$@" "http://localhost$p"
}
check "404 unknown path" test "$(http GET /v1/nope)" = 404
check "404 body is JSON" jq -e '.error == "no such endpoint: /v1/nope"' "$tmp/body"
check "405 wrong method" test "$(http DELETE /v1/status)" = 405
check "405 Allow header" sh -c "curl -s -i --unix-socket '$sock' -X DELETE http://localhost/v1/status | grep -qi '^Allow: GET'"
check "400 bad query value" test "$(http GET '/v1/flows?port=x')" = 400
check "400 names the parameter" jq -e '.error | startswith("parameter '"'"'port'"'"'")' "$tmp/body"
check "400 unknown parameter" test "$(http GET '/v1/flows?verdicts=dropped')" = 400
many=$(for i in $(seq 33); do printf 'p%d=1&' "$i"; done)
check "400 more than 32 parameters" test "$(http GET "/v1/flows?$many")" = 400
check "400 says how many" jq -e '.error == "more than 32 query parameters"' "$tmp/body"
head -c 5000 /dev/zero | tr '\0' 'x' >"$tmp/big"
check "413 declared oversized body" test "$(http POST /v1/policy/trace --data-binary @"$tmp/big")" = 413
check "413 chunked oversized body" test "$(http POST /v1/policy/trace -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big")" = 413
check "POST trace with a JSON body" test "$(http POST /v1/policy/trace -H 'Content-Type: application/json' -d '{"src":"10.244.1.5","dst":"10.99.0.2","dport":5432}')" = 200
check "POST trace: allowed" jq -e '.verdict == "allowed"' "$tmp/body"
check "400 body not JSON" test "$(http POST /v1/policy/trace -d 'src=1')" = 400
check "the server still serves after all that" test "$(http GET /v1/status)" = 200

# --- metrics ---
check "/healthz" test "$(curl -s "http://127.0.0.1:$metrics_port/healthz")" = ok
curl -s "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics"
check "/metrics has build_info" contains "$tmp/metrics" 'pseudopod_build_info{version="'
if command -v promtool >/dev/null; then
	check "promtool check metrics on the scrape" sh -c "promtool check metrics <'$tmp/metrics'"
elif [ "${CI:-}" = true ]; then
	fail "promtool missing (apt-get install prometheus)"
else
	echo "skip promtool (not installed)"
fi

kill -USR2 "$fixture_pid"
sleep 0.2
check "/healthz 503 with the daemon's reason" test "$(curl -s -w ' %{http_code}' "http://127.0.0.1:$metrics_port/healthz")" = "store not synced
 503"
check "/metrics: 404 elsewhere" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/")" = 404

# --- shutdown removes the socket ---
kill "$fixture_pid"
wait "$fixture_pid" || true
fixture_pid=
check "socket removed at exit" test ! -e "$sock"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
