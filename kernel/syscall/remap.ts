// mremap, with the checks of Linux 6.1's mm/mremap.c in their order and
// its errnos. Shrinking unmaps the tail; growing extends the region in
// place when nothing follows it, or else (MREMAP_MAYMOVE) moves it, its
// page-table entries and not its bytes, to a free range; MREMAP_FIXED
// moves it to a given address, unmapping whatever was there;
// MREMAP_DONTUNMAP moves the pages and leaves the old range mapped and
// empty. An old size of 0 duplicates a shared mapping.
import { AddressSpace, USER_MAP_END, USER_START, regionsOf, unmapRegions } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { PROT_WRITE, REGION_LOCKED, REGION_SHARED, REGION_STACK, Region, extendRegion, findRegion } from "../mm/region";
import { exceedsLimits } from "./address_limits";
import { moveRange } from "../mm/region_move";
import { isVdsoObject } from "../mm/vdso";
import { Process, spaceOf } from "../proc/process";
import { EFAULT, EINVAL, ENOMEM } from "./errno";
import { faultIn, overlaps, placeMapping } from "./memory";

const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;
const MREMAP_DONTUNMAP: u64 = 4;

@inline function pageUp(x: u64): u64 {
  return (x + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
}

/** munmap of the part given up when shrinking, with munmap's answers. */
function unmapTail(space: AddressSpace, start: u64, length: u64): i64 {
  if (start > USER_MAP_END || length > USER_MAP_END - start) return -EINVAL;
  return unmapRegions(space, start, start + length) ? 0 : -ENOMEM;
}

/**
 * Linux's vma_to_resize: whether [old, old + oldLength) of `region` may
 * become `newLength` bytes; 0 or -errno. The vDSO is a special mapping
 * (Linux's VM_DONTEXPAND): it may move or shrink, not grow or stay behind.
 */
function checkResize(region: Region, old: u64, oldLength: u64, newLength: u64, flags: u64): i64 {
  // A duplicate of private memory would share nothing with it.
  if (oldLength == 0 && (region.flags & REGION_SHARED) == 0) return -EINVAL;
  const special = isVdsoObject(region.object);
  if ((flags & MREMAP_DONTUNMAP) != 0 && special) return -EINVAL;
  if (oldLength > region.end - old) return -EFAULT; // the old range runs past its region
  if (newLength > oldLength && special) return -EFAULT;
  return 0;
}

/** Locked memory that grew is faulted in, as Linux populates it. */
function populateGrowth(process: Process, start: u64, oldLength: u64, newLength: u64): void {
  const region = findRegion(regionsOf(spaceOf(process)), start);
  if (region != null && (region.flags & REGION_LOCKED) != 0 && newLength > oldLength) {
    faultIn(process, region, start + oldLength, start + newLength);
  }
}

function move(process: Process, old: u64, oldLength: u64, to: u64, newLength: u64, keepOld: bool): i64 {
  if (!moveRange(spaceOf(process), old, oldLength, to, newLength, keepOld || oldLength == 0)) return -ENOMEM;
  populateGrowth(process, to, oldLength, newLength);
  return <i64>to;
}

/** Linux's mremap_to: MREMAP_FIXED, or MREMAP_DONTUNMAP with `newAddress` as a hint. */
function remapTo(process: Process, old: u64, oldLength: u64, newLength: u64, flags: u64, newAddress: u64): i64 {
  const space = spaceOf(process);
  if ((newAddress & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  if (newLength > USER_MAP_END || newAddress > USER_MAP_END - newLength) return -EINVAL;
  if (old + oldLength > newAddress && newAddress + newLength > old) return -EINVAL; // the ranges overlap
  const fixed = (flags & MREMAP_FIXED) != 0;
  if (fixed) {
    if (newAddress < USER_START) return -ENOMEM; // never mapped, as mmap's MAP_FIXED refuses it
    if (!unmapRegions(space, newAddress, newAddress + newLength)) return -ENOMEM;
  }
  if (oldLength > newLength) {
    const result = unmapTail(space, old + newLength, oldLength - newLength);
    if (result != 0) return result;
    oldLength = newLength;
  }
  // Looked up again: the unmapping above may have split it.
  const region = findRegion(regionsOf(space), old);
  if (region == null) return -EFAULT;
  const refused = checkResize(region, old, oldLength, newLength, flags);
  if (refused != 0) return refused;
  const to = fixed ? newAddress : placeMapping(space, newAddress, newLength, false);
  if (to == 0) return -ENOMEM;
  return move(process, old, oldLength, to, newLength, (flags & MREMAP_DONTUNMAP) != 0);
}

export function sysMremap(process: Process, old: u64, oldSize: u64, newSize: u64, flags: u64, newAddress: u64): i64 {
  if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0) return -EINVAL;
  if ((flags & MREMAP_FIXED) != 0 && (flags & MREMAP_MAYMOVE) == 0) return -EINVAL;
  // MREMAP_DONTUNMAP always moves, and never resizes.
  if ((flags & MREMAP_DONTUNMAP) != 0 && ((flags & MREMAP_MAYMOVE) == 0 || oldSize != newSize)) return -EINVAL;
  if ((old & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  const oldLength = pageUp(oldSize);
  const newLength = pageUp(newSize);
  if (newLength == 0) return -EINVAL;
  const space = spaceOf(process);
  const region = findRegion(regionsOf(space), old);
  if (region == null) return -EFAULT;
  if (newLength > oldLength && exceedsLimits(process, newLength - oldLength,
    (region.protection & PROT_WRITE) != 0 && (region.flags & (REGION_SHARED | REGION_STACK)) == 0)) return -ENOMEM;
  if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0) return remapTo(process, old, oldLength, newLength, flags, newAddress);
  if (oldLength >= newLength) {
    if (oldLength == newLength) return <i64>old;
    const result = unmapTail(space, old + newLength, oldLength - newLength);
    return result != 0 ? result : <i64>old;
  }
  const refused = checkResize(region, old, oldLength, newLength, flags);
  if (refused != 0) return refused;
  const oldEnd = region.end;
  const newEnd = old + newLength;
  // Grow in place when the old range ends the region and nothing follows it.
  if (old + oldLength == oldEnd && newEnd > oldEnd && newEnd <= USER_MAP_END && !overlaps(space, oldEnd, newEnd)) {
    extendRegion(region, newEnd);
    populateGrowth(process, old, oldLength, newLength);
    return <i64>old;
  }
  if ((flags & MREMAP_MAYMOVE) == 0) return -ENOMEM;
  const to = placeMapping(space, 0, newLength, false);
  if (to == 0) return -ENOMEM;
  return move(process, old, oldLength, to, newLength, false);
}
