#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel_test_datapath_kernel: the datapath's BPF_PROG_TEST_RUN suite (test_bpf_datapath)
# and a pp-datapath load/attach inside the Debian 6.1 guest, so the verifier of an older
# kernel than the CI host's accepts the programs and they behave the same
# (docs/datapath.md, "Minimum kernel").
set -euo pipefail
: "${PP_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PP_BUILD_DIR:=$PP_SOURCE_DIR/build}"

for b in test_bpf_datapath pp-datapath; do
	[ -x "$PP_BUILD_DIR/bin/$b" ] || { echo "missing $PP_BUILD_DIR/bin/$b: build it first" >&2; exit 1; }
done
exec bash "$PP_SOURCE_DIR/tests/kernel/run-in-vm.sh" --timeout 240 \
	--bin "$PP_BUILD_DIR/bin/test_bpf_datapath" --bin "$PP_BUILD_DIR/bin/pp-datapath" \
	"$PP_SOURCE_DIR/tests/kernel/guest/datapath_kernel.sh"
