// Swap areas: the places on disks where anonymous pages go when RAM runs
// short (Linux's swap_info_struct). An area is a partition or a regular
// file made by mkswap: its first page is the header, every other page is a
// swap slot. mm knows an area only by the extents the file system gave it
// (runs of slots and the sectors holding them) and the I/O operation its
// creator registered, so it never asks what kind of device a slot is on.
//
// A swap entry names one slot of one area in 32 bits (the area in the top
// five, the slot below). Entry 0 is never a slot: slot 0 of every area is
// its header. Each slot counts the page-table entries that hold it, and a
// bit says the swap cache also holds a page for it (swap_cache.ts).
import { printf } from "../console/console";
import { kfree, kmalloc } from "./slab";
import { allocPages, freePages } from "./buddy";
import { FrameState, PAGE_SIZE } from "./frame";

const EINVAL: i32 = 22;
const EPERM: i32 = 1;

/**
 * Reads (or writes) `pages` whole pages at `sector` of the area's device
 * from (to) contiguous memory at `buffer`; returns 0 or -errno. It sleeps
 * until the disk is done.
 */
export type SwapIo = (device: u32, write: bool, sector: u64, pages: u32, buffer: u32) => i32;

/** Linux's MAX_SWAPFILES is 32 less the entry types it keeps for migration and poisoned pages; ours has no such types. */
export const MAX_SWAP_AREAS: u32 = 32;
const SLOT_BITS: u32 = 27;
const SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;
/**
 * Slot counts are 32 bits (Linux packs 6 into a byte and chains more when
 * fork needs them; 4 bytes a slot, 0.1% of the area, make a count that can
 * never fill: it would take 16 GiB of page tables). They live in one buddy
 * block: at most 2^MAX_ORDER pages of them, 1 Mi slots, 4 GiB per area.
 */
const COUNTS_MAX_ORDER: u32 = 10;
export const MAX_AREA_PAGES: u32 = (PAGE_SIZE << COUNTS_MAX_ORDER) / 4;

/** A slot's count: page-table entries holding it (bits 0..30), and whether the swap cache holds its page. */
export const SLOT_HAS_CACHE: u32 = 0x80000000;
const SLOT_COUNT_MASK: u32 = 0x7fffffff;
/** A slot never used: the header, a bad page listed in it, or a page of a swap file not contiguous on its disk. */
const SLOT_BAD: u32 = SLOT_COUNT_MASK;

/** Linux's swapon flags for a priority (fs/swap_on.ts takes its discard flags too, and does no discards). */
export const SWAP_FLAG_PREFER: u32 = 0x8000;
export const SWAP_FLAG_PRIO_MASK: u32 = 0x7fff;

/** SwapArea.flags */
export const SWAP_USED: u32 = 1; // the record is taken
export const SWAP_WRITE_OK: u32 = 2; // new pages may go there (cleared while swapoff empties it)

/**
 * One area.
 *
 *   0 flags  4 priority(i32)  8 pages: slots, the header's included (Linux's max)
 *  12 usable: slots pages may take (Linux's pages: neither the header nor bad ones)
 *  16 inUse: slots taken  20 counts: u32 per slot (a buddy block of order countsOrder)
 *  24 countsOrder  28 extents (Extent array)  32 extentCount  36 extentCapacity
 *  40 device (the creator's, handed to io)  44 io (SwapIo)  48 owner: the creator's record (its open file)
 *  52 cursor: where the next slot search starts (consecutive page-outs take consecutive slots)
 *  56 regularFile (a file, else a block device)  60 unused
 */
@unmanaged export class SwapArea {
  flags: u32;
  priority: i32;
  pages: u32;
  usable: u32;
  inUse: u32;
  counts: u32;
  countsOrder: u32;
  extents: u32;
  extentCount: u32;
  extentCapacity: u32;
  device: u32;
  io: u32;
  owner: u32;
  cursor: u32;
  regularFile: u32;
  unused: u32;
}
const SWAP_AREA_SIZE: u32 = 64;

/**
 * A run of slots contiguous on the device (Linux's swap_extent).
 *   0 firstSlot  4 slots  8 sector(u64)
 */
@unmanaged class Extent {
  firstSlot: u32;
  slots: u32;
  sector: u64;
}
const EXTENT_SIZE: u32 = 16;

const areas = memory.data(MAX_SWAP_AREAS * 4, 4);
/** Linux gives each area swapped on without a priority one less than the last: -2, -3... */
let leastPriority: i32 = -1;
export let pagesSwappedOutTotal: u64 = 0; // vmstat's pswpout
export let pagesSwappedInTotal: u64 = 0; // pswpin

@inline export function swapAreaAt(index: u32): SwapArea | null {
  return changetype<SwapArea | null>(load<u32>(areas + index * 4));
}

@inline export function swapEntry(area: u32, slot: u32): u32 {
  return (area << SLOT_BITS) | slot;
}

@inline export function entryArea(entry: u32): u32 {
  return entry >>> SLOT_BITS;
}

@inline export function entrySlot(entry: u32): u32 {
  return entry & SLOT_MASK;
}

@inline function countAt(area: SwapArea, slot: u32): u32 {
  return load<u32>(area.counts + slot * 4);
}

@inline function setCount(area: SwapArea, slot: u32, count: u32): void {
  store<u32>(area.counts + slot * 4, count);
}

/** The area of an entry a page table or the swap cache holds; it is in use while any slot of it is. */
@inline function areaOf(entry: u32): SwapArea {
  return changetype<SwapArea>(load<u32>(areas + entryArea(entry) * 4));
}

/** What the header of a swap area says, once checkSwapHeader has accepted it. */
export let headerLastPage: u32 = 0;

@inline function byteSwap(x: u32): u32 {
  return (x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24);
}

const HEADER_VERSION: u32 = 1024;
const HEADER_LAST_PAGE: u32 = 1028;
const HEADER_BAD_PAGES: u32 = 1032;
const HEADER_BAD_LIST: u32 = 1536;
const MAX_BAD_PAGES: u32 = (PAGE_SIZE - HEADER_BAD_LIST) / 4;
const MAGIC_AT: u32 = PAGE_SIZE - 10;

@inline function headerWord(header: u32, at: u32, swapped: bool): u32 {
  const x = load<u32>(header + at);
  return swapped ? byteSwap(x) : x;
}

function hasMagic(header: u32): bool {
  const magic = "SWAPSPACE2";
  for (let i = 0; i < 10; i++) {
    if (<u32>load<u8>(header + MAGIC_AT + <u32>i) != <u32>magic.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Checks a swap header (the area's first page, at `header`) as Linux's
 * swapon does: the SWAPSPACE2 magic, version 1 (either byte order), a last
 * page that the area holds (`availablePages`: the device's or the file's
 * size in pages), at most 637 bad pages, each inside the area, and none at
 * all for a regular file. Returns how many slots the area has (the header's
 * included) or -EINVAL; an area larger than we can count is cut down to
 * MAX_AREA_PAGES, with a log line, as Linux truncates an oversized one.
 */
export function checkSwapHeader(header: u32, availablePages: u64, regularFile: bool): i32 {
  if (!hasMagic(header)) return -EINVAL;
  let swapped = false;
  if (load<u32>(header + HEADER_VERSION) != 1) {
    if (byteSwap(load<u32>(header + HEADER_VERSION)) != 1) return -EINVAL;
    swapped = true;
  }
  const lastPage = headerWord(header, HEADER_LAST_PAGE, swapped);
  if (lastPage == 0) return -EINVAL; // an empty area
  const pages = <u64>lastPage + 1;
  if (pages > availablePages) return -EINVAL; // the area is shorter than its header says
  const bad = headerWord(header, HEADER_BAD_PAGES, swapped);
  if (bad > MAX_BAD_PAGES || (bad != 0 && regularFile)) return -EINVAL;
  for (let i: u32 = 0; i < bad; i++) {
    const page = headerWord(header, HEADER_BAD_LIST + i * 4, swapped);
    if (page == 0 || page > lastPage) return -EINVAL;
  }
  headerLastPage = lastPage;
  if (pages > <u64>MAX_AREA_PAGES) {
    printf("swapon: truncating oversized swap area, only using %d KiB out of %d KiB\n", <u64>(MAX_AREA_PAGES - 1) * 4, (pages - 1) * 4);
  }
  return <i32>min(pages, <u64>MAX_AREA_PAGES);
}

/**
 * A new area of `pages` slots (checkSwapHeader's answer), not yet in use:
 * its creator adds the extents, then enables it. Null when out of memory.
 */
export function newSwapArea(pages: u32, device: u32, io: SwapIo, owner: u32, regularFile: bool): SwapArea | null {
  let order: u32 = 0;
  while ((PAGE_SIZE << order) < pages * 4) order++;
  const address = kmalloc(SWAP_AREA_SIZE);
  if (address == 0) return null;
  const counts = allocPages(order, FrameState.KernelObject, false);
  if (counts == 0) {
    kfree(address);
    return null;
  }
  const area = changetype<SwapArea>(address);
  area.pages = pages;
  area.counts = counts;
  area.countsOrder = order;
  area.device = device;
  area.io = changetype<u32>(io);
  area.owner = owner;
  area.regularFile = regularFile ? 1 : 0;
  area.cursor = 1;
  for (let slot: u32 = 0; slot < pages; slot++) setCount(area, slot, SLOT_BAD); // until an extent covers it
  return area;
}

/** Frees an area that was never enabled, or that swapoff emptied. */
export function freeSwapArea(area: SwapArea): void {
  freePages(area.counts);
  if (area.extents != 0) kfree(area.extents);
  kfree(changetype<u32>(area));
}

@inline function extentAt(area: SwapArea, i: u32): Extent {
  return changetype<Extent>(area.extents + i * EXTENT_SIZE);
}

/**
 * Slots [firstSlot, firstSlot + slots) are the pages at `sector` on (in
 * order, each whole). Extents are added in slot order; one continuing the
 * last on the disk joins it. False when out of memory.
 */
export function addSwapExtent(area: SwapArea, firstSlot: u32, slots: u32, sector: u64): bool {
  if (area.extentCount != 0) {
    const last = extentAt(area, area.extentCount - 1);
    if (last.firstSlot + last.slots == firstSlot && last.sector + <u64>last.slots * (PAGE_SIZE / 512) == sector) {
      last.slots += slots;
      return true;
    }
  }
  if (area.extentCount == area.extentCapacity) {
    const capacity = area.extentCapacity == 0 ? 8 : area.extentCapacity * 2;
    const grown = kmalloc(capacity * EXTENT_SIZE);
    if (grown == 0) return false;
    if (area.extents != 0) {
      memory.copy(grown, area.extents, area.extentCount * EXTENT_SIZE);
      kfree(area.extents);
    }
    area.extents = grown;
    area.extentCapacity = capacity;
  }
  const e = extentAt(area, area.extentCount++);
  e.firstSlot = firstSlot;
  e.slots = slots;
  e.sector = sector;
  return true;
}

/**
 * Puts an area in use, its slots covered by extents and not listed bad in
 * `header` becoming free: the highest priority areas are used first.
 * `priority` is the swapon flags' (SWAP_FLAG_PREFER) or, without it, one
 * below the last area's. Returns the area's index, or -EPERM when every
 * area is taken (as Linux), -EINVAL when no slot is usable.
 */
export function enableSwapArea(area: SwapArea, header: u32, flags: u32): i32 {
  let index: u32 = 0;
  while (index < MAX_SWAP_AREAS && swapAreaAt(index) != null) index++;
  if (index == MAX_SWAP_AREAS) return -EPERM;
  for (let i: u32 = 0; i < area.extentCount; i++) {
    const e = extentAt(area, i);
    for (let slot = e.firstSlot; slot < e.firstSlot + e.slots && slot < area.pages; slot++) setCount(area, slot, 0);
  }
  setCount(area, 0, SLOT_BAD);
  const swapped = load<u32>(header + HEADER_VERSION) != 1;
  const bad = headerWord(header, HEADER_BAD_PAGES, swapped);
  for (let i: u32 = 0; i < bad; i++) {
    const page = headerWord(header, HEADER_BAD_LIST + i * 4, swapped);
    if (page < area.pages) setCount(area, page, SLOT_BAD);
  }
  let usable: u32 = 0;
  for (let slot: u32 = 1; slot < area.pages; slot++) if (countAt(area, slot) == 0) usable++;
  if (usable == 0) return -EINVAL;
  area.usable = usable;
  area.priority = (flags & SWAP_FLAG_PREFER) != 0 ? <i32>(flags & SWAP_FLAG_PRIO_MASK) : --leastPriority;
  area.flags = SWAP_USED | SWAP_WRITE_OK;
  store<u32>(areas + index * 4, changetype<u32>(area));
  return <i32>index;
}

/** Takes area `index` out of the table (swapoff, once no slot of it is held). */
export function removeSwapArea(index: u32): void {
  const area = changetype<SwapArea>(swapAreaAt(index));
  assert(area.inUse == 0, "removeSwapArea: slots still in use");
  store<u32>(areas + index * 4, 0);
  // As Linux's swapoff: the areas numbered after this one move up one, so that the
  // numbers given without a priority stay -2, -3, ... and the next swapon takes the one after.
  if (area.priority >= 0) return;
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) {
    const other = swapAreaAt(i);
    if (other != null && other.priority < area.priority) other.priority++;
  }
  leastPriority++;
}

/** Stops new pages going to area `index`: swapoff is emptying it. */
export function closeSwapArea(index: u32): void {
  changetype<SwapArea>(swapAreaAt(index)).flags &= ~SWAP_WRITE_OK;
}

/** Reopens an area swapoff could not empty. */
export function reopenSwapArea(index: u32): void {
  changetype<SwapArea>(swapAreaAt(index)).flags |= SWAP_WRITE_OK;
}

/** Free slots over every area open for new pages. */
export function freeSwapSlots(): u64 {
  let free: u64 = 0;
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) {
    const area = swapAreaAt(i);
    if (area != null && (area.flags & SWAP_WRITE_OK) != 0) free += area.usable - area.inUse;
  }
  return free;
}

/** Slots of every area, and of them in use: SwapTotal and SwapFree count them. */
export function totalSwapSlots(): u64 {
  let total: u64 = 0;
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) {
    const area = swapAreaAt(i);
    if (area != null) total += area.usable;
  }
  return total;
}

export function usedSwapSlots(): u64 {
  let used: u64 = 0;
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) {
    const area = swapAreaAt(i);
    if (area != null) used += area.inUse;
  }
  return used;
}

let lastChosen: u32 = 0;

/** The open area new pages go to: the highest priority with a free slot; among equals, each in turn (as Linux). */
function chooseArea(): i32 {
  let best: i32 = -1;
  for (let k: u32 = 1; k <= MAX_SWAP_AREAS; k++) {
    const i = (lastChosen + k) % MAX_SWAP_AREAS;
    const area = swapAreaAt(i);
    if (area == null || (area.flags & SWAP_WRITE_OK) == 0 || area.inUse == area.usable) continue;
    if (best < 0 || area.priority > changetype<SwapArea>(swapAreaAt(<u32>best)).priority) best = <i32>i;
  }
  if (best >= 0) lastChosen = <u32>best;
  return best;
}

/**
 * A free slot for a page going out, taken for the swap cache (its count is
 * SLOT_HAS_CACHE until page tables take it); 0 when swap is full. Slots are
 * taken in order from where the last search stopped, so that pages put out
 * together lie together (one request writes them, one reads them back).
 */
export function takeSwapSlot(): u32 {
  const index = chooseArea();
  if (index < 0) return 0;
  const area = changetype<SwapArea>(swapAreaAt(<u32>index));
  let slot = area.cursor;
  for (let tried: u32 = 0; tried < area.pages; tried++) {
    if (slot >= area.pages) slot = 1;
    if (countAt(area, slot) == 0) {
      setCount(area, slot, SLOT_HAS_CACHE);
      area.inUse++;
      area.cursor = slot + 1;
      return swapEntry(<u32>index, slot);
    }
    slot++;
  }
  return 0;
}

/** Whether `entry` names a slot in use in an area that exists (a page table's entry always does). */
export function validSwapEntry(entry: u32): bool {
  const index = entryArea(entry);
  const area = swapAreaAt(index);
  if (area == null) return false;
  const slot = entrySlot(entry);
  if (slot == 0 || slot >= area.pages) return false;
  const count = countAt(area, slot);
  return count != 0 && count != SLOT_BAD;
}

/** Whether the area of `entry` takes pages (not while swapoff empties it). */
export function entryAreaOpen(entry: u32): bool {
  return (areaOf(entry).flags & SWAP_WRITE_OK) != 0;
}

/** How many page-table entries hold the slot. */
export function swapCount(entry: u32): u32 {
  return countAt(areaOf(entry), entrySlot(entry)) & SLOT_COUNT_MASK;
}

export function slotHasCache(entry: u32): bool {
  return (countAt(areaOf(entry), entrySlot(entry)) & SLOT_HAS_CACHE) != 0;
}

function releaseIfUnused(area: SwapArea, slot: u32): void {
  if (countAt(area, slot) != 0) return;
  area.inUse--;
  if (slot < area.cursor) area.cursor = slot; // fill from the bottom again
}

/** One more page-table entry holds the slot (a page put out, or fork). */
export function retainSwapEntry(entry: u32): void {
  const area = areaOf(entry);
  const slot = entrySlot(entry);
  const count = countAt(area, slot);
  assert(count != 0 && count != SLOT_BAD, "retainSwapEntry: slot not in use");
  setCount(area, slot, count + 1);
}

/** A page-table entry let go of the slot; the slot is free once nothing holds it. Returns the references left. */
export function releaseSwapEntry(entry: u32): u32 {
  const area = areaOf(entry);
  const slot = entrySlot(entry);
  const count = countAt(area, slot);
  assert((count & SLOT_COUNT_MASK) != 0 && count != SLOT_BAD, "releaseSwapEntry: slot has no holder");
  setCount(area, slot, count - 1);
  releaseIfUnused(area, slot);
  return (count - 1) & SLOT_COUNT_MASK;
}

/** The swap cache let go of the slot's page. */
export function dropSlotCache(entry: u32): void {
  const area = areaOf(entry);
  const slot = entrySlot(entry);
  const count = countAt(area, slot);
  assert((count & SLOT_HAS_CACHE) != 0, "dropSlotCache: slot has no cached page");
  setCount(area, slot, count & ~SLOT_HAS_CACHE);
  releaseIfUnused(area, slot);
}

/** The swap cache took the slot's page (a page read back in). */
export function markSlotCached(entry: u32): void {
  const area = areaOf(entry);
  const slot = entrySlot(entry);
  setCount(area, slot, countAt(area, slot) | SLOT_HAS_CACHE);
}

/** How many slots after `entry`, in the same area and extent, are in use: how far a read of it may read ahead. */
export function usedSlotsAfter(entry: u32, limit: u32): u32 {
  const area = areaOf(entry);
  const slot = entrySlot(entry);
  let n: u32 = 0;
  while (n < limit && slot + n + 1 < area.pages) {
    const count = countAt(area, slot + n + 1);
    if (count == 0 || count == SLOT_BAD || (count & SLOT_HAS_CACHE) != 0) break;
    n++;
  }
  return n;
}

/**
 * Reads or writes `pages` slots from `entry` on (consecutive, in one area)
 * at `buffer`, a request per extent they span. 0 or -errno; it sleeps.
 */
export function swapIo(entry: u32, write: bool, pages: u32, buffer: u32): i32 {
  const area = areaOf(entry);
  let slot = entrySlot(entry);
  let done: u32 = 0;
  while (done < pages) {
    let e: Extent | null = null;
    for (let i: u32 = 0; i < area.extentCount; i++) {
      const candidate = extentAt(area, i);
      if (slot >= candidate.firstSlot && slot < candidate.firstSlot + candidate.slots) {
        e = candidate;
        break;
      }
    }
    if (e == null) return -EINVAL;
    const run = min(pages - done, e.firstSlot + e.slots - slot);
    const sector = e.sector + <u64>(slot - e.firstSlot) * (PAGE_SIZE / 512);
    const result = changetype<SwapIo>(area.io)(area.device, write, sector, run, buffer + done * PAGE_SIZE);
    if (result < 0) return result;
    if (write) pagesSwappedOutTotal += run;
    else pagesSwappedInTotal += run;
    done += run;
    slot += run;
  }
  return 0;
}
