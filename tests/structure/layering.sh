#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Layering check: reads every #include "..." in the source tree and fails when a module
# includes a header of a higher layer, printing file:line and both layers. Bottom to top
# (docs/architecture.md, "Layers"):
#   0 lib/   1 lib/kv   2 policy/   3 store/   4 bpf/, tunnel/   5 agent/, cluster/, enroll/
# tests/ and bench/ may include anything. Includes are resolved as the build resolves them:
# "dir/x.h" from the source root (-iquote), anything else next to the including file
# (same module). Needs no root and no build. Usage: layering.sh [SOURCE_ROOT]
set -euo pipefail

root=${1:-${PP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}}
cd "$root"

# Layer of a path relative to the source root; empty for paths outside the layered modules
# (tests/, bench/, generated files), which are not checked.
layer_of() {
	case "$1" in
	lib/kv/*) echo 1 ;;
	lib/*) echo 0 ;;
	policy/*) echo 2 ;;
	store/*) echo 3 ;;
	bpf/* | tunnel/*) echo 4 ;;
	agent/* | cluster/* | enroll/*) echo 5 ;;
	*) echo "" ;;
	esac
}

# Every C source and header tracked or not, skipping build trees and VCS metadata.
mapfile -t files < <(find lib policy store bpf tunnel agent cluster enroll \
	-type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then
	echo "layering: no sources found under $root" >&2
	exit 1
fi

bad=0 checked=0
for f in "${files[@]}"; do
	from=$(layer_of "$f")
	[ -n "$from" ] || continue
	# "file:line:#include "path"" for every quoted include (leading blanks and "# include"
	# allowed).
	while IFS=: read -r line inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		case "$inc" in
		*/*) target=$inc ;;
		*) target=$(dirname "$f")/$inc ;;
		esac
		to=$(layer_of "$target")
		checked=$((checked + 1))
		[ -n "$to" ] || continue
		if [ "$to" -gt "$from" ]; then
			echo "$f:$line: includes \"$inc\" (layer $to) from layer $from" >&2
			bad=$((bad + 1))
		fi
	done < <(grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$f" || true)
done

if [ "$checked" -eq 0 ]; then
	echo "layering: found no #include \"...\" at all; the check would pass vacuously" >&2
	exit 1
fi
if [ "$bad" -gt 0 ]; then
	echo "layering: $bad include(s) point up (order: lib < lib/kv < policy < store <" \
		"bpf,tunnel < agent,cluster,enroll; see docs/architecture.md)" >&2
	exit 1
fi
echo "layering: ${#files[@]} files, $checked quoted includes, none points up"
