// The kernel object allocator: size classes of 16 to 2048 bytes, each
// served from slab pages (one frame each) and larger requests from whole
// buddy blocks. A slab page's own frame record holds its bookkeeping:
//
//   Frame.owner     size class index (LARGE for a whole-block allocation)
//   Frame.data   first free object (linear address), 0 when full
//   Frame.pageIndex objects in use
//   Frame.next/prev links in its class's list of slabs with free objects
//
// Free objects are chained through their first four bytes.
import { MAX_ORDER, allocPage, allocPages, freePages } from "./buddy";
import { FRAME_BLOCK_HEAD, FRAME_SLAB, Frame, FrameState, NO_FRAME, PAGE_SIZE, frame, frameAddress, frameNumber } from "./frame";

const CLASS_COUNT: u32 = 8; // 16 << 0 .. 16 << 7 = 2048
const MIN_SHIFT: u32 = 4;
const LARGE: u32 = 0xff;
const MAX_SMALL: u32 = 16 << (CLASS_COUNT - 1);

// Per class: first slab page (frame number) with free objects.
const partialHeads = memory.data(CLASS_COUNT * 4, 4);
let objectsInUse: u32 = 0;
let slabPages: u32 = 0;

export function resetSlab(): void {
  for (let c: u32 = 0; c < CLASS_COUNT; c++) store<u32>(partialHeads + c * 4, NO_FRAME);
  objectsInUse = 0;
  slabPages = 0;
}

@inline function objectSize(sizeClass: u32): u32 {
  return 1 << (sizeClass + MIN_SHIFT);
}

function sizeClassOf(size: u32): u32 {
  let c: u32 = 0;
  while (objectSize(c) < size) c++;
  return c;
}

@inline function partialHead(sizeClass: u32): u32 {
  return load<u32>(partialHeads + sizeClass * 4);
}

function pushPartial(pfn: u32, sizeClass: u32): void {
  const f = frame(pfn);
  const head = partialHead(sizeClass);
  f.prev = NO_FRAME;
  f.next = head;
  if (head != NO_FRAME) frame(head).prev = pfn;
  store<u32>(partialHeads + sizeClass * 4, pfn);
}

function removePartial(pfn: u32, sizeClass: u32): void {
  const f = frame(pfn);
  if (f.prev != NO_FRAME) frame(f.prev).next = f.next;
  else store<u32>(partialHeads + sizeClass * 4, f.next);
  if (f.next != NO_FRAME) frame(f.next).prev = f.prev;
  f.next = NO_FRAME;
  f.prev = NO_FRAME;
}

/** A new slab page for `sizeClass` with every object on its free list; NO_FRAME if out of frames. */
function newSlab(sizeClass: u32): u32 {
  const page = allocPage(FrameState.KernelObject, false);
  if (page == 0) return NO_FRAME;
  const size = objectSize(sizeClass);
  for (let at = page; at < page + PAGE_SIZE; at += size) {
    store<u32>(at, at + size < page + PAGE_SIZE ? at + size : 0);
  }
  const pfn = frameNumber(page);
  const f = frame(pfn);
  f.flags |= FRAME_SLAB; // freePages clears it
  f.owner = sizeClass;
  f.data = page;
  f.pageIndex = 0;
  pushPartial(pfn, sizeClass);
  slabPages++;
  return pfn;
}

/** `size` bytes for a kernel object, zero-filled; 0 when memory is exhausted. */
export function kmalloc(size: u32): u32 {
  if (size > MAX_SMALL) return largeAlloc(size);
  const sizeClass = sizeClassOf(max(size, 1));
  let pfn = partialHead(sizeClass);
  if (pfn == NO_FRAME) pfn = newSlab(sizeClass);
  if (pfn == NO_FRAME) return 0;
  const f = frame(pfn);
  const object = f.data;
  f.data = load<u32>(object);
  f.pageIndex++;
  if (f.data == 0) removePartial(pfn, sizeClass);
  objectsInUse++;
  memory.fill(object, 0, objectSize(sizeClass));
  return object;
}

function largeAlloc(size: u32): u32 {
  let order: u32 = 0;
  while (order <= MAX_ORDER && (<u64>PAGE_SIZE << order) < <u64>size) order++;
  if (order > MAX_ORDER) return 0;
  const block = allocPages(order, FrameState.KernelObject, true);
  if (block == 0) return 0;
  // Every frame says LARGE, so that kfree can refuse an address inside the block.
  for (let i: u32 = 0; i < (<u32>1 << order); i++) frame(frameNumber(block) + i).owner = LARGE;
  objectsInUse++;
  return block;
}

/** Whether `object` is on its slab page's free list already (a double free). */
function isFree(f: Frame, object: u32): bool {
  for (let at = f.data; at != 0; at = load<u32>(at)) if (at == object) return true;
  return false;
}

/** Frees an object kmalloc returned. */
export function kfree(object: u32): void {
  const pfn = frameNumber(object);
  const f = frame(pfn);
  assert(f.state == FrameState.KernelObject, "kfree: not a kernel object");
  objectsInUse--;
  if (f.owner == LARGE) {
    assert((f.flags & FRAME_BLOCK_HEAD) != 0 && (object & (PAGE_SIZE - 1)) == 0, "kfree: pointer inside a multi-page object");
    freePages(object);
    return;
  }
  const sizeClass = f.owner;
  assert((object & (objectSize(sizeClass) - 1)) == 0, "kfree: pointer inside an object");
  assert(!isFree(f, object), "kfree: object already free (double free)");
  if (f.data == 0) pushPartial(pfn, sizeClass); // was full
  store<u32>(object, f.data);
  f.data = object;
  f.pageIndex--;
  if (f.pageIndex == 0) {
    removePartial(pfn, sizeClass);
    freePages(frameAddress(pfn));
    slabPages--;
  }
}

export function kernelObjectsInUse(): u32 {
  return objectsInUse;
}

export function slabPageCount(): u32 {
  return slabPages;
}
