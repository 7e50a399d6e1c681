#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pseudopodctl policy trace against a real etcd (store mode): policies applied with
# "policy apply" decide the verdict, an endpoint's stored identity is the one the trace
# uses (also when given by its address), deleting the policy opens the flow again, and an unreachable store is exit 2
# (never 1, which means "denied").
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/store.sh"
h_init
store_ctl_init # ns, url, P, bin; ctl
trace() {
	local want=$1 rc
	shift
	set +e
	ctl policy trace "$@" -o json >"$H_TMP/trace.json" 2>"$H_TMP/trace.err"
	rc=$?
	set -e
	[ "$rc" -eq "$want" ] ||
		h_fail "policy trace $*: exit $rc, expected $want: $(cat "$H_TMP/trace.json" "$H_TMP/trace.err")"
}
PROD=io.kubernetes.pod.namespace=prod

ctl policy apply -f "$PP_SOURCE_DIR/docs/examples/policy/03-knp-pod-selector.yaml" >/dev/null
ctl endpoint add --ip 10.200.1.5 --labels app=client --namespace prod --allow-outside-cluster-cidrs \
	>/dev/null
id=$(h_in "$ns" etcdctl --endpoints "$url" get --print-value-only "${P}ipcache/10.200.1.5/32" |
	sed -n 's/.*"identity": *\([0-9]*\).*/\1/p')
[ -n "$id" ] || h_fail "no identity stored for the endpoint"

trace 0 --src "app=client,$PROD" --dst "app=db,$PROD" --dport 5432/TCP
grep -q "\"src_identity\": $id," "$H_TMP/trace.json" ||
	h_fail "trace did not use the stored identity $id: $(cat "$H_TMP/trace.json")"
trace 1 --src "app=web,$PROD" --dst "app=db,$PROD" --dport 5432/TCP
grep -q 'default-deny' "$H_TMP/trace.json" || h_fail "expected default deny: $(cat "$H_TMP/trace.json")"
grep -q 'NetworkPolicy prod/db-from-client' "$H_TMP/trace.json" ||
	h_fail "expected the selecting policy named: $(cat "$H_TMP/trace.json")"

# An address the ipcache knows is traced as that endpoint; an unknown one is the world.
trace 0 --src 10.200.1.5 --dst "app=db,$PROD" --dport 5432/TCP
grep -q "\"src_identity\": $id," "$H_TMP/trace.json" || h_fail "10.200.1.5 is not identity $id"
trace 1 --src 10.200.9.9 --dst "app=db,$PROD" --dport 5432/TCP

ctl policy delete -n prod db-from-client >/dev/null
trace 0 --src "app=web,$PROD" --dst "app=db,$PROD" --dport 5432/TCP

set +e
h_in "$ns" "$bin" policy trace --src a=b --dst c=d --dport 80 --store http://127.0.0.1:1 \
	>/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || h_fail "unreachable store: exit $rc, expected 2"
h_pass "policy trace reads policies and identities from the store"
