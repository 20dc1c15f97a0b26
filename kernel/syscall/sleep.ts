// nanosleep, clock_nanosleep and restart_syscall. As Linux's hrtimer
// sleeps: a sleep a handler interrupts says EINTR and, if it was relative,
// writes the time left; one interrupted by a signal with no handler (a
// stop, then SIGCONT) goes on to its original deadline through
// restart_syscall, which the dispatcher puts in the call's place.
import { Process } from "../proc/process";
import { sleepUntilDeadline } from "../proc/sleep";
import { futexWaitRestart } from "./futex";
import { TimeBase, timeOn } from "../time/clock";
import { EFAULT, EINTR, EINVAL, EOPNOTSUPP, ERESTART_RESTARTBLOCK } from "./errno";
import { Clock, KTIME_MAX, clockOf, timeBaseOf, timespecFromUser, timespecToUser } from "./time";

const TIMER_ABSTIME: u64 = 1;

export function sysNanosleep(process: Process, request: u64, remaining: u64): i64 {
  return startSleep(process, Clock.Monotonic, 0, request, remaining);
}

export function sysClockNanosleep(process: Process, id: i64, flags: u64, request: u64, remaining: u64): i64 {
  const clock = clockOf(id);
  // Linux sleeps on another process's CPU clock; here sleeps wake on wall clocks only.
  if (clock == Clock.Unknown || clock == Clock.ProcessCpu) return -EINVAL;
  if (clock == Clock.Alarm) {
    // Linux reads the request before it finds no RTC to wake it.
    const length = timespecFromUser(process, request);
    return length < 0 ? length : -EOPNOTSUPP;
  }
  if (clock != Clock.Realtime && clock != Clock.Tai && clock != Clock.Monotonic) return -EOPNOTSUPP;
  return startSleep(process, clock, flags, request, remaining);
}

function startSleep(process: Process, clock: Clock, flags: u64, request: u64, remaining: u64): i64 {
  const length = timespecFromUser(process, request);
  if (length < 0) return length;
  const absolute = (flags & TIMER_ABSTIME) != 0;
  const base = timeBaseOf(clock, absolute);
  process.sleepBase = base;
  process.sleepDeadline = absolute ? <u64>length : min(timeOn(base) + <u64>length, KTIME_MAX);
  process.sleepRemaining = absolute ? 0 : remaining; // an absolute sleep has nothing to report
  return continueSleep(process);
}

/** restart_syscall: the interrupted sleep or timed futex wait goes on; with none to continue (a handler ran since), EINTR as Linux. */
export function sysRestartSyscall(process: Process): i64 {
  if (process.sleepBase == 0) return -EINTR;
  if (process.restartFutex != 0) return futexWaitRestart(process);
  return continueSleep(process);
}

function continueSleep(process: Process): i64 {
  if (sleepUntilDeadline(process)) {
    process.sleepBase = 0;
    return 0;
  }
  // As Linux: the time left is written at every interruption, a handler or not.
  if (process.sleepRemaining != 0) {
    const now = timeOn(<TimeBase>process.sleepBase);
    if (now >= process.sleepDeadline) {
      process.sleepBase = 0;
      return 0; // the time came with the signal
    }
    if (!timespecToUser(process, process.sleepRemaining, process.sleepDeadline - now)) {
      process.sleepBase = 0;
      return -EFAULT;
    }
  }
  return -ERESTART_RESTARTBLOCK;
}
