#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Harness smoke test: a kernel VXLAN pair carries ping. Side a is an external
# (collect-metadata) device steered by a route's encap (lwtunnel), side b a plain VXLAN
# device with a fixed remote — the interoperation the datapath relies on.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_underlay
a=$(h_host a 10.99.0.2/24)
b=$(h_host b 10.99.0.3/24)

h_vxlan_external "$a" vx0 10.97.0.1/24
h_in "$a" ip route replace 10.97.0.2/32 encap ip id 300 dst 10.99.0.3 dev vx0
h_in "$b" ip link add vx0 type vxlan id 300 remote 10.99.0.2 local 10.99.0.3 dstport 8472
h_in "$b" ip addr add 10.97.0.2/24 dev vx0
h_in "$b" ip link set vx0 up
# b's replies go out with VNI 300 to a; a's external device accepts any VNI.
h_wait_for 10 h_in "$a" ping -c1 -W1 10.97.0.2 || h_fail "ping over VXLAN failed"
h_pass "VXLAN external <-> plain carries ping"
