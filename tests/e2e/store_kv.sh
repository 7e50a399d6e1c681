#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# lib/kv against a real etcd: put/get/delete with bytes that need escaping, range (prefix,
# limit, paging, keys-only, count-only, at a revision), txn compares and branches, leases,
# watch (listing, events, from a revision, progress notifications), compaction -> clean
# resync, fail-over from a dead endpoint. The assertions live in tests/unit/kv/kv_live.c.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/store.sh"
h_init
ns=$(h_ns store)
url=http://127.0.0.1:2379
# Our own etcd rather than h_etcd: progress notifications every second instead of 10 min.
store_etcd "$ns" k --experimental-watch-progress-notify-interval 1s
h_in "$ns" env PP_ETCD="$url" timeout 120 "$PP_BUILD_DIR/bin/kv_live" basic ||
	h_fail "kv_live basic failed"
h_pass "every kv client call works against etcd $(etcd --version | head -1 | awk '{print $3}')"
