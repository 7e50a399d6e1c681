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
lap() { h_log "[$((($(date +%s%N) - t0) / 1000000))ms] $*"; }

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
	for m in m1 m2; do
		echo "== $m: pp-datapath ipcache list"
		"$(h_bin pp-datapath)" ipcache list --bpffs "/sys/fs/bpf/pp-e2e-$H_RUN-$m" || true
	done
}
# every failure leaves the enforcement points' view in diag.log
eval "orig_$(declare -f h_fail)"
h_fail() {
	c_on_matrix_fail >"$H_TMP/diag.log" 2>&1 || true
	orig_h_fail "$@"
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

# policy NAME < YAML: keeps the text in $H_TMP/NAME.yaml (for the live changes); all four
# are then applied at once, as one multi-document file: one store txn, so one revision for
# four watch events (which the agents once dropped all but the first of).
policy() { cat >"$H_TMP/$1.yaml"; }
policy m1-in <<'YAML'
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
policy m1-out <<'YAML'
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
policy db-in <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db-in, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: billing}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
YAML
policy api-out <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api-out, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: api}}
  egress:
  - toEndpoints: [{matchLabels: {app: report}}]
    toPorts: [{ports: [{port: "7001", protocol: TCP}]}]
YAML

for f in m1-in m1-out db-in api-out; do
	[ "$f" = m1-in ] || echo ---
	cat "$H_TMP/$f.yaml"
done | c_apply
c_listen m1 22 5432 7000 7001 7002 7003 7100 8000 8001 9000 9150 9200 9300
c_listen m2 7000 7001 7002
for p in web db api ext1 ext2; do c_listen "$p" 5432 8000 8001 9000 9150 9200 9300 9301; done
# the policies are in force once m1 refuses web:22 and db refuses m2 (both enforcement points)
m1_refuses_web_22() { ! c_probe tcp web m1 22; }
h_wait_for 10 m1_refuses_web_22 || h_fail "m1's ingress policy did not arrive"
lap "policies applied, listeners up"

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

# ---- live policy changes, both directions, at both enforcement points ----
# (ms) since a mark, for the figures in the log
since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# flip ok|drop PROTO FROM TO PORT: probes back to back (0.15 s each) until the verdict is
# the wanted one, for at most 10 s; logs how long after the change (mark $t) it took (to
# within a probe: a drop is seen 0.15 s after it is in force).
flip() {
	local want=$1 what="$2 $3 -> $4:$5" deadline=$(($(date +%s%N) + 10000000000))
	shift
	until if [ "$want" = ok ]; then c_probe "$@" 0.15; else c_drops "$@" 0.15; fi; do
		[ "$(date +%s%N)" -lt "$deadline" ] || h_fail "$what is not $want 10 s after the change"
	done
	lap "$what $want $(since "$t") ms after the change"
	# a 0.15 s timeout could also be a slow handshake: a drop is confirmed at full length
	[ "$want" = ok ] || c_drops "$@" || h_fail "$what passes again after the change"
}
# m1's ingress (enforced on m1): web's port 5432 becomes 5433, then back.
sed 's/"5432"/"5433"/' "$H_TMP/m1-in.yaml" >"$H_TMP/m1-in-b.yaml"
t=$(date +%s%N)
c_apply <"$H_TMP/m1-in-b.yaml"
flip drop tcp web m1 5432 # m1's ingress, on m1
t=$(date +%s%N)
c_apply <"$H_TMP/m1-in.yaml"
flip ok tcp web m1 5432
# db's ingress (enforced at the gateway): admit app=report too, then back.
sed 's/matchLabels: {app: billing}}]$/matchExpressions: [{key: app, operator: In, values: [billing, report]}]}]/' \
	"$H_TMP/db-in.yaml" >"$H_TMP/db-in-b.yaml"
t=$(date +%s%N)
c_apply <"$H_TMP/db-in-b.yaml"
flip ok tcp m2 db 5432 # db's ingress, at the gateway
t=$(date +%s%N)
c_apply <"$H_TMP/db-in.yaml"
flip drop tcp m2 db 5432
c_matrix <<'CELLS'
tcp web m1 5432 ok    after the changes: m1-in as at first
tcp m1  db 5432 ok    db-in as at first
tcp m2  db 5432 drop  db-in as at first
CELLS

# ---- a new pod: reachable as soon as its endpoint is added; relabelled both ways ----
c_pod_unmanaged web2 10.200.1.9
c_listen web2 8000
c_matrix <<'CELLS'
tcp web2 m1 5432 drop  no endpoint yet: world
tcp m1 web2 8000 drop  no endpoint yet: world is not cluster
CELLS
t=$(date +%s%N)
c_endpoint web2 app=web prod
flip ok tcp web2 m1 5432 # the new pod, admitted by its labels
c_matrix <<'CELLS'
tcp web2 m1 5432 ok    app=web
tcp m1 web2 8000 ok    now cluster
tcp web2 m1 22   drop  still only 5432
CELLS
t=$(date +%s%N)
c_endpoint web2 app=api prod
flip drop tcp web2 m1 5432 # relabelled app=api
c_matrix <<'CELLS'
tcp web2 m1 5432 drop  app=api is not app=web
tcp m1 web2 8000 drop  egressDeny app=api on 8000 now applies to web2
tcp web2 m1 7000 drop  api-out now selects web2 (only app=report:7001), though m1's In [api db] admits it
CELLS
t=$(date +%s%N)
c_endpoint web2 app=web prod
flip ok tcp web2 m1 5432 # relabelled back to app=web
c_probe tcp m1 web2 8000 || h_fail "m1 -> web2:8000 after relabelling back"

# ---- a spoofed source from a machine is dropped at the gateway ----
# m1 puts m2's overlay address on its tunnel device and sends from it to api (whose
# policies admit m2), then a marker from its own address on the same path: once the
# marker is in, the spoofed datagram (sent first) would have been too.
dev1="cm1$H_RUN"
h_in "${C_NS[m1]}" ip addr add "${C_IP[m2]}/32" dev "$dev1"
c_udp_send m2 api 9300 "genuine-$H_RUN"
h_wait_for 5 c_udp_seen api "genuine-$H_RUN" || h_fail "m2 -> api:9300/udp did not arrive"
c_udp_send m1 api 9300 "spoofed-$H_RUN" "${C_IP[m2]}"
c_udp_send m1 api 9300 "marker-$H_RUN"
h_wait_for 5 c_udp_seen api "marker-$H_RUN" || h_fail "m1 -> api:9300/udp did not arrive"
! c_udp_seen api "spoofed-$H_RUN" || h_fail "a spoofed source from m1 reached api"
h_in "${C_NS[m1]}" ip addr del "${C_IP[m2]}/32" dev "$dev1"
lap "ok: a source m1 does not own is dropped at the gateway"

# ---- VXLAN: a pod's identity is trusted only from the machine's gateway ----
# A stranger on the underlay encapsulates toward m1 with web's address inside and web's
# identity in the VNI: m1 takes it for world (its gateway did not send it), so the
# app=web rule on 9300/udp does not admit it. m1's own flow log says so.
if [ "$backend" = vxlan ]; then
	C_NS[s]=$(h_host s 10.99.0.30/24)
	web_id=$(c_etcdctl get --print-value-only "${C_PREFIX}ipcache/10.200.1.5/32" | jq -r .identity)
	h_in "${C_NS[s]}" ip link add vxs type vxlan external dstport 8472
	h_in "${C_NS[s]}" ip addr add 10.200.1.5/32 dev vxs
	h_in "${C_NS[s]}" ip link set vxs arp off up # as the product's devices: no neighbour to resolve
	h_in "${C_NS[s]}" ip route add "${C_IP[m1]}/32" encap ip id "$web_id" \
		dst "$(jq -r .response.workload.underlay_ip "$H_TMP/m1-state/enrollment.json")" dev vxs src 10.200.1.5
	forged_as_world() {
		h_in "${C_NS[m1]}" "$C_CLI" observe --socket "$H_TMP/m1-api.sock" -o json --last 200 |
			jq -e -s 'flatten | map(select(.IP.source == "10.200.1.5" and
				.l4.UDP.destination_port == 9300 and .source.identity == 2 and
				.verdict == "DROPPED")) | length > 0' >/dev/null
	}
	c_udp_send s m1 9300 "forged-$H_RUN" 10.200.1.5
	h_wait_for 10 forged_as_world || h_fail "m1 did not drop web's address from a stranger as world"
	! c_udp_seen m1 "forged-$H_RUN" || h_fail "a stranger's datagram with web's identity reached m1"
	lap "ok: over VXLAN a pod's identity is trusted only from the machine's gateway"
fi

# ---- a machine that stops its agent and detaches its programs is still limited ----
# The agent stops (SIGTERM leaves the datapath enforcing), then the machine removes the tc
# hooks from its tunnel device. Over VXLAN nothing leaves without the datapath's tunnel
# key, so the machine also encapsulates by itself (an lwtunnel route), claiming m2's
# identity in the VNI (m2's egress is open) as a machine trying to bypass its programs
# might: the gateway takes identities from its ipcache, never from a machine's VNI. Its
# egress policy (m1-out) still holds at the gateway: api:9300/udp arrives, 9301 does not.
h_kill "$(cat "$H_TMP/m1.pid")"
h_in "${C_NS[m1]}" tc qdisc del dev "$dev1" clsact
! h_in "${C_NS[m1]}" tc filter show dev "$dev1" egress | grep -q bpf || h_fail "m1 still has filters"
if [ "$backend" = vxlan ]; then
	m2id=$(jq -r .response.workload.identity "$H_TMP/m2-state/enrollment.json")
	h_in "${C_NS[m1]}" ip route replace 10.200.0.0/16 encap ip id "$m2id" dst 10.99.0.2 \
		dev "$dev1" src "${C_IP[m1]}"
fi
c_udp_send m1 api 9301 "detached-no-$H_RUN" # denied by m1-out: first
c_udp_send m1 api 9300 "detached-ok-$H_RUN" # allowed: the marker on the same path
h_wait_for 5 c_udp_seen api "detached-ok-$H_RUN" ||
	h_fail "detached m1 -> api:9300/udp (allowed by m1-out) did not arrive"
! c_udp_seen api "detached-no-$H_RUN" ||
	h_fail "detached m1 -> api:9301/udp passed: the gateway did not re-check m1's egress"
if [ "$backend" = wireguard ]; then
	# WireGuard needs no datapath to receive: whole connections, both verdicts.
	c_matrix <<'CELLS'
tcp m1 db  5432 ok    detached: allowed by m1-out and db-in
tcp m1 api 5432 drop  detached: m1-out re-checked at the gateway
tcp m1 web 8000 ok    detached: toEntities cluster
tcp m1 api 8000 drop  detached: egressDeny re-checked at the gateway
CELLS
fi
lap "ok: a machine that detached its programs is still limited by the gateway"

# ---- the agent back, on pins of an older build ----
# The pins lose the tunnel map (as an older build left them); pseudopodd loads anew,
# adopting the maps that fit, writes its gateway into the new tunnel map and re-attaches.
[ "$backend" = wireguard ] || h_in "${C_NS[m1]}" ip route del 10.200.0.0/16 dev "$dev1" src "${C_IP[m1]}" 2>/dev/null ||
	true
rm "/sys/fs/bpf/pp-e2e-$H_RUN-m1/tunnel"
c_start m1 pseudopodd-m1-again
grep -q 'datapath: loaded and pinned' "$H_TMP/pseudopodd-m1-again.log" ||
	h_fail "pseudopodd did not reload over pins without the tunnel map"
[ -e "/sys/fs/bpf/pp-e2e-$H_RUN-m1/tunnel" ] || h_fail "the tunnel map was not pinned again"
c_matrix <<'CELLS'
tcp m1  db  5432 ok    the agent back: m1-out and db-in
tcp m1  api 5432 drop  the agent back: m1-out on m1 again
tcp web m1  5432 ok    the agent back: m1-in
tcp db  m1  5432 drop  the agent back: m1-in
tcp m1  m2  7000 ok    the agent back: machine to machine
CELLS
lap "ok: the agent back on an older build's pins reloads, adopts the maps and enforces"
! grep -q 'Sanitizer\|runtime error' "$H_TMP"/pseudopodd-*.log || h_fail "sanitizer report in a daemon's log"
h_pass "daemon matrix over $backend: labels, namespaces, entities, CIDRs, deny, ports/ranges/protocols, machine <-> machine, live changes, new pod, relabelling, anti-spoofing, detached machine ($(since "$t0") ms)"
