#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Gateway mode on real traffic. Node "g" routes for two pods (p1 = identity 400, p2 = 401)
# and for machine "m" (overlay 10.1.0.5, identity 600), which sits behind a veth standing
# in for its tunnel (the gateway programs are the same on every device kind; the kind only
# changes framing). The gateway programs run on g's side of m's veth:
#   1. machine -> pod needs the machine's egress AND the pod's ingress policy;
#   2. pod -> machine needs the pod's egress policy; replies pass through conntrack;
#   3. a source address the machine does not own is dropped as spoofed;
#   4. events name the endpoint whose policy decided.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
h_underlay
g=$(h_node g 10.99.0.1/24)
p1=$(h_pod "$g" p1 10.200.1.5)
p2=$(h_pod "$g" p2 10.200.1.6)
m=$(h_pod "$g" m 10.1.0.5)
dev=$(ip -n "$g" route get 10.1.0.5 | grep -o 'dev [^ ]*' | cut -d' ' -f2)
[ -n "$dev" ] || h_fail "no route to the machine on the gateway"

h_datapath
pd load --mode gateway --identity 0 || h_fail "load"
pd ipcache add 10.1.0.5/32 600 --workload
pd ipcache add 10.200.1.5/32 400
pd ipcache add 10.200.1.6/32 401
# The machine may reach both pods on 8080 (its egress policy, re-checked here).
pd policy add --endpoint 600 --dir egress --identity 400 --proto tcp --port 8080 --rule 1
pd policy add --endpoint 600 --dir egress --identity 401 --proto tcp --port 8080 --rule 2
# p1 accepts the machine on 8080-8081; p2 is selected by a policy that allows nothing.
pd policy add --endpoint 400 --dir ingress --identity 600 --proto tcp --port 8080-8081 --rule 3
pd policy enforce --endpoint 401 --dir ingress on
# p1 may open 5432 on the machine.
pd policy add --endpoint 400 --dir egress --identity 600 --proto tcp --port 5432 --rule 4
h_dp_attach "$g" "$dev"
events_pid=$(h_spawn "$g" events "$PPD" events --bpffs "$H_BPFFS" --json)

h_tcp_listen "$p1" 10.200.1.5 8080
h_tcp_listen "$p1" 10.200.1.5 8081
h_tcp_listen "$p2" 10.200.1.6 8080
h_tcp_listen "$m" 10.1.0.5 5432
h_tcp_listen "$m" 10.1.0.5 5433
h_expect_tcp_ok "$m" 10.200.1.5 8080       # machine egress + p1 ingress
h_expect_tcp_blocked "$m" 10.200.1.6 8080  # p2 ingress: default deny
h_expect_tcp_blocked "$m" 10.200.1.5 8081  # p1 would accept; the machine's egress says no
h_expect_tcp_ok "$p1" 10.1.0.5 5432        # p1 egress; the reply comes back via conntrack
h_expect_tcp_blocked "$p1" 10.1.0.5 5433   # p1 egress: default deny
h_expect_tcp_ok "$p2" 10.1.0.5 5433        # p2 enforces no egress policy: allowed

# A source the machine does not own.
h_in "$m" ip addr add 10.1.0.99/32 dev eth0
rc=0
h_in "$m" timeout 2 nc -z -s 10.1.0.99 10.200.1.5 8080 || rc=$?
[ $rc -ne 0 ] || h_fail "spoofed source 10.1.0.99 reached p1"
h_log "ok: spoofed source dropped"

# Events arrive asynchronously (ring buffer -> pp-datapath events): wait for each one
# rather than sleeping a fixed time.
ev="$H_TMP/events.log"
h_wait_for 10 grep -q '"verdict":"FORWARDED".*"direction":"ingress".*"dport":8080.*"src_identity":600,"dst_identity":400.*"rule_id":3,.*"endpoint":400' "$ev" ||
	h_fail "no allowed machine -> p1 event decided by p1's ingress (rule 3)"
h_wait_for 10 grep -q '"verdict":"DROPPED","reason":"policy-default-deny".*"dport":8080.*"src_identity":600,"dst_identity":401.*"endpoint":401' "$ev" ||
	h_fail "no drop event by p2's ingress policy"
h_wait_for 10 grep -q '"verdict":"DROPPED","reason":"policy-default-deny".*"dport":8081.*"src_identity":600,"dst_identity":400.*"endpoint":600' "$ev" ||
	h_fail "no drop event by the machine's egress policy re-checked at the gateway"
h_wait_for 10 grep -q '"verdict":"FORWARDED".*"direction":"egress".*"dport":5432.*"src_identity":400,"dst_identity":600.*"endpoint":400' "$ev" ||
	h_fail "no allowed p1 -> machine event by p1's egress policy"
h_wait_for 10 grep -q '"reason":"spoofed-source".*"src":"10.1.0.99"' "$ev" ||
	h_fail "no spoofed-source drop event"
h_kill "$events_pid"
pd metrics
h_pass "gateway: both sides' policies, conntrack replies, anti-spoofing"
