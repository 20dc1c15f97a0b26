// Round-robin scheduling. The scheduler runs on the boot stack: a process
// gives up the CPU by switching to it (yieldToScheduler), and it switches
// to the next runnable process. Interrupts are enabled only in user mode
// and while idle, so the kernel itself is never preempted.
import {
  fxrstor, fxsave, idle, rdtsc, setSyscallStack, switchContext, wrmsr, writeCr3,
} from "../arch/x86_64/cpu";
import { setKernelStack } from "../arch/x86_64/gdt";
import { kernelPageTableRoot } from "../mm/kernel_map";
import { Process, ProcessState, destroyProcess, kernelStackTop, processListHead, spaceOf } from "./process";
import { monotonicNanoseconds } from "../time/clock";
import { SIGALRM, discarded } from "./signal_action";
import { registerWaiting } from "../lib/wait";
import { registerForeground } from "../drivers/tty";

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

export function wakeUp(channel: u32): void {
  wakeUpSome(channel, U32.MAX_VALUE);
}

/** Wakes at most `count` sleepers on `channel` (futex wake); returns how many. */
export function wakeUpSome(channel: u32, count: u32): u32 {
  let woken: u32 = 0;
  for (let at = processListHead(); at != 0 && woken < count; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p.state == ProcessState.Sleeping && p.waitChannel == channel) {
      p.waitChannel = 0;
      makeRunnable(p);
      woken++;
    }
  }
  return woken;
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
  if (process.state == ProcessState.Zombie || process.state == ProcessState.Dead) return;
  if (discarded(process, signal)) return; // ignored: it never becomes pending, and wakes nobody
  process.pendingSignals |= <u64>1 << (signal - 1);
  store<u32>(process.senders + (signal - 1) * 4, sender);
  if (process.state == ProcessState.Sleeping && hasDeliverableSignal(process)) {
    process.waitChannel = 0;
    process.wakeAt = 0;
    makeRunnable(process);
  }
}

/** Gives the CPU back to the scheduler; returns when this process is chosen again. */
export function yieldToScheduler(): void {
  const process = currentProcess();
  switchContext(changetype<u32>(process) + 24, load<u64>(schedulerRsp));
}

/** The current process has exited: never runs again; its stack is freed later. */
export function exitToScheduler(): void {
  const process = currentProcess();
  process.runNext = reapList;
  reapList = changetype<u32>(process);
  yieldToScheduler();
}

function run(process: Process): void {
  current = changetype<u32>(process);
  process.state = ProcessState.Running;
  const top = kernelStackTop(process);
  setKernelStack(top);
  setSyscallStack(top);
  wrmsr(MSR_FS_BASE, process.fsBase);
  fxrstor(process.fpuState);
  writeCr3(spaceOf(process).root);
  switchContext(<u32>schedulerRsp, process.savedRsp);
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

/** Moves sleepers whose time has come to the run queue, and fires alarms. */
function wakeSleepers(): void {
  const now = rdtsc();
  const nanoseconds = monotonicNanoseconds();
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    fireAlarm(p, nanoseconds);
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
    idle();
  }
}

/** Whether any process sleeps (on a time, a child, a pipe, the console). */
function anyBlocked(): bool {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    if (changetype<Process>(at).state == ProcessState.Sleeping) return true;
  }
  return false;
}

/**
 * Ctrl-C: every process gets `signal`, init too: an interactive shell as
 * init catches SIGINT to abandon the line or the command it waits for
 * (init never gets a signal it does not handle).
 */
function interruptAll(signal: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    signalProcess(changetype<Process>(at), signal);
  }
}

/**
 * The terminal can make init's console read fail with EINTR on Ctrl-C
 * without a signal. No init wants that now: the shell as init gets SIGINT
 * like everyone else, and a spurious EINTR would read as end of input.
 */
function noInitSpecialCase(): bool {
  return false;
}

/** Lets the layers below (pipes, the terminal) sleep, wake and interrupt through the scheduler. */
export function registerScheduling(): void {
  registerWaiting(sleepOn, wakeUp, signalPending);
  registerForeground(interruptAll, noInitSpecialCase);
}
