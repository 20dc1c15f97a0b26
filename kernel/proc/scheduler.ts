// Round-robin scheduling. The scheduler runs on the boot stack: a process
// gives up the CPU by switching to it (yieldToScheduler), and it switches
// to the next runnable process. Interrupts are enabled only in user mode
// and while idle, so the kernel itself is never preempted.
import {
  fxrstor, fxsave, idle, rdtsc, readCr3, setSyscallStack, switchContext, wrmsr, writeCr3,
} from "../arch/x86_64/cpu";
import { PTE_ADDRESS } from "../mm/page_table";
import { setKernelStack } from "../arch/x86_64/gdt";
import {
  Process, ProcessState, destroyProcess, findProcess, isGroupLeader, kernelStackTop, leaderOf, processListHead, spaceOf,
} from "./process";
import { monotonicNanoseconds, tscAt } from "../time/clock";
import { TIMER_HZ } from "../arch/x86_64/pic";
import {
  CLD_CONTINUED, CONTINUED_STATUS, CLD_STOPPED, MAX_SIGNAL, SA_NOCLDSTOP, SIGALRM, SIGCHLD, SIGCONT, SIGKILL, STOP_SIGNALS,
  SI_KERNEL, SI_USER, actionOf, bitOf, discarded,
} from "./signal_action";
import {
  discardGroupSignals, enqueueSignal, groupPending, pendingSignalsOf, queueTimerSignal, threadPending,
} from "./signal_queue";
import { inGroup } from "./thread_group";
import { PosixTimer, timerEntry, timerFires, timerWakeAt } from "./posix_timer";
import { registerWaiting } from "../lib/wait";
import { chargeSystemTime, startCharging } from "./cpu_time";
import { dueCpuSignals } from "./cpu_timers";
import { registerForeground } from "../drivers/tty_session";
import { rseqPreempt } from "./rseq";

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

/** Sleeps until wakeUp(channel); signals neither wake nor interrupt it (a disk request is in flight). */
function sleepForIo(channel: u32): void {
  const process = currentProcess();
  process.state = ProcessState.DiskSleep;
  process.waitChannel = channel;
  process.wakeAt = 0;
  yieldToScheduler();
}

export function wakeUp(channel: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if ((p.state == ProcessState.Sleeping || p.state == ProcessState.DiskSleep) && p.waitChannel == channel) {
      p.waitChannel = 0;
      makeRunnable(p);
    }
  }
}

const SIGKILL_BIT: u64 = 1 << 8;

/** Whether a signal `thread` does not block is pending for it or its process (SIGKILL cannot be blocked). */
export function hasDeliverableSignal(thread: Process): bool {
  return (pendingSignalsOf(thread) & (~thread.blockedSignals | SIGKILL_BIT)) != 0;
}

/** Whether the current thread has a signal to take, or a stop of its process to join: blocking calls then return EINTR. */
export function signalPending(): bool {
  if (current == 0) return false;
  const thread = currentProcess();
  return hasDeliverableSignal(thread) || thread.stopPending != 0;
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
 * Sends `signal` to the process `process` belongs to, for whichever of its
 * threads takes it first, with the siginfo fields a handler will see
 * (signal_queue.ts says which). False only when a real-time signal finds
 * the queue full (EAGAIN); a signal to a process that has ended, or one
 * it ignores, is sent and gone.
 */
export function sendSignal(process: Process, signal: u32, code: i32, first: u64, second: u64): bool {
  const group = leaderOf(process);
  if (!prepareSignal(group, signal)) return true;
  if (!enqueueSignal(group, groupPending(group), signal, code, first, second)) return false;
  wakeGroupForSignal(group, signal);
  return true;
}

/** Sends `signal` to one thread (tgkill): only that thread takes it. */
export function sendThreadSignal(thread: Process, signal: u32, code: i32, first: u64, second: u64): bool {
  if (thread.state == ProcessState.Zombie || thread.state == ProcessState.Dead) return true;
  if (!prepareSignal(leaderOf(thread), signal)) return true;
  if (!enqueueSignal(thread, threadPending(thread), signal, code, first, second)) return false;
  wakeThreadForSignal(thread, signal);
  return true;
}

/** SIGKILL for one thread of a process being ended (exit_group, execve), which takes no other signal now. */
export function killThread(thread: Process): void {
  enqueueSignal(thread, threadPending(thread), SIGKILL, SI_KERNEL, 0, 0);
  wakeThreadForSignal(thread, SIGKILL);
}

/** A POSIX timer's signal, in the entry the timer keeps for it (unless it is ignored, or the process has ended). */
function sendTimerSignal(group: Process, timer: PosixTimer): void {
  const signal = timerEntry(timer).signal;
  if (!prepareSignal(group, signal)) return;
  const thread = timer.threadId != 0 ? findProcess(timer.threadId) : null;
  if (thread != null && thread.tgid == group.tgid && thread.state != ProcessState.Zombie && thread.state != ProcessState.Dead) {
    queueTimerSignal(threadPending(thread), timer);
    wakeThreadForSignal(thread, signal);
  } else {
    queueTimerSignal(groupPending(group), timer);
    wakeGroupForSignal(group, signal);
  }
}

/** Whether every thread of the group has exited, or is being made to. */
@inline function groupEnding(group: Process): bool {
  return group.threadCount == 0 || group.groupExiting != 0;
}

/** Whether `signal` is to become pending, after what its arrival does at once (SIGCONT continues). */
function prepareSignal(group: Process, signal: u32): bool {
  if (groupEnding(group) || group.kernelMain != 0) return false; // kernel threads ignore every signal, as Linux's
  // As Linux's prepare_signal: SIGCONT continues a stopped process even if
  // it ignores SIGCONT, and a SIGCONT and a stop signal cancel each other.
  if (signal == SIGCONT) {
    discardGroupSignals(group, STOP_SIGNALS);
    if (continueGroup(group)) {
      group.jobStatus = CONTINUED_STATUS;
      tellParent(group, CLD_CONTINUED, SIGCONT);
    }
  } else if ((bitOf(signal) & STOP_SIGNALS) != 0) {
    discardGroupSignals(group, bitOf(SIGCONT));
  }
  return !discarded(group, signal); // ignored: it never becomes pending, and wakes nobody
}

/** SIGCONT: the group's stopped threads run again and those yet to stop will not; whether any had stopped. */
function continueGroup(group: Process): bool {
  let stopped = false;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (!inGroup(thread, group)) continue;
    thread.stopPending = 0;
    if (thread.state == ProcessState.Stopped) {
      makeRunnable(thread);
      stopped = true;
    }
  }
  return stopped;
}

/**
 * A signal for the whole process: SIGKILL wakes every thread; any other
 * the first thread that takes it now, as Linux's complete_signal, if that
 * one sleeps (a running or runnable one takes it on its way to user mode).
 */
function wakeGroupForSignal(group: Process, signal: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (!inGroup(thread, group) || thread.state == ProcessState.Zombie) continue;
    if (signal == SIGKILL) {
      wakeThreadForSignal(thread, signal);
      continue;
    }
    if (((~thread.blockedSignals | thread.awaitedSignals) & bitOf(signal)) == 0) continue;
    wakeThreadForSignal(thread, signal);
    return;
  }
}

function wakeThreadForSignal(thread: Process, signal: u32): void {
  if (thread.state == ProcessState.Stopped && signal == SIGKILL) makeRunnable(thread);
  if (thread.state == ProcessState.Sleeping && (hasDeliverableSignal(thread) || (thread.awaitedSignals & bitOf(signal)) != 0)) {
    thread.waitChannel = 0;
    thread.wakeAt = 0;
    makeRunnable(thread);
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
  sendSignal(parent, signal, code, <u64>child.tgid, <u64>status);
}

/**
 * A stop signal's default action: the process stops until SIGCONT or
 * SIGKILL, the current thread now and each other one at its next return
 * to user mode (a sleeping one when its sleep ends).
 */
export function stopCurrent(signal: u32): void {
  const process = currentProcess();
  const group = leaderOf(process);
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (!inGroup(thread, group) || thread == process || thread.state == ProcessState.Zombie) continue;
    thread.stopPending = 1;
    if (thread.state == ProcessState.Sleeping) { // its call is interrupted, to restart once continued
      thread.waitChannel = 0;
      thread.wakeAt = 0;
      makeRunnable(thread);
    }
  }
  group.jobStatus = signal << 8 | 0x7f;
  stopThread();
}

/**
 * The current thread stops, for a stop of its process. The last of its
 * threads to stop tells the parent, as Linux's group stop does.
 */
export function stopThread(): void {
  const process = currentProcess();
  const group = leaderOf(process);
  process.stopPending = 0;
  process.state = ProcessState.Stopped;
  if (groupStopped(group)) tellParent(group, CLD_STOPPED, (group.jobStatus >> 8) & 0x7f);
  yieldToScheduler();
}

/** Whether every thread of the group that has not exited is stopped. */
export function groupStopped(group: Process): bool {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (inGroup(thread, group) && thread.state != ProcessState.Zombie && thread.state != ProcessState.Stopped) return false;
  }
  return true;
}

/** Gives the CPU back to the scheduler; returns when this process is chosen again. */
export function yieldToScheduler(): void {
  const process = currentProcess();
  // Linux's nvcsw and nivcsw: a sleep is voluntary; preemption and sched_yield (still runnable) are not.
  if (process.state == ProcessState.Sleeping) process.voluntarySwitches++;
  else if (process.state == ProcessState.Runnable) process.involuntarySwitches++;
  switchContext(changetype<u32>(process) + 24, load<u64>(schedulerRsp));
}

/** The current thread has exited: never runs again; its stack is freed later. */
export function exitToScheduler(): void {
  const process = currentProcess();
  freeWhenDead(process);
  yieldToScheduler();
}

/** A record that has exited is freed by the scheduler once it is Dead (a zombie's goes when its parent reaps it). */
export function freeWhenDead(process: Process): void {
  process.runNext = reapList;
  reapList = changetype<u32>(process);
}

let switches: u64 = 0;
let lastRun: u32 = 0; // the thread run last, for the TLB decision in run()

/** How many times a process has been switched to since boot (/proc/stat's ctxt). */
export function contextSwitches(): u64 {
  return switches;
}

function run(process: Process): void {
  switches++;
  current = changetype<u32>(process);
  process.state = ProcessState.Running;
  rseqPreempt(process); // it was away: a critical section it was in must restart
  const top = kernelStackTop(process);
  setKernelStack(top);
  setSyscallStack(top);
  wrmsr(MSR_FS_BASE, process.fsBase);
  fxrstor(process.fpuState);
  // Threads of one process share its root: going from one to another keeps
  // the TLB. The root stays loaded while the scheduler runs, which touches
  // only kernel mappings; a space is freed only by its last thread, which
  // loads the kernel's root first (exit.ts). A thread run again straight
  // after itself does get a reload: without one, fork+exit+wait ran four
  // times slower under TCG, for a reason not yet found (the closing note
  // of 2026-12-01's fourth session).
  const root = spaceOf(process).root;
  if (<u32>(readCr3() & PTE_ADDRESS) != root || changetype<u32>(process) == lastRun) writeCr3(root);
  lastRun = changetype<u32>(process);
  startCharging(process);
  switchContext(<u32>schedulerRsp, process.savedRsp);
  chargeSystemTime(process);
  fxsave(process.fpuState);
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
    if (isGroupLeader(p) && p.threadCount != 0) { // a process's timers are its leader's
      fireAlarm(p, nanoseconds);
      fireCpuTimers(p);
      fireTimers(p);
    }
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
    const state = changetype<Process>(at).state;
    if (state == ProcessState.Sleeping || state == ProcessState.DiskSleep) return true;
  }
  return false;
}

/** Every process of group `group` gets `signal` from the kernel (the terminal's keys, a hang-up). */
export function signalGroup(group: u32, signal: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const process = changetype<Process>(at);
    if (process.pgid == group && isGroupLeader(process)) signalProcess(process, signal);
  }
}

/** Lets the layers below (pipes, the terminal) sleep, wake and signal through the scheduler. */
export function registerScheduling(): void {
  registerWaiting(sleepOn, sleepOnUntil, wakeUp, signalPending, sleepForIo, hasCurrentProcess);
  registerForeground(signalGroup);
}
