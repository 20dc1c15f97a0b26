// Where a new program's stack ends and its mappings begin, from its
// RLIMIT_STACK, as Linux's mmap_base reckons the gap: the limit and the
// guard gap, at least 128 MiB, at most five sixths of the address space.
// The stack is one region of the soft limit's size, reserved at exec (no
// memory until touched): a later setrlimit takes effect at the next exec.
import { USER_MAP_END } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";

export const STACK_TOP: u64 = USER_MAP_END;
export const STACK_GUARD_GAP: u64 = 1 << 20; // never mapped: an overflow faults
const MIN_GAP: u64 = 128 << 20;
const MAX_GAP: u64 = USER_MAP_END / 6 * 5;
// Linux lets the arguments take a quarter of the stack limit but never
// refuses fewer than 32 pages (ARG_MAX): a stack under that still holds them.
const MIN_STACK: u64 = 32 * PAGE_SIZE;

function gapFor(limit: u64): u64 {
  const wanted = limit > MAX_GAP ? MAX_GAP : limit + STACK_GUARD_GAP;
  return min(max(wanted, MIN_GAP), MAX_GAP) & ~(<u64>PAGE_SIZE - 1);
}

/** The stack region's size for a soft RLIMIT_STACK of `limit` bytes. */
export function stackSizeFor(limit: u64): u64 {
  const pages = limit >= MAX_GAP ? MAX_GAP : (limit + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
  return min(max(pages, MIN_STACK), gapFor(limit) - STACK_GUARD_GAP);
}

/** The top of the mapping area (mmap_base) for that limit. */
export function mappingTopFor(limit: u64): u64 {
  return STACK_TOP - gapFor(limit);
}
