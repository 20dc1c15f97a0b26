// The frame database: one record per 4 KiB physical frame below 4 GiB, in
// the spirit of Linux's struct page. Records live in sections of 4096
// frames (16 MiB of RAM, 128 KiB of records), created only where the memory
// map has RAM, so holes such as the PCI window below 4 GiB cost nothing.

export const PAGE_SHIFT: u32 = 12;
export const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;
export const NO_FRAME: u32 = 0xffffffff;

const SECTION_SHIFT: u32 = 12; // frames per section = 4096
export const FRAMES_PER_SECTION: u32 = 1 << SECTION_SHIFT;
export const SECTION_COUNT: u32 = 1 << (32 - PAGE_SHIFT - SECTION_SHIFT); // 256 cover 4 GiB
export const FRAME_RECORD_SIZE: u32 = 32;
export const SECTION_RECORDS_SIZE: u32 = FRAMES_PER_SECTION * FRAME_RECORD_SIZE;

export const enum FrameState {
  Hole = 0, // inside a section, but not RAM
  Free = 1,
  FirmwareReserved = 2, // the memory map says reserved (also: the first MiB, frame 0 included)
  KernelImage = 3, // kernel code and data, and the TypeScript static data
  BootData = 4, // boot modules and the multiboot2 information
  FrameDatabase = 5, // these records
  PageTable = 6,
  KernelObject = 7, // slab pages and other kernel allocations
  Anonymous = 8,
  FileCache = 9,
  ZeroPage = 10,
}
export const FRAME_STATE_COUNT: u32 = 11;

/**
 * One frame's record, 32 bytes (Linux's struct page is 64):
 *
 *   0 state(u8)  1 order(u8)  2 flags(u16)  4 refCount  8 mapCount
 *  12 next      16 prev      20 pageIndex   24 owner   28 data
 *
 * `order` is the buddy order of a free block's first frame, or of an
 * allocated block's first frame. `next`/`prev` are frame numbers linking
 * lists (the buddy free lists, slab lists), NO_FRAME at the ends.
 * `pageIndex`/`owner` say which file page a cache frame holds. `data`
 * depends on the state: entries in use for a page table; the free-object
 * list for a slab page; the hash chain for a cache page, whose next/prev
 * link its object's dirty pages while it is dirty and writable back.
 */
@unmanaged export class Frame {
  state: u8;
  order: u8;
  flags: u16;
  refCount: u32;
  mapCount: u32;
  next: u32;
  prev: u32;
  pageIndex: u32;
  owner: u32;
  data: u32;
}

/** Frame.flags */
export const FRAME_BUDDY_HEAD: u16 = 1; // first frame of a free buddy block
export const FRAME_BLOCK_HEAD: u16 = 2; // first frame of an allocated block
export const FRAME_DIRTY: u16 = 4; // a cache page whose bytes its object could not read again
export const FRAME_LOCKED: u16 = 8; // a cache page being read in: its bytes are not there yet (waiters sleep on its address)
export const FRAME_WRITEBACK: u16 = 16; // a cache page being written to its disk (a second writer of it waits)
export const FRAME_REFERENCED: u16 = 32; // a cache page used since reclaim last looked at it
export const FRAME_ACTIVE: u16 = 64; // a cache page used twice or more: on the active list, which reclaim takes from last
export const FRAME_SLAB: u16 = 128; // a slab page of kmalloc's size classes (Linux's PG_slab), not a whole-block allocation
export const FRAME_SWAP_CACHE: u16 = 256; // an anonymous page in the swap cache (swap_cache.ts): Frame.next holds its swap entry
/** Bits 12..15: which kilobytes of a dirty page changed (a block device's page holds several blocks). */
export const FRAME_DIRTY_KIB_SHIFT: u16 = 12;
export const FRAME_DIRTY_WHOLE: u16 = 0xf << FRAME_DIRTY_KIB_SHIFT;

/** Linear address of each section's records; 0 where a section has no RAM. */
const sections = memory.data(SECTION_COUNT * 4, 8);

@inline export function sectionRecords(section: u32): u32 {
  return load<u32>(sections + section * 4);
}

export function setSectionRecords(section: u32, records: u32): void {
  store<u32>(sections + section * 4, records);
}

export function clearSections(): void {
  memory.fill(sections, 0, SECTION_COUNT * 4);
}

/** The record of frame `pfn`; its section must exist (see frameExists). */
@inline export function frame(pfn: u32): Frame {
  return changetype<Frame>(sectionRecords(pfn >> SECTION_SHIFT) + (pfn & (FRAMES_PER_SECTION - 1)) * FRAME_RECORD_SIZE);
}

/** Whether `pfn` has a record and is RAM. */
export function frameExists(pfn: u32): bool {
  if (pfn >= SECTION_COUNT << SECTION_SHIFT || sectionRecords(pfn >> SECTION_SHIFT) == 0) return false;
  return frame(pfn).state != FrameState.Hole;
}

@inline export function frameNumber(physical: u64): u32 {
  return <u32>(physical >> PAGE_SHIFT);
}

@inline export function frameAddress(pfn: u32): u32 {
  return pfn << PAGE_SHIFT;
}

export function frameStateName(state: u32): string {
  switch (state) {
    case FrameState.Hole: return "hole";
    case FrameState.Free: return "free";
    case FrameState.FirmwareReserved: return "reserved by firmware";
    case FrameState.KernelImage: return "kernel image";
    case FrameState.BootData: return "boot modules and info";
    case FrameState.FrameDatabase: return "frame database";
    case FrameState.PageTable: return "page tables";
    case FrameState.KernelObject: return "kernel objects";
    case FrameState.Anonymous: return "anonymous";
    case FrameState.FileCache: return "file cache";
    case FrameState.ZeroPage: return "zero page";
    default: return "?";
  }
}

// Frames per state, kept current by every state change (setFrameState, moveStateCounts).
const stateCounts = memory.data(FRAME_STATE_COUNT * 4, 8);

/** Starts the counts with every recorded frame a hole. */
export function resetStateCounts(holes: u32): void {
  memory.fill(stateCounts, 0, FRAME_STATE_COUNT * 4);
  store<u32>(stateCounts, holes);
}

@inline export function frameStateCount(state: FrameState): u32 {
  return load<u32>(stateCounts + <u32>state * 4);
}

/**
 * Moves `count` frames' worth of the per-state counts from `from` to `to`;
 * the caller changes their records (freeFrameRun does a run at a time).
 */
@inline export function moveStateCounts(from: FrameState, to: FrameState, count: u32): void {
  store<u32>(stateCounts + <u32>from * 4, load<u32>(stateCounts + <u32>from * 4) - count);
  store<u32>(stateCounts + <u32>to * 4, load<u32>(stateCounts + <u32>to * 4) + count);
}

/** Moves one frame to `state`, keeping the counts current. */
@inline export function setFrameState(f: Frame, state: FrameState): void {
  moveStateCounts(<FrameState>f.state, state, 1);
  f.state = <u8>state;
}
