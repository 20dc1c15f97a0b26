// Keeping memory in balance, from a safe point: a process returning to
// user mode, which may sleep and is in the middle of no page-table change
// (Linux does this from its kswapd and flusher threads; this kernel has no
// kernel threads yet, so the process that passes pays, as Linux's direct
// reclaim makes an allocating process pay). Two jobs:
//   - free memory below the low watermark: reclaim (unmapping and writing
//     back as needed) until it is above the high one;
//   - dirty data older than the expiry: written back (checked once a
//     second, from the timer).
// A run that frees nothing is not repeated before the timer's next tenth
// of a second.
import { freeFrameCount } from "./buddy";
import { managedFrames } from "./frame_database";
import { cachedPageCount, firstDirtyObject } from "./page_cache";
import { shrinkPageCache } from "./reclaim";
import { writeBackExpired } from "./writeback";
import { monotonicNanoseconds } from "../time/clock";

const BATCH: u32 = 32;
let balancing = false;
let expiryCheckDue = false;
// After a run that freed nothing (memory is full of what cannot be freed), the next waits for the
// timer's next call: scanning at every return to user mode would only burn the CPU.
let backingOff = false;
export let balanceRunsTotal: u64 = 0;

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

/** The timer's call, ten times a second: reclaim may try again; once a second, expired dirty data is looked for. */
export function balanceTick(everySecond: bool): void {
  backingOff = false;
  if (everySecond && firstDirtyObject() != 0) expiryCheckDue = true;
}

/** Whether the safe point has work (cheap: asked at every return to user mode). */
@inline export function balanceNeeded(): bool {
  return !balancing && (expiryCheckDue || (!backingOff && freeFrameCount() < lowWatermark()));
}

/** The work itself; it may sleep on the disks. One process at a time does it. */
export function balanceMemory(): void {
  balancing = true;
  balanceRunsTotal++;
  if (expiryCheckDue) {
    expiryCheckDue = false;
    writeBackExpired(monotonicNanoseconds());
  }
  let idle: u32 = 0;
  let freed: u32 = 0;
  while (freeFrameCount() < highWatermark() && idle < 2) {
    const batch = shrinkPageCache(BATCH, mayUnmap(), true);
    freed += batch;
    idle = batch == 0 ? idle + 1 : 0;
  }
  if (freeFrameCount() < lowWatermark() && freed == 0) backingOff = true;
  balancing = false;
}
