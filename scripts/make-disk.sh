#!/bin/sh
# make-disk.sh OUT MIB DEST=SOURCE...: an ext2 disk image (an MBR with one
# partition from sector 2048: /dev/vda1) holding the files the initramfs
# would (make-initramfs.mjs's mappings), plus the directories the kernel
# mounts on when it boots with root= (/dev, /proc, /sys, /tmp, and /initramfs,
# where the initramfs stays reachable), and /mnt.
set -e
out=$1
mib=$2
shift 2
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
node "$(dirname "$0")/make-initramfs.mjs" --tree "$tree/root" "$@"
mkdir -p "$tree/root/dev" "$tree/root/proc" "$tree/root/sys" "$tree/root/tmp" "$tree/root/mnt" "$tree/root/initramfs"
chmod 1777 "$tree/root/tmp"
rm -f "$out"
node "$(dirname "$0")/disk-image.mjs" ext2 "$out" "$mib" "$tree/root" 4096
