// Clocks: CLOCK_REALTIME from the CMOS clock read at boot plus the TSC
// (clock_settime moves it), the monotonic clocks from the TSC alone, the
// CPU-time clocks; the interval timers (alarm, setitimer), which the
// scheduler fires; and the clock ids and timespecs the timer and sleep
// calls share.
import { republishClock } from "../mm/vdso";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { CPU_CLOCK_THREAD, CpuClock, cpuTime, readCpuClock, userTime } from "../proc/cpu_time";
import { Process, findLiveProcess, leaderOf, spaceOf } from "../proc/process";
import { TIMER_HZ } from "../arch/x86_64/pic";
import { realtimeSleepersReaim } from "../proc/sleep";
import { TimeBase, monotonicNanoseconds, realtimeNanoseconds, setRealtime } from "../time/clock";
import { EFAULT, EINVAL, EPERM } from "./errno";

/**
 * What a Linux clock id names here. The CPU-time clocks read a process's
 * CPU time (proc/cpu_time.ts); timers run on them, sleeps do not. The
 * alarm clocks answer as Linux does when no RTC can wake the machine.
 */
export const enum Clock {
  Unknown = 0,
  Realtime = 1, // CLOCK_REALTIME
  Tai = 2, // CLOCK_TAI: CLOCK_REALTIME, as Linux's until adjtimex sets a TAI offset
  Monotonic = 3, // CLOCK_MONOTONIC, CLOCK_BOOTTIME (nothing suspends here)
  RealtimeCoarse = 4, // CLOCK_REALTIME_COARSE: no timers or sleeps on it
  MonotonicOther = 5, // CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE: no timers or sleeps
  ProcessCpu = 6, // CLOCK_PROCESS_CPUTIME_ID
  ThreadCpu = 7, // CLOCK_THREAD_CPUTIME_ID
  Alarm = 8, // CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM
}

export function clockOf(id: i64): Clock {
  switch (<i32>id) {
    case 0: return Clock.Realtime;
    case 1: case 7: return Clock.Monotonic;
    case 2: return Clock.ProcessCpu;
    case 3: return Clock.ThreadCpu;
    case 4: case 6: return Clock.MonotonicOther;
    case 5: return Clock.RealtimeCoarse;
    case 8: case 9: return Clock.Alarm;
    case 11: return Clock.Tai;
    default: return <i32>id < 0 && (<u32>id & 3) != 3 ? (<u32>id & 4) != 0 ? Clock.ThreadCpu : Clock.ProcessCpu : Clock.Unknown;
  }
}

/** Whether clock_gettime and clock_getres answer for the clock. */
function readable(clock: Clock): bool {
  return clock != Clock.Unknown && clock != Clock.Alarm;
}

@inline function isCpuClock(clock: Clock): bool {
  return clock == Clock.ProcessCpu || clock == Clock.ThreadCpu;
}

/** A wall clock's time. */
function readClock(clock: Clock): u64 {
  return clock == Clock.Realtime || clock == Clock.Tai || clock == Clock.RealtimeCoarse ? realtimeNanoseconds()
    : monotonicNanoseconds();
}

// ---- CPU-time clocks --------------------------------------------------------------------
// CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID read the caller's
// own; clock_getcpuclockid's negative ids name any process's, as
// ~pid << 3 | per-thread << 2 | which (Linux's CPUCLOCK_* encoding; pid 0:
// the caller); a thread's clock counts that thread alone, a process's all
// of its threads.

const CLOCK_THREAD_CPUTIME_ID: i64 = 3;

/** What the CPU clock `id` (a CPU clock by clockOf) counts: a CpuClock, with CPU_CLOCK_THREAD for one thread's. */
export function cpuClockWhich(id: i64): u32 {
  if (id >= 0) return CpuClock.Scheduler | (id == CLOCK_THREAD_CPUTIME_ID ? CPU_CLOCK_THREAD : 0);
  return <u32>id & (3 | CPU_CLOCK_THREAD);
}

/**
 * Whose CPU time the CPU clock `id` counts, or null (EINVAL): no such
 * process, or, for a timer, another process's thread clock (Linux allows
 * those only within the caller's thread group).
 */
export function cpuClockProcess(process: Process, id: i64, forTimer: bool): Process | null {
  if (id >= 0) return process;
  const pid = ~(<i32>id >> 3);
  if (pid == 0) return process;
  const target = findLiveProcess(<i64>pid);
  if (target != null && forTimer && (<u32>id & 4) != 0 && target != process) return null;
  return target;
}

/** The clock ticks of Linux's tick-sampled CPU clocks are its resolution; the scheduler's clock reads to the nanosecond. */
const TICK_NANOSECONDS: u64 = (1000000000 + TIMER_HZ - 1) / TIMER_HZ;

/**
 * The clock a timer or sleep on `clock` counts on. As Linux: a relative
 * time on CLOCK_REALTIME is a length, not affected by clock_settime, so it
 * runs on the monotonic clock; an absolute one follows CLOCK_REALTIME.
 */
export function timeBaseOf(clock: Clock, absolute: bool): TimeBase {
  return clock == Clock.Tai || (clock == Clock.Realtime && absolute) ? TimeBase.Realtime : TimeBase.Monotonic;
}

// ---- timespecs -------------------------------------------------------------------------

/** Linux's ktime_t limit: longer times saturate to it and never come. */
export const KTIME_MAX: u64 = 0x7fffffffffffffff;
const KTIME_SEC_MAX: i64 = 9223372036;

/** The struct timespec at `at` (kernel memory) in nanoseconds, saturated at KTIME_MAX; -EINVAL if it is not one. */
export function timespecAt(at: usize): i64 {
  const seconds = load<i64>(at);
  const nanoseconds = load<i64>(at + 8);
  if (seconds < 0 || nanoseconds < 0 || nanoseconds >= 1000000000) return -EINVAL;
  if (seconds >= KTIME_SEC_MAX) return <i64>KTIME_MAX;
  return seconds * 1000000000 + nanoseconds;
}

/** The user's struct timespec at `address` in nanoseconds; -EFAULT or -EINVAL. */
export function timespecFromUser(process: Process, address: u64): i64 {
  const buffer = memory.data(16, 8);
  if (!copyFromUser(spaceOf(process), <u32>buffer, address, 16)) return -EFAULT;
  return timespecAt(buffer);
}

export function storeTimespec(at: usize, nanoseconds: u64): void {
  store<u64>(at, nanoseconds / 1000000000);
  store<u64>(at + 8, nanoseconds % 1000000000);
}

export function timespecToUser(process: Process, address: u64, nanoseconds: u64): bool {
  const buffer = memory.data(16, 8);
  storeTimespec(buffer, nanoseconds);
  return copyToUser(spaceOf(process), address, <u32>buffer, 16);
}

// ---- the clock calls -------------------------------------------------------------------

export function sysClockGettime(process: Process, id: i64, timespec: u64): i64 {
  const clock = clockOf(id);
  if (!readable(clock)) return -EINVAL;
  let time: u64;
  if (isCpuClock(clock)) {
    const owner = cpuClockProcess(process, id, false);
    if (owner == null) return -EINVAL;
    time = readCpuClock(owner, cpuClockWhich(id));
  } else {
    time = readClock(clock);
  }
  return timespecToUser(process, timespec, time) ? 0 : -EFAULT;
}

/**
 * clock_getres: the wall clocks read the TSC to the nanosecond (Linux's
 * high-resolution clocks say 1 ns too); so does CPU time, but Linux's
 * profiling and virtual CPU clocks and its coarse clocks say a tick.
 */
export function sysClockGetres(process: Process, id: i64, timespec: u64): i64 {
  const clock = clockOf(id);
  if (!readable(clock)) return -EINVAL;
  if (isCpuClock(clock) && cpuClockProcess(process, id, false) == null) return -EINVAL;
  if (timespec == 0) return 0;
  // The _COARSE clocks say a tick, as Linux's (they are no coarser here, but programs size their slack by it).
  const coarse = <i32>id == 5 || <i32>id == 6;
  const resolution = coarse || (isCpuClock(clock) && (cpuClockWhich(id) & 3) != CpuClock.Scheduler) ? TICK_NANOSECONDS : 1;
  return timespecToUser(process, timespec, resolution) ? 0 : -EFAULT;
}

// Linux's limit for a time set: KTIME_SEC_MAX less 30 years of uptime.
const SETTOD_SECONDS_MAX: u64 = 9223372036 - 30 * 365 * 24 * 3600;

/**
 * clock_settime: CLOCK_REALTIME only (the caller is root, so it may);
 * the vDSO, absolute timers and sleeps on CLOCK_REALTIME follow.
 */
export function sysClockSettime(process: Process, id: i64, timespec: u64): i64 {
  const clock = clockOf(id);
  // As Linux: a CPU clock can never be set; clock_getcpuclockid's say so (EPERM) once the id is found good.
  if (isCpuClock(clock)) return id < 0 && cpuClockProcess(process, id, false) != null ? -EPERM : -EINVAL;
  if (clock != Clock.Realtime) return -EINVAL;
  const time = timespecFromUser(process, timespec);
  if (time < 0) return time;
  if (<u64>time / 1000000000 > SETTOD_SECONDS_MAX || !setRealtime(<u64>time)) return -EINVAL;
  republishClock();
  realtimeSleepersReaim();
  return 0;
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
const ITIMER_VIRTUAL: i64 = 1;
const ITIMER_PROF: i64 = 2;
const NS_PER_US: u64 = 1000;

/** Nanoseconds until the alarm fires (0: not armed). */
function remaining(process: Process): u64 {
  const alarmAt = leaderOf(process).alarmAt;
  if (alarmAt == 0) return 0;
  const now = monotonicNanoseconds();
  return alarmAt > now ? alarmAt - now : 1;
}

/** alarm: SIGALRM after `seconds` (0 cancels); the seconds that were left, rounded as Linux does. */
export function sysAlarm(process: Process, seconds: u64): i64 {
  const left = remaining(process);
  const group = leaderOf(process);
  group.alarmInterval = 0;
  group.alarmAt = seconds == 0 ? 0 : monotonicNanoseconds() + min(seconds, <u64>U32.MAX_VALUE) * 1000000000;
  if (left == 0) return 0;
  const whole = left / 1000000000;
  return <i64>max(<u64>1, whole + ((left % 1000000000) >= 500000000 ? 1 : 0));
}

/** The clock an interval timer counts on, now: real time, the process's user time, or its CPU time. */
function itimerClock(process: Process, which: i64): u64 {
  return which == ITIMER_REAL ? monotonicNanoseconds() : which == ITIMER_VIRTUAL ? userTime(process) : cpuTime(process);
}

/** Where timer `which`'s expiry (0: not armed) is kept, in the process's leader; the interval follows it. */
function itimerField(process: Process, which: i64): usize {
  const offset = which == ITIMER_REAL ? offsetof<Process>("alarmAt") : which == ITIMER_VIRTUAL
    ? offsetof<Process>("virtualTimerAt") : offsetof<Process>("profTimerAt");
  return process.leader + offset;
}

/** Writes struct itimerval (interval, then value; timevals) of timer `which`. */
function putTimer(process: Process, which: i64, to: u64): bool {
  const value = memory.data(32, 8);
  const at = load<u64>(itimerField(process, which));
  const interval = load<u64>(itimerField(process, which) + 8);
  const now = itimerClock(process, which);
  const left = at == 0 ? 0 : at > now ? at - now : 1;
  store<u64>(value, interval / 1000000000);
  store<u64>(value + 8, (interval % 1000000000) / NS_PER_US);
  store<u64>(value + 16, left / 1000000000);
  store<u64>(value + 24, (left % 1000000000 + NS_PER_US - 1) / NS_PER_US);
  return copyToUser(spaceOf(process), to, <u32>value, 32);
}

@inline function knownTimer(which: i64): bool {
  return which == ITIMER_REAL || which == ITIMER_VIRTUAL || which == ITIMER_PROF;
}

/** getitimer: ITIMER_REAL (SIGALRM), ITIMER_VIRTUAL (SIGVTALRM) and ITIMER_PROF (SIGPROF: proc/cpu_timers.ts). */
export function sysGetitimer(process: Process, which: i64, current: u64): i64 {
  if (!knownTimer(which)) return -EINVAL;
  return putTimer(process, which, current) ? 0 : -EFAULT;
}

export function sysSetitimer(process: Process, which: i64, next: u64, previous: u64): i64 {
  if (!knownTimer(which)) return -EINVAL;
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
  if (previous != 0 && !putTimer(process, which, previous)) return -EFAULT;
  const interval = load<u64>(value) * 1000000000 + load<u64>(value + 8) * NS_PER_US;
  const first = load<u64>(value + 16) * 1000000000 + load<u64>(value + 24) * NS_PER_US;
  const field = itimerField(process, which);
  store<u64>(field, first == 0 ? 0 : itimerClock(process, which) + first);
  store<u64>(field + 8, interval); // kept when disarmed: getitimer reports it, as Linux's
  return 0;
}
