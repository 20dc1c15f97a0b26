// The leak check: recounts, from the page tables, the page cache and the
// swap cache, every reference that should exist to user frames, page
// tables and swap slots, and compares with the frame database and the
// slot counts. Cheap enough to run after each test program (it walks only
// present tables). The counts it finds are kept in scratch arrays of its
// own, made for the audit and given back after, so that auditing changes
// nothing it looks at.
import { printf } from "../console/console";
import { str } from "../lib/format";
import { allocPages, freePages } from "../mm/buddy";
import { kernelPageTableRoot } from "../mm/kernel_map";
import {
  FRAME_SWAP_CACHE, FRAMES_PER_SECTION, Frame, FrameState, PAGE_SIZE, frame, frameNumber, frameStateCount, frameStateName,
  sectionRecords,
} from "../mm/frame";
import { frameLimit } from "../mm/frame_database";
import { cachedPageCount } from "../mm/page_cache";
import { PTE_ADDRESS, PTE_HUGE, PTE_PRESENT, isSwapPte, swapEntryOfPte } from "../mm/page_table";
import { MAX_SWAP_AREAS, entryArea, entrySlot, slotHasCache, swapAreaAt, swapCount, swapEntry, validSwapEntry } from "../mm/swap_area";
import { findSwapCachePage, swapEntryOf } from "../mm/swap_cache";
import { Process, processListHead, spaceOf } from "../proc/process";

const MAX_REPORTS: u32 = 8;

let tablesFound: u32 = 0;
let mismatches: u32 = 0;
let frameCounts: u32 = 0; // u32 per frame: the mappings found
const slotCounts = memory.data(MAX_SWAP_AREAS * 4, 4); // per area, 0 or a u32 per slot: the swap entries found

function orderFor(bytes: u64): u32 {
  let order: u32 = 0;
  while ((<u64>PAGE_SIZE << order) < bytes) order++;
  return order;
}

/** Makes the zeroed scratch counts; false when memory is short. */
function makeCounts(): bool {
  frameCounts = allocPages(orderFor(<u64>frameLimit * 4), FrameState.KernelObject, true);
  if (frameCounts == 0) return false;
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) {
    const area = swapAreaAt(i);
    let counts: u32 = 0;
    if (area != null) {
      counts = allocPages(orderFor(<u64>area.pages * 4), FrameState.KernelObject, true);
      if (counts == 0) {
        store<u32>(slotCounts + i * 4, 0);
        freeCounts();
        return false;
      }
    }
    store<u32>(slotCounts + i * 4, counts);
  }
  return true;
}

function freeCounts(): void {
  if (frameCounts != 0) freePages(frameCounts);
  frameCounts = 0;
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) {
    const counts = load<u32>(slotCounts + i * 4);
    if (counts != 0) freePages(counts);
    store<u32>(slotCounts + i * 4, 0);
  }
}

@inline function isCounted(f: Frame): bool {
  return f.state == FrameState.Anonymous || f.state == FrameState.FileCache;
}

function countSwapEntry(entry: u64): void {
  const swap = swapEntryOfPte(entry);
  if (!validSwapEntry(swap)) {
    mismatches++;
    if (mismatches <= MAX_REPORTS) printf("memcheck: a page table holds swap entry %x, which is no slot in use\n", swap);
    return;
  }
  const counts = load<u32>(slotCounts + entryArea(swap) * 4);
  store<u32>(counts + entrySlot(swap) * 4, load<u32>(counts + entrySlot(swap) * 4) + 1);
}

/** Walks a table at `level` (4 = root), counting tables, leaf mappings and swap entries; `first`..`last` bound the root's entries. */
function walk(table: u32, level: u32, first: u32, last: u32, countLeaves: bool): void {
  tablesFound++;
  for (let i = first; i <= last; i++) {
    const entry = load<u64>(table + i * 8);
    if ((entry & PTE_PRESENT) == 0) {
      if (level == 1 && countLeaves && isSwapPte(entry)) countSwapEntry(entry);
      continue;
    }
    if (level == 1 || (entry & PTE_HUGE) != 0) {
      if (!countLeaves) continue;
      const pfn = frameNumber(<u32>(entry & PTE_ADDRESS));
      if (isCounted(frame(pfn))) store<u32>(frameCounts + pfn * 4, load<u32>(frameCounts + pfn * 4) + 1);
      continue;
    }
    walk(<u32>(entry & PTE_ADDRESS), level - 1, 0, 511, countLeaves);
  }
}

function report(pfn: u32, what: string, expectedRefs: u32, found: u32): void {
  mismatches++;
  if (mismatches > MAX_REPORTS) return;
  const f = frame(pfn);
  printf("memcheck: frame %x (%s): %s: ", pfn, str(frameStateName(f.state)), str(what));
  printf("refcount %d mapcount %d, mappings found %d, expected refcount %d\n", f.refCount, f.mapCount, found, expectedRefs);
}

function checkFrame(pfn: u32): void {
  const f = frame(pfn);
  const found = load<u32>(frameCounts + pfn * 4);
  if (f.state == FrameState.Anonymous) {
    if ((f.flags & FRAME_SWAP_CACHE) != 0) {
      // The cache's reference, and the slot's: a page nothing maps stays while its slot is held.
      const entry = swapEntryOf(frameAddress(pfn));
      if (f.refCount != found + 1 || f.mapCount != found) report(pfn, "swap-cache counts disagree", found + 1, found);
      else if (!validSwapEntry(entry) || !slotHasCache(entry) || findSwapCachePage(entry) != frameAddress(pfn)) {
        report(pfn, "in the swap cache under a slot that does not say so", found + 1, found);
      } else if (found == 0 && swapCount(entry) == 0) report(pfn, "swap-cache page whose slot nobody holds (leak)", 0, found);
    } else if (found == 0) report(pfn, "anonymous frame nobody maps (leak)", 0, found);
    else if (f.refCount != found || f.mapCount != found) report(pfn, "counts disagree", found, found);
  } else if (f.state == FrameState.FileCache) {
    if (f.refCount != found + 1 || f.mapCount != found) report(pfn, "cache counts disagree", found + 1, found);
  }
}

@inline function frameAddress(pfn: u32): u32 {
  return pfn * PAGE_SIZE;
}

function checkFrames(): void {
  for (let pfn: u32 = 0; pfn < frameLimit; pfn++) {
    if (sectionRecords(pfn / FRAMES_PER_SECTION) == 0) {
      pfn |= FRAMES_PER_SECTION - 1;
      continue;
    }
    if (isCounted(frame(pfn))) checkFrame(pfn);
  }
}

function checkSlots(): void {
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) {
    const area = swapAreaAt(i);
    if (area == null) continue;
    const counts = load<u32>(slotCounts + i * 4);
    let inUse: u32 = 0;
    for (let slot: u32 = 1; slot < area.pages; slot++) {
      const entry = swapEntry(i, slot);
      const found = load<u32>(counts + slot * 4);
      if (!validSwapEntry(entry)) {
        continue; // free or bad: no page table may hold it, which countSwapEntry checked
      }
      inUse++;
      const cached = slotHasCache(entry);
      if (swapCount(entry) != found || cached != (findSwapCachePage(entry) != 0) || (!cached && found == 0)) {
        mismatches++;
        if (mismatches <= MAX_REPORTS) {
          printf("memcheck: swap slot %x: count %d, swap entries found %d, cache flag %d\n", entry, swapCount(entry), found,
            cached ? 1 : 0);
        }
      }
    }
    if (inUse != area.inUse) {
      mismatches++;
      printf("memcheck: swap area %d counts %d slots in use, %d are\n", i, area.inUse, inUse);
    }
  }
}

/**
 * Audits every user frame, page table and swap slot. Prints a line per
 * problem (the first few) and returns the number of problems.
 */
export function auditFrames(): u32 {
  mismatches = 0;
  tablesFound = 0;
  if (!makeCounts()) {
    printf("memcheck: no memory for the audit's counts\n");
    return 1;
  }
  walk(kernelPageTableRoot(), 4, 0, 511, false);
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const process = changetype<Process>(at);
    if (process.space == 0) continue;
    walk(spaceOf(process).root, 4, 0, 255, true); // the kernel half was counted once above
  }
  checkFrames();
  checkSlots();
  freeCounts();
  const tables = frameStateCount(FrameState.PageTable);
  if (tables != tablesFound) {
    mismatches++;
    printf("memcheck: %d page-table frames allocated, %d reachable (leak)\n", tables, tablesFound);
  }
  if (cachedPageCount() != frameStateCount(FrameState.FileCache)) {
    mismatches++;
    printf("memcheck: %d frames in the file-cache state, %d in the cache\n",
      frameStateCount(FrameState.FileCache), cachedPageCount());
  }
  if (mismatches > MAX_REPORTS) printf("memcheck: ... %d problems in all\n", mismatches);
  return mismatches;
}
