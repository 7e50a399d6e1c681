#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The datapath on a real VXLAN device in external mode, with plain kernel VXLAN peers.
# Machine "a" (identity 300) runs the vxlan programs on vx0. "b" stands in for its gateway
# (10.99.0.3, the tunnel endpoint the ipcache lists for 10.97.0.2/32 = identity 400) with
# two plain VXLAN devices: vxa (VNI 300) receives what a sends, vxb (VNI 400) sends as
# identity 400. "c" is an untrusted underlay host sending VNI 400 too.
#   1. a -> b:8080 works only if a's egress set {VNI 300, remote 10.99.0.3} (vxa accepts
#      VNI 300 only); b's reply comes back with VNI 400 and passes as a conntrack reply;
#   2. b -> a:9090 with VNI 400 is allowed (ingress allows identity 400);
#      the same source with VNI 300 is dropped: the identity is the VNI, not the ipcache;
#   3. c -> a:9090 with VNI 400 is dropped: a VNI from an outer source that is not the
#      inner source's gateway is not trusted (identity world);
#   4. the events carry the tunnel key and the identities.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_underlay
a=$(h_host a 10.99.0.2/24)
b=$(h_host b 10.99.0.3/24)
c=$(h_host c 10.99.0.4/24)

h_vxlan_external "$a" vx0 10.97.0.1/24
for n in vxa:300 vxb:400; do
	h_in "$b" ip link add "${n%:*}" type vxlan id "${n#*:}" remote 10.99.0.2 local 10.99.0.3 dstport 8472
	h_in "$b" ip link set "${n%:*}" up
done
h_in "$b" ip addr add 10.97.0.2/32 dev vxa
h_in "$b" ip route add 10.97.0.1/32 dev vxb src 10.97.0.2
h_in "$c" ip link add vxc type vxlan id 400 remote 10.99.0.2 local 10.99.0.4 dstport 8472
h_in "$c" ip link set vxc up
h_in "$c" ip addr add 10.97.0.2/32 dev vxc
h_in "$c" ip route add 10.97.0.1/32 dev vxc src 10.97.0.2
for ns in "$b" "$c"; do
	h_in "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	for d in vxa vxb vxc; do
		h_in "$ns" sysctl -qw "net.ipv4.conf.$d.rp_filter=0" 2>/dev/null || true
	done
done
# ARP cannot cross an external VXLAN device without a tunnel key: static neighbours.
vx0_mac=$(ip -n "$a" -o link show vx0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
vxa_mac=$(ip -n "$b" -o link show vxa | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
h_in "$a" ip neigh replace 10.97.0.2 lladdr "$vxa_mac" dev vx0 nud permanent
for d in vxa vxb; do h_in "$b" ip neigh replace 10.97.0.1 lladdr "$vx0_mac" dev "$d" nud permanent; done
h_in "$c" ip neigh replace 10.97.0.1 lladdr "$vx0_mac" dev vxc nud permanent

h_datapath
pd load --mode workload --identity 300 || h_fail "load"
pd ipcache add 10.97.0.2/32 400 --tunnel 10.99.0.3
pd policy add --dir egress --identity 400 --proto tcp --port 8080 --rule 1
pd policy add --dir ingress --identity 400 --proto tcp --port 9090 --rule 2
h_dp_attach "$a" vx0
h_in "$a" tc filter show dev vx0 egress | grep -q dp_egress_vxlan ||
	h_fail "auto-detection did not pick the vxlan programs"
events_pid=$(h_spawn "$a" events "$PPD" events --bpffs "$H_BPFFS" --json)

h_tcp_listen "$b" 10.97.0.2 8080
h_tcp_listen "$a" 10.97.0.1 9090
h_expect_tcp_ok "$a" 10.97.0.2 8080 5     # VNI 300 out to 10.99.0.3, reply with VNI 400
h_expect_tcp_ok "$b" 10.97.0.1 9090 5     # VNI 400 from the gateway: identity 400
h_in "$b" ip route replace 10.97.0.1/32 dev vxa src 10.97.0.2
h_expect_tcp_blocked "$b" 10.97.0.1 9090  # VNI 300 from the gateway: identity 300, denied
h_expect_tcp_blocked "$c" 10.97.0.1 9090  # VNI 400 from a stranger: world, denied

# Events arrive asynchronously (ring buffer -> pp-datapath events): wait for each one
# rather than sleeping a fixed time.
ev="$H_TMP/events.log"
h_wait_for 10 grep -q '"verdict":"FORWARDED".*"direction":"egress".*"dport":8080.*"src_identity":300,"dst_identity":400.*"tunnel_vni":300,"tunnel_remote":"10.99.0.3"' "$ev" ||
	h_fail "no egress verdict event with the tunnel key VNI 300 -> 10.99.0.3"
h_wait_for 10 grep -q '"verdict":"FORWARDED".*"direction":"ingress".*"dport":9090.*"src_identity":400,"dst_identity":300.*"tunnel_vni":400' "$ev" ||
	h_fail "no ingress event with identity 400 from VNI 400"
h_wait_for 10 grep -q '"verdict":"DROPPED".*"direction":"ingress".*"dport":9090.*"src_identity":300,"dst_identity":300.*"tunnel_vni":300' "$ev" ||
	h_fail "no drop event with identity 300 taken from VNI 300"
h_wait_for 10 grep -q '"verdict":"DROPPED".*"direction":"ingress".*"dport":9090.*"src_identity":2,"dst_identity":300.*"tunnel_vni":400,"tunnel_remote":"10.99.0.4"' "$ev" ||
	h_fail "no drop event with identity world for the untrusted outer source"
h_kill "$events_pid"
pd metrics
h_pass "datapath on VXLAN: VNI and remote set on egress, identity from a trusted VNI only"
