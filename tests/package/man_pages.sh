#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The man pages against their sources (label unit: no root, reads files and runs --help):
#  - every option any --help of pseudopod, pseudopodd and pseudopodctl names (walking the
#    "Commands:" lists, two levels) is on that program's page, and every option on the page
#    is in some --help (the hand-written prose cannot mention an option that does not exist);
#  - every key of lib/config.c's key table is in pseudopod.conf(5) and every key on the page
#    is in the table, and the example packaging/pseudopod.conf has the same keys;
#  - groff renders every page without a warning (groff -ww -z), and so does man -l.
#   man_pages.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
bin=$build/bin
man=$build/packaging/man
fail=0
bad() {
	echo "FAIL: $*" >&2
	fail=1
}

# The options named in a text: --long, and -x where it is an option tag ("-x," "-x ").
options() {
	grep -oE -- '(^|[^a-zA-Z0-9-])--?[a-zA-Z][a-zA-Z0-9-]*' |
		sed -E 's/^[^-]*//' | grep -E '^(--[a-z]|-[a-zA-Z]$)' | sort -u
}
# The page's text with roff escapes undone (\- is -, fonts dropped).
page_text() {
	sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/\\&//g' "$1"
}
# All help texts of a program, as gen-man walks them.
all_help() {
	local prog=$1
	shift
	"$bin/$prog" "$@" --help 2>/dev/null || return 0
	local depth=$#
	[ "$depth" -lt 2 ] || return 0
	local c
	for c in $("$bin/$prog" "$@" --help 2>/dev/null |
		awk '/^Commands:$/ { on = 1; next } on && /^  [a-z]/ { print $1; next } on { on = 0 }'); do
		all_help "$prog" "$@" "$c"
	done
}

for prog in pseudopod pseudopodd pseudopodctl; do
	page=$man/$prog.8
	[ -s "$page" ] || { bad "$page missing (the build makes it)"; continue; }
	all_help "$prog" | options >"$build/man-help-$prog.txt"
	page_text "$page" | options >"$build/man-page-$prog.txt"
	[ -s "$build/man-help-$prog.txt" ] || bad "$prog: no options found in --help"
	while read -r o; do
		bad "$prog: option $o of --help is not in $prog(8)"
	done < <(comm -23 "$build/man-help-$prog.txt" "$build/man-page-$prog.txt")
	while read -r o; do
		bad "$prog: $prog(8) names option $o, which no --help of $prog has"
	done < <(comm -13 "$build/man-help-$prog.txt" "$build/man-page-$prog.txt")
	echo "$prog(8): $(wc -l <"$build/man-help-$prog.txt") options, both ways"
done

# Config keys: the table rows of lib/config.c are {"section", "key", KEY_...} (with or without
# the blanks inside the braces).
sed -nE 's/^[[:space:]]*\{ ?"([a-z]+)", "([a-z0-9-]+)", KEY_.*/\1 \2/p' "$src/lib/config.c" |
	sort -u >"$build/man-keys-table.txt"
[ "$(wc -l <"$build/man-keys-table.txt")" -ge 20 ] ||
	bad "lib/config.c: found only $(wc -l <"$build/man-keys-table.txt") keys; the table's layout changed?"
awk '/^\[[a-z]+\]$/ { s = substr($0, 2, length($0) - 2); next }
	/^;?[a-z][a-z0-9-]* *=/ { k = $0; sub(/^;/, "", k); sub(/ *=.*/, "", k); print s, k }' \
	"$src/packaging/pseudopod.conf" | sort -u >"$build/man-keys-example.txt"
page_text "$man/pseudopod.conf.5" | awk '
	/^\.SS "\[[a-z]+\]"$/ { s = $2; gsub(/[\[\]"]/, "", s); next }
	/^\.S[HS]/ { s = "" }
	s != "" && /^[a-z][a-z0-9-]* (=|\(no default|\(default)/ { print s, $1 }' |
	sort -u >"$build/man-keys-page.txt"
while read -r k; do bad "config key [${k% *}] ${k#* } of lib/config.c is not in pseudopod.conf(5)"; done \
	< <(comm -23 "$build/man-keys-table.txt" "$build/man-keys-page.txt")
while read -r k; do bad "pseudopod.conf(5) documents [${k% *}] ${k#* }, which lib/config.c does not have"; done \
	< <(comm -13 "$build/man-keys-table.txt" "$build/man-keys-page.txt")
while read -r k; do bad "packaging/pseudopod.conf and lib/config.c differ on [${k% *}] ${k#* }"; done \
	< <(comm -3 "$build/man-keys-table.txt" "$build/man-keys-example.txt" | tr -d '\t')
echo "pseudopod.conf(5): $(wc -l <"$build/man-keys-table.txt") keys, both ways"

# Rendering: no groff warning, and man(1) shows it.
for page in "$man"/*.[58]; do
	w=$(groff -ww -z -man "$page" 2>&1) || bad "$page: groff failed"
	[ -z "$w" ] || bad "$page: groff warnings: $w"
	if command -v man >/dev/null; then
		w=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null) ||
			bad "$page: man -l failed"
		[ -z "$w" ] || bad "$page: man -l warnings: $w"
	fi
done
[ $fail = 0 ] && echo "man pages: OK"
exit $fail
