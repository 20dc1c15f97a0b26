#!/usr/bin/env bash
# make-iso.sh OUT.iso "KERNEL COMMAND LINE" [INITRAMFS.cpio]
# Builds a bootable ISO (BIOS, and UEFI when GRUB's EFI files are installed)
# from build/kernel.elf, build/kernel.sym and an initramfs (by default
# build/initramfs.cpio) with the given command line.
set -euo pipefail
out=$1
cmdline=${2:-}
build=$(dirname "$0")/../build
initramfs=${3:-$build/initramfs.cpio}
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/boot/grub"
cp "$build/kernel.elf" "$build/kernel.sym" "$tree/boot/"
cp "$initramfs" "$tree/boot/initramfs.cpio"
cp "$build/font.bin" "$tree/boot/font.bin"
template=$(cat "$(dirname "$0")/../iso/grub.cfg")
printf '%s\n' "${template//@CMDLINE@/$cmdline}" > "$tree/boot/grub/grub.cfg"
if ! grub-mkrescue -o "$out.tmp" "$tree" >"$tree.log" 2>&1; then
  cat "$tree.log" >&2
  rm -f "$tree.log" "$out.tmp"
  exit 1
fi
rm -f "$tree.log"
mv "$out.tmp" "$out"
