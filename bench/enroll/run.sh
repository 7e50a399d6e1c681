#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs pp-enroll-bench against a fresh etcd and a real `pseudopodctl serve` in their own
# network namespace (the e2e harness builds and removes them). Arguments are passed on:
# --quick (the ctest run), --json, --count N, --clients N.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
ns=$(h_ns bench)
url=$(h_etcd "$ns")
ctl=$(h_bin pseudopodctl)
P="/bench$H_RUN/"
h_in "$ns" "$ctl" init --cluster-name bench --cluster-id 1 --pod-cidr 10.200.0.0/16 \
	--workload-cidr 10.201.0.0/16 --store "$url" --store-prefix "$P" >/dev/null || h_fail "init"
h_in "$ns" "$ctl" init --pki-dir "$H_TMP/pki" --server-ip 127.0.0.1 >/dev/null || h_fail "pki"
h_spawn "$ns" serve "$ctl" serve --pki-dir "$H_TMP/pki" --listen 127.0.0.1 --port 9443 \
	--rate 1000000 --threads 8 --store "$url" --store-prefix "$P" >/dev/null
h_wait_for 20 h_in "$ns" curl -sf -m 2 --cacert "$H_TMP/pki/ca.crt" https://127.0.0.1:9443/healthz ||
	h_fail "serve did not start"
h_in "$ns" "$PP_BUILD_DIR/bin/pp-enroll-bench" --store "$url" --prefix "$P" \
	--server https://127.0.0.1:9443 --pki-dir "$H_TMP/pki" --work-dir "$H_TMP/work" "$@" ||
	h_fail "pp-enroll-bench failed"
