// Clocks: CLOCK_REALTIME from the CMOS clock read at boot plus the TSC,
// the monotonic clocks from the TSC alone; sleeping on them (nanosleep,
// clock_nanosleep); and the real-time interval timer (alarm, setitimer),
// which the scheduler fires.
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { Process, ProcessState, spaceOf } from "../proc/process";
import { signalPending, yieldToScheduler } from "../proc/scheduler";
import { monotonicNanoseconds, realtimeNanoseconds, tscAfter } from "../time/clock";
import { EFAULT, EINTR, EINVAL } from "./errno";

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

const TIMER_ABSTIME: u64 = 1;
const NS_PER_S: u64 = 1000000000;

/**
 * clock_nanosleep: sleeps for the timespec at `request`, or with
 * TIMER_ABSTIME until `clock` reads it, on the real-time, monotonic or boot
 * clock. Interrupted by a signal it is EINTR, and a relative sleep writes
 * what was left at `remain` (when not null). nanosleep is the relative,
 * monotonic case.
 */
export function sysClockNanosleep(process: Process, clock: i64, flags: u64, request: u64, remain: u64): i64 {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME) return -EINVAL;
  const timespec = memory.data(16, 8);
  if (!copyFromUser(spaceOf(process), <u32>timespec, request, 16)) return -EFAULT;
  const seconds = load<i64>(timespec);
  const nanoseconds = load<i64>(timespec + 8);
  if (seconds < 0 || nanoseconds < 0 || <u64>nanoseconds >= NS_PER_S) return -EINVAL;
  let duration = <u64>seconds * NS_PER_S + <u64>nanoseconds;
  const absolute = (flags & TIMER_ABSTIME) != 0;
  if (absolute) {
    const now = clock == CLOCK_REALTIME ? realtimeNanoseconds() : monotonicNanoseconds();
    duration = duration > now ? duration - now : 0;
  }
  const deadline = monotonicNanoseconds() + duration;
  process.wakeAt = tscAfter(duration);
  process.state = ProcessState.Sleeping;
  yieldToScheduler();
  if (!signalPending()) return 0;
  if (!absolute && remain != 0) {
    const now = monotonicNanoseconds();
    const left = deadline > now ? deadline - now : 0;
    store<u64>(timespec, left / NS_PER_S);
    store<u64>(timespec + 8, left % NS_PER_S);
    if (!copyToUser(spaceOf(process), remain, <u32>timespec, 16)) return -EFAULT;
  }
  return -EINTR;
}

export function sysNanosleep(process: Process, request: u64, remain: u64): i64 {
  return sysClockNanosleep(process, CLOCK_MONOTONIC, 0, request, remain);
}

export function sysGettimeofday(process: Process, timeval: u64): i64 {
  if (timeval == 0) return 0;
  const nanoseconds = realtimeNanoseconds();
  const out = memory.data(16, 8);
  store<u64>(out, nanoseconds / 1000000000);
  store<u64>(out + 8, (nanoseconds % 1000000000) / 1000);
  return copyToUser(spaceOf(process), timeval, <u32>out, 16) ? 0 : -EFAULT;
}

const ITIMER_REAL: i64 = 0;
const NS_PER_US: u64 = 1000;

/** Nanoseconds until the alarm fires (0: not armed). */
function remaining(process: Process): u64 {
  if (process.alarmAt == 0) return 0;
  const now = monotonicNanoseconds();
  return process.alarmAt > now ? process.alarmAt - now : 1;
}

/** alarm: SIGALRM after `seconds` (0 cancels); the seconds that were left, rounded as Linux does. */
export function sysAlarm(process: Process, seconds: u64): i64 {
  const left = remaining(process);
  process.alarmInterval = 0;
  process.alarmAt = seconds == 0 ? 0 : monotonicNanoseconds() + min(seconds, <u64>U32.MAX_VALUE) * 1000000000;
  if (left == 0) return 0;
  const whole = left / 1000000000;
  return <i64>max(<u64>1, whole + ((left % 1000000000) >= 500000000 ? 1 : 0));
}

/** Writes struct itimerval (interval, then value; timevals) of the real timer. */
function putTimer(process: Process, to: u64): bool {
  const value = memory.data(32, 8);
  const left = remaining(process);
  store<u64>(value, process.alarmInterval / 1000000000);
  store<u64>(value + 8, (process.alarmInterval % 1000000000) / NS_PER_US);
  store<u64>(value + 16, left / 1000000000);
  store<u64>(value + 24, (left % 1000000000 + NS_PER_US - 1) / NS_PER_US);
  return copyToUser(spaceOf(process), to, <u32>value, 32);
}

/** getitimer: ITIMER_REAL only; the virtual and profiling timers are not supported (EINVAL). */
export function sysGetitimer(process: Process, which: i64, current: u64): i64 {
  if (which != ITIMER_REAL) return -EINVAL;
  return putTimer(process, current) ? 0 : -EFAULT;
}

export function sysSetitimer(process: Process, which: i64, next: u64, previous: u64): i64 {
  if (which != ITIMER_REAL) return -EINVAL;
  const value = memory.data(32, 8);
  if (next != 0) {
    if (!copyFromUser(spaceOf(process), <u32>value, next, 32)) return -EFAULT;
    for (let i: u32 = 0; i < 2; i++) {
      const seconds = load<i64>(value + i * 16);
      const micros = load<i64>(value + i * 16 + 8);
      if (seconds < 0 || micros < 0 || micros >= 1000000) return -EINVAL;
    }
  } else {
    memory.fill(value, 0, 32); // Linux takes a null new value as disarming
  }
  if (previous != 0 && !putTimer(process, previous)) return -EFAULT;
  const interval = load<u64>(value) * 1000000000 + load<u64>(value + 8) * NS_PER_US;
  const first = load<u64>(value + 16) * 1000000000 + load<u64>(value + 24) * NS_PER_US;
  process.alarmInterval = interval;
  process.alarmAt = first == 0 ? 0 : monotonicNanoseconds() + first;
  return 0;
}

