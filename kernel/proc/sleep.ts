// Sleeping until a time on a clock (nanosleep, clock_nanosleep, and
// restart_syscall continuing one), as Linux's hrtimer sleeps: the deadline
// is absolute, so a sleep a stop interrupted goes on, once continued, to
// the same end. A deadline on CLOCK_REALTIME moves with clock_settime.
import { TimeBase, monotonicAt, monotonicNanoseconds, timeOn, tscAt } from "../time/clock";
import { Process, ProcessState, processListHead } from "./process";
import { hasDeliverableSignal, yieldToScheduler } from "./scheduler";

// Over 31 years away is as good as never, and keeps tscAt's product in range.
const FOREVER: u64 = 1000000000000000000;

/** Sets the wake-up TSC for the process's deadline (0: it waits for a signal only). */
function aim(process: Process): void {
  const deadline = monotonicAt(<TimeBase>process.sleepBase, process.sleepDeadline);
  const now = monotonicNanoseconds();
  process.wakeAt = deadline <= now ? 1 : deadline - now >= FOREVER ? 0 : tscAt(deadline);
}

/**
 * Sleeps until process.sleepDeadline on process.sleepBase. True when the
 * time came (even with a signal pending, as Linux says 0 then); false when
 * a signal to act on came first.
 */
export function sleepUntilDeadline(process: Process): bool {
  while (timeOn(<TimeBase>process.sleepBase) < process.sleepDeadline) {
    if (hasDeliverableSignal(process)) return false;
    aim(process);
    process.state = ProcessState.Sleeping;
    process.waitChannel = 0;
    yieldToScheduler();
    process.wakeAt = 0;
  }
  return true;
}

/** CLOCK_REALTIME was set: sleepers on it wake at the new time of their deadline (at once if it has passed). */
export function realtimeSleepersReaim(): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p.state == ProcessState.Sleeping && p.sleepBase == TimeBase.Realtime && p.wakeAt != 0) aim(p);
  }
}
