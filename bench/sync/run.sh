#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs pp-sync-bench against a fresh etcd in its own network namespace (the e2e harness
# builds and removes it). Arguments are passed on: --quick (the ctest bench run),
# --scale-check (the e2e_sync_scale bound), --json, --rounds N, --sizes N,N.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
ns=$(h_ns bench)
url=$(h_etcd "$ns")
h_in "$ns" "$PP_BUILD_DIR/bin/pp-sync-bench" --endpoints "$url" "$@" || h_fail "pp-sync-bench failed"
