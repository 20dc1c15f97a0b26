// The swap cache: anonymous pages by swap slot (Linux's swapper_spaces).
// A page on its way out is in it while it is written, so that a fault on
// one of its swap entries meanwhile maps it again without any I/O; a page
// read back in is in it until no page table holds its slot any more, so
// that after fork every process faulting on the same entry maps the one
// frame the first one read. A page in the cache is the slot's exact copy:
// none of its mappings is writable (a write takes it out, fault.ts), so
// reclaim can drop it again without writing.
//
// Such a frame is still Anonymous: Frame.owner and pageIndex keep its
// reverse map (anon_family.ts); FRAME_SWAP_CACHE says it is here,
// Frame.next holds its swap entry, Frame.data links its hash chain. The
// cache holds one reference, as the page cache does.
import { allocPages } from "./buddy";
import { FRAME_SWAP_CACHE, Frame, FrameState, NO_FRAME, frame, frameAddress, frameNumber } from "./frame";
import { managedFrames } from "./frame_database";
import { dropSlotCache, entryArea, markSlotCached } from "./swap_area";

const FRAMES_PER_BUCKET: u32 = 16;
const MIN_BUCKET_BITS: u32 = 10;
const FRAME_DATA_OFFSET: u32 = 28; // a chain's links are the frames' data words (frame.ts draws the record)
let buckets: u32 = 0; // made at the first swapon
let bucketShift: u32 = 0;
let cachedPages: u32 = 0;

/** Pages in the swap cache: /proc/meminfo's SwapCached. */
export function swapCachedPages(): u32 {
  return cachedPages;
}

/**
 * Makes the hash chains, if not made yet: at swapon, since the first page
 * goes out when memory is short and a block for them may be hard to find
 * then. False when out of memory.
 */
export function prepareSwapCache(): bool {
  if (buckets != 0) return true;
  let bits = MIN_BUCKET_BITS;
  while (bits < 20 && (<u32>1 << bits) * FRAMES_PER_BUCKET < managedFrames) bits++;
  const order = bits - MIN_BUCKET_BITS;
  const table = allocPages(order, FrameState.KernelObject, false);
  if (table == 0) return false;
  for (let i: u32 = 0; i < (<u32>1 << bits); i++) store<u32>(table + i * 4, NO_FRAME);
  buckets = table;
  bucketShift = 32 - bits;
  return true;
}

@inline function bucketOf(entry: u32): u32 {
  return buckets + ((entry * 0x9e3779b1) >> bucketShift) * 4;
}

/** The swap cache's frame (linear address) for `entry`, or 0. Takes no reference. */
export function findSwapCachePage(entry: u32): u32 {
  if (buckets == 0) return 0;
  let pfn = load<u32>(bucketOf(entry));
  while (pfn != NO_FRAME) {
    const f = frame(pfn);
    if (f.next == entry) return frameAddress(pfn);
    pfn = f.data;
  }
  return 0;
}

/**
 * Puts anonymous frame `page` in the cache for slot `entry` (which has no
 * page there yet), the cache taking a reference.
 */
export function addToSwapCache(page: u32, entry: u32): void {
  assert(buckets != 0, "addToSwapCache: no swapon made the chains");
  const pfn = frameNumber(page);
  const f = frame(pfn);
  assert(f.state == FrameState.Anonymous && (f.flags & FRAME_SWAP_CACHE) == 0, "addToSwapCache: not a free-standing anonymous page");
  const bucket = bucketOf(entry);
  f.next = entry;
  f.data = load<u32>(bucket);
  store<u32>(bucket, pfn);
  f.flags |= FRAME_SWAP_CACHE;
  f.refCount++;
  markSlotCached(entry);
  cachedPages++;
  return true;
}

/**
 * Takes `page` out of the cache: the slot no longer has a page there, and
 * the cache's reference goes (the frame is freed if it was the last: the
 * caller handles that through the returned count). Returns the references left.
 */
export function removeFromSwapCache(page: u32): u32 {
  const pfn = frameNumber(page);
  const f: Frame = frame(pfn);
  assert((f.flags & FRAME_SWAP_CACHE) != 0, "removeFromSwapCache: page not in the swap cache");
  let link = bucketOf(f.next);
  while (load<u32>(link) != pfn) link = changetype<u32>(frame(load<u32>(link))) + FRAME_DATA_OFFSET;
  store<u32>(link, f.data);
  f.flags &= ~FRAME_SWAP_CACHE;
  const entry = f.next;
  f.next = NO_FRAME;
  f.data = 0;
  cachedPages--;
  dropSlotCache(entry);
  return --f.refCount;
}

/** The swap entry of a page in the cache. */
@inline export function swapEntryOf(page: u32): u32 {
  return frame(frameNumber(page)).next;
}

/**
 * Calls `visit(frame address)` for each cached page of swap area `area`
 * (swapoff's last sweep). The visit may take the page out of the cache,
 * but must not sleep.
 */
export function forEachSwapCachePage(area: u32, visit: (page: u32) => void): void {
  if (buckets == 0) return;
  for (let link = buckets; link < buckets + ((<u32>1 << (32 - bucketShift)) * 4); link += 4) {
    let pfn = load<u32>(link);
    while (pfn != NO_FRAME) {
      const f = frame(pfn);
      const next = f.data;
      if (entryArea(f.next) == area) visit(frameAddress(pfn));
      pfn = next;
    }
  }
}
