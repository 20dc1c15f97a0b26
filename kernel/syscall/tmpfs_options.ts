// tmpfs's mount options, as Linux's shmem parses them: size=BYTES (with
// k, m, g or t, or % of RAM; rounded up to pages), nr_blocks=PAGES,
// nr_inodes=N (k, m, g), mode=OCTAL (of the root), uid=N, gid=N; 0 means
// no limit. Anything else is EINVAL, as Linux's "Unknown parameter".
import { managedFrames } from "../mm/frame_database";
import { PAGE_SIZE } from "../mm/frame";
import { startsWithAscii } from "../lib/ascii";

/**
 * What the options asked for.
 *   0 pages  4 inodes (0: no limit)  8 mode  12 uid  16 gid (mode/uid/gid: U32 max when not given)
 */
@unmanaged export class TmpfsOptions {
  pages: u32;
  inodes: u32;
  mode: u32;
  uid: u32;
  gid: u32;
}
export const TMPFS_OPTIONS_SIZE: u32 = 20;

@inline function isDigit(c: u32): bool {
  return c >= 0x30 && c <= 0x39;
}

/** A number in `base` with an optional k/m/g/t (or `%` when `percent`) suffix, as a u64; -1 if malformed. */
function number(at: u32, length: u32, base: u32, percent: bool): i64 {
  if (length == 0) return -1;
  let value: u64 = 0;
  let i: u32 = 0;
  while (i < length && isDigit(load<u8>(at + i)) && load<u8>(at + i) - 0x30 < base) {
    value = value * base + (load<u8>(at + i) - 0x30);
    if (value > <u64>1 << 50) return -1;
    i++;
  }
  if (i == 0) return -1;
  if (i == length) return <i64>value;
  if (i + 1 != length) return -1;
  const suffix = load<u8>(at + i) | 0x20;
  if (percent && load<u8>(at + i) == 0x25) return <i64>(value * managedFrames / 100 * PAGE_SIZE);
  if (suffix == 0x6b) return <i64>(value << 10);
  if (suffix == 0x6d) return <i64>(value << 20);
  if (suffix == 0x67) return <i64>(value << 30);
  if (suffix == 0x74) return <i64>(value << 40);
  return -1;
}

/** Parses the `length` bytes of options at `text` into `into`; false if one is unknown or malformed. */
export function parseTmpfsOptions(text: u32, length: u32, into: TmpfsOptions): bool {
  into.pages = 0;
  into.inodes = 0;
  into.mode = U32.MAX_VALUE;
  into.uid = U32.MAX_VALUE;
  into.gid = U32.MAX_VALUE;
  let start: u32 = 0;
  while (start < length) {
    let end = start;
    while (end < length && load<u8>(text + end) != 0x2c) end++;
    const at = text + start;
    const size = end - start;
    let value: i64 = 0;
    if (startsWithAscii(at, size, "size=")) {
      value = number(at + 5, size - 5, 10, true);
      into.pages = <u32>min((<u64>value + PAGE_SIZE - 1) / PAGE_SIZE, <u64>U32.MAX_VALUE);
    } else if (startsWithAscii(at, size, "nr_blocks=")) {
      value = number(at + 10, size - 10, 10, false);
      into.pages = <u32>min(<u64>value, <u64>U32.MAX_VALUE);
    } else if (startsWithAscii(at, size, "nr_inodes=")) {
      value = number(at + 10, size - 10, 10, false);
      into.inodes = <u32>min(<u64>value, <u64>U32.MAX_VALUE);
    } else if (startsWithAscii(at, size, "mode=")) {
      value = number(at + 5, size - 5, 8, false);
      into.mode = <u32>value & 0o7777;
    } else if (startsWithAscii(at, size, "uid=")) {
      value = number(at + 4, size - 4, 10, false);
      into.uid = <u32>value;
    } else if (startsWithAscii(at, size, "gid=")) {
      value = number(at + 4, size - 4, 10, false);
      into.gid = <u32>value;
    } else if (size != 0) {
      return false;
    }
    if (value < 0) return false;
    start = end + 1;
  }
  return true;
}
