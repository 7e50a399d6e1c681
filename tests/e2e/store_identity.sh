#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# lib/store against a real etcd: identity allocation (same labels -> same id, 16 concurrent
# allocators agree on one id, reserved ids never handed out, exhaustion is a clear error),
# gc and its guard against a concurrent user, malformed records skipped by every loader,
# all-or-nothing policy puts. Assertions in tests/unit/store/store_live.c.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
ns=$(h_ns store)
url=$(h_etcd "$ns")
h_in "$ns" env PP_ETCD="$url" timeout 120 "$PP_BUILD_DIR/bin/store_live" ||
	h_fail "store_live failed"
h_pass "identity allocation, gc and defensive loaders work against etcd"
