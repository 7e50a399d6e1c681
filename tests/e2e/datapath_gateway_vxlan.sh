#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Gateway mode on a real external-mode VXLAN device. Gateway "g" (underlay 10.99.0.1)
# routes for pod p1 (10.200.1.5, identity 400); machine "m" (underlay 10.99.0.2, overlay
# 10.1.0.5, identity 600) reaches it over VXLAN; "s" (underlay 10.99.0.3) is a stranger
# that claims m's overlay address.
#   1. m -> p1 passes anti-spoofing (outer source = m's registered underlay) and both
#      policies; p1 -> m leaves with {VNI 400 (the pod), remote 10.99.0.2} and m's replies
#      come back through conntrack;
#   2. the same inner source from s's underlay address is dropped as spoofed.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_underlay
g=$(h_node g 10.99.0.1/24)
m=$(h_host m 10.99.0.2/24)
s=$(h_host s 10.99.0.3/24)
p1=$(h_pod "$g" p1 10.200.1.5)
lladdr() { ip -n "$1" -o link show "$2" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }

h_vxlan_external "$g" vx0
h_in "$g" ip route add 10.1.0.5/32 dev vx0
for h in m s; do
	ns=${!h}
	h_in "$ns" ip link add vxm type vxlan external dstport 8472
	h_in "$ns" ip addr add 10.1.0.5/32 dev vxm
	h_in "$ns" ip link set vxm up
	# The machine's side sends as identity 600 towards the gateway (an lwtunnel encap
	# route stands in for the machine's own datapath).
	h_in "$ns" ip route add 10.200.0.0/16 encap ip id 600 dst 10.99.0.1 dev vxm src 10.1.0.5
	h_in "$ns" ip neigh replace 10.200.1.5 lladdr "$(lladdr "$g" vx0)" dev vxm nud permanent
done
h_in "$g" ip neigh replace 10.1.0.5 lladdr "$(lladdr "$m" vxm)" dev vx0 nud permanent
h_in "$g" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.vx0.rp_filter=0

h_datapath
pd load --mode gateway || h_fail "load"
pd ipcache add 10.1.0.5/32 600 --tunnel 10.99.0.2 --workload
pd ipcache add 10.200.1.5/32 400
pd policy add --endpoint 600 --dir egress --identity 400 --proto tcp --port 8080 --rule 1
pd policy add --endpoint 400 --dir ingress --identity 600 --proto tcp --port 8080 --rule 2
pd policy add --endpoint 400 --dir egress --identity 600 --proto tcp --port 5432 --rule 3
h_dp_attach "$g" vx0
events_pid=$(h_spawn "$g" events "$PPD" events --bpffs "$H_BPFFS" --json)

h_tcp_listen "$p1" 10.200.1.5 8080
h_tcp_listen "$m" 10.1.0.5 5432
h_expect_tcp_ok "$m" 10.200.1.5 8080 5     # registered underlay: passes both policies
h_expect_tcp_ok "$p1" 10.1.0.5 5432 5      # VNI 400 to 10.99.0.2; replies via conntrack
h_expect_tcp_blocked "$s" 10.200.1.5 8080  # same inner source, wrong underlay: spoofed

# Events arrive asynchronously (ring buffer -> pp-datapath events): wait for each one
# rather than sleeping a fixed time.
ev="$H_TMP/events.log"
h_wait_for 10 grep -q '"verdict":"FORWARDED".*"direction":"ingress".*"dport":8080.*"src_identity":600,"dst_identity":400.*"endpoint":400' "$ev" ||
	h_fail "no allowed machine -> p1 event"
h_wait_for 10 grep -q '"verdict":"FORWARDED".*"direction":"egress".*"dport":5432.*"src_identity":400,"dst_identity":600.*"tunnel_vni":400,"tunnel_remote":"10.99.0.2"' "$ev" ||
	h_fail "no p1 -> machine event with VNI 400 and remote 10.99.0.2"
h_wait_for 10 grep -q '"reason":"spoofed-source".*"src":"10.1.0.5".*"dport":8080' "$ev" ||
	h_fail "no spoofed-source drop for the stranger's packets"
h_kill "$events_pid"
pd metrics
h_pass "gateway on VXLAN: outer-source anti-spoofing, pod identity in the VNI"
