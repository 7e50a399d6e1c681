#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The store credentials a machine gets at enrollment (etcd TLS + auth on): each try below is
# made by etcd itself against the machine's own user. It reads what its agent needs (config,
# identities/, ipcache/, policies/, gateways/, its own record) and writes only under
# workloads/<name>/; it cannot write another machine's records or its own record, read
# tokens/, change policies or ipcache; it cannot make the enrollment server delete another
# machine with its own credentials.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/enroll.sh"
h_init
enroll_cluster
enroll_serve
for m in db1 db2; do
	pp_enroll "$m" "$(token --labels app=$m --namespace prod --name $m)"
	[ $rc -eq 0 ] || h_fail "$m: $out"
done
ctl policy apply -f /dev/stdin >/dev/null <<'Y' || h_fail "policy apply"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p1, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: db1}}
  ingress: [{fromEndpoints: [{matchLabels: {app: db2}}]}]
Y
st="$H_TMP/m-db1/state"
user=$(grep '^user = ' "$H_TMP/m-db1/pseudopod.conf" | cut -d' ' -f3)
pw=$(cat "$st/store-password")
as_db1() { h_in "$ns" etcdctl --endpoints "$ETCD_URL" --cacert "$st/store-ca.crt" --user "$user:$pw" "$@"; }
allowed() {
	as_db1 "$@" >/dev/null 2>"$H_TMP/err" || h_fail "db1 should be allowed: $* ($(cat "$H_TMP/err"))"
	h_log "ok: allowed: $*"
}
refused() {
	if as_db1 "$@" >/dev/null 2>"$H_TMP/err"; then h_fail "db1 could: $*"; fi
	grep -q "permission denied" "$H_TMP/err" || h_fail "$*: not a permission error: $(cat "$H_TMP/err")"
	h_log "ok: refused by etcd: $*"
}
allowed get "${P}config"
allowed get --prefix "${P}ipcache/"
allowed get --prefix "${P}identities/"
allowed get --prefix "${P}policies/"
allowed get --prefix "${P}gateways/"
allowed get "${P}workloads/db1"
lease=$(as_db1 lease grant 30 | awk '{print $2}')
allowed put --lease "$lease" "${P}workloads/db1/alive" '{"version":1}'
refused put "${P}workloads/db2" '{"version":1}'
refused put "${P}workloads/db2/alive" '{"version":1}'
refused del "${P}workloads/db2"
refused put "${P}workloads/db1" '{"version":1,"identity":999}'
refused get --prefix "${P}tokens/"
refused get --prefix "${P}workloads/"
refused put "${P}policies/prod/p1" '{}'
refused del --prefix "${P}policies/"
refused put "${P}ipcache/10.201.0.99/32" '{"version":1,"identity":256,"kind":"workload"}'
refused put "${P}identities/300" '{"version":1,"labels":[]}'
refused user add evil:evil
# The server deletes a machine only for that machine's own credentials.
body=$(jq -nc --arg u "$user" --arg p "$pw" '{name:"db2",user:$u,password:$p}')
code=$(h_in "$ns" curl -s -o "$H_TMP/body" -w '%{http_code}' --cacert "$PKI/ca.crt" -X POST \
	--data-binary "$body" "$URL/v1/leave")
[ "$code" = 401 ] && grep -q invalid_credentials "$H_TMP/body" || h_fail "leave as another machine: $code $(cat "$H_TMP/body")"
body=$(jq -nc --arg u "$user" '{name:"db1",user:$u,password:"wrong"}')
code=$(h_in "$ns" curl -s -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" -X POST \
	--data-binary "$body" "$URL/v1/leave")
[ "$code" = 401 ] || h_fail "leave with a wrong password: $code"
[ -n "$(e get "${P}workloads/db2" --keys-only)" ] || h_fail "db2 was deleted"
h_pass "machine credentials: least privilege enforced by etcd"
