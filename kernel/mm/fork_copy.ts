// Copying an address space for fork without copying memory: regions are
// duplicated, and every present page is mapped into the child as well,
// read-only in both when it is private and writable, with its frame's
// reference and map counts raised. The first write on either side then
// takes the copy-on-write path (fault.ts).
import { AddressSpace, regionsOf, setProgram } from "./address_space";
import { FrameState, frame, frameNumber } from "./frame";
import { readCr3, writeCr3 } from "../arch/x86_64/cpu";
import { HUGE_PAGE_SIZE, PTE_ADDRESS, PTE_PRESENT, PTE_WRITABLE, nextPossiblyMapped, shareChunk, swapEntryOfPte } from "./page_table";
import { retainSwapEntry } from "./swap_area";
import { MemoryObject } from "./memory_object";
import { inheritFamily } from "./anon_family";
import { REGION_LOCKED, REGION_SHARED, Region, addRegion, attachObject, regionAt } from "./region";

function copyRegion(into: AddressSpace, from: Region): Region | null {
  // As on Linux, memory locks are not inherited.
  const region = addRegion(regionsOf(into), from.start, from.end, from.protection, from.flags & ~REGION_LOCKED);
  if (region == null || !inheritFamily(region, from)) return null;
  region.space = changetype<u32>(into);
  if (from.object != null) attachObject(region, changetype<MemoryObject>(from.object), changetype<u32>(into));
  region.fileOffset = from.fileOffset;
  region.fileBytes = from.fileBytes;
  return region;
}

const shared = memory.data(512 * 8, 8); // the entries one page table shared

/**
 * Shares the present pages of `region` with the child, one page table
 * (2 MiB) at a time (shareChunk), then raises the reference and map counts
 * of their frames. The caller flushes the parent's TLB once at the end.
 */
function sharePages(parent: AddressSpace, child: AddressSpace, region: Region): bool {
  const clearBits = (region.flags & REGION_SHARED) == 0 ? PTE_WRITABLE : 0;
  let at = region.start;
  while (at < region.end) {
    const next = nextPossiblyMapped(parent.root, at);
    if (next != at) {
      at = next;
      continue;
    }
    const chunkEnd = min(region.end, (at | (HUGE_PAGE_SIZE - 1)) + 1);
    const n = shareChunk(parent.root, child.root, at, chunkEnd, clearBits, <u32>shared);
    if (n < 0) return false;
    let counted: u32 = 0;
    for (let i: u32 = 0; i < <u32>n; i++) {
      const entry = load<u64>(shared + i * 8);
      if ((entry & PTE_PRESENT) == 0) { // a page that is out: the child holds its slot too
        retainSwapEntry(swapEntryOfPte(entry));
        child.swapPages++;
        continue;
      }
      const f = frame(frameNumber(<u32>(entry & PTE_ADDRESS)));
      if (f.state == FrameState.ZeroPage) continue;
      f.refCount++;
      f.mapCount++;
      counted++;
    }
    child.residentPages += counted;
    child.sharedAtFork += counted;
    at = chunkEnd;
  }
  return true;
}

/** Makes `child` (new and empty) a copy-on-write copy of `parent`. False when out of memory. */
export function copyAddressSpace(parent: AddressSpace, child: AddressSpace): bool {
  child.brkStart = parent.brkStart;
  setProgram(child, parent.program);
  child.brkEnd = parent.brkEnd;
  child.argStart = parent.argStart;
  child.argEnd = parent.argEnd;
  child.envStart = parent.envStart;
  child.envEnd = parent.envEnd;
  child.mmapTop = parent.mmapTop;
  child.auxv = parent.auxv;
  const regions = regionsOf(parent);
  let ok = true;
  for (let i: u32 = 0; ok && i < regions.count; i++) {
    const region = copyRegion(child, regionAt(regions, i));
    ok = region != null && sharePages(parent, child, region);
  }
  // Parent entries lost their write permission: one flush for all of them
  // (kernel mappings are global and survive it).
  writeCr3(readCr3());
  return ok;
}
