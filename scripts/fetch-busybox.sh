#!/usr/bin/env bash
# fetch-busybox.sh DIR
# Puts Debian's static busybox at DIR/bin/busybox and a symbolic link to
# /bin/busybox for each of its applets (DIR/bin/ls, DIR/sbin/reboot,
# DIR/usr/bin/awk, ...), the tree the initramfs gets at /. The package
# comes through scripts/fetch-deb.sh. The applet list comes from the
# binary itself (`busybox --list-full`), which runs here because it is a
# static x86-64 Linux program.
set -euo pipefail
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work" "$out.tmp"' EXIT

"$(dirname "$0")/fetch-deb.sh" busybox-static "$work/root"
rm -rf "$out.tmp"
mkdir -p "$out.tmp/bin"
cp "$work/root/bin/busybox" "$out.tmp/bin/busybox"
while read -r applet; do
  # bin/busybox is the binary itself; `linuxrc` (busybox init for an initrd,
  # at the top level) is not wanted at / here.
  case $applet in bin/busybox | linuxrc) continue ;; esac
  mkdir -p "$out.tmp/${applet%/*}"
  ln -s /bin/busybox "$out.tmp/$applet"
done < <("$out.tmp/bin/busybox" --list-full)
rm -rf "$out"
mv "$out.tmp" "$out"
