#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs pp-store-bench against a fresh etcd in its own network namespace (the e2e harness
# builds and removes it). Arguments are passed on: --quick (the ctest run), --json.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
ns=$(h_ns bench)
url=$(h_etcd "$ns")
h_in "$ns" "$PP_BUILD_DIR/bin/pp-store-bench" --endpoints "$url" "$@" || h_fail "pp-store-bench failed"
