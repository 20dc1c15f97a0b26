// Round-robin scheduling. The scheduler runs on the boot stack: a process
// gives up the CPU by switching to it (yieldToScheduler), and it switches
// to the next runnable process. Interrupts are enabled only in user mode
// and while idle, so the kernel itself is never preempted.
import {
  fxrstor, fxsave, idle, rdtsc, setSyscallStack, switchContext, wrmsr, writeCr3,
} from "../arch/x86_64/cpu";
import { setKernelStack } from "../arch/x86_64/gdt";
import { kernelPageTableRoot } from "../mm/kernel_map";
import { Process, ProcessState, destroyProcess, findProcess, kernelStackTop, processListHead, spaceOf } from "./process";
import { monotonicNanoseconds, tscAt } from "../time/clock";
import { TIMER_HZ } from "../arch/x86_64/pic";
import {
  CLD_CONTINUED, CONTINUED_STATUS, CLD_STOPPED, MAX_SIGNAL, SA_NOCLDSTOP, SIGALRM, SIGCHLD, SIGCONT, SIGKILL, STOP_SIGNALS,
  SI_KERNEL, SI_USER, actionOf, bitOf, discarded,
} from "./signal_action";
import { discardSignals, enqueueSignal, queueTimerSignal } from "./signal_queue";
import { PosixTimer, timerEntry, timerFires, timerWakeAt } from "./posix_timer";
import { registerWaiting } from "../lib/wait";
import { chargeSystemTime, startCharging } from "./cpu_time";
import { dueCpuSignals } from "./cpu_timers";
import { registerForeground } from "../drivers/tty_session";

const MSR_FS_BASE: u32 = 0xc0000100;

let runHead: u32 = 0;
let runTail: u32 = 0;
let current: u32 = 0;
let schedulerRsp = memory.data(8, 8);
let reapList: u32 = 0; // exited processes whose stacks can go once we are off them

export function currentProcess(): Process {
  return changetype<Process>(current);
}

export function hasCurrentProcess(): bool {
  return current != 0;
}

export function makeRunnable(process: Process): void {
  process.state = ProcessState.Runnable;
  process.runNext = 0;
  if (runTail == 0) runHead = changetype<u32>(process);
  else changetype<Process>(runTail).runNext = changetype<u32>(process);
  runTail = changetype<u32>(process);
}

function takeRunnable(): Process | null {
  if (runHead == 0) return null;
  const process = changetype<Process>(runHead);
  runHead = process.runNext;
  if (runHead == 0) runTail = 0;
  return process;
}

/**
 * Sleeps until wakeUp(channel). Channels are addresses of whatever is
 * awaited (a pipe, a parent waiting for children), as in xv6. The caller
 * re-checks its condition after waking.
 */
export function sleepOn(channel: u32): void {
  const process = currentProcess();
  process.state = ProcessState.Sleeping;
  process.waitChannel = channel;
  process.wakeAt = 0;
  yieldToScheduler();
}

/** Sleeps until wakeUp(channel) or until the TSC reaches `tscDeadline` (a terminal read's VTIME). */
export function sleepOnUntil(channel: u32, tscDeadline: u64): void {
  const process = currentProcess();
  process.state = ProcessState.Sleeping;
  process.waitChannel = channel;
  process.wakeAt = tscDeadline;
  yieldToScheduler();
  process.waitChannel = 0;
  process.wakeAt = 0;
}

export function wakeUp(channel: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p.state == ProcessState.Sleeping && p.waitChannel == channel) {
      p.waitChannel = 0;
      makeRunnable(p);
    }
  }
}

const SIGKILL_BIT: u64 = 1 << 8;

/** Whether a signal `process` does not block is pending (SIGKILL cannot be blocked). */
export function hasDeliverableSignal(process: Process): bool {
  return (process.pendingSignals & (~process.blockedSignals | SIGKILL_BIT)) != 0;
}

/** Whether the current process has a signal to take: blocking calls then return EINTR. */
export function signalPending(): bool {
  return current != 0 && hasDeliverableSignal(currentProcess());
}

/**
 * Sends `signal` to `process` (from `sender`'s pid, 0 for the kernel): it
 * becomes pending, waking the process if it sleeps and does not block the
 * signal, unless its action ignores it. What it does is decided when the
 * process next returns to user mode (signal.ts).
 */
export function signalProcess(process: Process, signal: u32, sender: u32 = 0): void {
  sendSignal(process, signal, sender != 0 ? SI_USER : SI_KERNEL, <u64>sender, 0);
}

/**
 * Sends `signal` with the siginfo fields a handler will see (signal_queue.ts
 * says which). False only when a real-time signal finds the target's queue
 * full (EAGAIN); a signal to a process that has ended, or one it ignores,
 * is sent and gone.
 */
export function sendSignal(process: Process, signal: u32, code: i32, first: u64, second: u64): bool {
  if (!prepareSignal(process, signal)) return true;
  if (!enqueueSignal(process, signal, code, first, second)) return false;
  wakeForSignal(process, signal);
  return true;
}

/** A POSIX timer's signal, in the entry the timer keeps for it (unless it is ignored, or the process has ended). */
function sendTimerSignal(process: Process, timer: PosixTimer): void {
  const signal = timerEntry(timer).signal;
  if (!prepareSignal(process, signal)) return;
  queueTimerSignal(process, timer);
  wakeForSignal(process, signal);
}

/** Whether `signal` is to become pending, after what its arrival does at once (SIGCONT continues). */
function prepareSignal(process: Process, signal: u32): bool {
  if (process.state == ProcessState.Zombie || process.state == ProcessState.Dead) return false;
  // As Linux's prepare_signal: SIGCONT continues a stopped process even if
  // it ignores SIGCONT, and a SIGCONT and a stop signal cancel each other.
  if (signal == SIGCONT) {
    discardSignals(process, STOP_SIGNALS);
    if (process.state == ProcessState.Stopped) {
      makeRunnable(process);
      process.jobStatus = CONTINUED_STATUS;
      tellParent(process, CLD_CONTINUED, SIGCONT);
    }
  } else if ((bitOf(signal) & STOP_SIGNALS) != 0) {
    discardSignals(process, bitOf(SIGCONT));
  }
  return !discarded(process, signal); // ignored: it never becomes pending, and wakes nobody
}

function wakeForSignal(process: Process, signal: u32): void {
  if (process.state == ProcessState.Stopped && signal == SIGKILL) makeRunnable(process);
  if (process.state == ProcessState.Sleeping && (hasDeliverableSignal(process) || (process.awaitedSignals & bitOf(signal)) != 0)) {
    process.waitChannel = 0;
    process.wakeAt = 0;
    makeRunnable(process);
  }
}


/**
 * A child stopped, continued or exited: its parent's wait may now find it,
 * and the parent gets its exit signal (SIGCHLD) with the si_code and
 * si_status its handler sees, unless SA_NOCLDSTOP turns off the stop and
 * continue reports.
 */
export function tellParent(child: Process, code: i32, status: u32): void {
  const parent = findProcess(child.parentPid);
  if (parent == null) return;
  wakeUp(changetype<u32>(parent));
  const signal = code == CLD_STOPPED || code == CLD_CONTINUED ? SIGCHLD : child.exitSignal;
  if (signal == 0 || signal > MAX_SIGNAL) return;
  if (signal == SIGCHLD && (code == CLD_STOPPED || code == CLD_CONTINUED) && (actionOf(parent, SIGCHLD).flags & SA_NOCLDSTOP) != 0) return;
  sendSignal(parent, signal, code, <u64>child.pid, <u64>status);
}

/** A stop signal's default action: the current process stops until SIGCONT or SIGKILL. */
export function stopCurrent(signal: u32): void {
  const process = currentProcess();
  process.state = ProcessState.Stopped;
  process.jobStatus = signal << 8 | 0x7f;
  tellParent(process, CLD_STOPPED, signal);
  yieldToScheduler();
}

/** Gives the CPU back to the scheduler; returns when this process is chosen again. */
export function yieldToScheduler(): void {
  const process = currentProcess();
  // Linux's nvcsw and nivcsw: a sleep is voluntary; preemption and sched_yield (still runnable) are not.
  if (process.state == ProcessState.Sleeping) process.voluntarySwitches++;
  else if (process.state == ProcessState.Runnable) process.involuntarySwitches++;
  switchContext(changetype<u32>(process) + 24, load<u64>(schedulerRsp));
}

/** The current process has exited: never runs again; its stack is freed later. */
export function exitToScheduler(): void {
  const process = currentProcess();
  process.runNext = reapList;
  reapList = changetype<u32>(process);
  yieldToScheduler();
}

let switches: u64 = 0;

/** How many times a process has been switched to since boot (/proc/stat's ctxt). */
export function contextSwitches(): u64 {
  return switches;
}

function run(process: Process): void {
  switches++;
  current = changetype<u32>(process);
  process.state = ProcessState.Running;
  const top = kernelStackTop(process);
  setKernelStack(top);
  setSyscallStack(top);
  wrmsr(MSR_FS_BASE, process.fsBase);
  fxrstor(process.fpuState);
  writeCr3(spaceOf(process).root);
  startCharging(process);
  switchContext(<u32>schedulerRsp, process.savedRsp);
  chargeSystemTime(process);
  fxsave(process.fpuState);
  writeCr3(kernelPageTableRoot());
  current = 0;
}

function reapExited(): void {
  while (reapList != 0) {
    const process = changetype<Process>(reapList);
    reapList = process.runNext;
    if (process.state == ProcessState.Zombie) continue; // its parent still has to collect it
    destroyProcess(process);
  }
}


/**
 * ITIMER_REAL (alarm, setitimer): SIGALRM when the time comes.
 */
function fireAlarm(p: Process, now: u64): void {
  if (p.alarmAt == 0 || now < p.alarmAt) return;
  p.alarmAt = p.alarmInterval != 0 ? now + p.alarmInterval : 0;
  signalProcess(p, SIGALRM);
}

/** POSIX timers: each sends its signal when it expires, unless the last one is still queued (an overrun, then). */
function fireTimers(p: Process): void {
  for (let at = p.timers; at != 0; at = changetype<PosixTimer>(at).next) {
    const timer = changetype<PosixTimer>(at);
    if (timerFires(timer)) sendTimerSignal(p, timer);
  }
}

/** The interval timers on CPU time and RLIMIT_CPU (cpu_timers.ts). */
function fireCpuTimers(p: Process): void {
  let due = dueCpuSignals(p);
  while (due != 0) {
    const signal = <u32>ctz(due) + 1;
    due &= due - 1;
    signalProcess(p, signal);
  }
}

/** Moves sleepers whose time has come to the run queue, and fires alarms and timers. */
function wakeSleepers(): void {
  const now = rdtsc();
  const nanoseconds = monotonicNanoseconds();
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    fireAlarm(p, nanoseconds);
    fireCpuTimers(p);
    fireTimers(p);
    if (p.state != ProcessState.Sleeping || p.wakeAt == 0) continue; // not sleeping on time
    if (now >= p.wakeAt) {
      p.wakeAt = 0;
      makeRunnable(p);
    }
  }
}

/** Runs processes until none is left that could ever run again. */
export function runScheduler(): void {
  while (true) {
    reapExited();
    wakeSleepers();
    const next = takeRunnable();
    if (next != null) {
      run(next);
      continue;
    }
    if (processListHead() == 0) return;
    if (!anyBlocked()) return; // everyone left waits for nothing that can come
    const soon = wakeBeforeNextTick();
    const idleFrom = monotonicNanoseconds();
    if (soon == 0) idle();
    else while (rdtsc() < soon) {}
    idleNanoseconds += monotonicNanoseconds() - idleFrom;
  }
}

let idleNanoseconds: u64 = 0;

/** How long the CPU has had nothing to run since boot (/proc/uptime's second number). */
export function idleTime(): u64 {
  return idleNanoseconds;
}

const TICK_NANOSECONDS: u64 = 1000000000 / TIMER_HZ;

/**
 * With nothing to run: the TSC value of the first wake-up (a sleeper, a
 * POSIX timer, an alarm) due before the next timer tick, or 0. Watching
 * the TSC for that one, rather than halting until the tick, gives sleeps
 * and timers the clock's precision instead of the tick's 4 ms, as Linux's
 * high-resolution timers do.
 */
function wakeBeforeNextTick(): u64 {
  const horizon = monotonicNanoseconds() + TICK_NANOSECONDS;
  const last = tscAt(horizon);
  let first = last;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p.state == ProcessState.Sleeping && p.wakeAt != 0) first = min(first, p.wakeAt);
    if (p.alarmAt != 0 && p.alarmAt < horizon) first = min(first, tscAt(p.alarmAt));
    for (let t = p.timers; t != 0; t = changetype<PosixTimer>(t).next) {
      const due = timerWakeAt(changetype<PosixTimer>(t));
      if (due != 0 && due < horizon) first = min(first, tscAt(due));
    }
  }
  return first < last ? first : 0;
}

/** Whether any process sleeps (on a time, a child, a pipe, the console). */
function anyBlocked(): bool {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    if (changetype<Process>(at).state == ProcessState.Sleeping) return true;
  }
  return false;
}

/** Every process of group `group` gets `signal` from the kernel (the terminal's keys, a hang-up). */
export function signalGroup(group: u32, signal: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const process = changetype<Process>(at);
    if (process.pgid == group) signalProcess(process, signal);
  }
}

/** Lets the layers below (pipes, the terminal) sleep, wake and signal through the scheduler. */
export function registerScheduling(): void {
  registerWaiting(sleepOn, sleepOnUntil, wakeUp, signalPending);
  registerForeground(signalGroup);
}
