#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# etcd auth: a user whose role may only read <prefix>ipcache/ can range and watch it, and
# every write (or a read elsewhere) is refused with a clear "permission denied"; a wrong
# password is a clear authentication error; simple tokens that expire (--auth-token-ttl 2)
# are renewed transparently. pseudopodctl with --store-user as root and as the reader.
# Secrets (issue 10 item 7): USER:PASS on the command line is refused without echoing the
# password, a password file others can read is refused, a FIFO fails at once; the password
# comes from a 0600 file or PSEUDOPOD_STORE_PASSWORD.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/store.sh"
h_init
ns=$(h_ns store)
url=http://127.0.0.1:2379
store_etcd "$ns" a --auth-token-ttl 2

prefix="/pp$H_RUN/"
ctl="$PP_BUILD_DIR/bin/pseudopodctl"
e() { h_in "$ns" etcdctl --endpoints "$url" "$@"; }
e user add root:rootpw >/dev/null
e user grant-role root root >/dev/null
e role add reader >/dev/null
e role grant-permission reader read --prefix "${prefix}ipcache/" >/dev/null
e user add ro:ropw >/dev/null
e user grant-role ro reader >/dev/null
e put "${prefix}ipcache/10.0.0.9/32" '{"version":1,"identity":300,"kind":"pod"}' >/dev/null
e auth enable >/dev/null

h_in "$ns" env PP_ETCD="$url" PP_USER=ro PP_PASSWORD=ropw PP_PREFIX="$prefix" PP_TOKEN_SLEEP=4 \
	timeout 120 "$PP_BUILD_DIR/bin/kv_live" readonly || h_fail "kv_live readonly failed"

# pseudopodctl: root can write, the reader cannot (exit 1, clear message), both can list.
pw="$H_TMP/rootpw"
printf 'rootpw\n' >"$pw"
chmod 644 "$pw"
set +e
out=$(h_in "$ns" "$ctl" endpoint add --store "$url" --store-prefix "$prefix" --store-user root \
	--store-password-file "$pw" --ip 10.0.0.10 --labels app=a 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || h_fail "password file mode 0644: exit $rc, expected 1 ($out)"
grep -q "chmod 600" <<<"$out" || h_fail "password file mode 0644: unclear error: $out"
chmod 600 "$pw"
mkfifo "$H_TMP/pwfifo"
set +e
out=$(timeout 10 "$ctl" identity list --store "$url" --store-user root \
	--store-password-file "$H_TMP/pwfifo" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || h_fail "password FIFO: exit $rc, expected 1 at once ($out)"
grep -q "is a FIFO" <<<"$out" || h_fail "password FIFO: unclear error: $out"
set +e
out=$(h_in "$ns" "$ctl" identity list --store "$url" --store-prefix "$prefix" \
	--store-user ro:ropw 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || h_fail "--store-user USER:PASS: exit $rc, expected 2 ($out)"
grep -q "ropw" <<<"$out" && h_fail "--store-user USER:PASS: the password was echoed: $out"
grep -q "password-file" <<<"$out" || h_fail "--store-user USER:PASS: no hint: $out"
h_in "$ns" "$ctl" endpoint add --store "$url" --store-prefix "$prefix" --store-user root \
	--store-password-file "$pw" --ip 10.0.0.10 --labels app=a --allow-outside-cluster-cidrs \
	>/dev/null ||
	h_fail "root could not add an endpoint"
set +e
out=$(h_in "$ns" env PSEUDOPOD_STORE_PASSWORD=ropw "$ctl" endpoint add --store "$url" \
	--store-prefix "$prefix" --store-user ro --ip 10.0.0.11 --labels app=a \
	--allow-outside-cluster-cidrs 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || h_fail "reader write: exit $rc, expected 1 ($out)"
grep -q "permission denied" <<<"$out" || h_fail "reader write: unclear error: $out"
set +e
out=$(h_in "$ns" env PSEUDOPOD_STORE_PASSWORD=wrong "$ctl" identity list --store "$url" \
	--store-prefix "$prefix" --store-user ro 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || h_fail "wrong password: exit $rc, expected 1"
grep -q "authentication" <<<"$out" || h_fail "wrong password: unclear error: $out"
e --user root:rootpw auth disable >/dev/null
h_pass "read-only role: reads and watches work, writes refused clearly; tokens renewed"
