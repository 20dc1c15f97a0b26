// Four-level x86-64 page tables, reached through linear memory (a table's
// physical address is its linear address). Each page-table frame counts
// its entries in use in Frame.data, so unmapping can free a table the
// moment it becomes empty without scanning it. An entry in use is present,
// or a swap entry: not present, PTE_SWAP set, the slot's swap entry in the
// address bits (the CPU ignores every other bit of a non-present entry).
import { invlpg, readCr3 } from "../arch/x86_64/cpu";
import { allocPage, freePages } from "./buddy";
import { FrameState, frame, frameNumber } from "./frame";

export const PTE_PRESENT: u64 = 1 << 0;
export const PTE_WRITABLE: u64 = 1 << 1;
export const PTE_USER: u64 = 1 << 2;
export const PTE_WRITE_THROUGH: u64 = 1 << 3;
export const PTE_CACHE_DISABLE: u64 = 1 << 4;
export const PTE_ACCESSED: u64 = 1 << 5;
export const PTE_DIRTY: u64 = 1 << 6;
export const PTE_HUGE: u64 = 1 << 7; // 2 MiB leaf in a level-2 table
export const PTE_GLOBAL: u64 = 1 << 8;
export const PTE_SWAP: u64 = 1 << 9; // one of the bits the CPU leaves to software: in a non-present entry, a page in swap
export const PTE_NO_EXECUTE: u64 = 1 << 63;
export const PTE_ADDRESS: u64 = 0x000ffffffffff000;
const FLAG_BITS: u64 = PTE_NO_EXECUTE | 0xfff;

export const NOT_MAPPED: u64 = 0xffffffffffffffff;
export const HUGE_PAGE_SIZE: u64 = 2 << 20;
const PAGE: u64 = 4096;
const USER_HALF_END: u64 = 0x0000800000000000;

export const enum MapResult {
  Ok = 0,
  OutOfMemory = 1, // no frame for an intermediate table
  AlreadyMapped = 2, // a mapping (or a huge page) is in the way
}

/** Whether a leaf entry holds a swap entry (a page that is out). */
@inline export function isSwapPte(entry: u64): bool {
  return (entry & (PTE_PRESENT | PTE_SWAP)) == PTE_SWAP;
}

@inline export function swapPte(swapEntry: u32): u64 {
  return (<u64>swapEntry << 12) | PTE_SWAP;
}

@inline export function swapEntryOfPte(entry: u64): u32 {
  return <u32>(entry >> 12);
}

// The CPU may lack NX; then bit 63 is reserved and must stay clear.
let flagMask: u64 = ~<u64>0;

export function setNoExecuteSupported(supported: bool): void {
  flagMask = supported ? ~<u64>0 : ~PTE_NO_EXECUTE;
}

@inline function index(virtualAddress: u64, level: u32): u32 {
  return <u32>(virtualAddress >> (12 + 9 * (level - 1))) & 511;
}

@inline function entryAddress(table: u32, virtualAddress: u64, level: u32): u32 {
  return table + index(virtualAddress, level) * 8;
}

@inline function tableOf(entry: u64): u32 {
  return <u32>(entry & PTE_ADDRESS);
}

@inline function isKernelAddress(virtualAddress: u64): bool {
  return virtualAddress >= USER_HALF_END;
}

/** A new empty page table; its parent entry counts as a use of the parent. */
export function allocTable(): u32 {
  return allocPage(FrameState.PageTable, true);
}

@inline function adjustUsed(table: u32, delta: i32): u32 {
  const f = frame(frameNumber(table));
  f.data = <u32>(<i32>f.data + delta);
  return f.data;
}

/** Entries in use in `table` (present entries, counted as they change). */
export function tableEntriesInUse(table: u32): u32 {
  return frame(frameNumber(table)).data;
}

/** walk()'s answer when a huge page covers the address (tables are page aligned, so never a real one). */
const BLOCKED_BY_HUGE_PAGE: u32 = 1;

/**
 * The address of the entry for `virtualAddress` in the table at `level`
 * (1 = page table, 2 = page directory), creating missing tables above it
 * when `create`. Returns 0 if a table is missing (and not created) or no
 * frame was left for one; BLOCKED_BY_HUGE_PAGE if a huge page is in the way.
 */
function walk(root: u32, virtualAddress: u64, level: u32, create: bool): u32 {
  let table = root;
  let firstCreated: u32 = 0; // the highest table this walk made, undone if a lower one fails
  for (let l: u32 = 4; l > level; l--) {
    const at = entryAddress(table, virtualAddress, l);
    const entry = load<u64>(at);
    if (entry & PTE_PRESENT) {
      if (entry & PTE_HUGE) return BLOCKED_BY_HUGE_PAGE;
      table = tableOf(entry);
      continue;
    }
    if (!create) return 0;
    const child = allocTable();
    if (child == 0) {
      if (firstCreated != 0) unmakeTables(root, virtualAddress, firstCreated);
      return 0;
    }
    // Intermediate entries allow everything; the leaf decides.
    const flags = PTE_PRESENT | PTE_WRITABLE | (isKernelAddress(virtualAddress) ? 0 : PTE_USER);
    store<u64>(at, <u64>child | flags);
    adjustUsed(table, 1);
    if (firstCreated == 0) firstCreated = child;
    table = child;
  }
  return entryAddress(table, virtualAddress, level);
}

/** Frees the chain of tables starting at `first` (each with at most one entry) and unlinks it. */
function unmakeTables(root: u32, virtualAddress: u64, first: u32): void {
  let table = root;
  let l: u32 = 4;
  while (true) {
    const at = entryAddress(table, virtualAddress, l);
    const child = tableOf(load<u64>(at));
    if (child == first) {
      store<u64>(at, 0);
      adjustUsed(table, -1);
      break;
    }
    table = child;
    l--;
  }
  let doomed = first;
  while (doomed != 0) {
    l--;
    const entry = l > 1 ? load<u64>(entryAddress(doomed, virtualAddress, l)) : 0;
    freePages(doomed);
    doomed = (entry & PTE_PRESENT) != 0 ? tableOf(entry) : 0;
  }
}

// Every thread of a process runs on its address space's one root, so with
// one CPU a change needs invalidating only when that root is loaded. With
// SMP this is where the TLB shootdown goes: to each CPU whose current
// thread uses the root (README, "Threads").
@inline function flushIfActive(root: u32, virtualAddress: u64): void {
  if (isKernelAddress(virtualAddress) || <u32>(readCr3() & PTE_ADDRESS) == root) invlpg(virtualAddress);
}

function mapAt(root: u32, virtualAddress: u64, physical: u64, flags: u64, level: u32): MapResult {
  const at = walk(root, virtualAddress, level, true);
  if (at == 0) return MapResult.OutOfMemory;
  if (at == BLOCKED_BY_HUGE_PAGE || load<u64>(at) != 0) return MapResult.AlreadyMapped;
  store<u64>(at, ((physical & PTE_ADDRESS) | (flags & FLAG_BITS) | PTE_PRESENT) & flagMask);
  adjustUsed(at & ~4095, 1);
  flushIfActive(root, virtualAddress);
  return MapResult.Ok;
}

/** Maps the 4 KiB page at `virtualAddress` to `physical` with PTE_* `flags`. */
export function mapPage(root: u32, virtualAddress: u64, physical: u64, flags: u64): MapResult {
  return mapAt(root, virtualAddress, physical, flags, 1);
}

/** Maps a 2 MiB page; both addresses must be 2 MiB aligned. */
export function mapHugePage(root: u32, virtualAddress: u64, physical: u64, flags: u64): MapResult {
  assert(((virtualAddress | physical) & (HUGE_PAGE_SIZE - 1)) == 0, "mapHugePage: unaligned address");
  return mapAt(root, virtualAddress, physical, flags | PTE_HUGE, 2);
}

// tables[l - 1] = the table at level l on the path to an address (pathTo).
const path = memory.data(4 * 4, 4);

/** Records the tables down to level 1 for `virtualAddress` in `path`; false if one is missing or a huge page is in the way. */
function pathTo(root: u32, virtualAddress: u64): bool {
  let table = root;
  for (let l: u32 = 4; l >= 1; l--) {
    store<u32>(path + (l - 1) * 4, table);
    if (l == 1) return true;
    const entry = load<u64>(entryAddress(table, virtualAddress, l));
    if ((entry & PTE_PRESENT) == 0 || (entry & PTE_HUGE) != 0) return false;
    table = tableOf(entry);
  }
  return true;
}

/**
 * After entries were removed from the page table in `path`: frees it if it
 * is empty now, and each table above that empties in turn, up to but not
 * including the root; the kernel half's level-3 tables are kept, because
 * every address space shares them.
 */
function freeEmptyTables(root: u32, virtualAddress: u64): void {
  let level: u32 = 1;
  while (level < 4 && tableEntriesInUse(load<u32>(path + (level - 1) * 4)) == 0) {
    if (level == 3 && isKernelAddress(virtualAddress)) break;
    const parent = load<u32>(path + level * 4);
    freePages(load<u32>(path + (level - 1) * 4));
    store<u64>(entryAddress(parent, virtualAddress, level + 1), 0);
    adjustUsed(parent, -1);
    flushIfActive(root, virtualAddress);
    level++;
  }
}

/**
 * Removes the 4 KiB mapping at `virtualAddress` and returns its old entry
 * (0 if nothing was mapped). Tables left empty are freed (freeEmptyTables).
 */
export function unmapPage(root: u32, virtualAddress: u64): u64 {
  if (!pathTo(root, virtualAddress)) return 0;
  const table = load<u32>(path);
  const at = entryAddress(table, virtualAddress, 1);
  const old = load<u64>(at);
  if ((old & PTE_PRESENT) == 0) return 0;
  store<u64>(at, 0);
  flushIfActive(root, virtualAddress);
  adjustUsed(table, -1);
  freeEmptyTables(root, virtualAddress);
  return old;
}

/**
 * Removes every user mapping and swap entry in [start, end), which must lie
 * within one page table (2 MiB), writing the old entries to `out` (room for
 * 512) and returning how many. Frees tables left empty. The TLB is not
 * flushed: the caller flushes once for a whole range.
 */
export function unmapChunk(root: u32, start: u64, end: u64, out: u32): u32 {
  if (!pathTo(root, start)) return 0;
  const table = load<u32>(path);
  let n: u32 = 0;
  for (let at = start; at < end; at += PAGE) {
    const slot = entryAddress(table, at, 1);
    const entry = load<u64>(slot);
    if (entry == 0) continue;
    store<u64>(slot, 0);
    store<u64>(out + n * 8, entry);
    n++;
  }
  if (n != 0) {
    adjustUsed(table, -<i32>n);
    freeEmptyTables(root, start);
  }
  return n;
}

/**
 * Fork's copy of one page table's worth: the present entries and swap
 * entries for [start, end) (within one page table) of `fromRoot` are stored
 * into the same slots of `toRoot`, present ones with `clearBits` (the
 * writable bit, for copy-on-write) cleared on both sides. The slots in `toRoot` must be empty
 * (its regions are copies of the source's, which never overlap); its page
 * table is made at the first present entry. The copied entries go to `out`
 * (room for 512). Returns how many, or -1 when no frame was left for the
 * table. No TLB flush: the caller flushes once for the whole copy.
 */
export function shareChunk(fromRoot: u32, toRoot: u32, start: u64, end: u64, clearBits: u64, out: u32): i32 {
  const from = pageTableFor(fromRoot, start, false);
  if (from == 0) return 0;
  let to: u32 = 0;
  let n: u32 = 0;
  const last = index(start, 1) + <u32>((end - start) / PAGE);
  for (let slot = index(start, 1); slot < last; slot++) {
    let entry = load<u64>(from + slot * 8);
    if (entry == 0) continue;
    if (to == 0) {
      to = pageTableFor(toRoot, start, true);
      if (to == 0) return -1;
    }
    if ((entry & PTE_PRESENT) != 0 && (entry & clearBits) != 0) {
      entry &= ~clearBits;
      store<u64>(from + slot * 8, entry);
    }
    store<u64>(to + slot * 8, entry);
    store<u64>(out + n * 8, entry);
    n++;
  }
  if (n != 0) assert(adjustUsed(to, <i32>n) <= 512, "shareChunk: target slots were not empty");
  return <i32>n;
}

/**
 * mremap's move of one step: the entries in use of `pages` slots of page
 * table `fromTable`, from the slot for `from` on, go to the slots for `to`
 * in `toTable`, which must be empty. A frame changes address, not holder,
 * so only the tables' entry counts change. Returns how many moved. Neither
 * flushes the TLB nor frees a table: a table emptied here may be the
 * destination of a later step of the same move (freeTableIfEmpty, after).
 */
export function moveEntries(fromTable: u32, from: u64, toTable: u32, to: u64, pages: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < pages; i++) {
    const source = entryAddress(fromTable, from + <u64>i * PAGE, 1);
    const entry = load<u64>(source);
    if (entry == 0) continue;
    const target = entryAddress(toTable, to + <u64>i * PAGE, 1);
    assert(load<u64>(target) == 0, "moveEntries: target slot in use");
    store<u64>(target, entry);
    store<u64>(source, 0);
    n++;
  }
  if (n != 0) {
    adjustUsed(toTable, <i32>n);
    adjustUsed(fromTable, -<i32>n);
  }
  return n;
}

/** Frees the page table covering `virtualAddress` if it has no entry left, and each table above it that empties in turn. */
export function freeTableIfEmpty(root: u32, virtualAddress: u64): void {
  if (pathTo(root, virtualAddress)) freeEmptyTables(root, virtualAddress);
}

/** Replaces the flags of an existing 4 KiB mapping; false if none. */
export function protectPage(root: u32, virtualAddress: u64, flags: u64): bool {
  const at = walk(root, virtualAddress, 1, false);
  if (at <= BLOCKED_BY_HUGE_PAGE) return false;
  const entry = load<u64>(at);
  if ((entry & PTE_PRESENT) == 0) return false;
  store<u64>(at, ((entry & PTE_ADDRESS) | (flags & FLAG_BITS) | PTE_PRESENT) & flagMask);
  flushIfActive(root, virtualAddress);
  return true;
}

/** The leaf entry mapping `virtualAddress` (4 KiB or 2 MiB), or 0. Never allocates. */
export function leafEntry(root: u32, virtualAddress: u64): u64 {
  let table = root;
  for (let l: u32 = 4; l >= 1; l--) {
    const entry = load<u64>(entryAddress(table, virtualAddress, l));
    if ((entry & PTE_PRESENT) == 0) return 0;
    if (l == 1 || (l == 2 && (entry & PTE_HUGE) != 0)) return entry;
    table = tableOf(entry);
  }
  return 0;
}

/** The physical address `virtualAddress` maps to, or NOT_MAPPED. Never allocates. */
export function translate(root: u32, virtualAddress: u64): u64 {
  let table = root;
  for (let l: u32 = 4; l >= 1; l--) {
    const entry = load<u64>(entryAddress(table, virtualAddress, l));
    if ((entry & PTE_PRESENT) == 0) return NOT_MAPPED;
    // Bit 7 means a huge page only in a level-2 entry (in a 4 KiB leaf it is PAT).
    if (l == 2 && (entry & PTE_HUGE) != 0) return (entry & PTE_ADDRESS & ~(HUGE_PAGE_SIZE - 1)) | (virtualAddress & (HUGE_PAGE_SIZE - 1));
    if (l == 1) return (entry & PTE_ADDRESS) | (virtualAddress & 4095);
    table = tableOf(entry);
  }
  return NOT_MAPPED;
}

/**
 * The first address at or after `virtualAddress` that could be mapped: if
 * a table on the way is missing, the start of the next range that table
 * would cover. Lets range walks skip empty space in big steps.
 */
export function nextPossiblyMapped(root: u32, virtualAddress: u64): u64 {
  let table = root;
  for (let l: u32 = 4; l > 1; l--) {
    const entry = load<u64>(entryAddress(table, virtualAddress, l));
    if ((entry & PTE_PRESENT) == 0) {
      const span: u64 = <u64>1 << (12 + 9 * (l - 1));
      return (virtualAddress + span) & ~(span - 1);
    }
    if (entry & PTE_HUGE) return virtualAddress;
    table = tableOf(entry);
  }
  return virtualAddress;
}

/** Replaces the frame and flags of an existing 4 KiB mapping; false if none. */
export function remapPage(root: u32, virtualAddress: u64, physical: u64, flags: u64): bool {
  const at = walk(root, virtualAddress, 1, false);
  if (at <= BLOCKED_BY_HUGE_PAGE || (load<u64>(at) & PTE_PRESENT) == 0) return false;
  store<u64>(at, ((physical & PTE_ADDRESS) | (flags & FLAG_BITS) | PTE_PRESENT) & flagMask);
  flushIfActive(root, virtualAddress);
  return true;
}

/**
 * The level-1 table (page table) covering `virtualAddress`, created with
 * its parents when `create`; 0 if missing, blocked by a huge page, or out
 * of memory. For walks that handle 512 entries at a time (fork).
 */
export function pageTableFor(root: u32, virtualAddress: u64, create: bool): u32 {
  const at = walk(root, virtualAddress, 1, create);
  return at <= BLOCKED_BY_HUGE_PAGE ? 0 : at & ~4095;
}

/** Stores a new present entry into an empty slot of `table` (a page table from pageTableFor). */
export function fillEmptyEntry(table: u32, virtualAddress: u64, entry: u64): void {
  const at = entryAddress(table, virtualAddress, 1);
  assert(load<u64>(at) == 0, "fillEmptyEntry: slot in use");
  store<u64>(at, entry & flagMask);
  adjustUsed(table, 1);
}

@inline export function pageTableIndex(virtualAddress: u64): u32 {
  return index(virtualAddress, 1);
}

/** The swap entry's PTE at `virtualAddress` (isSwapPte), or 0 when the page is not out. Never allocates. */
export function swapPteAt(root: u32, virtualAddress: u64): u64 {
  const at = walk(root, virtualAddress, 1, false);
  if (at <= BLOCKED_BY_HUGE_PAGE) return 0;
  const entry = load<u64>(at);
  return isSwapPte(entry) ? entry : 0;
}

/**
 * Replaces the entry at `virtualAddress` by `entry` if it is still
 * `expected` (a page going out: its mapping becomes a swap entry; a page
 * coming in: the swap entry becomes a mapping). The table's count of
 * entries in use stays. Returns whether it was replaced.
 */
export function replaceEntry(root: u32, virtualAddress: u64, expected: u64, entry: u64): bool {
  const at = walk(root, virtualAddress, 1, false);
  if (at <= BLOCKED_BY_HUGE_PAGE || load<u64>(at) != expected) return false;
  store<u64>(at, entry & flagMask);
  if ((expected & PTE_PRESENT) != 0) flushIfActive(root, virtualAddress);
  return true;
}

/** A present leaf entry for `physical` with PTE_* `flags`, as mapPage would store it. */
@inline export function presentEntry(physical: u32, flags: u64): u64 {
  return ((<u64>physical & PTE_ADDRESS) | (flags & FLAG_BITS) | PTE_PRESENT) & flagMask;
}

/** The raw leaf entry at `virtualAddress` of a 4 KiB page (present, swap, or 0). Never allocates. */
export function rawEntry(root: u32, virtualAddress: u64): u64 {
  const at = walk(root, virtualAddress, 1, false);
  return at <= BLOCKED_BY_HUGE_PAGE ? 0 : load<u64>(at);
}
