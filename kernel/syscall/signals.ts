// The signal system calls: rt_sigaction, rt_sigprocmask, rt_sigpending,
// rt_sigreturn, rt_sigsuspend, pause, sigaltstack. Structures are copied in and checked
// before anything changes.
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import {
  MAX_SIGNAL, SIGACTION_SIZE, SIGKILL, SIGSTOP, UNBLOCKABLE, actionOf, bitOf, ignoredByAction,
} from "../proc/signal_action";
import { discardGroupSignals, pendingSignalsOf } from "../proc/signal_queue";
import { setTemporaryMask, signalReturn } from "../proc/signal";
import { alternateStackFlags, setAlternateStack } from "../proc/signal_stack";
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
    // As POSIX asks: a signal now ignored that is pending goes, even if blocked.
    if (ignoredByAction(process, <u32>signal)) discardGroupSignals(process, bitOf(<u32>signal));
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
  return putMask(process, set, pendingSignalsOf(process) & process.blockedSignals) ? 0 : -EFAULT;
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

/**
 * sigaltstack(ss, old_ss), in Linux's order: the new stack_t is read
 * (EFAULT), the old one reported as it was, then the new one checked and
 * set (EPERM while running on the stack, EINVAL, ENOMEM).
 */
export function sysSigaltstack(process: Process, frame: TrapFrame, stack: u64, old: u64): i64 {
  const space = spaceOf(process);
  const wanted = memory.data(24, 8);
  if (stack != 0 && !copyFromUser(space, <u32>wanted, stack, 24)) return -EFAULT;
  const previous = memory.data(24, 8);
  store<u64>(previous, process.altStackBase);
  store<u64>(previous + 8, alternateStackFlags(process, frame.rsp)); // ss_flags and the padding after it
  store<u64>(previous + 16, process.altStackSize);
  if (stack != 0) {
    const error = setAlternateStack(process, load<u64>(wanted), load<u64>(wanted + 16), load<u32>(wanted + 8), frame.rsp);
    if (error != 0) return error;
  }
  if (old != 0 && !copyToUser(space, old, <u32>previous, 24)) return -EFAULT;
  return 0;
}
