#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Addresses, routes, MTU, rp_filter on a device (rtnetlink, tunnel/link.c): configuring twice
# is idempotent, and removing takes away exactly what was configured — a route and an
# address someone else put on the same device stay.
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"
h_init
T=$(h_bin pp-tunnel)
ns=$(h_ns link)
# No dummy module on every kernel: a veth pair stands in for the tunnel device.
ip -n "$ns" link add tun0 type veth peer name tun0p
ip -n "$ns" link set tun0p up
ip -n "$ns" addr add 10.77.0.1/32 dev tun0 # not ours
ip -n "$ns" link set tun0 up
ip -n "$ns" route add 10.77.0.0/16 dev tun0 # not ours
h_in "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=1

ours=(--address 10.250.0.5/32 --mtu 1440 --route 10.200.0.0/16 --route 10.96.0.0/12
	--route 10.250.0.0/16 --route fd00:200::/64)
for i in 1 2; do
	h_in "$ns" "$T" link up tun0 "${ours[@]}" || h_fail "link up #$i failed"
done
routes=$(ip -n "$ns" -4 route show dev tun0 | sort)
[ "$(echo "$routes" | wc -l)" = 4 ] || h_fail "expected 4 IPv4 routes, got: $routes"
for r in 10.200.0.0/16 10.96.0.0/12 10.250.0.0/16 10.77.0.0/16; do
	echo "$routes" | grep -q "^$r " || h_fail "route $r missing: $routes"
done
grep -q "^fd00:200::/64" <<<"$(ip -n "$ns" -6 route show dev tun0)" || h_fail "IPv6 route missing"
[ "$(ip -n "$ns" -4 -o addr show dev tun0 | grep -c 10.250.0.5/32)" = 1 ] || h_fail "address"
grep -q "mtu 1440" <<<"$(ip -n "$ns" link show tun0)" || h_fail "MTU not set"
[ "$(h_in "$ns" sysctl -n net.ipv4.conf.tun0.rp_filter)" = 2 ] || h_fail "rp_filter not loose"
h_log "ok: configured twice: one address, one route each, MTU 1440, rp_filter 2"

h_in "$ns" "$T" link down tun0 "${ours[@]}" || h_fail "link down failed"
[ "$(ip -n "$ns" -4 route show dev tun0)" = "$(printf '10.77.0.0/16 scope link ')" ] ||
	h_fail "routes after removal: $(ip -n "$ns" -4 route show dev tun0)"
grep -q "fd00:200::" <<<"$(ip -n "$ns" -6 route show dev tun0)" && h_fail "IPv6 route left behind"
addrs=$(ip -n "$ns" -4 -o addr show dev tun0 | awk '{print $4}')
[ "$addrs" = 10.77.0.1/32 ] || h_fail "addresses after removal: $addrs"
h_in "$ns" "$T" link down tun0 "${ours[@]}" || h_fail "removing twice should succeed"
h_pass "link configuration idempotent; removal takes exactly what it added"
