#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pseudopodctl policy apply/list/get/delete against a real etcd: YAML multi-document, JSON
# List, a directory, stdin; an invalid object anywhere in an invocation is reported with
# file, document index and field path, and nothing of that invocation is stored.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/store.sh"
h_init
store_ctl_init # ns, url, P, bin; ctl and expect RC CMD... (stdout in $out, stderr in $err)
stored() { h_in "$ns" etcdctl --endpoints "$url" get --prefix --keys-only "${P}policies/" | grep -c . || true; }

d="$H_TMP/policies"
mkdir -p "$d"
cat >"$d/a.yaml" <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: db-ingress
  namespace: prod
spec:
  endpointSelector:
    matchLabels:
      app: db
  ingress:
  - fromEndpoints:
    - matchLabels:
        app: web
    toPorts:
    - ports:
      - port: "5432"
        protocol: TCP
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: allow-dns
spec:
  endpointSelector: {}
  egress:
  - toEndpoints:
    - matchLabels:
        k8s:io.kubernetes.pod.namespace: kube-system
    toPorts:
    - ports:
      - port: "53"
        protocol: UDP
YAML
cat >"$d/b.json" <<'JSON'
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
  "metadata": {"name": "web-deny"},
  "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}}
]}
JSON
cat >"$H_TMP/bad.yaml" <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: good-one
  namespace: prod
spec:
  endpointSelector: {}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: broken
  namespace: prod
spec:
  endpointSelector: {}
  ingress:
  - toPorts:
    - ports:
      - port: "99999"
        protocol: TCP
YAML

# An error anywhere stores nothing, even from the other (valid) files of the invocation.
expect 1 policy apply -f "$d" -f "$H_TMP/bad.yaml"
grep -q "bad.yaml: document 2: .*port" <<<"$err" || h_fail "error lacks file/document/field: $err"
[ "$(stored)" = 0 ] || h_fail "a failed apply stored something"

expect 0 policy apply -f "$d"
grep -q "CiliumNetworkPolicy prod/db-ingress applied" <<<"$out" || h_fail "apply output: $out"
[ "$(stored)" = 3 ] || h_fail "expected 3 stored policies, got $(stored)"
expect 0 policy list
grep -q "^- *allow-dns *CiliumClusterwideNetworkPolicy" <<<"$out" || h_fail "list: $out"
grep -q "^default *web-deny *NetworkPolicy" <<<"$out" || h_fail "list (namespace default): $out"
expect 0 policy list -n prod -o json
[ "$(jq -r '.[].name' <<<"$out")" = "db-ingress" ] || h_fail "list -n prod: $out"
expect 0 policy get -n prod db-ingress
[ "$(jq -r '.spec.endpointSelector.matchLabels.app' <<<"$out")" = db ] || h_fail "get: $out"
expect 0 policy get --clusterwide allow-dns
expect 0 policy get default/web-deny
expect 1 policy get -n prod nope
expect 2 policy get -n prod --clusterwide x
expect 2 policy get

# stdin, and re-applying (update) is fine
sed 's/5432/5433/' "$d/a.yaml" | h_in "$ns" "$bin" policy apply -f - --store "$url" \
	--store-prefix "$P" >/dev/null || h_fail "apply from stdin"
expect 0 policy get prod/db-ingress
grep -q 5433 <<<"$out" || h_fail "update from stdin not stored: $out"

# A NetworkPolicy may not silently replace a CiliumNetworkPolicy of the same name.
sed 's/web-deny/db-ingress/; s/"metadata": {"name": "db-ingress"}/"metadata": {"name": "db-ingress", "namespace": "prod"}/' \
	"$d/b.json" >"$H_TMP/clash.json"
expect 1 policy apply -f "$H_TMP/clash.json"
grep -q "exists as a CiliumNetworkPolicy" <<<"$err" || h_fail "kind clash message: $err"
expect 0 policy get prod/db-ingress
grep -q CiliumNetworkPolicy <<<"$out" || h_fail "kind clash replaced the policy: $out"

expect 1 policy apply -f "$H_TMP/missing.yaml"
printf 'not: [valid' >"$H_TMP/garbage.yaml"
expect 1 policy apply -f "$H_TMP/garbage.yaml"
grep -q "garbage.yaml" <<<"$err" || h_fail "garbage error lacks the file: $err"
expect 2 policy apply
expect 0 policy delete -n prod db-ingress
expect 1 policy delete -n prod db-ingress
expect 0 policy delete --clusterwide allow-dns
expect 0 policy delete default/web-deny
[ "$(stored)" = 0 ] || h_fail "delete left policies behind"

# A malformed stored policy is skipped by list, with a warning naming its key.
h_in "$ns" etcdctl --endpoints "$url" put "${P}policies/prod/junk" '[1,2]' >/dev/null
expect 0 policy apply -f "$d/b.json"
expect 0 policy list
grep -q "skipping malformed record ${P}policies/prod/junk" <<<"$err" || h_fail "no warning: $err"
grep -q "web-deny" <<<"$out" || h_fail "good policy missing next to a bad one: $out"
h_pass "policy apply (all or nothing), list, get, delete"
