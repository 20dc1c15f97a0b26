// Building the frame database at boot from the memory map, before any
// allocator exists: choose the sections that hold RAM, find room for their
// records, then give every frame its state and the free runs to the buddy
// allocator.
import { MAX_REGIONS, MemoryRegion, MemoryType, bootInfo, memoryRegion } from "../boot/multiboot2";
import {
  FRAMES_PER_SECTION, FrameState, PAGE_SIZE, SECTION_COUNT, SECTION_RECORDS_SIZE, clearSections,
  frame, frameStateCount, resetStateCounts, sectionRecords, setFrameState, setSectionRecords,
} from "./frame";
import { addFreeRun, resetBuddy } from "./buddy";

const FOUR_GIB: u64 = 1 << 32;
const SECTION_BYTES: u64 = <u64>FRAMES_PER_SECTION * PAGE_SIZE;

/**
 * Memory in use before the allocator exists (kernel image, boot modules...),
 * kept out of the free lists. Ranges are physical [start, end).
 *
 *   0 start(u64)  8 end(u64)  16 state(u32)  20 unused
 */
@unmanaged class ReservedRange {
  start: u64;
  end: u64;
  state: u32;
  unused: u32;
}
const MAX_RESERVED: u32 = 32;
const RESERVED_SIZE: u32 = 24;
const reserved = memory.data(MAX_RESERVED * RESERVED_SIZE, 8);
let reservedCount: u32 = 0;

@inline function reservedRange(i: u32): ReservedRange {
  return changetype<ReservedRange>(reserved + i * RESERVED_SIZE);
}

export function clearReservedRanges(): void {
  reservedCount = 0;
}

export function reserveRange(start: u64, end: u64, state: FrameState): void {
  assert(reservedCount < MAX_RESERVED, "reserveRange: too many reserved ranges");
  const r = reservedRange(reservedCount++);
  r.start = start;
  r.end = end;
  r.state = state;
}

/** What the frame database found, for the boot report. */
export let managedFrames: u32 = 0; // frames with a record that are RAM
export let framesAbove4G: u64 = 0; // available RAM the database does not cover
export let frameLimit: u32 = 0; // one past the highest recorded RAM frame (Linux's max_pfn)
export let databaseStart: u32 = 0;
export let databaseBytes: u32 = 0;

@inline function pageUp(x: u64): u64 {
  return (x + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
}

@inline function pageDown(x: u64): u64 {
  return x & ~(<u64>PAGE_SIZE - 1);
}

function overlapsReserved(start: u64, end: u64): bool {
  for (let i: u32 = 0; i < reservedCount; i++) {
    const r = reservedRange(i);
    if (start < r.end && r.start < end) return true;
  }
  return false;
}

/** Whether [start, end) lies inside one available region and clear of every other region. */
function isUsableRam(start: u64, end: u64): bool {
  let inside = false;
  for (let i: u32 = 0; i < bootInfo.regionCount; i++) {
    const region = memoryRegion(i);
    const regionEnd = region.base + region.length;
    if (region.type == MemoryType.Available) {
      if (region.base <= start && end <= regionEnd) inside = true;
    } else if (start < regionEnd && region.base < end) {
      return false;
    }
  }
  return inside;
}

function betterRoom(candidate: u64, size: u64, best: u64): u64 {
  candidate = pageUp(max(candidate, <u64>0x100000));
  if (candidate + size > FOUR_GIB) return best;
  if (best != 0 && candidate >= best) return best;
  if (!isUsableRam(candidate, candidate + size) || overlapsReserved(candidate, candidate + size)) return best;
  return candidate;
}

/**
 * Lowest page-aligned physical address with `size` bytes of usable RAM that
 * no reserved range touches, at or above 1 MiB; 0 if none. Candidates are
 * the starts of available regions and the ends of everything else.
 */
function findRoom(size: u64): u64 {
  let best: u64 = 0;
  for (let i: u32 = 0; i < bootInfo.regionCount; i++) {
    const region = memoryRegion(i);
    if (region.type == MemoryType.Available) best = betterRoom(region.base, size, best);
    else best = betterRoom(region.base + region.length, size, best); // just past a hole punched in RAM
  }
  for (let i: u32 = 0; i < reservedCount; i++) best = betterRoom(reservedRange(i).end, size, best);
  return best;
}

/** Sets `state` on every recorded frame in [start, end) whose state is one of `fromMask`. */
function markFrames(start: u64, end: u64, state: FrameState, fromMask: u32): void {
  const limit = min(end, FOUR_GIB);
  if (start >= limit) return;
  const first = <u32>(start >> 12);
  const last = <u32>((limit - 1) >> 12);
  for (let pfn = first; pfn <= last; pfn++) {
    if (sectionRecords(pfn >> 12) == 0) {
      pfn |= FRAMES_PER_SECTION - 1; // skip the whole missing section
      continue;
    }
    const f = frame(pfn);
    if ((fromMask & (1 << f.state)) != 0) setFrameState(f, state);
  }
}

// Page-rounded edges of an entry as the frame states take them:
// available RAM counts whole pages only, any other type claims every page
// it touches.
@inline function entryStart(region: MemoryRegion): u64 {
  return region.type == MemoryType.Available ? pageUp(region.base) : pageDown(region.base);
}

@inline function entryEnd(region: MemoryRegion): u64 {
  const end = region.base + region.length;
  return region.type == MemoryType.Available ? pageDown(end) : pageUp(end);
}

const edges = memory.data(MAX_REGIONS * 2 * 8 + 8, 8);

/**
 * Frames of RAM above 4 GiB (reported, not managed), counted as the
 * database would count them below: each page once however many available
 * entries list it, and not at all where another entry claims it.
 */
function countFramesAbove4G(): u64 {
  // The entries' edges above 4 GiB, sorted, cut that space into pieces each
  // wholly inside or wholly outside every entry.
  let n: u32 = 0;
  store<u64>(edges, FOUR_GIB);
  n++;
  for (let i: u32 = 0; i < bootInfo.regionCount; i++) {
    const region = memoryRegion(i);
    const start = entryStart(region);
    const end = entryEnd(region);
    if (end <= max(start, FOUR_GIB)) continue;
    store<u64>(edges + n * 8, max(start, FOUR_GIB));
    store<u64>(edges + n * 8 + 8, end);
    n += 2;
  }
  for (let i: u32 = 1; i < n; i++) { // insertion sort: at most 257 edges
    const edge = load<u64>(edges + i * 8);
    let j = i;
    for (; j > 0 && load<u64>(edges + (j - 1) * 8) > edge; j--) store<u64>(edges + j * 8, load<u64>(edges + (j - 1) * 8));
    store<u64>(edges + j * 8, edge);
  }
  let frames: u64 = 0;
  for (let k: u32 = 0; k + 1 < n; k++) {
    const at = load<u64>(edges + k * 8);
    const next = load<u64>(edges + k * 8 + 8);
    if (next == at) continue;
    let ram = false;
    let claimed = false;
    for (let i: u32 = 0; i < bootInfo.regionCount; i++) {
      const region = memoryRegion(i);
      if (entryStart(region) > at || entryEnd(region) <= at) continue;
      if (region.type == MemoryType.Available) ram = true;
      else claimed = true;
    }
    if (ram && !claimed) frames += (next - at) >> 12;
  }
  return frames;
}

/**
 * Builds the database from bootInfo's memory map and the reserved ranges,
 * then fills the buddy allocator. Returns false if no room was found.
 */
export function initFrameDatabase(): bool {
  clearSections();
  resetBuddy();
  managedFrames = 0;
  framesAbove4G = 0;
  frameLimit = 0;

  // Which sections hold available RAM (whole pages only)?
  let sectionCount: u32 = 0;
  const present = memory.data(SECTION_COUNT);
  memory.fill(present, 0, SECTION_COUNT);
  for (let i: u32 = 0; i < bootInfo.regionCount; i++) {
    const region = memoryRegion(i);
    if (region.type != MemoryType.Available) continue;
    const start = entryStart(region);
    const limit = min(entryEnd(region), FOUR_GIB);
    for (let at = start; at < limit; at = (at / SECTION_BYTES + 1) * SECTION_BYTES) {
      const section = <u32>(at / SECTION_BYTES);
      if (load<u8>(present + section) == 0) sectionCount++;
      store<u8>(present + section, 1);
    }
  }

  framesAbove4G = countFramesAbove4G();

  const size = <u64>sectionCount * SECTION_RECORDS_SIZE;
  const room = findRoom(size);
  if (room == 0) return false;
  databaseStart = <u32>room;
  databaseBytes = <u32>size;
  memory.fill(<usize>room, 0, <usize>size);
  let next = <u32>room;
  for (let section: u32 = 0; section < SECTION_COUNT; section++) {
    if (load<u8>(present + section) == 0) continue;
    setSectionRecords(section, next);
    next += SECTION_RECORDS_SIZE;
  }
  resetStateCounts(sectionCount * FRAMES_PER_SECTION);
  reserveRange(room, room + size, FrameState.FrameDatabase);
  populateStates();
  managedFrames = sectionCount * FRAMES_PER_SECTION - frameStateCount(FrameState.Hole);
  frameLimit = highestFrame() + 1;
  feedFreeRuns();
  return true;
}

const HOLE: u32 = 1 << FrameState.Hole;
const FREE: u32 = 1 << FrameState.Free;

/** Available RAM becomes free, unless another region or a reserved range claims it. */
function populateStates(): void {
  for (let i: u32 = 0; i < bootInfo.regionCount; i++) {
    const region = memoryRegion(i);
    if (region.type == MemoryType.Available) markFrames(entryStart(region), entryEnd(region), FrameState.Free, HOLE);
  }
  for (let i: u32 = 0; i < bootInfo.regionCount; i++) {
    const region = memoryRegion(i);
    if (region.type != MemoryType.Available) {
      markFrames(entryStart(region), entryEnd(region), FrameState.FirmwareReserved, HOLE | FREE);
    }
  }
  // Frame 0 stays out of use: address 0 is the null pointer, and physical
  // address 0 is what allocPages returns for failure.
  markFrames(0, PAGE_SIZE, FrameState.FirmwareReserved, FREE);
  for (let i: u32 = 0; i < reservedCount; i++) {
    const r = reservedRange(i);
    markFrames(pageDown(r.start), pageUp(r.end), <FrameState>r.state, FREE);
  }
}

/** The highest recorded frame that is RAM (frame 0 if none is). */
function highestFrame(): u32 {
  for (let section = SECTION_COUNT; section-- > 0;) {
    if (sectionRecords(section) == 0) continue;
    for (let pfn = (section + 1) * FRAMES_PER_SECTION; pfn-- > section * FRAMES_PER_SECTION;) {
      if (frame(pfn).state != FrameState.Hole) return pfn;
    }
  }
  return 0;
}

/** Hands every maximal run of free frames to the buddy allocator. */
function feedFreeRuns(): void {
  let runStart: u32 = 0;
  let runLength: u32 = 0;
  for (let section: u32 = 0; section < SECTION_COUNT; section++) {
    if (sectionRecords(section) == 0) {
      if (runLength != 0) addFreeRun(runStart, runLength);
      runLength = 0;
      continue;
    }
    const first = section * FRAMES_PER_SECTION;
    for (let pfn = first; pfn < first + FRAMES_PER_SECTION; pfn++) {
      if (frame(pfn).state == FrameState.Free) {
        if (runLength == 0) runStart = pfn;
        runLength++;
      } else if (runLength != 0) {
        addFreeRun(runStart, runLength);
        runLength = 0;
      }
    }
  }
  if (runLength != 0) addFreeRun(runStart, runLength);
}
