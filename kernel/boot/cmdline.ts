// The kernel command line: words separated by spaces, each `key=value` or a
// bare `key`. It is copied out of the boot information so that memory can
// be reused; values are looked up by key without allocating.
import { equalsAscii } from "../lib/ascii";

const MAX_LENGTH: u32 = 1024;
const U64_MAX: u64 = 0xffffffffffffffff;
export const MAX_WORDS: u32 = 64;

const text = memory.data(MAX_LENGTH);
let textLength: u32 = 0;

/**
 * One word of the command line, as offsets into the copied text.
 *
 *   0          2           4            6
 *   | keyStart | keyLength | valueStart | valueLength |   (u16 each)
 */
@unmanaged class Word {
  keyStart: u16;
  keyLength: u16;
  valueStart: u16;
  valueLength: u16;
}
const WORD_SIZE: u32 = 8;
const words = memory.data(MAX_WORDS * WORD_SIZE, 8);
let wordCount: u32 = 0;

@inline function word(index: u32): Word {
  return changetype<Word>(words + index * WORD_SIZE);
}

@inline function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

/** Parses `length` bytes at `address`; longer lines and extra words are cut off. */
export function parseCommandLine(address: usize, length: u32): void {
  textLength = min(length, MAX_LENGTH);
  memory.copy(text, address, textLength);
  wordCount = 0;
  let i: u32 = 0;
  while (i < textLength && wordCount < MAX_WORDS) {
    while (i < textLength && isSpace(load<u8>(text + i))) i++;
    if (i == textLength) break;
    const start = i;
    let equals: u32 = 0xffffffff;
    while (i < textLength && !isSpace(load<u8>(text + i))) {
      if (load<u8>(text + i) == 0x3d && equals == 0xffffffff) equals = i;
      i++;
    }
    const w = word(wordCount++);
    w.keyStart = <u16>start;
    if (equals == 0xffffffff) {
      w.keyLength = <u16>(i - start);
      w.valueStart = <u16>i;
      w.valueLength = 0;
    } else {
      w.keyLength = <u16>(equals - start);
      w.valueStart = <u16>(equals + 1);
      w.valueLength = <u16>(i - equals - 1);
    }
  }
}

/** Index of the last word with this key (later words override), or -1. */
function find(key: string): i32 {
  for (let i = <i32>wordCount - 1; i >= 0; i--) {
    const w = word(i);
    if (equalsAscii(text + w.keyStart, w.keyLength, key)) return i;
  }
  return -1;
}

export function hasArgument(key: string): bool {
  return find(key) >= 0;
}

export function argumentEquals(key: string, value: string): bool {
  const i = find(key);
  if (i < 0) return false;
  const w = word(i);
  return equalsAscii(text + w.valueStart, w.valueLength, value);
}

/** Address and length of a key's value (length -1 when the key is absent). */
export function argumentValueAddress(key: string): usize {
  const i = find(key);
  return i < 0 ? 0 : text + word(i).valueStart;
}

export function argumentValueLength(key: string): i32 {
  const i = find(key);
  return i < 0 ? -1 : <i32>word(i).valueLength;
}

/** A decimal or 0x-hexadecimal value; `fallback` when absent or malformed. */
export function argumentNumber(key: string, fallback: u64): u64 {
  const i = find(key);
  if (i < 0) return fallback;
  const w = word(i);
  let p = text + w.valueStart;
  let n = <u32>w.valueLength;
  if (n == 0) return fallback;
  let base: u64 = 10;
  if (n > 2 && load<u8>(p) == 0x30 && (load<u8>(p + 1) | 0x20) == 0x78) {
    base = 16;
    p += 2;
    n -= 2;
  }
  let value: u64 = 0;
  for (let j: u32 = 0; j < n; j++) {
    const c = <u32>load<u8>(p + j);
    let digit: u64;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (base == 16 && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) digit = (c | 0x20) - 0x61 + 10;
    else return fallback;
    if (value > (U64_MAX - digit) / base) return fallback; // too large
    value = value * base + digit;
  }
  return value;
}

export function argumentCount(): u32 {
  return wordCount;
}

export function commandLineText(): usize {
  return text;
}

export function commandLineLength(): u32 {
  return textLength;
}
