// The load average: how many processes were running or waiting to run,
// averaged over the last 1, 5 and 15 minutes, sampled every 5 seconds and
// decayed exponentially in 11-bit fixed point with Linux's constants
// (kernel/sched/loadavg.c), so /proc/loadavg and sysinfo read as Linux's.
// Nothing here sleeps uninterruptibly, so only runnable processes count.
import { Process, ProcessState, processListHead } from "./process";

const FSHIFT: u32 = 11;
const FIXED_1: u64 = 1 << FSHIFT;
const EXP_1: u64 = 1884; // 2048 / exp(5 s / 1 min)
const EXP_5: u64 = 2014;
const EXP_15: u64 = 2037;

let average1: u64 = 0;
let average5: u64 = 0;
let average15: u64 = 0;

/** Processes running or runnable now (/proc/loadavg's fourth field counts them too). */
export function runnableCount(): u32 {
  let count: u32 = 0;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const state = changetype<Process>(at).state;
    if (state == ProcessState.Running || state == ProcessState.Runnable) count++;
  }
  return count;
}

/** Linux's calc_load: the average moves towards `active` by 1 - e^(-5s/period), rounding up when rising. */
function decay(average: u64, factor: u64, active: u64): u64 {
  const next = average * factor + active * (FIXED_1 - factor);
  return (next + (active >= average ? FIXED_1 - 1 : 0)) >> FSHIFT;
}

/** Every 5 seconds (the timer interrupt calls it). */
export function sampleLoad(): void {
  const active = <u64>runnableCount() << FSHIFT;
  average1 = decay(average1, EXP_1, active);
  average5 = decay(average5, EXP_5, active);
  average15 = decay(average15, EXP_15, active);
}

/** The average over 1, 5 or 15 minutes (`which` 0, 1, 2), in hundredths. */
export function loadHundredths(which: u32): u64 {
  const average = which == 0 ? average1 : which == 1 ? average5 : average15;
  return (average * 100 + FIXED_1 / 2) >> FSHIFT;
}

/** The same, as sysinfo's loads[]: 16 fraction bits. */
export function loadForSysinfo(which: u32): u64 {
  const average = which == 0 ? average1 : which == 1 ? average5 : average15;
  return average << (16 - FSHIFT);
}
