#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Gateway role: 1,000 peers on one wireguard-go device, added one UAPI operation at a time;
# then single-peer add, update and remove are incremental — every other peer's
# configuration is byte-for-byte the same in `wg show dump` — and a real workload's
# traffic keeps flowing through all of it.
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"
h_init
T=$(h_bin pp-tunnel)
N=1000
h_underlay
wl=$(h_host wl 10.99.0.2/24)
gw=$(h_host gw 10.99.0.3/24)
IFW="w${H_RUN}wl"
IFG="w${H_RUN}gw"
h_on_exit "rm -f /var/run/wireguard/$IFW.sock /var/run/wireguard/$IFG.sock"
WLPUB=$(h_tunnel_key wl)
GWPUB=$(h_tunnel_key gw)

gpid=$(h_spawn "$gw" gw "$T" wg-up "$IFG" --private-key "$H_TMP/gw.key" --port 51871 \
	--backend userspace --address 10.250.0.1/16 --foreground)
h_wait_for 15 grep -q "^ready" "$H_TMP/gw.log" || h_fail "gateway did not come up"
h_in "$gw" "$T" peer-flood "$IFG" $N --json --backend userspace >"$H_TMP/flood.json" ||
	h_fail "adding $N peers failed"
h_log "added $N peers: $(cat "$H_TMP/flood.json")"
[ "$(h_in "$gw" wg show "$IFG" peers | wc -l)" = $N ] || h_fail "gateway does not have $N peers"
[ "$(h_in "$gw" "$T" wg-show "$IFG" --backend userspace | wc -l)" = $N ] ||
	h_fail "our API does not read back $N peers"

dump() { h_in "$gw" wg show "$IFG" dump | tail -n +2 | cut -f1,3,4,8 | sort; }
dump >"$H_TMP/before"

# Add a real workload as peer N+1 and bring it up: traffic flows.
h_in "$gw" "$T" wg-set "$IFG" "$WLPUB,10.99.0.2:51871,10.250.200.1/32,0" --backend userspace ||
	h_fail "wg-set (add) failed"
wpid=$(h_spawn "$wl" wl "$T" wg-up "$IFW" --private-key "$H_TMP/wl.key" --port 51871 \
	--backend userspace --address 10.250.200.1/16 \
	--peer "$GWPUB,10.99.0.3:51871,10.250.0.1/32,1" --foreground)
h_wait_for 15 grep -q "^ready" "$H_TMP/wl.log" || h_fail "workload did not come up"
h_wait_for 15 h_in "$wl" ping -c1 -W1 10.250.0.1 || h_fail "no traffic with $N peers configured"
h_log "ok: workload traffic through a gateway with $((N + 1)) peers"
dump | grep -v "^$WLPUB" >"$H_TMP/after-add"
cmp -s "$H_TMP/before" "$H_TMP/after-add" || h_fail "adding one peer changed others"

# Update one flood peer (endpoint, keepalive, allowed-ips), then remove another.
victim=$(sed -n 10p "$H_TMP/before" | cut -f1)
gone=$(sed -n 20p "$H_TMP/before" | cut -f1)
h_in "$gw" "$T" wg-set "$IFG" "$victim,10.99.0.77:4242,10.251.0.0/24,9" --backend userspace ||
	h_fail "wg-set (update) failed"
h_in "$gw" "$T" wg-remove "$IFG" "$gone" --backend userspace || h_fail "wg-remove failed"
line=$(h_in "$gw" wg show "$IFG" dump | grep "^$victim")
[ "$(echo "$line" | cut -f3,4,8)" = "$(printf '10.99.0.77:4242\t10.251.0.0/24\t9')" ] ||
	h_fail "update not applied: $line"
grep -q "^$gone" <<<"$(h_in "$gw" wg show "$IFG" peers)" && h_fail "removed peer still there"
dump | grep -v -e "^$WLPUB" -e "^$victim" >"$H_TMP/after-change"
grep -v -e "^$victim" -e "^$gone" "$H_TMP/before" >"$H_TMP/expected"
cmp -s "$H_TMP/expected" "$H_TMP/after-change" || h_fail "update/remove of one peer changed others"
[ "$(h_in "$gw" wg show "$IFG" peers | wc -l)" = $N ] || h_fail "peer count is not $N"
h_in "$wl" ping -c1 -W2 10.250.0.1 >/dev/null || h_fail "traffic stopped during peer changes"
h_log "ok: one-peer add/update/remove leave the other $((N - 2)) peers untouched"

h_kill "$wpid"
h_kill "$gpid"
ip -n "$gw" link show "$IFG" >/dev/null 2>&1 && h_fail "gateway device left behind"
h_pass "$N peers on a gateway, incremental add/update/remove, traffic unaffected"
