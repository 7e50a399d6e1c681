#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Layering check: reads every #include "..." in the source tree, and every
# target_link_libraries of the modules' CMakeLists.txt, and fails when a module includes a
# header of (or links a library of) a higher layer, printing file:line and both layers. Bottom to top
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

# The same rule for the build: a module's library or program may link only libraries of its
# own layer or below (target_link_libraries in the modules' CMakeLists.txt). One command per
# output record: "FILE LINE COMMAND ARG...", comments stripped, multi-line commands joined.
cmake_commands() {
	local f
	for f in $(find lib policy store bpf tunnel agent cluster enroll -name CMakeLists.txt 2>/dev/null | sort); do
		awk -v file="$f" '
		{ sub(/#.*/, ""); }
		depth == 0 && match($0, /^[ \t]*(add_library|add_executable|target_link_libraries)[ \t]*\(/) {
			cmd = ""; start = FNR
		}
		start {
			cmd = cmd " " $0
			depth += gsub(/\(/, "(") - gsub(/\)/, ")")
			if (depth <= 0) {
				gsub(/[()]/, " ", cmd)
				print file, start, cmd
				start = 0; depth = 0
			}
		}' "$f"
	done
}
declare -A target_layer=()
while read -r f line cmd name _; do
	case "$cmd" in add_library | add_executable) target_layer[$name]=$(layer_of "$f") ;; esac
done < <(cmake_commands)
while read -r f line cmd name args; do
	[ "$cmd" = target_link_libraries ] && [ -n "${target_layer[$name]:-}" ] || continue
	for lib in $args; do
		to=${target_layer[$lib]:-}
		checked=$((checked + 1))
		if [ -n "$to" ] && [ "$to" -gt "${target_layer[$name]}" ]; then
			echo "$f:$line: $name (layer ${target_layer[$name]}) links $lib (layer $to)" >&2
			bad=$((bad + 1))
		fi
	done
done < <(cmake_commands)

if [ "$checked" -eq 0 ]; then
	echo "layering: found no #include \"...\" at all; the check would pass vacuously" >&2
	exit 1
fi
if [ "$bad" -gt 0 ]; then
	echo "layering: $bad include(s)/link(s) point up (order: lib < lib/kv < policy < store <" \
		"bpf,tunnel < agent,cluster,enroll; see docs/architecture.md)" >&2
	exit 1
fi
echo "layering: ${#files[@]} files, ${#target_layer[@]} build targets, $checked includes and links, none points up"
