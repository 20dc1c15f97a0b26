#!/usr/bin/env bash
# fetch-busybox.sh DIR
# Puts Debian's static busybox at DIR/bin/busybox and a symbolic link to
# /bin/busybox for each of its applets (DIR/bin/ls, DIR/sbin/reboot,
# DIR/usr/bin/awk, ...), the tree the initramfs gets at /. The package is
# fetched with `apt-get download` and unpacked with dpkg-deb, as `make bench`
# fetches Debian's Linux: nothing is installed on this machine. The applet
# list comes from the binary itself (`busybox --list-full`), which runs here
# because it is a static x86-64 Linux program.
set -euo pipefail
out=$1
package=busybox-static
work=$(mktemp -d)
trap 'rm -rf "$work" "$out.tmp"' EXIT

echo "  FETCH   $package (apt-get download; nothing is installed)"
if ! (cd "$work" && apt-get download "$package") >"$work/log" 2>&1; then
  cat "$work/log" >&2
  echo "fetch-busybox: 'apt-get download $package' failed (above); the initramfs needs Debian's $package" >&2
  echo "fetch-busybox: with no package lists yet, 'apt-get update' first" >&2
  exit 1
fi
dpkg-deb -x "$work"/"$package"_*.deb "$work/root"

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
