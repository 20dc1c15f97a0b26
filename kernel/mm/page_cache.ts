// The page cache: file pages kept by (inode, page index) and shared by every
// process that maps them. A cached frame (state FileCache) holds one
// reference for the cache itself plus one per mapping, so a frame with a
// reference count of 1 is mapped by nobody and can be dropped at any time:
// that is the reclaim policy. Pages stay cached while memory lasts; when an
// allocation fails, every such page is freed and the allocation retried.
//
// For a FileCache frame:  Frame.owner = inode + 1,  Frame.pageIndex = page
// index in the file,  Frame.data = next frame number in its hash chain.
import { copyPage } from "../arch/x86_64/cpu";
import { inodeData, inodeSize } from "../fs/initramfs";
import { isSharedObject } from "./shared_memory";
import { isVdso, vdsoBytes, vdsoPage } from "./vdso";
import { allocPage, freePages } from "./buddy";
import { Frame, FrameState, NO_FRAME, PAGE_SIZE, frame, frameAddress, frameNumber } from "./frame";

const BUCKETS: u32 = 1024;
const buckets = memory.data(BUCKETS * 4, 4);
let initialized = false;
let cachedPages: u32 = 0;
export let cacheHits: u64 = 0;
export let cacheMisses: u64 = 0;

function init(): void {
  for (let i: u32 = 0; i < BUCKETS; i++) store<u32>(buckets + i * 4, NO_FRAME);
  initialized = true;
}

@inline function bucketOf(inode: i32, index: u32): u32 {
  return <u32>buckets + (((<u32>inode * 0x9e3779b1) ^ (index * 0x85ebca6b)) >> 22) * 4;
}

// Where cached pages are read from: the initramfs archive, or the kernel's
// vDSO; shared anonymous memory has no source and starts zeroed.
function sourceBytes(inode: i32): u64 {
  if (isSharedObject(inode)) return 0;
  return isVdso(inode) ? vdsoBytes() : inodeSize(inode);
}

function sourcePage(inode: i32, index: u32): u32 {
  return isVdso(inode) ? vdsoPage(index) : inodeData(inode) + index * PAGE_SIZE;
}

/** The cached frame for page `index` of `inode`, or 0. Takes no reference. */
export function findCachedPage(inode: i32, index: u32): u32 {
  if (!initialized) init();
  for (let pfn = load<u32>(bucketOf(inode, index)); pfn != NO_FRAME; pfn = frame(pfn).data) {
    const f = frame(pfn);
    if (f.owner == <u32>(inode + 1) && f.pageIndex == index) return frameAddress(pfn);
  }
  return 0;
}

/**
 * The frame holding page `index` of `inode`, read in from its source if
 * it is not cached yet (bytes past the end of the file are zero). The
 * caller gets one new reference. Returns 0 when no frame can be had.
 */
export function getCachedPage(inode: i32, index: u32): u32 {
  let page = findCachedPage(inode, index);
  if (page != 0) {
    cacheHits++;
  } else {
    page = allocPage(FrameState.FileCache, false);
    if (page == 0) return 0;
    cacheMisses++;
    const offset = <u64>index * PAGE_SIZE;
    const size = sourceBytes(inode);
    const bytes = offset < size ? <u32>min(<u64>PAGE_SIZE, size - offset) : 0;
    const source = bytes != 0 ? sourcePage(inode, index) : 0;
    if (bytes == PAGE_SIZE && (source & (PAGE_SIZE - 1)) == 0) {
      copyPage(page, source);
    } else {
      memory.copy(page, source, bytes);
      memory.fill(page + bytes, 0, PAGE_SIZE - bytes);
    }
    const pfn = frameNumber(page);
    const f = frame(pfn);
    f.owner = <u32>(inode + 1);
    f.pageIndex = index;
    const bucket = bucketOf(inode, index);
    f.data = load<u32>(bucket);
    store<u32>(bucket, pfn);
    cachedPages++;
  }
  frame(frameNumber(page)).refCount++;
  return page;
}

export function cachedPageCount(): u32 {
  return cachedPages;
}

/** Frees every cached page that no process maps. Returns how many were freed. */
export function reclaimCachePages(): u32 {
  if (!initialized) return 0;
  let freed: u32 = 0;
  for (let b: u32 = 0; b < BUCKETS; b++) {
    let link = buckets + b * 4; // where the current frame number is stored
    let pfn = load<u32>(link);
    while (pfn != NO_FRAME) {
      const f: Frame = frame(pfn);
      const next = f.data;
      if (f.refCount == 1 && !isSharedObject(<i32>f.owner - 1)) {
        store<u32>(link, next);
        f.data = 0;
        f.owner = 0;
        freePages(frameAddress(pfn));
        cachedPages--;
        freed++;
      } else {
        link = changetype<usize>(f) + 28; // Frame.data of this frame
      }
      pfn = next;
    }
  }
  return freed;
}

/**
 * Frees every cached page of `inode`, which nobody maps any more (the last
 * region of a shared anonymous object is gone). It sweeps every chain
 * rather than asking for each page index: an object may span far more
 * pages than were ever touched.
 */
export function dropCachedPages(inode: i32): void {
  if (!initialized) return;
  for (let b: u32 = 0; b < BUCKETS; b++) {
    let link = buckets + b * 4;
    let pfn = load<u32>(link);
    while (pfn != NO_FRAME) {
      const f: Frame = frame(pfn);
      const next = f.data;
      if (f.owner == <u32>(inode + 1)) {
        assert(f.refCount == 1, "dropCachedPages: page still mapped");
        store<u32>(link, next);
        f.data = 0;
        f.owner = 0;
        freePages(frameAddress(pfn));
        cachedPages--;
      } else {
        link = changetype<usize>(f) + 28; // Frame.data of this frame
      }
      pfn = next;
    }
  }
}

/** Calls `visit(frame address)` for each cached page, for inspection (the unit tests walk the chains with it). */
export function forEachCachedPage(visit: (page: u32) => void): void {
  if (!initialized) return;
  for (let b: u32 = 0; b < BUCKETS; b++) {
    for (let pfn = load<u32>(buckets + b * 4); pfn != NO_FRAME; pfn = frame(pfn).data) visit(frameAddress(pfn));
  }
}
