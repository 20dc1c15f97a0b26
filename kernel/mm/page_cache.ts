// The page cache: pages of memory objects (files, shared anonymous memory,
// the vDSO) kept by (object, page index) and shared by every process that
// maps them. A cached frame (state FileCache) holds one reference for the
// cache itself plus one per mapping or in-flight use, so a frame with a
// reference count of 1 is used by nobody. A clean such frame can be dropped
// at any time and read again from its object: that is the reclaim policy
// (when an allocation fails, every one is freed and the allocation
// retried). A dirty frame is the only copy of its bytes and stays until its
// object drops it.
//
// For a FileCache frame:  Frame.owner = the MemoryObject,  Frame.pageIndex =
// page index in it,  Frame.data = next frame number in its hash chain,
// FRAME_DIRTY in Frame.flags when the bytes differ from the object's source.
import { allocPage, freePages } from "./buddy";
import { FRAME_DIRTY, Frame, FrameState, NO_FRAME, PAGE_SIZE, frame, frameAddress, frameNumber } from "./frame";
import { MemoryObject, OBJECT_NO_SOURCE, OBJECT_SPARSE, readObjectPage } from "./memory_object";

const BUCKETS: u32 = 1024;
const buckets = memory.data(BUCKETS * 4, 4);
let initialized = false;
let cachedPages: u32 = 0;
let dirtyPages: u32 = 0;
export let cacheHits: u64 = 0;
export let cacheMisses: u64 = 0;

function init(): void {
  for (let i: u32 = 0; i < BUCKETS; i++) store<u32>(buckets + i * 4, NO_FRAME);
  initialized = true;
}

@inline function bucketOf(object: MemoryObject, index: u32): u32 {
  return <u32>buckets + (((changetype<u32>(object) * 0x9e3779b1) ^ (index * 0x85ebca6b)) >> 22) * 4;
}

/** The cached frame for page `index` of `object`, or 0. Takes no reference. */
export function findCachedPage(object: MemoryObject, index: u32): u32 {
  if (!initialized) init();
  for (let pfn = load<u32>(bucketOf(object, index)); pfn != NO_FRAME; pfn = frame(pfn).data) {
    const f = frame(pfn);
    if (f.owner == changetype<u32>(object) && f.pageIndex == index) return frameAddress(pfn);
  }
  return 0;
}

/**
 * Whether page `index` of `object` reads as zeros without being made: not
 * cached, and with nothing to read it from (past a sparse object's source,
 * as Linux's tmpfs reads a hole, or anywhere in an object with no source).
 */
export function isHole(object: MemoryObject, index: u32): bool {
  if (findCachedPage(object, index) != 0) return false;
  if ((object.flags & OBJECT_NO_SOURCE) != 0) return true;
  return (object.flags & OBJECT_SPARSE) != 0 && <u64>index * PAGE_SIZE >= <u64>object.sourceBytes;
}

/**
 * The frame holding page `index` of `object`, read in by the object if it
 * is not cached yet. The caller gets one new reference. Returns 0 when no
 * frame can be had.
 */
export function getCachedPage(object: MemoryObject, index: u32): u32 {
  let page = findCachedPage(object, index);
  if (page != 0) {
    cacheHits++;
  } else {
    page = allocPage(FrameState.FileCache, false);
    if (page == 0) return 0;
    cacheMisses++;
    readObjectPage(object, index, page);
    const pfn = frameNumber(page);
    const f = frame(pfn);
    f.owner = changetype<u32>(object);
    f.pageIndex = index;
    const bucket = bucketOf(object, index);
    f.data = load<u32>(bucket);
    store<u32>(bucket, pfn);
    cachedPages++;
    object.pages++;
    if ((object.flags & OBJECT_NO_SOURCE) != 0) markPageDirty(page);
  }
  frame(frameNumber(page)).refCount++;
  return page;
}

/** The page's bytes now differ from its object's source: it may not be dropped while the object lives. */
export function markPageDirty(page: u32): void {
  const f = frame(frameNumber(page));
  if ((f.flags & FRAME_DIRTY) != 0) return;
  f.flags |= FRAME_DIRTY;
  dirtyPages++;
}

export function cachedPageCount(): u32 {
  return cachedPages;
}

/** Cached pages that are the only copy of their bytes (tmpfs data, shared memory): /proc/meminfo's Shmem. */
export function dirtyPageCount(): u32 {
  return dirtyPages;
}

function unlink(link: u32, f: Frame, pfn: u32): void {
  changetype<MemoryObject>(f.owner).pages--;
  store<u32>(link, f.data);
  if ((f.flags & FRAME_DIRTY) != 0) dirtyPages--;
  f.flags &= ~FRAME_DIRTY;
  f.data = 0;
  f.owner = 0;
  freePages(frameAddress(pfn));
  cachedPages--;
}

/**
 * Unlinks and frees cached pages, every chain swept once: with `object`
 * null, every clean page nobody uses (reclaim); else the pages of `object`
 * with indices in [first, end), which nobody may map any more.
 */
function sweep(object: MemoryObject | null, first: u32, end: u32): u32 {
  if (!initialized) return 0;
  let freed: u32 = 0;
  for (let b: u32 = 0; b < BUCKETS; b++) {
    let link = buckets + b * 4; // where the current frame number is stored
    let pfn = load<u32>(link);
    while (pfn != NO_FRAME) {
      const f: Frame = frame(pfn);
      const next = f.data;
      const drop = object == null ? f.refCount == 1 && (f.flags & FRAME_DIRTY) == 0
        : f.owner == changetype<u32>(object) && f.pageIndex >= first && f.pageIndex < end;
      if (drop) {
        assert(f.refCount == 1, "dropCachedPages: page still in use");
        unlink(link, f, pfn);
        freed++;
      } else {
        link = changetype<usize>(f) + 28; // Frame.data of this frame
      }
      pfn = next;
    }
  }
  return freed;
}

/** Frees every clean cached page that nobody uses. Returns how many were freed. */
export function reclaimCachePages(): u32 {
  return sweep(null, 0, 0);
}

/**
 * Frees the cached pages of `object` from page `first` on, which nobody
 * maps any more (the object is going, or a file was truncated). It sweeps
 * every chain rather than asking for each page index: an object may span
 * far more pages than were ever touched.
 */
export function dropCachedPages(object: MemoryObject, first: u32): void {
  dropCachedRange(object, first, U32.MAX_VALUE);
}

/** As dropCachedPages, for the pages with indices in [first, end) only (a hole punched in the object). */
export function dropCachedRange(object: MemoryObject, first: u32, end: u32): void {
  if (object.pages != 0) sweep(object, first, end);
}

/** The lowest index at or above `from` of a cached page of `object`, U32 max if none (lseek SEEK_DATA). */
export function firstCachedIndex(object: MemoryObject, from: u32): u32 {
  let best = U32.MAX_VALUE;
  if (!initialized || object.pages == 0) return best;
  for (let b: u32 = 0; b < BUCKETS; b++) {
    for (let pfn = load<u32>(buckets + b * 4); pfn != NO_FRAME; pfn = frame(pfn).data) {
      const f = frame(pfn);
      if (f.owner == changetype<u32>(object) && f.pageIndex >= from && f.pageIndex < best) best = f.pageIndex;
    }
  }
  return best;
}

/** Calls `visit(frame address)` for each cached page, for inspection (the unit tests walk the chains with it). */
export function forEachCachedPage(visit: (page: u32) => void): void {
  if (!initialized) return;
  for (let b: u32 = 0; b < BUCKETS; b++) {
    for (let pfn = load<u32>(buckets + b * 4); pfn != NO_FRAME; pfn = frame(pfn).data) visit(frameAddress(pfn));
  }
}
