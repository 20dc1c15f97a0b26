// madvise: advice about a range of memory, region by region, with Linux's
// answers (advice it cannot take on a region ends the walk with its errno;
// unmapped gaps in the range are ENOMEM at the end).
import { AddressSpace, regionsOf, unmapUserRange } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { punchHole } from "../mm/hole";
import { MemoryObject } from "../mm/memory_object";
import {
  PROT_WRITE, REGION_FILE, REGION_LOCKED, REGION_NO_DUMP, REGION_SHARED, Region, findRegion, firstEndingAbove, regionAt, splitAt,
} from "../mm/region";
import { isVdsoObject } from "../mm/vdso";
import { Process, spaceOf } from "../proc/process";
import { EACCES, EINVAL, ENOMEM } from "./errno";

const MADV_NORMAL: u64 = 0;
const MADV_RANDOM: u64 = 1;
const MADV_SEQUENTIAL: u64 = 2;
const MADV_WILLNEED: u64 = 3;
const MADV_DONTNEED: u64 = 4;
const MADV_FREE: u64 = 8;
const MADV_REMOVE: u64 = 9;
const MADV_DONTDUMP: u64 = 16;
const MADV_DODUMP: u64 = 17;
const MADV_COLD: u64 = 20;
const MADV_PAGEOUT: u64 = 21;
const MADV_DONTNEED_LOCKED: u64 = 24;

/**
 * The advice taken. Hints about read-ahead and reclaim change nothing we
 * do (there is no read-ahead, no anonymous reclaim), so taking them is
 * honest; MADV_DONTDUMP and MADV_DODUMP mark what a core shows. Advice
 * that would change behaviour we lack (fork inheritance, huge pages,
 * merging, populating) is refused with EINVAL, as a Linux kernel built
 * without that feature answers.
 */
function known(advice: u64): bool {
  return advice == MADV_NORMAL || advice == MADV_RANDOM || advice == MADV_SEQUENTIAL || advice == MADV_WILLNEED ||
    advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE || advice == MADV_DONTDUMP ||
    advice == MADV_DODUMP || advice == MADV_COLD || advice == MADV_PAGEOUT || advice == MADV_DONTNEED_LOCKED;
}

/**
 * MADV_REMOVE (Linux's madvise_remove): a hole punched in the object a
 * writable shared mapping maps, so every mapper reads zeros there and the
 * pages are freed. Anonymous private memory has no object (EINVAL); any
 * other mapping may not write the object (EACCES).
 */
function remove(region: Region, from: u64, to: u64): i64 {
  const object = region.object;
  if (object == null || isVdsoObject(object)) return -EINVAL;
  if ((region.flags & REGION_SHARED) == 0 || (region.protection & PROT_WRITE) == 0) return -EACCES;
  const offset = region.fileOffset + (from - region.start);
  return punchHole(changetype<MemoryObject>(object), offset, to - from) ? 0 : -ENOMEM;
}

/** The advice for [from, to), part of `region`: 0 or -errno. */
function advise(space: AddressSpace, region: Region, from: u64, to: u64, advice: u64): i64 {
  // Locked pages may not be dropped or pushed out (Linux: VM_LOCKED).
  const locked = (region.flags & REGION_LOCKED) != 0;
  if (locked && (advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE ||
    advice == MADV_COLD || advice == MADV_PAGEOUT)) {
    return -EINVAL;
  }
  if (advice == MADV_REMOVE) return remove(region, from, to);
  // MADV_FREE may drop the pages whenever it likes; at once is allowed.
  if (advice == MADV_FREE && (region.flags & (REGION_SHARED | REGION_FILE)) != 0) return -EINVAL;
  if (advice == MADV_DONTNEED || advice == MADV_DONTNEED_LOCKED || advice == MADV_FREE) unmapUserRange(space, from, to);
  return 0;
}

/**
 * MADV_DONTDUMP and MADV_DODUMP (Linux's VM_DONTDUMP): a core leaves the
 * range out, or shows it again; a region is split where its mark changes.
 * As on Linux, MADV_DODUMP refuses the special mappings (the vDSO) with
 * EINVAL, and unmapped gaps are ENOMEM once the mapped parts are marked.
 */
function setNoDump(space: AddressSpace, start: u64, end: u64, noDump: bool): i64 {
  const set = regionsOf(space);
  let at = start;
  let gap = false;
  while (at < end) {
    const i = firstEndingAbove(set, at);
    if (i == set.count || regionAt(set, i).start >= end) return -ENOMEM;
    const region = regionAt(set, i);
    if (region.start > at) gap = true;
    const from = max(region.start, at);
    const stop = min(region.end, end);
    if (!noDump && isVdsoObject(region.object)) return -EINVAL;
    if (((region.flags & REGION_NO_DUMP) != 0) != noDump) {
      if (!splitAt(set, from) || !splitAt(set, stop)) return -ENOMEM;
      const piece = changetype<Region>(findRegion(set, from));
      piece.flags = noDump ? piece.flags | REGION_NO_DUMP : piece.flags & ~REGION_NO_DUMP;
    }
    at = stop;
  }
  return gap ? -ENOMEM : 0;
}

/** madvise. Dropped pages read as zeros on the next touch, or as the file again. */
export function sysMadvise(process: Process, start: u64, length: u64, advice: u64): i64 {
  if (!known(advice) || (start & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  const end = (start + length + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
  if (end < start || (length != 0 && end == start)) return -EINVAL;
  if (end == start) return 0;
  const space = spaceOf(process);
  if (advice == MADV_DONTDUMP || advice == MADV_DODUMP) return setNoDump(space, start, end, advice == MADV_DONTDUMP);
  const set = regionsOf(space);
  let covered = start;
  let gap = false;
  for (let i = firstEndingAbove(set, start); i < set.count && regionAt(set, i).start < end; i++) {
    const region = regionAt(set, i);
    if (region.start > covered) gap = true;
    const from = max(region.start, start);
    const to = min(region.end, end);
    const result = advise(space, region, from, to, advice);
    if (result != 0) return result;
    covered = to;
  }
  return gap || covered < end ? -ENOMEM : 0;
}
