// Punching a hole in a memory object (Linux's fallocate with
// FALLOC_FL_PUNCH_HOLE on tmpfs, which madvise MADV_REMOVE also uses): the
// bytes of the range read as zeros from then on, and the pages wholly
// inside it are given back, unmapped first from every process.
import { AddressSpace, releaseUserFrame } from "./address_space";
import { FrameState, PAGE_SIZE, frame, frameNumber } from "./frame";
import { MemoryObject } from "./memory_object";
import { dropCachedRange, findCachedPage, getCachedPage, markPageDirty } from "./page_cache";
import { PTE_ADDRESS, PTE_PRESENT, leafEntry, nextPossiblyMapped, unmapPage } from "./page_table";
import { Region } from "./region";

/**
 * Unmaps the object's own cached frames for indices [first, end) from
 * every region that maps the object. Private copies of them stay, as
 * Linux keeps them: a hole is not a truncation.
 */
function unmapCachedPages(object: MemoryObject, first: u32, end: u32): void {
  for (let at = object.mappings; at != 0; at = changetype<Region>(at).nextMapping) {
    const region = changetype<Region>(at);
    const space = changetype<AddressSpace>(region.space);
    const high = min(<u64>end * PAGE_SIZE, region.fileOffset + (region.end - region.start));
    let offset = max(<u64>first * PAGE_SIZE, region.fileOffset);
    while (offset < high) {
      const address = region.start + (offset - region.fileOffset);
      const next = nextPossiblyMapped(space.root, address);
      if (next != address) {
        offset += next - address;
        continue;
      }
      const entry = leafEntry(space.root, address);
      if ((entry & PTE_PRESENT) != 0) {
        const physical = <u32>(entry & PTE_ADDRESS);
        const f = frame(frameNumber(physical));
        if (f.state == FrameState.FileCache && f.owner == changetype<u32>(object)) {
          unmapPage(space.root, address);
          releaseUserFrame(physical, true);
          space.residentPages--;
        }
      }
      offset += PAGE_SIZE;
    }
  }
}

/**
 * Zeroes bytes [from, to) of page `index` in the cache and keeps the page
 * (dirty: the object could not read these bytes again). A page that is
 * not cached and lies past the object's source reads as zeros already
 * (readFromSource, readZeroes) and is left alone. False when out of memory.
 */
function zeroInCache(object: MemoryObject, index: u32, from: u32, to: u32): bool {
  if (findCachedPage(object, index) == 0 && <u64>index * PAGE_SIZE >= <u64>object.sourceBytes) return true;
  const got = getCachedPage(object, index);
  if (got < 0) return false;
  const page = <u32>got;
  memory.fill(page + from, 0, to - from);
  markPageDirty(page);
  releaseUserFrame(page, false);
  return true;
}

/**
 * Makes [offset, offset + length) of `object` a hole; its size stays.
 * Parts of pages are zeroed. Whole pages are dropped from the cache,
 * except those the object would read from its source again with their old
 * bytes (an initramfs file's archive): those are zeroed and kept. False
 * when a page to zero could not be had (the hole is then partly made).
 */
export function punchHole(object: MemoryObject, offset: u64, length: u64): bool {
  // The page holding the end of the object is whole to the hole.
  const objectEnd = (object.size + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
  const end = min(offset + length, objectEnd);
  if (offset >= end) return true;
  const firstPage = <u32>(offset / PAGE_SIZE);
  const firstInPage = <u32>(offset % PAGE_SIZE);
  const lastPage = <u32>(end / PAGE_SIZE);
  const lastInPage = <u32>(end % PAGE_SIZE);
  if (firstPage == lastPage) return zeroInCache(object, firstPage, firstInPage, lastInPage);
  if (firstInPage != 0 && !zeroInCache(object, firstPage, firstInPage, PAGE_SIZE)) return false;
  if (lastInPage != 0 && !zeroInCache(object, lastPage, 0, lastInPage)) return false;
  const whole = firstInPage != 0 ? firstPage + 1 : firstPage;
  const sourcePages = <u32>((<u64>object.sourceBytes + PAGE_SIZE - 1) / PAGE_SIZE);
  for (let index = whole; index < min(lastPage, sourcePages); index++) {
    if (!zeroInCache(object, index, 0, PAGE_SIZE)) return false;
  }
  const dropped = max(whole, sourcePages);
  if (dropped < lastPage) {
    unmapCachedPages(object, dropped, lastPage);
    dropCachedRange(object, dropped, lastPage);
  }
  return true;
}
