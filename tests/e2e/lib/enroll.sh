# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Set-up shared by the enrollment e2e tests (source after harness.sh; call after h_init).
#
#   enroll_cluster [--no-auth]
#        a real etcd with TLS (a throwaway CA made with openssl) and auth on (user root),
#        in namespace $ns on 127.0.0.1; the cluster config (workload CIDR $WL_CIDR, default
#        10.201.0.0/16); the cluster PKI (pseudopodctl init --server-ip 127.0.0.1); sets
#        ns, P (key prefix), STORE (store options for pseudopodctl), CTL, PP, PKI, URL.
#        Not to be called in $(...).
#   enroll_serve [ENV=VALUE...]   starts pseudopodctl serve (log $H_TMP/serve.log), sets
#        SERVE_PID and waits for /healthz
#   ctl ARGS...                   pseudopodctl ARGS with the store options (as root)
#   e ARGS...                     etcdctl ARGS against the store (as root)
#   token ARGS...                 prints the join string of a new token (token create ARGS)
#   machine NAME                  a machine's config dir $H_TMP/m-NAME with a pseudopod.conf
#                                 whose state-dir is $H_TMP/m-NAME/state; prints the conf path
#   pp_enroll NAME JOIN [ARGS]    pseudopod enroll for machine NAME (no service start); output
#                                 in $out, exit code in $rc

: "${WL_CIDR:=10.201.0.0/16}"

enroll_cluster() {
	local auth=1 d
	[ "${1:-}" = "--no-auth" ] && auth=0
	ns=$(h_ns store)
	P="/pp$H_RUN/"
	CTL=$(h_bin pseudopodctl)
	PP=$(h_bin pseudopod)
	d="$H_TMP/etcd-pki"
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj "/CN=pp-etcd-ca" -keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1 ||
		h_fail "openssl: etcd CA"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=etcd" \
		-keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 || h_fail "openssl csr"
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 1 -extfile "$d/ext" -out "$d/server.crt" >/dev/null 2>&1 || h_fail "openssl x509"
	ETCD_URL=https://127.0.0.1:2379
	ETCD_CA="$d/ca.crt"
	h_spawn "$ns" etcd etcd --name "e$H_RUN" --data-dir "$H_TMP/etcd" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--cert-file "$d/server.crt" --key-file "$d/server.key" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster "e$H_RUN=http://127.0.0.1:2380" --log-level error >/dev/null
	h_wait_for 20 h_in "$ns" curl -sf -m 2 --cacert "$ETCD_CA" -X POST -d '{"key":"aGVhbHRo"}' \
		"$ETCD_URL/v3/kv/range" || h_fail "etcd (TLS) did not start"
	STORE=(--store "$ETCD_URL" --store-ca "$ETCD_CA" --store-prefix "$P")
	if [ $auth -eq 1 ]; then
		e user add root:rootpw >/dev/null
		e user grant-role root root >/dev/null
		e auth enable >/dev/null
		E_AUTH=1
		(umask 077 && printf 'rootpw\n' >"$H_TMP/rootpw") # the secret-file rule: owner-only
		STORE+=(--store-user root --store-password-file "$H_TMP/rootpw")
	fi
	ctl init --cluster-name lab --cluster-id 7 --pod-cidr 10.200.0.0/16 \
		--workload-cidr "$WL_CIDR" >/dev/null || h_fail "pseudopodctl init (config)"
	PKI="$H_TMP/pki"
	h_in "$ns" "$CTL" init --pki-dir "$PKI" --server-ip 127.0.0.1 >"$H_TMP/pki.out" ||
		h_fail "pseudopodctl init (PKI)"
	URL=https://127.0.0.1:9443
}

e() {
	local a=()
	[ "${E_AUTH:-0}" = 1 ] && a=(--user root:rootpw)
	h_in "$ns" etcdctl --endpoints "$ETCD_URL" --cacert "$ETCD_CA" "${a[@]}" "$@"
}

ctl() { h_in "$ns" "$CTL" "$@" "${STORE[@]}"; }

enroll_serve() {
	SERVE_PID=$(h_spawn "$ns" serve env "$@" "$CTL" serve --pki-dir "$PKI" --listen 127.0.0.1 \
		--port 9443 --rate 100000 --threads 4 "${STORE[@]}")
	h_wait_for 20 h_in "$ns" curl -sf -m 2 --cacert "$PKI/ca.crt" "$URL/healthz" ||
		h_fail "pseudopodctl serve did not start"
}

token() {
	ctl token create --server "$URL" --pki-dir "$PKI" -o json "$@" | jq -r .join
}

machine() {
	local dir="$H_TMP/m-$1"
	mkdir -p "$dir"
	[ -f "$dir/pseudopod.conf" ] || printf '# machine %s\n[agent]\nstate-dir = %s/state\nbpffs-root = %s/bpf\n\n[tunnel]\ndevice = pp%s\n' \
		"$1" "$dir" "$dir" "${H_RUN:0:4}" >"$dir/pseudopod.conf"
	echo "$dir/pseudopod.conf"
}

pp_enroll() {
	local name=$1 join=$2 conf
	shift 2
	conf=$(machine "$name")
	set +e
	out=$(h_in "$ns" "$PP" enroll --config "$conf" --no-start --underlay-ip 10.99.0.20 "$@" \
		"$join" 2>&1)
	rc=$?
	set -e
}

# etcd_users: the store's user names (etcdctl retried: it has no retry of its own when a
# concurrent auth change makes etcd refuse a request).
etcd_users() {
	local out
	for _ in 1 2 3 4 5; do
		out=$(e user list 2>&1) && { echo "$out"; return 0; }
		sleep 0.3
	done
	h_log "etcdctl user list: $out"
	return 1
}
# has_user REGEX: whether an etcd user matches (the test fails when users cannot be listed).
has_user() {
	local u
	u=$(etcd_users) || h_fail "cannot list etcd users"
	grep -q "$1" <<<"$u"
}
