#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Lifecycle test (label package), with the INSTALLED binaries, never the build tree's:
#   install -> pseudopod enroll against the test cluster -> traffic enforced as policy says
#   -> upgrade to a rebuilt newer version under a continuous probe (no denied packet
#   passes, the allowed flow keeps working) -> apt-get remove (no programs attached, no
#   tunnel device, no routes; state kept) -> apt-get purge (state and pins gone)
#   -> reinstall + enroll with a new token works.
#
# Where it runs, and why this is safe for the host: the packages are installed with apt
# into a clean Debian 12 root (tests/package/lib.sh, from the signed local repository);
# the installed programs run chrooted into that root, inside the e2e harness's network
# namespaces (nsenter --net), so every device, route and address they make is inside a
# namespace the harness deletes. The root gets its own bpffs instance mounted on its
# /sys/fs/bpf (a new bpffs mount is a separate filesystem: the host's pins are never
# seen), its own /proc, and a tmpfs /run; all are unmounted at exit. There is no systemd
# in the root: what systemd would do is done by the test, from the installed unit's own
# ExecStart= line (start), and by stopping the daemon by PID before 'apt-get remove'
# (the unit's stop) and restarting it after the upgrade (postinst's try-restart).
#
# What it needs from the programs (issue 12/13): a running pseudopodd (Type=notify
# readiness is not needed here), 'pseudopod enroll --no-start', 'pseudopodctl init/token/
# serve' and 'pseudopod leave --offline --keep-state' (prerm's call). Until they exist the
# test FAILS naming what is missing; it does not skip.
#   lifecycle.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
export PP_SOURCE_DIR=$src PP_BUILD_DIR=$build
source "$src/tests/e2e/lib/harness.sh"
source "$src/tests/package/lib.sh"
PK_TEST=lifecycle
h_init
repo=$build/repos/apt
[ -d "$repo/dists" ] || h_fail "$repo: no repository (the package_build test makes it)"

root=$(mktemp -d /var/tmp/pseudopod-lifecycle.XXXXXX)
h_on_exit "rm -rf --one-file-system '$root'"
# shellcheck disable=SC2046
pk_root "$root" $(ls "$repo"/pool/main/*.deb)
pk_repo "$root" "$repo"
# apt-get in the root: before the namespaces exist in an empty one (pk_in); from then on in
# the machine's, where the maintainer scripts must find its tunnel device and routes.
apt_ns=
apt_in() {
	local env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8
		DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confold "$@")
	if [ -n "$apt_ns" ]; then
		nsenter --net="/run/netns/$apt_ns" -- chroot "$root" "${env[@]}" >>"$H_TMP/apt.log" 2>&1
	else
		pk_in "$root" "${env[@]:2}" >>"$H_TMP/apt.log" 2>&1
	fi
}
apt_in update || h_fail "apt-get update"
apt_in install --no-install-recommends pseudopod pseudopodctl || h_fail "apt-get install"
v1=$(pk_in "$root" dpkg-query -W -f='${Version}' pseudopod)
h_log "installed pseudopod $v1 into $root"
# wireguard-go is pseudopod's Recommends for kernels without WireGuard (this one): apt would
# bring it from the Debian mirror, which the root's repository here does not carry, so the
# host's copy (a Debian package too, linked against libc only) stands in for it.
install -m 0755 "$(command -v wireguard-go)" "$root/usr/bin/wireguard-go"

# The root's own kernel views, in the host's mount namespace so every nsenter sees them
# (each unmounted at exit, before the root is deleted).
for m in proc:proc sys/fs/bpf:bpf run:tmpfs; do
	mkdir -p "$root/${m%%:*}"
	mount -t "${m#*:}" "${m#*:}" "$root/${m%%:*}"
	h_on_exit "umount -l '$root/${m%%:*}'"
done
mkdir -p "$root/dev/net"
[ -e "$root/dev/net/tun" ] || mknod -m 0600 "$root/dev/net/tun" c 10 200
# run_in NS CMD...: an installed program, chrooted, in the network namespace NS.
run_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- chroot "$root" "$@"
}

# What is missing for this test, each named (exit status 2 + "not implemented" today).
missing=()
need() { # WHAT CMD...: CMD must exit 0
	pk_in "$root" "${@:2}" >/dev/null 2>&1 || missing+=("$1")
}
# pk_in: an empty network namespace and no bpffs, so an agent that does run cannot touch
# anything; it fails (not enrolled) or is stopped by timeout, but must not say "not
# implemented".
need "pseudopodd (issue 13: running the agent)" sh -c \
	'! timeout 3 pseudopodd --config /etc/pseudopod/pseudopod.conf 2>&1 </dev/null | grep -q "not implemented"'
need "pseudopod enroll (issue 12)" pseudopod enroll --help
need "pseudopod enroll --no-start (issue 12)" sh -c 'pseudopod enroll --help | grep -q -- --no-start'
need "pseudopod leave (issue 12)" pseudopod leave --help
need "pseudopod leave --keep-state (prerm's 'pseudopod leave --offline --keep-state')" \
	sh -c 'pseudopod leave --help | grep -q -- --keep-state'
need "pseudopodctl token (issue 12)" pseudopodctl token --help
need "pseudopodctl serve (issue 12)" pseudopodctl serve --help
if [ ${#missing[@]} -gt 0 ]; then
	for m in "${missing[@]}"; do h_log "missing: $m"; done
	h_fail "the installed packages lack what the lifecycle needs (listed above)"
fi

# The cluster: etcd, the cluster config and enrollment PKI, the enrollment API, a gateway
# node with two pods, all in namespaces; the gateway runs the installed pseudopodd too,
# with its own state, pins and socket (gateway.conf), as pseudopod-gateway.service would.
h_underlay
gw=$(h_node gw 10.99.0.10/24)
machine=$(h_host m1 10.99.0.20/24)
apt_ns=$machine
web=$(h_pod "$gw" web 10.200.1.10)
db=$(h_pod "$gw" db 10.200.1.20)
etcd_url=$(h_etcd "$gw")
P="/pp$H_RUN/"
store=(--store "$etcd_url" --store-prefix "$P")
run_in "$gw" pseudopodctl init --cluster-name lab --cluster-id 7 --pod-cidr 10.200.0.0/16 \
	--workload-cidr 10.201.0.0/16 "${store[@]}" >/dev/null || h_fail "pseudopodctl init"
run_in "$gw" pseudopodctl init --pki-dir /etc/pseudopod/pki --server-ip 10.99.0.10 \
	>/dev/null || h_fail "pseudopodctl init (PKI)"
run_in "$gw" pseudopodctl endpoint add --ip 10.200.1.10 --labels app=web --gateway 10.99.0.10 \
	"${store[@]}" >/dev/null || h_fail "endpoint web"
run_in "$gw" pseudopodctl endpoint add --ip 10.200.1.20 --labels app=db --gateway 10.99.0.10 \
	"${store[@]}" >/dev/null || h_fail "endpoint db"
h_spawn "$gw" serve chroot "$root" pseudopodctl serve --pki-dir /etc/pseudopod/pki \
	--listen 10.99.0.10 --port 9443 "${store[@]}" >/dev/null
h_wait_for 20 h_in "$machine" curl -sfk -m 2 https://10.99.0.10:9443/healthz ||
	h_fail "pseudopodctl serve did not start"
cat >"$root/etc/pseudopod/gateway.conf" <<EOC
[agent]
mode = gateway
name = gw
state-dir = /var/lib/pseudopod-gw
bpffs-root = /sys/fs/bpf/pseudopod-gw
api-socket = /run/pseudopod-gw/api.sock
metrics-address =
[store]
endpoints = $etcd_url
prefix = $P
[tunnel]
device = ppgw0
EOC
mkdir -p "$root/run/pseudopod-gw"
install -d -m 0700 "$root/var/lib/pseudopod-gw"
# The gateway's WireGuard key, as an operator makes it for pseudopod-gateway.service.
(umask 077 && wg genkey >"$root/var/lib/pseudopod-gw/wireguard.key")
h_spawn "$gw" gateway chroot "$root" pseudopodd --config /etc/pseudopod/gateway.conf \
	--mode gateway >/dev/null
# It registers gateways/gw (underlay, WireGuard key) itself; machines enroll after that.
h_wait_for 30 grep -q "ready: gateway synced" "$H_TMP/gateway.log" ||
	h_fail "the gateway pseudopodd did not become ready"
# The machine may reach web:80, not db:5432 (a machine's egress policy by its labels).
run_in "$gw" pseudopodctl policy apply -f /dev/stdin "${store[@]}" >/dev/null <<'Y' ||
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: legacy-egress, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: legacy}}
  egress: [{toEndpoints: [{matchLabels: {app: web}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]
Y
	h_fail "policy apply"
h_tcp_listen "$web" 10.200.1.10 80
h_tcp_listen "$db" 10.200.1.20 5432

# The agent as pseudopod.service starts it: its ExecStart= from the installed unit.
exec_start=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/pseudopod.service")
[ -n "$exec_start" ] || h_fail "no ExecStart= in the installed pseudopod.service"
agent_pid=
start_agent() {
	[ -f "$root/var/lib/pseudopod/enrollment.json" ] ||
		h_fail "the unit's condition (/var/lib/pseudopod/enrollment.json) is not met after enroll"
	# What the unit's StateDirectory=/RuntimeDirectory= make before ExecStart=.
	install -d -m 0700 "$root/var/lib/pseudopod"
	install -d -m 0750 "$root/run/pseudopod"
	# shellcheck disable=SC2086
	agent_pid=$(h_spawn "$machine" "agent-$1" chroot "$root" $exec_start)
	h_wait_for 30 run_in "$machine" pseudopod status ||
		h_fail "the agent ($1) did not answer 'pseudopod status'"
}
stop_agent() {
	h_kill "$agent_pid"
}
enroll() { # NAME
	local join
	join=$(run_in "$gw" pseudopodctl token create --server https://10.99.0.10:9443 \
		--pki-dir /etc/pseudopod/pki --labels app=legacy --name "$1" -o json "${store[@]}" |
		jq -r .join) || h_fail "token create"
	run_in "$machine" pseudopod enroll --no-start --underlay-ip 10.99.0.20 "$join" \
		>>"$H_TMP/enroll.log" 2>&1 || h_fail "pseudopod enroll $1"
}
enforced() {
	h_wait_for 30 h_tcp_connect "$machine" 10.200.1.10 80 1 || h_fail "allowed web:80 does not connect"
	h_expect_tcp_blocked "$machine" 10.200.1.20 5432
}
enroll m1
start_agent v1
enforced
h_log "enrolled, enforcing: web:80 allowed, db:5432 denied"

# Upgrade under a continuous probe: a rebuilt newer version into the same repository.
v2="$v1+lifecycle$H_RUN"
"$src/packaging/build-repos" --out "$build/repos" --version "$v2" --no-rpm --no-check \
	>"$H_TMP/build-v2.log" 2>&1 || h_fail "build-repos --version $v2"
pk_repo "$root" "$repo"
probe() {
	while :; do
		if h_tcp_connect "$machine" 10.200.1.20 5432 0.3; then echo "denied-passed $(date +%s.%N)"; fi
		if ! h_tcp_connect "$machine" 10.200.1.10 80 1; then echo "allowed-failed $(date +%s.%N)"; fi
		sleep 0.05
	done
}
probe >"$H_TMP/probe.out" 2>/dev/null &
probe_pid=$!
echo "$probe_pid" >>"$H_TMP/.pids"
sleep 1
apt_in update || h_fail "apt-get update (v2)"
apt_in install --no-install-recommends pseudopod pseudopodctl || h_fail "apt-get upgrade to $v2"
got=$(pk_in "$root" dpkg-query -W -f='${Version}' pseudopod)
[ "$got" = "$v2" ] || h_fail "upgrade: installed $got, expected $v2"
# postinst's try-restart (systemd): the running agent is replaced by the new binary.
stop_agent
start_agent v2
sleep 2
h_kill "$probe_pid"
if grep -q denied-passed "$H_TMP/probe.out"; then
	h_fail "upgrade: a denied connection passed: $(grep -c denied-passed "$H_TMP/probe.out") times"
fi
if grep -q allowed-failed "$H_TMP/probe.out"; then
	h_fail "upgrade: the allowed flow broke $(grep -c allowed-failed "$H_TMP/probe.out") times"
fi
enforced
h_log "upgraded $v1 -> $v2 under the probe: no denied connection passed, no allowed one failed"

# Remove: the unit's stop, then apt-get remove (prerm: leave --offline --keep-state).
stop_agent
apt_in remove pseudopod || h_fail "apt-get remove pseudopod"
if grep -q "ERROR" "$H_TMP/apt.log"; then
	h_fail "apt-get remove: prerm reported: $(grep ERROR "$H_TMP/apt.log" | head -3)"
fi
[ -z "$(h_in "$machine" ip -o link show dev pp0 2>/dev/null)" ] || h_fail "remove left the tunnel device pp0"
[ -z "$(h_in "$machine" ip route show | grep -v 10.99.0.0/24)" ] ||
	h_fail "remove left routes: $(h_in "$machine" ip route show)"
attached=$(h_in "$machine" bpftool -j net show | jq '[.[] | (.xdp // []) + (.tc // []) | length] | add')
[ "$attached" = 0 ] || h_fail "remove left $attached programs attached: $(h_in "$machine" bpftool net show)"
[ -z "$(ls -A "$root/sys/fs/bpf/pseudopod" 2>/dev/null)" ] || h_fail "remove left pins in /sys/fs/bpf/pseudopod"
[ -f "$root/var/lib/pseudopod/enrollment.json" ] || h_fail "remove deleted the enrollment state"
h_log "removed: no device, routes, programs or pins; state kept"

# Purge: state and pins gone.
apt_in purge pseudopod || h_fail "apt-get purge pseudopod"
[ ! -e "$root/var/lib/pseudopod" ] || h_fail "purge left /var/lib/pseudopod"
[ ! -e "$root/sys/fs/bpf/pseudopod" ] || h_fail "purge left /sys/fs/bpf/pseudopod"
h_log "purged: state and pins gone"

# Reinstall and enroll with a new token.
run_in "$gw" pseudopodctl workload delete m1 "${store[@]}" >/dev/null || h_fail "workload delete m1"
apt_in install --no-install-recommends pseudopod || h_fail "apt-get install (again)"
enroll m1
start_agent reinstalled
enforced
stop_agent
h_pass "install, enroll, enforce, upgrade under a probe, remove, purge, reinstall + enroll"
