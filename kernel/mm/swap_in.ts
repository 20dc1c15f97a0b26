// Bringing pages back from swap into the swap cache, and letting go of
// swap-cache pages nobody needs any more. The fault handler (fault.ts)
// maps what these bring in; swapoff (swap_off.ts) uses them too.
//
// A page read in goes into the cache first, FRAME_LOCKED, so that a
// second fault on the same entry (another process after fork, or another
// thread) finds it and sleeps on it instead of reading it again, as a
// locked page of the page cache works.
import { allocPage, freePages } from "./buddy";
import { FRAME_LOCKED, FRAME_SWAP_CACHE, FRAME_WRITEBACK, FrameState, frame, frameNumber } from "./frame";
import { addToSwapCache, findSwapCachePage, removeFromSwapCache, swapEntryOf } from "./swap_cache";
import { swapCount, swapIo } from "./swap_area";
import { sleepUninterruptible, wakeUp } from "../lib/wait";

const ENOMEM: i32 = 12;

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
  const page = allocPage(FrameState.Anonymous, false);
  if (page == 0) return -ENOMEM;
  const f = frame(frameNumber(page));
  f.owner = 0; // no reverse map until a fault that maps it gives one
  f.pageIndex = U32.MAX_VALUE;
  if (!addToSwapCache(page, entry)) {
    freePages(page);
    return -ENOMEM;
  }
  f.flags |= FRAME_LOCKED;
  const result = swapIo(entry, false, 1, page);
  f.flags &= ~FRAME_LOCKED;
  wakeUp(page);
  if (result < 0) removeFromSwapCache(page); // the next fault tries the disk again
  releaseSwapPage(page);
  return result < 0 ? <i64>result : 0;
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
