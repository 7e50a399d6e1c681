#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs INSIDE the QEMU guest (tests/kernel/run-in-vm.sh) on a kernel with wireguard.ko.
# Two namespaces joined by a veth "underlay"; a kernel WireGuard tunnel between them
# configured only by our genetlink code (pp-wgk -> tunnel/wg_kernel.c). Checks: ping and
# TCP through the tunnel; 'wg show' agrees with what we set and with our own dump parser;
# peer updates and removals are incremental; 1,000 peers; a peer whose allowed-IPs span
# several netlink messages; adopting, refusing a non-WireGuard device, deleting.
set -euo pipefail

step=0
ok() { step=$((step + 1)); echo "ok $step - $*"; }
fail() { echo "not ok - $*" >&2; exit 1; }
A() { ip netns exec wka "$@"; }
B() { ip netns exec wkb "$@"; }
# 'wg show dump' without the counters that move with traffic (handshake, rx, tx).
stable() { awk -F'\t' 'BEGIN{OFS="\t"} NF==8 {$5=$6=$7="-"} {print}' | sort; }

ip netns add wka
ip netns add wkb
ip link add ula type veth peer name ulb
ip link set ula netns wka
ip link set ulb netns wkb
A ip addr add 192.168.77.1/24 dev ula
B ip addr add 192.168.77.2/24 dev ulb
A ip link set ula up
B ip link set ulb up
A ip link set lo up
B ip link set lo up

umask 077
wg genkey >/tmp/ka
wg genkey >/tmp/kb
pa=$(wg pubkey </tmp/ka)
pb=$(wg pubkey </tmp/kb)

# --- device and one peer each side, all through our genetlink code -------------------------
A pp-wgk up wga
B pp-wgk up wgb
A pp-wgk set wga private-key /tmp/ka listen-port 51871
B pp-wgk set wgb private-key /tmp/kb listen-port 51872
A pp-wgk peer wga "$pb" endpoint 192.168.77.2:51872 allowed-ips 10.77.0.2/32 keepalive 25
B pp-wgk peer wgb "$pa" endpoint 192.168.77.1:51871 allowed-ips 10.77.0.1/32
A ip addr add 10.77.0.1/24 dev wga
B ip addr add 10.77.0.2/24 dev wgb
A ip link set wga up
B ip link set wgb up
ok "devices, keys, ports and peers set over genetlink"

# --- wg show reads back exactly what we set -------------------------------------------------
IFS=$'\t' read -r priv pub port fwmark < <(A wg show wga dump | sed -n 1p)
[ "$priv" = "$(cat /tmp/ka)" ] || fail "wg show: private key $priv"
[ "$pub" = "$pa" ] || fail "wg show: public key $pub, expected $pa"
[ "$port" = 51871 ] || fail "wg show: listen port $port"
[ "$fwmark" = off ] || fail "wg show: fwmark $fwmark"
IFS=$'\t' read -r ppub psk ep aips _ _ _ ka < <(A wg show wga dump | sed -n 2p)
[ "$ppub" = "$pb" ] || fail "wg show: peer key $ppub"
[ "$psk" = "(none)" ] || fail "wg show: preshared key $psk"
[ "$ep" = 192.168.77.2:51872 ] || fail "wg show: endpoint $ep"
[ "$aips" = 10.77.0.2/32 ] || fail "wg show: allowed-ips $aips"
[ "$ka" = 25 ] || fail "wg show: keepalive $ka"
ok "wg show agrees with the key, port, peer, endpoint, allowed-ips and keepalive we set"

# --- traffic --------------------------------------------------------------------------------
# The first packet waits for the handshake; under emulation that can take a few seconds.
for _ in $(seq 20); do
	A ping -c 1 -W 2 10.77.0.2 >/dev/null 2>&1 && break
done
A ping -c 3 -W 2 10.77.0.2 >/dev/null || fail "ping through the kernel tunnel"
ok "ping through the tunnel"
B sh -c 'nc -l -p 5555 >/tmp/tcp.out' &
nc_pid=$!
sleep 0.5
echo "hello over kernel wireguard" | A nc -w 3 10.77.0.2 5555 || fail "TCP connect"
wait "$nc_pid" || true
grep -q "hello over kernel wireguard" /tmp/tcp.out || fail "TCP payload did not arrive"
ok "TCP through the tunnel"

# --- our dump parser reads what wg reads ----------------------------------------------------
diff <(A pp-wgk dump wga | stable) <(A wg show wga dump | stable) || fail "pp-wgk dump != wg show dump"
hs=$(A wg show wga latest-handshakes | awk '{print $2}')
[ "$hs" -gt 0 ] || fail "no handshake recorded"
rx=$(A pp-wgk dump wga | awk -F'\t' 'NR==2{print $6}')
[ "$rx" -gt 0 ] || fail "our dump shows no rx bytes after traffic"
ok "pp-wgk dump equals wg show dump (handshake $hs, rx $rx bytes)"

# --- and reads what wg(8) set: fwmark, an IPv6 endpoint, keepalive ------------------------
other=$(wg genkey | wg pubkey)
A wg set wga fwmark 0x42 peer "$other" endpoint '[fd00:1::9]:4444' persistent-keepalive 7 \
	allowed-ips 10.99.0.0/16,fd00:99::/64
diff <(A pp-wgk dump wga | stable) <(A wg show wga dump | stable) ||
	fail "pp-wgk dump != wg show dump for a peer wg(8) configured"
A wg set wga fwmark 0 peer "$other" remove
ok "our parser reads a peer and fwmark configured by wg(8) exactly as wg does"

# --- peer update: add allowed-ips, then replace them; endpoint change ----------------------
A pp-wgk peer wga "$pb" endpoint 192.168.77.2:51872 allowed-ips 10.77.1.0/24 keepalive 25
[ "$(A wg show wga allowed-ips | cut -f2)" = "10.77.0.2/32 10.77.1.0/24" ] ||
	fail "add allowed-ips: $(A wg show wga allowed-ips)"
A pp-wgk peer wga "$pb" endpoint 192.168.77.2:51872 allowed-ips 10.77.0.2/32,fd77::2/128 keepalive 25 replace
[ "$(A wg show wga allowed-ips | cut -f2)" = "10.77.0.2/32 fd77::2/128" ] ||
	fail "replace allowed-ips: $(A wg show wga allowed-ips)"
ok "peer update adds allowed-ips, 'replace' replaces them"

# Move the endpoint to an IPv6 underlay: the handshake and traffic follow it.
A ip addr add fd77::1/64 dev ula nodad
B ip addr add fd77::2/64 dev ulb nodad
A pp-wgk peer wga "$pb" endpoint '[fd77::2]:51872' keepalive 25
B pp-wgk peer wgb "$pa" endpoint '[fd77::1]:51871'
[ "$(A wg show wga endpoints | cut -f2)" = "[fd77::2]:51872" ] || fail "IPv6 endpoint not set"
A ping -c 2 -W 3 10.77.0.2 >/dev/null || fail "ping over the IPv6 underlay"
[ "$(B wg show wgb endpoints | cut -f2)" = "[fd77::1]:51871" ] || fail "B's endpoint after roaming"
ok "endpoint update to an IPv6 underlay: traffic flows over it"

# --- 1,000 peers, then incrementality --------------------------------------------------------
rate=$(A pp-wgk bulk wga 1000)
echo "# $rate"
n=$(A wg show wga peers | wc -l)
[ "$n" = 1001 ] || fail "expected 1001 peers, wg show lists $n"
diff <(A pp-wgk dump wga | stable) <(A wg show wga dump | stable) >/dev/null ||
	fail "with 1001 peers (multi-part dump) pp-wgk dump != wg show dump"
ok "1,000 peers added one request each; our multi-part dump equals wg show"

A wg show wga dump | stable | grep -v "^$pb" >/tmp/before
A pp-wgk peer wga "$pb" endpoint 192.168.77.2:51872 allowed-ips 10.77.0.2/32 keepalive 10 replace
A wg show wga dump | stable | grep -v "^$pb" >/tmp/after
diff /tmp/before /tmp/after || fail "updating one peer changed others"
[ "$(A wg show wga persistent-keepalive | grep "^$pb" | cut -f2)" = 10 ] || fail "keepalive not updated"
victim=$(A wg show wga peers | grep -v "^$pb" | sed -n 1p)
A pp-wgk remove wga "$victim"
A wg show wga dump | stable | grep -v -e "^$pb" >/tmp/after
diff <(grep -v "^$victim" /tmp/before) /tmp/after || fail "removing one peer changed others"
[ "$(A wg show wga peers | wc -l)" = 1000 ] || fail "remove: expected 1000 peers"
A ping -c 1 -W 2 10.77.0.2 >/dev/null || fail "ping after peer churn"
ok "updating or removing one peer among 1,000 leaves all others untouched; traffic still flows"

# --- one peer with more allowed-ips than one netlink message holds ---------------------------
big=$(wg genkey | wg pubkey)
A pp-wgk many-ips wga "$big" 3000
got=$(A wg show wga allowed-ips | grep "^$big" | cut -f2 | wc -w)
[ "$got" = 3000 ] || fail "peer with 3000 allowed-ips: wg show lists $got"
diff <(A pp-wgk dump wga | stable) <(A wg show wga dump | stable) >/dev/null ||
	fail "split peer: pp-wgk dump != wg show dump"
ok "3,000 allowed-ips on one peer sent in several messages, read back merged"

# --- adopt, refuse, delete -------------------------------------------------------------------
A pp-wgk up wga
[ "$(A wg show wga listen-port)" = 51871 ] || fail "adopting changed the device"
if A pp-wgk up ula 2>/tmp/err; then fail "adopted a veth as WireGuard"; fi
grep -q "cannot be adopted" /tmp/err || fail "unclear error for a veth: $(cat /tmp/err)"
if A pp-wgk dump nosuch0 2>/dev/null; then fail "dump of a missing device succeeded"; fi
A pp-wgk up wgx
A ip link set wgx up # a down device binds no socket, so only an up one can clash
if A pp-wgk set wgx listen-port 51871 2>/tmp/err; then fail "two devices on one port"; fi
grep -q "wgx: setting the listen port: Address already in use" /tmp/err ||
	fail "unclear error for a port clash: $(cat /tmp/err)"
A pp-wgk down wgx
ok "up adopts an existing device, refuses a non-WireGuard one, others never create; errors are clear"

A pp-wgk down wga
B pp-wgk down wgb
if A ip link show wga >/dev/null 2>&1; then fail "wga still exists"; fi
ok "down deletes the device"

# --- the same backend through the public API (tunnel/wg.h dispatcher), when built --------
if command -v pp-tunnel >/dev/null; then
	[ "$(pp-tunnel detect)" = kernel ] || fail "pp-tunnel detect did not pick the kernel backend"
	A pp-tunnel wg-up wpa --backend kernel --private-key /tmp/ka --port 51881 \
		--address 10.78.0.1/24 --mtu auto --underlay-dev ula \
		--peer "$pb,192.168.77.2:51882,10.78.0.2/32"
	B pp-tunnel wg-up wpb --backend kernel --private-key /tmp/kb --port 51882 \
		--address 10.78.0.2/24 --mtu auto --underlay-dev ulb \
		--peer "$pa,192.168.77.1:51881,10.78.0.1/32"
	for _ in $(seq 20); do
		A ping -c 1 -W 2 10.78.0.2 >/dev/null 2>&1 && break
	done
	A ping -c 3 -W 2 10.78.0.2 >/dev/null || fail "ping through pp-tunnel's kernel device"
	[ "$(A wg show wpa listen-port)" = 51881 ] || fail "pp-tunnel: listen port"
	[ "$(A wg show wpa endpoints | cut -f2)" = 192.168.77.2:51882 ] || fail "pp-tunnel: endpoint"
	[ "$(A ip -o link show wpa | grep -o 'mtu [0-9]*')" = "mtu 1440" ] ||
		fail "pp-tunnel: MTU $(A ip -o link show wpa | grep -o 'mtu [0-9]*'), expected 1500-60"
	A pp-tunnel wg-show wpa --backend kernel | grep -q "^$pb 192.168.77.2:51882 10.78.0.2/32 " ||
		fail "pp-tunnel wg-show: $(A pp-tunnel wg-show wpa --backend kernel)"
	A pp-tunnel down wpa
	B pp-tunnel down wpb
	if A ip link show wpa >/dev/null 2>&1; then fail "pp-tunnel down left wpa"; fi
	ok "pp-tunnel --backend kernel (dispatcher + ops): tunnel up, MTU 1440, ping, wg show, down"
else
	echo "# pp-tunnel not provided: the dispatcher path was not exercised"
fi

ip netns del wka
ip netns del wkb
echo "# all $step checks passed"
