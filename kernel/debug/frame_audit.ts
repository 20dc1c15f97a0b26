// The leak check: recounts, from the page tables and the page cache, every
// reference that should exist to user frames and every page table, and
// compares with the frame database. Cheap enough to run after each test
// program (it walks only present tables).
import { printf } from "../console/console";
import { str } from "../lib/format";
import { kernelPageTableRoot } from "../mm/kernel_map";
import {
  FRAMES_PER_SECTION, Frame, FrameState, SECTION_COUNT, frame, frameNumber, frameStateCount, frameStateName, sectionRecords,
} from "../mm/frame";
import { cachedPageCount } from "../mm/page_cache";
import { PTE_ADDRESS, PTE_HUGE, PTE_PRESENT } from "../mm/page_table";
import { Process, processListHead, spaceOf } from "../proc/process";

// While auditing, Frame.flags bits 4..15 of anonymous and cache frames
// count the mappings found; the other states keep their flags (FRAME_SLAB).
const AUDIT_SHIFT: u16 = 4;
const AUDIT_MASK: u16 = 0xfff0;
const MAX_REPORTS: u32 = 8;

let tablesFound: u32 = 0;
let mismatches: u32 = 0;

function forEachRecordedFrame(clear: bool): void {
  for (let section: u32 = 0; section < SECTION_COUNT; section++) {
    if (sectionRecords(section) == 0) continue;
    for (let i: u32 = 0; i < FRAMES_PER_SECTION; i++) {
      const pfn = section * FRAMES_PER_SECTION + i;
      if (!isCounted(frame(pfn))) continue;
      if (clear) frame(pfn).flags &= ~AUDIT_MASK;
      else checkFrame(pfn);
    }
  }
}

@inline function isCounted(f: Frame): bool {
  return f.state == FrameState.Anonymous || f.state == FrameState.FileCache;
}

function countMapping(physical: u32): void {
  const f = frame(frameNumber(physical));
  if (!isCounted(f)) return;
  f.flags = <u16>(f.flags + (1 << AUDIT_SHIFT));
}

/** Walks a table at `level` (4 = root), counting tables and leaf mappings; `first`..`last` bound the root's entries. */
function walk(table: u32, level: u32, first: u32, last: u32, countLeaves: bool): void {
  tablesFound++;
  for (let i = first; i <= last; i++) {
    const entry = load<u64>(table + i * 8);
    if ((entry & PTE_PRESENT) == 0) continue;
    if (level == 1 || (entry & PTE_HUGE) != 0) {
      if (countLeaves) countMapping(<u32>(entry & PTE_ADDRESS));
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
  const found = <u32>(f.flags >> AUDIT_SHIFT);
  f.flags &= ~AUDIT_MASK;
  if (f.state == FrameState.Anonymous) {
    if (found == 0) report(pfn, "anonymous frame nobody maps (leak)", 0, found);
    else if (f.refCount != found || f.mapCount != found) report(pfn, "counts disagree", found, found);
  } else if (f.state == FrameState.FileCache) {
    if (f.refCount != found + 1 || f.mapCount != found) report(pfn, "cache counts disagree", found + 1, found);
  }
}

/**
 * Audits every user frame and page table. Prints a line per problem (the
 * first few) and returns the number of problems.
 */
export function auditFrames(): u32 {
  mismatches = 0;
  tablesFound = 0;
  forEachRecordedFrame(true);
  walk(kernelPageTableRoot(), 4, 0, 511, false);
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const process = changetype<Process>(at);
    if (process.space == 0) continue;
    walk(spaceOf(process).root, 4, 0, 255, true); // the kernel half was counted once above
  }
  forEachRecordedFrame(false);
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
