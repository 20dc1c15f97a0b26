// Reading a cpio "newc" archive in place (the initramfs format Linux uses):
// 110-byte ASCII headers ("070701" and thirteen 8-digit hex fields), the
// name, padding to 4 bytes, the data, padding to 4 bytes; the archive ends
// with an entry named "TRAILER!!!". Nothing is trusted: a header, name or
// body reaching past the archive stops the parse with a status.

export const enum CpioStatus {
  Ok = 0,
  Truncated = 1, // ran out of archive before the trailer
  BadMagic = 2, // a header without "070701"/"070702"
  BadNumber = 3, // a header field that is not hex
  BadName = 4, // name size 0 or not NUL-terminated
  TooManyEntries = 5,
}

const HEADER_SIZE: u32 = 110;
const FIELD_MODE: u32 = 1;
const FIELD_FILESIZE: u32 = 6;
const FIELD_RDEVMAJOR: u32 = 9;
const FIELD_RDEVMINOR: u32 = 10;
const FIELD_NAMESIZE: u32 = 11;

/**
 * One archive member, pointing into the archive.
 *
 *   0 name  4 nameLength  8 data  12 size  16 mode  20 rdev (a device node's number, Linux's encoding)
 */
@unmanaged export class CpioEntry {
  name: u32;
  nameLength: u32;
  data: u32;
  size: u32;
  mode: u32;
  rdev: u32;
}
export const CPIO_ENTRY_SIZE: u32 = 24;

@inline function hexDigit(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return <i32>(c - 0x61 + 10);
  return -1;
}

/** Header field `index` (8 hex digits), or -1 if malformed. */
function field(header: u32, index: u32): i64 {
  let value: i64 = 0;
  for (let i: u32 = 0; i < 8; i++) {
    const digit = hexDigit(load<u8>(header + 6 + index * 8 + i));
    if (digit < 0) return -1;
    value = (value << 4) | <i64>digit;
  }
  return value;
}

function isMagic(header: u32): bool {
  // "07070" then "1" (newc) or "2" (newc with checksums)
  const last = load<u8>(header + 5);
  return load<u32>(header) == 0x37303730 && load<u8>(header + 4) == 0x30 && (last == 0x31 || last == 0x32);
}

function isTrailer(name: u32, length: u32): bool {
  const trailer = "TRAILER!!!";
  if (length != <u32>trailer.length) return false;
  for (let i: u32 = 0; i < length; i++) if (<u32>load<u8>(name + i) != <u32>trailer.charCodeAt(i)) return false;
  return true;
}

/** newc pads to 4 bytes from the start of the archive, wherever it lies. */
@inline function align4(x: u64, start: u64): u64 {
  return start + ((x - start + 3) & ~(<u64>3));
}

let parsedCount: u32 = 0;

/** Entries stored by the last parseCpio (also on error: those before it). */
export function cpioEntryCount(): u32 {
  return parsedCount;
}

/**
 * Parses the archive [start, start + size) into at most `capacity` entries
 * at `table` (CPIO_ENTRY_SIZE bytes each; a null table just counts). The
 * "." entry and the trailer are not stored.
 */
export function parseCpio(start: u32, size: u32, table: u32, capacity: u32): CpioStatus {
  parsedCount = 0;
  const end: u64 = <u64>start + size;
  let at: u64 = start;
  while (true) {
    if (at + HEADER_SIZE > end) return CpioStatus.Truncated;
    const header = <u32>at;
    if (!isMagic(header)) return CpioStatus.BadMagic;
    const mode = field(header, FIELD_MODE);
    const fileSize = field(header, FIELD_FILESIZE);
    const nameSize = field(header, FIELD_NAMESIZE);
    if (mode < 0 || fileSize < 0 || nameSize < 0) return CpioStatus.BadNumber;
    if (nameSize == 0) return CpioStatus.BadName;
    const name = at + HEADER_SIZE;
    if (name + <u64>nameSize > end) return CpioStatus.Truncated;
    if (load<u8>(<usize>(name + <u64>nameSize - 1)) != 0) return CpioStatus.BadName;
    const data = align4(name + <u64>nameSize, start);
    if (data + <u64>fileSize > end) return CpioStatus.Truncated;
    const nameLength = <u32>nameSize - 1;
    if (isTrailer(<u32>name, nameLength)) return CpioStatus.Ok;
    const isDot = nameLength == 1 && load<u8>(<usize>name) == 0x2e;
    if (!isDot) {
      if (table != 0) {
        if (parsedCount == capacity) return CpioStatus.TooManyEntries;
        const entry = changetype<CpioEntry>(table + parsedCount * CPIO_ENTRY_SIZE);
        entry.name = <u32>name;
        entry.nameLength = nameLength;
        entry.data = <u32>data;
        entry.size = <u32>fileSize;
        entry.mode = <u32>mode;
        entry.rdev = deviceNumber(<u32>max(field(header, FIELD_RDEVMAJOR), 0), <u32>max(field(header, FIELD_RDEVMINOR), 0));
      }
      parsedCount++;
    }
    at = align4(data + <u64>fileSize, start);
  }
}

/** Linux's dev_t encoding of (major, minor), as st_rdev shows it. */
export function deviceNumber(major: u32, minor: u32): u32 {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & 0xfff00) << 12);
}

@inline export function deviceMajor(rdev: u32): u32 {
  return (rdev >> 8) & 0xfff;
}

@inline export function deviceMinor(rdev: u32): u32 {
  return (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
}

export function cpioStatusName(status: CpioStatus): string {
  switch (status) {
    case CpioStatus.Ok: return "ok";
    case CpioStatus.Truncated: return "archive truncated";
    case CpioStatus.BadMagic: return "bad header magic";
    case CpioStatus.BadNumber: return "bad header number";
    case CpioStatus.BadName: return "bad entry name";
    case CpioStatus.TooManyEntries: return "too many entries";
    default: return "?";
  }
}
