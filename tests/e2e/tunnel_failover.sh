#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Gateway fail-over over wireguard-go: a workload with two gateway peers carries the
# cluster CIDR (10.200.0.0/16) on gateway A. When A stops, its handshake/keepalives go
# stale and the workload moves the CIDR to B (traffic to the cluster resumes through B);
# when A returns it gets the CIDR back only after it has been healthy for the hold time,
# and there is no further switching (no flapping).
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"
h_init
T=$(h_bin pp-tunnel)
h_underlay
wl=$(h_host wl 10.99.0.2/24)
ga=$(h_host ga 10.99.0.3/24)
gb=$(h_host gb 10.99.0.4/24)
IFW="w${H_RUN}wl"
IFA="w${H_RUN}ga"
IFB="w${H_RUN}gb"
h_on_exit "rm -f /var/run/wireguard/$IFW.sock /var/run/wireguard/$IFA.sock /var/run/wireguard/$IFB.sock"
STALE=6
HOLD=10

WLPUB=$(h_tunnel_key wl)
APUB=$(h_tunnel_key ga)
BPUB=$(h_tunnel_key gb)

# The cluster service 10.200.0.1 exists behind both gateways; each listens on its own port
# so the test can tell which gateway carries the traffic.
ip -n "$ga" addr add 10.200.0.1/32 dev lo
ip -n "$gb" addr add 10.200.0.1/32 dev lo
h_tcp_listen "$ga" 10.200.0.1 8081
h_tcp_listen "$gb" 10.200.0.1 8082

gw_up() { # NS IF KEY OVERLAY
	h_spawn "$1" "$2" "$T" wg-up "$2" --private-key "$H_TMP/$3.key" --port 51871 \
		--backend userspace --address "$4/32" --route 10.250.0.10/32 \
		--peer "$WLPUB,10.99.0.2:51871,10.250.0.10/32,1" --foreground
}
apid=$(gw_up "$ga" "$IFA" ga 10.250.0.1)
bpid=$(gw_up "$gb" "$IFB" gb 10.250.0.2)
wpid=$(h_spawn "$wl" wl "$T" wg-up "$IFW" --private-key "$H_TMP/wl.key" --port 51871 \
	--backend userspace --address 10.250.0.10/32 --route 10.250.0.1/32 --route 10.250.0.2/32 \
	--gateway "$APUB,10.99.0.3:51871,10.250.0.1" --gateway "$BPUB,10.99.0.4:51871,10.250.0.2" \
	--cidr 10.200.0.0/16 --stale $STALE --hold $HOLD --keepalive 1 \
	--status-file "$H_TMP/status" --foreground)
h_wait_for 15 grep -q "^ready" "$H_TMP/wl.log" || h_fail "workload tunnel did not come up"

status() { cat "$H_TMP/status" 2>/dev/null; }
h_wait_for 15 h_tcp_connect "$wl" 10.200.0.1 8081 1 || h_fail "cluster not reachable via A"
[ "$(status)" = "active=0 switches=0" ] || h_fail "unexpected start state: $(status)"
grep "^$APUB" <<<"$(h_in "$wl" wg show "$IFW" allowed-ips)" | grep -q 10.200.0.0/16 ||
	h_fail "A does not carry the cluster CIDR"
h_log "ok: gateway A carries the cluster CIDR"

# The supervisor's shadow configuration follows the moves: a restarted wireguard-go gets
# the CIDRs on the gateway that has them now, not where they were first put.
restart_check() { # RESTART_NUMBER
	local before after child
	before=$(h_in "$wl" wg show "$IFW" allowed-ips | sort)
	child=$(pgrep -o -P "$wpid" || true)
	[ -n "$child" ] || h_fail "no wireguard-go under the workload's pp-tunnel"
	kill -9 "$child"
	h_wait_for 20 grep -q "restarted (restart $1)" "$H_TMP/wl.log" || h_fail "no restart $1"
	after=$(h_in "$wl" wg show "$IFW" allowed-ips | sort)
	[ "$before" = "$after" ] || h_fail "allowed-ips after restart differ: $before / $after"
}

t0=$(date +%s)
h_kill "$apid"
h_wait_for $((STALE + 10)) grep -q "active=1" "$H_TMP/status" || h_fail "no fail-over to B: $(status)"
h_log "fail-over after $(($(date +%s) - t0)) s (bound ${STALE} s)"
grep "^$BPUB" <<<"$(h_in "$wl" wg show "$IFW" allowed-ips)" | grep -q 10.200.0.0/16 ||
	h_fail "B does not carry the cluster CIDR after fail-over"
h_wait_for 10 h_tcp_connect "$wl" 10.200.0.1 8082 1 || h_fail "cluster not reachable via B"
h_log "ok: gateway A stopped -> cluster CIDR moved to B, traffic flows through B"
restart_check 1
h_wait_for 10 h_tcp_connect "$wl" 10.200.0.1 8082 1 || h_fail "cluster unreachable after restart"
h_log "ok: restarted wireguard-go gets the gateways' current allowed-ips (on B)"

t1=$(date +%s)
apid=$(gw_up "$ga" "$IFA" ga 10.250.0.1)
h_wait_for $((HOLD + 20)) grep -q "active=0" "$H_TMP/status" || h_fail "no move back to A: $(status)"
back=$(($(date +%s) - t1))
[ $back -ge $HOLD ] || h_fail "moved back after ${back} s, before the ${HOLD} s hold"
h_wait_for 10 h_tcp_connect "$wl" 10.200.0.1 8081 1 || h_fail "cluster not reachable via A again"
h_log "ok: A back and healthy for the hold time (${back} s) -> CIDR moved back"

sleep $((STALE + 2))
[ "$(status)" = "active=0 switches=2" ] || h_fail "flapping: $(status)"
h_log "ok: no further switching: $(status)"

restart_check 2
h_log "ok: restarted wireguard-go gets the gateways' current allowed-ips (on A)"

h_kill "$wpid"
h_kill "$apid"
h_kill "$bpid"
for x in "$wl:$IFW" "$ga:$IFA" "$gb:$IFB"; do
	ip -n "${x%%:*}" link show "${x#*:}" >/dev/null 2>&1 && h_fail "${x#*:} left behind"
done
h_pass "fail-over to the healthy gateway and back with hysteresis, no flapping"
