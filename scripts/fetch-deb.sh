#!/usr/bin/env bash
# fetch-deb.sh PACKAGE DIR
# Unpacks Debian's PACKAGE into DIR (made anew): fetched with `apt-get
# download` and unpacked with dpkg-deb, as `make bench` fetches Debian's
# Linux, so that nothing is installed on this machine. The initramfs's
# programs come this way (scripts/fetch-busybox.sh, scripts/fetch-bash.sh).
set -euo pipefail
package=$1
out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "  FETCH   $package (apt-get download; nothing is installed)"
if ! (cd "$work" && apt-get download "$package") >"$work/log" 2>&1; then
  cat "$work/log" >&2
  echo "fetch-deb: 'apt-get download $package' failed (above); the initramfs needs Debian's $package" >&2
  echo "fetch-deb: with no package lists yet, 'apt-get update' first" >&2
  exit 1
fi
rm -rf "$out"
dpkg-deb -x "$work"/"$package"_*.deb "$out"
