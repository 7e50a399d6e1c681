#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every pseudopodctl command except policy (ctl_policy.sh) against a real etcd, with good
# and bad input: exit codes 0 ok / 1 failed / 2 usage, tables and -o json, malformed
# records in the store skipped with a warning, 16 concurrent "endpoint add" of one label
# set agreeing on one identity.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/store.sh"
h_init
store_ctl_init # ns, url, P, bin; ctl and expect RC CMD... (stdout in $out, stderr in $err)
etcdput() { h_in "$ns" etcdctl --endpoints "$url" put "$P$1" "$2" >/dev/null; }

# --- init
expect 0 init --cluster-name lab --cluster-id 7 --pod-cidr 10.200.0.0/16 --workload-cidr 10.201.0.0/16
expect 0 init --cluster-name lab --cluster-id 7 --pod-cidr 10.200.0.0/16 --workload-cidr 10.201.0.0/16
expect 1 init --cluster-name lab --cluster-id 8 --pod-cidr 10.200.0.0/16 --workload-cidr 10.201.0.0/16
grep -q "already initialised" <<<"$err" || h_fail "init conflict message: $err"
expect 0 init --cluster-name lab --cluster-id 8 --pod-cidr 10.200.0.0/16,fd00::/64 \
	--workload-cidr 10.201.0.0/16 --tunnel vxlan --force -o json
[ "$(jq -r .cluster_id <<<"$out")" = 8 ] || h_fail "init -o json: $out"
got=$(h_in "$ns" etcdctl --endpoints "$url" get --print-value-only "${P}config")
[ "$(jq -r '.tunnel + " " + (.pod_cidrs|join(","))' <<<"$got")" = "vxlan 10.200.0.0/16,fd00::/64" ] ||
	h_fail "stored config: $got"
expect 2 init --cluster-name lab
expect 2 init --cluster-name Lab_1 --cluster-id 7 --pod-cidr 10.200.0.0/16 --workload-cidr 10.201.0.0/16
expect 2 init --cluster-name lab --cluster-id 300 --pod-cidr 10.200.0.0/16 --workload-cidr 10.201.0.0/16
expect 2 init --cluster-name lab --cluster-id 7 --pod-cidr 10.200.0.1/16 --workload-cidr 10.201.0.0/16
expect 2 init --cluster-name lab --cluster-id 7 --pod-cidr 10.200.0.0/16 --workload-cidr x --tunnel gre
expect 2 init --bogus

# --- endpoint
expect 0 endpoint add --ip 10.200.1.5 --labels app=db,tier=data --namespace prod
grep -q "identity 256" <<<"$out" || h_fail "first identity is not 256: $out"
expect 0 endpoint add --ip 10.200.1.6/32 --labels tier=data,app=db --namespace prod -o json
[ "$(jq -r .identity <<<"$out")" = 256 ] || h_fail "same labels, other identity: $out"
expect 0 endpoint add --ip 10.201.0.9 --labels app=vm --kind workload --gateway 10.99.0.3
id_vm=$(sed -n 's/.*identity \([0-9]*\).*/\1/p' <<<"$out")
[ "$id_vm" = 257 ] || h_fail "workload identity: $out"
expect 0 endpoint add --ip fd00::5 --labels app=db,tier=data --namespace prod
expect 2 endpoint add --ip 10.200.1.300 --labels app=x
expect 2 endpoint add --ip 10.200.1.1/24 --labels app=x
expect 2 endpoint add --ip 10.200.1.7 --labels 'app=a b'
expect 2 endpoint add --ip 10.200.1.7 --namespace Prod
expect 2 endpoint add --labels app=x
expect 2 endpoint add --ip 10.200.1.7 --kind vm
# Addresses that can't be endpoints (issue 10 item 5); every one was stored before.
expect 2 endpoint add --ip 0.0.0.0/0 --labels app=x --allow-outside-cluster-cidrs
grep -q "every address, not an endpoint" <<<"$err" || h_fail "0.0.0.0/0: $err"
expect 2 endpoint add --ip ::/0 --labels app=x
expect 2 endpoint add --ip 192.168.7.1 --labels app=x
grep -q "outside the cluster's pod and workload CIDRs" <<<"$err" || h_fail "outside: $err"
expect 2 endpoint add --ip 10.201.0.10 --kind workload --gateway fd00::1
grep -q "expected an IPv4 address" <<<"$err" || h_fail "v6 gateway: $err"
expect 2 endpoint add --ip 10.200.1.7 --labels reserved:host
grep -q "reserved source is assigned by pseudopod" <<<"$err" || h_fail "reserved: $err"
expect 2 endpoint add --ip 10.200.1.1/24 --labels app=x
grep -q "the network is 10.200.1.0/24" <<<"$err" || h_fail "host bits hint: $err"
expect 0 endpoint list
grep -q "10.201.0.9/32 *257 *workload *10.99.0.3 *k8s:app=vm,k8s:io.kubernetes.pod.namespace=default" <<<"$out" ||
	h_fail "endpoint list table: $out"
expect 0 endpoint list -o json
[ "$(jq length <<<"$out")" = 4 ] || h_fail "endpoint list json: $out"
[ "$(jq -r '.[] | select(.ip=="fd00::5/128") | .identity' <<<"$out")" = 256 ] || h_fail "v6: $out"
expect 0 endpoint add --ip 192.168.7.1 --labels app=db,tier=data --namespace prod \
	--allow-outside-cluster-cidrs # labels in use: no new identity for the gc count below
expect 0 endpoint del --ip 192.168.7.1

# --- 16 concurrent allocators of one new label set, through the CLI
for i in $(seq 1 16); do
	h_in "$ns" "$bin" endpoint add --store "$url" --store-prefix "$P" --ip "10.200.2.$i" \
		--labels app=burst --namespace prod -o json >"$H_TMP/burst.$i" 2>&1 &
done
wait
ids=$(cat "$H_TMP"/burst.* | jq -r .identity | sort -u)
[ "$(wc -l <<<"$ids")" = 1 ] || h_fail "concurrent allocators disagree: $ids"
expect 0 identity list -o json
[ "$(jq '[.[] | select(.labels | index("k8s:app=burst"))] | length' <<<"$out")" = 1 ] ||
	h_fail "more than one identity for app=burst: $out"

# --- identity
expect 0 identity list
grep -q "^256 *k8s:app=db,k8s:io.kubernetes.pod.namespace=prod,k8s:tier=data" <<<"$out" ||
	h_fail "identity list: $out"
expect 0 identity get 257 -o json
[ "$(jq -r '.labels[0]' <<<"$out")" = "k8s:app=vm" ] || h_fail "identity get: $out"
expect 1 identity get 999
expect 2 identity get 5
expect 2 identity get abc
expect 0 endpoint del 10.201.0.9
expect 1 endpoint del 10.201.0.9
expect 2 endpoint del 10.201.0.300
expect 0 identity gc --dry-run
grep -q "^1 unused identity would be removed" <<<"$out" || h_fail "gc dry run: $out"
expect 0 identity get 257
expect 0 identity gc -o json
[ "$(jq .removed <<<"$out")" = 1 ] || h_fail "gc: $out"
expect 1 identity get 257

# --- gateway
key=$(wg genkey | wg pubkey)
expect 0 gateway add --name gw-1 --underlay-ip 10.99.0.3 --cidrs 10.200.0.0/16,10.201.0.0/16 \
	--wg-public-key "$key" --vxlan-endpoint 10.99.0.3
expect 0 gateway list
grep -q "^gw-1 *10.99.0.3 *51871 *10.99.0.3 *10.200.0.0/16,10.201.0.0/16" <<<"$out" ||
	h_fail "gateway list: $out"
expect 0 gateway list -o json
[ "$(jq -r '.[0].wg_public_key' <<<"$out")" = "$key" ] || h_fail "gateway json: $out"
expect 2 gateway add --name gw-2 --underlay-ip 10.99.0.300 --cidrs 10.200.0.0/16
expect 2 gateway add --name gw-2 --underlay-ip 10.99.0.4 --cidrs 10.200.0.0/16 --wg-public-key abc
expect 2 gateway add --name GW --underlay-ip 10.99.0.4 --cidrs 10.200.0.0/16
expect 2 gateway add --name gw-2 --underlay-ip 10.99.0.4
expect 0 gateway delete gw-1
expect 1 gateway delete gw-1

# --- workload (records as enrollment will write them; enrollment is not built yet)
etcdput workloads/db1 "{\"version\":1,\"identity\":256,\"overlay_ip\":\"10.201.0.5\",\"labels\":[\"k8s:app=db\"],\"namespace\":\"prod\",\"underlay_ip\":\"10.99.0.20\",\"wg_public_key\":\"$key\",\"enrolled_at\":1700000000}"
etcdput workloads/db1/alive '{"version":1}'
etcdput ipcache/10.201.0.5/32 '{"version":1,"identity":256,"kind":"workload","gateway":"10.99.0.3"}'
etcdput workloads/db2 "{\"version\":1,\"identity\":256,\"overlay_ip\":\"10.201.0.6\",\"labels\":[\"k8s:app=db\"],\"namespace\":\"prod\",\"underlay_ip\":\"10.99.0.21\"}"
etcdput workloads/broken '{"version":1,"identity":"x"}'
expect 0 workload list
grep -q "^db1 *prod *256 *10.201.0.5 *10.99.0.20 *yes *2023-11-14T22:13:20Z" <<<"$out" ||
	h_fail "workload list: $out"
grep -q "^db2 .* no " <<<"$out" || h_fail "workload list (db2): $out"
grep -q "skipping malformed record ${P}workloads/broken: identity" <<<"$err" ||
	h_fail "malformed workload not reported: $err"
expect 0 workload get db1 -o json
[ "$(jq -r .alive <<<"$out")" = true ] || h_fail "workload get: $out"
expect 1 workload get nope
expect 0 workload delete db1
expect 1 workload delete db1
expect 2 workload delete 'Bad Name'
h_in "$ns" etcdctl --endpoints "$url" get --prefix --keys-only "$P" | grep -q "10.201.0.5\|db1" &&
	h_fail "workload delete left keys behind"

# --- malformed records never stop a listing
etcdput identities/400 'not json'
etcdput identities/401 '{"version":9,"labels":[]}'
etcdput ipcache/10.200.9.9/32 '{"version":1,"identity":"many"}'
etcdput ipcache/10.200.9.10/32 '{"version":1,"identity":256}'
expect 0 endpoint list
grep -q "skipping malformed record ${P}ipcache/10.200.9.9/32" <<<"$err" || h_fail "no warning: $err"
grep -q "^10.200.9.10/32 *256" <<<"$out" || h_fail "good record after a bad one missing: $out"
expect 0 identity list
grep -q "skipping malformed record ${P}identities/401: version: 9" <<<"$err" || h_fail "$err"
grep -q "^256 " <<<"$out" || h_fail "identity list lost good records: $out"

# --- store trouble and usage errors
set +e
h_in "$ns" "$bin" identity list --store http://127.0.0.1:1 >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || h_fail "unreachable store: exit $rc, expected 1"
expect 2 identity frobnicate
expect 2 endpoint add --ip 10.0.0.1 -o yaml
set +e
h_in "$ns" "$bin" token create >/dev/null 2>&1; rc1=$?
h_in "$ns" "$bin" serve --port 0 >/dev/null 2>&1; rc2=$?
h_in "$ns" "$bin" >/dev/null 2>&1; rc3=$?
set -e
[ "$rc1 $rc2 $rc3" = "2 2 2" ] || h_fail "token create without --server, serve --port 0, no command: exits $rc1 $rc2 $rc3, expected 2"
h_in "$ns" "$bin" endpoint add --help | grep -q -- "--namespace" || h_fail "endpoint add --help"
h_pass "pseudopodctl init/endpoint/identity/gateway/workload behave, bad input handled"
