// The signal system calls: rt_sigaction, rt_sigprocmask, rt_sigpending,
// rt_sigreturn, rt_sigsuspend, pause. Structures are copied in and checked
// before anything changes.
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import {
  MAX_SIGNAL, SIGACTION_SIZE, SIGKILL, SIGSTOP, UNBLOCKABLE, actionOf, bitOf, ignoredBy,
} from "../proc/signal_action";
import { setTemporaryMask, signalReturn } from "../proc/signal";
import { Process, ProcessState, spaceOf } from "../proc/process";
import { signalPending, yieldToScheduler } from "../proc/scheduler";
import { EFAULT, EINTR, EINVAL } from "./errno";

const SIGSET_SIZE: u64 = 8;
const SIG_BLOCK: i64 = 0;
const SIG_UNBLOCK: i64 = 1;
const SIG_SETMASK: i64 = 2;

const actionBuffer = memory.data(SIGACTION_SIZE, 8);

export function sysRtSigaction(process: Process, signal: i64, action: u64, old: u64, setSize: u64): i64 {
  if (setSize != SIGSET_SIZE) return -EINVAL;
  if (signal < 1 || signal > <i64>MAX_SIGNAL) return -EINVAL;
  if (action != 0 && (signal == <i64>SIGKILL || signal == <i64>SIGSTOP)) return -EINVAL;
  if (action != 0 && !copyFromUser(spaceOf(process), <u32>actionBuffer, action, SIGACTION_SIZE)) return -EFAULT;
  const current = actionOf(process, <u32>signal);
  if (old != 0 && !copyToUser(spaceOf(process), old, changetype<u32>(current), SIGACTION_SIZE)) return -EFAULT;
  if (action != 0) {
    memory.copy(changetype<u32>(current), <u32>actionBuffer, SIGACTION_SIZE);
    current.mask &= ~UNBLOCKABLE;
    // As on Linux, an action that ignores the signal throws away an instance pending (blocked).
    if (ignoredBy(current.handler, <u32>signal)) process.pendingSignals &= ~bitOf(<u32>signal);
  }
  return 0;
}

function putMask(process: Process, to: u64, mask: u64): bool {
  const value = memory.data(8, 8);
  store<u64>(value, mask);
  return copyToUser(spaceOf(process), to, <u32>value, 8);
}

export function sysRtSigprocmask(process: Process, how: i64, set: u64, old: u64, setSize: u64): i64 {
  if (setSize != SIGSET_SIZE) return -EINVAL;
  const value = memory.data(8, 8);
  if (set != 0) {
    if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK) return -EINVAL;
    if (!copyFromUser(spaceOf(process), <u32>value, set, 8)) return -EFAULT;
  }
  const previous = process.blockedSignals;
  if (old != 0 && !putMask(process, old, previous)) return -EFAULT;
  if (set == 0) return 0;
  const mask = load<u64>(value);
  const next = how == SIG_BLOCK ? previous | mask : how == SIG_UNBLOCK ? previous & ~mask : mask;
  process.blockedSignals = next & ~UNBLOCKABLE;
  return 0;
}

export function sysRtSigpending(process: Process, set: u64, setSize: u64): i64 {
  if (setSize > SIGSET_SIZE) return -EINVAL;
  return putMask(process, set, process.pendingSignals & process.blockedSignals) ? 0 : -EFAULT;
}

export function sysRtSigreturn(process: Process, frame: TrapFrame): i64 {
  return <i64>signalReturn(process, frame);
}

/** Sleeps until a signal is to be acted on (a handler runs, or the process ends). */
function waitForSignal(process: Process): i64 {
  while (!signalPending()) {
    process.state = ProcessState.Sleeping;
    process.waitChannel = 0;
    process.wakeAt = 0;
    yieldToScheduler();
  }
  return -EINTR;
}

export function sysPause(process: Process): i64 {
  return waitForSignal(process);
}

/** rt_sigsuspend: waits with `mask` in place; the handler's return puts the old mask back. */
export function sysRtSigsuspend(process: Process, mask: u64, setSize: u64): i64 {
  if (setSize != SIGSET_SIZE) return -EINVAL;
  if (!setTemporaryMask(process, mask)) return -EFAULT;
  return waitForSignal(process);
}
