#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pseudopodd --mode gateway serves the local API, flows and metrics (agent/daemon_gateway_api.c),
# and takes its underlay address and port from [gateway] (lib/config.c). A real etcd, a
# gateway node g with pod p1 (app=db, ingress only from app=legacy-db on 5432), two machines
# behind WireGuard (m1 app=legacy-db, m2 app=other) with no datapath of their own:
#   1. config: [gateway] underlay-address and listen-port are what gateways/<name> carries;
#      a bad value stops pseudopodd --check-config with file, line, section, key and value;
#   2. `pseudopod status` on the gateway: peers (machines) with handshake age and bytes,
#      endpoints, policy revision, map fill levels, store state;
#   3. `pseudopod observe`: the gateway's verdicts with identities and labels;
#   4. `pseudopod policy get` (every local endpoint's entries) and `policy trace`;
#   5. `pseudopod identity list|get|--ip` against the gateway's live state, and errors;
#   6. /metrics passes promtool (when installed), /healthz says ready;
#   7. a VXLAN gateway without listen-port listens on the cluster's VXLAN port (what
#      enrollment gives the machines), not on the WireGuard port nor its own [tunnel] one.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "$PP_SOURCE_DIR/tests/e2e/lib/store.sh"
h_init
PPD=$(h_bin pseudopodd)
CLI=$(h_bin pseudopod)
T=$(h_bin pp-tunnel)
DP=$(h_bin pp-datapath)
command -v wireguard-go >/dev/null || h_fail "wireguard-go missing: run scripts/deps"
command -v jq >/dev/null || h_fail "jq missing: run scripts/deps"

store_underlay_init

g=$(h_node g 10.99.0.1/24)
# a second address on the underlay: the route toward the store would pick 10.99.0.1, so
# only [gateway] underlay-address makes the registration say 10.99.0.11
h_in "$g" ip addr add 10.99.0.11/24 dev ul0
p1=$(h_pod "$g" p1 10.200.1.5)
m1=$(h_host m1 10.99.0.2/24)
m2=$(h_host m2 10.99.0.3/24)

ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.200.0.0/16 \
	--workload-cidr 10.201.0.0/16 >/dev/null || h_fail "pseudopodctl init"
ctl endpoint add --ip 10.200.1.5 --labels app=db --namespace prod >/dev/null || h_fail "p1"
P1ID=$(store_identity_of 10.200.1.5)

GWS="$H_TMP/gw-state"
mkdir -m 0700 -p "$GWS"
"$T" writekey "$GWS/wireguard.key"
for k in m1 m2; do "$T" writekey "$H_TMP/$k.key"; done
pub() { "$T" readkey "$1"; }
GWPUB=$(pub "$GWS/wireguard.key")

workload() { # NAME OVERLAY UNDERLAY LABELS: what enrollment writes (ipcache + workloads/)
	local id
	ctl endpoint add --ip "$2" --labels "$4" --namespace prod --kind workload \
		--gateway 10.99.0.11 >/dev/null || h_fail "endpoint add $1"
	id=$(store_identity_of "$2")
	[ -n "$id" ] || h_fail "no identity for $1"
	store_etcdctl put "${P}workloads/$1" "{\"version\":1,\"identity\":$id,\"overlay_ip\":\"$2\",\
\"labels\":[\"k8s:$4\",\"k8s:io.kubernetes.pod.namespace=prod\"],\"namespace\":\"prod\",\
\"underlay_ip\":\"$3\",\"wg_public_key\":\"$(pub "$H_TMP/$1.key")\",\"enrolled_at\":1700000000}" \
		>/dev/null || h_fail "workloads/$1"
	echo "$id"
}
M1ID=$(workload m1 10.201.0.5 10.99.0.2 app=legacy-db)
M2ID=$(workload m2 10.201.0.6 10.99.0.3 app=other)
h_log "identities: p1 $P1ID, m1 $M1ID, m2 $M2ID"

cat >"$H_TMP/db.yaml" <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: legacy-db}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
YAML
ctl policy apply -f "$H_TMP/db.yaml" >/dev/null || h_fail "policy apply"

# ---- the gateway: pseudopodd --mode gateway from a config file ----
IFG="g${H_RUN}gw"
BPFFS="/sys/fs/bpf/pp-e2e-$H_RUN"
SOCK="$H_TMP/gw-api.sock"
h_on_exit "$DP unload --bpffs $BPFFS"
h_on_exit "ip -n $g link del $IFG"
h_on_exit "rm -f /var/run/wireguard/$IFG.sock"
conf() { # UNDERLAY-ADDRESS
	cat <<CONF
[agent]
mode = gateway
name = gw-$H_RUN
state-dir = $GWS
bpffs-root = $BPFFS
api-socket = $SOCK
metrics-address = 127.0.0.1:19962

[store]
endpoints = $url
prefix = $P

[tunnel]
device = $IFG
wireguard-backend = userspace

[gateway]
underlay-address = $1
listen-port = 51900
CONF
}

# 1. config: a bad [gateway] value is refused with where and what
conf 127.0.0.1 >"$H_TMP/bad.conf"
rc=0
out=$("$PPD" --config "$H_TMP/bad.conf" --check-config 2>&1) || rc=$?
[ $rc -eq 1 ] || h_fail "--check-config accepted underlay-address = 127.0.0.1 (rc=$rc): $out"
grep -qF "$H_TMP/bad.conf:18: [gateway] underlay-address: '127.0.0.1' is not an address" <<<"$out" ||
	h_fail "the error does not name file, line, key and value: $out"
h_log "ok: bad [gateway] underlay-address refused: $out"

conf 10.99.0.11 >"$H_TMP/gw.conf"
GWPID=$(h_spawn "$g" pseudopodd-gw "$PPD" --config "$H_TMP/gw.conf")
h_wait_for 30 grep -q "ready: gateway synced" "$H_TMP/pseudopodd-gw.log" ||
	h_fail "the gateway did not become ready: $(tail -5 "$H_TMP/pseudopodd-gw.log")"
reg=$(store_etcdctl get --print-value-only "${P}gateways/gw-$H_RUN")
[ "$(jq -r .underlay_ip <<<"$reg")" = 10.99.0.11 ] ||
	h_fail "registered underlay is not [gateway] underlay-address: $reg"
[ "$(jq -r .wireguard_port <<<"$reg")" = 51900 ] ||
	h_fail "registered port is not [gateway] listen-port: $reg"
h_in "$g" ss -Hlun 'sport = :51900' | grep -q . || h_fail "the tunnel does not listen on 51900"
h_log "ok: [gateway] underlay-address and listen-port registered and used"

# SIGHUP: a new log-level applies at once; a file that no longer parses keeps the running one
sed -i 's/^metrics-address = .*/&\nlog-level = debug/' "$H_TMP/gw.conf"
kill -HUP "$GWPID"
h_wait_for 5 grep -q "SIGHUP: log-level = debug" "$H_TMP/pseudopodd-gw.log" ||
	h_fail "SIGHUP did not apply the new log-level: $(tail -3 "$H_TMP/pseudopodd-gw.log")"
echo "bogus line" >>"$H_TMP/gw.conf"
kill -HUP "$GWPID"
h_wait_for 5 grep -q "keeping the running configuration" "$H_TMP/pseudopodd-gw.log" ||
	h_fail "SIGHUP with a bad file: $(tail -3 "$H_TMP/pseudopodd-gw.log")"
kill -0 "$GWPID" || h_fail "the gateway died on a bad config at SIGHUP"
h_log "ok: SIGHUP re-reads the config in gateway mode"

# The machines' tunnels toward the registered endpoint.
IF1="g${H_RUN}m1" IF2="g${H_RUN}m2"
for i in 1 2; do h_on_exit "rm -f /var/run/wireguard/g${H_RUN}m$i.sock"; done
machine() { # NS NAME IF OVERLAY
	h_spawn "$1" "$2" "$T" wg-up "$3" --private-key "$H_TMP/$2.key" --port 51871 \
		--backend userspace --address "$4/32" --route 10.200.0.0/16 \
		--peer "$GWPUB,10.99.0.11:51900,10.200.0.0/16,1" --foreground
}
machine "$m1" m1 "$IF1" 10.201.0.5 >/dev/null
machine "$m2" m2 "$IF2" 10.201.0.6 >/dev/null
h_wait_for 15 grep -q '^ready' "$H_TMP/m1.log" || h_fail "m1's tunnel"
h_wait_for 15 grep -q '^ready' "$H_TMP/m2.log" || h_fail "m2's tunnel"
h_tcp_listen "$p1" 10.200.1.5 5432
h_wait_for 15 h_tcp_connect "$m1" 10.200.1.5 5432 || h_fail "m1 -> p1:5432 (ingress admits app=legacy-db)"
h_expect_tcp_blocked "$m2" 10.200.1.5 5432

cli() { "$CLI" "$@" --socket "$SOCK"; }
expect_fail() { # RC PATTERN CMD...: exit code RC and PATTERN on stderr
	local want=$1 pat=$2 rc=0 err
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -eq "$want" ] || h_fail "$* exited $rc, expected $want: $err"
	grep -qF -- "$pat" <<<"$err" || h_fail "$*: message lacks '$pat': $err"
}

# 2. status: the gateway view
st=$(cli status -o json) || h_fail "pseudopod status on the gateway"
jq -e '.mode == "gateway" and .ready' <<<"$st" >/dev/null || h_fail "status: mode/ready: $st"
jq -e --argjson id "$M1ID" '.peers[] | select(.name == "m1" and .identity == $id and
	.overlay_ip == "10.201.0.5" and .underlay_ip == "10.99.0.2" and .handshake_age_s != null
	and .rx_bytes > 0 and .tx_bytes > 0)' <<<"$st" >/dev/null ||
	h_fail "status: no peer m1 with a handshake and bytes: $(jq -c .peers <<<"$st")"
jq -e '.endpoints.pods >= 1 and .endpoints.machines == 2 and .endpoints.local >= 3' \
	<<<"$st" >/dev/null || h_fail "status: endpoints: $(jq -c .endpoints <<<"$st")"
jq -e '.policy.revision > 0 and .policy.policies == 1 and .policy.entries.ingress > 0' \
	<<<"$st" >/dev/null || h_fail "status: policy: $(jq -c .policy <<<"$st")"
jq -e '.datapath.maps[] | select(.name == "ipcache" and .entries > 0 and .max > 0)' \
	<<<"$st" >/dev/null || h_fail "status: map fill levels: $(jq -c .datapath <<<"$st")"
jq -e '.store.state == "live" and .store.synced and .store.connected' <<<"$st" >/dev/null ||
	h_fail "status: store: $(jq -c .store <<<"$st")"
cli status | grep -q "m1" || h_fail "status table does not list the peers"
h_log "ok: pseudopod status on the gateway: $(jq -c '{endpoints, policy, store: .store.state}' <<<"$st")"

# 3. observe: the gateway's verdicts, with identities and labels (Hubble names)
dropped() {
	cli observe --last 100 --verdict dropped --ip 10.201.0.6 -o json |
		jq -e --argjson s "$M2ID" --argjson d "$P1ID" 'select(.IP.source == "10.201.0.6"
		and .IP.destination == "10.200.1.5" and .l4.TCP.destination_port == 5432
		and .source.identity == $s and .destination.identity == $d
		and (.source.labels | index("k8s:app=other")) and (.destination.labels |
		index("k8s:app=db")))'
}
h_wait_for 10 dropped || h_fail "observe: no drop m2 -> p1:5432 with identities and labels:
$(cli observe --last 20 -o json)"
forwarded() {
	cli observe --last 100 --verdict forwarded --port 5432 -o json |
		jq -e --argjson s "$M1ID" 'select(.IP.source == "10.201.0.5" and .source.identity == $s
		and (.source.labels | index("k8s:app=legacy-db")))'
}
h_wait_for 10 forwarded || h_fail "observe: no forward m1 -> p1:5432"
cli observe --last 5 | grep -q DROPPED || h_fail "observe table"
h_log "ok: pseudopod observe shows the gateway's verdicts with identities and labels"

# 4. policy get: every local endpoint's entries, each naming its endpoint and policy
pol=$(cli policy get -o json) || h_fail "pseudopod policy get on the gateway"
jq -e --argjson ep "$P1ID" --argjson id "$M1ID" '.entries[] | select(.endpoint == $ep and
	.direction == "ingress" and .identity == $id and .ports == "5432" and .verdict == "allow"
	and (.policy | test("db")) and (.labels | index("k8s:app=legacy-db")))' <<<"$pol" \
	>/dev/null || h_fail "policy get: no ingress entry of p1 for m1: $pol"
jq -e --argjson ep "$P1ID" '.endpoints | index($ep)' <<<"$pol" >/dev/null ||
	h_fail "policy get: endpoints: $(jq -c .endpoints <<<"$pol")"
cli policy get | grep -q "^ENDPOINT" || h_fail "policy get table has no ENDPOINT column"
one=$(cli policy get --endpoint "$P1ID" -o json) || h_fail "policy get --endpoint $P1ID"
jq -e --argjson ep "$P1ID" '.endpoints == [$ep] and ([.entries[].endpoint] | unique) == [$ep]' \
	<<<"$one" >/dev/null || h_fail "policy get --endpoint: other endpoints' entries: $one"
expect_fail 1 "endpoint 4000000000: not a local endpoint of this gateway" \
	cli policy get --endpoint 4000000000
tr=$(cli policy trace --src 10.201.0.6 --dst 10.200.1.5 --dport 5432 -o json) ||
	h_fail "policy trace on the gateway"
grep -qi "denied" <<<"$tr" || h_fail "trace m2 -> p1:5432 is not denied: $tr"
tr=$(cli policy trace --src 10.201.0.5 --dst 10.200.1.5 --dport 5432 -o json)
grep -qi "allowed" <<<"$tr" || h_fail "trace m1 -> p1:5432 is not allowed: $tr"
h_log "ok: pseudopod policy get and trace on the gateway"

# 5. identities
ids=$(cli identity list -o json) || h_fail "identity list"
for id in "$P1ID" "$M1ID" "$M2ID" 1 2; do
	jq -e --argjson id "$id" '.identities[] | select(.id == $id)' <<<"$ids" >/dev/null ||
		h_fail "identity list lacks $id: $ids"
done
jq -e --argjson id "$M1ID" '.identities[] | select(.id == $id and .kind == "cluster" and
	(.labels | index("k8s:app=legacy-db")))' <<<"$ids" >/dev/null || h_fail "identity list: m1's labels"
cli identity list | grep -q "^$P1ID .*k8s:app=db" || h_fail "identity list table: $(cli identity list)"
cli identity get "$P1ID" -o json | jq -e '.labels | index("k8s:app=db")' >/dev/null ||
	h_fail "identity get $P1ID"
ipj=$(cli identity --ip 10.201.0.5 -o json) || h_fail "identity --ip"
jq -e --argjson id "$M1ID" '.identity.id == $id and .prefix == "10.201.0.5/32" and .workload and
	.tunnel_endpoint == "10.99.0.2"' <<<"$ipj" >/dev/null || h_fail "identity --ip 10.201.0.5: $ipj"
cli identity --ip 10.200.1.5 | grep -q "k8s:app=db" || h_fail "identity --ip table"
expect_fail 1 "4000000000: no such identity" cli identity get 4000000000
cli identity --ip 192.0.2.1 -o json | jq -e '.prefix == null and .identity.id == 2 and
	.identity.labels == ["reserved:world"]' >/dev/null || h_fail "identity --ip of an address no prefix holds is not world"
expect_fail 1 "a gateway has no identity of its own" cli identity
expect_fail 2 "'x1' is not a number" cli identity get x1
expect_fail 2 "'10.1' is not an IPv4 or IPv6 address" cli identity --ip 10.1
h_log "ok: pseudopod identity list, get and --ip on the gateway; errors name the value"

# 6. metrics and health
h_in "$g" curl -sf http://127.0.0.1:19962/metrics >"$H_TMP/metrics.txt" || h_fail "GET /metrics"
grep -q '^pseudopod_tunnel_peers 2$' "$H_TMP/metrics.txt" || h_fail "metrics: tunnel peers"
grep -q '^pseudopod_drop_count_total{.*} [1-9]' "$H_TMP/metrics.txt" || h_fail "metrics: drops"
grep -q '^pseudopod_identities [1-9]' "$H_TMP/metrics.txt" || h_fail "metrics: identities"
if command -v promtool >/dev/null; then
	promtool check metrics <"$H_TMP/metrics.txt" || h_fail "promtool check metrics"
fi
h_in "$g" curl -sf http://127.0.0.1:19962/healthz >/dev/null || h_fail "/healthz not ready"
h_log "ok: metrics and /healthz on the gateway"

# 7. VXLAN: the listen port defaults to the cluster's (pseudopodctl init: 8472), whatever
# the node's own [tunnel] vxlan-port says
g2=$(h_node g2 10.99.0.12/24)
IFV="g${H_RUN}vx"
h_on_exit "$DP unload --bpffs $BPFFS-vx"
h_on_exit "ip -n $g2 link del $IFV"
mkdir -m 0700 -p "$GWS-vx"
cat >"$H_TMP/vx.conf" <<CONF
[agent]
mode = gateway
name = gwvx-$H_RUN
state-dir = $GWS-vx
bpffs-root = $BPFFS-vx
api-socket = $H_TMP/gwvx-api.sock
metrics-address =

[store]
endpoints = $url
prefix = $P

[tunnel]
mode = vxlan
device = $IFV
vxlan-port = 4790
CONF
h_spawn "$g2" pseudopodd-vx "$PPD" --config "$H_TMP/vx.conf" >/dev/null
h_wait_for 30 grep -q "ready: gateway synced" "$H_TMP/pseudopodd-vx.log" ||
	h_fail "the VXLAN gateway did not become ready: $(tail -5 "$H_TMP/pseudopodd-vx.log")"
h_in "$g2" ip -d link show "$IFV" | grep -q "dstport 8472" ||
	h_fail "the VXLAN gateway does not use the cluster's port: $(h_in "$g2" ip -d link show "$IFV")"
reg=$(store_etcdctl get --print-value-only "${P}gateways/gwvx-$H_RUN")
[ "$(jq -r .vxlan_endpoint <<<"$reg")" = 10.99.0.12 ] ||
	h_fail "VXLAN registration: $reg"
"$CLI" status --socket "$H_TMP/gwvx-api.sock" -o json | jq -e '.gateway.tunnel == "vxlan"' \
	>/dev/null || h_fail "the VXLAN gateway's status"
h_log "ok: a VXLAN gateway listens on the cluster's VXLAN port by default"
h_pass
