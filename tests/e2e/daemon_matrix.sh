#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# daemon_matrix.sh wireguard|vxlan: machines enrolled with `pseudopod enroll` and running
# `pseudopodd`, behind a gateway node running `pseudopodd --mode gateway` with pods, are
# under cluster policy exactly as pods would be. The same body for each tunnel backend; the
# cluster is built with the product's commands only (tests/e2e/lib/cluster.sh).
#
#   gateway node gw: pods web 10.200.1.5 (app=web,tier=front, prod), db .6 (app=db, prod),
#     api .7 (app=api, prod), webdev .8 (app=web, namespace dev); ext1 10.200.2.5 and ext2
#     10.200.2.6 are addresses no endpoint names (world);
#   machines m1 (app=billing, prod) and m2 (app=report, prod), enrolled concurrently.
#
# Every cell of every matrix is checked (allowed connects / the UDP echo returns; denied
# does not) in parallel (c_matrix): labels (matchLabels, matchExpressions In / NotIn /
# Exists), namespaces, entities (cluster, world, all), CIDRs with except, deny precedence,
# port ranges and TCP vs UDP, machine <-> machine through the gateway, a pod's ingress
# admitting one machine and refusing the other, a pod's egress limiting which machines it
# reaches; then live policy changes both ways, a new pod reachable once its endpoint is
# added, relabelling a pod both ways, a spoofed source dropped at the gateway, and a machine
# that stops its agent and detaches its programs still limited by the gateway.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "$PP_SOURCE_DIR/tests/e2e/lib/cluster.sh"
backend=${1:-}
case "$backend" in wireguard | vxlan) ;; *) echo "usage: $0 wireguard|vxlan" >&2; exit 2 ;; esac
h_init
H_TEST_NAME="daemon_matrix_$backend"
t0=$(date +%s%N)
lap() { h_log "[$(((($(date +%s%N) - t0) / 1000000)))ms] $*"; }

# what the enforcement points say, kept in the failed run's logs
c_on_matrix_fail() {
	local m
	for m in m1 m2; do
		echo "== $m: pseudopod policy get"
		h_in "${C_NS[$m]}" "$C_CLI" policy get --socket "$H_TMP/$m-api.sock" || true
		echo "== $m: pseudopod observe --last 40"
		h_in "${C_NS[$m]}" "$C_CLI" observe --last 40 --socket "$H_TMP/$m-api.sock" || true
	done
	echo "== gateway: pp-datapath policy list / ipcache list"
	"$(h_bin pp-datapath)" policy list --bpffs "/sys/fs/bpf/pp-e2e-$H_RUN-gw" || true
	"$(h_bin pp-datapath)" ipcache list --bpffs "/sys/fs/bpf/pp-e2e-$H_RUN-gw" || true
	tc -n "${C_NS[gw]}" filter show dev "cg$H_RUN" ingress || true
}

c_cluster "$backend"
c_pod web 10.200.1.5 app=web,tier=front prod
c_pod db 10.200.1.6 app=db prod
c_pod api 10.200.1.7 app=api prod
c_pod webdev 10.200.1.8 app=web dev
c_pod_unmanaged ext1 10.200.2.5
c_pod_unmanaged ext2 10.200.2.6
c_gateway
lap "gateway ready"

# Two machines enrolled at once (two tokens redeemed concurrently).
c_enroll m1 10.99.0.21 app=billing prod &
e1=$!
c_enroll m2 10.99.0.22 app=report prod &
e2=$!
wait "$e1" || h_fail "enrolling m1"
wait "$e2" || h_fail "enrolling m2"
c_enrolled m1
c_enrolled m2
[ "${C_IP[m1]}" != "${C_IP[m2]}" ] || h_fail "both machines got ${C_IP[m1]}"
c_start m1
c_start m2
lap "machines enrolled concurrently and ready: m1 ${C_IP[m1]}, m2 ${C_IP[m2]}"

# (one document per apply: `policy apply -f` reads one policy)
c_apply <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: m1-in, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: billing}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
  - fromEndpoints: [{matchExpressions: [{key: app, operator: In, values: [api, db]}]}]
    toPorts: [{ports: [{port: "7000", protocol: TCP}]}]
  - fromEndpoints: [{matchExpressions: [{key: app, operator: NotIn, values: [web, api]}]}]
    toPorts: [{ports: [{port: "7001", protocol: TCP}]}]
  - fromEndpoints: [{matchExpressions: [{key: tier, operator: Exists}]}]
    toPorts: [{ports: [{port: "7002", protocol: TCP}]}]
  - fromEndpoints: [{matchLabels: {app: web, k8s:io.kubernetes.pod.namespace: dev}}]
    toPorts: [{ports: [{port: "7003", protocol: TCP}]}]
  - fromEntities: [all]
    toPorts: [{ports: [{port: "7100", protocol: TCP}]}]
  - fromEntities: [cluster]
    toPorts: [{ports: [{port: "8000", protocol: TCP}]}]
  - fromEntities: [world]
    toPorts: [{ports: [{port: "8001", protocol: TCP}]}]
  - fromCIDRSet: [{cidr: 10.200.2.0/24, except: [10.200.2.6/32]}]
    toPorts: [{ports: [{port: "9000", protocol: TCP}]}]
  - fromEndpoints: [{matchLabels: {app: web}}]
    toPorts: [{ports: [{port: "9100", endPort: 9199, protocol: TCP}, {port: "9300", protocol: UDP}]}]
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: db}}]
    toPorts: [{ports: [{port: "7100", protocol: TCP}]}]
YAML
c_apply <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: m1-out, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: billing}}
  egress:
  - toEndpoints: [{matchLabels: {app: db}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
  - toEntities: [cluster]
    toPorts: [{ports: [{port: "8000", protocol: TCP}]}]
  - toEntities: [world]
    toPorts: [{ports: [{port: "8001", protocol: TCP}]}]
  - toCIDRSet: [{cidr: 10.200.2.0/24, except: [10.200.2.6/32]}]
    toPorts: [{ports: [{port: "9000", protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {app: api}}]
    toPorts: [{ports: [{port: "9100", endPort: 9199, protocol: TCP}, {port: "9300", protocol: UDP}]}]
  - toEndpoints: [{matchLabels: {app: report}}]
    toPorts: [{ports: [{port: "7000", protocol: TCP}]}]
  egressDeny:
  - toEndpoints: [{matchLabels: {app: api}}]
    toPorts: [{ports: [{port: "8000", protocol: TCP}]}]
YAML
c_apply <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db-in, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: billing}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
YAML
c_apply <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api-out, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: api}}
  egress:
  - toEndpoints: [{matchLabels: {app: report}}]
    toPorts: [{ports: [{port: "7001", protocol: TCP}]}]
YAML

ports_m="22 5432 7000 7001 7002 7003 7100 8000 8001 9000 9150 9200 9300"
c_listen m1 $ports_m
c_listen m2 7000 7001 7002
for p in web db api ext1 ext2; do c_listen "$p" 5432 8000 8001 9000 9150 9200 9300 9301; done
# the policies are in force once m1 refuses web:22 and db refuses m2 (both enforcement points)
m1_refuses_web_22() { ! c_probe tcp web m1 22; }
h_wait_for 10 m1_refuses_web_22 || h_fail "m1's ingress policy did not arrive"
lap "policies applied, listeners up"
[ -z "${PP_MATRIX_PAUSE:-}" ] || { declare -p C_NS C_IP >"$PP_MATRIX_PAUSE"; sleep 600; }

c_matrix <<'CELLS'
# m1's ingress (enforced on m1): labels, namespaces, entities, CIDRs, deny, ranges, protocols
tcp web    m1 5432 ok    matchLabels app=web
tcp webdev m1 5432 drop  same labels, namespace dev: not selected by a prod policy
tcp db     m1 5432 drop  other labels
tcp web    m1 22   drop  no rule: default deny once selected
tcp db     m1 7000 ok    In [api db]
tcp web    m1 7000 drop  not In
tcp db     m1 7001 ok    NotIn [web api]
tcp m2     m1 7001 ok    NotIn: a machine matches too (machine to machine via the gateway)
tcp web    m1 7001 drop  in the NotIn list
tcp web    m1 7002 ok    Exists tier
tcp db     m1 7002 drop  no tier label
tcp webdev m1 7003 ok    the policy names namespace dev
tcp web    m1 7003 drop  prod is not dev
tcp web    m1 7100 ok    entity all
tcp ext1   m1 7100 ok    entity all admits world
tcp db     m1 7100 drop  ingressDeny beats the all allow
tcp web    m1 8000 ok    entity cluster
tcp ext1   m1 8000 drop  world is not cluster
tcp ext1   m1 8001 ok    entity world
tcp web    m1 8001 drop  a pod is not world
tcp ext1   m1 9000 ok    fromCIDR 10.200.2.0/24
tcp ext2   m1 9000 drop  except 10.200.2.6/32
tcp web    m1 9000 drop  a pod has its own identity, not the CIDR's
tcp web    m1 9150 ok    port 9100-9199
tcp web    m1 9200 drop  past endPort
udp web    m1 9300 ok    UDP 9300
tcp web    m1 9300 drop  TCP on a UDP rule
tcp m2     m1 5432 drop  m2 is not app=web
# m1's egress (on m1 and again at the gateway)
tcp m1 db   5432 ok    toEndpoints app=db (and db's ingress admits app=billing)
tcp m1 api  5432 drop  not in m1's egress
tcp m1 web  8000 ok    toEntities cluster
tcp m1 api  8000 drop  egressDeny beats the cluster allow
tcp m1 ext1 8000 drop  world is not cluster
tcp m1 ext1 8001 ok    toEntities world
tcp m1 web  8001 drop  a pod is not world
tcp m1 ext1 9000 ok    toCIDR 10.200.2.0/24
tcp m1 ext2 9000 drop  except 10.200.2.6/32
tcp m1 api  9150 ok    port range
tcp m1 api  9200 drop  past endPort
udp m1 api  9300 ok    UDP rule
tcp m1 api  9300 drop  TCP on a UDP rule
udp m1 api  9301 drop  another UDP port
tcp m1 m2   7000 ok    machine to machine, allowed by m1's egress
tcp m1 m2   7001 drop  not in m1's egress
# a pod's ingress admits a machine by labels and refuses the other (at the gateway)
tcp m2 db   5432 drop  db-in: only app=billing
tcp m2 api  5432 ok    nothing selects m2 or api's ingress
# a pod's egress limits which machines it reaches (at the gateway)
tcp api m2  7001 ok    api-out: app=report on 7001
tcp api m2  7002 drop  api-out: not 7002
tcp api m1  7000 drop  api-out: m1 is not app=report, though m1's ingress admits api
CELLS
lap "matrix 1"
