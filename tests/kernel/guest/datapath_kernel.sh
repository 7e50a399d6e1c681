#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs INSIDE the guest for test_datapath_kernel.sh: the BPF test suite, then the tool's
# load -> attach (auto kind on a veth) -> re-attach -> detach -> unload on this kernel.
set -euo pipefail
fail() { echo "not ok - $*" >&2; exit 1; }

echo "kernel $(uname -r)"
test_bpf_datapath || fail "test_bpf_datapath"
root=/sys/fs/bpf/pp-kernel-test
pp-datapath load --bpffs "$root" --mode workload --identity 300 || fail "load"
ip link add pk0 type veth peer name pk1
ip link set pk0 up
pp-datapath attach --bpffs "$root" --dev pk0 || fail "attach"
pp-datapath load --bpffs "$root" --mode workload --identity 300 || fail "reload (adopt)"
pp-datapath attach --bpffs "$root" --dev pk0 || fail "re-attach (replace)"
pp-datapath detach --dev pk0 || fail "detach"
pp-datapath unload --bpffs "$root" || fail "unload"
ip link del pk0
echo "datapath on $(uname -r): ok"
