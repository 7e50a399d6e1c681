#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Gateway loss with the real daemons (issue 13, item 5): two `pseudopodd --mode gateway`
# nodes g1 and g2 serve the same pods (on node k, reached over the underlay); machine
# "billing" enrolls with `pseudopod enroll` while only g1 is registered and runs pseudopodd.
#   1. g2 registers after the machine started: it becomes the machine's peer live (no
#      restart), as a standby;
#   2. continuous probes (every 0.25 s): machine -> api:8080 (allowed), web -> machine:5432
#      (allowed, the return path), machine -> api:9090 (denied by the machine's egress
#      policy), machine -> db:5432 (denied by db's ingress policy, at the gateway),
#      web -> machine:22 (denied by the machine's ingress policy);
#   3. g1 cut off from the machine (still registered: only the tunnel can tell): the machine
#      moves to g2 within handshake-stale + 1 s, names g2 in workloads/billing/alive, the pod
#      network's route for the machine follows it (here a loop standing in for the CNI),
#      both allowed probes recover; pseudopodd restarted then starts from its saved set with
#      g2 active (the enrollment names g1 alone), no probe fails; the partition heals: g1
#      is a standby, nothing breaks;
#   4. kill -9 of the active gateway g2 (daemon and its wireguard-go: the node's tunnel
#      endpoint is gone): the machine moves to g1 (its lease expiring or the tunnel going
#      stale, whichever comes first), both directions recover;
#   5. g2 comes back: a standby peer again (the hold time is long), nothing breaks;
#   6. SIGTERM of the active gateway g1: it deregisters, the machine moves to g2 at once;
#   7. the cluster config gains a pod CIDR: routed live on the machine (and on the active
#      gateway's peer); a tunnel-kind change is logged as needing re-enrollment;
#   8. the record of the only gateway left is deleted: it keeps carrying the traffic (marked
#      "deregistered" in status) until it is back;
#   at no time did a denied probe pass.
# WireGuard only: the VXLAN backend picks the gateway per packet from the ipcache (the
# record's `gateway`), it has no fail-over of its own (docs/agent.md, "Several gateways").
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
CTL=$(h_bin pseudopodctl)
PPD=$(h_bin pseudopodd)
PP=$(h_bin pseudopod)
PPT=$(h_bin pp-tunnel)
PPDP=$(h_bin pp-datapath)
command -v wireguard-go >/dev/null || h_fail "wireguard-go missing: run scripts/deps"
STALE=10 # [tunnel] handshake-stale on the machine (the config's minimum)
P=/pseudopod/v1/

h_underlay
store=$(h_host store 10.99.0.10/24)
g1=$(h_node g1 10.99.0.1/24)
g2=$(h_node g2 10.99.0.5/24)
k=$(h_node k 10.99.0.7/24)
vm=$(h_host vm 10.99.0.20/24)
web=$(h_pod "$k" web 10.200.1.5)
db=$(h_pod "$k" db 10.200.1.6)
api=$(h_pod "$k" api 10.200.1.7)
h_in "$k" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.ul0.rp_filter=0
for g in "$g1" "$g2"; do # the gateways reach the pods through their node
	ip -n "$g" route add 10.200.0.0/16 via 10.99.0.7
done
url=$(h_etcd "$store")
ctl() { h_in "$store" "$CTL" "$@" --store "$url"; }
etcdget() { h_in "$store" etcdctl --endpoints "$url" get --print-value-only "$P$1"; }

ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.200.0.0/16 \
	--workload-cidr 10.201.0.0/16 --tunnel wireguard >/dev/null || h_fail "init"
ctl endpoint add --ip 10.200.1.5 --labels app=web --namespace prod >/dev/null
ctl endpoint add --ip 10.200.1.6 --labels app=db --namespace prod >/dev/null
ctl endpoint add --ip 10.200.1.7 --labels app=api --namespace prod >/dev/null
for f in billing-ingress billing-egress db-ingress; do
	ctl policy apply -f - <"$PP_SOURCE_DIR/docs/examples/quickstart/$f.yaml" >/dev/null ||
		h_fail "policy $f"
done

# ---- gateways ----
declare -A GWNS=([g1]=$g1 [g2]=$g2) GWPID
gw_start() { # NAME
	local n=$1 st="$H_TMP/$1-state" bpffs="/sys/fs/bpf/pp-e2e-$H_RUN-$1"
	if [ ! -f "$H_TMP/$n.conf" ]; then
		mkdir -m 0700 -p "$st"
		"$PPT" writekey "$st/wireguard.key" >/dev/null
		h_on_exit "'$PPDP' unload --bpffs '$bpffs'"
		h_on_exit "rm -f /var/run/wireguard/g$H_RUN$n.sock"
		printf '[agent]\nmode = gateway\nname = %s\nstate-dir = %s\nbpffs-root = %s\napi-socket = %s/%s-api.sock\nmetrics-address = \n\n[store]\nendpoints = %s\n\n[tunnel]\ndevice = g%s%s\nwireguard-backend = userspace\nkeepalive = 1\n' \
			"$n" "$st" "$bpffs" "$H_TMP" "$n" "$url" "$H_RUN" "$n" >"$H_TMP/$n.conf"
	fi
	: >"$H_TMP/$n.log"
	GWPID[$n]=$(h_spawn "${GWNS[$n]}" "$n" "$PPD" --config "$H_TMP/$n.conf")
	h_wait_for 30 grep -q "ready: gateway synced" "$H_TMP/$n.log" || h_fail "$n not ready"
	h_wait_for 10 registered "$n" || h_fail "$n did not register"
}
gw_pub() { "$PPT" readkey "$H_TMP/$1-state/wireguard.key"; }
registered() { [ -n "$(etcdget "gateways/$1")" ]; }
gw_start g1

# ---- the machine: enroll (g1 is the only gateway then), then pseudopodd ----
ctl init --pki-dir "$H_TMP/pki" --server-ip 10.99.0.10 >/dev/null || h_fail "PKI"
h_spawn "$store" serve "$CTL" serve --pki-dir "$H_TMP/pki" --store "$url" >/dev/null
h_wait_for 20 h_in "$store" curl -sf -m 2 --cacert "$H_TMP/pki/ca.crt" \
	https://10.99.0.10:9443/healthz || h_fail "the enrollment server did not start"
join=$(ctl token create --server https://10.99.0.10:9443 --pki-dir "$H_TMP/pki" \
	--labels app=billing --namespace prod --name billing -o json | jq -r .join)
VMB="/sys/fs/bpf/pp-e2e-$H_RUN-vm"
VMDEV="v$H_RUN"
SOCK="$H_TMP/vm-api.sock"
h_on_exit "'$PPDP' unload --bpffs '$VMB'"
h_on_exit "rm -f /var/run/wireguard/$VMDEV.sock"
printf '[agent]\nstate-dir = %s/vm-state\nbpffs-root = %s\napi-socket = %s\n\n[tunnel]\ndevice = %s\nwireguard-backend = userspace\nkeepalive = 1\nhandshake-stale = %s\nfailover-hold = 600\n' \
	"$H_TMP" "$VMB" "$SOCK" "$VMDEV" "$STALE" >"$H_TMP/vm.conf"
h_in "$vm" "$PP" enroll --config "$H_TMP/vm.conf" --no-start "$join" >"$H_TMP/enroll.out" 2>&1 ||
	h_fail "pseudopod enroll: $(cat "$H_TMP/enroll.out")"
VMIP=$(jq -r .response.workload.overlay_ip "$H_TMP/vm-state/enrollment.json")
[ "$(jq -r '.response.gateways | keys | join(",")' "$H_TMP/vm-state/enrollment.json")" = g1 ] ||
	h_fail "the enrollment should name g1 alone"
# not in $(...): the daemon stays this shell's child, so that the end can wait for its exit
h_spawn "$vm" vm "$PPD" --config "$H_TMP/vm.conf" >"$H_TMP/vm.pid"
VMPID=$(cat "$H_TMP/vm.pid")
status() { h_in "$vm" "$PP" status --socket "$SOCK" -o json 2>/dev/null; }
active() { status | jq -r '.tunnel.gateways[] | select(.active) | .name'; }
active_is() { [ "$(active)" = "$1" ]; }
is_ready() { status | jq -e .ready >/dev/null; }
n_gateways_is() { status | jq -e ".tunnel.gateways | length == $1" >/dev/null; }
vm_peer() { h_in "$vm" wg show "$VMDEV" peers | grep -qF "$(gw_pub "$1")"; }
h_wait_for 30 is_ready || h_fail "pseudopodd did not become ready"
h_log "ok: machine billing ($VMIP) enrolled with g1, pseudopodd ready"

# The pod network's route for the machine follows workloads/billing/alive's gateway. In a
# cluster this is the CNI's part (docs/agent.md); here a loop stands in for it.
follow() {
	local cur="" gw ul
	while :; do
		gw=$(etcdget workloads/billing/alive 2>/dev/null | jq -r '.gateway // empty' 2>/dev/null)
		ul=""
		[ -n "$gw" ] && ul=$(etcdget "gateways/$gw" 2>/dev/null | jq -r '.underlay_ip // empty' 2>/dev/null)
		if [ -n "$ul" ] && [ "$ul" != "$cur" ]; then
			ip -n "$k" route replace "$VMIP/32" via "$ul" && cur=$ul &&
				echo "$(date +%s%N) $gw $ul" >>"$H_TMP/follow.events"
		fi
		sleep 0.2
	done
}
follow &
echo $! >>"$H_TMP/.pids"
h_wait_for 10 grep -q " g1 " "$H_TMP/follow.events" || h_fail "workloads/billing/alive does not name g1"

# ---- 1. a gateway registered live becomes a peer ----
gw_start g2
h_wait_for 10 vm_peer g2 || h_fail "g2 did not become the machine's peer"
h_wait_for 5 n_gateways_is 2 || h_fail "status should list two gateways"
grep -q "gateway g2 .* added live" "$H_TMP/vm.log" || h_fail "no 'added live' in the machine's log"
[ "$(active)" = g1 ] || h_fail "g1 should still carry the traffic, not $(active)"
h_log "ok: g2 registered -> a standby peer of the machine, without a restart"

# ---- 2. probes ----
h_tcp_listen "$api" 10.200.1.7 8080
h_tcp_listen "$api" 10.200.1.7 9090
h_tcp_listen "$db" 10.200.1.6 5432
h_tcp_listen "$vm" "$VMIP" 5432
h_tcp_listen "$vm" "$VMIP" 22
probe() { # NAME NS IP PORT
	while :; do
		local rc=0
		h_tcp_connect "$2" "$3" "$4" 1 || rc=$?
		echo "$(date +%s%N) $rc" >>"$H_TMP/probe-$1"
		sleep 0.25
	done
}
probe out-ok "$vm" 10.200.1.7 8080 &
echo $! >>"$H_TMP/.pids"
probe in-ok "$web" "$VMIP" 5432 &
echo $! >>"$H_TMP/.pids"
probe out-egress "$vm" 10.200.1.7 9090 &
echo $! >>"$H_TMP/.pids"
probe out-gw "$vm" 10.200.1.6 5432 &
echo $! >>"$H_TMP/.pids"
probe in-deny "$web" "$VMIP" 22 &
echo $! >>"$H_TMP/.pids"

# last_ok PROBE: true when the newest attempt connected
last_ok() { [ "$(tail -n 1 "$H_TMP/probe-$1" 2>/dev/null | cut -d' ' -f2)" = 0 ]; }
h_wait_for 15 last_ok out-ok || h_fail "machine -> api:8080 through g1"
h_wait_for 15 last_ok in-ok || h_fail "web -> machine:5432 through g1"
sleep 3
# no_fail_since PROBE NS: no failed attempt at or after time NS
no_fail_since() { awk -v t="$2" '$1 >= t && $2 != 0 {bad = 1} END {exit bad}' "$H_TMP/probe-$1"; }
t=$(($(date +%s%N) - 2500000000))
no_fail_since out-ok $t || h_fail "machine -> api:8080 failed in steady state"
no_fail_since in-ok $t || h_fail "web -> machine:5432 failed in steady state"
h_log "ok: probes steady through g1"

# outage PROBE FROM_NS: seconds from FROM_NS to the first success after the last failure
outage() {
	awk -v t="$2" '$1 >= t { if ($2 != 0) { last_fail = $1 } else if (last_fail && !ok) { ok = $1 } }
		END { if (!last_fail) print "0.0"; else if (!ok) print "never"; else printf "%.1f\n", (ok - t) / 1e9 }' \
		"$H_TMP/probe-$1"
}

# took_s FROM_NS: seconds since FROM_NS
took_s() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'; }
# recovered PHASE FROM_NS: both allowed probes connect again; logs the outages
# diagnose: the tunnels and routes of every party, for a failure's log
diagnose() {
	local x
	for x in vm:$VMDEV g1:g${H_RUN}g1 g2:g${H_RUN}g2; do
		h_log "--- ${x%%:*}: wg show ${x#*:}"
		h_in "${GWNS[${x%%:*}]:-$vm}" wg show "${x#*:}" >&2 || true
	done
	h_log "--- k: routes"
	h_in "$k" ip route >&2
	for x in g1 g2 vm; do
		h_log "--- $x: datapath counters"
		"$PPDP" metrics --bpffs "/sys/fs/bpf/pp-e2e-$H_RUN-$x" >&2 || true
		"$PPDP" status --bpffs "/sys/fs/bpf/pp-e2e-$H_RUN-$x" >&2 || true
	done
	status >&2 || true
}
# steady PROBE: the last four attempts connected
steady() { [ "$(tail -n 4 "$H_TMP/probe-$1" | awk '$2 == 0' | wc -l)" -eq 4 ]; }
recovered() {
	local t
	sleep 1.5 # an attempt in flight during the move may still time out (1 s)
	h_wait_for 10 steady out-ok || { diagnose; h_fail "$1: machine -> api:8080 did not recover"; }
	h_wait_for 10 steady in-ok || { diagnose; h_fail "$1: web -> machine:5432 (return path) did not recover"; }
	t=$(date +%s%N)
	sleep 2
	no_fail_since out-ok "$t" && no_fail_since in-ok "$t" ||
		{ diagnose; h_fail "$1: the probes broke again after recovering"; }
	h_log "$1: outage machine->pod $(outage out-ok "$2") s, pod->machine $(outage in-ok "$2") s"
}
# back_as_standby NAME ACTIVE FROM_NS: NAME is a peer again, ACTIVE still carries, no failure
back_as_standby() {
	h_wait_for 20 vm_peer "$1" || h_fail "$1 is not the machine's peer after coming back"
	sleep 4
	active_is "$2" || h_fail "$2 should still carry the traffic (hold time), not $(active)"
	no_fail_since out-ok "$3" || h_fail "machine -> api:8080 failed while $1 came back"
	no_fail_since in-ok "$3" || h_fail "web -> machine:5432 failed while $1 came back"
	h_log "ok: $1 back as a standby peer, no probe failed"
}

# ---- 3. g1 unreachable from the machine (still registered): the tunnel's own fail-over ----
t0=$(date +%s%N)
# (both sides' neighbour entries pointed at a MAC nobody has: a blackhole route would not
# do, wireguard-go sends with a sticky source interface, which skips device-less routes)
partition_g1() { # ADD|DEL
	if [ "$1" = ADD ]; then
		ip -n "$vm" neigh replace 10.99.0.1 lladdr 02:00:5e:00:00:01 dev ul0 nud permanent
		ip -n "$g1" neigh replace 10.99.0.20 lladdr 02:00:5e:00:00:02 dev ul0 nud permanent
	else
		ip -n "$vm" neigh del 10.99.0.1 dev ul0
		ip -n "$g1" neigh del 10.99.0.20 dev ul0
	fi
}
partition_g1 ADD
h_wait_for $((STALE + 10)) active_is g2 || h_fail "partition: no fail-over to g2"
fo=$(took_s "$t0")
h_log "partition: fail-over to g2 seen after $fo s (bound: handshake-stale $STALE s + 1 s poll)"
awk -v s="$fo" -v b="$STALE" 'BEGIN {exit !(s <= b + 3)}' || h_fail "fail-over took $fo s"
registered g1 || h_fail "g1 should still be registered (only the tunnel saw it go)"
h_wait_for 10 grep -q " g2 " "$H_TMP/follow.events" || h_fail "workloads/billing/alive does not name g2"
recovered partition "$t0"
h_log "ok: partition from g1 -> g2 carries both directions"
# A restart now (the enrollment names g1 alone, and g1 is unreachable) starts from the saved
# set with g2 active (<state-dir>/gateways.json), not from g1: no probe fails.
t0=$(date +%s%N)
kill -TERM "$VMPID"
rc=0
wait "$VMPID" || rc=$?
[ $rc -eq 0 ] || h_fail "the machine's pseudopodd exited $rc on SIGTERM"
h_spawn "$vm" vm2 "$PPD" --config "$H_TMP/vm.conf" >"$H_TMP/vm.pid"
VMPID=$(cat "$H_TMP/vm.pid")
h_wait_for 30 is_ready || h_fail "pseudopodd did not become ready after the restart"
active_is g2 || h_fail "the restarted daemon should start with g2 active, not $(active)"
grep -q "2 gateways as the last process left them, g2 active" "$H_TMP/vm2.log" ||
	h_fail "the restart did not start from the saved gateway set"
sleep 3
no_fail_since out-ok "$t0" || h_fail "machine -> api:8080 failed across the restart"
no_fail_since in-ok "$t0" || h_fail "web -> machine:5432 failed across the restart"
h_log "ok: restarted on g2 (the saved set), no probe failed"
t0=$(date +%s%N)
partition_g1 DEL
back_as_standby g1 g2 "$t0"

# ---- 4. kill -9 the active gateway g2 (its daemon and its wireguard-go) ----
wgpids=$(pgrep -P "${GWPID[g2]}" || true)
t0=$(date +%s%N)
kill -9 "${GWPID[g2]}" $wgpids
h_wait_for $((STALE + 10)) active_is g1 || h_fail "kill -9: no fail-over to g1"
fo=$(took_s "$t0")
how=$(grep -c "gateway g2 deregistered" "$H_TMP/vm2.log" || true)
h_log "kill -9: fail-over to g1 seen after $fo s ($([ "$how" -gt 0 ] && echo "its lease expired first" || echo "the tunnel saw it stale first"))"
awk -v s="$fo" -v b="$STALE" 'BEGIN {exit !(s <= b + 3)}' || h_fail "fail-over took $fo s"
recovered "kill -9" "$t0"
h_expect_tcp_ok "$web" "$VMIP" 5432
h_log "ok: kill -9 of g2 -> g1 carries both directions"

# ---- 5. g2 comes back ----
t0=$(date +%s%N)
gw_start g2
back_as_standby g2 g1 "$t0"

# ---- 6. SIGTERM of the active gateway g1: it deregisters, the machine moves at once ----
t0=$(date +%s%N)
kill -TERM "${GWPID[g1]}"
h_wait_for 10 active_is g2 || h_fail "no move to g2 after g1 deregistered"
fo=$(took_s "$t0")
grep -q "gateway g1 deregistered" "$H_TMP/vm2.log" || h_fail "no 'deregistered' in the machine's log"
h_log "SIGTERM: move to g2 seen after $fo s"
recovered SIGTERM "$t0"
h_log "ok: SIGTERM of g1 -> g2 carries both directions"

# ---- 7. config changes live: a pod CIDR added is routed at once, a tunnel change is logged ----
cfg=$(etcdget config)
h_in "$store" etcdctl --endpoints "$url" put "${P}config" \
	"$(jq -c '.pod_cidrs += ["10.202.0.0/16"]' <<<"$cfg")" >/dev/null || h_fail "config put"
routed() { h_in "$vm" ip route show 10.202.0.0/16 | grep -q "dev $VMDEV"; }
h_wait_for 5 routed || h_fail "an added pod CIDR is not routed live"
carried() { h_in "$vm" wg show "$VMDEV" allowed-ips | grep -F "$(gw_pub g2)" | grep -q 10.202.0.0/16; }
h_wait_for 5 carried || h_fail "the active gateway's peer does not carry the added pod CIDR"
h_in "$store" etcdctl --endpoints "$url" put "${P}config" \
	"$(jq -c '.tunnel = "vxlan"' <<<"$cfg")" >/dev/null || h_fail "config put"
h_wait_for 5 grep -q "config: tunnel kind or port changed" "$H_TMP/vm2.log" ||
	h_fail "a tunnel change should be logged as needing re-enrollment"
h_in "$store" etcdctl --endpoints "$url" put "${P}config" "$cfg" >/dev/null
h_log "ok: config: a pod CIDR added is routed live, a tunnel change is logged"

# ---- 8. the only gateway's record vanishes (g1 is gone): kept, shown as deregistered ----
rec=$(etcdget gateways/g2)
h_in "$store" etcdctl --endpoints "$url" del "${P}gateways/g2" >/dev/null
shown() { status | jq -e '.tunnel.gateways[] | select(.name == "g2") | .deregistered == true' >/dev/null; }
h_wait_for 5 shown || h_fail "g2 should be kept and shown as deregistered"
t0=$(date +%s%N)
sleep 2
active_is g2 || h_fail "the only gateway should keep carrying the traffic"
no_fail_since out-ok "$t0" || { diagnose; h_fail "machine -> api:8080 failed with the only gateway deregistered"; }
h_in "$store" etcdctl --endpoints "$url" put "${P}gateways/g2" "$rec" >/dev/null
unshown() { ! shown && active_is g2; }
h_wait_for 5 unshown || h_fail "g2 registered again should lose its deregistered mark"
h_log "ok: the last gateway's record deleted: kept carrying the traffic, marked, then restored"

# ---- never: a denied probe that connected ----
for p in out-egress out-gw in-deny; do
	n=$(wc -l <"$H_TMP/probe-$p")
	[ "$n" -ge 30 ] || h_fail "probe $p ran only $n times"
	if awk '$2 == 0 {found = 1} END {exit !found}' "$H_TMP/probe-$p"; then
		h_fail "denied probe $p connected at $(awk '$2 == 0 {print $1; exit}' "$H_TMP/probe-$p")"
	fi
	h_log "ok: $p: $n attempts, none connected"
done
for p in out-ok in-ok; do
	h_log "$p: $(wc -l <"$H_TMP/probe-$p") attempts, $(awk '$2 != 0' "$H_TMP/probe-$p" | wc -l) failed"
done
# Both daemons exit normally, so that an ASan/UBSan build reports leaks in their logs.
kill -TERM "$VMPID" "${GWPID[g2]}"
rc=0
wait "$VMPID" || rc=$?
[ $rc -eq 0 ] || h_fail "the machine's pseudopodd exited $rc on SIGTERM"
h_wait_for 10 bash -c "! kill -0 ${GWPID[g2]} 2>/dev/null" || h_fail "g2 did not stop"
! grep -q 'Sanitizer\|runtime error' "$H_TMP"/vm.log "$H_TMP"/vm2.log "$H_TMP"/g1.log "$H_TMP"/g2.log ||
	h_fail "sanitizer report in a daemon's log"
h_pass "gateway loss: the machine fails over (kill -9 and SIGTERM), both directions follow, denied never passes"
