// Where every trap lands (kernel/arch/x86_64/traps.asm -> entry.c): system
// calls, interrupts, user exceptions; anything else is a kernel bug.
import { VECTOR_SYSCALL } from "./arch/x86_64/cpu";
import { IRQ_BASE, IRQ_KEYBOARD, IRQ_SERIAL, IRQ_TIMER, TIMER_HZ } from "./arch/x86_64/pic";
import { sampleLoad } from "./proc/load_average";
import { handleKeyboardInterrupt } from "./drivers/keyboard";
import { pollUsbKeyboard } from "./drivers/usb_keyboard";
import { frameMapTick } from "./drivers/frame_map";
import { handleSerialInterrupt } from "./drivers/tty";
import { IRQ_LINES, VECTOR_SPURIOUS, countInterrupt, countSpuriousInterrupt, endOfInterrupt, runIrqHandlers } from "./arch/x86_64/irq";
import { TrapFrame, fromUserMode } from "./arch/x86_64/trap_frame";
import { panicWithFrame } from "./debug/panic";
import { makeRunnable, currentProcess, hasCurrentProcess, hasDeliverableSignal, yieldToScheduler } from "./proc/scheduler";
import { deliverSignals } from "./proc/signal";
import { rseqHandleResume } from "./proc/rseq";
import { dieOfFault } from "./proc/fatal_signal";
import { SIGSEGV, SI_KERNEL } from "./proc/signal_action";
import { chargeSystemTime, chargeUserTime } from "./proc/cpu_time";
import { handleUserException } from "./proc/user_trap";
import { handleSyscall } from "./syscall/dispatch";

export let timerTicks: u64 = 0;

/** Timer: round robin, one tick per turn, but only for user code (the kernel is not preemptible). */
function handleTimer(frame: TrapFrame): void {
  timerTicks++;
  if (timerTicks % (<u64>TIMER_HZ * 5) == 0) sampleLoad();
  endOfInterrupt(IRQ_TIMER);
  pollUsbKeyboard();
  frameMapTick();
  if (fromUserMode(frame) && hasCurrentProcess()) {
    makeRunnable(currentProcess());
    yieldToScheduler();
  }
}

export function dispatchTrap(frameAddress: u32): void {
  const frame = changetype<TrapFrame>(frameAddress);
  const vector = <u32>frame.vector;
  if (fromUserMode(frame) && hasCurrentProcess()) chargeUserTime(currentProcess());
  if (vector == VECTOR_SYSCALL) {
    handleSyscall(frame);
  } else if (vector >= IRQ_BASE && vector < IRQ_BASE + IRQ_LINES) {
    const irq = vector - IRQ_BASE;
    countInterrupt(irq);
    if (irq == IRQ_TIMER) {
      handleTimer(frame);
    } else {
      if (irq == IRQ_KEYBOARD) handleKeyboardInterrupt();
      else if (irq == IRQ_SERIAL) handleSerialInterrupt();
      else runIrqHandlers(irq);
      endOfInterrupt(irq);
    }
  } else if (vector == VECTOR_SPURIOUS) {
    // The local APIC withdrew an interrupt it had signalled: nothing to serve, and no end-of-interrupt is due.
    countSpuriousInterrupt();
  } else if (vector < IRQ_BASE && fromUserMode(frame) && hasCurrentProcess()) {
    handleUserException(frame);
  } else {
    panicWithFrame(frame);
  }
  // Every way back to user mode passes here: signals are acted on now.
  if (fromUserMode(frame) && hasCurrentProcess()) {
    const process = currentProcess();
    if (hasDeliverableSignal(process) || process.stopPending != 0) deliverSignals(process, frame);
    // After the signals: a stop there switches it out too. A bad rseq area or descriptor is SIGSEGV.
    if (process.rseqPending != 0 && !rseqHandleResume(process, frame)) dieOfFault(SIGSEGV, SI_KERNEL, 0, false);
    chargeSystemTime(process);
  }
}
