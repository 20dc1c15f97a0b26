// The buddy allocator: blocks of 2^order contiguous frames, order 0..10.
// Free lists are linked through the frame records (Frame.next/prev), never
// through the free memory itself, so a free frame is never written.
import { zeroPage } from "../arch/x86_64/cpu";
import {
  FRAMES_PER_SECTION, FRAME_BLOCK_HEAD, FRAME_BUDDY_HEAD, FRAME_RECORD_SIZE, Frame, FrameState, NO_FRAME, frame,
  frameAddress, frameExists, frameNumber, moveStateCounts, setFrameState,
} from "./frame";

export const MAX_ORDER: u32 = 10;
const ORDERS: u32 = MAX_ORDER + 1;

// Per order: the first frame of the free list, and the list's length.
const listHeads = memory.data(ORDERS * 4, 8);
const listLengths = memory.data(ORDERS * 4, 8);
let freeFrames: u32 = 0;

@inline function listHead(order: u32): u32 {
  return load<u32>(listHeads + order * 4);
}

@inline export function freeListLength(order: u32): u32 {
  return load<u32>(listLengths + order * 4);
}

export function freeFrameCount(): u32 {
  return freeFrames;
}

// Called once when an allocation finds no block, to free memory that can be
// dropped (the page cache's unmapped pages); returns the frames it freed.
let reclaimHook: (() => u32) | null = null;

export function setReclaimHook(hook: () => u32): void {
  reclaimHook = hook;
}

// Called after an allocation that leaves fewer than lowWatermark frames free (mm/balance.ts wakes its thread).
let lowMemoryHook: (() => void) | null = null;
let lowWatermark: u32 = 0;

export function setLowMemoryHook(watermark: u32, hook: () => void): void {
  lowWatermark = watermark;
  lowMemoryHook = hook;
}

function pushFree(pfn: u32, order: u32): void {
  const f = frame(pfn);
  const head = listHead(order);
  f.order = <u8>order;
  f.flags = FRAME_BUDDY_HEAD;
  f.prev = NO_FRAME;
  f.next = head;
  if (head != NO_FRAME) frame(head).prev = pfn;
  store<u32>(listHeads + order * 4, pfn);
  store<u32>(listLengths + order * 4, freeListLength(order) + 1);
}

function removeFree(pfn: u32, order: u32): void {
  const f = frame(pfn);
  if (f.prev != NO_FRAME) frame(f.prev).next = f.next;
  else store<u32>(listHeads + order * 4, f.next);
  if (f.next != NO_FRAME) frame(f.next).prev = f.prev;
  f.flags = 0;
  f.next = NO_FRAME;
  f.prev = NO_FRAME;
  store<u32>(listLengths + order * 4, freeListLength(order) - 1);
}

export function resetBuddy(): void {
  for (let order: u32 = 0; order < ORDERS; order++) {
    store<u32>(listHeads + order * 4, NO_FRAME);
    store<u32>(listLengths + order * 4, 0);
  }
  freeFrames = 0;
}

/**
 * Gives the run of Free frames [first, first + count) to the allocator at
 * boot, as the largest aligned blocks that fit.
 */
export function addFreeRun(first: u32, count: u32): void {
  freeFrames += count;
  pushRun(first, count);
}

/** Lists the free frames [first, first + count) as the largest aligned blocks, each merged with its free buddies. */
function pushRun(first: u32, count: u32): void {
  let pfn = first;
  const end = first + count;
  while (pfn < end) {
    let order = MAX_ORDER;
    while (order > 0 && ((pfn & ((1 << order) - 1)) != 0 || pfn + (1 << order) > end)) order--;
    mergeAndPush(pfn, order);
    pfn += 1 << order;
  }
}

/**
 * Allocates 2^order contiguous frames and moves them to `state` with a
 * reference count of 1. Returns the physical address of the first frame, or
 * 0 when no block is large enough (frame 0 is never allocatable).
 */
export function allocPages(order: u32, state: FrameState, zeroed: bool): u32 {
  return allocate(order, state, zeroed, true);
}

/**
 * As allocPages, but only from free blocks: no reclaim when none is there
 * (Linux's __GFP_NORETRY). For what is worth having only if it is cheap:
 * a read-ahead's larger block, which falls back to fewer pages.
 */
export function allocFreePages(order: u32, state: FrameState): u32 {
  return allocate(order, state, false, false);
}

function allocate(order: u32, state: FrameState, zeroed: bool, mayReclaim: bool): u32 {
  assert(order <= MAX_ORDER, "allocPages: order above MAX_ORDER");
  assert(state != FrameState.Free && state != FrameState.Hole, "allocPages: allocating into a free state");
  let found = order;
  while (found < ORDERS && listHead(found) == NO_FRAME) found++;
  if (found == ORDERS) {
    if (!mayReclaim) return 0;
    const hook = reclaimHook;
    if (hook == null || hook() == 0) return 0;
    found = order;
    while (found < ORDERS && listHead(found) == NO_FRAME) found++;
    if (found == ORDERS) return 0;
  }
  const pfn = listHead(found);
  removeFree(pfn, found);
  while (found > order) { // give back the upper halves
    found--;
    pushFree(pfn + (1 << found), found);
  }
  freeFrames -= 1 << order;
  if (freeFrames < lowWatermark) {
    const hook = lowMemoryHook;
    if (hook != null) hook();
  }
  const count: u32 = 1 << order;
  for (let i: u32 = 0; i < count; i++) {
    const f = frame(pfn + i);
    assert(f.state == FrameState.Free, "allocPages: frame on a free list is not free");
    setFrameState(f, state);
    f.refCount = 1;
    f.mapCount = 0;
    f.data = 0;
    if (zeroed) zeroPage(frameAddress(pfn + i));
  }
  const head = frame(pfn);
  head.order = <u8>order;
  head.flags = FRAME_BLOCK_HEAD;
  return frameAddress(pfn);
}

@inline export function allocPage(state: FrameState, zeroed: bool): u32 {
  return allocPages(0, state, zeroed);
}

/** A freed frame's record, its state count already moved: Free, no holders, no flags. */
@inline function clearFreedRecord(f: Frame): void {
  f.state = <u8>FrameState.Free;
  f.refCount = 0;
  f.mapCount = 0;
  f.flags = 0;
}

@inline function markFree(f: Frame): void {
  moveStateCounts(<FrameState>f.state, FrameState.Free, 1);
  clearFreedRecord(f);
}

/** Returns the block allocated at physical `address` to the free lists, merging buddies. */
/**
 * Makes an allocated block of 2^order frames that many blocks of one
 * frame, each freed on its own (Linux's split_page): read-ahead reads into
 * contiguous frames that then live and go as separate cache pages.
 */
export function splitBlock(address: u32, order: u32): void {
  const pfn = frameNumber(address);
  assert((frame(pfn).flags & FRAME_BLOCK_HEAD) != 0 && <u32>frame(pfn).order == order, "splitBlock: not a block of that order");
  for (let i: u32 = 0; i < (1 << order); i++) {
    const f = frame(pfn + i);
    f.order = 0;
    f.flags = FRAME_BLOCK_HEAD;
  }
}

export function freePages(address: u32): void {
  const pfn = frameNumber(address);
  const head = frame(pfn);
  assert((head.flags & FRAME_BLOCK_HEAD) != 0, "freePages: not the start of an allocated block (double free?)");
  const order = <u32>head.order;
  const count: u32 = 1 << order;
  for (let i: u32 = 0; i < count; i++) markFree(frame(pfn + i));
  freeFrames += count;
  mergeAndPush(pfn, order);
}

/**
 * Frees `count` single-frame blocks at consecutive frames from `first`,
 * all in one state (what unmapping a range of anonymous memory usually
 * gives back), as the largest aligned blocks that fit, so the free lists see one operation per block instead of a merge
 * cascade per frame. The lists end up as if each frame had been freed
 * alone: every free block is merged as far as it goes.
 */
export function freeFrameRun(first: u32, count: u32): void {
  const state = frame(first).state;
  let f = frame(first);
  for (let i: u32 = 0; i < count; i++) {
    if (i != 0) f = ((first + i) & (FRAMES_PER_SECTION - 1)) == 0 ? frame(first + i) : changetype<Frame>(changetype<u32>(f) + FRAME_RECORD_SIZE);
    const singleFrameOfRunState = (f.flags & FRAME_BLOCK_HEAD) != 0 && f.order == 0 && f.state == state;
    assert(singleFrameOfRunState, "freeFrameRun: not a single-frame allocated block of the run's state (double free?)");
    clearFreedRecord(f);
  }
  moveStateCounts(state, FrameState.Free, count);
  freeFrames += count;
  pushRun(first, count);
}

/** Puts the free block of 2^order frames at `pfn` on a list, merged with its free buddies first. */
function mergeAndPush(pfn: u32, order: u32): void {
  while (order < MAX_ORDER) {
    const buddy = pfn ^ (1 << order);
    if (!frameExists(buddy)) break;
    const b = frame(buddy);
    if ((b.flags & FRAME_BUDDY_HEAD) == 0 || <u32>b.order != order) break;
    removeFree(buddy, order);
    pfn &= ~(1 << order);
    order++;
  }
  pushFree(pfn, order);
}

/** Walks every free list; returns false if any record disagrees with its list. */
export function checkFreeLists(): bool {
  let total: u32 = 0;
  for (let order: u32 = 0; order < ORDERS; order++) {
    let length: u32 = 0;
    let previous = NO_FRAME;
    for (let pfn = listHead(order); pfn != NO_FRAME; pfn = frame(pfn).next) {
      const f: Frame = frame(pfn);
      if (f.prev != previous || <u32>f.order != order || (f.flags & FRAME_BUDDY_HEAD) == 0) return false;
      if ((pfn & ((1 << order) - 1)) != 0) return false;
      for (let i: u32 = 0; i < (<u32>1 << order); i++) {
        if (frame(pfn + i).state != FrameState.Free) return false;
      }
      previous = pfn;
      length++;
    }
    if (length != freeListLength(order)) return false;
    total += length << order;
  }
  return total == freeFrames;
}
