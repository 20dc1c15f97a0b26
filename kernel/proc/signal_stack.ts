// The alternate signal stack (sigaltstack): where handlers installed with
// SA_ONSTACK run, so that a SIGSEGV from a stack overflow still has a
// stack to run on. Its record is three fields of the Process.
import { Process } from "./process";

export const SS_ONSTACK: u32 = 1;
export const SS_DISABLE: u32 = 2;
export const SS_AUTODISARM: u32 = 0x80000000; // disarmed while a handler runs on it, re-armed by sigreturn
export const MINSIGSTKSZ: u64 = 2048;

/** Whether `sp` is on the process's alternate stack (it grows down from base + size). */
export function onAlternateStack(process: Process, sp: u64): bool {
  return process.altStackSize != 0 && sp > process.altStackBase && sp - process.altStackBase <= process.altStackSize;
}

/** Linux's sas_ss_flags: SS_DISABLE, SS_ONSTACK or 0 for the stack as seen from `sp`. */
function stackState(process: Process, sp: u64): u32 {
  if (process.altStackSize == 0) return SS_DISABLE;
  return onAlternateStack(process, sp) ? SS_ONSTACK : 0;
}

/** sigaltstack's report of ss_flags: the state, with SS_AUTODISARM if set. */
export function alternateStackFlags(process: Process, sp: u64): u32 {
  return stackState(process, sp) | process.altStackFlags;
}

/**
 * Sets the alternate stack from a stack_t's fields, as do_sigaltstack:
 * 0, or an errno (EPERM while running on it, EINVAL for unknown flags,
 * ENOMEM below MINSIGSTKSZ) as a negative number.
 */
export function setAlternateStack(process: Process, base: u64, size: u64, flags: u32, sp: u64): i32 {
  if (onAlternateStack(process, sp)) return -1; // EPERM
  const mode = flags & ~SS_AUTODISARM;
  if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK) return -22; // EINVAL
  if (mode == SS_DISABLE) {
    forgetAlternateStack(process);
    return 0;
  }
  if (size < MINSIGSTKSZ) return -12; // ENOMEM
  process.altStackBase = base;
  process.altStackSize = size;
  process.altStackFlags = flags & SS_AUTODISARM;
  return 0;
}

/** The stack pointer a handler's frame starts below: the alternate stack's top when SA_ONSTACK asks and it may be used. */
export function handlerStackPointer(process: Process, sp: u64, onStack: bool): u64 {
  if (!onStack || process.altStackSize == 0 || onAlternateStack(process, sp)) return sp;
  return process.altStackBase + process.altStackSize;
}

/**
 * Writes the uc_stack of a frame (ss_sp, ss_flags, ss_size) for a handler
 * interrupting at `sp`, then disarms if asked. As in Linux, ss_flags is
 * the state alone, so the stack sigreturn re-arms is no longer SS_AUTODISARM.
 */
export function saveAlternateStack(process: Process, ucStack: u32, sp: u64): void {
  store<u64>(ucStack, process.altStackBase);
  store<u32>(ucStack + 8, stackState(process, sp));
  store<u64>(ucStack + 16, process.altStackSize);
  if ((process.altStackFlags & SS_AUTODISARM) != 0) forgetAlternateStack(process);
}

/** fork keeps the parent's stack. */
export function copyAlternateStack(child: Process, parent: Process): void {
  child.altStackBase = parent.altStackBase;
  child.altStackSize = parent.altStackSize;
  child.altStackFlags = parent.altStackFlags;
}

/** exec forgets it. */
export function forgetAlternateStack(process: Process): void {
  process.altStackBase = 0;
  process.altStackSize = 0;
  process.altStackFlags = 0;
}
