// mremap's move (Linux's move_vma and move_page_tables): part of a region
// goes to another address with its page-table entries, never its bytes.
// A frame keeps its holders and counts (its mapping changes address, not
// owner), and the new region maps the same object at the same offset, so
// the object's list of mappers stays right for truncation and hole
// punching.
import { readCr3, writeCr3 } from "../arch/x86_64/cpu";
import { AddressSpace, regionsOf } from "./address_space";
import { PAGE_SIZE } from "./frame";
import { inheritFamily, leaveFamily } from "./anon_family";
import { MemoryObject } from "./memory_object";
import { HUGE_PAGE_SIZE, PTE_ADDRESS, freeTableIfEmpty, moveEntries, nextPossiblyMapped, pageTableFor } from "./page_table";
import {
  REGION_HEAP, REGION_LOCKED, REGION_STACK, Region, attachObject, findRegion, insertRegion, newRegion, removeRange, splitAt,
} from "./region";
import { kfree } from "./slab";

/** Bytes from `from` to the first page-table boundary of either range (`to` moves in step), at most to `end`. */
function stepBytes(from: u64, to: u64, end: u64): u64 {
  const fromLeft = ((from | (HUGE_PAGE_SIZE - 1)) + 1) - from;
  const toLeft = ((to | (HUGE_PAGE_SIZE - 1)) + 1) - to;
  return min(end - from, min(fromLeft, toLeft));
}

function freeEmptyTablesIn(space: AddressSpace, start: u64, end: u64): void {
  let at = start;
  while (at < end) {
    const next = nextPossiblyMapped(space.root, at);
    if (next != at) {
      at = next;
      continue;
    }
    freeTableIfEmpty(space.root, at);
    at = (at | (HUGE_PAGE_SIZE - 1)) + 1;
  }
}

/**
 * Moves the page-table entries of [from, from + length) to [to, to +
 * length), which has none. Every table the destination needs is made
 * before any entry moves, so running out of memory leaves the entries
 * where they were; moving them then cannot fail. Tables left empty on
 * either side are freed at the end. False when out of memory.
 */
function movePageTables(space: AddressSpace, from: u64, to: u64, length: u64): bool {
  const end = from + length;
  let at = from;
  while (at < end) {
    const next = nextPossiblyMapped(space.root, at);
    if (next != at) {
      at = next;
      continue;
    }
    const target = to + (at - from);
    if (pageTableFor(space.root, target, true) == 0) {
      freeEmptyTablesIn(space, to, to + length);
      return false;
    }
    at += stepBytes(at, target, end);
  }
  at = from;
  while (at < end) {
    const next = nextPossiblyMapped(space.root, at);
    if (next != at) {
      at = next;
      continue;
    }
    const target = to + (at - from);
    const step = stepBytes(at, target, end);
    const toTable = pageTableFor(space.root, target, false);
    // No table there means the first pass saw no source table either (this
    // one was made as a destination since), so there is nothing to move.
    if (toTable != 0) moveEntries(pageTableFor(space.root, at, false), at, toTable, target, <u32>(step / PAGE_SIZE));
    at += step;
  }
  if (<u32>(readCr3() & PTE_ADDRESS) == space.root) writeCr3(readCr3());
  freeEmptyTablesIn(space, from, end);
  freeEmptyTablesIn(space, to, to + length);
  return true;
}

/**
 * Moves [from, from + oldLength), which lies in one region, to [to, to +
 * newLength), where nothing is: a new region there maps what the old one
 * mapped from `from` on (object, offset, protection, sharing) and takes
 * over its page-table entries. The old range is then removed, or with
 * `keepOld` (MREMAP_DONTUNMAP, or an old length of 0, which duplicates a
 * shared mapping) stays with no page mapped and, as on Linux, no longer
 * locked. False, with nothing changed but perhaps a region split, when out
 * of memory.
 */
export function moveRange(space: AddressSpace, from: u64, oldLength: u64, to: u64, newLength: u64, keepOld: bool): bool {
  const set = regionsOf(space);
  // Split first: removing the old range at the end must not fail.
  if (!keepOld && (!splitAt(set, from) || !splitAt(set, from + oldLength))) return false;
  const old = changetype<Region>(findRegion(set, from));
  // The brk area and the stack are where they were; the moved copy is neither.
  const region = newRegion(to, to + newLength, old.protection, old.flags & ~(REGION_HEAP | REGION_STACK));
  if (region == null) return false;
  if (!inheritFamily(region, old)) {
    kfree(changetype<u32>(region));
    return false;
  }
  if (!insertRegion(set, region)) {
    leaveFamily(region);
    kfree(changetype<u32>(region));
    return false;
  }
  const skipped = from - old.start;
  region.space = changetype<u32>(space);
  region.fileOffset = old.fileOffset + skipped;
  const rest = old.fileBytes > skipped ? old.fileBytes - skipped : 0;
  region.fileBytes = rest >= old.end - from ? newLength : min(rest, newLength);
  if (old.object != null) attachObject(region, changetype<MemoryObject>(old.object), changetype<u32>(space));
  if (!movePageTables(space, from, to, oldLength)) {
    removeRange(set, to, to + newLength);
    return false;
  }
  if (keepOld) old.flags &= ~REGION_LOCKED;
  else removeRange(set, from, from + oldLength);
  return true;
}
