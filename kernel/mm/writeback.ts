// Writeback: dirty pages of objects that have somewhere to write them (a
// file on a disk, a block device) go back there on fsync, sync, msync and
// umount. A page is made clean before it is written, with every shared
// mapping of it made read-only first, so a store during the write dirties
// it again rather than being lost; a second writer of a page under
// writeback waits for it (Linux's stable pages), so the disk never gets a
// page torn between two versions.
import { writeProtectObjectPage } from "./address_space";
import { copyPage } from "../arch/x86_64/cpu";
import { allocPages, freePages } from "./buddy";
import {
  FRAME_DIRTY, FRAME_DIRTY_WHOLE, FRAME_LOCKED, FRAME_WRITEBACK, FrameState, NO_FRAME, PAGE_SIZE, frame, frameAddress,
  frameNumber,
} from "./frame";
import { MemoryObject, releaseObject, retainObject, writeObjectPage, writeObjectPages } from "./memory_object";
import { cleanPage, dirtyPageCount, findCachedPage, firstDirtyObject, releaseCachedPage } from "./page_cache";
import { kfree, kmalloc } from "./slab";
import { sleepUninterruptible, wakeUp } from "../lib/wait";
import { managedFrames } from "./frame_database";

let writebackPages: u32 = 0;

/**
 * Dirty memory a writer may leave behind it, as a share of RAM (Linux's
 * vm.dirty_ratio is 20%): past it, a writer writes its own file back
 * before its write returns, so it cannot fill memory with pages only a
 * slow disk can free.
 */
const DIRTY_LIMIT_PERCENT: u32 = 20;
/** How old dirty data may grow before writeback takes it (Linux's dirty_expire_centisecs: 30 s). */
const DIRTY_EXPIRE_NANOSECONDS: u64 = 30_000_000_000;
export let pagesWrittenTotal: u64 = 0;

/** Pages being written right now: /proc/meminfo's Writeback. */
export function writebackPageCount(): u32 {
  return writebackPages;
}

export function overDirtyLimit(): bool {
  return <u64>dirtyPageCount() * 100 > <u64>managedFrames * DIRTY_LIMIT_PERCENT;
}

/** Writes back every object whose oldest dirty page is older than the expiry (the periodic flush). */
export function writeBackExpired(now: u64): void {
  let budget = dirtyPageCount();
  for (let at = firstDirtyObject(); at != 0 && budget > 0; at = firstDirtyObject()) {
    // The list is newest first: find the oldest expired object still there.
    let oldest: u32 = 0;
    for (let o = at; o != 0; o = changetype<MemoryObject>(o).nextDirty) {
      if (now - changetype<MemoryObject>(o).dirtiedAt >= DIRTY_EXPIRE_NANOSECONDS) oldest = o;
    }
    if (oldest == 0) return;
    const object = changetype<MemoryObject>(oldest);
    budget = budget > object.dirtyPages ? budget - object.dirtyPages : 0;
    writeBackObject(object, 0, U32.MAX_VALUE);
  }
}

/** Writes back the object whose dirty data is oldest (background writeback); false if none has any. */
export function writeBackOldest(): bool {
  let oldest: u32 = 0;
  for (let o = firstDirtyObject(); o != 0; o = changetype<MemoryObject>(o).nextDirty) {
    if (oldest == 0 || changetype<MemoryObject>(o).dirtiedAt < changetype<MemoryObject>(oldest).dirtiedAt) oldest = o;
  }
  if (oldest == 0) return false;
  writeBackObject(changetype<MemoryObject>(oldest), 0, U32.MAX_VALUE);
  return true;
}

/** `page` of `object` is being written from now on. */
function startWriting(object: MemoryObject, page: u32): void {
  frame(frameNumber(page)).flags |= FRAME_WRITEBACK;
  writebackPages++;
  object.writingBack++;
}

/** `page` of `object` is written: its waiters, and fsync's once the object has no page left in flight, wake. */
function endWriting(object: MemoryObject, page: u32): void {
  frame(frameNumber(page)).flags &= ~FRAME_WRITEBACK;
  writebackPages--;
  pagesWrittenTotal++;
  wakeUp(page);
  if (--object.writingBack == 0) wakeUp(changetype<u32>(object));
}

/** Waits until the page is not being written (before changing its bytes). */
export function waitForWriteback(page: u32): void {
  const f = frame(frameNumber(page));
  while ((f.flags & FRAME_WRITEBACK) != 0) sleepUninterruptible(page);
}

/** Writes one dirty page of `object` back; 0 or -errno (also kept in the object for fsync to report). */
export function writeBackPage(object: MemoryObject, page: u32): i32 {
  const f = frame(frameNumber(page));
  f.refCount++;
  waitForWriteback(page);
  let status: i32 = 0;
  if ((f.flags & FRAME_DIRTY) != 0 && f.owner == changetype<u32>(object)) {
    writeProtectObjectPage(object, f.pageIndex, page);
    const kib = cleanPage(page);
    startWriting(object, page);
    status = writeObjectPage(object, f.pageIndex, page, kib);
    endWriting(object, page);
    if (status != 0 && object.writeError == 0) object.writeError = status;
  }
  releaseCachedPage(page);
  return status;
}

/** Pages one writeback request takes at most (128 KiB). */
const RUN_PAGES: u32 = 32;

/** Whether the cached `page` can join a run: wholly dirty, and neither being read nor written. */
function runnable(page: u32): bool {
  if (page == 0) return false;
  const flags = frame(frameNumber(page)).flags;
  return (flags & FRAME_DIRTY) != 0 && (flags & FRAME_DIRTY_WHOLE) == FRAME_DIRTY_WHOLE &&
    (flags & (FRAME_WRITEBACK | FRAME_LOCKED)) == 0;
}

/**
 * Writes the run of wholly dirty pages around `page` (up to RUN_PAGES, in
 * [first, end)) with one call of the object's writePages, copied into a
 * contiguous bounce buffer; falls back to the page alone when the run is
 * one page or memory is short. Each page goes through writeBackPage's steps.
 */
function writeBackRun(object: MemoryObject, page: u32, first: u32, end: u32): void {
  const index = frame(frameNumber(page)).pageIndex;
  if (object.writePages == 0 || !runnable(page)) {
    writeBackPage(object, page);
    return;
  }
  let start = index;
  while (start > first && index - start < RUN_PAGES - 1 && runnable(findCachedPage(object, start - 1))) start--;
  let count: u32 = 0;
  while (count < RUN_PAGES && start + count < end && runnable(findCachedPage(object, start + count))) count++;
  let order: u32 = 0;
  while ((<u32>1 << order) < count) order++;
  const bounce = count > 1 ? allocPages(order, FrameState.KernelObject, false) : 0;
  const pages = count > 1 ? kmalloc(count * 4) : 0;
  if (bounce == 0 || pages == 0) {
    if (bounce != 0) freePages(bounce);
    if (pages != 0) kfree(pages);
    writeBackPage(object, page);
    return;
  }
  for (let i: u32 = 0; i < count; i++) {
    const p = findCachedPage(object, start + i);
    store<u32>(pages + i * 4, p);
    const f = frame(frameNumber(p));
    f.refCount++;
    writeProtectObjectPage(object, start + i, p);
    cleanPage(p);
    startWriting(object, p);
    copyPage(bounce + i * PAGE_SIZE, p);
  }
  const status = writeObjectPages(object, start, count, bounce);
  for (let i: u32 = 0; i < count; i++) {
    const p = load<u32>(pages + i * 4);
    endWriting(object, p);
    releaseCachedPage(p);
  }
  if (status != 0 && object.writeError == 0) object.writeError = status;
  freePages(bounce);
  kfree(pages);
}

/** The first dirty page of `object` with an index in [first, end), or 0. */
function firstDirtyIn(object: MemoryObject, first: u32, end: u32): u32 {
  for (let pfn = object.dirtyHead; pfn != NO_FRAME; pfn = frame(pfn).next) {
    const index = frame(pfn).pageIndex;
    if (index >= first && index < end) return frameAddress(pfn);
  }
  return 0;
}

/**
 * Writes the dirty pages of `object` with indices in [first, end) and
 * waits for them (fsync, msync, fdatasync); 0, or the first error since the
 * last report (then forgotten, as Linux reports a writeback error once).
 */
export function writeBackObject(object: MemoryObject, first: u32, end: u32): i32 {
  if (object.writePage == 0) return 0;
  retainObject(object); // a sleep may see its last other holder go
  for (let page = firstDirtyIn(object, first, end); page != 0; page = firstDirtyIn(object, first, end)) {
    writeBackRun(object, page, first, end);
  }
  // Pages another writer took before us are not dirty, yet not on the disk (nor, for a file, given
  // their blocks) until it is done: wait for them too, as Linux's fsync does. The whole object's are
  // waited for, not only the range's: a page in flight is one request's wait.
  while (object.writingBack != 0) sleepUninterruptible(changetype<u32>(object));
  const status = object.writeError;
  object.writeError = 0;
  releaseObject(object);
  return status;
}

/** Writes every dirty page of every object (sync); a writer that keeps dirtying cannot hold it past that many pages. */
export function writeBackAll(): void {
  let budget = dirtyPageCount();
  while (budget > 0) {
    const at = firstDirtyObject();
    if (at == 0) return;
    const object = changetype<MemoryObject>(at);
    retainObject(object);
    const page = frameAddress(object.dirtyHead);
    writeBackRun(object, page, 0, U32.MAX_VALUE);
    releaseObject(object);
    budget--;
  }
}
