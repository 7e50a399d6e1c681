#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Harness smoke test: a wireguard-go tunnel between two hosts, configured with plain `wg`,
# carries TCP. (pseudopod's own WireGuard code has its own tests under tests/e2e/tunnel_*.)
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_underlay
a=$(h_host a 10.99.0.2/24)
b=$(h_host b 10.99.0.3/24)

# wireguard-go's UAPI sockets share /var/run/wireguard: names unique to this run.
wga="wga$H_RUN"
wgb="wgb$H_RUN"
(umask 077; wg genkey >"$H_TMP/a.key"; wg genkey >"$H_TMP/b.key")
h_wireguard_go "$a" "$wga"
h_wireguard_go "$b" "$wgb"
h_in "$a" wg set "$wga" private-key "$H_TMP/a.key" listen-port 51871 \
	peer "$(wg pubkey <"$H_TMP/b.key")" endpoint 10.99.0.3:51871 allowed-ips 10.98.0.2/32
h_in "$b" wg set "$wgb" private-key "$H_TMP/b.key" listen-port 51871 \
	peer "$(wg pubkey <"$H_TMP/a.key")" endpoint 10.99.0.2:51871 allowed-ips 10.98.0.1/32
h_in "$a" ip addr add 10.98.0.1/24 dev "$wga"
h_in "$b" ip addr add 10.98.0.2/24 dev "$wgb"
h_in "$a" ip link set "$wga" up
h_in "$b" ip link set "$wgb" up

h_tcp_listen "$b" 10.98.0.2 7000
h_expect_tcp_ok "$a" 10.98.0.2 7000
hs=$(h_in "$a" wg show "$wga" latest-handshakes | awk '{print $2}')
[ "${hs:-0}" -gt 0 ] || h_fail "no WireGuard handshake recorded"
h_pass "wireguard-go tunnel carries TCP (handshake at $hs)"
