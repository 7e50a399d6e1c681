#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The datapath's L3 programs on a real wireguard-go TUN device (no Ethernet header, the
# identity of the remote side from the ipcache since WireGuard carries no VNI). Machine
# "a" (identity 300) runs the workload programs on its WireGuard device; "b" is the far
# end of the tunnel with two overlay addresses: 10.98.0.2 = identity 400, 10.98.0.3 = 500.
#   allowed TCP connects, denied times out, replies pass ingress default deny, the
#   ingress identity comes from the ipcache, `attach --kind auto` picks the l3 programs.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_underlay
a=$(h_host a 10.99.0.2/24)
b=$(h_host b 10.99.0.3/24)

h_wg_pair "$a" 10.99.0.2 "$b" 10.99.0.3 10.98.0.1 10.98.0.2 10.98.0.3 # sets wga, wgb

h_datapath
pd load --mode workload --identity 300 || h_fail "load"
pd ipcache add 10.98.0.2/32 400
pd ipcache add 10.98.0.3/32 500
pd policy add --dir egress --identity 400 --proto tcp --port 7000 --rule 1
pd policy add --dir ingress --identity 400 --proto tcp --port 9090 --rule 2
h_dp_attach "$a" "$wga"
h_in "$a" tc filter show dev "$wga" ingress | grep -q dp_ingress_l3 ||
	h_fail "auto-detection did not pick the l3 programs for a TUN device"
events_pid=$(h_spawn "$a" events "$PPD" events --bpffs "$H_BPFFS" --json)

h_tcp_listen "$b" 10.98.0.2 7000
h_tcp_listen "$b" 10.98.0.3 7000
h_tcp_listen "$a" 10.98.0.1 9090
h_expect_tcp_ok "$a" 10.98.0.2 7000 5     # egress allowed; the reply passes ingress via conntrack
h_expect_tcp_blocked "$a" 10.98.0.3 7000  # identity 500: egress default deny
h_in "$b" ip route replace 10.98.0.1/32 dev "$wgb" src 10.98.0.2
h_expect_tcp_ok "$b" 10.98.0.1 9090 5     # from 10.98.0.2 = identity 400: allowed
h_in "$b" ip route replace 10.98.0.1/32 dev "$wgb" src 10.98.0.3
h_expect_tcp_blocked "$b" 10.98.0.1 9090  # from 10.98.0.3 = identity 500: denied

# Events arrive asynchronously (ring buffer -> pp-datapath events): wait for each one
# rather than sleeping a fixed time.
ev="$H_TMP/events.log"
h_wait_for 10 grep -q '"verdict":"FORWARDED".*"direction":"egress".*"dport":7000.*"src_identity":300,"dst_identity":400' "$ev" ||
	h_fail "no allowed egress event 300 -> 400"
h_wait_for 10 grep -q '"verdict":"DROPPED".*"direction":"egress".*"dport":7000.*"src_identity":300,"dst_identity":500' "$ev" ||
	h_fail "no denied egress event 300 -> 500"
h_wait_for 10 grep -q '"verdict":"FORWARDED".*"direction":"ingress".*"dport":9090.*"src_identity":400,"dst_identity":300' "$ev" ||
	h_fail "no allowed ingress event 400 -> 300"
h_wait_for 10 grep -q '"verdict":"DROPPED".*"direction":"ingress".*"src":"10.98.0.3".*"dport":9090.*"src_identity":500' "$ev" ||
	h_fail "no denied ingress event from identity 500"
h_kill "$events_pid"
pd metrics
h_pass "datapath on a wireguard-go TUN device: L3 programs, identities from the ipcache"
