#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Harness smoke test: a wireguard-go tunnel between two hosts, configured with plain `wg`,
# carries TCP. (pseudopod's own WireGuard code has its own tests under tests/e2e/tunnel_*.)
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_underlay
a=$(h_host a 10.99.0.2/24)
b=$(h_host b 10.99.0.3/24)

h_wg_pair "$a" 10.99.0.2 "$b" 10.99.0.3 10.98.0.1 10.98.0.2 # sets wga, wgb

h_tcp_listen "$b" 10.98.0.2 7000
h_expect_tcp_ok "$a" 10.98.0.2 7000
hs=$(h_in "$a" wg show "$wga" latest-handshakes | awk '{print $2}')
[ "${hs:-0}" -gt 0 ] || h_fail "no WireGuard handshake recorded"
h_pass "wireguard-go tunnel carries TCP (handshake at $hs)"
