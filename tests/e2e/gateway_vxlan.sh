#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Gateway mode over VXLAN (pp-gateway --vxlan, agent/gateway.h): the gateway creates the
# external-mode VXLAN device, routes the workload CIDR into it, attaches the datapath
# (kind vxlan) and binds each machine's overlay IP to its registered underlay IP from
# workloads/. Machines m1 (app=legacy-db) and m2 (app=other) send with their identity in the
# VNI (an lwtunnel encap route stands in for the machine's own datapath), host s pretends to
# be m1 from another underlay address:
#   1. p1's ingress policy (fromEndpoints app=legacy-db) admits m1 and refuses m2;
#   2. p1 -> m1 leaves with VNI = p1's identity towards m1's registered underlay;
#   3. m1's overlay IP from another underlay address is dropped as spoofed.
# These machines run no datapath, so nothing marks the frames they receive PACKET_HOST
# (docs/datapath.md, "VXLAN framing"): the test pins the gateway's neighbours for them to
# their devices' MACs. Machines running pseudopodd need none (daemon_matrix.sh vxlan).
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "$PP_SOURCE_DIR/tests/e2e/lib/store.sh"
h_init
GWB=$(h_bin pp-gateway)
PPD=$(h_bin pp-datapath)
store_underlay_init
lladdr() { ip -n "$1" -o link show "$2" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }
g=$(h_node g 10.99.0.1/24)
p1=$(h_pod "$g" p1 10.200.1.5)
m1=$(h_host m1 10.99.0.2/24)
m2=$(h_host m2 10.99.0.3/24)
s=$(h_host s 10.99.0.7/24)

ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.200.0.0/16 \
	--workload-cidr 10.201.0.0/16 --tunnel vxlan >/dev/null || h_fail "pseudopodctl init"
ctl endpoint add --ip 10.200.1.5 --labels app=db --namespace prod >/dev/null || h_fail "p1"
P1ID=$(store_identity_of 10.200.1.5)
workload() { # NAME OVERLAY UNDERLAY LABELS
	local id
	ctl endpoint add --ip "$2" --labels "$4" --namespace prod --kind workload \
		--gateway 10.99.0.1 >/dev/null || h_fail "endpoint add $1"
	id=$(store_identity_of "$2")
	store_etcdctl put "${P}workloads/$1" "{\"version\":1,\"identity\":$id,\"overlay_ip\":\"$2\",\
\"labels\":[\"k8s:$4\",\"k8s:io.kubernetes.pod.namespace=prod\"],\"namespace\":\"prod\",\
\"underlay_ip\":\"$3\",\"enrolled_at\":1700000000}" >/dev/null || h_fail "workloads/$1"
	echo "$id"
}
M1ID=$(workload m1 10.201.0.5 10.99.0.2 app=legacy-db)
M2ID=$(workload m2 10.201.0.6 10.99.0.3 app=other)
cat >"$H_TMP/db.yaml" <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: legacy-db}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
  egress:
  - toEndpoints: [{matchLabels: {app: legacy-db}}]
    toPorts: [{ports: [{port: "9000", protocol: TCP}]}]
YAML
ctl policy apply -f "$H_TMP/db.yaml" >/dev/null || h_fail "policy apply"

IFG="x${H_RUN}gw"
B="/sys/fs/bpf/pp-e2e-$H_RUN"
h_on_exit "$PPD unload --bpffs $B"
h_on_exit "ip -n $g link del $IFG"
gpid=$(h_spawn "$g" gw "$GWB" --store "$url" --prefix "$P" --name "gw-$H_RUN" --bpffs "$B" \
	--dev "$IFG" --underlay 10.99.0.1 --vxlan --lease-ttl 5)
h_wait_for 30 grep -q '^ready' "$H_TMP/gw.log" || h_fail "the gateway did not become ready"
ip -n "$g" -d link show "$IFG" | grep -q 'vxlan external' || h_fail "no external VXLAN device"
store_etcdctl get --print-value-only "${P}gateways/gw-$H_RUN" | grep -q '"vxlan_endpoint":"10.99.0.1"' ||
	h_fail "the registration does not carry the VXLAN endpoint"
"$PPD" ipcache list --bpffs "$B" | grep -q "10.201.0.5/32.*$M1ID.*10.99.0.2" ||
	h_fail "m1's overlay IP is not bound to its underlay: $("$PPD" ipcache list --bpffs "$B")"
events_pid=$(h_spawn "$g" events "$PPD" events --bpffs "$B" --json)
h_wait_for 10 h_reading_ringbuf "$events_pid" || h_fail "pp-datapath events did not start"

# The machines' side (and s, which claims m1's overlay IP): identity in the VNI.
vx_machine() { # NS OVERLAY IDENTITY
	h_in "$1" ip link add vxm type vxlan external dstport 8472
	h_in "$1" ip addr add "$2/32" dev vxm
	h_in "$1" ip link set vxm up
	h_in "$1" ip route add 10.200.0.0/16 encap ip id "$3" dst 10.99.0.1 dev vxm src "$2"
	h_in "$1" ip neigh replace 10.200.1.5 lladdr "$(lladdr "$g" "$IFG")" dev vxm nud permanent
}
vx_machine "$m1" 10.201.0.5 "$M1ID"
vx_machine "$m2" 10.201.0.6 "$M2ID"
vx_machine "$s" 10.201.0.5 "$M1ID"
# (machines without a datapath: frames to them must carry their own MAC)
h_in "$g" ip neigh replace 10.201.0.5 lladdr "$(lladdr "$m1" vxm)" dev "$IFG" nud permanent
h_in "$g" ip neigh replace 10.201.0.6 lladdr "$(lladdr "$m2" vxm)" dev "$IFG" nud permanent

h_tcp_listen "$p1" 10.200.1.5 5432
h_tcp_listen "$m1" 10.201.0.5 9000
h_tcp_listen "$m2" 10.201.0.6 9000
h_wait_for 15 h_tcp_connect "$m1" 10.200.1.5 5432 || h_fail "m1 -> p1:5432 over VXLAN"
h_log "ok: m1 -> p1:5432 admitted by p1's ingress policy over VXLAN"
h_expect_tcp_blocked "$m2" 10.200.1.5 5432
h_expect_tcp_ok "$p1" 10.201.0.5 9000
h_expect_tcp_blocked "$p1" 10.201.0.6 9000
h_expect_tcp_blocked "$s" 10.200.1.5 5432 # m1's overlay IP from s's underlay

ev="$H_TMP/events.log"
h_wait_for 10 grep -q '"verdict":"FORWARDED".*"direction":"egress".*"dport":9000.*"src_identity":'"$P1ID"',"dst_identity":'"$M1ID"'.*"tunnel_vni":'"$P1ID"',"tunnel_remote":"10.99.0.2"' "$ev" ||
	h_fail "no p1 -> m1 event with p1's identity in the VNI towards m1's underlay"
h_wait_for 10 grep -q '"reason":"spoofed-source".*"src":"10.201.0.5".*"dport":5432' "$ev" ||
	h_fail "no spoofed-source drop for s"
h_kill "$events_pid"
h_kill "$gpid"
! grep -q 'Sanitizer\|runtime error' "$H_TMP"/gw.log || h_fail "sanitizer report in the gateway's log"
h_pass "gateway over VXLAN: device, workload underlay binding (anti-spoofing), pods' policies, VNI = identity"
