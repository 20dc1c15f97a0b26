// What CPU time sets off, besides POSIX timers on CPU clocks: the
// interval timers ITIMER_VIRTUAL (user time, SIGVTALRM) and ITIMER_PROF
// (user and kernel time, SIGPROF), and RLIMIT_CPU (SIGXCPU once a second
// from the soft limit on, SIGKILL at the hard one). As on Linux they are
// checked at the tick, so each fires within a tick of its time.
import { cpuTime, userTime } from "./cpu_time";
import { Process } from "./process";
import { RLIMIT_CPU, RLIM_INFINITY, hardLimit, setLimit, softLimit } from "./resource_limits";
import { SIGKILL, SIGPROF, SIGVTALRM, SIGXCPU, bitOf } from "./signal_action";

const NS_PER_SECOND: u64 = 1000000000;

/**
 * The signals `process`'s CPU time calls for now, as a set (bit n-1 for
 * signal n); what is reported is re-armed or disarmed.
 */
export function dueCpuSignals(process: Process): u64 {
  const soft = softLimit(process, RLIMIT_CPU);
  if (process.virtualTimerAt == 0 && process.profTimerAt == 0 && soft == RLIM_INFINITY) return 0;
  const total = cpuTime(process);
  let due: u64 = 0;
  if (soft != RLIM_INFINITY) {
    const hard = hardLimit(process, RLIMIT_CPU);
    const seconds = total / NS_PER_SECOND;
    if (hard != RLIM_INFINITY && seconds >= hard) return bitOf(SIGKILL);
    if (seconds >= soft) {
      // Linux moves the soft limit on by a second, so SIGXCPU comes again in a second.
      setLimit(process, RLIMIT_CPU, soft + 1, hard);
      due |= bitOf(SIGXCPU);
    }
  }
  if (process.profTimerAt != 0 && total >= process.profTimerAt) {
    process.profTimerAt = nextExpiry(process.profTimerAt, process.profTimerInterval);
    due |= bitOf(SIGPROF);
  }
  if (process.virtualTimerAt != 0) {
    const user = userTime(process);
    if (user >= process.virtualTimerAt) {
      process.virtualTimerAt = nextExpiry(process.virtualTimerAt, process.virtualTimerInterval);
      due |= bitOf(SIGVTALRM);
    }
  }
  return due;
}

/**
 * A periodic timer's next time (0 for a one-shot one): one period on, as
 * Linux's check_cpu_itimer, so expirations a stall skipped come at the
 * following checks.
 */
function nextExpiry(at: u64, interval: u64): u64 {
  return interval == 0 ? 0 : at + interval;
}
