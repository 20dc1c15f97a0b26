// Regions of a user address space (Linux: vm_area_struct), kept in an
// array sorted by start address: lookup is a binary search, O(log n).
// Regions never overlap; callers clear a range before inserting into it.
import { kfree, kmalloc } from "./slab";
import { MemoryObject, releaseObject, retainObject } from "./memory_object";
import { REGION_SIZE, Region } from "./region_record";
import { inheritFamily, leaveFamily } from "./anon_family";

export { Region, REGION_SIZE } from "./region_record";

// A region's pages come from its object; the object lists the regions that map it.

export const PROT_READ: u32 = 1;
export const PROT_WRITE: u32 = 2;
export const PROT_EXEC: u32 = 4;

/** Region.flags */
export const REGION_SHARED: u32 = 1; // MAP_SHARED (else private)
export const REGION_FILE: u32 = 2; // backed by a memory object: a file, shared memory, the vDSO (else anonymous)
export const REGION_STACK: u32 = 4;
export const REGION_HEAP: u32 = 8; // the brk area
export const REGION_NEVER_WRITABLE: u32 = 16; // a shared mapping of a file opened read-only: mprotect may not add PROT_WRITE
export const REGION_LOCKED: u32 = 32; // mlock, mlockall, MAP_LOCKED (Linux's VM_LOCKED): VmLck counts it; fork drops it
export const REGION_NO_DUMP: u32 = 64; // MADV_DONTDUMP (Linux's VM_DONTDUMP): a core leaves it out


/**
 * The sorted set itself.
 *
 *   0 items (address of a u32 array of Region addresses)  4 count  8 capacity
 */
@unmanaged export class RegionSet {
  items: u32;
  count: u32;
  capacity: u32;
}

@inline export function regionAt(set: RegionSet, index: u32): Region {
  return changetype<Region>(load<u32>(set.items + index * 4));
}

export function newRegion(start: u64, end: u64, protection: u32, flags: u32): Region | null {
  const address = kmalloc(REGION_SIZE);
  if (address == 0) return null;
  const region = changetype<Region>(address);
  region.start = start;
  region.end = end;
  region.protection = protection;
  region.flags = flags;
  return region;
}

/** A new region inserted into `set` (where it must overlap none); null, with nothing allocated, when out of memory. */
export function addRegion(set: RegionSet, start: u64, end: u64, protection: u32, flags: u32): Region | null {
  const region = newRegion(start, end, protection, flags);
  if (region == null) return null;
  if (insertRegion(set, region)) return region;
  kfree(changetype<u32>(region));
  return null;
}

/** Index of the first region whose end is above `address` (count if none). */
export function firstEndingAbove(set: RegionSet, address: u64): u32 {
  let low: u32 = 0;
  let high = set.count;
  while (low < high) {
    const middle = low + (high - low) / 2;
    if (regionAt(set, middle).end <= address) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The region containing `address`, or null. */
export function findRegion(set: RegionSet, address: u64): Region | null {
  const i = firstEndingAbove(set, address);
  if (i == set.count) return null;
  const region = regionAt(set, i);
  return region.start <= address ? region : null;
}

function grow(set: RegionSet): bool {
  const capacity = set.capacity == 0 ? 16 : set.capacity * 2;
  const items = kmalloc(capacity * 4);
  if (items == 0) return false;
  if (set.items != 0) {
    memory.copy(items, set.items, set.count * 4);
    kfree(set.items);
  }
  set.items = items;
  set.capacity = capacity;
  return true;
}

// Linux's vm.max_map_count default: no address space holds more regions
// (mmap, and the split of a munmap or mprotect, then fail with ENOMEM).
export const MAX_MAP_COUNT: u32 = 65530;

/** Inserts a region that overlaps none in the set. False if out of memory, or at MAX_MAP_COUNT. */
export function insertRegion(set: RegionSet, region: Region): bool {
  if (set.count >= MAX_MAP_COUNT) return false;
  if (set.count == set.capacity && !grow(set)) return false;
  const i = firstEndingAbove(set, region.start);
  assert(i == set.count || regionAt(set, i).start >= region.end, "insertRegion: overlapping region");
  memory.copy(set.items + (i + 1) * 4, set.items + i * 4, (set.count - i) * 4);
  store<u32>(set.items + i * 4, changetype<u32>(region));
  set.count++;
  return true;
}

/**
 * Makes `region` (of address space `space`) map `object`, holding it and
 * joining the object's list of mappings.
 */
export function attachObject(region: Region, object: MemoryObject, space: u32): void {
  retainObject(object);
  region.object = object;
  region.space = space;
  region.previousMapping = 0;
  region.nextMapping = object.mappings;
  if (object.mappings != 0) changetype<Region>(object.mappings).previousMapping = changetype<u32>(region);
  object.mappings = changetype<u32>(region);
}

function detachObject(region: Region): void {
  const object = region.object;
  if (object == null) return;
  if (region.previousMapping != 0) changetype<Region>(region.previousMapping).nextMapping = region.nextMapping;
  else object.mappings = region.nextMapping;
  if (region.nextMapping != 0) changetype<Region>(region.nextMapping).previousMapping = region.previousMapping;
  region.object = null;
  releaseObject(object);
}

function removeAt(set: RegionSet, i: u32): void {
  const region = regionAt(set, i);
  detachObject(region);
  leaveFamily(region);
  kfree(changetype<u32>(region));
  memory.copy(set.items + i * 4, set.items + (i + 1) * 4, (set.count - i - 1) * 4);
  set.count--;
}

/** Moves a region's start up to `start`, keeping its file offset in step. */
function trimFront(region: Region, start: u64): void {
  const cut = start - region.start;
  region.start = start;
  region.fileOffset += cut;
  region.fileBytes = region.fileBytes > cut ? region.fileBytes - cut : 0;
}

/**
 * Makes `address` a region boundary: the region containing it (if any) is
 * split in two. False if out of memory.
 */
export function splitAt(set: RegionSet, address: u64): bool {
  const region = findRegion(set, address);
  if (region == null || region.start == address) return true;
  const upper = newRegion(address, region.end, region.protection, region.flags);
  if (upper == null) return false;
  if (!inheritFamily(upper, region)) {
    kfree(changetype<u32>(upper));
    return false;
  }
  upper.space = region.space;
  if (region.object != null) attachObject(upper, changetype<MemoryObject>(region.object), region.space);
  upper.fileOffset = region.fileOffset;
  upper.fileBytes = region.fileBytes;
  upper.start = region.start;
  trimFront(upper, address);
  const fileBytes = region.fileBytes;
  region.end = address;
  region.fileBytes = min(region.fileBytes, address - region.start);
  if (insertRegion(set, upper)) return true;
  region.end = upper.end; // undo: the region stays whole
  region.fileBytes = fileBytes;
  detachObject(upper);
  leaveFamily(upper);
  kfree(changetype<u32>(upper));
  return false;
}

/**
 * Moves a region's end up to `end` (mremap growing in place; the caller
 * checked that nothing is there). A region whose pages all come from its
 * object keeps it so, so the new pages map more of the object (past its
 * end they are a bus error, as on Linux); otherwise they read as zeros.
 */
export function extendRegion(region: Region, end: u64): void {
  if (region.fileBytes >= region.end - region.start) region.fileBytes = end - region.start;
  region.end = end;
}

/** Removes every part of every region within [start, end). False if out of memory (nothing removed). */
export function removeRange(set: RegionSet, start: u64, end: u64): bool {
  if (!splitAt(set, start) || !splitAt(set, end)) return false;
  let i = firstEndingAbove(set, start);
  while (i < set.count && regionAt(set, i).start < end) removeAt(set, i);
  return true;
}

/** Frees every region and the array. */
export function clearRegions(set: RegionSet): void {
  while (set.count > 0) removeAt(set, set.count - 1);
  if (set.items != 0) kfree(set.items);
  set.items = 0;
  set.capacity = 0;
}

/** Start of the highest free gap of `size` bytes inside [low, high) (mmap grows down); 0 if none. */
export function findGapBelow(set: RegionSet, size: u64, low: u64, high: u64): u64 {
  let top = high;
  let i = <i32>set.count - 1;
  while (i >= 0 && regionAt(set, <u32>i).start >= high) i--;
  while (true) {
    const bottom = i >= 0 ? max(regionAt(set, <u32>i).end, low) : low;
    if (top >= bottom + size && top - size >= low) return top - size;
    if (i < 0) return 0;
    top = min(top, regionAt(set, <u32>i).start);
    i--;
  }
}
