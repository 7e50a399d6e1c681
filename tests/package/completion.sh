#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The bash completion (packaging/completion/pseudopod) against the built binaries (label
# unit): commands, subcommands and options come from their --help. bash-completion's
# _init_completion and _filedir are replaced by minimal stand-ins, so the test needs only
# bash.
#   completion.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1 build=$2
PATH=$build/bin:$PATH
fail=0

# shellcheck disable=SC2034 # read by the sourced completion function
_init_completion() {
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]:-}
}
_filedir() { COMPREPLY=(FILE); }
# shellcheck source=/dev/null
source "$src/packaging/completion/pseudopod"

# expect "WORDS..." WANT: completing the last word of WORDS offers WANT.
expect() {
	local line=$1 want=$2
	read -r -a COMP_WORDS <<<"$line"
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_pseudopod
	if printf '%s\n' "${COMPREPLY[@]}" | grep -qx -- "$want"; then
		echo "ok: '$line' offers $want"
	else
		echo "FAIL: '$line' offers '${COMPREPLY[*]}', not $want" >&2
		fail=1
	fi
}
expect "pseudopodctl " policy
expect "pseudopodctl po" policy
expect "pseudopodctl policy " apply
expect "pseudopodctl policy apply -" --store
expect "pseudopodctl init --clu" --cluster-name
expect "pseudopodctl policy apply --config " FILE
expect "pseudopod " enroll
expect "pseudopod -" --version
expect "pseudopod identity " list
expect "pseudopod identity --" --ip
exit $fail
