// Putting anonymous pages out to swap: Linux's reclaim of its anonymous
// LRU lists, try_to_unmap and pageout in one. A clock hand of its own
// walks the frame database over anonymous pages (as reclaim.ts's walks it
// over cached ones); the reverse map (anon_family.ts) finds each page's
// mappings. A page mapped since the hand last passed (an accessed bit in
// any of its page tables) gets a second chance; a cold one takes a slot,
// enters the swap cache, has every mapping replaced by the slot's swap
// entry, is written, and is freed. A page the swap cache holds already,
// unchanged since it was read back (its mappings are read-only), is
// unmapped and freed without any I/O.
//
// Not taken: pages of locked regions (mlock, MAP_LOCKED), pages someone
// holds besides their mappings (a read or write in flight through them),
// pages with a mapping the reverse map cannot find, the zero page, page
// tables, pages being read or written. Only kflushd calls this: it may
// sleep (the write), and nothing else reclaims anonymous memory, so two
// page-outs never race for one page.
import { printf } from "../console/console";
import { AnonFamily, addressInMember, familyMember } from "./anon_family";
import { ClockHand, nextFrame, startSweep } from "./clock_hand";
import { AddressSpace } from "./address_space";
import { allocPages, freePages } from "./buddy";
import { copyPage } from "../arch/x86_64/cpu";
import {
  FRAME_DIRTY, FRAME_LOCKED, FRAME_REFERENCED, FRAME_SWAP_CACHE, FRAME_WRITEBACK, Frame, FrameState, NO_FRAME, PAGE_SIZE,
  frame, frameAddress, frameNumber,
} from "./frame";
import { PTE_ACCESSED, PTE_ADDRESS, PTE_PRESENT, rawEntry, replaceEntry, swapPte } from "./page_table";
import { REGION_LOCKED, Region } from "./region";
import { addToSwapCache, removeFromSwapCache, swapEntryOf } from "./swap_cache";
import { entryAreaOpen, retainSwapEntry, swapIo, takeSwapSlot } from "./swap_area";
import { releaseSwapPage } from "./swap_in";
import { wakeUp } from "../lib/wait";

const hand = changetype<ClockHand>(memory.data(offsetof<ClockHand>(), 4));
export let anonScannedTotal: u64 = 0;
export let anonReclaimedTotal: u64 = 0;
export let swapWriteErrorsTotal: u64 = 0;

/** What the reverse map says of a page's mappings. */
const enum Seen {
  Cold = 0, // every mapping found, none accessed since the last look
  Referenced = 1, // some mapping was accessed (the bits are cleared now)
  Unavailable = 2, // locked, or mapped where the reverse map cannot see
}

/** The page-table entry of `member` that maps `page` at `address`, or 0. */
@inline function mappingIn(member: Region, address: u64, page: u32): u64 {
  const entry = rawEntry(changetype<AddressSpace>(member.space).root, address);
  return (entry & PTE_PRESENT) != 0 && <u32>(entry & PTE_ADDRESS) == page ? entry : 0;
}

/** Looks at every mapping of anonymous `page` (frame record `f`), clearing their accessed bits. */
function inspect(f: Frame, page: u32): Seen {
  const family = changetype<AnonFamily>(f.owner);
  let found: u32 = 0;
  let referenced = false;
  for (let i: u32 = 0; i < family.count; i++) {
    const member = familyMember(family, i);
    const address = addressInMember(member, f.pageIndex);
    if (address == 0) continue;
    const entry = mappingIn(member, address, page);
    if (entry == 0) continue;
    if ((member.flags & REGION_LOCKED) != 0) return Seen.Unavailable;
    found++;
    if ((entry & PTE_ACCESSED) != 0) {
      replaceEntry(changetype<AddressSpace>(member.space).root, address, entry, entry & ~PTE_ACCESSED);
      referenced = true;
    }
  }
  if (found != f.mapCount) return Seen.Unavailable;
  return referenced ? Seen.Referenced : Seen.Cold;
}

/** Replaces every mapping of `page` by `entry`'s swap entry; the mappings' references go with them. */
function unmapToSwap(f: Frame, page: u32, entry: u32): void {
  const family = changetype<AnonFamily>(f.owner);
  for (let i: u32 = 0; i < family.count && f.mapCount != 0; i++) {
    const member = familyMember(family, i);
    const address = addressInMember(member, f.pageIndex);
    if (address == 0) continue;
    const mapping = mappingIn(member, address, page);
    if (mapping == 0) continue;
    const space = changetype<AddressSpace>(member.space);
    retainSwapEntry(entry);
    replaceEntry(space.root, address, mapping, swapPte(entry));
    f.mapCount--;
    f.refCount--;
    space.residentPages--;
    space.swapPages++;
  }
}

// Pages written together: up to WRITE_BATCH whose slots follow one another go in one request,
// copied into `bounce` (contiguous, made at swapon: when pages go out, such a block is scarce).
const WRITE_BATCH: u32 = 32;
const batch = memory.data(WRITE_BATCH * 4, 4);
let batchCount: u32 = 0;
let bounce: u32 = 0;

/** Makes the write buffer, once (at swapon); false when out of memory. */
export function prepareSwapOut(): bool {
  if (bounce == 0) bounce = allocPages(5, FrameState.KernelObject, false); // 2^5 = WRITE_BATCH pages
  return bounce != 0;
}

/**
 * Queues a swap-cache page for writing to its slot, held and marked
 * FRAME_WRITEBACK (a write fault waits for it meanwhile). A page whose
 * slot does not follow the last one's writes the queue first. Returns the
 * frames that freed.
 */
function queueWrite(f: Frame, page: u32): u32 {
  // Held before the queue is written: that sleeps, and a munmap or exit meanwhile that let go of the
  // page's last swap entry would free a cached page nobody held (user/bench/swap.c's page-out row did).
  f.refCount++;
  f.flags |= FRAME_WRITEBACK;
  let freed: u32 = 0;
  if (batchCount != 0) {
    const last = swapEntryOf(load<u32>(batch + (batchCount - 1) * 4));
    if (batchCount == WRITE_BATCH || swapEntryOf(page) != last + 1) freed = writeQueued();
  }
  store<u32>(batch + batchCount * 4, page);
  batchCount++;
  return freed;
}

/**
 * Writes the queued pages with one request (sleeping), then frees those
 * nothing maps. While they were written a process may have faulted one
 * back in, or exited and let go of its slot. A failed write leaves the
 * pages dirty in the cache, whose copy stays the one every swap entry
 * finds. Returns the frames freed.
 */
function writeQueued(): u32 {
  const n = batchCount;
  if (n == 0) return 0;
  batchCount = 0; // kflushd alone queues, so the list stays as it is while this sleeps
  const first = load<u32>(batch);
  let result: i32;
  if (n == 1) result = swapIo(swapEntryOf(first), true, 1, first);
  else {
    for (let i: u32 = 0; i < n; i++) copyPage(bounce + i * PAGE_SIZE, load<u32>(batch + i * 4));
    result = swapIo(swapEntryOf(first), true, n, bounce);
  }
  if (result != 0 && swapWriteErrorsTotal++ == 0) {
    printf("swap: write error %d on swap entry %x: the pages stay in memory\n", result, swapEntryOf(first));
  }
  let freed: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const page = load<u32>(batch + i * 4);
    const f = frame(frameNumber(page));
    f.flags &= ~FRAME_WRITEBACK;
    wakeUp(page);
    if (result == 0) f.flags &= ~FRAME_DIRTY;
    if (result == 0 && f.mapCount == 0 && f.refCount == 2) {
      f.refCount--;
      dropFromCache(page);
      freed++;
    } else {
      releaseSwapPage(page);
    }
  }
  return freed;
}

/** Drops the cache's reference to a page nothing else holds: it is freed, and its slot keeps the bytes. */
function dropFromCache(page: u32): void {
  if (removeFromSwapCache(page) == 0) freePages(page);
}

/** Considers the hand's page `f` (at `page`); returns the frames freed. A page that found no slot sets swapFull. */
function consider(f: Frame, page: u32): u32 {
  if ((f.flags & (FRAME_LOCKED | FRAME_WRITEBACK)) != 0) return 0;
  const cached = (f.flags & FRAME_SWAP_CACHE) != 0;
  if (f.mapCount == 0) {
    if (!cached || f.refCount != 1 || (f.flags & FRAME_DIRTY) != 0) return 0;
    if ((f.flags & FRAME_REFERENCED) != 0) { // just read in: the fault that wanted it has yet to map it
      f.flags &= ~FRAME_REFERENCED;
      return 0;
    }
    dropFromCache(page); // read ahead, or left behind by its last mapping: its slot has the bytes
    return 1;
  }
  if (f.owner == 0 || f.refCount != f.mapCount + (cached ? 1 : 0)) return 0;
  if (cached && !entryAreaOpen(swapEntryOf(page))) return 0; // swapoff is bringing its area's pages in
  if (inspect(f, page) != Seen.Cold) return 0;
  if (!cached) {
    const entry = takeSwapSlot();
    if (entry == 0) {
      swapFull = true;
      return 0;
    }
    addToSwapCache(page, entry);
    f.flags |= FRAME_DIRTY; // the slot does not have the bytes yet
  }
  unmapToSwap(f, page, swapEntryOf(page));
  if ((f.flags & FRAME_DIRTY) != 0) return queueWrite(f, page);
  if (f.refCount != 1) return 0;
  dropFromCache(page);
  return 1;
}

/** Set when a page needed a slot and none was free: anonymous reclaim has nowhere to go. */
export let swapFull = false;

/**
 * Puts up to `wanted` anonymous pages out (or drops their clean copies),
 * looking at each anonymous page at most twice; returns how many frames
 * were freed. It sleeps for the writes.
 */
export function shrinkAnonymous(wanted: u32): u32 {
  let freed: u32 = 0;
  swapFull = false;
  startSweep(hand);
  while (freed < wanted && !swapFull) {
    const pfn = nextFrame(hand);
    if (pfn == NO_FRAME) break;
    const f = frame(pfn);
    if (f.state != FrameState.Anonymous) continue;
    anonScannedTotal++;
    freed += consider(f, frameAddress(pfn));
  }
  freed += writeQueued();
  anonReclaimedTotal += freed;
  return freed;
}
