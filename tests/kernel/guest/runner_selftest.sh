#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs INSIDE the guest for test_kernel_runner.sh: checks what the runner promises the
# tests that reuse it (kernel, arguments, files, modules, mounts, namespaces, tc clsact,
# BTF), then exits 42 so the host can check the status comes back unchanged.
set -euo pipefail
fail() { echo "not ok - $*" >&2; exit 1; }

case "$(uname -r)" in 6.1.*) ;; *) fail "kernel $(uname -r), expected 6.1" ;; esac
[ "$#" = 2 ] && [ "$1" = "two words" ] && [ "$2" = 'x$y' ] || fail "arguments: $*"
[ "$(cat /test/data/hello.txt)" = "hello from the host" ] || fail "--file not copied"
[ "${PP_IN_VM:-}" = 1 ] || fail "PP_IN_VM not set"
for m in wireguard veth vxlan dummy sch_ingress cls_bpf; do
	grep -q "^$m " /proc/modules || fail "module $m not loaded"
done
grep -q " /sys/fs/bpf bpf " /proc/mounts || fail "bpffs not mounted"
[ -e /sys/kernel/btf/vmlinux ] || fail "no BTF"
ip netns add selftest
ip -n selftest link add v0 type veth peer name v1
ip -n selftest link set v0 up
ip netns exec selftest tc qdisc add dev v0 clsact || fail "tc clsact"
ip netns exec selftest tc qdisc show dev v0 | grep -q clsact || fail "clsact not listed"
ip netns del selftest
echo "runner self-test: all promises hold"
exit 42
