#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Serialised writers (issue 10 item 6): six pp-policy-sync runs started at once against the
# same pinned maps must leave exactly the keys and reference counts one run leaves, and the
# same ipcache. Before the pin-directory lock (dp_lock), runs interleaved their
# read-diff-write cycles: each read the maps as empty and added every key, so reference
# counts doubled, or one run's removals undid another's additions. A policy of ~600 keys
# makes each run's write phase long enough to overlap; 4 trials, each from freshly loaded
# maps. A run that cannot get the lock within the timeout must fail clearly, never write.
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
source "${PP_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/lib/store.sh"
h_init
SYNC=$(h_bin pp-policy-sync)
store_ctl_init # etcd in namespace $ns at $url, prefix $P; ctl ARGS... runs pseudopodctl

ctl init --cluster-name e2e --cluster-id 1 --pod-cidr 10.99.0.0/16 \
	--workload-cidr 10.98.0.0/16 >/dev/null || h_fail "pseudopodctl init"
ctl endpoint add --ip 10.99.0.2 --labels app=billing --namespace prod --kind workload \
	>/dev/null || h_fail "endpoint add machine"
for i in $(seq 1 40); do
	ctl endpoint add --ip "10.99.1.$i" --labels "app=peer$((i % 8))" --namespace prod \
		>/dev/null || h_fail "endpoint add peer $i"
done
MID=$(store_identity_of 10.99.0.2)
[ -n "$MID" ] || h_fail "machine identity not stored"

# 8 peers x (36 port ranges allowed + 4 denied + egress ranges): ~700 keys, each with
# reference count 1 in the reference (a second writer adding the same keys makes it 2).
{
	for p in 0 1 2 3 4 5 6 7; do
		cat <<YAML
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: from-peer$p
  namespace: prod
spec:
  endpointSelector:
    matchLabels:
      app: billing
  ingress:
  - fromEndpoints:
    - matchLabels:
        app: peer$p
    toPorts:
    - ports:
YAML
		for b in $(seq 0 35); do
			echo "      - {port: \"$((2000 + b * 8))\", endPort: $((2000 + b * 8 + 4)), protocol: TCP}"
		done
		cat <<YAML
  ingressDeny:
  - fromEndpoints:
    - matchLabels:
        app: peer$p
    toPorts:
    - ports:
      - {port: "22", protocol: TCP}
      - {port: "2008", protocol: TCP}
      - {port: "2100", endPort: 2103, protocol: TCP}
  egress:
  - toEndpoints:
    - matchLabels:
        app: peer$(((p + 1) % 8))
    toPorts:
    - ports:
      - {port: "5000", endPort: 5999, protocol: TCP}
  - toEndpoints:
    - matchExpressions:
      - {key: app, operator: Exists}
    toPorts:
    - ports:
      - {port: "443", protocol: TCP}
YAML
	done
} >"$H_TMP/pols.yaml"
ctl policy apply -f "$H_TMP/pols.yaml" >/dev/null || h_fail "policy apply"

h_datapath
sync_one() { # NAME
	h_in "$ns" "$SYNC" --store "$url" --prefix "$P" --bpffs "$H_BPFFS" --identity "$MID" \
		>"$H_TMP/$1.out" 2>"$H_TMP/$1.err"
}
snapshot_maps() { # FILE: every policy key with its reference count, and the ipcache
	{ pd policy list; pd ipcache list; } | sort >"$1"
}

# Reference: one run into fresh maps.
pd load --mode workload --identity "$MID" || h_fail "pp-datapath load"
sync_one ref || h_fail "reference sync: $(cat "$H_TMP/ref.err")"
snapshot_maps "$H_TMP/ref.maps"
keys=$(grep -c "^endpoint $MID " "$H_TMP/ref.maps")
[ "$keys" -ge 500 ] || h_fail "reference: expected >= 500 keys, got $keys"
h_log "reference: $keys policy keys of endpoint $MID"

for trial in 1 2 3 4; do
	pd unload >/dev/null 2>&1
	pd load --mode workload --identity "$MID" || h_fail "pp-datapath load (trial $trial)"
	pids=()
	for r in 1 2 3 4 5 6; do
		sync_one "t$trial-$r" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || h_fail "trial $trial run $((i + 1)) failed: $(cat "$H_TMP/t$trial-$((i + 1)).err")"
	done
	snapshot_maps "$H_TMP/t$trial.maps"
	diff -u "$H_TMP/ref.maps" "$H_TMP/t$trial.maps" >"$H_TMP/t$trial.diff" ||
		h_fail "trial $trial: six concurrent syncs left other keys or reference counts than one: $(head -20 "$H_TMP/t$trial.diff")"
	# Exactly one run wrote; the five others found nothing to do.
	writers=$(grep -l "^policy added=[1-9]" "$H_TMP"/t$trial-*.out | wc -l)
	[ "$writers" -eq 1 ] || h_fail "trial $trial: $writers runs added keys (expected 1)"
done
h_log "ok: 4 trials x 6 concurrent syncs leave exactly the keys and reference counts of one"

# A writer that holds the lock longer than the timeout: the waiter fails clearly, writes nothing.
exec {lockfd}<"$H_BPFFS"
flock -x "$lockfd"
if out=$(PP_SYNC_LOCK_TIMEOUT_MS=300 h_in "$ns" "$SYNC" --store "$url" --prefix "$P" \
	--bpffs "$H_BPFFS" --identity "$MID" 2>&1); then
	h_fail "a sync ran while another writer held the lock: $out"
fi
grep -q "another writer holds the datapath under $H_BPFFS" <<<"$out" ||
	h_fail "unclear failure while locked: $out"
exec {lockfd}<&-
h_log "ok: a sync that cannot get the lock fails clearly: $out"
