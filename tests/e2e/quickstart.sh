#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's quickstart demo, run as a test (without its install/build step) so it
# never rots: it asserts its own traffic verdicts and exits non-zero on any failure.
set -euo pipefail
src=${PP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "$src/scripts/quickstart" --no-setup
