// The memory a core dump shows (Linux's get_dump_page): each page as the
// process would read it, without making a page that does not exist yet.
// Untouched anonymous memory, the zero page and an object's holes are
// holes in the core; a file page not in the page cache yet is read in, as
// Linux faults it in, because it has bytes to show, and so is a page out
// in swap (into the swap cache: it stays out).
import { AddressSpace, releaseUserFrame } from "./address_space";
import { FrameState, PAGE_SIZE, frame, frameNumber } from "./frame";
import { MemoryObject } from "./memory_object";
import { getCachedPage, isHole } from "./page_cache";
import { PTE_ADDRESS, PTE_PRESENT, isSwapPte, leafEntry, nextPossiblyMapped, rawEntry, swapEntryOfPte } from "./page_table";
import { getSwapPage, releaseSwapPage } from "./swap_in";
import { PROT_WRITE, Region } from "./region";

/** The frame `page` of `space` maps, or 0. */
function mappedFrame(space: AddressSpace, page: u64): u32 {
  const entry = leafEntry(space.root, page);
  return (entry & PTE_PRESENT) != 0 ? <u32>(entry & PTE_ADDRESS) : 0;
}

/**
 * Copies a page that is out in swap to `into` (from the swap cache, read
 * into it first if need be), leaving it out; false when its slot cannot be
 * read or no frame can be had: a hole, as Linux leaves out a page it cannot get.
 */
function readSwappedPage(space: AddressSpace, page: u64, into: u32): bool {
  while (true) {
    const pte = rawEntry(space.root, page);
    if (!isSwapPte(pte)) return false; // brought back in meanwhile: the caller looks again
    const got = getSwapPage(swapEntryOfPte(pte));
    if (got < 0) return false;
    if (got == 0) continue; // it slept: the entry may have changed
    memory.copy(into, <u32>got, PAGE_SIZE);
    releaseSwapPage(<u32>got);
    return true;
  }
}

/** Copies the page at `page` of `region` to `into`; false, with nothing copied, when the core has a hole there. */
export function readDumpPage(space: AddressSpace, region: Region, page: u64, into: u32): bool {
  if (isSwapPte(rawEntry(space.root, page)) && readSwappedPage(space, page, into)) return true;
  const mapped = mappedFrame(space, page);
  if (mapped != 0) {
    if (frame(frameNumber(mapped)).state == FrameState.ZeroPage) return false;
    memory.copy(into, mapped, PAGE_SIZE);
    return true;
  }
  const inRegion = page - region.start;
  if (region.object == null || inRegion >= region.fileBytes) return false;
  const object = changetype<MemoryObject>(region.object);
  const offset = region.fileOffset + inRegion;
  if (offset >= object.size) return false; // past the end of the file: a touch would be a bus error
  const index = <u32>(offset / PAGE_SIZE);
  if (isHole(object, index)) return false;
  const got = getCachedPage(object, index);
  if (got < 0) return false; // no frame to read it into, or unreadable: left out, as Linux leaves out a page it cannot get
  const cached = <u32>got;
  memory.copy(into, cached, PAGE_SIZE);
  releaseUserFrame(cached, false);
  // Where an ELF segment's file bytes end the process sees zeros (fault.ts), not what follows in the file.
  const fileBytesHere = region.fileBytes - inRegion;
  if (fileBytesHere < PAGE_SIZE) memory.fill(into + <u32>fileBytesHere, 0, PAGE_SIZE - <u32>fileBytesHere);
  return true;
}

/**
 * Whether `region` maps a page of the process's own: anonymous memory it
 * wrote, or a private copy of a file page. Linux's anon_vma, which makes a
 * core show the whole of a private region.
 */
export function hasPrivatePages(space: AddressSpace, region: Region): bool {
  // Where a read-only segment's file bytes end the kernel made the copy (to
  // zero its tail: fault.ts), not the process; Linux maps the file page there.
  const tail = region.fileBytes & (PAGE_SIZE - 1);
  const madeByKernel = tail != 0 && (region.protection & PROT_WRITE) == 0 ? region.start + region.fileBytes - tail : U64.MAX_VALUE;
  let page = region.start;
  while (page < region.end) {
    const next = nextPossiblyMapped(space.root, page);
    if (next != page) {
      page = next;
      continue;
    }
    const mapped = mappedFrame(space, page);
    if (mapped != 0 && page != madeByKernel && frame(frameNumber(mapped)).state == FrameState.Anonymous) return true;
    page += PAGE_SIZE;
  }
  return false;
}
