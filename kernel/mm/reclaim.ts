// Reclaim by recency: which cached pages to give up when memory runs low.
// A clock hand walks the frame database in physical order (it needs no
// list links: a cache frame's are taken by its hash chain and its object's
// dirty list). Every cached page is active (used twice or more) or
// inactive (Linux's two LRU lists); the hand takes inactive pages that
// were not used since it last passed (their FRAME_REFERENCED flag, and the
// accessed bits of the page tables mapping them, through the file's
// reverse map), gives the used ones a second chance, and moves active
// pages back to inactive only while the active ones are the majority. So a
// file read through once, however big, displaces only pages used once,
// and a working set used again and again stays.
//
// Two callers, with different rights:
//   - an allocation that failed (any kernel context, which may be in the
//     middle of changing page tables and cannot sleep): only clean pages
//     nobody maps or holds;
//   - the balancer (balance.ts), at a point where the caller may sleep and
//     no page table is being changed: it also unmaps mapped pages and
//     writes dirty ones back (they are then taken on a later pass).
import { testAndClearAccessed, unmapCachePage } from "./address_space";
import {
  FRAME_ACTIVE, FRAME_DIRTY, FRAME_LOCKED, FRAME_REFERENCED, FRAME_WRITEBACK, Frame, FrameState, NO_FRAME, frame,
  frameAddress,
} from "./frame";
import { ClockHand, nextFrame, startSweep } from "./clock_hand";
import { MemoryObject } from "./memory_object";
import { activePageCount, deactivatePage, evictPage, inactivePageCount, reclaimCachePages } from "./page_cache";
import { writeBackPage } from "./writeback";

const RECLAIM_BATCH: u32 = 32;

const hand = changetype<ClockHand>(memory.data(offsetof<ClockHand>(), 4));
export let pagesScannedTotal: u64 = 0;
export let pagesReclaimedTotal: u64 = 0;
export let pagesDeactivatedTotal: u64 = 0;

/** Whether the page was used since the hand last passed it; the marks are cleared as they are read. */
function wasReferenced(f: Frame, page: u32, mayUnmap: bool): bool {
  let referenced = (f.flags & FRAME_REFERENCED) != 0;
  f.flags &= ~FRAME_REFERENCED;
  // The accessed bits are read only where the balancer runs: an allocation may be changing those tables.
  if (mayUnmap && f.mapCount != 0 && testAndClearAccessed(changetype<MemoryObject>(f.owner), f.pageIndex, page)) referenced = true;
  return referenced;
}

/** Looks at one cache page under the hand; true when it was freed. */
function consider(f: Frame, page: u32, mayUnmap: bool, mayWrite: bool): bool {
  if ((f.flags & (FRAME_LOCKED | FRAME_WRITEBACK)) != 0 || f.owner == 0) return false;
  const referenced = wasReferenced(f, page, mayUnmap);
  if ((f.flags & FRAME_ACTIVE) != 0) {
    if (!referenced && activePageCount() > inactivePageCount()) {
      deactivatePage(f);
      pagesDeactivatedTotal++;
    }
    return false;
  }
  if (referenced) return false; // a second chance: it stays inactive, unmarked, until the hand comes round
  const object = changetype<MemoryObject>(f.owner);
  if (f.mapCount != 0) {
    if (!mayUnmap) return false;
    unmapCachePage(object, f.pageIndex, page);
  }
  if ((f.flags & FRAME_DIRTY) != 0) {
    if (mayWrite && object.writePage != 0) writeBackPage(object, page); // clean by the next pass, if nobody dirties it
    return false;
  }
  if (f.refCount != 1) return false; // held by a read or a mapping it could not take away
  evictPage(page);
  return true;
}

/**
 * Frees up to `wanted` cached pages, looking at each cache page at most
 * twice (once to clear its marks, once to take it); returns how many were
 * freed. The balancer's call may sleep (writeback).
 */
export function shrinkPageCache(wanted: u32, mayUnmap: bool, mayWrite: bool): u32 {
  let freed: u32 = 0;
  let budget = <u64>(activePageCount() + inactivePageCount()) * 2 + 1;
  startSweep(hand);
  while (freed < wanted && budget > 0) {
    const pfn = nextFrame(hand);
    if (pfn == NO_FRAME) break;
    const f = frame(pfn);
    if (f.state != FrameState.FileCache) continue;
    budget--;
    pagesScannedTotal++;
    if (consider(f, frameAddress(pfn), mayUnmap, mayWrite)) {
      freed++;
      pagesReclaimedTotal++;
    }
  }
  return freed;
}

/**
 * The allocator's hook when it finds no block: the least recently used
 * clean pages nobody maps, a batch at a time, and, if recency finds none
 * (every one was used since the hand last passed), every such page, so
 * that no process is killed for memory while clean cache could be freed.
 */
export function reclaimForAllocation(): u32 {
  const freed = shrinkPageCache(RECLAIM_BATCH, false, false);
  return freed != 0 ? freed : reclaimCachePages();
}
