// printf-style formatting into a caller's byte buffer. Nothing is allocated:
// arguments are u64 and a `%s` argument is the address of a string (see str()).
//
//   %d unsigned decimal   %i signed decimal   %x hexadecimal
//   %p 0x + 16 hex digits %c one character    %s string (str(s))
//   %m a byte count shown in KiB, MiB or GiB  %% a percent sign
//   flags: '-' left-aligns, '0' pads with zeros; then an optional width.

let buffer: usize = 0;
let capacity: u32 = 0;
let length: u32 = 0;

@inline function put(c: u32): void {
  if (length < capacity) store<u8>(buffer + length, <u8>c);
  length++;
}

/** The address of an AssemblyScript string, to pass as a `%s` argument. */
@inline export function str(s: string): u64 {
  return <u64>changetype<usize>(s);
}

const DIGITS = "0123456789abcdef";

function digitCount(value: u64, base: u32): i32 {
  let n = 1;
  while (value >= <u64>base) {
    value /= <u64>base;
    n++;
  }
  return n;
}

function putNumber(value: u64, base: u32, negative: bool, width: i32, zeroPad: bool, leftAlign: bool): void {
  const digits = digitCount(value, base);
  const size = digits + (negative ? 1 : 0);
  if (!leftAlign && !zeroPad) for (let i = size; i < width; i++) put(0x20);
  if (negative) put(0x2d);
  if (!leftAlign && zeroPad) for (let i = size; i < width; i++) put(0x30);
  let divisor: u64 = 1;
  for (let i = 1; i < digits; i++) divisor *= <u64>base;
  while (divisor > 0) {
    put(<u32>DIGITS.charCodeAt(<i32>((value / divisor) % <u64>base)));
    divisor /= <u64>base;
  }
  if (leftAlign) for (let i = size; i < width; i++) put(0x20);
}

function putString(s: string, width: i32, leftAlign: bool): void {
  const n = s.length;
  if (!leftAlign) for (let i = n; i < width; i++) put(0x20);
  for (let i = 0; i < n; i++) {
    const c = <u32>s.charCodeAt(i);
    put(c < 0x80 ? c : 0x3f);
  }
  if (leftAlign) for (let i = n; i < width; i++) put(0x20);
}

const KIB: u64 = 1024;
const MIB: u64 = KIB * 1024;
const GIB: u64 = MIB * 1024;

/** Whole units when exact, else one decimal (truncated): "640 KiB", "3.5 GiB". */
function putSize(bytes: u64, width: i32, leftAlign: bool): void {
  let unit: u64 = 1;
  let name = " B";
  if (bytes >= GIB) {
    unit = GIB;
    name = " GiB";
  } else if (bytes >= MIB) {
    unit = MIB;
    name = " MiB";
  } else if (bytes >= KIB) {
    unit = KIB;
    name = " KiB";
  }
  const tenths = (bytes % unit) * 10 / unit;
  const size = digitCount(bytes / unit, 10) + (tenths != 0 ? 2 : 0) + name.length;
  if (!leftAlign) for (let i = size; i < width; i++) put(0x20);
  putNumber(bytes / unit, 10, false, 0, false, false);
  if (tenths != 0) {
    put(0x2e);
    put(0x30 + <u32>tenths);
  }
  putString(name, 0, false);
  if (leftAlign) for (let i = size; i < width; i++) put(0x20);
}

/**
 * Formats `format` with up to six arguments into [into, into + size).
 * Returns the number of bytes the full output needs; bytes past `size` are
 * dropped, as with snprintf.
 */
export function formatInto(
  into: usize, size: u32, format: string,
  a: u64 = 0, b: u64 = 0, c: u64 = 0, d: u64 = 0, e: u64 = 0, f: u64 = 0,
): u32 {
  buffer = into;
  capacity = size;
  length = 0;
  let next = 0;
  const n = format.length;
  for (let i = 0; i < n; i++) {
    const ch = <u32>format.charCodeAt(i);
    if (ch != 0x25 || i + 1 >= n) {
      put(ch < 0x80 ? ch : 0x3f);
      continue;
    }
    i++;
    let leftAlign = false;
    let zeroPad = false;
    let spec = <u32>format.charCodeAt(i);
    while ((spec == 0x2d || spec == 0x30) && i + 1 < n) {
      if (spec == 0x2d) leftAlign = true;
      else zeroPad = true;
      spec = <u32>format.charCodeAt(++i);
    }
    let width = 0;
    while (spec >= 0x30 && spec <= 0x39 && i + 1 < n) {
      width = width * 10 + <i32>(spec - 0x30);
      spec = <u32>format.charCodeAt(++i);
    }
    if (spec == 0x25) {
      put(0x25);
      continue;
    }
    const arg = next == 0 ? a : next == 1 ? b : next == 2 ? c : next == 3 ? d : next == 4 ? e : f;
    next++;
    switch (spec) {
      case 0x64: putNumber(arg, 10, false, width, zeroPad, leftAlign); break; // d
      case 0x69: { // i
        const negative = <i64>arg < 0;
        putNumber(negative ? <u64>(-<i64>arg) : arg, 10, negative, width, zeroPad, leftAlign);
        break;
      }
      case 0x78: putNumber(arg, 16, false, width, zeroPad, leftAlign); break; // x
      case 0x70: // p
        put(0x30);
        put(0x78);
        putNumber(arg, 16, false, 16, true, false);
        break;
      case 0x63: put(<u32>arg & 0x7f); break; // c
      case 0x73: putString(changetype<string>(<usize>arg), width, leftAlign); break; // s
      case 0x6d: putSize(arg, width, leftAlign); break; // m
      default: // unknown: show "%" and the letter so the mistake is visible
        put(0x25);
        put(spec);
        next--;
    }
  }
  return length;
}
