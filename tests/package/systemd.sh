#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# package_systemd (label package): the installed agent under its own unit's sandbox, with a
# real systemd as PID 1. The CI host has no systemd (PID 1 is the sandbox's own init), so
# the test boots one: a QEMU guest (tests/kernel/run-in-vm.sh --rootfs, Debian's 6.1 cloud
# kernel) whose root disk is a Debian 12 image with systemd, etcd, wireguard-go and the
# packages' run-time dependencies. In the guest (tests/package/guest/systemd_unit.sh) the
# built .debs are installed with dpkg under the running systemd (their maintainer scripts
# talk to it for real), a cluster is set up in namespaces (etcd, enrollment API, the
# gateway as pseudopod-gateway.service, two pods), the guest itself enrolls with
# `pseudopod enroll`, which starts pseudopod.service, and the test checks readiness by
# sd_notify, the datapath, the sandbox (the live daemon's capabilities, seccomp and mount
# view; a probe unit with the same settings, each refusal checked against plain root),
# Restart=on-failure, that `systemctl stop` leaves the datapath enforcing and the tunnel
# up, and `dpkg -r`. The guest script's header lists every check.
#
# The image is built once per package set (mmdebstrap tarball, cached like the install
# tests' roots; then mke2fs -d) in $PK_CACHE (default /var/cache/pseudopod-tests) and booted
# read-only (QEMU -snapshot): a run never changes it.
#   systemd.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
PK_TEST=systemd
source "$src/tests/package/lib.sh"
[ "$(id -u)" = 0 ] || pk_fail "needs root (mmdebstrap, mke2fs -d keeping owners)"
command -v mke2fs >/dev/null || pk_fail "mke2fs missing (scripts/deps installs e2fsprogs)"
repo=$build/repos/apt
[ -d "$repo/dists" ] || pk_fail "$repo: no repository (the package_build test makes it)"
# The packages of this tree's version, as package_build makes them (package_lifecycle
# adds a rebuilt newer version to the same pool).
version=$(sed -n 's/^project(pseudopod VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
debs=()
for p in pseudopod pseudopodctl; do
	d=$repo/pool/main/${p}_${version}_amd64.deb
	[ -f "$d" ] || pk_fail "no $d (the package_build test makes it)"
	debs+=("$d")
done

# What the guest needs besides the packages' dependencies: systemd as init, the cluster's
# parts (etcd, WireGuard tools), and the checks' tools (jq, curl, nc, bpftool).
export PK_INCLUDE=systemd-sysv,dbus,kmod,procps,etcd-server,etcd-client,wireguard-go,wireguard-tools,jq,curl,netcat-openbsd,bpftool
# Bump when the image recipe below changes.
recipe=1
key=$(echo "$recipe $PK_INCLUDE $(pk_deps "${debs[@]}")" | sha256sum | cut -c1-12)
image=$PK_CACHE/systemd-$key.ext4

# build_image: the Debian root (pk_root's cached tarball), made bootable by systemd on a
# serial console only, written into an ext4 image file without mounting anything.
build_root=""
trap '[ -z "$build_root" ] || rm -rf --one-file-system "$build_root" "$image.tmp"' EXIT
build_image() {
	local root
	root=$(mktemp -d /var/tmp/pseudopod-systemd.XXXXXX)
	build_root=$root # removed at exit if anything below fails
	pk_root "$root" "${debs[@]}"
	# No login prompts on the consoles (the serial line carries the test's output).
	for u in serial-getty@ttyS0.service getty@tty1.service; do
		ln -sf /dev/null "$root/etc/systemd/system/$u"
	done
	# Debian's etcd-server starts a system etcd on 2379; the test runs its own.
	rm -f "$root/etc/systemd/system/multi-user.target.wants/etcd.service"
	ln -sf /dev/null "$root/etc/systemd/system/etcd.service"
	echo pp-guest >"$root/etc/hostname"
	: >"$root/etc/machine-id" # systemd makes one at boot
	printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"
	mkdir -p "$root/sys/fs/bpf"
	mke2fs -q -t ext4 -L pp-root -d "$root" "$image.tmp" 2G || pk_fail "mke2fs -d $image"
	mv "$image.tmp" "$image"
	rm -rf --one-file-system "$root"
	build_root=""
}

mkdir -p "$PK_CACHE"
exec 8>"$PK_CACHE/.systemd-image.lock"
flock 8
if [ ! -s "$image" ]; then
	t0=$(date +%s)
	pk_log "building the guest image $image (once per package set)"
	build_image
	pk_log "image ready in $(($(date +%s) - t0)) s"
fi
flock -u 8

files=(--file "$src/tests/e2e/lib/harness.sh:/test/harness.sh")
for d in "${debs[@]}"; do
	files+=(--file "$d:/test/debs/$(basename "$d")")
done
# The guest's modules besides run-in-vm.sh's defaults: tun (wireguard-go) and bridge (the
# underlay LAN of the harness).
exec bash "$src/tests/kernel/run-in-vm.sh" --rootfs "$image" --timeout 600 --mem 2048 \
	--module tun --module bridge "${files[@]}" "$src/tests/package/guest/systemd_unit.sh"
