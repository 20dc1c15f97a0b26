// What every futex wait shares (FUTEX_WAIT, FUTEX_LOCK_PI, futex_waitv):
// reading its timeout and sleeping, already queued, until a wake, the
// deadline or a signal.
import { copyFromUser } from "../mm/user_copy";
import { Process, ProcessState, spaceOf } from "../proc/process";
import { signalPending, yieldToScheduler } from "../proc/scheduler";
import { TimeBase, monotonicAt, monotonicNanoseconds, timeOn, tscAt } from "../time/clock";
import { EFAULT, EINVAL } from "./errno";

export const NO_DEADLINE: u64 = U64.MAX_VALUE;
// Deadlines over 31 years away arm no timer (as proc/sleep.ts): tscAt's product would overflow.
const FAR_FUTURE: u64 = 1000000000000000000;

/**
 * The deadline of a wait on `base`, in its nanoseconds, into `deadline`
 * (NO_DEADLINE without a timespec): `relative` adds the timespec to the
 * time now. 0 or an errno (an unreadable or invalid timespec).
 */
export function readDeadline(process: Process, timeout: u64, relative: bool, base: TimeBase, deadline: usize): i64 {
  store<u64>(deadline, NO_DEADLINE);
  if (timeout == 0) return 0;
  const spec = memory.data(16, 8);
  if (!copyFromUser(spaceOf(process), <u32>spec, timeout, 16)) return -EFAULT;
  const seconds = load<i64>(spec);
  const nanoseconds = load<u64>(spec + 8);
  if (seconds < 0 || nanoseconds >= 1000000000) return -EINVAL; // Linux's timespec64_valid
  let total = <u64>seconds * 1000000000 + nanoseconds;
  if (seconds >= 9223372036) total = NO_DEADLINE - 1; // past KTIME_MAX: as good as never
  if (relative) total = min(timeOn(base) + total, NO_DEADLINE - 1);
  store<u64>(deadline, total);
  return 0;
}

@inline export function deadlinePassed(deadline: u64, base: TimeBase): bool {
  return deadline != NO_DEADLINE && timeOn(base) >= deadline;
}

/**
 * Sleeps, queued on its futexes already, unless a signal is pending: until
 * a wake makes it runnable, `deadline` on `base`, or a signal.
 */
export function futexSleep(process: Process, deadline: u64, base: TimeBase): void {
  if (signalPending()) return;
  const timed = deadline != NO_DEADLINE;
  process.sleepBase = timed ? base : 0; // for clock_settime to find a CLOCK_REALTIME deadline
  process.sleepDeadline = deadline;
  process.state = ProcessState.Sleeping;
  process.waitChannel = 0;
  const now = monotonicNanoseconds();
  const at = monotonicAt(base, deadline);
  process.wakeAt = timed ? (at <= now ? 1 : at - now >= FAR_FUTURE ? 0 : tscAt(at)) : 0;
  yieldToScheduler();
  process.wakeAt = 0;
}
