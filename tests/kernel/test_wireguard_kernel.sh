#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel_test_wireguard_kernel: the kernel WireGuard backend (tunnel/wg_kernel.c) on a real
# kernel. This host's kernel has no wireguard.ko, so tests/kernel/run-in-vm.sh boots
# Debian's 6.1 cloud kernel in QEMU (TCG) and runs tests/kernel/guest/wireguard_kernel.sh
# there with pp-wgk, wg and ip. Exit 77 only when QEMU or the kernel cannot be obtained.
set -euo pipefail
: "${PP_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PP_BUILD_DIR:=$PP_SOURCE_DIR/build}"

tool=$PP_BUILD_DIR/bin/pp-wgk
if [ ! -x "$tool" ]; then
	echo "test_wireguard_kernel: $tool missing: build the pp-wgk target first" >&2
	exit 1
fi
bins=(--bin "$tool" --bin wg --bin ip)
# The public API path (wg.h dispatcher -> kernel ops) too, through the tunnel module's tool.
if [ -x "$PP_BUILD_DIR/bin/pp-tunnel" ]; then
	bins+=(--bin "$PP_BUILD_DIR/bin/pp-tunnel")
else
	echo "test_wireguard_kernel: $PP_BUILD_DIR/bin/pp-tunnel not built: only pp-wgk runs" >&2
fi
exec bash "$PP_SOURCE_DIR/tests/kernel/run-in-vm.sh" --timeout 240 "${bins[@]}" \
	"$PP_SOURCE_DIR/tests/kernel/guest/wireguard_kernel.sh"
