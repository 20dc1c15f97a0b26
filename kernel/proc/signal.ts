// Signals: their actions (rt_sigaction), sending them (kill, faults, the
// terminal, timers), and delivery on the way back to user mode. A handler
// runs on the user stack under a frame in Linux's layout (struct
// rt_sigframe: the return address of sa_restorer, a ucontext with the
// general registers, the signal mask and a pointer to the saved FPU/SSE
// state, then the siginfo), and rt_sigreturn puts everything back, checking
// what it restores. Without a handler a signal takes its default action:
// terminate (the "core" signals dump core first: fatal_signal.ts), ignore,
// or stop.
import { fxrstor, fxsave } from "../arch/x86_64/cpu";
import { USER_CODE, USER_DATA } from "../arch/x86_64/gdt";
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { USER_END } from "../mm/address_space";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { dieOfFault, dieOfSignal } from "./fatal_signal";
import { Process, SIGNAL_ACTIONS_SIZE, leaderOf, resetFpuState, spaceOf } from "./process";
import { hasDeliverableSignal, stopCurrent, stopThread } from "./scheduler";
import { isOrphanedGroup } from "./orphans";
import { rseqSignalDeliver } from "./rseq";
import { SIGNAL_INFO_SIZE, SignalInfo, storeSiginfo } from "./signal_info";
import { dequeueSignal, pendingSignalsOf } from "./signal_queue";
import {
  copyAlternateStack, forgetAlternateStack, handlerStackPointer, saveAlternateStack, setAlternateStack,
} from "./signal_stack";
import {
  MAX_SIGNAL, SIGKILL, SIGSEGV, SIGSTOP, SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTORER, SA_SIGINFO, SIGACTION_SIZE, SIG_DFL, SIG_IGN, SI_KERNEL,
  SigAction, SignalAction, UNBLOCKABLE, actionOf, bitOf, defaultAction,
} from "./signal_action";

/** execve: caught signals go back to their default action; ignored ones stay ignored; the mask stays; no alternate stack. */
export function resetHandlersForExec(process: Process): void {
  forgetAlternateStack(process);
  for (let signal: u32 = 1; signal <= MAX_SIGNAL; signal++) {
    const action = actionOf(process, signal);
    if (action.handler != SIG_IGN) memory.fill(changetype<u32>(action), 0, SIGACTION_SIZE);
  }
}

/**
 * rt_sigsuspend, ppoll, pselect6: puts the user's mask (the sigset at
 * `mask`) in place for the call; false (EFAULT) if it cannot be read. The
 * old mask comes back through the handler's frame when one runs, else
 * through restoreTemporaryMask.
 */
export function setTemporaryMask(process: Process, mask: u64): bool {
  const value = memory.data(8, 8);
  if (!copyFromUser(spaceOf(process), <u32>value, mask, 8)) return false;
  process.savedMask = process.blockedSignals;
  process.hasSavedMask = 1;
  process.blockedSignals = load<u64>(value) & ~UNBLOCKABLE;
  return true;
}

/** The call ends without a handler to run: its temporary mask goes. */
export function restoreTemporaryMask(process: Process): void {
  if (process.hasSavedMask == 0) return;
  process.blockedSignals = process.savedMask;
  process.hasSavedMask = 0;
}

/** fork: the child has its parent's actions and mask, and nothing pending. */
export function copySignalState(child: Process, parent: Process): void {
  if (child.actions != parent.actions) memory.copy(child.actions, parent.actions, SIGNAL_ACTIONS_SIZE); // not CLONE_SIGHAND
  child.blockedSignals = parent.blockedSignals;
  copyAlternateStack(child, parent);
}

// ---- delivery -----------------------------------------------------------------

const RED_ZONE: u64 = 128;
const FPU_STATE_BYTES: u32 = 512;
// struct rt_sigframe: pretcode, then the ucontext, then the siginfo.
const UCONTEXT_AT: u32 = 8;
const MCONTEXT_AT: u32 = UCONTEXT_AT + 40; // after uc_flags, uc_link and the 24-byte uc_stack
const SIGMASK_AT: u32 = MCONTEXT_AT + 256;
const SIGINFO_AT: u32 = SIGMASK_AT + 8;
const FRAME_BYTES: u32 = SIGINFO_AT + 128;
/**
 * The most stack one handler's frame takes: the FXSAVE area and the frame
 * with their worst alignment, rounded to 16 (AT_MINSIGSTKSZ, as Linux's
 * get_sigframe_size computes it for its own frame).
 */
export const SIGNAL_FRAME_MAX_BYTES: u32 = (63 + FPU_STATE_BYTES + 15 + 8 + FRAME_BYTES + 15) & ~15;
const UC_SIGCONTEXT_SS: u64 = 0x2;
const UC_STRICT_RESTORE_SS: u64 = 0x4;
// RFLAGS bits a handler or sigreturn may change (Linux's FIX_EFLAGS): AC, OF, DF, TF, SF, ZF, AF, PF, CF, RF.
const USER_FLAGS: u64 = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;
const FLAG_IF: u64 = 0x200;
const FLAGS_CLEARED_FOR_HANDLER: u64 = 0x100 | 0x400 | 0x10000; // TF, DF, RF

// The frame is built here, then copied out in one piece.
const frameBuffer = memory.data(FRAME_BYTES, 16);

/** The sigcontext slots of the general registers, in struct sigcontext's order, as TrapFrame offsets. */
const REGISTER_SLOTS = memory.data<u8>([
  56, 48, 40, 32, 24, 16, 8, 0, // r8..r15
  72, 80, 64, 104, 88, 112, 96, // rdi, rsi, rbp, rbx, rdx, rax, rcx
]);

function saveRegisters(frame: TrapFrame, mcontext: u32): void {
  const base = changetype<u32>(frame);
  for (let i: u32 = 0; i < 15; i++) store<u64>(mcontext + i * 8, load<u64>(base + load<u8>(REGISTER_SLOTS + i)));
  store<u64>(mcontext + 120, frame.rsp);
  store<u64>(mcontext + 128, frame.rip);
  store<u64>(mcontext + 136, frame.rflags);
  store<u16>(mcontext + 144, <u16>frame.cs);
  store<u16>(mcontext + 150, <u16>frame.ss);
}

/** A process whose signal frame cannot be written or read back is killed with SIGSEGV, as on Linux. */
function badFrame(): void {
  dieOfFault(SIGSEGV, SI_KERNEL, 0, false);
}

/**
 * Runs the handler of `info`'s signal for the current process: the frame
 * goes on its user stack, with the siginfo `info` describes, and the
 * registers point at the handler. `faultAddress` is the sigcontext's cr2.
 */
function runHandler(process: Process, frame: TrapFrame, info: SignalInfo, faultAddress: u64): void {
  const signal = info.signal;
  const action = actionOf(process, signal);
  if ((action.flags & SA_RESTORER) == 0) {
    badFrame(); // x86-64 has no kernel-provided return path: libc must give one
    return;
  }
  // A handler that interrupts an rseq critical section returns to its abort handler.
  if (!rseqSignalDeliver(process, frame)) {
    badFrame();
    return;
  }
  const space = spaceOf(process);
  const sp = handlerStackPointer(process, frame.rsp - RED_ZONE, (action.flags & SA_ONSTACK) != 0);
  const fpuAt = (sp - FPU_STATE_BYTES) & ~(<u64>63);
  const at = ((fpuAt - FRAME_BYTES) & ~(<u64>15)) - 8;
  fxsave(process.fpuState);
  if (at >= USER_END || !copyToUser(space, fpuAt, process.fpuState, FPU_STATE_BYTES)) {
    badFrame();
    return;
  }
  const f = <u32>frameBuffer;
  memory.fill(f, 0, FRAME_BYTES);
  store<u64>(f, action.restorer);
  store<u64>(f + UCONTEXT_AT, UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
  saveAlternateStack(process, f + UCONTEXT_AT + 16, frame.rsp);
  saveRegisters(frame, f + MCONTEXT_AT);
  store<u64>(f + MCONTEXT_AT + 160, frame.vector < 32 ? frame.vector : 0); // trapno
  store<u64>(f + MCONTEXT_AT + 152, frame.vector < 32 ? frame.errorCode : 0); // err
  store<u64>(f + MCONTEXT_AT + 168, process.blockedSignals); // oldmask
  store<u64>(f + MCONTEXT_AT + 176, faultAddress); // cr2
  store<u64>(f + MCONTEXT_AT + 184, fpuAt); // fpstate
  const restoredMask = process.hasSavedMask != 0 ? process.savedMask : process.blockedSignals;
  process.hasSavedMask = 0;
  store<u64>(f + SIGMASK_AT, restoredMask);
  storeSiginfo(f + SIGINFO_AT, info);
  if (!copyToUser(space, at, f, FRAME_BYTES)) {
    badFrame();
    return;
  }
  process.blockedSignals = (restoredMask | action.mask | ((action.flags & SA_NODEFER) != 0 ? 0 : bitOf(signal))) & ~UNBLOCKABLE;
  const handler = action.handler;
  if ((action.flags & SA_RESETHAND) != 0) {
    action.handler = SIG_DFL;
    action.flags &= ~SA_SIGINFO;
  }
  resetFpuState(process);
  fxrstor(process.fpuState);
  frame.rsp = at;
  frame.rip = handler;
  frame.rdi = signal;
  frame.rsi = at + SIGINFO_AT;
  frame.rdx = at + UCONTEXT_AT;
  frame.rax = 0;
  frame.rflags &= ~FLAGS_CLEARED_FOR_HANDLER;
  frame.cs = USER_CODE;
  frame.ss = USER_DATA;
}

// The siginfo of the signal being delivered, taken off the queue.
const deliveredInfo = memory.data(SIGNAL_INFO_SIZE, 8);

/** The lowest deliverable signal (SIGKILL first), 0 if none. */
function nextSignal(process: Process): u32 {
  const deliverable = pendingSignalsOf(process) & (~process.blockedSignals | bitOf(SIGKILL));
  if (deliverable == 0) return 0;
  if ((deliverable & bitOf(SIGKILL)) != 0) return SIGKILL;
  return <u32>ctz(deliverable) + 1;
}

/** The signal the next delivery will act on with a handler, or 0 (for the system-call restart decision). */
export function handlerAboutToRun(process: Process): SigAction | null {
  const signal = nextSignal(process);
  if (signal == 0) return null;
  const action = actionOf(process, signal);
  return action.handler == SIG_DFL || action.handler == SIG_IGN ? null : action;
}

/**
 * On every return to user mode: acts on pending signals the process does
 * not block, lowest first. A default action of terminate ends it here; a
 * handler gets its frame (one handler per return; the next signal waits
 * for the next return).
 */
export function deliverSignals(process: Process, frame: TrapFrame): void {
  // Its process stopped while it was away: it joins the stop before taking any signal but SIGKILL.
  if (process.stopPending != 0 && (pendingSignalsOf(process) & bitOf(SIGKILL)) == 0) stopThread();
  while (hasDeliverableSignal(process)) {
    const signal = nextSignal(process);
    const info = changetype<SignalInfo>(deliveredInfo);
    dequeueSignal(process, signal, info);
    const action = actionOf(process, signal);
    if (signal != SIGKILL && action.handler == SIG_IGN) continue;
    if (signal == SIGKILL || action.handler == SIG_DFL) {
      const what = defaultAction(signal);
      // init is never ended or stopped by a signal, but its threads end with it.
      if (process.tgid == 1 && leaderOf(process).groupExiting == 0) continue;
      if (what == SignalAction.Terminate || what == SignalAction.Core) dieOfSignal(info, false);
      // POSIX: a group nobody could continue is not stopped by the terminal's stop signals, only by SIGSTOP.
      else if (what == SignalAction.Stop && (signal == SIGSTOP || !isOrphanedGroup(process.pgid))) stopCurrent(signal);
      continue;
    }
    runHandler(process, frame, info, 0);
    return;
  }
}

/**
 * A fault of the process's own (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP):
 * its handler runs at once, with si_code and si_addr. True if it did; false
 * when there is none or the signal is blocked or ignored, and the caller
 * reports and kills, as Linux does for a fault it cannot deliver.
 */
export function deliverFault(process: Process, frame: TrapFrame, signal: u32, code: i32, address: u64): bool {
  const action = actionOf(process, signal);
  if (action.handler == SIG_DFL || action.handler == SIG_IGN || (process.blockedSignals & bitOf(signal)) != 0) return false;
  const info = changetype<SignalInfo>(deliveredInfo);
  info.signal = signal;
  info.code = code;
  info.first = address; // si_addr
  info.second = 0;
  runHandler(process, frame, info, address);
  return true;
}

const registersBuffer = memory.data(256 + 8, 8);

/**
 * rt_sigreturn: back to what the frame at the user stack pointer saved.
 * Returns the restored RAX (the dispatcher stores it), after checking that
 * the saved state is one a user program may have: a user-half instruction
 * and stack pointer, user segments, user-changeable flags only, an FPU
 * state whose MXCSR has no reserved bit. A frame that fails is SIGSEGV.
 */
export function signalReturn(process: Process, frame: TrapFrame): u64 {
  const space = spaceOf(process);
  const at = frame.rsp - 8; // the handler's return popped pretcode
  const saved = <u32>registersBuffer;
  if (!copyFromUser(space, saved, at + MCONTEXT_AT, 256 + 8)) {
    badFrame();
    return 0;
  }
  const rip = load<u64>(saved + 128);
  const rsp = load<u64>(saved + 120);
  if (rip >= USER_END || rsp >= USER_END) {
    badFrame();
    return 0;
  }
  const fpu = load<u64>(saved + 184);
  if (fpu != 0) {
    if (!copyFromUser(space, process.fpuState, fpu, FPU_STATE_BYTES)) {
      badFrame();
      return 0;
    }
    const mxcsrMask = load<u32>(process.fpuState + 28);
    const mask = mxcsrMask != 0 ? mxcsrMask : 0xffbf;
    store<u32>(process.fpuState + 24, load<u32>(process.fpuState + 24) & mask);
    fxrstor(process.fpuState);
  }
  const base = changetype<u32>(frame);
  for (let i: u32 = 0; i < 15; i++) store<u64>(base + load<u8>(REGISTER_SLOTS + i), load<u64>(saved + i * 8));
  frame.rsp = rsp;
  frame.rip = rip;
  frame.rflags = (frame.rflags & ~USER_FLAGS) | (load<u64>(saved + 136) & USER_FLAGS) | FLAG_IF;
  frame.cs = USER_CODE;
  frame.ss = USER_DATA;
  process.blockedSignals = load<u64>(saved + 256) & ~UNBLOCKABLE;
  // The alternate stack as the frame saved it (re-arming an SS_AUTODISARM
  // one); refusals are let go, as Linux's restore_altstack lets them go.
  const stack = <u32>registersBuffer;
  if (!copyFromUser(space, stack, at + UCONTEXT_AT + 16, 24)) {
    badFrame();
    return 0;
  }
  setAlternateStack(process, load<u64>(stack), load<u64>(stack + 16), load<u32>(stack + 8), frame.rsp);
  return frame.rax;
}
