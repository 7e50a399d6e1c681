#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel_test_kernel_runner: tests/kernel/run-in-vm.sh itself — the guest sees the 6.1
# kernel, its arguments (with spaces and $), --file data, the modules, bpffs, BTF, network
# namespaces and tc clsact; and the guest script's exit status (42) reaches the host.
set -euo pipefail
: "${PP_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "hello from the host" >"$tmp/hello.txt"
set +e
bash "$PP_SOURCE_DIR/tests/kernel/run-in-vm.sh" --timeout 120 --bin tc \
	--file "$tmp/hello.txt:/test/data/hello.txt" \
	"$PP_SOURCE_DIR/tests/kernel/guest/runner_selftest.sh" "two words" 'x$y'
rc=$?
set -e
case $rc in
42) echo "test_kernel_runner: ok (status 42 came back)" ;;
77) exit 77 ;;
*) echo "test_kernel_runner: expected the guest's status 42, got $rc" >&2; exit 1 ;;
esac
