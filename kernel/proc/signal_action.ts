// Signal actions: what each signal does to a process, as rt_sigaction
// set it (a handler, SIG_IGN, SIG_DFL) or by default. The scheduler asks
// here whether a signal is to be thrown away on arrival; delivery
// (signal.ts) acts on the rest.
import { Process } from "./process";

export const enum SignalAction {
  Terminate = 0,
  Ignore = 1,
  Stop = 2,
}

// Linux x86-64 signal numbers.
export const SIGINT: u32 = 2;
export const SIGILL: u32 = 4;
export const SIGTRAP: u32 = 5;
export const SIGBUS: u32 = 7;
export const SIGFPE: u32 = 8;
export const SIGKILL: u32 = 9;
export const SIGSEGV: u32 = 11;
export const SIGPIPE: u32 = 13;
export const SIGALRM: u32 = 14;
export const SIGCHLD: u32 = 17;
const SIGCONT: u32 = 18;
export const SIGSTOP: u32 = 19;
const SIGTTOU: u32 = 22;
const SIGURG: u32 = 23;
const SIGWINCH: u32 = 28;
export const MAX_SIGNAL: u32 = 64;

export const SIG_DFL: u64 = 0;
export const SIG_IGN: u64 = 1;
export const SA_SIGINFO: u64 = 0x4;
export const SA_RESTART: u64 = 0x10000000;
export const SA_NODEFER: u64 = 0x40000000;
export const SA_RESETHAND: u64 = 0x80000000;
export const SA_RESTORER: u64 = 0x04000000;

/** si_code values. */
export const SI_USER: i32 = 0;
export const SI_KERNEL: i32 = 0x80;
export const SEGV_MAPERR: i32 = 1;
export const SEGV_ACCERR: i32 = 2;
export const BUS_ADRERR: i32 = 2;
export const ILL_ILLOPN: i32 = 2;
export const FPE_INTDIV: i32 = 1;

/**
 * One signal's action, as rt_sigaction's struct sigaction has it on x86-64:
 *   0 handler(u64)  8 flags(u64)  16 restorer(u64)  24 mask(u64)
 */
@unmanaged export class SigAction {
  handler: u64;
  flags: u64;
  restorer: u64;
  mask: u64;
}
export const SIGACTION_SIZE: u32 = 32;

@inline export function bitOf(signal: u32): u64 {
  return <u64>1 << (signal - 1);
}

/** The signals no process can catch, block or ignore. */
export const UNBLOCKABLE: u64 = bitOf(SIGKILL) | bitOf(SIGSTOP);

@inline export function actionOf(process: Process, signal: u32): SigAction {
  return changetype<SigAction>(process.actions + (signal - 1) * SIGACTION_SIZE);
}

export function defaultAction(signal: u32): SignalAction {
  if (signal == SIGCHLD || signal == SIGCONT || signal == SIGURG || signal == SIGWINCH) return SignalAction.Ignore;
  if (signal >= SIGSTOP && signal <= SIGTTOU) return SignalAction.Stop;
  return SignalAction.Terminate;
}

/** Whether `handler` ignores `signal` (Linux's sig_handler_ignored): SIG_IGN, or SIG_DFL of a signal ignored by default. */
export function ignoredBy(handler: u64, signal: u32): bool {
  return handler == SIG_IGN || (handler == SIG_DFL && defaultAction(signal) == SignalAction.Ignore);
}

/**
 * Whether `signal` would be thrown away on arrival: ignored by its action
 * (init ignores all it has no handler for). As on Linux, a blocked signal
 * is kept: its action may change before it is unblocked.
 */
export function discarded(target: Process, signal: u32): bool {
  if ((target.blockedSignals & bitOf(signal)) != 0) return false;
  const handler = actionOf(target, signal).handler;
  if (signal == SIGKILL) return target.pid == 1;
  if (handler == SIG_IGN) return true;
  if (handler != SIG_DFL) return false;
  return target.pid == 1 || defaultAction(signal) == SignalAction.Ignore;
}

