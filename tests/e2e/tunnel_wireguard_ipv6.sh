#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# WireGuard (wireguard-go) over an IPv6 underlay carrying IPv6 overlay traffic: bracketed
# endpoints through UAPI, IPv6 allowed-ips, addresses and routes over rtnetlink, and the
# 80-byte IPv6 overhead in the automatic MTU.
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"
h_init
T=$(h_bin pp-tunnel)
h_underlay
a=$(h_host a 10.99.0.2/24)
b=$(h_host b 10.99.0.3/24)
ip -n "$a" addr add fd99::2/64 dev ul0 nodad
ip -n "$b" addr add fd99::3/64 dev ul0 nodad
IFA="w${H_RUN}a"
IFB="w${H_RUN}b"
h_on_exit "rm -f /var/run/wireguard/$IFA.sock /var/run/wireguard/$IFB.sock"
APUB=$(h_tunnel_key a)
BPUB=$(h_tunnel_key b)

apid=$(h_spawn "$a" a "$T" wg-up "$IFA" --private-key "$H_TMP/a.key" --port 51871 \
	--backend userspace --address fd50::1/128 --route fd50::2/128 --mtu auto \
	--peer "$BPUB,[fd99::3]:51871,fd50::2/128,1" --foreground)
bpid=$(h_spawn "$b" b "$T" wg-up "$IFB" --private-key "$H_TMP/b.key" --port 51871 \
	--backend userspace --address fd50::2/128 --route fd50::1/128 --mtu auto \
	--peer "$APUB,[fd99::2]:51871,fd50::1/128,1" --foreground)
h_wait_for 15 grep -q "^ready" "$H_TMP/a.log" || h_fail "a did not come up"
h_wait_for 15 grep -q "^ready" "$H_TMP/b.log" || h_fail "b did not come up"

h_wait_for 20 h_in "$a" ping -6 -c1 -W1 fd50::2 || h_fail "no IPv6 ping over the tunnel"
h_tcp_listen "$b" fd50::2 8080
h_in "$a" timeout 5 bash -c 'exec 3<>/dev/tcp/fd50::2/8080' || h_fail "no IPv6 TCP over the tunnel"
mtu=$(ip -n "$a" -o link show dev "$IFA" | grep -o 'mtu [0-9]*' | cut -d' ' -f2)
[ "$mtu" = 1420 ] || h_fail "MTU $mtu, expected 1500 - 80 = 1420 over IPv6"
line=$(h_in "$a" wg show "$IFA" dump | sed -n 2p)
[ "$(echo "$line" | cut -f3,4)" = "$(printf '[fd99::3]:51871\tfd50::2/128')" ] ||
	h_fail "wg show disagrees: $line"
h_in "$a" ping -6 -c1 -W2 -M do -s $((mtu - 48)) fd50::2 >/dev/null ||
	h_fail "an IPv6 packet of exactly the MTU did not pass"
h_kill "$apid"
h_kill "$bpid"
ip -n "$a" link show "$IFA" >/dev/null 2>&1 && h_fail "device left behind"
h_pass "IPv6 underlay and overlay over wireguard-go; MTU 1420"
