// Bringing pages back from swap into the swap cache, and letting go of
// swap-cache pages nobody needs any more. The fault handler (fault.ts)
// maps what these bring in; swapoff (swap_off.ts) uses them too.
//
// A page read in goes into the cache first, FRAME_LOCKED, so that a
// second fault on the same entry (another process after fork, or another
// thread) finds it and sleeps on it instead of reading it again, as a
// locked page of the page cache works.
import { allocFreePages, allocPages, freePages, splitBlock } from "./buddy";
import { FRAME_LOCKED, FRAME_REFERENCED, FRAME_SWAP_CACHE, FRAME_WRITEBACK, FrameState, PAGE_SIZE, frame, frameNumber } from "./frame";
import { addToSwapCache, findSwapCachePage, removeFromSwapCache, swapEntryOf } from "./swap_cache";
import { swapCount, swapIo, usedSlotsAfter } from "./swap_area";
import { sleepUninterruptible, wakeUp } from "../lib/wait";

const ENOMEM: i32 = 12;
/**
 * Slots a fault reads, its own and the used ones after it that are not
 * cached: 2^page-cluster (Linux's vm.page-cluster, 3 by default; the
 * kernel word sysctl.vm.page-cluster=N, at most 5): pages put out
 * together, whose slots follow one another, tend to be wanted together again.
 */
let readAhead: u32 = 8;

export function setPageCluster(n: u32): void {
  readAhead = <u32>1 << min(n, 5);
}
export let swapReadAheadTotal: u64 = 0;

/**
 * The swap-cache page for `entry`, read from its slot if it is not there:
 * its linear address with a reference for the caller, 0 when the caller
 * slept (for another reader, or for its own read: the caller's world may
 * have changed meanwhile, so it looks again), or -errno (ENOMEM: no
 * frame; EIO: the disk failed, and the page is not cached).
 */
export function getSwapPage(entry: u32): i64 {
  const cached = findSwapCachePage(entry);
  if (cached != 0) {
    const f = frame(frameNumber(cached));
    if ((f.flags & FRAME_LOCKED) == 0) {
      f.refCount++;
      return <i64>cached;
    }
    f.refCount++; // keeps the frame while this waits on it
    sleepUninterruptible(cached);
    releaseSwapPage(cached);
    return 0;
  }
  let result = readRun(entry, 1 + usedSlotsAfter(entry, readAhead - 1));
  // A failed read of a run drops it all: the page asked for is read alone, so a bad slot costs only its page.
  if (result < 0 && result != -ENOMEM) result = readRun(entry, 1);
  return <i64>result;
}

/**
 * Reads slots [entry, entry + count) into new swap-cache pages with one
 * request (fewer when no contiguous block is free), each locked while it
 * is read. The one asked for is marked referenced: reclaim's hand passes
 * it over once, so that the fault that read it finds it when taken again.
 * Returns 0 or -errno; on an error no page of the run stays cached.
 */
function readRun(entry: u32, count: u32): i32 {
  let order: u32 = 0;
  while ((<u32>1 << order) < count) order++;
  // Pages to read ahead are taken only where free memory has them together; the one asked for may reclaim.
  let block = order > 0 ? allocFreePages(order, FrameState.Anonymous) : 0;
  while (block == 0 && order > 1) block = allocFreePages(--order, FrameState.Anonymous);
  if (block == 0) {
    order = 0;
    block = allocPages(0, FrameState.Anonymous, false);
  }
  if (block == 0) return -ENOMEM;
  splitBlock(block, order);
  count = min(count, <u32>1 << order);
  for (let i = count; i < (<u32>1 << order); i++) freePages(block + i * PAGE_SIZE);
  for (let i: u32 = 0; i < count; i++) {
    const page = block + i * PAGE_SIZE;
    const f = frame(frameNumber(page));
    f.owner = 0; // no reverse map until a fault that maps it gives one
    f.pageIndex = U32.MAX_VALUE;
    addToSwapCache(page, entry + i);
    f.flags |= FRAME_LOCKED;
  }
  const result = swapIo(entry, false, count, block);
  if (count > 1) swapReadAheadTotal += count - 1;
  for (let i: u32 = 0; i < count; i++) {
    const page = block + i * PAGE_SIZE;
    const f = frame(frameNumber(page));
    f.flags &= ~FRAME_LOCKED;
    if (i == 0) f.flags |= FRAME_REFERENCED;
    wakeUp(page);
    if (result < 0) removeFromSwapCache(page);
    releaseSwapPage(page);
  }
  return result;
}

/**
 * Drops a reference to an anonymous page that may be in the swap cache.
 * A cached page left with the cache's reference alone, whose slot no page
 * table holds either, is of no use to anyone: it leaves the cache and is
 * freed, its slot with it.
 */
export function releaseSwapPage(page: u32): void {
  const f = frame(frameNumber(page));
  assert(f.refCount > 0, "releaseSwapPage: page has no holder");
  if (--f.refCount == 0) {
    freePages(page);
    return;
  }
  freeIfUnused(page);
}

/** Frees a swap-cache page that neither a mapping, a holder, nor a swap entry needs. */
export function freeIfUnused(page: u32): void {
  const f = frame(frameNumber(page));
  if ((f.flags & FRAME_SWAP_CACHE) == 0 || (f.flags & (FRAME_LOCKED | FRAME_WRITEBACK)) != 0) return;
  if (f.refCount != 1 || f.mapCount != 0 || swapCount(swapEntryOf(page)) != 0) return;
  if (removeFromSwapCache(page) == 0) freePages(page);
}

/** A page table let go of `entry` and it has no other holder: its cached page, if any, goes too. */
export function slotReleased(entry: u32): void {
  const cached = findSwapCachePage(entry);
  if (cached != 0) freeIfUnused(cached);
}

/** Waits for a page under writeback to its slot (a writer must not change what is being written). */
export function waitForSwapWrite(page: u32): void {
  const f = frame(frameNumber(page));
  f.refCount++;
  sleepUninterruptible(page);
  releaseSwapPage(page);
}
