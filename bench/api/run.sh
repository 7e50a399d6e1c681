#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/api: api_state_ipcache_lookup() on a datapath pinned under a scratch bpffs, filled
# with N host entries (10.x.y.z/32, default 100000) and 1000 CIDRs (172.16.x.0/24), then
# unloaded; then GET /v1/identities with 10k identities. Needs root (BPF).
# run.sh [--quick] [--json]
set -euo pipefail
src=${PP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PP_BUILD_DIR:-$src/build}
hosts=100000 rounds=101 json=
for a in "$@"; do
	case $a in
	--quick) hosts=10000 rounds=11 ;;
	--json) json=--json ;;
	*) echo "usage: run.sh [--quick] [--json]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/api: needs root (BPF)" >&2; exit 77; }
dp=$build/bin/pp-datapath
bpffs=/sys/fs/bpf/pp-bench-api-$$
trap '"$dp" unload --bpffs "$bpffs" >/dev/null 2>&1 || true; rm -f "$list"' EXIT
list=$(mktemp)
"$dp" load --bpffs "$bpffs" --mode workload --identity 4097 --ipcache-max $((hosts + 4096)) \
	>/dev/null
awk -v n="$hosts" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "10.%d.%d.%d/32 %d\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256, 256 + i % 10000
	for (i = 0; i < 1000; i++)
		printf "172.%d.%d.0/24 %d\n", 16 + int(i / 256), i % 256, 16777216 + i
}' >"$list"
"$dp" ipcache load --bpffs "$bpffs" -f "$list" >/dev/null 2>&1
[ -n "$json" ] || echo "bench/api: $hosts host entries + 1000 CIDRs, $rounds rounds"
"$build/bin/pp-bench-api-lookup" --bpffs "$bpffs" 10.0.1.7 172.17.3.9 192.0.2.1 "$rounds" $json
# GET /v1/identities: building and encoding the reply with 10k identities (1k with --quick)
"$build/bin/pp-bench-api-identities" $([ "$hosts" -eq 10000 ] && echo 1000 || echo 10000) \
	"$rounds" $json
