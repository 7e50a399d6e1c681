#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every policy example of docs/examples/policy through
# "pseudopodctl policy trace --offline" and checks each "# trace: ARGS => VERDICT" line
# (in the file, or in FILE.trace for JSON): the first output line, the -o json verdict and
# the exit code (0 allowed, 1 denied). Also checks that docs/policy.md shows every example
# verbatim, so the documentation cannot drift from what is tested. Needs no root.
set -euo pipefail

: "${PP_BUILD_DIR:?set by ctest}" "${PP_SOURCE_DIR:?set by ctest}"
ctl="$PP_BUILD_DIR/bin/pseudopodctl"
examples="$PP_SOURCE_DIR/docs/examples/policy"
doc="$PP_SOURCE_DIR/docs/policy.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail=0
checks=0
files=0
for f in "$examples"/*.yaml "$examples"/*.json; do
	[ -e "$f" ] || continue
	files=$((files + 1))
	name=${f#"$PP_SOURCE_DIR"/}
	spec=$f
	[ -f "$f.trace" ] && spec=$f.trace

	# The documentation shows the file verbatim after its marker.
	awk -v m="<!-- example: $name -->" '
		$0 == m { found = 1; getline; inblock = 1; next }
		inblock && /^```$/ { exit }
		inblock { print }
	' "$doc" >"$tmp/doc"
	if ! cmp -s "$tmp/doc" "$f"; then
		echo "FAIL $name: not shown verbatim in docs/policy.md (marker <!-- example: $name -->)"
		fail=$((fail + 1))
	fi

	lines=$(grep -c '^# trace: ' "$spec" || true)
	if [ "$lines" -eq 0 ]; then
		echo "FAIL $name: no '# trace:' lines"
		fail=$((fail + 1))
	fi
	while IFS= read -r line; do
		line=${line#\# trace: }
		want=${line##* => }
		read -ra args <<<"${line% => *}"
		checks=$((checks + 1))
		set +e
		"$ctl" policy trace --offline -f "$f" "${args[@]}" >"$tmp/out" 2>&1
		rc=$?
		"$ctl" policy trace --offline -f "$f" "${args[@]}" -o json >"$tmp/json" 2>&1
		set -e
		want_rc=1
		[ "$want" = allowed ] && want_rc=0
		first=$(head -n1 "$tmp/out")
		json_verdict=$(grep -m1 '"verdict"' "$tmp/json" | sed 's/.*"verdict": "\([a-z]*\)".*/\1/')
		if [ "$rc" -ne "$want_rc" ] || [ "$first" != "verdict: $want" ] ||
			[ "$json_verdict" != "$want" ]; then
			echo "FAIL $name: ${line% => *}: want $want (exit $want_rc), got exit $rc, json $json_verdict:"
			sed 's/^/    /' "$tmp/out"
			fail=$((fail + 1))
		fi
	done < <(grep '^# trace: ' "$spec")
done

# The whole directory loads at once (later objects with the same namespace/name replace).
set +e
"$ctl" policy trace --offline -f "$examples" --src app=web,io.kubernetes.pod.namespace=prod \
	--dst app=db,io.kubernetes.pod.namespace=prod --dport 5432/TCP >"$tmp/out" 2>&1
rc=$?
# Bad input exits 2 and names the document and field.
printf 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x}\nspec:\n  endpointSelector: {}\n  egress:\n  - toFQDNs: [{matchName: example.com}]\n' >"$tmp/bad.yaml"
"$ctl" policy trace --offline -f "$tmp/bad.yaml" --src a=b --dst c=d --dport 80 >"$tmp/bad.out" 2>&1
bad_rc=$?
set -e
if [ "$rc" -gt 1 ]; then
	echo "FAIL: loading the whole examples directory: exit $rc"; cat "$tmp/out"
	fail=$((fail + 1))
fi
if [ "$bad_rc" -ne 2 ] || ! grep -q 'document 1: spec.egress\[0\].toFQDNs' "$tmp/bad.out"; then
	echo "FAIL: invalid policy: exit $bad_rc (want 2):"; cat "$tmp/bad.out"
	fail=$((fail + 1))
fi

echo "$files example files, $checks traces, $fail failures"
[ "$fail" -eq 0 ] && [ "$files" -gt 0 ]
