// Where exec places a new program's pieces: randomised as Linux's ASLR
// (randomize_va_space 2) randomises them, or fixed when the kernel command
// line says `norandmaps`. Randomised, page-grained:
//   - the stack's top, up to 16 GiB below the top of user space (Linux's
//     STACK_RND_MASK), and the first stack pointer 0..8 KiB below the
//     strings, 16-byte aligned (arch_align_stack);
//   - the mmap area's top, below the stack's lowest possible bottom and its
//     guard gap, by up to 1 TiB (28 bits of pages: mmap_rnd_bits); the
//     program interpreter, a static PIE, the vDSO and mmap without an
//     address go there, top-down;
//   - a PIE that names an interpreter: at two thirds of user space
//     (ELF_ET_DYN_BASE) plus up to 1 TiB;
//   - the heap: up to 1 GiB above the page after the program's end (or
//     above ELF_ET_DYN_BASE for a static PIE).
// Fixed, the stack ends at the top of user space, the mmap area under it,
// a PIE at ELF_ET_DYN_BASE, the heap right after the program; a non-PIE
// (ET_EXEC) program is always at its own addresses. The numbers come from
// lib/random.ts. RLIMIT_STACK sizes the stack (one region, reserved and
// untouched until used: a later setrlimit takes effect at the next exec)
// and, as Linux's mmap_base reckons it, the gap above the mmap area: the
// limit, the guard gap and the stack's random range, at least 128 MiB, at
// most five sixths of user space.
import { randomBelow } from "../lib/random";
import { STACK_GUARD_GAP, STACK_TOP, USER_MAP_END } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";

const STACK_RANDOM_PAGES: u64 = 0x400000; // 16 GiB
const MMAP_RANDOM_PAGES: u64 = 1 << 28; // 1 TiB
const HEAP_RANDOM_PAGES: u64 = (1 << 30) / PAGE_SIZE; // 1 GiB
const STACK_POINTER_RANDOM_BYTES: u64 = 8192;
/** Linux's ELF_ET_DYN_BASE for x86-64: a PIE with an interpreter is loaded from here. */
export const ELF_ET_DYN_BASE: u64 = USER_MAP_END / 3 * 2;

let randomised = true;

/** norandmaps on the kernel command line turns randomisation off (main.ts). */
export function setLayoutRandomised(on: bool): void {
  randomised = on;
}

@inline function randomPages(pages: u64): u64 {
  return randomised ? randomBelow(pages) * PAGE_SIZE : 0;
}

/** The top of a new program's stack. */
export function chooseStackTop(): u64 {
  return STACK_TOP - randomPages(STACK_RANDOM_PAGES);
}

/** How far below its strings the stack's tables start (the caller aligns down to 16). */
export function chooseStackPointerOffset(): u64 {
  return randomised ? randomBelow(STACK_POINTER_RANDOM_BYTES) : 0;
}

const MIN_GAP: u64 = 128 << 20;
const MAX_GAP: u64 = USER_MAP_END / 6 * 5;
// Linux lets the arguments take a quarter of the stack limit but never
// refuses fewer than 32 pages (ARG_MAX): a stack under that still holds them.
const MIN_STACK: u64 = 32 * PAGE_SIZE;

/** The space from the top of user space down to the mmap area, for a soft RLIMIT_STACK of `limit`. */
function gapFor(limit: u64): u64 {
  const padding = STACK_GUARD_GAP + (randomised ? STACK_RANDOM_PAGES * PAGE_SIZE : 0);
  const wanted = limit >= MAX_GAP ? MAX_GAP : limit + padding;
  return min(max(wanted, MIN_GAP), MAX_GAP) & ~(<u64>PAGE_SIZE - 1);
}

/** The stack region's size for a soft RLIMIT_STACK of `limit` bytes: it never reaches the mmap area's gap. */
export function stackSizeFor(limit: u64): u64 {
  const size = limit >= MAX_GAP ? MAX_GAP : (limit + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
  return min(max(size, MIN_STACK), gapFor(limit) - STACK_GUARD_GAP - (randomised ? STACK_RANDOM_PAGES * PAGE_SIZE : 0));
}

/**
 * The top of the mmap area: under the lowest place chooseStackTop can
 * pick for the stack and the stack's limit, so that the two never meet.
 */
export function chooseMmapTop(stackLimit: u64): u64 {
  return STACK_TOP - gapFor(stackLimit) - randomPages(MMAP_RANDOM_PAGES);
}

/** Where a PIE that names an interpreter starts, before its alignment is applied. */
export function choosePieBase(): u64 {
  return ELF_ET_DYN_BASE + randomPages(MMAP_RANDOM_PAGES);
}

/**
 * Where the heap starts for a program whose highest segment ends at
 * `end` (page aligned): a page further when randomising, as Linux leaves
 * a gap after .bss. A relocatable program without an interpreter (a
 * static PIE, or a loader run directly) lies in the mmap area, where a
 * heap would soon meet other mappings: its heap goes where a PIE would
 * have been, at ELF_ET_DYN_BASE, as on Linux.
 */
export function chooseHeapStart(end: u64, inMmapArea: bool): u64 {
  const start = inMmapArea ? (ELF_ET_DYN_BASE + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1) : randomised ? end + PAGE_SIZE : end;
  return start + randomPages(HEAP_RANDOM_PAGES);
}
