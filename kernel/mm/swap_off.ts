// swapoff's work in mm: every page of an area comes back into memory
// before the area goes (Linux's try_to_unuse). No reverse map leads from a
// slot to the page tables holding it, so every address space is walked
// (the list through AddressSpace.nextSpace, Linux's mmlist) and each swap
// entry of the area is faulted back in, as a read would bring it; then the
// swap cache lets go of the area's slots. The area takes no new pages
// meanwhile. Processes keep running while it sleeps for the disk: a fork
// may copy entries into a space already walked, so the walk is repeated
// until the area is empty.
import { AddressSpace, firstAddressSpace, leaveAddressSpace, regionsOf, retainAddressSpace } from "./address_space";
import { waitForMemory } from "./balance";
import { freePages } from "./buddy";
import { FRAME_LOCKED, FRAME_WRITEBACK, PAGE_SIZE, frame, frameNumber } from "./frame";
import { FaultResponse, swapInPage } from "./fault";
import { isSwapPte, nextPossiblyMapped, rawEntry, swapEntryOfPte } from "./page_table";
import { firstEndingAbove, regionAt } from "./region";
import { SwapArea, closeSwapArea, entryArea, reopenSwapArea, swapAreaAt } from "./swap_area";
import { forEachSwapCachePage, removeFromSwapCache } from "./swap_cache";
import { waitForSwapWrite } from "./swap_in";

const ENOMEM: i32 = 12;
const EIO: i32 = 5;
const MAX_PASSES: u32 = 8;

/** Brings in every page of area `index` that `space` has out; 0 or -errno. */
function emptyFromSpace(space: AddressSpace, index: u32): i32 {
  const regions = regionsOf(space);
  let address: u64 = 0;
  while (true) {
    const i = firstEndingAbove(regions, address);
    if (i == regions.count) return 0;
    const region = regionAt(regions, i);
    if (address < region.start) address = region.start;
    const next = nextPossiblyMapped(space.root, address);
    if (next != address) {
      address = min(next, region.end);
      continue;
    }
    const pte = rawEntry(space.root, address);
    if (!isSwapPte(pte) || entryArea(swapEntryOfPte(pte)) != index) {
      address += PAGE_SIZE;
      continue;
    }
    const response = swapInPage(space, region, address, pte);
    if (response == FaultResponse.OutOfMemory) {
      if (!waitForMemory()) return -ENOMEM;
    } else if (response == FaultResponse.BusError) {
      return -EIO;
    } else if (response == FaultResponse.Continue) {
      address += PAGE_SIZE;
    } // Retry: it slept; the same address is looked at again, with the regions as they are now
  }
}

/** One walk over every address space; 0 or -errno. */
function walkAllSpaces(index: u32): i32 {
  let at = firstAddressSpace();
  if (at != 0) retainAddressSpace(changetype<AddressSpace>(at));
  let result: i32 = 0;
  while (at != 0) {
    const space = changetype<AddressSpace>(at);
    if (result == 0) result = emptyFromSpace(space, index);
    const next = space.nextSpace;
    if (next != 0) retainAddressSpace(changetype<AddressSpace>(next));
    leaveAddressSpace(space);
    at = next;
  }
  return result;
}

let busyPage: u32 = 0;

/** Takes a cached page of the emptied area out of the cache: no page table holds its slot any more. */
function dropCachedSlot(page: u32): void {
  if ((frame(frameNumber(page)).flags & (FRAME_LOCKED | FRAME_WRITEBACK)) != 0) {
    busyPage = page;
    return;
  }
  if (removeFromSwapCache(page) == 0) freePages(page);
}

/**
 * Empties swap area `index` for swapoff: 0 when no slot of it is in use
 * any more (the caller then removes it), or -ENOMEM when memory ran out
 * (RAM and the other areas full), -EIO when a slot could not be read: the
 * area then takes pages again, as before, and the pages already brought
 * in stay in memory.
 */
export function emptySwapArea(index: u32): i32 {
  const area = changetype<SwapArea>(swapAreaAt(index));
  closeSwapArea(index);
  for (let pass: u32 = 0; pass < MAX_PASSES && area.inUse != 0; pass++) {
    const result = walkAllSpaces(index);
    if (result < 0) {
      reopenSwapArea(index);
      return result;
    }
    do {
      busyPage = 0;
      forEachSwapCachePage(index, dropCachedSlot);
      if (busyPage != 0) waitForSwapWrite(busyPage);
    } while (busyPage != 0);
  }
  if (area.inUse == 0) return 0;
  reopenSwapArea(index);
  return -ENOMEM;
}
