#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# VXLAN: our external (collect-metadata) device, made over rtnetlink by pp-tunnel, talks
# to a peer configured by plain iproute2 (`ip link add ... type vxlan id 42`), not by our
# code. The datapath will set the tunnel key per packet with bpf_skb_set_tunnel_key; here a
# lightweight-tunnel route (`encap ip id 42 dst ...`) stands in for it, which exercises the
# same metadata path in the VXLAN driver. Also: MTU = underlay - 50, DF at the MTU passes
# and over it is refused, creating twice is idempotent, a same-named device that is not
# ours is left alone, and deleting removes the device.
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"
h_init
T=$(h_bin pp-tunnel)
h_underlay
a=$(h_host a 10.99.0.2/24)
b=$(h_host b 10.99.0.3/24)
VX=vx0 # device names inside our own namespaces cannot collide with anyone's

# First without --port: the default is 8472.
h_in "$a" "$T" vxlan-up "$VX" --address 10.251.0.1/24 --mtu auto --underlay-dev ul0 ||
	h_fail "vxlan-up failed"
h_in "$a" "$T" vxlan-up "$VX" --port 8472 --address 10.251.0.1/24 --mtu auto --underlay-dev ul0 ||
	h_fail "vxlan-up is not idempotent"
details=$(ip -n "$a" -d link show "$VX")
grep -q "external" <<<"$details" || h_fail "device is not external: $details"
grep -q "dstport 8472" <<<"$details" || h_fail "device is not on port 8472: $details"
grep -q "nolearning" <<<"$details" || h_fail "learning is on: $details"
mtu=$(echo "$details" | grep -o 'mtu [0-9]*' | head -1 | cut -d' ' -f2)
[ "$mtu" = 1450 ] || h_fail "VXLAN MTU $mtu, expected 1500 - 50 = 1450"
[ "$(ip -n "$a" -4 -o addr show dev "$VX" | wc -l)" = 1 ] || h_fail "address duplicated"
if h_in "$a" "$T" vxlan-up "$VX" --port 4789 2>/dev/null; then
	h_fail "an existing device on another port was accepted"
fi
h_in "$a" "$T" vxlan-up vx1 --port 4789 || h_fail "vxlan-up on port 4789 failed"
grep -q "dstport 4789" <<<"$(ip -n "$a" -d link show vx1)" || h_fail "port 4789 not configured"
h_in "$a" "$T" vxlan-down vx1 || h_fail "vxlan-down vx1 failed"
h_log "ok: external VXLAN device, default port 8472 (4789 when asked), MTU 1450, idempotent"

# The peer: iproute2 only.
ip -n "$b" link add vxb type vxlan id 42 dstport 8472 remote 10.99.0.2 local 10.99.0.3 dev ul0
ip -n "$b" addr add 10.251.0.2/24 dev vxb
ip -n "$b" link set vxb up
mac_a=$(ip -n "$a" link show "$VX" | awk '/link\/ether/ {print $2}')
mac_b=$(ip -n "$b" link show vxb | awk '/link\/ether/ {print $2}')
# ARP cannot cross a metadata device without a tunnel key; static neighbours stand in for
# what the agent knows from the store.
ip -n "$a" neigh replace 10.251.0.2 lladdr "$mac_b" dev "$VX" nud permanent
ip -n "$b" neigh replace 10.251.0.1 lladdr "$mac_a" dev vxb nud permanent
ip -n "$a" route add 10.251.0.2/32 encap ip id 42 dst 10.99.0.3 dev "$VX"

h_wait_for 10 h_in "$a" ping -c1 -W1 10.251.0.2 || h_fail "no ping over VXLAN"
h_in "$b" ping -c1 -W1 10.251.0.1 >/dev/null || h_fail "no ping from the iproute2 peer"
h_tcp_listen "$b" 10.251.0.2 7070
h_expect_tcp_ok "$a" 10.251.0.2 7070
h_tcp_listen "$a" 10.251.0.1 7071
h_expect_tcp_ok "$b" 10.251.0.1 7071
h_log "ok: ping and TCP both ways with a plain iproute2 VXLAN peer (VNI 42)"

h_in "$a" ping -c1 -W2 -M do -s $((mtu - 28)) 10.251.0.2 >/dev/null ||
	h_fail "DF packet at the VXLAN MTU did not pass"
out=$(h_in "$a" ping -c1 -W2 -M do -s $((mtu - 27)) 10.251.0.2 2>&1 || true)
echo "$out" | grep -Eq "message too long|Frag needed|mtu ?= ?$mtu" ||
	h_fail "DF packet over the VXLAN MTU was not refused: $out"
h_log "ok: DF at the MTU passes, MTU+1 is refused"

# Not ours: refuse to delete the iproute2 device; delete ours.
if h_in "$b" "$T" vxlan-down vxb 2>/dev/null; then
	h_fail "vxlan-down deleted a non-external device"
fi
ip -n "$b" link show vxb >/dev/null || h_fail "the peer's device vanished"
h_in "$a" "$T" vxlan-down "$VX" || h_fail "vxlan-down failed"
ip -n "$a" link show "$VX" >/dev/null 2>&1 && h_fail "device left behind"
h_in "$a" "$T" vxlan-down "$VX" || h_fail "vxlan-down of an absent device should succeed"
h_pass "external VXLAN interoperates with an iproute2 peer; MTU, idempotence, cleanup"
