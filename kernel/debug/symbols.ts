// The kernel's symbol table, loaded by GRUB as the boot module named
// "symbols" (built by scripts/gen-symbols.mjs from the linked kernel, with
// TypeScript functions under their TypeScript names):
//
//   0 magic "KSYM"  4 count  8 reserved  12 stringsSize
//  16 entries[count], sorted by address:
//       0 address(u64)  8 nameOffset(u32)  12 nameLength(u32)
//  16 + count * 16: the names, ASCII, back to back
import { findModule } from "../boot/multiboot2";

const MAGIC: u32 = 0x4d59534b;
const HEADER_SIZE: u32 = 16;
const ENTRY_SIZE: u32 = 16;

let table: u32 = 0;
let count: u32 = 0;
let strings: u32 = 0;

/** Finds and checks the symbols module; returns the number of symbols (0 if none). */
export function loadSymbols(): u32 {
  const module = findModule("symbols");
  if (module == null || module.end < module.start + HEADER_SIZE) return 0;
  const size = module.end - module.start;
  const n = load<u32>(module.start + 4);
  const stringsSize = load<u32>(module.start + 12);
  if (load<u32>(module.start) != MAGIC) return 0;
  if (<u64>HEADER_SIZE + <u64>n * ENTRY_SIZE + stringsSize > <u64>size) return 0;
  table = module.start + HEADER_SIZE;
  count = n;
  strings = table + n * ENTRY_SIZE;
  return n;
}

@inline function entryAddress(i: u32): u64 {
  return load<u64>(table + i * ENTRY_SIZE);
}

/** Index of the symbol containing `address` (the last one at or below it), or -1. */
export function findSymbol(address: u64): i32 {
  if (count == 0 || address < entryAddress(0)) return -1;
  let low: u32 = 0;
  let high: u32 = count; // invariant: entryAddress(low) <= address < entryAddress(high)
  while (high - low > 1) {
    const middle = low + (high - low) / 2;
    if (entryAddress(middle) <= address) low = middle;
    else high = middle;
  }
  return <i32>low;
}

export function symbolAddress(index: i32): u64 {
  return entryAddress(<u32>index);
}

export function symbolName(index: i32): u32 {
  return strings + load<u32>(table + <u32>index * ENTRY_SIZE + 8);
}

export function symbolNameLength(index: i32): u32 {
  return load<u32>(table + <u32>index * ENTRY_SIZE + 12);
}
