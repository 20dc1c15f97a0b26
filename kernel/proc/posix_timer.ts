// POSIX per-process timers (timer_create): each counts down on a clock and
// at expiry queues its signal (SIGEV_SIGNAL), or nothing (SIGEV_NONE: read
// with timer_gettime). As in Linux, a timer owns one signal entry, made
// with it, so firing never needs memory and never finds the queue full;
// while that entry waits in the queue (blocked, or not yet delivered)
// further expirations are counted as overruns, which the siginfo reports
// when the signal is taken (si_overrun) and timer_getoverrun afterwards.
// The scheduler fires timers; signal_queue.ts says when an entry is taken
// or thrown away. Timers are not inherited by fork and go at exec and exit.
// A timer on a CPU-time clock counts a process's CPU time (cpu_time.ts):
// that clock moves only while its process runs, so it never wakes the idle
// loop; the scheduler's pass at every tick finds it due, as Linux's tick does.
import { kfree, kmalloc } from "../mm/slab";
import { TimeBase, monotonicAt, timeOn } from "../time/clock";
import { readCpuClock } from "./cpu_time";
import { Process, findProcess, leaderOf } from "./process";
import { SI_TIMER } from "./signal_action";
import { SIGNAL_INFO_SIZE, SignalInfo } from "./signal_info";

export const SIGEV_NONE: u32 = 1;
const INT_MAX: u64 = 0x7fffffff;

/**
 * One timer of a process.
 *
 *   0 next (the process's next timer)  4 id  8 entry (its SignalInfo)  12 notify (SIGEV_NONE, or a signal is sent)
 *  16 expiresAt(u64): the next expiration not yet counted, in nanoseconds of `base` (0: disarmed)
 *  24 interval(u64): the period in nanoseconds (0: once)
 *  32 overrun(u64): expirations since its signal was queued, beyond the one the signal stands for
 *  40 overrunLast: what timer_getoverrun reports, capped at INT_MAX  44 queued: its entry is in the queue
 *  48 base (TimeBase: the clock expiresAt counts on)  52 clock: what it was created on (syscall/time.ts's Clock)
 *  56 cpuPid: for a CPU-time clock, the process whose time it counts (0: a wall clock, `base`)  60 cpuWhich (CpuClock, with CPU_CLOCK_THREAD)
 *  64 threadId: the thread its signal is for (SIGEV_THREAD_ID; 0: the process)
 */
@unmanaged export class PosixTimer {
  next: u32;
  id: u32;
  entry: u32;
  notify: u32;
  expiresAt: u64;
  interval: u64;
  overrun: u64;
  overrunLast: u32;
  queued: u32;
  base: u32;
  clock: u32;
  cpuPid: u32;
  cpuWhich: u32;
  threadId: u32;
}
const POSIX_TIMER_SIZE: u32 = 72;

/** The entry the timer's signal travels in. */
@inline export function timerEntry(timer: PosixTimer): SignalInfo {
  return changetype<SignalInfo>(timer.entry);
}

/** A timer of the process (the leader holds its threads' timers). */
export function findTimer(process: Process, id: i64): PosixTimer | null {
  for (let at = leaderOf(process).timers; at != 0; at = changetype<PosixTimer>(at).next) {
    if (<i64>changetype<PosixTimer>(at).id == id) return changetype<PosixTimer>(at);
  }
  return null;
}

/** The next free id, counting up from 0 and wrapping at INT_MAX, as Linux hands them out (a freed id is not reused at once). */
export function takeTimerId(process: Process): u32 {
  const group = leaderOf(process);
  while (true) {
    const id = group.nextTimerId;
    group.nextTimerId = <u64>id + 1 > INT_MAX ? 0 : id + 1;
    if (findTimer(process, id) == null) return id;
  }
}

/** A disarmed timer `id` on `clock` that sends `signal` with si_value `value` (unless `notify` is SIGEV_NONE); null when out of memory. */
export function createTimer(process: Process, id: u32, clock: u32, notify: u32, signal: u32, value: u64): PosixTimer | null {
  const address = kmalloc(POSIX_TIMER_SIZE);
  const entry = kmalloc(SIGNAL_INFO_SIZE);
  if (address == 0 || entry == 0) {
    if (address != 0) kfree(address);
    if (entry != 0) kfree(entry);
    return null;
  }
  const timer = changetype<PosixTimer>(address);
  timer.id = id;
  timer.clock = clock;
  timer.notify = notify;
  timer.entry = entry;
  timer.base = TimeBase.Monotonic;
  const info = timerEntry(timer);
  info.signal = signal;
  info.code = SI_TIMER;
  info.timer = address;
  info.first = id;
  info.second = value;
  const group = leaderOf(process);
  timer.next = group.timers;
  group.timers = address;
  group.timerCount++;
  return timer;
}

/**
 * timer_delete. A signal of the timer's still queued stays pending, as in
 * Linux: its entry becomes an ordinary one, freed when it is taken.
 */
export function deleteTimer(process: Process, timer: PosixTimer): void {
  const group = leaderOf(process);
  let link = changetype<usize>(group) + offsetof<Process>("timers");
  while (load<u32>(link) != changetype<u32>(timer)) link = load<u32>(link); // `next` is each timer's first field
  store<u32>(link, timer.next);
  group.timerCount--;
  if (timer.queued != 0) {
    const info = timerEntry(timer);
    info.timer = 0;
    info.first = <u64>timer.id | min(timer.overrun, INT_MAX) << 32;
  } else {
    kfree(timer.entry);
  }
  kfree(changetype<u32>(timer));
}

/** exec and exit: every timer goes. */
export function deleteTimers(process: Process): void {
  const group = leaderOf(process);
  while (group.timers != 0) deleteTimer(group, changetype<PosixTimer>(group.timers));
}

/**
 * timer_settime: the first expiration at `expiresAt` on `base` (0
 * disarms), then every `interval`. What a queued signal of the old setting
 * reports starts again, as does timer_getoverrun.
 */
export function armTimer(timer: PosixTimer, base: TimeBase, expiresAt: u64, interval: u64): void {
  timer.base = base;
  timer.expiresAt = expiresAt;
  timer.interval = expiresAt != 0 ? interval : 0;
  timer.overrun = 0;
  timer.overrunLast = 0;
}

/**
 * Now, on the timer's clock. A CPU clock whose process has gone stands
 * still at 0, so the timer never fires again, as Linux's does not.
 */
export function timerClockNow(timer: PosixTimer): u64 {
  if (timer.cpuPid == 0) return timeOn(<TimeBase>timer.base);
  const owner = findProcess(timer.cpuPid);
  return owner == null ? 0 : readCpuClock(owner, timer.cpuWhich);
}

/** How many expirations are due by now; the next one to count moves past now (a one-shot timer disarms). */
function countExpirations(timer: PosixTimer): u64 {
  if (timer.expiresAt == 0) return 0;
  const now = timerClockNow(timer);
  if (now < timer.expiresAt) return 0;
  if (timer.interval == 0) {
    timer.expiresAt = 0;
    return 1;
  }
  const count = (now - timer.expiresAt) / timer.interval + 1;
  timer.expiresAt += count * timer.interval;
  return count;
}

/**
 * The scheduler's check: counts the expirations due, and says whether the
 * timer's signal is to be sent now (the timer has one, and it is not still
 * queued: then they are overruns).
 */
export function timerFires(timer: PosixTimer): bool {
  if (timer.notify == SIGEV_NONE) return false;
  const due = countExpirations(timer);
  if (due == 0) return false;
  if (timer.queued != 0) {
    timer.overrun += due;
    return false;
  }
  timer.overrun = due - 1;
  return true;
}

/** When the timer fires next, in monotonic nanoseconds; 0 if it will not by itself (disarmed, SIGEV_NONE, its signal still queued, or on a CPU clock). */
export function timerWakeAt(timer: PosixTimer): u64 {
  if (timer.expiresAt == 0 || timer.notify == SIGEV_NONE || timer.queued != 0 || timer.cpuPid != 0) return 0;
  return max(monotonicAt(<TimeBase>timer.base, timer.expiresAt), 1);
}

/** The timer's entry goes into the queue: the timer counts overruns until it is taken. */
export function timerSignalQueued(timer: PosixTimer): SignalInfo {
  timer.queued = 1;
  return timerEntry(timer);
}

/**
 * timer_gettime's it_value: the time to the next expiration, 0 when
 * disarmed (a one-shot timer that has fired). One that is due but not yet
 * fired says 1 ns, as Linux's does, except a SIGEV_NONE one-shot, which
 * has simply expired.
 */
export function timerRemaining(timer: PosixTimer): u64 {
  if (timer.interval != 0 && (timer.queued != 0 || timer.notify == SIGEV_NONE)) {
    const due = countExpirations(timer);
    if (timer.queued != 0) timer.overrun += due;
  }
  if (timer.expiresAt == 0) return 0;
  const now = timerClockNow(timer);
  if (now < timer.expiresAt) return timer.expiresAt - now;
  return timer.notify == SIGEV_NONE ? 0 : 1;
}

/**
 * Its signal was taken (delivered, or by sigwaitinfo): the siginfo gets
 * the overruns up to now, and a periodic timer's count is what
 * timer_getoverrun reports from now on (Linux re-reads it only when it
 * re-arms a periodic timer).
 */
export function timerSignalTaken(timer: PosixTimer, into: SignalInfo): void {
  if (timer.interval != 0) timer.overrun += countExpirations(timer);
  const overrun = <u32>min(timer.overrun, INT_MAX);
  into.first = <u64>timer.id | <u64>overrun << 32;
  if (timer.interval != 0) timer.overrunLast = overrun;
  timer.overrun = 0;
  timer.queued = 0;
}

/** Its signal was thrown away unseen (SIG_IGN, SIGCONT): the next expiration sends it again. */
export function timerSignalDropped(timer: PosixTimer): void {
  timer.overrun = 0;
  timer.queued = 0;
}
