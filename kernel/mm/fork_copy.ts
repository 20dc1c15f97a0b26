// Copying an address space for fork without copying memory: regions are
// duplicated, and every present page is mapped into the child as well,
// read-only in both when it is private and writable, with its frame's
// reference and map counts raised. The first write on either side then
// takes the copy-on-write path (fault.ts).
import { AddressSpace, regionsOf } from "./address_space";
import { FrameState, PAGE_SIZE, frame, frameNumber } from "./frame";
import {
  MapResult, PTE_ADDRESS, PTE_PRESENT, PTE_WRITABLE, leafEntry, mapPage, nextPossiblyMapped, protectPage,
} from "./page_table";
import { REGION_SHARED, Region, insertRegion, newRegion, regionAt } from "./region";

function copyRegion(from: Region): Region | null {
  const region = newRegion(from.start, from.end, from.protection, from.flags);
  if (region == null) return null;
  region.inode = from.inode;
  region.fileOffset = from.fileOffset;
  region.fileBytes = from.fileBytes;
  return region;
}

function sharePages(parent: AddressSpace, child: AddressSpace, region: Region): bool {
  let at = region.start;
  const shared = (region.flags & REGION_SHARED) != 0;
  while (at < region.end) {
    const next = nextPossiblyMapped(parent.root, at);
    if (next != at) {
      at = next;
      continue;
    }
    const entry = leafEntry(parent.root, at);
    if (entry & PTE_PRESENT) {
      let flags = entry & ~PTE_ADDRESS;
      const physical = <u32>(entry & PTE_ADDRESS);
      if (!shared && (flags & PTE_WRITABLE) != 0) {
        flags &= ~PTE_WRITABLE;
        protectPage(parent.root, at, flags);
      }
      if (mapPage(child.root, at, physical, flags) != MapResult.Ok) return false;
      const f = frame(frameNumber(physical));
      if (f.state != FrameState.ZeroPage) {
        f.refCount++;
        f.mapCount++;
        child.residentPages++;
        child.sharedAtFork++;
      }
    }
    at += PAGE_SIZE;
  }
  return true;
}

/** Makes `child` (new and empty) a copy-on-write copy of `parent`. False when out of memory. */
export function copyAddressSpace(parent: AddressSpace, child: AddressSpace): bool {
  child.brkStart = parent.brkStart;
  child.brkEnd = parent.brkEnd;
  const regions = regionsOf(parent);
  for (let i: u32 = 0; i < regions.count; i++) {
    const region = copyRegion(regionAt(regions, i));
    if (region == null || !insertRegion(regionsOf(child), region)) return false;
    if (!sharePages(parent, child, region)) return false;
  }
  return true;
}
