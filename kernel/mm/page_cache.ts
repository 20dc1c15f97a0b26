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
//
// Reading a page may sleep (a disk). The frame goes into the cache first,
// FRAME_LOCKED, so that a second reader of the same page finds it and
// sleeps on it instead of reading it again (Linux's locked page); the
// reader unlocks it and wakes them when the bytes are in. A page whose read
// failed leaves the cache at once (its waiters then see the error), so the
// next reader tries the disk again.
import { allocPage, allocPages, freePages, splitBlock } from "./buddy";
import {
  FRAME_ACTIVE, FRAME_DIRTY, FRAME_DIRTY_KIB_SHIFT, FRAME_DIRTY_WHOLE, FRAME_LOCKED, FRAME_REFERENCED, Frame, FrameState,
  NO_FRAME, PAGE_SIZE, frame, frameAddress, frameNumber,
} from "./frame";
import { monotonicNanoseconds } from "../time/clock";
import { MemoryObject, OBJECT_NO_SOURCE, OBJECT_SPARSE, PageQuota, readObjectPage, readObjectPages } from "./memory_object";
import { sleepUninterruptible, wakeUp } from "../lib/wait";
import { managedFrames } from "./frame_database";

const ENOMEM: i64 = 12;
const EIO: i64 = 5;
const ENOSPC: i64 = 28;

/**
 * The hash chains, one for every 8 frames of RAM (a power of two, at least
 * 1024), as Linux sizes its hash tables from memory: a fixed 1024 made a
 * lookup walk ~150 frames once 600 MiB were cached, and a cold ext2 fault
 * makes dozens of lookups.
 */
const FRAMES_PER_BUCKET: u32 = 8;
const MIN_BUCKET_BITS: u32 = 10;
let buckets: u32 = 0; // 0 until made
let bucketCount: u32 = 0;
let bucketShift: u32 = 0; // 32 - log2(bucketCount): a hash's top bits pick its chain
let cachedPages: u32 = 0;
let activePages: u32 = 0; // FRAME_ACTIVE: used more than once
let inactivePages: u32 = 0; // the others, which reclaim takes first
let keptPages: u32 = 0; // dirty, with nowhere to write them
let writablePages: u32 = 0; // dirty, waiting for writeback
// Objects with pages waiting for writeback, a list through MemoryObject.nextDirty (kept in memory, so
// that unlinking one walks links by address).
const dirtyObjects = memory.data(4, 4);
export let cacheHits: u64 = 0;
export let cacheMisses: u64 = 0;

/** Makes the hash chains, empty: at boot (initMemory), so that no program run leaves their frames behind it. */
export function initPageCache(): void {
  let bits = MIN_BUCKET_BITS;
  while (bits < 20 && (<u32>1 << bits) * FRAMES_PER_BUCKET < managedFrames) bits++;
  let order = bits - MIN_BUCKET_BITS; // 1024 chain heads a page
  buckets = allocPages(order, FrameState.KernelObject, false);
  while (buckets == 0 && order > 0) buckets = allocPages(--order, FrameState.KernelObject, false);
  assert(buckets != 0, "page cache: no memory for the hash chains");
  bucketCount = <u32>1 << (order + MIN_BUCKET_BITS);
  bucketShift = 32 - (order + MIN_BUCKET_BITS);
  for (let i: u32 = 0; i < bucketCount; i++) store<u32>(buckets + i * 4, NO_FRAME);
}

@inline function bucketOf(object: MemoryObject, index: u32): u32 {
  return buckets + (((changetype<u32>(object) * 0x9e3779b1) ^ (index * 0x85ebca6b)) >> bucketShift) * 4;
}

/** The cached frame for page `index` of `object`, or 0. Takes no reference. */
export function findCachedPage(object: MemoryObject, index: u32): u32 {
  if (buckets == 0) initPageCache();
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

/** The cached frame for page `index` of `object` when its bytes are there (not being read in), or 0. */
export function findReadyPage(object: MemoryObject, index: u32): u32 {
  const page = findCachedPage(object, index);
  return page != 0 && (frame(frameNumber(page)).flags & FRAME_LOCKED) == 0 ? page : 0;
}

/**
 * The frame holding page `index` of `object`, read in by the object if it
 * is not cached yet (sleeping while a disk reads it, or while another
 * reader does). The caller gets one new reference. Returns the frame's
 * address, or -ENOMEM when no frame can be had, or the object's error
 * (-EIO) when the page cannot be read.
 */
export function getCachedPage(object: MemoryObject, index: u32): i64 {
  return getCachedPageAhead(object, index, 1);
}

/**
 * As getCachedPage, and if the page must be read, also read the pages
 * after it, up to `ahead` pages in all, in one go (objects that read runs:
 * MemoryObject.readPages), stopping at the first that is cached already
 * and at the object's end. The others go in the cache without a reference.
 */
export function getCachedPageAhead(object: MemoryObject, index: u32, ahead: u32): i64 {
  const got = lookUpOrRead(object, index, ahead);
  // A page whose read failed (or an overwrite of it did) left the cache while this one waited: the disk once more.
  if (got != 0) return got;
  const again = lookUpOrRead(object, index, 1);
  return again != 0 ? again : -EIO;
}

/** The page, read in if missing; 0 if the page this waited for left the cache meanwhile. */
function lookUpOrRead(object: MemoryObject, index: u32, ahead: u32): i64 {
  const page = findCachedPage(object, index);
  if (page == 0) return object.readPages != 0 && ahead > 1 ? readAhead(object, index, ahead) : readIntoCache(object, index);
  cacheHits++;
  const f = frame(frameNumber(page));
  f.refCount++;
  while ((f.flags & FRAME_LOCKED) != 0) sleepUninterruptible(page);
  if (f.owner == changetype<u32>(object)) return <i64>page;
  releasePageReference(page);
  return 0;
}

/**
 * For a write of the whole page: the cached frame as getCachedPage gives
 * it, or, when the page is not cached, a new frame put in the cache
 * locked and not read (its bytes are about to be replaced). The writer
 * fills it and calls finishOverwrite. The write's source must be in
 * memory already: a fault on this page while it is locked would wait for
 * itself.
 */
export function getPageToOverwrite(object: MemoryObject, index: u32): i64 {
  if (findCachedPage(object, index) != 0) return getCachedPage(object, index);
  if (quotaFull(object)) return -ENOSPC;
  const page = allocPage(FrameState.FileCache, false);
  if (page == 0) return -ENOMEM;
  cacheMisses++;
  insertLocked(object, index, page);
  return <i64>page;
}

/** Ends an overwrite getPageToOverwrite began: the page is unlocked, or, if the write failed, dropped. */
export function finishOverwrite(page: u32, written: bool): void {
  const pfn = frameNumber(page);
  const f = frame(pfn);
  if ((f.flags & FRAME_LOCKED) == 0) return; // it was cached already: nothing began
  f.flags &= ~FRAME_LOCKED;
  wakeUp(page);
  if (!written && f.owner != 0) removeFromCache(f, pfn);
}

/** Puts a new frame in the cache as page `index` of `object`, locked, with a reference for the caller. */
function insertLocked(object: MemoryObject, index: u32, page: u32): void {
  const pfn = frameNumber(page);
  const f = frame(pfn);
  f.owner = changetype<u32>(object);
  f.pageIndex = index;
  f.flags |= FRAME_LOCKED;
  f.refCount++; // the caller's; the cache's is the one allocPage gave
  const bucket = bucketOf(object, index);
  f.data = load<u32>(bucket);
  store<u32>(bucket, pfn);
  cachedPages++;
  inactivePages++;
  object.pages++;
  if (object.quota != 0) changetype<PageQuota>(object.quota).used++;
}

function releasePageReference(page: u32): void {
  const f = frame(frameNumber(page));
  assert(f.refCount > 0, "releasePageReference: page has no holder");
  if (--f.refCount == 0) freePages(page);
}

/** Whether the object's quota (if it has one) has no room for another page. */
@inline function quotaFull(object: MemoryObject): bool {
  return object.quota != 0 && changetype<PageQuota>(object.quota).used >= changetype<PageQuota>(object.quota).limit;
}

function readIntoCache(object: MemoryObject, index: u32): i64 {
  if (quotaFull(object)) return -ENOSPC;
  const page = allocPage(FrameState.FileCache, false);
  if (page == 0) return -ENOMEM;
  cacheMisses++;
  insertLocked(object, index, page);
  const pfn = frameNumber(page);
  const f = frame(pfn);
  const status = readObjectPage(object, index, page);
  f.flags &= ~FRAME_LOCKED;
  wakeUp(page);
  if (status != 0) {
    if (f.owner != 0) removeFromCache(f, pfn); // (a truncation may have taken it out meanwhile)
    releasePageReference(page);
    return status < 0 ? <i64>status : -EIO;
  }
  if ((object.flags & OBJECT_NO_SOURCE) != 0) markPageDirty(page);
  return <i64>page;
}

/** Pages a read-ahead takes at most (128 KiB, Linux's default read_ahead_kb). */
export const READ_AHEAD_MAX: u32 = 32;

/**
 * Reads pages [index, index + count) into contiguous new frames with one
 * call of the object's readPages, each its own cache page, locked until the
 * read ends; count shrinks to the pages before the first one cached and
 * before the object's end, and to what memory there is in one block. If
 * the read fails, none stays cached and the first page is read alone, so
 * that a bad block costs only the pages it is in.
 */
function readAhead(object: MemoryObject, index: u32, wanted: u32): i64 {
  const pagesInObject = (object.size + PAGE_SIZE - 1) / PAGE_SIZE;
  let count: u32 = 1;
  while (count < min(wanted, READ_AHEAD_MAX) && <u64>(index + count) < pagesInObject && index + count > index &&
    findCachedPage(object, index + count) == 0) count++;
  let order: u32 = 0;
  while ((<u32>1 << order) < count) order++;
  let block = allocPages(order, FrameState.FileCache, false);
  while (block == 0 && order > 0) { // short of contiguous memory: a smaller window
    order--;
    block = allocPages(order, FrameState.FileCache, false);
  }
  if (block == 0) return -ENOMEM;
  splitBlock(block, order);
  count = min(count, <u32>1 << order);
  for (let i: u32 = count; i < (<u32>1 << order); i++) freePages(block + i * PAGE_SIZE);
  cacheMisses += count;
  for (let i: u32 = 0; i < count; i++) insertLocked(object, index + i, block + i * PAGE_SIZE);
  const status = readObjectPages(object, index, count, block);
  for (let i: u32 = 0; i < count; i++) {
    const page = block + i * PAGE_SIZE;
    const pfn = frameNumber(page);
    const f = frame(pfn);
    f.flags &= ~FRAME_LOCKED;
    wakeUp(page);
    if (status != 0 && f.owner != 0) removeFromCache(f, pfn);
    if (i != 0) releasePageReference(page); // only the first is the caller's
  }
  if (status != 0) { // one bad block fails the whole run: the page asked for is read again alone, as Linux does
    releasePageReference(block);
    return readIntoCache(object, index);
  }
  return <i64>block;
}

/** Takes a page out of its chain and drops the cache's reference (holders keep it until they let go). */
function removeFromCache(f: Frame, pfn: u32): void {
  const object = changetype<MemoryObject>(f.owner);
  let link = bucketOf(object, f.pageIndex);
  while (load<u32>(link) != pfn) link = changetype<usize>(frame(load<u32>(link))) + 28; // Frame.data
  unlink(link, f, pfn);
}

/**
 * The page's bytes now differ from its object's source: it may not be
 * dropped until written back, or at all while the object lives when the
 * object has nowhere to write it (tmpfs, shared memory).
 */
export function markPageDirty(page: u32): void {
  markKibDirty(page, FRAME_DIRTY_WHOLE);
}

/** As markPageDirty, for bytes [offset, offset + length) of the page only (a block of a device's page). */
export function markPartDirty(page: u32, offset: u32, length: u32): void {
  assert(length != 0 && offset + length <= PAGE_SIZE, "markPartDirty: range outside the page");
  const first = offset >> 10;
  const last = (offset + length - 1) >> 10;
  const kib: u32 = ((<u32>1 << (last + 1)) - 1) & ~((<u32>1 << first) - 1);
  markKibDirty(page, <u16>(kib << FRAME_DIRTY_KIB_SHIFT));
}

function markKibDirty(page: u32, kib: u16): void {
  const pfn = frameNumber(page);
  const f = frame(pfn);
  f.flags |= kib;
  if ((f.flags & FRAME_DIRTY) != 0) return;
  f.flags |= FRAME_DIRTY;
  const object = changetype<MemoryObject>(f.owner);
  if (object.writePage == 0) {
    keptPages++;
    return;
  }
  writablePages++;
  f.prev = NO_FRAME;
  f.next = object.dirtyHead;
  if (object.dirtyHead != NO_FRAME) frame(object.dirtyHead).prev = pfn;
  object.dirtyHead = pfn;
  if (object.dirtyPages++ == 0) {
    object.dirtiedAt = monotonicNanoseconds();
    object.nextDirty = load<u32>(dirtyObjects);
    store<u32>(dirtyObjects, changetype<u32>(object));
  }
}

/** Takes a dirty page off its object's list of pages to write; the object leaves the flusher's list with its last. */
function forgetDirty(f: Frame, pfn: u32): void {
  const object = changetype<MemoryObject>(f.owner);
  if (object.writePage == 0) {
    keptPages--;
    return;
  }
  writablePages--;
  if (f.prev != NO_FRAME) frame(f.prev).next = f.next;
  else object.dirtyHead = f.next;
  if (f.next != NO_FRAME) frame(f.next).prev = f.prev;
  if (--object.dirtyPages == 0) {
    let link = <u32>dirtyObjects;
    while (load<u32>(link) != changetype<u32>(object)) link = load<u32>(link) + offsetof<MemoryObject>("nextDirty");
    store<u32>(link, object.nextDirty);
    object.nextDirty = 0;
  }
}

/**
 * Makes a dirty page clean, for its writeback: returns which kilobytes
 * were dirty (bit k: the k-th), to be written. A store after this dirties
 * it again (the caller write-protected its mappings first).
 */
export function cleanPage(page: u32): u32 {
  const pfn = frameNumber(page);
  const f = frame(pfn);
  if ((f.flags & FRAME_DIRTY) == 0) return 0;
  forgetDirty(f, pfn);
  const kib = <u32>(f.flags & FRAME_DIRTY_WHOLE) >> FRAME_DIRTY_KIB_SHIFT;
  f.flags &= ~(FRAME_DIRTY | FRAME_DIRTY_WHOLE);
  return kib;
}

/** The first object with pages waiting for writeback (0 if none); the rest follow through MemoryObject.nextDirty. */
export function firstDirtyObject(): u32 {
  return load<u32>(dirtyObjects);
}

/**
 * A use of the page (a read() of it, a fault on it): the first since
 * reclaim looked marks it referenced, a second makes it active (Linux's
 * mark_page_accessed), so that pages used once, such as a big file read
 * through, are given up before the ones used again.
 */
export function markPageAccessed(page: u32): void {
  const f = frame(frameNumber(page));
  if ((f.flags & FRAME_REFERENCED) == 0) {
    f.flags |= FRAME_REFERENCED;
  } else if ((f.flags & FRAME_ACTIVE) == 0) {
    f.flags = (f.flags | FRAME_ACTIVE) & ~FRAME_REFERENCED;
    activePages++;
    inactivePages--;
  }
}

/** Reclaim moves an active page back to the inactive list (it was not used since reclaim last looked). */
export function deactivatePage(f: Frame): void {
  assert((f.flags & FRAME_ACTIVE) != 0, "deactivatePage: page is not active");
  f.flags &= ~(FRAME_ACTIVE | FRAME_REFERENCED);
  activePages--;
  inactivePages++;
}

/** Reclaim gives up a clean page nobody holds: out of the cache, its frame freed. */
export function evictPage(page: u32): void {
  const pfn = frameNumber(page);
  const f = frame(pfn);
  assert(f.refCount == 1 && f.mapCount == 0 && (f.flags & (FRAME_DIRTY | FRAME_LOCKED)) == 0, "evictPage: page in use or dirty");
  removeFromCache(f, pfn);
}

export function activePageCount(): u32 {
  return activePages;
}

export function inactivePageCount(): u32 {
  return inactivePages;
}

/** Drops a reference a caller of getCachedPage holds (the page stays cached). */
export function releaseCachedPage(page: u32): void {
  releasePageReference(page);
}

export function cachedPageCount(): u32 {
  return cachedPages;
}

/** Cached pages that are the only copy of their bytes (tmpfs data, shared memory): /proc/meminfo's Shmem. */
export function keptPageCount(): u32 {
  return keptPages;
}

/** Cached pages waiting to be written to their disk: /proc/meminfo's Dirty. */
export function dirtyPageCount(): u32 {
  return writablePages;
}

/** Takes the page out of the chain at `link` and drops the cache's reference: freed unless a holder is reading it still. */
function unlink(link: u32, f: Frame, pfn: u32): void {
  const object = changetype<MemoryObject>(f.owner);
  object.pages--;
  if (object.quota != 0) changetype<PageQuota>(object.quota).used--;
  store<u32>(link, f.data);
  if ((f.flags & FRAME_DIRTY) != 0) forgetDirty(f, pfn);
  if ((f.flags & FRAME_ACTIVE) != 0) activePages--;
  else inactivePages--;
  f.flags &= ~(FRAME_DIRTY | FRAME_DIRTY_WHOLE | FRAME_ACTIVE | FRAME_REFERENCED);
  f.data = 0;
  f.owner = 0;
  releasePageReference(frameAddress(pfn));
  cachedPages--;
}

/**
 * Unlinks and frees cached pages, every chain swept once: with `object`
 * null, every clean page nobody uses (reclaim); else the pages of `object`
 * with indices in [first, end), which nobody may map any more, or, with
 * `onlyClean`, just those of them that are clean and unused.
 */
function sweep(object: MemoryObject | null, first: u32, end: u32, onlyClean: bool = false): u32 {
  if (buckets == 0) return 0;
  let freed: u32 = 0;
  for (let b: u32 = 0; b < bucketCount; b++) {
    let link = buckets + b * 4; // where the current frame number is stored
    let pfn = load<u32>(link);
    while (pfn != NO_FRAME) {
      const f: Frame = frame(pfn);
      const next = f.data;
      const unused = f.refCount == 1 && (f.flags & FRAME_DIRTY) == 0;
      const drop = object == null ? unused
        : f.owner == changetype<u32>(object) && f.pageIndex >= first && f.pageIndex < end && (!onlyClean || unused);
      if (drop) {
        // A page may still be held by a reader sleeping on the disk, which then keeps it alone; never mapped.
        assert(f.mapCount == 0, "dropCachedPages: page still mapped");
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

/** Frees the clean pages of `object` in [first, end) that nobody maps or holds (fadvise DONTNEED); how many. */
export function dropCleanRange(object: MemoryObject, first: u32, end: u32): u32 {
  return object.pages != 0 ? sweep(object, first, end, true) : 0;
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
  if (buckets == 0 || object.pages == 0) return best;
  for (let b: u32 = 0; b < bucketCount; b++) {
    for (let pfn = load<u32>(buckets + b * 4); pfn != NO_FRAME; pfn = frame(pfn).data) {
      const f = frame(pfn);
      if (f.owner == changetype<u32>(object) && f.pageIndex >= from && f.pageIndex < best) best = f.pageIndex;
    }
  }
  return best;
}

/** Calls `visit(frame address)` for each cached page, for inspection (the unit tests walk the chains with it). */
export function forEachCachedPage(visit: (page: u32) => void): void {
  if (buckets == 0) return;
  for (let b: u32 = 0; b < bucketCount; b++) {
    for (let pfn = load<u32>(buckets + b * 4); pfn != NO_FRAME; pfn = frame(pfn).data) visit(frameAddress(pfn));
  }
}
