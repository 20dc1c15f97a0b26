// A user address space: a page-table root whose kernel half is shared with
// every other address space, and the sorted set of its regions.
import { allocPage, freeFrameRun, freePages } from "./buddy";
import { FRAME_SWAP_CACHE, Frame, FrameState, PAGE_SIZE, frame, frameNumber } from "./frame";
import { releaseSwapEntry } from "./swap_area";
import { freeIfUnused, slotReleased } from "./swap_in";
import { kernelPageTableRoot } from "./kernel_map";
import {
  HUGE_PAGE_SIZE, PTE_ACCESSED, PTE_ADDRESS, PTE_DIRTY, PTE_PRESENT, PTE_WRITABLE, allocTable, leafEntry, nextPossiblyMapped,
  protectPage, swapEntryOfPte, unmapChunk, unmapPage,
} from "./page_table";
import { readCr3, writeCr3 } from "../arch/x86_64/cpu";
import { REGION_SHARED, Region, RegionSet, clearRegions, regionAt, removeRange, splitAt } from "./region";
import { MemoryObject, releaseObject, retainObject } from "./memory_object";
import { kfree, kmalloc } from "./slab";

export const USER_END: u64 = 0x0000800000000000; // the end of the canonical user half
// Linux's TASK_SIZE: no region reaches the last page below the canonical
// hole, so a syscall at its very end cannot return to a non-canonical
// address (sysret/iret there faults in kernel mode on Intel CPUs).
export const USER_MAP_END: u64 = 0x00007ffffffff000;
export const USER_START: u64 = 0x10000; // nothing is ever mapped below (null pointers fault)
// The layout of a process when nothing is randomised (proc/exec_layout.ts
// moves the stack and the mmap area): the stack's 8 MiB end at the top of
// user space, and mappings placed without an address go below it and a
// gap that is never mapped, so that an overflow faults.
export const STACK_TOP: u64 = USER_MAP_END;
export const STACK_SIZE: u64 = 8 << 20; // like Linux's default RLIMIT_STACK
export const STACK_GUARD_GAP: u64 = 1 << 20;
export const MMAP_TOP: u64 = STACK_TOP - STACK_SIZE - STACK_GUARD_GAP;

/**
 * One address space, with its page-fault counts.
 *
 *   0 root  4 residentPages  8 regions (RegionSet, 12 bytes)
 *  20 zeroPageMaps  24 demandZeroFaults  28 fileFaults  32 cowCopies
 *  36 cowReuses (write faults that found the frame theirs alone: no copy)
 *  40 brkStart(u64)  48 brkEnd(u64)  56 sharedAtFork (pages shared with the parent)
 *  60 program (the MemoryObject of the file it runs, counted in its executors; 0 before exec)
 *  64 peakResidentPages  68 newRegionFlags: flags every new mapping gets (REGION_LOCKED after
 *     mlockall(MCL_FUTURE): Linux's def_flags)
 *  72 peakPages(u64): with peakResidentPages, the most pages mapped and resident, noted (as Linux's
 *     hiwater_vm and hiwater_rss) just before either shrinks; the current count may be higher
 *  80 argStart(u64)  88 argEnd(u64)  96 envStart(u64)  104 envEnd(u64): where exec put the
 *     argument and environment strings (Linux's mm->arg_start...), for /proc/PID/cmdline and environ
 * 112 users (processes running in it: more than one only while a CLONE_VM child runs before exec)
 * 120 mmapTop(u64): mappings placed by the kernel go below it, top-down (Linux's mmap_base; exec may randomise it)
 * 128 auxv(u64): where exec put the auxiliary vector on the stack (a core dump's NT_AUXV reads it there)
 * 136 swapPages: its page-table entries that are swap entries (VmSwap)
 * 140 nextSpace  144 previousSpace: every address space, for swapoff's walk (Linux's mmlist)
 */
@unmanaged export class AddressSpace {
  root: u32;
  residentPages: u32;
  regionItems: u32;
  regionCount: u32;
  regionCapacity: u32;
  zeroPageMaps: u32;
  demandZeroFaults: u32;
  fileFaults: u32;
  cowCopies: u32;
  cowReuses: u32;
  brkStart: u64;
  brkEnd: u64;
  sharedAtFork: u32;
  program: MemoryObject | null;
  peakResidentPages: u32;
  newRegionFlags: u32;
  peakPages: u64;
  argStart: u64;
  argEnd: u64;
  envStart: u64;
  envEnd: u64;
  users: u32;
  mmapTop: u64;
  auxv: u64;
  swapPages: u32;
  nextSpace: u32;
  previousSpace: u32;
}
const ADDRESS_SPACE_SIZE: u32 = 148;

let firstSpace: u32 = 0;

/** The first of every address space (a list through nextSpace), for walks over all of them. */
export function firstAddressSpace(): u32 {
  return firstSpace;
}

@inline export function regionsOf(space: AddressSpace): RegionSet {
  return changetype<RegionSet>(changetype<u32>(space) + 8);
}

const KERNEL_HALF_FIRST: u32 = 256;

/** A new, empty address space; null when out of memory. */
export function createAddressSpace(): AddressSpace | null {
  const address = kmalloc(ADDRESS_SPACE_SIZE);
  if (address == 0) return null;
  const root = allocTable();
  if (root == 0) {
    kfree(address);
    return null;
  }
  const kernelRoot = kernelPageTableRoot();
  if (kernelRoot != 0) { // 0 only before the kernel's own tables exist (and in unit tests)
    memory.copy(root + KERNEL_HALF_FIRST * 8, kernelRoot + KERNEL_HALF_FIRST * 8, (512 - KERNEL_HALF_FIRST) * 8);
  }
  const space = changetype<AddressSpace>(address);
  space.root = root;
  space.users = 1;
  space.mmapTop = MMAP_TOP;
  space.nextSpace = firstSpace;
  if (firstSpace != 0) changetype<AddressSpace>(firstSpace).previousSpace = address;
  firstSpace = address;
  return space;
}

// The one zero page every demand-zero read maps. It is never reference
// counted or freed: its state, ZeroPage, is what marks it.
let zeroPageAddress: u32 = 0;

export function zeroPage(): u32 {
  if (zeroPageAddress == 0) zeroPageAddress = allocPage(FrameState.ZeroPage, true);
  return zeroPageAddress;
}

/**
 * Drops one hold on a user frame (a mapping's when `mapped`, else a bare
 * reference); frees the frame when no holder is left. The zero page is
 * never counted.
 */
export function releaseUserFrame(physical: u32, mapped: bool): void {
  const f: Frame = frame(frameNumber(physical));
  if (f.state == FrameState.ZeroPage) return;
  assert(f.refCount > 0 && (!mapped || f.mapCount > 0), "releaseUserFrame: frame has no holder");
  if (mapped) f.mapCount--;
  f.refCount--;
  if (f.refCount == 0) freePages(physical);
  else if ((f.flags & FRAME_SWAP_CACHE) != 0) freeIfUnused(physical);
}

const unmapped = memory.data(512 * 8, 8); // the entries one page table gave up

/** A swap entry leaves a page table: its slot loses a holder (and, with none left, its cached page). */
function releaseSwapPte(space: AddressSpace, entry: u64): void {
  const swapEntry = swapEntryOfPte(entry);
  space.swapPages--;
  if (releaseSwapEntry(swapEntry) == 0) slotReleased(swapEntry);
}

/**
 * Drops the mappings and swap entries of the `n` entries in `unmapped`.
 * Frames left with no holder are freed together, a run of consecutive
 * frames of one state at a time: anonymous memory touched in order
 * usually sits in such runs.
 */
function releaseUnmapped(space: AddressSpace, n: u32): void {
  let runStart: u32 = 0;
  let runLength: u32 = 0;
  let runState: u8 = 0;
  let released: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const entry = load<u64>(unmapped + i * 8);
    if ((entry & PTE_PRESENT) == 0) {
      releaseSwapPte(space, entry);
      continue;
    }
    const physical = <u32>(entry & PTE_ADDRESS);
    const pfn = frameNumber(physical);
    const f: Frame = frame(pfn);
    if (f.state == FrameState.ZeroPage) continue;
    released++;
    assert(f.refCount > 0 && f.mapCount > 0, "releaseUnmapped: frame has no holder");
    f.mapCount--;
    if (--f.refCount != 0) {
      if ((f.flags & FRAME_SWAP_CACHE) != 0) freeIfUnused(physical);
      continue;
    }
    if (runLength != 0 && pfn == runStart + runLength && f.state == runState) {
      runLength++;
      continue;
    }
    if (runLength != 0) freeFrameRun(runStart, runLength);
    runStart = pfn;
    runState = f.state;
    runLength = 1;
  }
  if (runLength != 0) freeFrameRun(runStart, runLength);
  if (space.residentPages > space.peakResidentPages) space.peakResidentPages = space.residentPages;
  space.residentPages -= released;
}

/**
 * Unmaps [start, end) in the page tables a page table (2 MiB) at a time,
 * releasing frames and empty tables, with one TLB flush at the end.
 */
export function unmapUserRange(space: AddressSpace, start: u64, end: u64): void {
  let at = start;
  let any = false;
  while (at < end) {
    const next = nextPossiblyMapped(space.root, at);
    if (next != at) {
      at = next;
      continue;
    }
    const chunkEnd = min(end, (at | (HUGE_PAGE_SIZE - 1)) + 1);
    const n = unmapChunk(space.root, at, chunkEnd, <u32>unmapped);
    releaseUnmapped(space, n);
    any = any || n != 0;
    at = chunkEnd;
  }
  // Inactive address spaces have no user entries in the TLB (no PCIDs).
  if (any && <u32>(readCr3() & PTE_ADDRESS) == space.root) writeCr3(readCr3());
}

/**
 * Truncation: unmaps, from every address space, the pages of `object` at
 * offsets from `offset` (page-aligned) on, private copies included, as
 * Linux does; touching them again is then a bus error.
 */
export function unmapObjectFrom(object: MemoryObject, offset: u64): void {
  for (let at = object.mappings; at != 0; at = changetype<Region>(at).nextMapping) {
    const region = changetype<Region>(at);
    const regionEnd = region.fileOffset + (region.end - region.start);
    if (offset >= regionEnd) continue;
    const start = offset > region.fileOffset ? region.start + (offset - region.fileOffset) : region.start;
    unmapUserRange(changetype<AddressSpace>(region.space), start, region.end);
  }
}

/**
 * Makes every shared mapping of page `index` of `object` (frame `page`)
 * read-only, before the page is written back: the next store through any
 * of them faults and dirties the page again, so no store is lost to the
 * writeback (Linux's page_mkclean). Private mappings hold copies, or map
 * the page read-only already.
 */
export function writeProtectObjectPage(object: MemoryObject, index: u32, page: u32): void {
  const offset = <u64>index * PAGE_SIZE;
  for (let at = object.mappings; at != 0; at = changetype<Region>(at).nextMapping) {
    const region = changetype<Region>(at);
    if ((region.flags & REGION_SHARED) == 0 || offset < region.fileOffset) continue;
    const address = region.start + (offset - region.fileOffset);
    if (address >= region.end) continue;
    const root = changetype<AddressSpace>(region.space).root;
    const entry = leafEntry(root, address);
    if ((entry & PTE_PRESENT) == 0 || (entry & PTE_WRITABLE) == 0 || <u32>(entry & PTE_ADDRESS) != page) continue;
    protectPage(root, address, entry & ~(PTE_WRITABLE | PTE_DIRTY));
  }
}

/**
 * Whether any page table mapping page `index` of `object` (frame `page`)
 * saw an access since the last look: the accessed bits, cleared as they
 * are read (Linux's page_referenced, through the file's reverse map).
 */
export function testAndClearAccessed(object: MemoryObject, index: u32, page: u32): bool {
  const offset = <u64>index * PAGE_SIZE;
  let accessed = false;
  for (let at = object.mappings; at != 0; at = changetype<Region>(at).nextMapping) {
    const region = changetype<Region>(at);
    if (offset < region.fileOffset || region.start + (offset - region.fileOffset) >= region.end) continue;
    const address = region.start + (offset - region.fileOffset);
    const root = changetype<AddressSpace>(region.space).root;
    const entry = leafEntry(root, address);
    if ((entry & PTE_PRESENT) == 0 || <u32>(entry & PTE_ADDRESS) != page || (entry & PTE_ACCESSED) == 0) continue;
    protectPage(root, address, entry & ~PTE_ACCESSED);
    accessed = true;
  }
  return accessed;
}

/**
 * Removes every mapping of page `index` of `object` (frame `page`), so
 * that reclaim can give the page up; the next touch faults it back in.
 * A store through a writable mapping was already marked in the page
 * (dirty), so nothing is lost.
 */
export function unmapCachePage(object: MemoryObject, index: u32, page: u32): void {
  const offset = <u64>index * PAGE_SIZE;
  for (let at = object.mappings; at != 0; at = changetype<Region>(at).nextMapping) {
    const region = changetype<Region>(at);
    if (offset < region.fileOffset || region.start + (offset - region.fileOffset) >= region.end) continue;
    const address = region.start + (offset - region.fileOffset);
    const space = changetype<AddressSpace>(region.space);
    const entry = leafEntry(space.root, address);
    if ((entry & PTE_PRESENT) == 0 || <u32>(entry & PTE_ADDRESS) != page) continue;
    unmapPage(space.root, address);
    releaseUserFrame(page, true);
    space.residentPages--;
  }
}

/** Pages of the regions of `space` (Linux's total_vm). */
export function mappedPages(space: AddressSpace): u64 {
  const regions = regionsOf(space);
  let pages: u64 = 0;
  for (let i: u32 = 0; i < regions.count; i++) {
    const region = regionAt(regions, i);
    pages += (region.end - region.start) / PAGE_SIZE;
  }
  return pages;
}

/** Removes regions and mappings in [start, end) (munmap). False if out of memory. */
export function unmapRegions(space: AddressSpace, start: u64, end: u64): bool {
  const pages = mappedPages(space);
  if (pages > space.peakPages) space.peakPages = pages;
  // Split first (the only step that can fail), then drop the mappings before
  // the regions: a shared object frees its pages when its last region goes.
  const regions = regionsOf(space);
  if (!splitAt(regions, start) || !splitAt(regions, end)) return false;
  unmapUserRange(space, start, end);
  return removeRange(regions, start, end);
}

/** Records the file the space runs (exec, fork), holding it and moving the executor counts. */
export function setProgram(space: AddressSpace, program: MemoryObject | null): void {
  const old = space.program;
  if (program != null) {
    retainObject(program);
    program.executors++;
  }
  space.program = program;
  if (old != null) {
    old.executors--;
    releaseObject(old);
  }
}

/** One more process runs in `space` (clone with CLONE_VM). */
export function retainAddressSpace(space: AddressSpace): AddressSpace {
  space.users++;
  return space;
}

/** A process leaves `space` (exit or exec); the last one to leave frees it. */
export function leaveAddressSpace(space: AddressSpace): void {
  assert(space.users > 0, "leaveAddressSpace: no user left");
  if (--space.users == 0) destroyAddressSpace(space);
}

/** Frees everything the address space holds, then the record itself. */
export function destroyAddressSpace(space: AddressSpace): void {
  if (space.previousSpace != 0) changetype<AddressSpace>(space.previousSpace).nextSpace = space.nextSpace;
  else firstSpace = space.nextSpace;
  if (space.nextSpace != 0) changetype<AddressSpace>(space.nextSpace).previousSpace = space.previousSpace;
  setProgram(space, null);
  unmapUserRange(space, USER_START, USER_END);
  clearRegions(regionsOf(space));
  freePages(space.root);
  kfree(changetype<u32>(space));
}
