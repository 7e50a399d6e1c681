#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Idle CPU of a synced pp-gateway (VXLAN, no store changes) over SECS seconds (default 30),
# from the process's utime+stime (clock ticks, so +-1 tick).  SECS=60 bench/gateway/idle.sh
: "${PP_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}" "${PP_BUILD_DIR:=$PP_SOURCE_DIR/build}"
export PP_SOURCE_DIR PP_BUILD_DIR
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"
h_init
CTL=$(h_bin pseudopodctl); GWB=$(h_bin pp-gateway); PPD=$(h_bin pp-datapath)
P="/pp$H_RUN/"
h_underlay
ens=$(h_host etcd 10.99.0.9/24); url=$(h_etcd "$ens")
ctl() { h_in "$ens" "$CTL" "$@" --store "$url" --store-prefix "$P"; }
g=$(h_node g 10.99.0.1/24)
ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.200.0.0/16 --workload-cidr 10.201.0.0/16 --tunnel vxlan >/dev/null
ctl endpoint add --ip 10.200.1.5 --labels app=db --namespace prod >/dev/null
IFG="x${H_RUN}gw"; B="/sys/fs/bpf/pp-e2e-$H_RUN"
h_on_exit "$PPD unload --bpffs $B"; h_on_exit "ip -n $g link del $IFG"
pid=$(h_spawn "$g" gw "$GWB" --store "$url" --prefix "$P" --name gw --bpffs "$B" --dev "$IFG" \
  --underlay 10.99.0.1 --vxlan --log-level warn)
h_wait_for 30 grep -q '^ready' "$H_TMP/gw.log" || h_fail "not ready"
sleep 2
hz=$(getconf CLK_TCK)
t() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
a=$(t); s0=$(date +%s%N); sleep "${SECS:-30}"; b=$(t); s1=$(date +%s%N)
awk -v a="$a" -v b="$b" -v hz="$hz" -v ns=$((s1 - s0)) 'BEGIN {printf "idle CPU: %.3f%% of a core over %.0f s (%d ticks)\n", (b-a)/hz*100/(ns/1e9), ns/1e9, b-a}'
h_pass "gateway idle"
