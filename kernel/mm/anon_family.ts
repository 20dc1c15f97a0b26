// The reverse map of anonymous pages: from a frame to every page-table
// entry that maps it, so that reclaim can age it (accessed bits) and take
// it away (each entry becomes a swap entry). Linux's anon_vma, in its first
// form (2.6.0 to 2.6.33, before the chains): a region that gets its first
// anonymous page gets a family; the pieces a split makes, the copies fork
// makes and the region mremap moves it to join it. A frame records its
// family (Frame.owner) and its index (Frame.pageIndex): the page's offset in
// the region's linear numbering, fileOffset + (address - start), which a
// split, a fork and a move all keep. So every region that may map the
// frame is in the family, and the address there follows from the index.
//
// The cost: nothing in the frame record (32 bytes still: owner and
// pageIndex are the file's for a cache page, unused before for an
// anonymous one), a 12-byte family per region that ever had an anonymous
// page (with its array of 4-byte slots), and one slot per fork copy. A walk
// visits every region of the family, the price of sharing one family
// across a fork tree (Linux added the chains for tree-shaped workloads).
import { kfree, kmalloc } from "./slab";
import { Frame, PAGE_SHIFT } from "./frame";
import { Region } from "./region_record";

/**
 * A family's members: an array of Region addresses (a member knows its
 * place in it, Region.familySlot, so that leaving is O(1)).
 *
 *   0 items  4 count  8 capacity
 */
@unmanaged export class AnonFamily {
  items: u32;
  count: u32;
  capacity: u32;
}
const FAMILY_SIZE: u32 = 12;

export let familiesInUse: u32 = 0;

@inline export function familyMember(family: AnonFamily, i: u32): Region {
  return changetype<Region>(load<u32>(family.items + i * 4));
}

/** Makes `region` a member of `family`. False when out of memory (the region stays out of every family). */
export function joinFamily(region: Region, family: AnonFamily): bool {
  if (family.count == family.capacity) {
    const capacity = family.capacity == 0 ? 4 : family.capacity * 2;
    const items = kmalloc(capacity * 4);
    if (items == 0) return false;
    if (family.items != 0) {
      memory.copy(items, family.items, family.count * 4);
      kfree(family.items);
    }
    family.items = items;
    family.capacity = capacity;
  }
  store<u32>(family.items + family.count * 4, changetype<u32>(region));
  region.familySlot = family.count++;
  region.family = changetype<u32>(family);
  return true;
}

/** Takes `region` out of its family (it is going); the last member's leaving frees the family. */
export function leaveFamily(region: Region): void {
  if (region.family == 0) return;
  const family = changetype<AnonFamily>(region.family);
  const last = familyMember(family, --family.count);
  store<u32>(family.items + region.familySlot * 4, changetype<u32>(last));
  last.familySlot = region.familySlot;
  region.family = 0;
  if (family.count != 0) {
    shrink(family);
    return;
  }
  if (family.items != 0) kfree(family.items);
  kfree(changetype<u32>(family));
  familiesInUse--;
}

/** Halves the array once a quarter of it is used: a fork tree's copies gone, the family costs what it did before. */
function shrink(family: AnonFamily): void {
  if (family.capacity <= 4 || family.count > family.capacity / 4) return;
  const capacity = family.capacity / 2;
  const items = kmalloc(capacity * 4);
  if (items == 0) return; // it stays as large as it was, which loses nothing
  memory.copy(items, family.items, family.count * 4);
  kfree(family.items);
  family.items = items;
  family.capacity = capacity;
}

/** The family of `region` (of `space`), made at its first anonymous page; null when out of memory. */
export function familyFor(region: Region, space: u32): AnonFamily | null {
  if (region.family != 0) return changetype<AnonFamily>(region.family);
  region.space = space; // reclaim's walk goes from the region to its page tables
  const address = kmalloc(FAMILY_SIZE);
  if (address == 0) return null;
  const family = changetype<AnonFamily>(address);
  if (!joinFamily(region, family)) {
    kfree(address);
    return null;
  }
  familiesInUse++;
  return family;
}

/** A new region made from `from` (a split's upper piece, fork's copy, mremap's target) maps what it mapped: it joins its family. */
export function inheritFamily(region: Region, from: Region): bool {
  region.family = 0;
  return from.family == 0 || joinFamily(region, changetype<AnonFamily>(from.family));
}

/** Frame.pageIndex of an anonymous page of `region` at `address`; U32.MAX_VALUE when it does not fit (the page then has no reverse map). */
@inline export function anonIndex(region: Region, address: u64): u32 {
  const index = (region.fileOffset + (address - region.start)) >> PAGE_SHIFT;
  return index < <u64>U32.MAX_VALUE ? <u32>index : U32.MAX_VALUE;
}

/**
 * Gives a new anonymous frame of `region` at `address` its reverse map.
 * Without a family (no memory for one) or an index, the frame has none:
 * reclaim then never takes it, which loses nothing but the chance.
 */
export function setAnonymousRmap(f: Frame, region: Region, space: u32, address: u64): void {
  const family = familyFor(region, space);
  const index = anonIndex(region, address);
  f.owner = family == null || index == U32.MAX_VALUE ? 0 : changetype<u32>(family);
  f.pageIndex = index;
}

/** Where `member` maps page `index` of its family, or 0 when its range does not hold that index. */
export function addressInMember(member: Region, index: u32): u64 {
  const offset = <u64>index << PAGE_SHIFT;
  if (offset < member.fileOffset) return 0;
  const address = member.start + (offset - member.fileOffset);
  return address < member.end ? address : 0;
}
