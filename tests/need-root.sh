#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# need-root.sh CMD [ARGS...]: runs a test binary that needs root (BPF_PROG_TEST_RUN, pinned
# maps, network namespaces). Without root it exits 77 with the reason, which ctest reports
# as skipped (SKIP_RETURN_CODE 77) — the same way and the same words as the e2e harness's
# h_require_root, so "not root" is handled one way everywhere.
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: $(basename "$1") needs root (network namespaces, BPF): run as root" >&2
	exit 77
fi
exec "$@"
