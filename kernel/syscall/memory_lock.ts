// mlock, mlock2, munlock, mlockall, munlockall. A lock marks the regions
// (REGION_LOCKED, counted in /proc/PID/status's VmLck; MADV_DONTNEED
// refuses them, and reclaim never puts their pages out to swap:
// mm/swap_out.ts), and faults the pages in now unless MLOCK_ONFAULT or
// MCL_ONFAULT says to wait for the first touch. Under mlockall(MCL_FUTURE)
// every new mapping is locked and faulted in. RLIMIT_MEMLOCK binds only
// processes without CAP_IPC_LOCK, and every process here is root.
import { AddressSpace, regionsOf } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { PROT_EXEC, PROT_READ, PROT_WRITE, REGION_LOCKED, Region, findRegion, firstEndingAbove, regionAt, splitAt } from "../mm/region";
import { isVdsoObject } from "../mm/vdso";
import { Process, spaceOf } from "../proc/process";
import { EINVAL, ENOMEM } from "./errno";
import { covered, faultIn, populate } from "./memory";

const MLOCK_ONFAULT: u64 = 1;
const MCL_CURRENT: u64 = 1;
const MCL_FUTURE: u64 = 2;
const MCL_ONFAULT: u64 = 4;

/** Linux never locks its special mappings (the vDSO and its data page). */
@inline function lockable(region: Region): bool {
  return !isVdsoObject(region.object);
}

/**
 * Locks or unlocks [start, end), splitting only regions whose state
 * changes; ENOMEM if a page of it is not mapped or a split finds no memory.
 */
function setLocked(space: AddressSpace, start: u64, end: u64, locked: bool): i64 {
  if (!covered(space, start, end)) return -ENOMEM;
  const set = regionsOf(space);
  let at = start;
  while (at < end) {
    const region = changetype<Region>(findRegion(set, at));
    const stop = min(end, region.end);
    if (lockable(region) && ((region.flags & REGION_LOCKED) != 0) != locked) {
      if (!splitAt(set, at) || !splitAt(set, stop)) return -ENOMEM;
      const piece = changetype<Region>(findRegion(set, at));
      piece.flags = locked ? piece.flags | REGION_LOCKED : piece.flags & ~REGION_LOCKED;
    }
    at = stop;
  }
  return 0;
}

function pageRange(start: u64, length: u64): u64 {
  return (start + length + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
}

export function sysMlock(process: Process, start: u64, length: u64, flags: u64): i64 {
  if ((flags & ~MLOCK_ONFAULT) != 0) return -EINVAL;
  const first = start & ~(<u64>PAGE_SIZE - 1);
  const end = pageRange(start, length);
  if (end < first) return -EINVAL;
  const space = spaceOf(process);
  const marked = setLocked(space, first, end, true);
  if (marked < 0 || (flags & MLOCK_ONFAULT) != 0) return marked;
  const set = regionsOf(space);
  for (let i = firstEndingAbove(set, first); i < set.count && regionAt(set, i).start < end; i++) {
    const region = regionAt(set, i);
    if (!faultIn(process, region, max(region.start, first), min(region.end, end))) return -ENOMEM;
  }
  return 0;
}

export function sysMunlock(process: Process, start: u64, length: u64): i64 {
  const first = start & ~(<u64>PAGE_SIZE - 1);
  const end = pageRange(start, length);
  if (end < first) return -EINVAL;
  return setLocked(spaceOf(process), first, end, false);
}

/** mlockall: MCL_CURRENT locks (and faults in) every region now, MCL_FUTURE every one made later; one without the other clears it. */
export function sysMlockall(process: Process, flags: u64): i64 {
  if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) != 0 || flags == MCL_ONFAULT) return -EINVAL;
  const space = spaceOf(process);
  space.newRegionFlags = (flags & MCL_FUTURE) != 0 ? REGION_LOCKED : 0;
  if ((flags & MCL_CURRENT) == 0) return 0;
  const set = regionsOf(space);
  for (let i: u32 = 0; i < set.count; i++) {
    const region = regionAt(set, i);
    if (!lockable(region)) continue;
    region.flags |= REGION_LOCKED;
    if ((flags & MCL_ONFAULT) != 0) continue;
    if ((region.protection & (PROT_READ | PROT_WRITE | PROT_EXEC)) == 0) continue; // Linux skips PROT_NONE too
    populate(process, region);
  }
  return 0;
}

export function sysMunlockall(process: Process): i64 {
  const space = spaceOf(process);
  space.newRegionFlags = 0;
  const set = regionsOf(space);
  for (let i: u32 = 0; i < set.count; i++) regionAt(set, i).flags &= ~REGION_LOCKED;
  return 0;
}
