# SPDX-License-Identifier: GPL-2.0-only
# Set-up shared by the e2e tests that use a store (source it after harness.sh; call after h_init).
#
#   store_ctl_init      a real etcd in a new namespace for pseudopodctl tests; sets ns, url,
#                       P (a per-run key prefix) and bin (pseudopodctl). Not to be called in
#                       $(...): it sets variables.
#   ctl ARGS...         pseudopodctl ARGS against that store and prefix
#   expect RC ARGS...   ctl ARGS must exit RC, else the test fails; stdout in $out, stderr in $err
#   store_identity_of IP
#                       the security identity the store's ipcache gives IP/32 (empty if none)
#   store_underlay_init the same on the underlay (h_underlay): the store is host "etcd" at
#                       10.99.0.9, reachable from the nodes and hosts the test adds there
#   store_etcdctl ARGS...
#                       etcdctl ARGS against that store, from its namespace
#   store_etcd NS NAME [FLAGS...]
#                       a single-member etcd on http://127.0.0.1:2379 in NS with extra etcd
#                       FLAGS (for settings h_etcd does not give); waits until it is healthy

store_ctl_init() {
	ns=$(h_ns store)
	url=$(h_etcd "$ns")
	P="/pp$H_RUN/"
	bin=$(h_bin pseudopodctl)
}

store_underlay_init() {
	h_underlay
	ns=$(h_host etcd 10.99.0.9/24)
	url=$(h_etcd "$ns")
	P="/pp$H_RUN/"
	bin=$(h_bin pseudopodctl)
}

ctl() { h_in "$ns" "$bin" "$@" --store "$url" --store-prefix "$P"; }

store_etcdctl() { h_in "$ns" etcdctl --endpoints "$url" "$@"; }

expect() {
	local want=$1 rc
	shift
	set +e
	out=$(ctl "$@" 2>"$H_TMP/stderr")
	rc=$?
	set -e
	err=$(cat "$H_TMP/stderr")
	[ "$rc" -eq "$want" ] || h_fail "pseudopodctl $*: exit $rc, expected $want; output: $out $err"
}

store_identity_of() {
	store_etcdctl get --print-value-only "${P}ipcache/$1/32" |
		sed -n 's/.*"identity": *\([0-9]*\).*/\1/p'
}

store_etcd() {
	local ns=$1 name=$2 url=http://127.0.0.1:2379
	shift 2
	h_spawn "$ns" etcd etcd --name "$name$H_RUN" --data-dir "$H_TMP/etcd" \
		--listen-client-urls "$url" --advertise-client-urls "$url" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster "$name$H_RUN=http://127.0.0.1:2380" --log-level error "$@" >/dev/null
	h_wait_for 20 h_etcd_healthy "$ns" "$url" || h_fail "etcd did not start"
}
