// rt_sigtimedwait (sigwaitinfo, sigtimedwait, sigwait): take a pending
// signal of a given set without running its handler, waiting for one if
// none is pending, up to a timeout. The set may be blocked (that is how it
// is used: blocked so that only the wait takes it).
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { Process, ProcessState, spaceOf } from "../proc/process";
import { hasDeliverableSignal, yieldToScheduler } from "../proc/scheduler";
import { SIGKILL, SIGSTOP, bitOf } from "../proc/signal_action";
import { SIGNAL_INFO_SIZE, SignalInfo, storeSiginfo } from "../proc/signal_info";
import { dequeueSignal, pendingSignalsOf } from "../proc/signal_queue";
import { tscAfter } from "../time/clock";
import { EAGAIN, EFAULT, EINTR, EINVAL } from "./errno";

const SIGSET_SIZE: u64 = 8;
const SIGINFO_SIZE: u32 = 128;
const taken = memory.data(SIGNAL_INFO_SIZE, 8);

/** The lowest pending signal in `set`, 0 if none. */
function pendingIn(process: Process, set: u64): u32 {
  const found = pendingSignalsOf(process) & set;
  return found == 0 ? 0 : <u32>ctz(found) + 1;
}

/** Takes `signal` off the queue and writes its siginfo to `info` (if not 0); the signal number, or -EFAULT. */
function take(process: Process, signal: u32, info: u64): i64 {
  const entry = changetype<SignalInfo>(taken);
  dequeueSignal(process, signal, entry);
  if (info == 0) return signal;
  const siginfo = memory.data(SIGINFO_SIZE, 8);
  memory.fill(siginfo, 0, SIGINFO_SIZE);
  storeSiginfo(<u32>siginfo, entry);
  return copyToUser(spaceOf(process), info, <u32>siginfo, SIGINFO_SIZE) ? <i64>signal : -EFAULT;
}

export function sysRtSigtimedwait(process: Process, setAddress: u64, info: u64, timeout: u64, setSize: u64): i64 {
  if (setSize != SIGSET_SIZE) return -EINVAL;
  const space = spaceOf(process);
  const buffer = memory.data(16, 8);
  if (!copyFromUser(space, <u32>buffer, setAddress, 8)) return -EFAULT;
  const set = load<u64>(buffer) & ~(bitOf(SIGKILL) | bitOf(SIGSTOP));
  let wait: u64 = U64.MAX_VALUE;
  if (timeout != 0) {
    if (!copyFromUser(space, <u32>buffer, timeout, 16)) return -EFAULT;
    const seconds = load<i64>(buffer);
    const nanoseconds = load<i64>(buffer + 8);
    if (seconds < 0 || nanoseconds < 0 || nanoseconds >= 1000000000) return -EINVAL;
    wait = <u64>seconds * 1000000000 + <u64>nanoseconds;
    if (<u64>seconds >= 1000000000) wait = U64.MAX_VALUE; // over 31 years: as good as forever
  }
  let signal = pendingIn(process, set);
  if (signal != 0) return take(process, signal, info);
  if (wait == 0) return -EAGAIN;
  // The set's signals wake the wait (and are kept, not thrown away, while
  // it lasts) even though they are blocked, as Linux's real_blocked does.
  if (!hasDeliverableSignal(process)) {
    process.awaitedSignals = set;
    process.state = ProcessState.Sleeping;
    process.waitChannel = 0;
    process.wakeAt = wait != U64.MAX_VALUE ? tscAfter(wait) : 0;
    yieldToScheduler();
    process.wakeAt = 0;
    process.awaitedSignals = 0;
  }
  signal = pendingIn(process, set);
  if (signal != 0) return take(process, signal, info);
  return hasDeliverableSignal(process) ? -EINTR : -EAGAIN;
}
