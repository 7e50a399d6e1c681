#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Enrollment end to end with a real etcd (TLS and auth on) and the real server: the PKI, a
# token, `pseudopod enroll` (records and state as docs/enroll.md says, a user-edited config
# kept), "already enrolled", `leave` removing records, etcd user and state; --force; every
# kind of bad token (expired, revoked, reused, malformed, truncated, tampered) with its own
# clear error; a wrong CA pin refused before the token is sent (the server's access log
# never sees it); oversized and garbage bodies; rate limiting on a second instance; token
# list / revoke; workload delete and leave --offline / --operator.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/enroll.sh"
h_init
enroll_cluster
grep -q "^CA pin: sha256:[0-9a-f]\{64\}$" "$H_TMP/pki.out" || h_fail "init printed no pin"
pin=$(sed -n 's/^CA pin: //p' "$H_TMP/pki.out")
[ "$(stat -c %a "$PKI/ca.key")" = 600 ] && [ "$(stat -c %a "$PKI/server.key")" = 600 ] &&
	[ "$(stat -c %a "$PKI/ca.crt")" = 644 ] || h_fail "PKI file modes"
openssl x509 -in "$PKI/server.crt" -noout -ext subjectAltName,extendedKeyUsage | grep -q "IP Address:127.0.0.1" ||
	h_fail "server certificate lacks the SAN"
# Idempotent; --rotate keeps the CA (same pin) and makes a new server certificate.
serial=$(openssl x509 -in "$PKI/server.crt" -noout -serial)
h_in "$ns" "$CTL" init --pki-dir "$PKI" --server-ip 127.0.0.1 | grep -q "kept" || h_fail "re-init not idempotent"
[ "$(openssl x509 -in "$PKI/server.crt" -noout -serial)" = "$serial" ] || h_fail "re-init changed the cert"
h_in "$ns" "$CTL" init --pki-dir "$PKI" --server-ip 127.0.0.1 --rotate | grep -q "CA pin: $pin" ||
	h_fail "--rotate changed the CA pin"
[ "$(openssl x509 -in "$PKI/server.crt" -noout -serial)" != "$serial" ] || h_fail "--rotate kept the cert"
enroll_serve

# ---- happy path, with a config the user already edited ----
conf=$(machine db1)
printf '# my own comment\n[agent]\nstate-dir = %s\nbpffs-root = %s\nlog-level = debug\n\n[tunnel]\ndevice = pp%s\n' \
	"$H_TMP/m-db1/state" "/sys/fs/bpf/pp-e2e-$H_RUN-db1" "${H_RUN:0:4}" >"$conf"
out=$(ctl token create --server "$URL" --pki-dir "$PKI" --labels app=db,tier=backend \
	--namespace prod --name db1 --ttl 10m)
join=$(grep -o 'pp1\.[A-Za-z0-9_-]*' <<<"$out" | head -1)
grep -q "pseudopod enroll $join" <<<"$out" || h_fail "token create printed no command: $out"
id=$(ctl token list -o json | jq -r '.[0].id')
ctl token list -o json | jq -e '.[0].uses_left == 1 and .[0].state == "active" and (.[0]|has("secret_sha256")|not)' >/dev/null ||
	h_fail "token list"
# The join string's payload (base64url without padding).
decode_join() {
	local p
	p=$(cut -d. -f2 <<<"$1" | tr '_-' '/+')
	while [ $((${#p} % 4)) -ne 0 ]; do p+="="; done
	base64 -d <<<"$p"
}
secret=$(decode_join "$join" | jq -r .token | cut -d. -f2)
vals=$(e get --prefix "$P") || h_fail "etcdctl get"
! grep -q "$secret" <<<"$vals" || h_fail "the secret is in the store"
e get "${P}tokens/$id" --print-value-only | jq -e ".secret_sha256 == \"$(printf %s "$secret" | sha256sum | cut -d' ' -f1)\"" >/dev/null ||
	h_fail "tokens/$id does not hold the secret's SHA-256"
pp_enroll db1 "$join"
[ $rc -eq 0 ] || h_fail "enroll: $out"
grep -q "enrolled as 'db1'" <<<"$out" || h_fail "enroll output: $out"
st="$H_TMP/m-db1/state"
for f in enrollment.json:600 wireguard.key:600 store-password:600 cluster-ca.crt:644 store-ca.crt:644; do
	[ "$(stat -c %a "$st/${f%%:*}")" = "${f##*:}" ] || h_fail "$st/${f%%:*}: mode $(stat -c %a "$st/${f%%:*}"), want ${f##*:}"
done
grep -q "# my own comment" "$conf" && grep -q "log-level = debug" "$conf" || h_fail "user config lost: $(cat "$conf")"
grep -q "^name = db1" "$conf" && grep -q "^user = pp_wl_db1_" "$conf" || h_fail "config keys missing: $(cat "$conf")"
wl=$(e get "${P}workloads/db1" --print-value-only)
ip=$(jq -r .overlay_ip <<<"$wl")
pub=$(h_in "$ns" wg pubkey <"$st/wireguard.key")
jq -e ".wg_public_key == \"$pub\" and .namespace == \"prod\" and .underlay_ip == \"10.99.0.20\" and (.labels | index(\"k8s:app=db\"))" <<<"$wl" >/dev/null ||
	h_fail "workload record: $wl (local public key $pub)"
e get "${P}ipcache/$ip/32" --print-value-only | jq -e ".kind == \"workload\" and .identity == $(jq .identity <<<"$wl")" >/dev/null ||
	h_fail "ipcache/$ip/32"
has_user "^pp_wl_db1_" || h_fail "no etcd user for db1"
! grep -q "$secret" "$H_TMP/serve.log" || h_fail "the secret is in the access log"
! grep -q "$(cat "$st/store-password")" "$H_TMP/serve.log" || h_fail "the password is in the log"
h_log "ok: enrolled db1 at $ip"

# Without --server the URL is the server certificate's first name, port 9443.
[ "$(decode_join "$(ctl token create --pki-dir "$PKI" --name x7 -o json | jq -r .join)" | jq -r .url)" = \
	"https://127.0.0.1:9443" ] || h_fail "default --server"

# Re-running changes nothing; the used token is refused with its own error.
sum=$(cat "$st"/* "$conf" | sha256sum)
pp_enroll db1 "$join"
[ $rc -eq 0 ] && grep -q "already enrolled" <<<"$out" || h_fail "re-run: $rc $out"
[ "$(cat "$st"/* "$conf" | sha256sum)" = "$sum" ] || h_fail "re-run changed the state"
pp_enroll other "$join"
[ $rc -eq 1 ] && grep -q "token_used" <<<"$out" && grep -q "has already been used" <<<"$out" || h_fail "reused: $out"

# --force re-enrolls with a new token (leaving first); the join string read from stdin.
token --labels app=db --namespace prod --name db1 >"$H_TMP/join-force"
pp_enroll db1 - --force <"$H_TMP/join-force"
[ $rc -eq 0 ] || h_fail "--force: $out"
[ "$(etcd_users | grep -c "^pp_wl_db1_")" = 1 ] || h_fail "--force left the old etcd user"

# A token with --uses 2 enrolls two machines, then is used up.
j=$(token --labels app=pair --namespace prod --uses 2)
for m in pair1 pair2 pair3; do pp_enroll "$m" "$j" --name "$m"; echo "$rc" >"$H_TMP/rc-$m"; done
[ "$(cat "$H_TMP/rc-pair1") $(cat "$H_TMP/rc-pair2") $(cat "$H_TMP/rc-pair3")" = "0 0 1" ] &&
	grep -q token_used <<<"$out" || h_fail "--uses 2: $(cat "$H_TMP"/rc-pair*) $out"
for m in pair1 pair2; do h_in "$ns" "$PP" leave --config "$(machine $m)" >/dev/null || h_fail "leave $m"; done

# ---- leave removes records, etcd user, state, datapath pins, tunnel device and routes ----
# What the agent (ROADMAP 2) will set up, made here with the developer tools: the datapath
# pinned under the config's bpffs-root, the tunnel device with a route through it.
bpffs="/sys/fs/bpf/pp-e2e-$H_RUN-db1"
dev="pp${H_RUN:0:4}"
h_on_exit "$(h_bin pp-datapath) unload --bpffs $bpffs"
"$(h_bin pp-datapath)" load --bpffs "$bpffs" --mode workload --identity "$(jq .identity <<<"$wl")" >/dev/null ||
	h_fail "pp-datapath load"
h_in "$ns" ip link add "$dev" type veth peer name "${dev}p"
h_in "$ns" ip link set "$dev" up
h_in "$ns" ip route add 10.200.0.0/16 dev "$dev"
h_in "$ns" "$PP" leave --config "$conf" || h_fail "leave"
[ ! -e "$bpffs" ] || h_fail "leave kept the datapath pins in $bpffs"
! h_in "$ns" ip link show "$dev" >/dev/null 2>&1 || h_fail "leave kept the tunnel device"
[ -z "$(h_in "$ns" ip route show 10.200.0.0/16)" ] || h_fail "leave kept the route"
[ -z "$(e get "${P}workloads/db1" --prefix --keys-only)" ] || h_fail "leave kept workloads/db1"
[ -z "$(e get "${P}ipcache/" --prefix --keys-only)" ] || h_fail "leave kept the ipcache entry"
! has_user "^pp_wl_db1_" || h_fail "leave kept the etcd user"
[ -z "$(ls -A "$st")" ] || h_fail "leave kept state: $(ls "$st")"
h_log "ok: leave removed records, user, state, pins, device and route"

# ---- bad tokens: each its own clear error ----
j=$(token --name x1 --ttl 1s)
sleep 2.2
pp_enroll x1 "$j"
[ $rc -eq 1 ] && grep -q "token_expired" <<<"$out" && grep -q "expired [0-9]* s ago" <<<"$out" || h_fail "expired: $out"
j=$(token --name x2)
id2=$(ctl token list -o json | jq -r '.[] | select(.name == "x2") | .id')
ctl token revoke "$id2" | grep -q "revoked" || h_fail "revoke"
pp_enroll x2 "$j"
[ $rc -eq 1 ] && grep -q "token_revoked" <<<"$out" || h_fail "revoked: $out"
pp_enroll x3 "not-a-join-string"
[ $rc -eq 1 ] && grep -q "expected it to start with 'pp1.'" <<<"$out" || h_fail "malformed: $out"
j=$(token --name x4)
pp_enroll x4 "${j:0:60}"
[ $rc -eq 1 ] && grep -q "join string" <<<"$out" || h_fail "truncated: $out"
# Tampered: the same URL and pin with another secret -> invalid_token, like an unknown id.
dec=$(decode_join "$j")
tamper() { printf 'pp1.%s' "$(jq -c "$1" <<<"$dec" | base64 -w0 | tr '/+' '_-' | tr -d '=')"; }
pp_enroll x4 "$(tamper '.token |= (.[0:7] + "00000000000000000000000000000000")')"
[ $rc -eq 1 ] && grep -q "invalid_token" <<<"$out" || h_fail "tampered secret: $out"
pp_enroll x4 "$(tamper '.token |= ("zzzzzz" + .[6:])')"
[ $rc -eq 1 ] && grep -q "invalid_token" <<<"$out" || h_fail "unknown id: $out"
# ---- wrong CA pin: refused before the token is sent ----
j=$(ctl token create --server "$URL" --ca-pin "sha256:$(head -c32 /dev/urandom | sha256sum | cut -d' ' -f1)" \
	--name x5 -o json | jq -r .join)
id5=$(ctl token list -o json | jq -r '.[] | select(.name == "x5") | .id')
pp_enroll x5 "$j"
[ $rc -eq 1 ] && grep -q "CA pin mismatch: the join string does not belong to this server" <<<"$out" ||
	h_fail "wrong pin: $out"
! grep -q "token=$id5" "$H_TMP/serve.log" || h_fail "the server saw token $id5 despite the pin mismatch"
[ "$(ctl token list -o json | jq -r ".[] | select(.id == \"$id5\") | .uses_left")" = 1 ] || h_fail "x5 consumed"
# A server that serves the real CA on /v1/ca (so the pin matches) but holds a certificate
# of another CA (a man in the middle): the POST's TLS verification refuses it, so the token
# is never sent.
mitm="$H_TMP/pki-mitm"
h_in "$ns" "$CTL" init --pki-dir "$mitm" --server-ip 127.0.0.1 >/dev/null || h_fail "mitm pki"
cp "$PKI/ca.crt" "$mitm/ca.crt"
h_spawn "$ns" serve-mitm "$CTL" serve --pki-dir "$mitm" --listen 127.0.0.1 --port 9446 \
	"${STORE[@]}" >/dev/null
h_wait_for 20 h_in "$ns" curl -sfk -m 2 https://127.0.0.1:9446/healthz || h_fail "mitm serve"
j=$(token --name x6)
id6=$(ctl token list -o json | jq -r '.[] | select(.name == "x6") | .id')
pp_enroll x6 "$(decode_join "$j" | jq -c '.url = "https://127.0.0.1:9446"' | base64 -w0 |
	tr '/+' '_-' | tr -d '=' | sed 's/^/pp1./')"
[ $rc -eq 1 ] && grep -q "cluster CA matches the pin" <<<"$out" && grep -q "enrollment request failed" <<<"$out" ||
	h_fail "mitm: $out"
! grep -q "path=/v1/enroll" "$H_TMP/serve-mitm.log" || h_fail "the mitm server got the POST"
[ "$(ctl token list -o json | jq -r ".[] | select(.id == \"$id6\") | .uses_left")" = 1 ] || h_fail "x6 consumed"
h_log "ok: expired, revoked, reused, malformed, truncated, tampered, wrong pin, wrong server certificate"

# ---- bodies: oversized, garbage, wrong method/path ----
api() { h_in "$ns" curl -s -m 10 --cacert "$PKI/ca.crt" -o "$H_TMP/body" -w '%{http_code}' "$@"; }
head -c 20000 /dev/zero | tr '\0' 'a' >"$H_TMP/big"
[ "$(api -X POST --data-binary @"$H_TMP/big" "$URL/v1/enroll")" = 413 ] || h_fail "oversized body"
[ "$(api -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$H_TMP/big" "$URL/v1/enroll")" = 413 ] ||
	h_fail "oversized chunked body"
[ "$(api -X POST --data-binary 'garbage{' "$URL/v1/enroll")" = 400 ] && jq -e '.error == "invalid_request"' "$H_TMP/body" >/dev/null ||
	h_fail "garbage body"
[ "$(api -X POST --data-binary '{"token":"abcdef.0123","underlay_ip":"1.2.3.4"}' "$URL/v1/enroll")" = 400 ] &&
	grep -q "token" "$H_TMP/body" || h_fail "bad token field"
[ "$(api -X POST --data-binary '{"token":5}' "$URL/v1/enroll")" = 400 ] && grep -q '"token: expected a string' "$H_TMP/body" ||
	h_fail "field-named error: $(cat "$H_TMP/body")"
[ "$(api "$URL/v1/enroll")" = 405 ] || h_fail "GET /v1/enroll"
[ "$(api "$URL/nope")" = 404 ] || h_fail "404"
h_log "ok: bodies"

# ---- a second instance against the same store, with a low rate limit ----
h_spawn "$ns" serve2 "$CTL" serve --pki-dir "$PKI" --listen 127.0.0.1 --port 9444 --rate 3 \
	--timeout 2 "${STORE[@]}" >/dev/null
h_wait_for 20 h_in "$ns" curl -sf -m 2 --cacert "$PKI/ca.crt" https://127.0.0.1:9444/healthz || h_fail "serve2"
codes=""
for _ in 1 2 3 4; do codes+=$(api https://127.0.0.1:9444/v1/ca)" "; done
[ "$codes" = "200 200 200 429 " ] || h_fail "rate limit: $codes"
# A client that connects and sends nothing is cut off after --timeout.
held=$(h_in "$ns" timeout 15 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9444; s=$(date +%s); cat <&3 >/dev/null; echo $(($(date +%s) - s))') ||
	h_fail "an idle connection was not closed"
[ "$held" -le 5 ] || h_fail "idle connection held ${held}s with --timeout 2"
h_log "ok: rate limit, idle timeout (${held}s)"

# ---- operator-side delete, leave --offline, leave --operator ----
pp_enroll db2 "$(token --name db2 --labels app=web)"
[ $rc -eq 0 ] || h_fail "db2: $out"
# The package's prerm: local datapath and tunnel go, the enrollment state stays.
! h_in "$ns" "$PP" leave --keep-state --config "$(machine db2)" >/dev/null 2>&1 ||
	h_fail "--keep-state without --offline was accepted"
out=$(h_in "$ns" "$PP" leave --offline --keep-state --config "$(machine db2)") ||
	h_fail "leave --offline --keep-state: $out"
[ -e "$H_TMP/m-db2/state/enrollment.json" ] && grep -q "kept the enrollment state" <<<"$out" ||
	h_fail "--keep-state removed the state: $out"
ctl workload delete db2 | grep -q "deleted" || h_fail "workload delete"
! has_user "^pp_wl_db2_" || h_fail "workload delete kept the etcd user"
out=$(h_in "$ns" "$PP" leave --offline --config "$(machine db2)") || h_fail "leave --offline"
grep -q "still lists" <<<"$out" && [ ! -e "$H_TMP/m-db2/state/enrollment.json" ] || h_fail "--offline: $out"
pp_enroll db3 "$(token --name db3 --labels app=web)"
[ $rc -eq 0 ] || h_fail "db3: $out"
h_in "$ns" "$PP" leave --operator root --operator-password-file "$H_TMP/rootpw" --config "$(machine db3)" >/dev/null ||
	h_fail "leave --operator"
[ -z "$(e get "${P}workloads/" --prefix --keys-only)" ] || h_fail "records left: $(e get "${P}workloads/" --prefix --keys-only)"
! has_user "^pp_wl_" || h_fail "users left: $(etcd_users)"
kill -TERM "$SERVE_PID"
h_wait_for 10 sh -c "! kill -0 $SERVE_PID" || h_fail "serve did not stop on SIGTERM"
grep -q "stopping" "$H_TMP/serve.log" || h_fail "no clean stop"
h_pass "enrollment: PKI, tokens, enroll, leave, bad tokens, pin check, bodies, rate limit"
