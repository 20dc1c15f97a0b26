#!/usr/bin/env bash
# Installs what `make run` and `make test` need on a fresh Debian machine:
# Debian packages through apt-get when we are root (otherwise it names them),
# and the npm packages through `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A needs=(
  [nasm]=nasm [clang]=clang [ld.lld]=lld [wasm2c]=wabt [nm]=binutils
  [grub-mkrescue]=grub-common [xorriso]=xorriso [mformat]=mtools
  [qemu-system-x86_64]=qemu-system-x86 [node]=nodejs [npm]=npm [musl-gcc]=musl-tools [gcc]=gcc [go]=golang-go
  [rustc]=rustc [mke2fs]=e2fsprogs
)
missing=()
for cmd in "${!needs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needs[$cmd]}")
done
# grub-mkrescue needs the BIOS GRUB modules to make a bootable image.
[ -d /usr/lib/grub/i386-pc ] || missing+=(grub-pc-bin)
# ...and the UEFI ones, so the same ISO boots both ways; OVMF to test that.
[ -d /usr/lib/grub/x86_64-efi ] || missing+=(grub-efi-amd64-bin)
[ -f /usr/share/OVMF/OVMF_CODE.fd ] || missing+=(ovmf)
# The console font.
[ -f /usr/share/consolefonts/Lat15-VGA16.psf.gz ] || missing+=(console-setup-linux)

if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -eq 0 ]; then
    echo "  APT     ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "  NPM     ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
