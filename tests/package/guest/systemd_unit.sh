#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside the package_systemd guest (tests/package/systemd.sh): systemd is PID 1, the
# root is a clean Debian 12 image, /test holds the e2e harness and the built .debs.
# The guest itself is the enrolled machine (pseudopod.service runs in its root network
# namespace, as on a real host); the cluster (etcd, pseudopodctl serve, the gateway unit,
# pods web and db) lives in namespaces on an underlay bridge, as in the e2e tests. Every
# program is the installed one. Checks, in order:
#   install     dpkg -i under the running systemd: pseudopod.service enabled, its
#               condition (no enrollment yet) keeps it down
#   gateway     pseudopod-gateway.service (the installed unit in the gateway's namespace)
#               becomes active after READY=1 with the kernel WireGuard backend, the module
#               loaded by the kernel on demand although the unit cannot load modules
#   enroll      `pseudopod enroll` starts the unit (systemctl enable --now): it is active
#               only after READY=1 (Type=notify), status answers, the datapath is attached
#               and the machine's egress policy is enforced through wireguard-go
#   sandbox     the live daemon: capabilities, no_new_privs, seccomp, wireguard-go in the
#               unit's cgroup; from inside its mount namespace: read-only system, writable
#               state/run/bpffs, no /root; a probe unit with the same [Service] settings:
#               writes outside the writable paths, remount, namespaces, module loading,
#               clock, kernel sysctls, sysrq, disks and /dev/mem refused; state, run,
#               bpffs, /proc/sys/net and /dev/net/tun allowed; systemd-analyze security
#   restart     kill -9: Restart=on-failure brings it back, enforcing throughout; the new
#               agent adopts the running wireguard-go (KillMode=process)
#   stop        systemctl stop: exits 0, the datapath keeps enforcing, the tunnel stays up
#   remove      dpkg -r: prerm stops the unit and leaves (device, wireguard-go, programs
#               gone; state kept)
#   control     the probe as plain root: every refused action succeeds there
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../e2e/lib/harness.sh
source /test/harness.sh
h_init
# shellcheck disable=SC2034 # read by the harness's h_log
H_TEST_NAME=systemd_unit
# The unit's journal goes with the logs a failed run prints.
h_on_exit "journalctl -u pseudopod.service -o short-monotonic --no-pager >$H_TMP/pseudopod.service.log"
unit=pseudopod.service
t_start=$(date +%s)
step() { h_log "[$(($(date +%s) - t_start)) s] $*"; }
prop() { systemctl show -p "$1" --value "$unit"; }
# Connections from the machine (this namespace).
connects() { timeout "${3:-3}" bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
enforced() { # WHEN
	h_wait_for 30 connects 10.200.1.10 80 || h_fail "$1: allowed web:80 does not connect"
	if connects 10.200.1.20 5432 2; then h_fail "$1: denied db:5432 connected"; fi
}

# --- install --------------------------------------------------------------------------
[ "$(ps -p 1 -o comm=)" = systemd ] || h_fail "PID 1 is not systemd"
dpkg -i /test/debs/*.deb >"$H_TMP/dpkg.log" 2>&1 || { cat "$H_TMP/dpkg.log"; h_fail "dpkg -i"; }
[ "$(systemctl is-enabled $unit)" = enabled ] || h_fail "$unit not enabled by the package"
[ "$(prop ActiveState)" = inactive ] || h_fail "$unit is $(prop ActiveState) before enrollment"
[ "$(prop ConditionResult)" = no ] || h_fail "$unit: condition not checked at install"
step "installed $(dpkg-query -W -f='${Version}' pseudopod): unit enabled, held by its condition"

# --- the cluster ------------------------------------------------------------------------
h_underlay
gw=$(h_node gw 10.99.0.10/24)
web=$(h_pod "$gw" web 10.200.1.10)
db=$(h_pod "$gw" db 10.200.1.20)
port="u${H_RUN}m"
ip link add ul0 type veth peer name "$port" netns "$H_UL_NS"
ip -n "$H_UL_NS" link set "$port" master br0 up
ip addr add 10.99.0.20/24 dev ul0
ip link set ul0 up
url=$(h_etcd "$gw")
store=(--store "$url")
ctl() { h_in "$gw" pseudopodctl "$@"; }
ctl init --cluster-name lab --cluster-id 7 --pod-cidr 10.200.0.0/16 \
	--workload-cidr 10.201.0.0/16 "${store[@]}" >/dev/null || h_fail "pseudopodctl init"
ctl init --pki-dir /etc/pseudopod/pki --server-ip 10.99.0.10 >/dev/null || h_fail "init (PKI)"
for ep in 10.200.1.10:web 10.200.1.20:db; do
	ctl endpoint add --ip "${ep%%:*}" --labels "app=${ep#*:}" --gateway 10.99.0.10 \
		"${store[@]}" >/dev/null || h_fail "endpoint ${ep#*:}"
done
h_spawn "$gw" serve pseudopodctl serve --pki-dir /etc/pseudopod/pki --listen 10.99.0.10 \
	--port 9443 "${store[@]}" >/dev/null
h_wait_for 30 curl -sfk -m 2 https://10.99.0.10:9443/healthz >/dev/null ||
	h_fail "pseudopodctl serve did not start"
# The gateway node runs pseudopod-gateway.service itself, in its namespace: the installed
# unit verbatim, but for NetworkNamespacePath= and its [Unit] Conflicts= (the guest is
# also the workload machine, which a real host never is). Its state, socket and pins are
# inside the unit's writable paths, so the gateway's sandbox is tested unchanged.
# Its tunnel uses the kernel backend, with wireguard.ko unloaded first: the unit has
# ProtectKernelModules=yes, so the module must come from the kernel's own on-demand load
# (the initramfs loaded it and copied it into the image; depmod indexes that copy).
gwunit=pp-test-gateway.service
depmod
rmmod wireguard || h_fail "rmmod wireguard"
install -d -m 0700 /var/lib/pseudopod/gw
(umask 077 && wg genkey >/var/lib/pseudopod/gw/wireguard.key)
cat >/etc/pseudopod/gateway.conf <<EOC
[agent]
mode = gateway
name = gw
state-dir = /var/lib/pseudopod/gw
bpffs-root = /sys/fs/bpf/pseudopod-gw
api-socket = /run/pseudopod/gw.sock
metrics-address =
[store]
endpoints = $url
[tunnel]
device = ppgw0
wireguard-backend = kernel
EOC
grep -v '^Conflicts=' /lib/systemd/system/pseudopod-gateway.service |
	sed "s|^\[Service\]|[Service]\nNetworkNamespacePath=/run/netns/$gw\nRuntimeDirectoryPreserve=yes|" \
	>/etc/systemd/system/$gwunit
h_on_exit "journalctl -u $gwunit -o short-monotonic --no-pager >$H_TMP/$gwunit.log"
h_on_exit "systemctl stop $gwunit"
systemctl daemon-reload
systemctl start $gwunit || h_fail "$gwunit did not start"
[ "$(systemctl show -p ActiveState --value $gwunit)" = active ] || h_fail "$gwunit not active"
journalctl -u $gwunit -o cat --no-pager | grep -q "ready: gateway synced" ||
	h_fail "no 'ready: gateway synced' in the gateway unit's journal"
grep -q '^wireguard ' /proc/modules || h_fail "wireguard.ko was not loaded on demand"
h_in "$gw" ip -d link show dev ppgw0 | grep -qw wireguard ||
	h_fail "the gateway's ppgw0 is not a kernel WireGuard device: $(h_in "$gw" ip -d link show dev ppgw0)"
ctl policy apply -f /dev/stdin "${store[@]}" >/dev/null <<'Y' || h_fail "policy apply"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: legacy-egress, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: legacy}}
  egress: [{toEndpoints: [{matchLabels: {app: web}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]
Y
h_tcp_listen "$web" 10.200.1.10 80
h_tcp_listen "$db" 10.200.1.20 5432
step "cluster up: etcd, enrollment API, pseudopod-gateway.service (active after READY=1; kernel WireGuard, module loaded on demand under ProtectKernelModules=yes), pods web and db, policy legacy-egress"

# --- enroll: the unit starts ---------------------------------------------------------------
# wireguard-go, the backend of hosts without the WireGuard module, is the one the sandbox
# has to make room for (/dev/net/tun, its UAPI socket in /run/wireguard, a child process).
sed -i 's/^wireguard-backend = .*/wireguard-backend = userspace/' /etc/pseudopod/pseudopod.conf
join=$(ctl token create --server https://10.99.0.10:9443 --pki-dir /etc/pseudopod/pki \
	--labels app=legacy --name m1 -o json "${store[@]}" | jq -r .join) || h_fail "token create"
t0=$(date +%s.%N)
pseudopod enroll --underlay-ip 10.99.0.20 "$join" >"$H_TMP/enroll.log" 2>&1 ||
	{ cat "$H_TMP/enroll.log"; h_fail "pseudopod enroll"; }
t1=$(date +%s.%N)
grep -q "started pseudopod.service" "$H_TMP/enroll.log" ||
	{ cat "$H_TMP/enroll.log"; journalctl -u $unit --no-pager | tail -30; h_fail "enroll did not start $unit"; }
# Type=notify: systemctl enable --now returned once the unit was active, i.e. after READY=1.
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] ||
	{ journalctl -u $unit --no-pager | tail -30; h_fail "$unit is $(prop ActiveState)/$(prop SubState)"; }
[ "$(prop Type)" = notify ] || h_fail "$unit is Type=$(prop Type)"
journalctl -u $unit -o cat --no-pager | grep -q '^ready: policy' ||
	h_fail "no 'ready:' line in the unit's journal (logs go through journald)"
pid=$(prop MainPID)
status=$(pseudopod status -o json) || h_fail "pseudopod status"
jq -e '.ready == true and .tunnel.backend == "wireguard-userspace" and .tunnel.up == true and
	(.datapath.programs | length) > 0 and .policy.enforcement.egress == true' <<<"$status" \
	>/dev/null || h_fail "status: $(jq -c . <<<"$status")"
attached=$(bpftool -j net show | jq '[.[] | (.tc // []) + (.xdp // []) | length] | add')
[ "${attached:-0}" -gt 0 ] || h_fail "no program attached: $(bpftool net show)"
enforced "enrolled"
step "enroll started $unit (active after READY=1 in $(awk -v a="$t0" -v b="$t1" \
	'BEGIN { printf "%.1f", b - a }') s, pid $pid); status answers; $attached programs attached; web:80 ok, db:5432 denied"

# --- the sandbox of the live daemon ----------------------------------------------------------
# Capabilities: exactly the unit's set (CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21, CAP_PERFMON 38,
# CAP_BPF 39), bounding and effective; no_new_privs; a seccomp filter.
want_caps=$(printf '%016x' $(((1 << 12) | (1 << 21) | (1 << 38) | (1 << 39))))
for f in CapBnd CapEff; do
	got=$(awk -v f="$f:" '$1 == f {print $2}' "/proc/$pid/status")
	[ "$got" = "$want_caps" ] || h_fail "$f of pseudopodd: $got, expected $want_caps"
done
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$pid/status" || h_fail "pseudopodd lacks no_new_privs"
grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" || h_fail "pseudopodd has no seccomp filter"
# wireguard-go runs inside the unit (its cgroup), so stop/kill reach it as the unit says.
cg=$(prop ControlGroup)
wgpid=$(pgrep -P "$pid" -x wireguard-go) || h_fail "pseudopodd has no wireguard-go child"
grep -qx "0::$cg" "/proc/$wgpid/cgroup" || h_fail "wireguard-go is not in $cg: $(cat /proc/"$wgpid"/cgroup)"
# The daemon's own mount namespace: what ProtectSystem=strict + ReadWritePaths made.
in_unit() { nsenter -t "$pid" -m -- "$@"; }
for p in /usr/lib/pp-probe /etc/pp-probe /var/pp-probe /boot/pp-probe; do
	if in_unit touch "$p" 2>/dev/null; then h_fail "$p is writable in the daemon's namespace"; fi
done
# (bpffs holds pins and directories only, without dots in names: a directory pp_probe)
for d in /var/lib/pseudopod /run/pseudopod /sys/fs/bpf /run/wireguard; do
	in_unit mkdir "$d/pp_probe" || h_fail "$d is not writable in the daemon's namespace"
	in_unit rmdir "$d/pp_probe"
done
if in_unit ls /root >/dev/null 2>&1 && [ -n "$(in_unit ls -A /root 2>/dev/null)" ]; then
	h_fail "/root is visible in the daemon's namespace (ProtectHome=yes)"
fi
touch /tmp/pp-host-probe
if in_unit test -e /tmp/pp-host-probe; then h_fail "the daemon sees the host's /tmp (PrivateTmp=yes)"; fi
rm -f /tmp/pp-host-probe
step "daemon: CapBnd=CapEff=$want_caps, no_new_privs, seccomp; wireguard-go in $cg; system read-only, state/run/bpffs/wireguard writable"

# A probe unit: the installed unit's [Service] settings verbatim (sandbox, capabilities,
# paths), but a shell that tries what the sandbox must refuse. Its runtime directory is
# the agent's own, so it is kept when the probe stops.
probe=/etc/systemd/system/pp-sandbox-probe.service
{
	printf '[Service]\n'
	sed -n '/^\[Service\]/,/^\[/p' /lib/systemd/system/$unit | grep -v '^\[' |
		grep -Ev '^(Type|NotifyAccess|ExecStart|ExecReload|Restart|RestartSec)='
	printf 'Type=oneshot\nRuntimeDirectoryPreserve=yes\nStandardOutput=file:/run/pp-probe.out\n'
	printf 'StandardError=inherit\nExecStart=/bin/bash /test/probe.sh\n'
} >"$probe"
cat >/test/probe.sh <<'P'
# Each line: "ok WHAT" when the sandbox refused (or allowed) as it should, "bad WHAT" if not.
refused() { if "${@:2}" >/dev/null 2>&1; then echo "bad $1"; else echo "ok $1"; fi; }
allowed() { if "${@:2}" >/dev/null 2>&1; then echo "ok $1"; else echo "bad $1"; fi; }
refused "write /usr" touch /usr/lib/pp-probe
refused "write /etc" touch /etc/pseudopod/pp-probe
refused "write /var/log" touch /var/log/pp-probe
allowed "write /var/lib/pseudopod" sh -c 'touch /var/lib/pseudopod/.p && rm /var/lib/pseudopod/.p'
allowed "write /run/pseudopod" sh -c 'touch /run/pseudopod/.p && rm /run/pseudopod/.p'
allowed "mkdir in /sys/fs/bpf" sh -c 'mkdir /sys/fs/bpf/pp_probe && rmdir /sys/fs/bpf/pp_probe'
allowed "open /dev/net/tun" sh -c 'exec 3<>/dev/net/tun'
refused "remount / rw" mount -o remount,rw /
refused "new network namespace" unshare -n true
refused "new user namespace" unshare -U true
refused "load a module" modprobe dummy
refused "read /root" ls /root/.bashrc
refused "set the clock" sh -c 'date -s "@$(date +%s)"'
refused "sysrq" sh -c 'echo h >/proc/sysrq-trigger'
refused "write /proc/sys/kernel" sh -c 'v=$(cat /proc/sys/kernel/printk_ratelimit) && echo "$v" >/proc/sys/kernel/printk_ratelimit'
allowed "write /proc/sys/net" sh -c 'v=$(cat /proc/sys/net/ipv4/conf/lo/rp_filter) && echo "$v" >/proc/sys/net/ipv4/conf/lo/rp_filter'
refused "open the disk" sh -c 'exec 3</dev/vda'
refused "open /dev/mem" sh -c 'exec 3</dev/mem'
P
# dummy.ko is in the image (the initramfs loaded and copied it): unloaded, so that a
# refused modprobe is the sandbox's doing.
rmmod dummy || h_fail "rmmod dummy"
: >/run/pp-probe.out
systemctl daemon-reload
systemctl start pp-sandbox-probe.service || h_fail "the probe unit failed: $(cat /run/pp-probe.out)"
sed 's/^/  probe: /' /run/pp-probe.out >&2
checks=$(grep -cE '^(refused|allowed) ' /test/probe.sh)
[ "$(grep -c . /run/pp-probe.out)" = "$checks" ] ||
	h_fail "the probe reported $(grep -c . /run/pp-probe.out) of $checks checks"
if grep -q '^bad ' /run/pp-probe.out; then h_fail "the sandbox let through: $(grep '^bad ' /run/pp-probe.out)"; fi
! grep -q '^dummy ' /proc/modules || h_fail "dummy.ko got loaded from inside the sandbox"
exposure=$(systemd-analyze security $unit --no-pager 2>/dev/null |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || h_fail "systemd-analyze security gave no score"
awk -v s="$exposure" 'BEGIN { exit !(s <= 5.0) }' || h_fail "exposure $exposure > 5.0"
step "probe unit under the same sandbox: $(grep -c '^ok ' /run/pp-probe.out) checks held; systemd-analyze security: exposure $exposure"

# --- Restart=on-failure ---------------------------------------------------------------------
# KillMode=process: wireguard-go (and with it the tunnel) survives; the new agent adopts it.
kill -9 "$pid"
if connects 10.200.1.20 5432 2; then h_fail "denied db:5432 connected while the agent was down"; fi
h_wait_for 60 sh -c "[ \"\$(systemctl show -p NRestarts --value $unit)\" = 1 ] &&
	systemctl is-active -q $unit" || h_fail "$unit was not restarted after kill -9"
pid2=$(prop MainPID)
[ "$pid2" != "$pid" ] || h_fail "same MainPID after the restart"
kill -0 "$wgpid" 2>/dev/null || h_fail "wireguard-go (pid $wgpid) did not survive the agent's kill -9"
h_wait_for 30 sh -c 'pseudopod status -o json | jq -e .ready' >/dev/null ||
	h_fail "the restarted agent is not ready"
enforced "restarted"
n=$(journalctl -u $unit -o cat --no-pager | grep -c 'started wireguard-go')
[ "$n" = 1 ] || h_fail "the restarted agent started its own wireguard-go ($n starts in the journal)"
step "kill -9: Restart=on-failure restarted it (pid $pid2), wireguard-go $wgpid kept, enforcing throughout"

# --- stop: exit 0, enforcement stays -------------------------------------------------------------
systemctl stop $unit
[ "$(prop Result)" = success ] || h_fail "stop: Result=$(prop Result) (SIGTERM should exit 0)"
[ "$(prop ActiveState)" = inactive ] || h_fail "stop: $(prop ActiveState)"
after=$(bpftool -j net show | jq '[.[] | (.tc // []) + (.xdp // []) | length] | add')
[ "${after:-0}" -eq "$attached" ] || h_fail "stop: $after programs attached, were $attached"
enforced "stopped"
kill -0 "$wgpid" 2>/dev/null || h_fail "stop: wireguard-go (pid $wgpid) was killed with the agent"
step "systemctl stop: exit 0 (Result=success), $after programs still attached, wireguard-go kept: web:80 ok, db:5432 denied"

# --- remove: the package's prerm under the running systemd -----------------------------------
# (stop, then 'pseudopod leave --offline --keep-state': the device goes, and wireguard-go,
# which KillMode=process left running, exits with it)
dpkg -r pseudopod >"$H_TMP/dpkg-remove.log" 2>&1 || { cat "$H_TMP/dpkg-remove.log"; h_fail "dpkg -r pseudopod"; }
if grep -q ERROR "$H_TMP/dpkg-remove.log"; then h_fail "remove: $(grep ERROR "$H_TMP/dpkg-remove.log")"; fi
h_wait_for 10 sh -c "! kill -0 $wgpid 2>/dev/null" || h_fail "remove: wireguard-go (pid $wgpid) still runs"
! ip link show dev pp0 >/dev/null 2>&1 || h_fail "remove: pp0 still exists"
left=$(bpftool -j net show | jq '[.[] | (.tc // []) + (.xdp // []) | length] | add')
[ "${left:-0}" -eq 0 ] || h_fail "remove: $left programs still attached"
[ -f /var/lib/pseudopod/enrollment.json ] || h_fail "remove: the enrollment state is gone"
step "dpkg -r: unit stopped, leave removed pp0 (wireguard-go exited), no programs attached, state kept"

# --- the probe's control: without the sandbox every refused action succeeds ----------------
# (so each refusal above was the sandbox's doing, not a probe that cannot work; run last,
# since it loads a module and writes below /usr)
bash /test/probe.sh >"$H_TMP/control.out" 2>&1
vacuous=$(paste -d' ' <(grep -E '^(refused|allowed) ' /test/probe.sh | cut -d' ' -f1) "$H_TMP/control.out" |
	awk '($1 == "refused" && $2 != "bad") || ($1 == "allowed" && $2 != "ok")' || true)
[ -z "$vacuous" ] || h_fail "probe checks that fail even without the sandbox: $vacuous"
step "control: the same $checks checks as plain root: every refused action succeeds"
h_pass "pseudopod.service under systemd: install, enroll, READY, sandbox, restart, stop fail-static, remove"
