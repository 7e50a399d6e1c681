#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check_report.sh REPORT_BINARY: pp-dpbench-report on hand-made records (testdata/) must
# decide each target as expected, and must report an incomplete run as incomplete (exit 1)
# without crashing on a cut-short line. Pure logic, no root, a few milliseconds.
set -euo pipefail
report=$1
data=$(dirname "$0")/testdata
fail() {
	echo "check_report: FAIL: $*" >&2
	exit 1
}

got=$("$report" --json "$data/targets.jsonl" | jq -r '[.targets[].status] | join(",")')
want="met,met,met,NOT MET,shown"
[ "$got" = "$want" ] || fail "targets.jsonl: statuses '$got', expected '$want'"
"$report" "$data/targets.jsonl" >/dev/null || fail "targets.jsonl: complete run exited $?"

rc=0
"$report" --json "$data/incomplete.jsonl" >"${TMPDIR:-/tmp}/check_report.$$" 2>/dev/null || rc=$?
complete=$(jq -r .complete "${TMPDIR:-/tmp}/check_report.$$")
rm -f "${TMPDIR:-/tmp}/check_report.$$"
[ $rc -eq 1 ] || fail "incomplete.jsonl: exit $rc, expected 1"
[ "$complete" = false ] || fail "incomplete.jsonl: complete=$complete, expected false"
echo "check_report: ok"
