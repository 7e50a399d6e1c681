#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A watch on a 3-member loopback etcd cluster keeps delivering, exactly once, after the
# member it streams from is killed (SIGKILL): it resumes from its last revision on another
# member. Assertions in tests/unit/kv/kv_live.c (test_failover).
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_etcd_cluster 3
h_log "members $H_ETCD_URLS (pids ${H_ETCD_PIDS[*]})"
h_in "$H_ETCD_NS" env PP_ETCD="$H_ETCD_URLS" PP_ETCD_PIDS="${H_ETCD_PIDS[*]}" \
	timeout 120 "$PP_BUILD_DIR/bin/kv_live" failover || h_fail "kv_live failover failed"
h_pass "watch resumed on another member after its member was killed"
