// Signal actions: what each signal does to a process, as rt_sigaction
// set it (a handler, SIG_IGN, SIG_DFL) or by default. The scheduler asks
// here whether a signal is to be thrown away on arrival; delivery
// (signal.ts) acts on the rest.
import { Process } from "./process";

export const enum SignalAction {
  Terminate = 0,
  Ignore = 1,
  Stop = 2,
  Core = 3, // terminate, with a core dump first (core_dump.ts)
}

// Linux x86-64 signal numbers.
export const SIGHUP: u32 = 1;
export const SIGINT: u32 = 2;
const SIGQUIT: u32 = 3;
export const SIGILL: u32 = 4;
export const SIGTRAP: u32 = 5;
const SIGABRT: u32 = 6;
export const SIGBUS: u32 = 7;
export const SIGFPE: u32 = 8;
export const SIGKILL: u32 = 9;
export const SIGSEGV: u32 = 11;
export const SIGPIPE: u32 = 13;
export const SIGALRM: u32 = 14;
export const SIGCHLD: u32 = 17;
export const SIGCONT: u32 = 18;
export const SIGSTOP: u32 = 19;
export const SIGTSTP: u32 = 20;
export const SIGTTIN: u32 = 21;
export const SIGTTOU: u32 = 22;
export const SIGXCPU: u32 = 24;
export const SIGXFSZ: u32 = 25;
export const SIGVTALRM: u32 = 26;
export const SIGPROF: u32 = 27;
const SIGURG: u32 = 23;
export const SIGWINCH: u32 = 28;
const SIGSYS: u32 = 31;
export const SIGRTMIN: u32 = 32; // the first real-time signal (libcs keep 32-34 for themselves)
export const MAX_SIGNAL: u32 = 64;

export const SIG_DFL: u64 = 0;
export const SIG_IGN: u64 = 1;
export const SA_NOCLDSTOP: u64 = 0x1;
export const SA_NOCLDWAIT: u64 = 0x2;
export const SA_SIGINFO: u64 = 0x4;
export const SA_RESTART: u64 = 0x10000000;
export const SA_NODEFER: u64 = 0x40000000;
export const SA_RESETHAND: u64 = 0x80000000;
export const SA_RESTORER: u64 = 0x04000000;
export const SA_ONSTACK: u64 = 0x08000000;

/** si_code values. */
export const SI_USER: i32 = 0;
export const SI_KERNEL: i32 = 0x80;
export const SI_QUEUE: i32 = -1;
export const SI_TIMER: i32 = -2;
export const SI_TKILL: i32 = -6;
export const SEGV_MAPERR: i32 = 1;
export const SEGV_ACCERR: i32 = 2;
export const BUS_ADRERR: i32 = 2;
export const ILL_ILLOPN: i32 = 2;
export const FPE_INTDIV: i32 = 1;
export const CLD_EXITED: i32 = 1;
export const CLD_KILLED: i32 = 2;
export const CLD_DUMPED: i32 = 3;
export const CLD_STOPPED: i32 = 5;
export const CLD_CONTINUED: i32 = 6;
/** The wait status bit of a child killed by a signal that dumped core (WCOREDUMP). */
export const WAIT_CORE_DUMPED: u32 = 0x80;
/** The wait status of a continued child (WIFCONTINUED); a stopped one's is signal << 8 | 0x7f. */
export const CONTINUED_STATUS: u32 = 0xffff;

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

/** The signals whose default action dumps core (Linux's SIG_KERNEL_COREDUMP_MASK). */
const CORE_SIGNALS: u64 = bitOf(SIGQUIT) | bitOf(SIGILL) | bitOf(SIGTRAP) | bitOf(SIGABRT) | bitOf(SIGBUS) | bitOf(SIGFPE) |
  bitOf(SIGSEGV) | bitOf(SIGXCPU) | bitOf(SIGXFSZ) | bitOf(SIGSYS);

/** The signals no process can catch, block or ignore. */
export const UNBLOCKABLE: u64 = bitOf(SIGKILL) | bitOf(SIGSTOP);
/** The signals whose default action stops: a SIGCONT sent throws away those pending, and they throw away a pending SIGCONT. */
export const STOP_SIGNALS: u64 = bitOf(SIGSTOP) | bitOf(SIGTSTP) | bitOf(SIGTTIN) | bitOf(SIGTTOU);

@inline export function actionOf(process: Process, signal: u32): SigAction {
  return changetype<SigAction>(process.actions + (signal - 1) * SIGACTION_SIZE);
}

export function defaultAction(signal: u32): SignalAction {
  if (signal == SIGCHLD || signal == SIGCONT || signal == SIGURG || signal == SIGWINCH) return SignalAction.Ignore;
  if (signal >= SIGSTOP && signal <= SIGTTOU) return SignalAction.Stop;
  return (CORE_SIGNALS & bitOf(signal)) != 0 ? SignalAction.Core : SignalAction.Terminate;
}

/** Whether `handler` ignores `signal` (Linux's sig_handler_ignored): SIG_IGN, or SIG_DFL of a signal ignored by default. */
export function ignoredBy(handler: u64, signal: u32): bool {
  return handler == SIG_IGN || (handler == SIG_DFL && defaultAction(signal) == SignalAction.Ignore);
}

/**
 * Whether `signal` would be thrown away on arrival: ignored by its action
 * (init ignores all it has no handler for). As in Linux, a blocked signal
 * is never thrown away, nor one a sigwaitinfo waits for: its action may
 * change before it is unblocked, and the wait may take it.
 */
export function discarded(target: Process, signal: u32): bool {
  return ((target.blockedSignals | target.awaitedSignals) & bitOf(signal)) == 0 && ignoredByAction(target, signal);
}

/** Whether the action of `signal` ignores it (setting such an action throws away one pending, blocked or not). */
export function ignoredByAction(target: Process, signal: u32): bool {
  const handler = actionOf(target, signal).handler;
  if (signal == SIGKILL) return target.tgid == 1;
  if (handler == SIG_IGN) return true;
  if (handler != SIG_DFL) return false;
  return target.tgid == 1 || defaultAction(signal) == SignalAction.Ignore;
}

