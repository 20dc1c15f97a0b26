#!/usr/bin/env bash
# fetch-bash.sh DIR
# Puts Debian's static bash (package bash-static, whose program is
# /bin/bash-static) at DIR/bin/bash, the tree the initramfs gets at /.
# The package comes through scripts/fetch-deb.sh. busybox has no applet
# named bash, so no link of scripts/fetch-busybox.sh's tree clashes with
# it (tests/integration/bash.test.ts checks).
set -euo pipefail
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work" "$out.tmp"' EXIT

"$(dirname "$0")/fetch-deb.sh" bash-static "$work/root"
rm -rf "$out.tmp"
mkdir -p "$out.tmp/bin"
cp "$work/root/bin/bash-static" "$out.tmp/bin/bash"
rm -rf "$out"
mv "$out.tmp" "$out"
