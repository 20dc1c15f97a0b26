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
import { AddressSpace } from "./address_space";
import { freePages } from "./buddy";
import {
  FRAME_DIRTY, FRAME_LOCKED, FRAME_SWAP_CACHE, FRAME_WRITEBACK, FRAMES_PER_SECTION, Frame, FrameState, SECTION_COUNT,
  frame, frameAddress, sectionRecords,
} from "./frame";
import { PTE_ACCESSED, PTE_ADDRESS, PTE_PRESENT, rawEntry, replaceEntry, swapPte } from "./page_table";
import { REGION_LOCKED, Region } from "./region";
import { addToSwapCache, removeFromSwapCache, swapEntryOf } from "./swap_cache";
import { entryAreaOpen, retainSwapEntry, swapIo, takeSwapSlot } from "./swap_area";
import { releaseSwapPage } from "./swap_in";
import { wakeUp } from "../lib/wait";

const ALL_FRAMES: u32 = SECTION_COUNT * FRAMES_PER_SECTION;

let hand: u32 = 0;
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

/**
 * Writes a swap-cache page to its slot (sleeping), the page held and
 * marked FRAME_WRITEBACK meanwhile so that a write fault waits for it.
 * True when written; a failed write leaves the page dirty in the cache,
 * whose copy stays the one every swap entry finds.
 */
function writeToSlot(f: Frame, page: u32): bool {
  f.refCount++;
  f.flags |= FRAME_WRITEBACK;
  const result = swapIo(swapEntryOf(page), true, 1, page);
  f.flags &= ~FRAME_WRITEBACK;
  wakeUp(page);
  if (result == 0) f.flags &= ~FRAME_DIRTY;
  else if (swapWriteErrorsTotal++ == 0) printf("swap: write error %d on swap entry %x: the page stays in memory\n", result, swapEntryOf(page));
  return result == 0;
}

/** Drops the cache's reference to a page nothing else holds: it is freed, and its slot keeps the bytes. */
function dropFromCache(page: u32): void {
  if (removeFromSwapCache(page) == 0) freePages(page);
}

/** Considers the hand's page `f` (at `page`); true when it was freed. A page that found no slot sets swapFull. */
function consider(f: Frame, page: u32): bool {
  if ((f.flags & (FRAME_LOCKED | FRAME_WRITEBACK)) != 0) return false;
  const cached = (f.flags & FRAME_SWAP_CACHE) != 0;
  if (f.mapCount == 0) {
    if (!cached || f.refCount != 1 || (f.flags & FRAME_DIRTY) != 0) return false;
    dropFromCache(page); // read ahead, or left behind by its last mapping: its slot has the bytes
    return true;
  }
  if (f.owner == 0 || f.refCount != f.mapCount + (cached ? 1 : 0)) return false;
  if (cached && !entryAreaOpen(swapEntryOf(page))) return false; // swapoff is bringing its area's pages in
  if (inspect(f, page) != Seen.Cold) return false;
  if (!cached) {
    const entry = takeSwapSlot();
    if (entry == 0) {
      swapFull = true;
      return false;
    }
    addToSwapCache(page, entry);
    f.flags |= FRAME_DIRTY; // the slot does not have the bytes yet
  }
  unmapToSwap(f, page, swapEntryOf(page));
  if ((f.flags & FRAME_DIRTY) != 0) {
    const written = writeToSlot(f, page);
    // While it was written, a process may have faulted it back in, or exited and let go of its slot.
    if (written && f.mapCount == 0 && f.refCount == 2) {
      f.refCount--;
      dropFromCache(page);
      return true;
    }
    releaseSwapPage(page);
    return false;
  }
  if (f.refCount != 1) return false;
  dropFromCache(page);
  return true;
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
  let visited: u32 = 0;
  swapFull = false;
  while (freed < wanted && visited < ALL_FRAMES * 2 && !swapFull) {
    const pfn = hand;
    hand = (hand + 1) % ALL_FRAMES;
    visited++;
    if (sectionRecords(pfn / FRAMES_PER_SECTION) == 0) { // no RAM here: jump to the next section
      hand = ((pfn / FRAMES_PER_SECTION + 1) * FRAMES_PER_SECTION) % ALL_FRAMES;
      visited += FRAMES_PER_SECTION - 1 - pfn % FRAMES_PER_SECTION;
      continue;
    }
    const f = frame(pfn);
    if (f.state != FrameState.Anonymous) continue;
    anonScannedTotal++;
    if (consider(f, frameAddress(pfn))) {
      freed++;
      anonReclaimedTotal++;
    }
  }
  return freed;
}
