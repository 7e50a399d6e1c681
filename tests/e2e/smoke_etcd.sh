#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Harness smoke test: a real etcd in one namespace, reached from another namespace over the
# underlay through its v3 JSON gateway (put, then range returns the value).
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_underlay
store=$(h_host store 10.99.0.10/24)
client=$(h_host client 10.99.0.11/24)
url=$(h_etcd "$store")
h_log "etcd at $url"

key=$(printf 'smoke/%s' "$H_RUN" | base64 -w0)
val=$(printf 'alive' | base64 -w0)
h_in "$client" curl -sf -m 5 -X POST -d "{\"key\":\"$key\",\"value\":\"$val\"}" "$url/v3/kv/put" >/dev/null ||
	h_fail "put through the JSON gateway failed"
got=$(h_in "$client" curl -sf -m 5 -X POST -d "{\"key\":\"$key\"}" "$url/v3/kv/range" |
	jq -r '.kvs[0].value' | base64 -d)
[ "$got" = "alive" ] || h_fail "range returned '$got', expected 'alive'"
h_pass "etcd reachable from another namespace via its JSON gateway"
