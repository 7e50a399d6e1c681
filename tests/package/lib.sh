# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Shared by the package tests: a clean Debian 12 root (mmdebstrap, cached) and running
# commands inside it in a private mount + network namespace, never touching the host.
#   pk_root DIR DEBS...   DIR becomes a fresh Debian 12 root holding systemd and the
#                         run-time dependencies of DEBS (cached tarball, see below), plus
#                         the packages named in $PK_INCLUDE (comma-separated), if set
#   pk_in DIR CMD...      CMD chrooted into DIR, in new mount, network and PID namespaces
#                         (proc mounted; no network: apt only sees the local repository)
#   pk_systemd_stub DIR   makes DIR look systemd-booted to maintainer scripts
#                         (/run/systemd/system) with systemctl and deb-systemd-invoke
#                         replaced by stubs that log each call to DIR/pk-systemd.log
#   pk_repo DIR REPO      the signed apt repository REPO (build-repos' apt/) inside DIR as
#                         the root's only source, trusted through its keyring
PK_CACHE=${PK_CACHE:-/var/cache/pseudopod-tests}

pk_log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${PK_TEST:-package}" "$*" >&2; }
pk_fail() {
	pk_log "FAIL: $*"
	exit 1
}

# The Debian mirror the host uses (deb822 or one-line sources), for mmdebstrap.
pk_mirror() {
	local m
	m=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -oE 'https?://[^ ]*/debian/?' | grep -v security | head -1)
	echo "${m:-http://deb.debian.org/debian}"
}

# The run-time dependencies of the packages (names only), to preinstall in the root: the
# test then installs from the local repository with no network at all.
pk_deps() {
	local d
	for d in "$@"; do
		dpkg-deb -f "$d" Depends
		dpkg-deb -f "$d" Recommends
	done | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/^ *//; s/ *$//' |
		grep -vE '^(pseudopod|pseudopodctl)$' | grep -v '^$' | sort -u | paste -sd, -
}

pk_root() {
	local dir=$1
	shift
	local deps include key tarball mirror
	deps=$(pk_deps "$@")
	include="systemd,ca-certificates,iproute2${PK_INCLUDE:+,$PK_INCLUDE}${deps:+,$deps}"
	key=$(echo "bookworm minbase $include" | sha256sum | cut -c1-12)
	tarball=$PK_CACHE/bookworm-$key.tar
	if [ ! -s "$tarball" ]; then
		command -v mmdebstrap >/dev/null || pk_fail "mmdebstrap missing (scripts/deps)"
		mkdir -p "$PK_CACHE"
		mirror=$(pk_mirror)
		pk_log "mmdebstrap bookworm from $mirror (include $include), cached as $tarball"
		mmdebstrap --quiet --mode=root --format=tar --variant=minbase --include="$include" \
			bookworm "$tarball.tmp.tar" "$mirror" || pk_fail "mmdebstrap failed"
		mv "$tarball.tmp.tar" "$tarball"
	fi
	mkdir -p "$dir"
	tar -C "$dir" -xf "$tarball"
}

pk_in() {
	local dir=$1
	shift
	unshare --mount --net --pid --fork --propagation private -- \
		sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$dir" \
		env -i PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

pk_repo() {
	local dir=$1 repo=$2
	rm -rf "$dir/srv/pseudopod-repo"
	mkdir -p "$dir/srv"
	cp -r "$repo" "$dir/srv/pseudopod-repo"
	cp "$repo/pseudopod-archive-keyring.gpg" "$dir/usr/share/keyrings/"
	rm -f "$dir/etc/apt/sources.list" "$dir"/etc/apt/sources.list.d/*
	echo "deb [signed-by=/usr/share/keyrings/pseudopod-archive-keyring.gpg]" \
		"file:/srv/pseudopod-repo stable main" >"$dir/etc/apt/sources.list.d/pseudopod.list"
}

pk_systemd_stub() {
	local dir=$1 tool
	mkdir -p "$dir/run/systemd/system" "$dir/usr/local/sbin"
	for tool in systemctl deb-systemd-invoke; do
		printf '#!/bin/sh\necho "%s $*" >>/pk-systemd.log\n' "$tool" >"$dir/usr/local/sbin/$tool"
		chmod 0755 "$dir/usr/local/sbin/$tool"
	done
	: >"$dir/pk-systemd.log"
	# apt runs dpkg with its own PATH (DPkg::Path), without /usr/local/sbin.
	echo 'DPkg::Path "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin";' \
		>"$dir/etc/apt/apt.conf.d/99pseudopod-test-stubs"
}
