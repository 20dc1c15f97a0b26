// User page faults, one handler per kind (in the manner of SerenityOS's
// Region.cpp): demand-zero, file-backed, and write to a read-only page
// (zero page or copy-on-write); each
// answers with a FaultResponse. Kernel writes into user memory come here
// too (user_copy.ts), so they fault pages in exactly as the program would.
import { copyPage, invlpg } from "../arch/x86_64/cpu";
import { AddressSpace, regionsOf, releaseUserFrame, zeroPage } from "./address_space";
import {
  READ_AHEAD_MAX, findCachedPage, findReadyPage, getCachedPage, getCachedPageAhead, markPageAccessed, markPageDirty,
} from "./page_cache";
import { allocPage } from "./buddy";
import { FRAME_SWAP_CACHE, FRAME_WRITEBACK, Frame, FrameState, PAGE_SIZE, frame, frameNumber } from "./frame";
import {
  MapResult, PTE_ADDRESS, PTE_NO_EXECUTE, PTE_PRESENT, PTE_USER, PTE_WRITABLE, fillEmptyEntry, isSwapPte, mapPage,
  pageTableFor, pageTableIndex, presentEntry, rawEntry, remapPage, replaceEntry, swapEntryOfPte,
} from "./page_table";
import { setAnonymousRmap } from "./anon_family";
import { waitForMemory } from "./balance";
import { releaseSwapEntry, swapCount } from "./swap_area";
import { removeFromSwapCache, swapEntryOf } from "./swap_cache";
import { getSwapPage, releaseSwapPage, waitForSwapWrite } from "./swap_in";
import { MemoryObject, OBJECT_READS_SLEEP } from "./memory_object";

const ENOMEM: i64 = 12;
import { PROT_EXEC, PROT_READ, PROT_WRITE, REGION_FILE, REGION_SHARED, Region, findRegion } from "./region";

export const enum FaultResponse {
  Continue = 0, // resolved: retry the access
  Kill = 1, // no region, or the region forbids this access: SIGSEGV
  OutOfMemory = 2, // no frame for the page
  BusError = 3, // a page of a mapped object past its end (a file truncated or shorter than the mapping): SIGBUS
  Forbidden = 4, // a region is there but does not allow this access: SIGSEGV (SEGV_ACCERR, where Kill is SEGV_MAPERR)
  Retry = 5, // the handler slept for a disk read: the regions may have changed meanwhile, so the fault is taken again
}

/** What a page fault asks for (x86 page-fault error code bits). */
export const FAULT_PRESENT: u32 = 1;
export const FAULT_WRITE: u32 = 2;
export const FAULT_USER: u32 = 4;
export const FAULT_FETCH: u32 = 16;

// System-wide counts, for /proc-style reports and benchmarks.
export let zeroPageMapsTotal: u64 = 0;
export let demandZeroFaultsTotal: u64 = 0;
export let fileFaultsTotal: u64 = 0;
export let cowCopiesTotal: u64 = 0;
export let cowReusesTotal: u64 = 0;
export let swapInFaultsTotal: u64 = 0; // faults that mapped a page from swap (read in, or found in the swap cache)

/**
 * Page-table flags for a user page of `region`. A PROT_NONE page stays
 * mapped (its contents survive a later mprotect) but without the user bit,
 * so every user access faults and is refused.
 */
export function pageFlags(region: Region, writable: bool): u64 {
  const user = (region.protection & (PROT_READ | PROT_WRITE | PROT_EXEC)) != 0 ? PTE_USER : 0;
  return user | (writable ? PTE_WRITABLE : 0) | ((region.protection & PROT_EXEC) != 0 ? 0 : PTE_NO_EXECUTE);
}

function permits(region: Region, access: u32): bool {
  if (access & FAULT_FETCH) return (region.protection & PROT_EXEC) != 0;
  if (access & FAULT_WRITE) return (region.protection & PROT_WRITE) != 0;
  return (region.protection & (PROT_READ | PROT_WRITE | PROT_EXEC)) != 0;
}

/**
 * Maps a frame the caller just allocated (reference count 1) as this
 * mapping's. The mapping may need page tables of its own; when there is no
 * frame left for them, the new frame is given back, so a fault that fails
 * half-way holds nothing.
 */
function mapNewFrame(space: AddressSpace, region: Region, page: u64, physical: u32, writable: bool): FaultResponse {
  if (mapPage(space.root, page, physical, pageFlags(region, writable)) != MapResult.Ok) {
    releaseUserFrame(physical, false);
    return FaultResponse.OutOfMemory;
  }
  const f = frame(frameNumber(physical));
  f.mapCount = 1;
  setAnonymousRmap(f, region, changetype<u32>(space), page);
  space.residentPages++;
  return FaultResponse.Continue;
}

/**
 * Zero-page fault-around: a read of untouched anonymous memory also maps
 * the zero page over its untouched neighbours in the same aligned window
 * (the faultaround= size), so a scan of fresh memory takes one fault per
 * window instead of one per page. It costs nothing: the zero page is never
 * counted, and a later write faults exactly as it would have.
 */
function zeroFaultAround(space: AddressSpace, region: Region, page: u64, zero: u32): void {
  if ((region.flags & (REGION_FILE | REGION_SHARED)) != 0 || !aroundWindow(space, region, page)) return;
  const flags = pageFlags(region, false) | PTE_PRESENT;
  for (let at = aroundStart; at < aroundEnd; at += PAGE_SIZE) {
    if (load<u64>(aroundTable + pageTableIndex(at) * 8) != 0) continue;
    fillEmptyEntry(aroundTable, at, <u64>zero | flags);
    faultAroundMapsTotal++;
  }
}

/** Anonymous memory never touched: reads share the zero page, writes get a zeroed frame. */
function handleZeroFault(space: AddressSpace, region: Region, page: u64, write: bool): FaultResponse {
  if (!write) {
    const zero = zeroPage();
    if (zero == 0) return FaultResponse.OutOfMemory;
    if (mapPage(space.root, page, zero, pageFlags(region, false)) != MapResult.Ok) return FaultResponse.OutOfMemory;
    space.zeroPageMaps++;
    zeroPageMapsTotal++;
    zeroFaultAround(space, region, page, zero);
    return FaultResponse.Continue;
  }
  const physical = allocPage(FrameState.Anonymous, true);
  if (physical == 0) return FaultResponse.OutOfMemory;
  const response = mapNewFrame(space, region, page, physical, true);
  if (response == FaultResponse.Continue) {
    space.demandZeroFaults++;
    demandZeroFaultsTotal++;
  }
  return response;
}

/**
 * A page of a file mapping (or any memory object), through the page cache.
 * Reads map the cached frame itself, shared with every other mapper; a
 * write to a private mapping gets its own copy at once, and a write to a
 * shared one writes the object (whose page is then dirty). The page where
 * an ELF segment's file bytes end and its .bss begins is always a private
 * copy with the tail zeroed: the cached page holds whatever follows in the
 * file. A page wholly past the object's end is a bus error, as on Linux.
 */
/**
 * Pages a fault that reads from a disk reads in all, its own and those after
 * it, at least (Linux reads 32 around every fault; fewer here, so that a
 * lazily run program reads little more than it touches: fault-around then
 * maps those already read, for nothing).
 */
const FAULT_READ_AHEAD: u32 = 4;

/**
 * How far a fault at page `index` reads: twice the run of cached pages just
 * before it, between FAULT_READ_AHEAD and READ_AHEAD_MAX, so that a mapping
 * walked in order reads 4, 8, 16, then 32 pages a request (Linux's context
 * read-ahead counts the cached pages before a miss so; it needs no state).
 */
function faultWindow(object: MemoryObject, index: u32): u32 {
  let behind: u32 = 0;
  while (behind < READ_AHEAD_MAX / 2 && behind < index && findCachedPage(object, index - behind - 1) != 0) behind++;
  return min(max(behind * 2, FAULT_READ_AHEAD), READ_AHEAD_MAX);
}

/**
 * A file page that must come from a disk: read it into the cache (the
 * process sleeps meanwhile, others run), and have the fault taken again,
 * since another thread may have changed the mappings while this one slept.
 * A page the disk cannot give is a bus error, as on Linux.
 */
function readPageAndRetry(object: MemoryObject, index: u32): FaultResponse {
  const got = getCachedPageAhead(object, index, faultWindow(object, index));
  if (got < 0) return got == -ENOMEM ? FaultResponse.OutOfMemory : FaultResponse.BusError;
  releaseUserFrame(<u32>got, false);
  return FaultResponse.Retry;
}

function handleFileFault(space: AddressSpace, region: Region, page: u64, write: bool): FaultResponse {
  const object = changetype<MemoryObject>(region.object);
  const offsetInRegion = page - region.start;
  const offset = region.fileOffset + offsetInRegion;
  if (offset >= object.size) return FaultResponse.BusError;
  const index = <u32>(offset / PAGE_SIZE);
  if ((object.flags & OBJECT_READS_SLEEP) != 0 && findReadyPage(object, index) == 0) return readPageAndRetry(object, index);
  const got = getCachedPage(object, index);
  if (got < 0) return got == -ENOMEM ? FaultResponse.OutOfMemory : FaultResponse.BusError;
  const cached = <u32>got;
  markPageAccessed(cached);
  const fileBytesHere = region.fileBytes - offsetInRegion;
  const straddles = fileBytesHere < PAGE_SIZE;
  const shared = (region.flags & REGION_SHARED) != 0;
  if (!straddles && (shared || !write)) {
    // Shared mappings write the object itself. A read maps the page
    // read-only even there, so that the first write faults and marks it dirty.
    const writable = shared && write;
    if (mapPage(space.root, page, cached, pageFlags(region, writable)) != MapResult.Ok) {
      releaseUserFrame(cached, false);
      return FaultResponse.OutOfMemory;
    }
    if (writable) markPageDirty(cached);
    frame(frameNumber(cached)).mapCount++;
    space.residentPages++;
    countFileFault(space);
    if (!write) faultAround(space, region, page);
    return FaultResponse.Continue;
  }
  const copy = allocPage(FrameState.Anonymous, false);
  if (copy == 0) {
    releaseUserFrame(cached, false);
    return FaultResponse.OutOfMemory;
  }
  copyPage(copy, cached);
  if (straddles) memory.fill(copy + <u32>fileBytesHere, 0, PAGE_SIZE - <u32>fileBytesHere);
  releaseUserFrame(cached, false);
  const response = mapNewFrame(space, region, page, copy, (region.protection & PROT_WRITE) != 0);
  if (response == FaultResponse.Continue) countFileFault(space);
  return response;
}

@inline function countFileFault(space: AddressSpace): void {
  space.fileFaults++;
  fileFaultsTotal++;
}

/** Pages mapped around a file read fault (kernel command line `faultaround=N`; 0 turns it off). */
let faultAroundPages: u32 = 16;
export let faultAroundMapsTotal: u64 = 0;

export function setFaultAround(pages: u32): void {
  faultAroundPages = min(pages, 512);
}

/**
 * Fault-around: after a read fault on a file page, also map (read-only)
 * the neighbours in the same aligned window that are already in the page
 * cache, so that a program whose pages another process brought in does not
 * fault on each of them. Nothing is read from the file for this.
 */
function faultAround(space: AddressSpace, region: Region, page: u64): void {
  if (!aroundWindow(space, region, page)) return;
  const flags = pageFlags(region, false) | PTE_PRESENT;
  for (let at = aroundStart; at < aroundEnd; at += PAGE_SIZE) {
    const offsetInRegion = at - region.start;
    if (offsetInRegion + PAGE_SIZE > region.fileBytes) continue;
    if (load<u64>(aroundTable + pageTableIndex(at) * 8) != 0) continue;
    const offset = region.fileOffset + offsetInRegion;
    if (offset >= changetype<MemoryObject>(region.object).size) continue;
    const cached = findCachedPage(changetype<MemoryObject>(region.object), <u32>(offset / PAGE_SIZE));
    if (cached == 0) continue;
    fillEmptyEntry(aroundTable, at, <u64>cached | flags);
    const f = frame(frameNumber(cached));
    f.refCount++;
    f.mapCount++;
    space.residentPages++;
    faultAroundMapsTotal++;
  }
}

// The window fault-around fills: the aligned block of faultAroundPages pages
// around the faulting page, inside its region, and the page table holding it
// (the faulting page was just mapped, so it exists; a window never crosses a
// page table, as setFaultAround keeps it at most 512 pages).
let aroundStart: u64 = 0;
let aroundEnd: u64 = 0;
let aroundTable: u32 = 0;

function aroundWindow(space: AddressSpace, region: Region, page: u64): bool {
  if (faultAroundPages <= 1) return false;
  const window = <u64>faultAroundPages * PAGE_SIZE;
  aroundStart = max(region.start, page & ~(window - 1));
  aroundEnd = min(region.end, (page & ~(window - 1)) + window);
  aroundTable = pageTableFor(space.root, page, false);
  return aroundTable != 0;
}

/**
 * A write to a present read-only page of a writable region: the zero page
 * (give a zeroed frame), or a page shared copy-on-write (after fork, or
 * from the page cache). A frame with no other holder is simply made
 * writable; otherwise the writer gets a copy and lets go of the original.
 */
function handleWriteToReadOnlyPage(space: AddressSpace, region: Region, page: u64, entry: u64): FaultResponse {
  const physical = <u32>(entry & PTE_ADDRESS);
  const f = frame(frameNumber(physical));
  if (f.state == FrameState.ZeroPage) {
    const fresh = allocPage(FrameState.Anonymous, true);
    if (fresh == 0) return FaultResponse.OutOfMemory;
    remapPage(space.root, page, fresh, pageFlags(region, true));
    const created = frame(frameNumber(fresh));
    created.mapCount = 1;
    setAnonymousRmap(created, region, changetype<u32>(space), page);
    space.residentPages++;
    space.demandZeroFaults++;
    demandZeroFaultsTotal++;
    return FaultResponse.Continue;
  }
  if ((region.flags & REGION_SHARED) != 0) { // shared memory: everyone writes the one frame
    remapPage(space.root, page, physical, pageFlags(region, true));
    if (f.state == FrameState.FileCache) markPageDirty(physical);
    return FaultResponse.Continue;
  }
  if ((f.flags & FRAME_SWAP_CACHE) != 0) {
    if ((f.flags & FRAME_WRITEBACK) != 0) { // its slot is being written from it: a store now would tear the copy
      waitForSwapWrite(physical);
      return FaultResponse.Retry;
    }
    if (ownsSwapCachePage(f, physical)) removeFromSwapCache(physical); // the slot's copy is about to be stale: it goes
  }
  if (shouldReuse(f.state, f.refCount)) {
    remapPage(space.root, page, physical, pageFlags(region, true));
    space.cowReuses++;
    cowReusesTotal++;
    return FaultResponse.Continue;
  }
  const copy = allocPage(FrameState.Anonymous, false);
  if (copy == 0) return FaultResponse.OutOfMemory;
  copyPage(copy, physical);
  remapPage(space.root, page, copy, pageFlags(region, true));
  const copied = frame(frameNumber(copy));
  copied.mapCount = 1;
  setAnonymousRmap(copied, region, changetype<u32>(space), page);
  releaseUserFrame(physical, true);
  space.cowCopies++;
  cowCopiesTotal++;
  return FaultResponse.Continue;
}

/** Whether this one mapping is all that uses a swap-cache page: no other mapping, holder or swap entry. */
@inline function ownsSwapCachePage(f: Frame, physical: u32): bool {
  return f.mapCount == 1 && f.refCount == 2 && swapCount(swapEntryOf(physical)) == 0;
}

/**
 * A page that is out: its swap entry is in the page table. The page comes
 * from the swap cache, or from the disk into it (the process sleeps, and
 * the fault is taken again). The mapping is read-only, the page staying
 * in the cache as the slot's copy (so that reclaim can drop it again
 * without writing), unless this is a write by the page's one user: then
 * the slot is given up and the page is this mapping's alone.
 */
function handleSwapFault(space: AddressSpace, region: Region, page: u64, write: bool, pte: u64): FaultResponse {
  const entry = swapEntryOfPte(pte);
  const got = getSwapPage(entry);
  if (got == 0) return FaultResponse.Retry;
  if (got < 0) return got == -ENOMEM ? FaultResponse.OutOfMemory : FaultResponse.BusError;
  const cached = <u32>got;
  const f = frame(frameNumber(cached));
  if (write && (f.flags & FRAME_WRITEBACK) != 0) {
    waitForSwapWrite(cached);
    releaseSwapPage(cached);
    return FaultResponse.Retry;
  }
  const writable = write && swapCount(entry) == 1 && f.mapCount == 0 && f.refCount == 2;
  if (!replaceEntry(space.root, page, pte, presentEntry(cached, pageFlags(region, writable)))) {
    releaseSwapPage(cached);
    return FaultResponse.Retry;
  }
  if (f.owner == 0) setAnonymousRmap(f, region, changetype<u32>(space), page);
  f.mapCount++; // the reference getSwapPage took is the mapping's now
  space.residentPages++;
  space.swapPages--;
  releaseSwapEntry(entry);
  if (writable) removeFromSwapCache(cached);
  swapInFaultsTotal++;
  return FaultResponse.Continue;
}

/**
 * Brings the page `page` of `region` back from swap, mapped as a read
 * fault would map it (swapoff emptying an area): Continue, Retry (it slept:
 * look again), OutOfMemory or BusError (the slot could not be read).
 */
export function swapInPage(space: AddressSpace, region: Region, page: u64, pte: u64): FaultResponse {
  return handleSwapFault(space, region, page, false, pte);
}

/**
 * The copy-on-write decision: reuse the frame in place only when this
 * mapping is its one holder. A page-cache frame never qualifies: the
 * cache itself holds a reference, and the file's bytes must stay intact.
 */
export function shouldReuse(state: u32, refCount: u32): bool {
  return state == FrameState.Anonymous && refCount == 1;
}

/**
 * Resolves a fault at `address` for an access described by FAULT_* bits.
 * With no frame to be had, it waits for anonymous memory to go to swap
 * and has the fault taken again; OutOfMemory only when that cannot help.
 */
export function handleUserFault(space: AddressSpace, address: u64, access: u32): FaultResponse {
  const response = resolveFault(space, address, access);
  if (response == FaultResponse.OutOfMemory && waitForMemory()) return FaultResponse.Retry;
  return response;
}

function resolveFault(space: AddressSpace, address: u64, access: u32): FaultResponse {
  const region = findRegion(regionsOf(space), address);
  if (region == null) return FaultResponse.Kill;
  if (!permits(region, access)) return FaultResponse.Forbidden;
  const page = address & ~(<u64>PAGE_SIZE - 1);
  const write = (access & FAULT_WRITE) != 0;
  const entry = rawEntry(space.root, page); // user space has no huge pages
  if (entry & PTE_PRESENT) {
    if (write && (entry & PTE_WRITABLE) == 0) return handleWriteToReadOnlyPage(space, region, page, entry);
    invlpg(page); // resolved already: the CPU acted on a stale TLB entry
    return FaultResponse.Continue;
  }
  if (isSwapPte(entry)) return handleSwapFault(space, region, page, write, entry);
  if ((region.flags & REGION_FILE) != 0 && page - region.start < region.fileBytes) {
    return handleFileFault(space, region, page, write);
  }
  return handleZeroFault(space, region, page, write);
}
