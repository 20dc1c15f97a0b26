// Sending a signal to a process, by its default action only: no process
// can install a handler yet, so a signal either ends its target (terminate
// and core-dump signals, SIGKILL) or does nothing (SIGCHLD, SIGCONT,
// SIGURG, SIGWINCH). Stopping (SIGSTOP and the terminal stops) needs job
// control, which does not exist yet: those are refused.
import { Process, ProcessState } from "./process";
import { signalProcess } from "./scheduler";

export const enum SignalAction {
  Terminate = 0,
  Ignore = 1,
  Stop = 2,
}

const SIGCHLD: u32 = 17;
const SIGCONT: u32 = 18;
const SIGSTOP: u32 = 19;
const SIGTTOU: u32 = 22;
const SIGURG: u32 = 23;
const SIGWINCH: u32 = 28;
export const MAX_SIGNAL: u32 = 64;

export function defaultAction(signal: u32): SignalAction {
  if (signal == SIGCHLD || signal == SIGCONT || signal == SIGURG || signal == SIGWINCH) return SignalAction.Ignore;
  if (signal >= SIGSTOP && signal <= SIGTTOU) return SignalAction.Stop;
  return SignalAction.Terminate;
}

/**
 * Delivers `signal` (1..64, not a stop signal) to `target`. init never
 * receives a signal it has no handler for, as on Linux, so for now none
 * reaches it this way. A terminating signal ends the target at its next
 * return towards user mode; a sleeping target is woken for it.
 */
export function sendSignal(target: Process, signal: u32): void {
  if (target.pid == 1 || defaultAction(signal) != SignalAction.Terminate) return;
  if (target.state == ProcessState.Zombie || target.state == ProcessState.Dead) return;
  signalProcess(target, signal);
}
