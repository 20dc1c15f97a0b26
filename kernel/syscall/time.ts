// Clocks: CLOCK_REALTIME from the CMOS clock read at boot plus the TSC,
// the monotonic clocks from the TSC alone.
import { copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { monotonicNanoseconds, realtimeNanoseconds } from "../time/clock";
import { EFAULT, EINVAL } from "./errno";

// Clock ids 1..7 other than 5 (CLOCK_REALTIME_COARSE) are all monotonic
// here, the CPU-time clocks included: there is one CPU and no accounting yet.
const CLOCK_REALTIME: i64 = 0;
const CLOCK_MONOTONIC: i64 = 1;
const CLOCK_REALTIME_COARSE: i64 = 5;
const CLOCK_BOOTTIME: i64 = 7;

export function sysClockGettime(process: Process, clock: i64, timespec: u64): i64 {
  let nanoseconds: u64;
  if (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE) nanoseconds = realtimeNanoseconds();
  else if (clock >= CLOCK_MONOTONIC && clock <= CLOCK_BOOTTIME) nanoseconds = monotonicNanoseconds();
  else return -EINVAL;
  const out = memory.data(16, 8);
  store<u64>(out, nanoseconds / 1000000000);
  store<u64>(out + 8, nanoseconds % 1000000000);
  return copyToUser(spaceOf(process), timespec, <u32>out, 16) ? 0 : -EFAULT;
}

export function sysGettimeofday(process: Process, timeval: u64): i64 {
  if (timeval == 0) return 0;
  const nanoseconds = realtimeNanoseconds();
  const out = memory.data(16, 8);
  store<u64>(out, nanoseconds / 1000000000);
  store<u64>(out + 8, (nanoseconds % 1000000000) / 1000);
  return copyToUser(spaceOf(process), timeval, <u32>out, 16) ? 0 : -EFAULT;
}
