#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Package build test (label package): packaging/build-repos makes the .debs, the .rpms and
# the signed apt and yum repositories in BUILD_DIR/repos (the install and lifecycle tests
# use them), then:
#  - lintian (pedantic): no error or warning that is not overridden (with a reason) in
#    packaging/deb/debian/*.lintian-overrides;
#  - the .deb contents: what the packages must hold, and no developer tool;
#  - the .rpms: rpm -qlp (files), rpm -qp --requires (shared libraries, no Debian names),
#    rpm -qp --scripts (the systemd scriptlets, the leave on erase), rpmlint's errors.
# Prints the package sizes and build times for the closing notes.
#   build.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
PK_TEST=package_build
source "$src/tests/package/lib.sh"
out=$build/repos
rm -rf "$out"
t0=$(date +%s)
"$src/packaging/build-repos" --out "$out" || pk_fail "packaging/build-repos"
pk_log "build-repos took $(($(date +%s) - t0)) s"

debs=$(ls "$out"/apt/pool/main/*.deb)
for d in $debs "$out"/yum/*.rpm; do
	pk_log "size: $(basename "$d") $(stat -c %s "$d") bytes"
done

# lintian: E: and W: fail; I: and overridden (O:) tags are listed.
# shellcheck disable=SC2086
lintian --pedantic --display-info --show-overrides --tag-display-limit 0 $debs >"$out/lintian.txt" 2>&1 || true
sed 's/^/lintian: /' "$out/lintian.txt" >&2
if grep -E '^[EW]: ' "$out/lintian.txt"; then
	pk_fail "lintian reports errors or warnings (see above); fix them or override with a reason"
fi

# The .deb contents.
contents() { dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./|/|'; }
p=$(ls "$out"/apt/pool/main/pseudopod_*.deb | sort -V | tail -1)
c=$(ls "$out"/apt/pool/main/pseudopodctl_*.deb | sort -V | tail -1)
for f in /usr/sbin/pseudopodd /usr/bin/pseudopod /lib/systemd/system/pseudopod.service \
	/lib/systemd/system/pseudopod-gateway.service /etc/pseudopod/pseudopod.conf \
	/usr/share/man/man8/pseudopodd.8.gz /usr/share/man/man8/pseudopod.8.gz \
	/usr/share/man/man5/pseudopod.conf.5.gz /usr/share/bash-completion/completions/pseudopod; do
	contents "$p" | grep -qx "$f" || pk_fail "$(basename "$p") lacks $f"
done
for f in /usr/bin/pseudopodctl /lib/systemd/system/pseudopodctl-serve.service \
	/usr/share/man/man8/pseudopodctl.8.gz /usr/share/bash-completion/completions/pseudopodctl \
	/etc/default/pseudopodctl-serve; do
	contents "$c" | grep -qx "$f" || pk_fail "$(basename "$c") lacks $f"
done
if contents "$p" "$c" | grep -E '/pp-|/test_|/bench'; then
	pk_fail "developer tools in a package"
fi
dpkg-deb -f "$p" Recommends | grep -q wireguard-go || pk_fail "pseudopod does not recommend wireguard-go"

# The .rpms.
r=$(ls "$out"/yum/pseudopod-[0-9]*.x86_64.rpm 2>/dev/null | sort -V | tail -1)
rc=$(ls "$out"/yum/pseudopodctl-[0-9]*.x86_64.rpm 2>/dev/null | sort -V | tail -1)
[ -n "$r" ] && [ -n "$rc" ] || pk_fail "no pseudopod/pseudopodctl .rpm in $out/yum"
rpm -qlp "$r" >"$out/rpm-files.txt" 2>/dev/null
for f in /usr/sbin/pseudopodd /usr/bin/pseudopod /usr/lib/systemd/system/pseudopod.service \
	/usr/lib/systemd/system/pseudopod-gateway.service /etc/pseudopod/pseudopod.conf \
	/var/lib/pseudopod '/usr/share/man/man8/pseudopodd.8(.gz)?' '/usr/share/man/man8/pseudopod.8(.gz)?' \
	'/usr/share/man/man5/pseudopod.conf.5(.gz)?' /usr/share/licenses/pseudopod/COPYING; do
	grep -qxE "$f" "$out/rpm-files.txt" || pk_fail "$(basename "$r") lacks $f"
done
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$r" 2>/dev/null |
	grep -qx 'cn /etc/pseudopod/pseudopod.conf' ||
	pk_fail "/etc/pseudopod/pseudopod.conf is not %config(noreplace) in $(basename "$r")"
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$r" 2>/dev/null |
	grep -qx 'drwx------ /var/lib/pseudopod' || pk_fail "/var/lib/pseudopod is not 0700"
if grep -E '/pp-|/test_|/bench' "$out/rpm-files.txt"; then
	pk_fail "developer tools in $(basename "$r")"
fi
req=$(rpm -qp --requires "$r" "$rc" 2>/dev/null)
echo "$req" | sed 's/^/rpm requires: /' >&2
echo "$req" | grep -q '^libc.so.6' || pk_fail "no automatic shared-library requires"
if echo "$req" | grep -E '^lib[a-z0-9-]+[0-9]$|^libc6|-dev$'; then
	pk_fail "Debian package names in the rpm requires"
fi
scripts=$(rpm -qp --scripts "$r" 2>/dev/null)
for want in 'systemctl --no-reload preset pseudopod.service' \
	'systemctl --no-reload disable --now pseudopod.service' \
	'systemctl try-restart pseudopod.service' 'pseudopod leave --offline --keep-state'; do
	echo "$scripts" | grep -qF -- "$want" || pk_fail "rpm scriptlets lack: $want"
done
# The signatures, against the repository's key in a scratch rpm database.
rpmdb=$(mktemp -d)
rpm --dbpath "$rpmdb" --import "$out/yum/RPM-GPG-KEY-pseudopod" || pk_fail "rpm --import the key"
for f in "$out"/yum/*.rpm; do
	rpm --dbpath "$rpmdb" -K "$f" | grep -q 'signatures OK' ||
		{ rm -rf "$rpmdb"; pk_fail "$(basename "$f"): signature not OK"; }
done
rm -rf "$rpmdb"

# rpmlint: no error left after the filters of packaging/rpm/pseudopod.rpmlintrc (each
# with its reason); warnings are listed.
if command -v rpmlint >/dev/null; then
	rpmlint -r "$src/packaging/rpm/pseudopod.rpmlintrc" "$out"/yum/*.rpm >"$out/rpmlint.txt" 2>&1 || true
	sed 's/^/rpmlint: /' "$out/rpmlint.txt" >&2
	if grep -E ': E: ' "$out/rpmlint.txt"; then
		pk_fail "rpmlint errors (see above)"
	fi
fi
pk_log "PASS: packages built; lintian clean; rpm files, requires and scripts as expected"
