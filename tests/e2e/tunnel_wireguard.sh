#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# WireGuard over wireguard-go, configured by pp-tunnel (our keys, UAPI code, links):
#  - keys: our public key equals `wg pubkey` of our private key; key files are 0600 and a
#    readable key file is refused;
#  - a workload and a gateway node carry ping and TCP over the tunnel, and a pod behind
#    the gateway reaches the workload (cluster CIDR routed via the tunnel);
#  - `wg show` (wireguard-tools, not our code) reads back what we set;
#  - MTU = underlay - 60; a DF packet at the MTU passes, a bigger one gets
#    "fragmentation needed" from the gateway;
#  - configuring twice is idempotent;
#  - auto-detection picks a backend (the gateway uses it);
#  - a killed wireguard-go is restarted by supervision, the configuration is re-applied
#    and traffic resumes; repeated kills are restarted with back-off;
#  - stopping the tool removes the devices and sockets: nothing is left behind.
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"
h_init
command -v wireguard-go >/dev/null || h_fail "wireguard-go missing: apt-get install wireguard-go"
command -v wg >/dev/null || h_fail "wg missing: apt-get install wireguard-tools"
T=$(h_bin pp-tunnel)

h_underlay
wl=$(h_host wl 10.99.0.2/24)
gw=$(h_node gw 10.99.0.3/24)
pod=$(h_pod "$gw" pod 10.200.1.5)
# Proxy ARP for the pod's gateway 169.254.1.1 needs the node to have a route to it (a real
# node has a default route; this one has none).
ip -n "$gw" route add 169.254.1.1/32 dev ul0
IFW="w${H_RUN}wl"
IFG="w${H_RUN}gw"
h_on_exit "rm -f /var/run/wireguard/$IFW.sock /var/run/wireguard/$IFG.sock"

# ---- keys ----
"$T" writekey "$H_TMP/wl.key"
"$T" writekey "$H_TMP/gw.key"
[ "$(stat -c %a "$H_TMP/wl.key")" = 600 ] || h_fail "key file mode is not 0600"
WLPUB=$("$T" readkey "$H_TMP/wl.key")
GWPUB=$("$T" readkey "$H_TMP/gw.key")
[ "$WLPUB" = "$(wg pubkey <"$H_TMP/wl.key")" ] || h_fail "our public key differs from wg pubkey"
[ "$("$T" pubkey <"$H_TMP/gw.key")" = "$(wg pubkey <"$H_TMP/gw.key")" ] || h_fail "pubkey differs"
k=$(wg genkey)
[ "$(echo "$k" | "$T" pubkey)" = "$(echo "$k" | wg pubkey)" ] || h_fail "pubkey of a wg genkey key differs"
cp "$H_TMP/wl.key" "$H_TMP/loose.key"
chmod 644 "$H_TMP/loose.key"
if "$T" readkey "$H_TMP/loose.key" 2>"$H_TMP/loose.err"; then h_fail "a 0644 key file was accepted"; fi
grep -q "chmod 600" "$H_TMP/loose.err" || h_fail "no clear error for a 0644 key: $(cat "$H_TMP/loose.err")"
h_log "ok: keys interoperate with wg, loose key files are refused"

# ---- tunnel up ----
# Auto-detection picks a backend and says which (userspace here: no wireguard module).
be=$("$T" detect) || h_fail "no WireGuard backend detected"
[ "$be" = userspace ] || [ "$be" = kernel ] || h_fail "detect printed '$be'"
h_log "ok: auto-detection picks the $be backend"

# The gateway uses auto-detection; the workload asks for wireguard-go explicitly.
gw_up() {
	h_spawn "$gw" gw "$T" wg-up "$IFG" --private-key "$H_TMP/gw.key" --port 51871 \
		--backend auto --address 10.250.0.1/32 --mtu auto --route 10.250.0.2/32 \
		--peer "$WLPUB,10.99.0.2:51871,10.250.0.2/32,5" --foreground
}
wl_up() {
	h_spawn "$wl" wl "$T" wg-up "$IFW" --private-key "$H_TMP/wl.key" --port 51871 \
		--backend userspace --address 10.250.0.2/32 --mtu auto --route 10.250.0.1/32 \
		--route 10.200.0.0/16 --peer "$GWPUB,10.99.0.3:51871,10.250.0.1/32+10.200.0.0/16,5" \
		--foreground
}
# The gateway first, as in a cluster: a machine's first handshakes then find it configured.
gwpid=$(gw_up)
h_wait_for 15 grep -q "^ready" "$H_TMP/gw.log" || h_fail "gateway tunnel did not come up"
wlpid=$(wl_up)
h_wait_for 15 grep -q "^ready" "$H_TMP/wl.log" || h_fail "workload tunnel did not come up"

h_wait_for 20 h_in "$wl" ping -c1 -W1 10.250.0.1 || h_fail "no ping over the tunnel"
h_log "ok: ping workload -> gateway over wireguard-go"
h_tcp_listen "$gw" 10.250.0.1 8080
h_expect_tcp_ok "$wl" 10.250.0.1 8080
h_tcp_listen "$wl" 10.250.0.2 9090
h_expect_tcp_ok "$pod" 10.250.0.2 9090
h_in "$pod" ping -c1 -W2 10.250.0.2 >/dev/null || h_fail "pod cannot ping the workload"
h_log "ok: pod behind the gateway reaches the workload through the tunnel"

# ---- wg show agrees with what we set ----
show=$(h_in "$wl" wg show "$IFW" dump)
echo "$show" >"$H_TMP/wl-dump.txt"
dev_line=$(echo "$show" | head -1)
peer_line=$(echo "$show" | sed -n 2p)
[ "$(echo "$dev_line" | cut -f1)" = "$(cat "$H_TMP/wl.key")" ] || h_fail "wg show private key differs"
[ "$(echo "$dev_line" | cut -f2)" = "$WLPUB" ] || h_fail "wg show public key differs"
[ "$(echo "$dev_line" | cut -f3)" = 51871 ] || h_fail "wg show listen port differs"
[ "$(echo "$peer_line" | cut -f1)" = "$GWPUB" ] || h_fail "wg show peer key differs"
[ "$(echo "$peer_line" | cut -f3)" = "10.99.0.3:51871" ] || h_fail "wg show endpoint differs"
[ "$(echo "$peer_line" | cut -f4 | tr , '\n' | sort | tr '\n' ' ')" = "10.200.0.0/16 10.250.0.1/32 " ] ||
	h_fail "wg show allowed-ips differ: $(echo "$peer_line" | cut -f4)"
[ "$(echo "$peer_line" | cut -f8)" = 5 ] || h_fail "wg show keepalive differs"
[ "$(echo "$peer_line" | cut -f5)" -gt 0 ] || h_fail "no handshake in wg show"
ours=$(h_in "$wl" "$T" wg-show "$IFW" --backend userspace)
set -- $ours
[ "$1" = "$GWPUB" ] && [ "$2" = "10.99.0.3:51871" ] && [ "$4" -gt 0 ] && [ "$5" -gt 0 ] ||
	h_fail "our wg-show disagrees: $ours"
h_log "ok: wg show reads back keys, port, peer, endpoint, allowed-ips, keepalive"

# ---- MTU and DF ----
link_mtu() { ip -n "$1" -o link show dev "$2" | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }
ul_mtu=$(link_mtu "$wl" ul0)
mtu=$(link_mtu "$wl" "$IFW")
[ "$mtu" -eq $((ul_mtu - 60)) ] || h_fail "tunnel MTU $mtu, expected $((ul_mtu - 60))"
[ "$(h_in "$wl" cat "/proc/sys/net/ipv4/conf/$IFW/rp_filter")" = 2 ] || h_fail "rp_filter not loose"
h_in "$pod" ping -c1 -W2 -M do -s $((mtu - 28)) 10.250.0.2 >/dev/null ||
	h_fail "a DF packet of exactly the tunnel MTU ($mtu) did not pass"
out=$(h_in "$pod" ping -c1 -W2 -M do -s $((mtu - 27)) 10.250.0.2 2>&1 || true)
echo "$out" | grep -Eq "Frag needed|mtu ?= ?$mtu" ||
	h_fail "a DF packet over the MTU did not get 'fragmentation needed': $out"
h_log "ok: MTU $mtu; DF at the MTU passes, MTU+1 gets fragmentation needed"

# ---- idempotent: configuring again changes nothing and fails nothing ----
h_in "$wl" "$T" wg-up "$IFW" --private-key "$H_TMP/wl.key" --port 51871 --backend userspace \
	--address 10.250.0.2/32 --mtu auto --route 10.250.0.1/32 --route 10.200.0.0/16 \
	--peer "$GWPUB,10.99.0.3:51871,10.250.0.1/32+10.200.0.0/16,5" ||
	h_fail "configuring the device a second time failed"
[ "$(h_in "$wl" wg show "$IFW" peers | wc -l)" = 1 ] || h_fail "second configure duplicated peers"
[ "$(h_in "$wl" ip -4 -o addr show dev "$IFW" | wc -l)" = 1 ] || h_fail "address duplicated"
h_in "$wl" ping -c1 -W2 10.250.0.1 >/dev/null || h_fail "no ping after re-configuring"
h_log "ok: configuring twice is idempotent"

# ---- supervision: kill wireguard-go, it comes back with its configuration ----
child=$(pgrep -o -P "$wlpid" || true)
[ -n "$child" ] || h_fail "no wireguard-go child under pp-tunnel ($wlpid)"
kill -9 "$child"
h_wait_for 20 grep -q "link configuration re-applied" "$H_TMP/wl.log" ||
	h_fail "wireguard-go was not restarted"
newchild=$(pgrep -o -P "$wlpid" || true)
[ -n "$newchild" ] && [ "$newchild" != "$child" ] || h_fail "no new wireguard-go child"
h_wait_for 20 h_in "$wl" ping -c1 -W1 10.250.0.1 || h_fail "traffic did not resume after restart"
h_expect_tcp_ok "$wl" 10.250.0.1 8080
[ "$(h_in "$wl" wg show "$IFW" peers)" = "$GWPUB" ] || h_fail "peer not re-applied after restart"
h_log "ok: killed wireguard-go restarted, configuration re-applied, traffic resumed"

# Repeated deaths within a minute are restarted with back-off (200 ms, 400 ms, ...), and
# still come back.
for n in 2 3; do
	child=$(pgrep -o -P "$wlpid" || true)
	[ -n "$child" ] || h_fail "no wireguard-go child before kill #$n"
	kill -9 "$child"
	h_wait_for 20 grep -q "restarted (restart $n)" "$H_TMP/wl.log" || h_fail "no restart #$n"
done
h_wait_for 20 h_in "$wl" ping -c1 -W1 10.250.0.1 || h_fail "traffic did not resume after kill #3"
h_log "ok: repeated kills restarted with back-off, traffic resumed"

# ---- cleanup leaves nothing ----
wgpid=$(pgrep -o -P "$wlpid" || true)
[ -n "$wgpid" ] || h_fail "no wireguard-go child before cleanup"
h_kill "$wlpid"
h_kill "$gwpid"
sleep 0.5
h_in "$wl" ip link show "$IFW" >/dev/null 2>&1 && h_fail "workload device left behind"
h_in "$gw" ip link show "$IFG" >/dev/null 2>&1 && h_fail "gateway device left behind"
[ -e "/var/run/wireguard/$IFW.sock" ] && h_fail "UAPI socket left behind"
kill -0 "$wgpid" 2>/dev/null && h_fail "wireguard-go ($wgpid) left running"
h_pass "wireguard-go tunnel: keys, traffic, wg show, MTU/DF, idempotence, restart, cleanup"
