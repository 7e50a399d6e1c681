#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pseudopodd's loop sleeps in poll() on a kv watch's fd with no timer and a store event
# wakes it (tests/unit/agent/loop_watch_live.c has the assertions).
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/store.sh"
h_init
ns=$(h_ns store)
store_etcd "$ns" lw
h_in "$ns" env PP_ETCD=http://127.0.0.1:2379 timeout 60 "$PP_BUILD_DIR/bin/loop_watch_live" ||
	h_fail "loop_watch_live failed"
h_pass "a store event wakes the loop; an idle watch asks for no wake-up"
