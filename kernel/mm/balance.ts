// Keeping memory in balance: kflushd, a kernel thread (proc/kernel_thread.ts;
// Linux's kswapd and flusher threads in one), wakes ten times a second, and
// at once when an allocation leaves free memory under the low watermark.
// Two jobs:
//   - free memory below the low watermark: reclaim (unmapping and writing
//     back as needed) until it is above the high one;
//   - dirty data older than the expiry, or more of it than the background
//     share of RAM: written back.
// It may sleep on the disks meanwhile, as any process; an allocation that
// cannot wait for it takes clean pages itself (reclaim.ts).
import { freeFrameCount, setLowMemoryHook } from "./buddy";
import { managedFrames } from "./frame_database";
import { cachedPageCount, dirtyPageCount, firstDirtyObject } from "./page_cache";
import { shrinkPageCache } from "./reclaim";
import { shrinkAnonymous } from "./swap_out";
import { freeSwapSlots } from "./swap_area";
import { swapCachedPages } from "./swap_cache";
import { writeBackExpired, writeBackOldest } from "./writeback";
import { monotonicNanoseconds, tscAfter } from "../time/clock";
import { canSleep, sleepOnUntil, sleepUninterruptible, wakeUp } from "../lib/wait";

const BATCH: u32 = 32;
const PERIOD_NANOSECONDS: u64 = 100_000_000;
/** Dirty data past this share of RAM is written in the background (Linux's dirty_background_ratio). */
const BACKGROUND_DIRTY_PERCENT: u32 = 10;
const flusherChannel = memory.data(4, 4);
let flusherAwake = false;
// After a reclaim that freed nothing (memory is full of what cannot be freed), allocations stop
// waking kflushd until its next period: scanning after every one would only burn the CPU.
let backingOff = false;
export let balanceRunsTotal: u64 = 0;
/**
 * How much of reclaim's effort goes to anonymous memory, 0..200 (Linux's
 * vm.swappiness, default 60): a batch takes swappiness/200 of its pages
 * from anonymous memory and the rest from the page cache, each side
 * taking over what the other could not give.
 */
export let swappiness: u32 = 60;
// Faults that found no frame wait here for kflushd's next round (direct reclaim's place: a fault may
// sleep, but only kflushd puts pages out, so that two page-outs never race for a page).
const memoryWaitChannel = memory.data(4, 4);
let memoryWaiters: u32 = 0;
let lastRoundFreed: u32 = 0;

export function setSwappiness(value: u32): void {
  swappiness = min(value, 200);
}

/** Free memory reclaim aims to keep: at least 1/128 of RAM, and 1/64 once it starts (Linux's low and high watermarks). */
@inline function lowWatermark(): u32 {
  return max(managedFrames / 128, 64);
}

@inline function highWatermark(): u32 {
  return lowWatermark() * 2;
}

/**
 * Mapped pages are taken only while the cache is a real share of memory
 * (an eighth): when anonymous memory is what fills RAM, unmapping the few
 * cached pages left (the running programs' code) would only have them
 * fault straight back in, again and again, and put off the out-of-memory
 * kill that must come.
 */
function mayUnmap(): bool {
  return cachedPageCount() * 8 > managedFrames;
}

/** The allocator's call when free memory fell under the low watermark: kflushd is woken, once. */
function lowOnMemory(): void {
  if (flusherAwake || backingOff) return;
  flusherAwake = true;
  wakeUp(<u32>flusherChannel);
}

/** Whether anonymous pages have somewhere to go: a free slot, or a swap-cache copy that needs none. */
@inline function swapUsable(): bool {
  return freeSwapSlots() != 0 || swapCachedPages() != 0;
}

/** One batch of reclaim, shared between the page cache and anonymous memory by swappiness. */
function reclaimBatch(): u32 {
  if (!swapUsable()) return shrinkPageCache(BATCH, mayUnmap(), true);
  const anonymous = BATCH * swappiness / 200;
  let freed = shrinkPageCache(BATCH - anonymous, mayUnmap(), true);
  freed += shrinkAnonymous(BATCH - freed);
  if (freed < BATCH) freed += shrinkPageCache(BATCH - freed, mayUnmap(), true);
  return freed;
}

function reclaim(): void {
  let idle: u32 = 0;
  let freed: u32 = 0;
  while ((freeFrameCount() < highWatermark() || (memoryWaiters != 0 && freed < BATCH)) && idle < 2) {
    const batch = reclaimBatch();
    freed += batch;
    idle = batch == 0 ? idle + 1 : 0;
  }
  backingOff = freed == 0 && freeFrameCount() < lowWatermark();
  lastRoundFreed = freed;
}

/**
 * A fault found no frame, after the allocator's own reclaim of clean cache:
 * while anonymous memory can still go to swap, it waits for kflushd's next
 * round and is retried (true) if that freed anything. False: RAM and swap
 * are both exhausted (or there is no swap), and the out-of-memory kill is due.
 */
export function waitForMemory(): bool {
  if (!canSleep() || !swapUsable()) return false;
  memoryWaiters++;
  flusherAwake = true;
  wakeUp(<u32>flusherChannel);
  sleepUninterruptible(<u32>memoryWaitChannel);
  return lastRoundFreed != 0;
}

/** kflushd's life: the two jobs, then sleep until the next period or a wake-up. */
export function flusherMain(): void {
  setLowMemoryHook(lowWatermark(), lowOnMemory);
  while (true) {
    flusherAwake = true;
    balanceRunsTotal++;
    if (firstDirtyObject() != 0) writeBackExpired(monotonicNanoseconds());
    while (<u64>dirtyPageCount() * 100 > <u64>managedFrames * BACKGROUND_DIRTY_PERCENT && writeBackOldest()) {}
    if (freeFrameCount() < lowWatermark() || memoryWaiters != 0) reclaim();
    else backingOff = false;
    if (memoryWaiters != 0) {
      memoryWaiters = 0;
      wakeUp(<u32>memoryWaitChannel);
    }
    flusherAwake = false;
    sleepOnUntil(<u32>flusherChannel, tscAfter(PERIOD_NANOSECONDS));
  }
}
