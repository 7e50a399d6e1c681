#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-in-vm.sh: runs one test script as root inside a throw-away QEMU guest that boots
# Debian's 6.1 cloud kernel (which ships wireguard.ko, unlike the CI host's kernel).
#
#   tests/kernel/run-in-vm.sh [options] GUEST_SCRIPT [ARG...]
#     --bin PATH        copy an executable (and, via ldd, its shared libraries) into the
#                       guest's PATH; a bare name is looked up in PATH. Repeatable.
#     --file SRC:DEST   copy a file or directory to DEST in the guest. Repeatable.
#     --module NAME     also load this kernel module (and its dependencies). Repeatable.
#     --timeout SEC     hard limit for boot + test + power-off (default 240)
#     --smp N           guest CPUs (default 2), --mem MB (default 1024)
#     --keep DIR        keep the initramfs and console log in DIR (debugging)
#     --rootfs IMAGE    boot a full system instead: IMAGE (a raw ext4 disk image, opened
#                       with QEMU's snapshot=on, so never changed) becomes the root; the
#                       initramfs copies /test, every --file and the loaded modules into
#                       it, then switch_root hands over to its /lib/systemd/systemd as
#                       PID 1, which runs the script as the oneshot unit pp-vm-test.service
#                       after multi-user.target and powers off. --bin is for the initramfs
#                       only in this mode (the image brings its own programs).
#
# Exit status: the guest script's own status; 77 when QEMU or the kernel package cannot be
# obtained (said on stderr), except with CI=true, where that is 1; 1 when the guest never
# reported (timeout, panic) or a tool the runner needs is missing.
#
# The kernel package is fetched with 'apt-get download' (never installed: installing would
# run the host's kernel hooks) into $PP_KERNEL_CACHE (default /var/cache/pseudopod-kernel),
# extracted once and reused. The newest linux-image-6.1.0-*-cloud-amd64-unsigned apt knows
# is used, so the runner keeps working when Debian publishes a new ABI; without network it
# falls back to the newest already cached. See tests/kernel/README.md.
set -euo pipefail

cache=${PP_KERNEL_CACHE:-/var/cache/pseudopod-kernel}
timeout_s=240
smp=2
mem=1024
keep=""
rootfs=""
bins=(bash wg ip)
files=()
# Loaded in every guest. wireguard pulls in its crypto and UDP-tunnel dependencies; veth
# and the tc/BPF/VXLAN modules are here for the datapath tests that reuse this runner.
modules=(wireguard veth vxlan dummy sch_ingress cls_bpf act_bpf)

die() { echo "run-in-vm: $*" >&2; exit 1; }
# A skip (77) is for a developer machine that cannot get QEMU or the kernel. Under CI
# (CI=true) it is a failure: the kernel label must never pass having run nothing.
skip() {
	if [ "${CI:-}" = true ]; then
		echo "run-in-vm: FAIL: $* (a skip is a failure when CI=true)" >&2
		exit 1
	fi
	echo "run-in-vm: SKIP: $*" >&2
	exit 77
}

while [ $# -gt 0 ]; do
	case "$1" in
	--bin) bins+=("$2"); shift 2 ;;
	--file) files+=("$2"); shift 2 ;;
	--module) modules+=("$2"); shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	--rootfs) rootfs=$2; shift 2 ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die "usage: run-in-vm.sh [--bin P]... [--file S:D]... [--module M]... SCRIPT [ARG...]"
script=$1
shift
[ -r "$script" ] || die "guest script $script not found"
if [ -n "$rootfs" ]; then
	[ -r "$rootfs" ] || die "root image $rootfs not found"
	# The disk and its driver (ext4 is built into the kernel).
	modules+=(virtio_pci virtio_blk)
fi

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
# Only a missing QEMU or kernel is a skip; these tools are ordinary dependencies.
for t in busybox cpio modprobe dpkg-deb; do
	command -v "$t" >/dev/null || die "$t not installed (scripts/deps installs busybox-static cpio kmod)"
done
busybox=$(command -v busybox)
# The guest's /bin is busybox alone, so it must be Debian's static build.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; install busybox-static"
fi

# --- 1. the kernel: newest 6.1 cloud image apt knows, downloaded and extracted once -------
mkdir -p "$cache" 2>/dev/null || cache=${XDG_CACHE_HOME:-$HOME/.cache}/pseudopod-kernel
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # concurrent runs share one download

# Newest first; an older one is tried only when a download fails (a stale apt index can
# name a version the mirror no longer has).
candidates=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' 2>/dev/null |
	awk '{print $1}' | sort -rV || true)
kdir=""
for pkg in $candidates; do
	if [ -e "$cache/$pkg/.complete" ]; then
		kdir=$cache/$pkg
		break
	fi
	tmp=$(mktemp -d "$cache/dl.XXXXXX")
	if (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
		rm -rf "${cache:?}/$pkg"
		mkdir -p "$cache/$pkg"
		dpkg-deb -x "$tmp"/*.deb "$cache/$pkg"
		touch "$cache/$pkg/.complete"
		rm -rf "$tmp"
		kdir=$cache/$pkg
		break
	fi
	rm -rf "$tmp"
	echo "run-in-vm: apt-get download $pkg failed" >&2
done
if [ -z "$kdir" ]; then
	# Offline: the newest kernel already extracted.
	kdir=$(find "$cache" -maxdepth 2 -name .complete -printf '%h\n' 2>/dev/null | sort -V | tail -n 1)
	[ -n "$kdir" ] || skip "no linux-image-6.1.0-*-cloud-amd64-unsigned in apt and none cached in $cache"
fi
flock -u 9
images=("$kdir"/boot/vmlinuz-*)
vmlinuz=${images[0]}
[ -e "$vmlinuz" ] || die "$kdir has no boot/vmlinuz-*"
kver=${vmlinuz##*/vmlinuz-}
[ -d "$kdir/lib/modules/$kver" ] || die "$kdir has no modules for $kver"
if [ ! -e "$kdir/lib/modules/$kver/modules.dep" ]; then
	depmod -b "$kdir" "$kver"
fi

# --- 2. the initramfs ---------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/pp-vm.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib,lib64,etc,proc,sys,dev,tmp,run,test,mnt}
mkdir -p "$root/var"
ln -s ../run "$root/var/run"
cp "$busybox" "$root/bin/busybox"
ln -s /bin/busybox "$root/usr/bin/env"

# copy_with_libs FILE DEST: the file and every shared library ldd names, at the same paths.
copy_with_libs() {
	local src=$1 dest=$2 lib
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$src" "$root$dest"
	chmod +x "$root$dest"
	ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
		while read -r lib; do
			[ -e "$root$lib" ] && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
}
for b in "${bins[@]}"; do
	p=$b
	[[ $p == */* ]] || p=$(command -v "$b") || die "binary $b not found in PATH"
	[ -x "$p" ] || die "binary $p not found (build it first)"
	copy_with_libs "$p" "/usr/local/bin/$(basename "$p")"
done
# What the test sees: in the initramfs itself, or (--rootfs) under /payload, which the
# initramfs copies into the root image before handing over.
payload=$root
[ -z "$rootfs" ] || payload=$root/payload
mkdir -p "$payload/test"
for f in "${files[@]}"; do
	src=${f%%:*}
	dest=${f#*:}
	mkdir -p "$payload$(dirname "$dest")"
	cp -a "$src" "$payload$dest"
done
cp "$script" "$payload/test/script"
chmod +x "$payload/test/script"
printf '%q ' "$@" >"$payload/test/args"

# Modules in load order (modprobe resolves dependencies against the package's modules.dep).
moddir=/lib/modules/$kver
mkdir -p "$root$moddir"
: >"$root/etc/modules.order"
for m in "${modules[@]}"; do
	modprobe -d "$kdir" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}' |
		while read -r ko; do
			rel=${ko#"$kdir"}
			grep -qxF "$rel" "$root/etc/modules.order" && continue
			mkdir -p "$root$(dirname "$rel")"
			cp "$ko" "$root$rel"
			echo "$rel" >>"$root/etc/modules.order"
		done || true
done
cp "$kdir$moddir"/modules.{dep,alias,symbols,builtin,builtin.modinfo,order,devname,softdep} \
	"$root$moddir/" 2>/dev/null || true

marker="PP-KERNEL-RESULT-$$-$RANDOM"
cat >"$root/init" <<EOF
#!/bin/busybox sh
# Generated by tests/kernel/run-in-vm.sh: mount, load modules, run the test, report, power off.
/bin/busybox --install -s /bin
[ -e /bin/bash ] || ln -s /usr/local/bin/bash /bin/bash
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root PP_IN_VM=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run/netns /root
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
while read -r ko; do
	insmod "\$ko" || echo "run-in-vm: insmod \$ko failed"
done </etc/modules.order
EOF
if [ -z "$rootfs" ]; then
	cat >>"$root/init" <<EOF
ip link set lo up
cd /test
eval "set -- \$(cat /test/args)"
/test/script "\$@"
rc=\$?
echo "$marker rc=\$rc"
sync
poweroff -f
EOF
else
	# The guest's systemd runs the script as a unit once the system is up; its output goes
	# to the serial console, then the marker, then a clean poweroff.
	cat >"$payload/test/run" <<EOF
#!/bin/sh
exec >/dev/ttyS0 2>&1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PP_IN_VM=1
cd /test
eval "set -- \$(cat /test/args)"
/test/script "\$@"
rc=\$?
echo "$marker rc=\$rc"
sync
systemctl --no-block poweroff
EOF
	chmod +x "$payload/test/run"
	mkdir -p "$payload/etc/systemd/system/multi-user.target.wants"
	cat >"$payload/etc/systemd/system/pp-vm-test.service" <<EOF
[Unit]
Description=tests/kernel/run-in-vm.sh guest script
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/test/run
TimeoutStartSec=infinity
EOF
	ln -s ../pp-vm-test.service "$payload/etc/systemd/system/multi-user.target.wants/"
	cat >>"$root/init" <<'EOF'
mkdir -p /newroot
mount -t ext4 -o rw /dev/vda /newroot || { echo "run-in-vm: cannot mount /dev/vda"; poweroff -f; }
cp -a /payload/. /newroot/
mkdir -p /newroot/lib/modules
cp -a /lib/modules/. /newroot/lib/modules/
umount /sys/kernel/tracing /sys/kernel/debug /sys/fs/cgroup /sys/fs/bpf /tmp /dev/pts 2>/dev/null
umount /sys /proc
exec switch_root /newroot /lib/systemd/systemd
EOF
fi
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# --- 3. boot -------------------------------------------------------------------------------
log=$work/console.log
start=$(date +%s)
set +e
disk=()
append="console=ttyS0 panic=-1 oops=panic quiet loglevel=4"
if [ -n "$rootfs" ]; then
	disk=(-drive "file=$rootfs,format=raw,if=virtio,snapshot=on")
	append+=" systemd.show_status=error systemd.unit=multi-user.target"
fi
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -smp "$smp" -m "$mem" \
	-nographic -no-reboot -nic none "${disk[@]}" \
	-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
	-append "$append" </dev/null 2>&1 |
	sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' | tee "$log"
qemu_rc=${PIPESTATUS[0]}
set -e
end=$(date +%s)
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	cp "$work/initrd.gz" "$log" "$keep/"
fi
line=$(grep -a -o "$marker rc=[0-9]*" "$log" | tail -n 1 || true)
if [ -z "$line" ]; then
	echo "run-in-vm: the guest never reported a result (qemu exit $qemu_rc after $((end - start)) s;" \
		"timeout ${timeout_s} s); see the console output above" >&2
	exit 1
fi
rc=${line##*rc=}
echo "run-in-vm: guest script exited $rc ($kver, $((end - start)) s)" >&2
exit "$rc"
