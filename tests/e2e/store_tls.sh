#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# TLS to etcd with client-certificate authentication: a throwaway CA, server and client
# certificates made with openssl in the test's temp dir. kv_live (put/get/watch) and
# pseudopodctl with --store-ca/--store-cert/--store-key work; without the client
# certificate, or trusting another CA, the connection is refused with a clear error.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
h_init
ns=$(h_ns store)
d="$H_TMP/pki"
mkdir -p "$d"
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=pp-test-ca" \
	-keyout "$d/ca.key" -out "$d/ca.crt" || h_fail "openssl: CA"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=other-ca" \
	-keyout "$d/other.key" -out "$d/other.crt" || h_fail "openssl: other CA"
mkcert() { # name extension
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$d/$1.key" -out "$d/$1.csr" || h_fail "openssl: $1 csr"
	printf '%s\n' "$2" >"$d/$1.ext"
	ossl x509 -req -in "$d/$1.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 1 \
		-extfile "$d/$1.ext" -out "$d/$1.crt" || h_fail "openssl: $1 cert"
}
# etcd's JSON gateway dials etcd's own gRPC port with the server certificate as its client
# certificate, so with --client-cert-auth the server certificate needs clientAuth too.
mkcert server "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
mkcert client "extendedKeyUsage=clientAuth"

url=https://127.0.0.1:2379
h_spawn "$ns" etcd etcd --name "t$H_RUN" --data-dir "$H_TMP/etcd" \
	--listen-client-urls "$url" --advertise-client-urls "$url" \
	--cert-file "$d/server.crt" --key-file "$d/server.key" --client-cert-auth \
	--trusted-ca-file "$d/ca.crt" \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster "t$H_RUN=http://127.0.0.1:2380" --log-level error >/dev/null
healthy() {
	h_in "$ns" curl -sf -m 2 --cacert "$d/ca.crt" --cert "$d/client.crt" --key "$d/client.key" \
		-X POST -d '{"key":"aGVhbHRo"}' "$url/v3/kv/range"
}
h_wait_for 20 healthy || h_fail "etcd (TLS) did not start"

h_in "$ns" env PP_ETCD="$url" PP_CA="$d/ca.crt" PP_CERT="$d/client.crt" PP_KEY="$d/client.key" \
	timeout 60 "$PP_BUILD_DIR/bin/kv_live" tls || h_fail "kv_live tls failed"

ctl="$PP_BUILD_DIR/bin/pseudopodctl"
h_in "$ns" "$ctl" endpoint add --store "$url" --store-ca "$d/ca.crt" --store-cert "$d/client.crt" \
	--store-key "$d/client.key" --ip 10.0.0.1 --labels app=tls --allow-outside-cluster-cidrs \
	>/dev/null ||
	h_fail "pseudopodctl over TLS failed"
# The same through the config file's [store] section.
cat >"$H_TMP/pp.conf" <<CONF
[store]
endpoints = $url
ca-file = $d/ca.crt
cert-file = $d/client.crt
key-file = $d/client.key
CONF
h_in "$ns" "$ctl" endpoint list --config "$H_TMP/pp.conf" | grep -q "10.0.0.1/32" ||
	h_fail "pseudopodctl with --config did not list the endpoint"
set +e
out=$(h_in "$ns" "$ctl" endpoint list --store "$url" --store-ca "$d/ca.crt" 2>&1)
rc=$?
out2=$(h_in "$ns" "$ctl" endpoint list --store "$url" --store-ca "$d/other.crt" \
	--store-cert "$d/client.crt" --store-key "$d/client.key" 2>&1)
rc2=$?
set -e
[ $rc -eq 1 ] || h_fail "no client certificate: exit $rc, expected 1 ($out)"
[ $rc2 -eq 1 ] || h_fail "untrusted server: exit $rc2, expected 1 ($out2)"
h_log "without client cert: $out"
h_log "untrusted server: $out2"
h_pass "TLS with client certificates works; missing cert / wrong CA refused"
