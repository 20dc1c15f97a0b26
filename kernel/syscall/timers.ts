// POSIX per-process timers: timer_create, timer_settime, timer_gettime,
// timer_getoverrun, timer_delete, with Linux's checks in Linux's order.
// The timers themselves are proc/posix_timer.ts; the scheduler fires them.
import { copyFromUser, copyToUser } from "../mm/user_copy";
import {
  PosixTimer, SIGEV_NONE, armTimer, createTimer, deleteTimer, findTimer, takeTimerId, timerClockNow,
  timerRemaining,
} from "../proc/posix_timer";
import { Process, ProcessState, findLiveProcess, leaderOf, spaceOf } from "../proc/process";
import { RLIMIT_SIGPENDING, softLimit } from "../proc/resource_limits";
import { MAX_SIGNAL, SIGALRM } from "../proc/signal_action";
import { EAGAIN, EFAULT, EINVAL, EOPNOTSUPP } from "./errno";
import { Clock, KTIME_MAX, clockOf, cpuClockProcess, cpuClockWhich, storeTimespec, timeBaseOf, timespecAt } from "./time";

const SIGEVENT_SIZE: u32 = 64;
const SIGEV_SIGNAL: u32 = 0;
const SIGEV_THREAD: u32 = 2; // libc's business: to the kernel it is SIGEV_SIGNAL
const SIGEV_THREAD_ID: u32 = 4;
const TIMER_ABSTIME: u64 = 1;
const ITIMERSPEC_SIZE: u32 = 32; // it_interval, then it_value

/**
 * timer_create. struct sigevent: 0 sigev_value(u64)  8 sigev_signo
 * 12 sigev_notify  16 sigev_notify_thread_id. No sigevent means SIGALRM
 * with the timer's id as si_value.
 */
export function sysTimerCreate(process: Process, id: i64, event: u64, created: u64): i64 {
  const sigevent = memory.data(SIGEVENT_SIZE, 8);
  if (event != 0 && !copyFromUser(spaceOf(process), <u32>sigevent, event, SIGEVENT_SIZE)) return -EFAULT;
  const clock = clockOf(id);
  if (clock == Clock.Unknown) return -EINVAL;
  const cpuOwner = clock == Clock.ProcessCpu || clock == Clock.ThreadCpu ? cpuClockProcess(process, id, true) : null;
  if ((clock == Clock.ProcessCpu || clock == Clock.ThreadCpu) && cpuOwner == null) return -EINVAL;
  if (clock == Clock.RealtimeCoarse || clock == Clock.MonotonicOther) return -EOPNOTSUPP;
  // As Linux, each timer's signal entry counts against RLIMIT_SIGPENDING.
  if (<u64>leaderOf(process).timerCount >= softLimit(process, RLIMIT_SIGPENDING)) return -EAGAIN;
  const timerId = takeTimerId(process); // as Linux, before the sigevent is judged: a refused one uses up its id
  let notify = SIGEV_SIGNAL;
  let signal = <i32>SIGALRM;
  let value = <u64>timerId;
  let threadId: u32 = 0;
  if (event != 0) {
    value = load<u64>(sigevent);
    signal = load<i32>(sigevent + 8);
    notify = load<u32>(sigevent + 12);
    if (notify != SIGEV_SIGNAL && notify != SIGEV_NONE && notify != SIGEV_THREAD && notify != SIGEV_THREAD_ID) return -EINVAL;
    if (notify == SIGEV_THREAD_ID) {
      const thread = findLiveProcess(<i64>load<i32>(sigevent + 16));
      if (thread == null || thread.tgid != process.tgid || thread.state == ProcessState.Zombie) return -EINVAL;
      threadId = thread.pid;
    }
    if (notify != SIGEV_NONE && (signal <= 0 || signal > <i32>MAX_SIGNAL)) return -EINVAL;
  }
  const out = memory.data(4, 4);
  store<u32>(out, timerId);
  if (!copyToUser(spaceOf(process), created, <u32>out, 4)) return -EFAULT;
  if (clock == Clock.Alarm) return -EOPNOTSUPP; // as Linux when there is no RTC to wake the machine
  const timer = createTimer(process, timerId, clock, notify, <u32>signal, value);
  if (timer == null) return -EAGAIN;
  if (cpuOwner != null) {
    timer.cpuPid = cpuOwner.pid;
    timer.cpuWhich = cpuClockWhich(id);
  }
  timer.threadId = threadId;
  return 0;
}

function storeSetting(timer: PosixTimer, at: usize): void {
  const left = timerRemaining(timer);
  storeTimespec(at, timer.interval);
  storeTimespec(at + 16, left);
}

export function sysTimerSettime(process: Process, id: i64, flags: u64, next: u64, previous: u64): i64 {
  if (next == 0) return -EINVAL;
  const spec = memory.data(ITIMERSPEC_SIZE, 8);
  if (!copyFromUser(spaceOf(process), <u32>spec, next, ITIMERSPEC_SIZE)) return -EFAULT;
  const interval = timespecAt(spec);
  const value = timespecAt(spec + 16);
  if (interval < 0 || value < 0) return -EINVAL;
  const timer = findTimer(process, id);
  if (timer == null) return -EINVAL;
  const old = memory.data(ITIMERSPEC_SIZE, 8);
  if (previous != 0) storeSetting(timer, old);
  const absolute = (flags & TIMER_ABSTIME) != 0;
  const base = timeBaseOf(<Clock>timer.clock, absolute);
  timer.base = base;
  const expiresAt = value == 0 ? 0 : absolute ? <u64>value : min(timerClockNow(timer) + <u64>value, KTIME_MAX);
  armTimer(timer, base, expiresAt, <u64>interval);
  // As Linux, the old setting is written after the new one took effect.
  if (previous != 0 && !copyToUser(spaceOf(process), previous, <u32>old, ITIMERSPEC_SIZE)) return -EFAULT;
  return 0;
}

export function sysTimerGettime(process: Process, id: i64, current: u64): i64 {
  const timer = findTimer(process, id);
  if (timer == null) return -EINVAL;
  const spec = memory.data(ITIMERSPEC_SIZE, 8);
  storeSetting(timer, spec);
  return copyToUser(spaceOf(process), current, <u32>spec, ITIMERSPEC_SIZE) ? 0 : -EFAULT;
}

/** The overruns counted when the timer's signal was last taken (capped at INT_MAX). */
export function sysTimerGetoverrun(process: Process, id: i64): i64 {
  const timer = findTimer(process, id);
  return timer == null ? -EINVAL : <i64>timer.overrunLast;
}

export function sysTimerDelete(process: Process, id: i64): i64 {
  const timer = findTimer(process, id);
  if (timer == null) return -EINVAL;
  deleteTimer(process, timer);
  return 0;
}
