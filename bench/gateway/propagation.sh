#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Policy propagation latency at a gateway (pp-gateway, agent/gateway.h): N changes of a
# pod's ingress policy, each timed from `pseudopodctl policy apply` to the new key being in
# the gateway's policy map (polled with `pp-datapath policy list`, whose start-up is part of
# the figure). Prints min/p50/p90/p99/max from the apply and from the apply's return.
#   N=100 bench/gateway/propagation.sh            back-to-back changes
#   GAP=2.5 N=20 bench/gateway/propagation.sh     each change after 2.5 s of quiet
# Root; a real etcd and namespaces through the e2e harness.
: "${PP_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}" "${PP_BUILD_DIR:=$PP_SOURCE_DIR/build}"
export PP_SOURCE_DIR PP_BUILD_DIR
source "$PP_SOURCE_DIR/tests/e2e/lib/harness.sh"
h_init
CTL=$(h_bin pseudopodctl); GWB=$(h_bin pp-gateway); T=$(h_bin pp-tunnel); PPD=$(h_bin pp-datapath)
P="/pp$H_RUN/"
h_underlay
ens=$(h_host etcd 10.99.0.9/24); url=$(h_etcd "$ens")
ctl() { h_in "$ens" "$CTL" "$@" --store "$url" --store-prefix "$P"; }
g=$(h_node g 10.99.0.1/24)
ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.200.0.0/16 --workload-cidr 10.201.0.0/16 >/dev/null
ctl endpoint add --ip 10.200.1.5 --labels app=db --namespace prod >/dev/null
"$T" writekey "$H_TMP/gw.key"
IFG="g${H_RUN}gw"; B="/sys/fs/bpf/pp-e2e-$H_RUN"
h_on_exit "$PPD unload --bpffs $B"; h_on_exit "ip -n $g link del $IFG"; h_on_exit "rm -f /var/run/wireguard/$IFG.sock"
h_spawn "$g" gw "$GWB" --store "$url" --prefix "$P" --name gw --bpffs "$B" --dev "$IFG" \
  --underlay 10.99.0.1 --private-key "$H_TMP/gw.key" --backend userspace --log-level warn >/dev/null
h_wait_for 30 grep -q '^ready' "$H_TMP/gw.log" || h_fail "not ready"
N=${N:-50}
for i in $(seq 1 "$N"); do
  port=$((10000 + i))
  cat >"$H_TMP/p.yaml" <<YAML
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEntities: [world]
    toPorts: [{ports: [{port: "$port", protocol: TCP}]}]
YAML
  if [ -n "${GAP:-}" ]; then sleep "$GAP"; fi
  t0=$(date +%s%N)
  ctl policy apply -f "$H_TMP/p.yaml" >/dev/null
  ta=$(date +%s%N)
  until "$PPD" policy list --bpffs "$B" 2>/dev/null | grep -q "proto tcp port $port rule"; do :; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) >>"$H_TMP/lat"
  echo $(( (t1 - ta) / 1000000 )) >>"$H_TMP/after"
done
sort -n "$H_TMP/lat" | awk '{a[NR]=$1} END {printf "n=%d min=%d p50=%d p90=%d p99=%d max=%d ms\n", NR, a[1], a[int(NR*0.5+0.5)], a[int(NR*0.9+0.5)], a[int(NR*0.99+0.5)], a[NR]}'
sort -n "$H_TMP/after" | awk '{a[NR]=$1} END {printf "after apply returned: n=%d min=%d p50=%d p90=%d p99=%d max=%d ms\n", NR, a[1], a[int(NR*0.5+0.5)], a[int(NR*0.9+0.5)], a[int(NR*0.99+0.5)], a[NR]}' 
h_pass "gateway propagation"
