#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pseudopodd under the sandbox of its own unit (packaging/systemd/pseudopod.service): the
# unit's [Service] sandbox and capability properties are parsed from the file and passed to
# `systemd-run -p ...` (Type=notify included), with the daemon in the test's machine
# namespace (NetworkNamespacePath=). The unit becomes active only after READY=1 (the first
# sync); enforcement and the API work from inside the sandbox; `systemctl stop` (SIGTERM)
# leaves the datapath enforcing.
#
# Needs systemd as PID 1 (systemd-run talks to it). Without it the test is skipped (77) and
# says why: a host without a running systemd genuinely lacks what the test exercises. The
# build machine of this project is such a host (PID 1 is the sandbox's own init), so there
# the unit is checked statically instead (`systemd-analyze verify` and exposure scores in
# tests/package/install.sh) and this test waits for a runner that boots systemd.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
pid1=$(ps -p 1 -o comm= 2>/dev/null || true)
if [ "$pid1" != systemd ] || ! command -v systemd-run >/dev/null; then
	h_skip "systemd is not PID 1 here (PID 1 is '${pid1:-?}'): systemd-run cannot run the unit's sandbox"
fi
source "$PP_SOURCE_DIR/tests/e2e/lib/daemon.sh"
h_init
d_cluster
d_apply <<<"$D_POLICY_WEB_5432"
unit="pp-e2e-$H_RUN"
# The state lives where the unit allows writes; PrivateTmp would hide $H_TMP.
state="/var/lib/pseudopod-e2e-$H_RUN"
mkdir -m 0700 -p "$state"
cp -a "$D_STATE/." "$state/"
sed -i "s|^state-dir = .*|state-dir = $state|; s|^api-socket = .*|api-socket = /run/pseudopod-e2e-$H_RUN/api.sock|" "$D_CONF"
cp "$D_CONF" "$state/pseudopod.conf"
D_SOCK="/run/pseudopod-e2e-$H_RUN/api.sock"
h_on_exit "systemctl stop $unit 2>/dev/null; rm -rf $state /run/pseudopod-e2e-$H_RUN"

# The unit's sandbox: every [Service] property except how it is started, reloaded and
# restarted, and the paths, which name the packaged locations.
props=()
while IFS= read -r line; do
	case "$line" in
	ExecStart=* | ExecReload=* | ExecStartPre=* | Restart=* | RestartSec=* | \
		StateDirectory* | RuntimeDirectory* | ReadWritePaths=*) ;;
	*=*) props+=(-p "$line") ;;
	esac
done < <(sed -n '/^\[Service\]/,/^\[/p' "$PP_SOURCE_DIR/packaging/systemd/pseudopod.service" |
	grep -v '^\[\|^#\|^$')
props+=(-p "ReadWritePaths=$state /run /sys/fs/bpf /var/run/wireguard")
props+=(-p "NetworkNamespacePath=/run/netns/$D_VM")
h_log "systemd-run ${props[*]}"
systemd-run --unit "$unit" "${props[@]}" "$PPD_BIN" --config "$state/pseudopod.conf" ||
	h_fail "the unit did not start (systemd waits for READY=1 with Type=notify)"
systemctl is-active "$unit" | grep -qx active || h_fail "unit not active"
d_listen
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
d_ready || h_fail "API not answering from inside the sandbox"
systemctl stop "$unit"
h_expect_tcp_blocked "$D_DB" 10.201.0.10 5432
h_expect_tcp_ok "$D_WEB" 10.201.0.10 5432
h_pass "pseudopodd under the unit's sandbox: ready by sd_notify, enforcing, stops fail-static"
