// Processes: the record, creation of an empty one, and final release.
import { TrapFrame } from "../arch/x86_64/trap_frame";
import {
  AddressSpace, createAddressSpace, destroyAddressSpace, leaveAddressSpace, retainAddressSpace,
} from "../mm/address_space";
import { kfree, kmalloc } from "../mm/slab";
import { KERNEL_STACK_SIZE, allocKernelStack, freeKernelStack, kernelStackBase } from "./kernel_stack";
import { LayoutItem, layout } from "../arch/x86_64/cpu";
import { FileTable, newFileTable, releaseFileTable, shareFileTable } from "../fs/file";
import { Inode, releaseInode } from "../fs/inode";
import { monotonicNanoseconds } from "../time/clock";

export const enum ProcessState {
  Runnable = 0,
  Running = 1,
  Sleeping = 2,
  Zombie = 3, // exited, waiting for its parent
  Dead = 4, // exited and uncollectable: freed once the scheduler is off its stack
  Stopped = 5, // by a stop signal, until SIGCONT or SIGKILL
  DiskSleep = 6, // waiting for a disk request, deaf to signals (Linux's D)
}

/**
 * One process.
 *
 *   0 pid  4 parentPid  8 state  12 waitStatus (Linux wait encoding)
 *  16 space (AddressSpace)  20 kernelStack (physical)  24 savedRsp(u64)
 *  32 fpuState (512 bytes, 16-aligned)  36 files (FileTable)
 *  40 fsBase(u64)  48 clearChildTid(u64)  56 runNext  60 allNext
 *  64 wakeAt(u64, TSC)  72 name (16 bytes, NUL-padded)
 *  88 minorFaults  92 waitChannel (what a Sleeping process waits for; 0 = a time)
 *  96 vforkParent (pid to wake at exec or exit)
 * 100 actions (the signal actions: 64 of 32 bytes, kmalloc'd, see signal.ts)
 * 104 systemCalls (how many this process made: the vDSO's clock reads are not among them)
 * 108 childMinorFaults (of the children it has reaped, and theirs: getrusage RUSAGE_CHILDREN)
 * 112 cwd (the working directory's inode, held)  116 umask
 * 120 alarmAt(u64): when ITIMER_REAL next fires, in monotonic nanoseconds (0: not armed)
 * 128 alarmInterval(u64): its period in nanoseconds (0: once)
 * 136 pgid  140 sid: process group and session
 * 144 blockedSignals(u64): bit n-1 for signal n
 * 152 pendingSignals(u64)  160 signalQueue  164 queuedSignals: the signals sent to this thread
 *     (tgkill, its faults), with their siginfo oldest first (a PendingSet: signal_queue.ts)
 * 168 savedMask(u64): the mask to restore after a handler run from rt_sigsuspend  176 hasSavedMask
 * 180 exitSignal (sent to the parent at exit: SIGCHLD, or clone's choice)
 * 184 syscallNumber (of the latest call, in progress or just made: a core's orig_rax)
 * 188 jobStatus: a stop or continue its parent has not waited for, in wait's encoding (sig << 8 | 0x7f, 0xffff), or 0
 * 192 altStackBase(u64)  200 altStackSize(u64): sigaltstack's stack (size 0: none)  208 altStackFlags (SS_AUTODISARM)
 * 216 awaitedSignals(u64): the set an rt_sigtimedwait in progress waits for (they wake it though blocked)
 * 224 deathSignal: sent to it when its parent ends (prctl PR_SET_PDEATHSIG; 0: none)
 * 228 noTerminal: 1 once it gave up its controlling terminal (TIOCNOTTY), which its children inherit
 * 232 exe (the program's inode, held: /proc/PID/exe)
 * 236 voluntarySwitches (gave up the CPU to sleep)  240 involuntarySwitches (preempted, or sched_yield)
 * 244 timers (the first of its POSIX timers: posix_timer.ts)  248 nextTimerId  252 timerCount
 * 256 sleepBase (TimeBase of the nanosleep or timed futex wait in progress or to be restarted by restart_syscall; 0: none)
 * 264 sleepDeadline(u64): when that sleep ends, in nanoseconds of sleepBase
 * 272 sleepRemaining(u64): where it writes the time left if a signal interrupts it (0: nowhere)
 * 280 userCycles(u64)  288 systemCycles(u64): CPU time in user mode and in the kernel, in TSC ticks (cpu_time.ts)
 * 296 accountedAt(u64): the TSC when its CPU time was last charged
 * 304 childUserTime(u64)  312 childSystemTime(u64): of the children it has reaped, and theirs, in nanoseconds
 * 320 virtualTimerAt(u64)  328 virtualTimerInterval(u64): ITIMER_VIRTUAL, on its user time in nanoseconds (0: not armed)
 * 336 profTimerAt(u64)  344 profTimerInterval(u64): ITIMER_PROF, on its CPU time in nanoseconds
 * 352 startTime(u64): when it was created, in monotonic nanoseconds (/proc/PID/stat's starttime)
 * 360 childVoluntarySwitches  364 childInvoluntarySwitches: of the children it has reaped, and theirs
 * 368 retiredPeakPages: the most resident pages of the address spaces it has left (exec, exit): ru_maxrss
 * 372 childPeakPages: the largest peak among the children it has reaped, and theirs
 * 376 robustList(u64): set_robust_list's head, walked at exit and exec (robust_list.ts; 0: none)
 * 384 futexBase  388 futexBitset  392 futexOffset(u64): the key and bitset of the futex it waits on (futex_queue.ts; base 0: none)
 * 400 futexNext  404 futexPrevious: its neighbours in that futex's hash bucket (the six fields
 *     from futexBase are its FutexWaiter node, futex_queue.ts)
 * 408 futexOwner: the record itself, as its node's owner  412 futexLockOwner: for a FUTEX_LOCK_PI wait,
 *     the TID of the lock's owner, its own once handed the lock (0: not a PI wait)
 * 416 restartFutex(u64): the word of a timed futex wait a signal interrupted, for restart_syscall
 *     to continue (bit 0: a shared futex; 0: the sleep to restart is a nanosleep's), with its
 *     deadline in sleepBase and sleepDeadline  424 restartValue  428 restartBitset: that wait's value and bitset
 * 432 tgid: its thread group's id, the pid getpid gives (the leader's own pid)
 * 436 leader: the group's leader, which holds what the threads share (itself for a leader)
 * 440 threadCount (leader): threads of the group that have not exited, itself included
 * 444 groupExiting (leader): 1 once exit_group, a fatal signal or an execve ends the group's threads
 * 448 groupExitStatus (leader): the wait status the group then ends with
 * 452 stopPending: 1 when a group stop waits for this thread's next return to user mode
 * 456 sharedPendingSignals(u64)  464 sharedSignalQueue  468 sharedQueuedSignals (leader): the
 *     signals sent to the process as a whole, for any of its threads (a PendingSet)
 * 472 exitedUserCycles(u64)  480 exitedSystemCycles(u64) (leader): CPU time of its ended threads
 * 488 exitedMinorFaults  492 exitedVoluntarySwitches  496 exitedInvoluntarySwitches (leader): of its ended threads
 * 500 fsGroup: records with the same one share a working directory and umask (CLONE_FS); its own pid if none
 * 504 requeuePiBase  512 requeuePiOffset(u64): for a FUTEX_WAIT_REQUEUE_PI wait, the key of the PI
 *     lock a FUTEX_CMP_REQUEUE_PI may move it to (futex_requeue_pi.ts)
 * 520 rseq(u64): the struct rseq area registered with rseq(2) (rseq.ts; 0: none)  528 rseqLength  532 rseqSignature
 * 536 rseqPending: 1 when it was switched out since its area was last updated (Linux's TIF_NOTIFY_RESUME for rseq)
 * 540 kernelMain: for a kernel thread (kernel_thread.ts), the function it runs; 0 for every process of user space
 * 544 limits (leader): the group's resource limits, 256 bytes (resource_limits.ts), at the first 8-byte boundary
 *
 * A thread is a record of its own; what the threads of a group share is
 * the address space and, with CLONE_FILES, the descriptor table (both
 * with counted references), the signal actions (the pointer copied; the
 * last record holding them frees them), and the fields marked (leader),
 * read through `leader`. The leader's record outlives every other thread of its group,
 * as in Linux. The process group and session are each thread's copy, and
 * so are the working directory and umask, shared by fsGroup; each is
 * changed in every record that shares it at once (thread_group.ts).
 */
@unmanaged export class Process {
  pid: u32;
  parentPid: u32;
  state: u32;
  waitStatus: u32;
  space: u32;
  kernelStack: u32;
  savedRsp: u64;
  fpuState: u32;
  files: FileTable;
  fsBase: u64;
  clearChildTid: u64;
  runNext: u32;
  allNext: u32;
  wakeAt: u64;
  name0: u64;
  name1: u64;
  minorFaults: u32;
  waitChannel: u32;
  vforkParent: u32;
  actions: u32;
  systemCalls: u32;
  childMinorFaults: u32;
  cwd: Inode | null;
  umask: u32;
  alarmAt: u64;
  alarmInterval: u64;
  pgid: u32;
  sid: u32;
  blockedSignals: u64;
  pendingSignals: u64;
  signalQueue: u32;
  queuedSignals: u32;
  savedMask: u64;
  hasSavedMask: u32;
  exitSignal: u32;
  syscallNumber: u32;
  jobStatus: u32;
  altStackBase: u64;
  altStackSize: u64;
  altStackFlags: u32;
  awaitedSignals: u64;
  deathSignal: u32;
  noTerminal: u32;
  exe: Inode | null;
  voluntarySwitches: u32;
  involuntarySwitches: u32;
  timers: u32;
  nextTimerId: u32;
  timerCount: u32;
  sleepBase: u32;
  sleepDeadline: u64;
  sleepRemaining: u64;
  userCycles: u64;
  systemCycles: u64;
  accountedAt: u64;
  childUserTime: u64;
  childSystemTime: u64;
  virtualTimerAt: u64;
  virtualTimerInterval: u64;
  profTimerAt: u64;
  profTimerInterval: u64;
  startTime: u64;
  childVoluntarySwitches: u32;
  childInvoluntarySwitches: u32;
  retiredPeakPages: u32;
  childPeakPages: u32;
  robustList: u64;
  futexBase: u32;
  futexBitset: u32;
  futexOffset: u64;
  futexNext: u32;
  futexPrevious: u32;
  futexOwner: u32;
  futexLockOwner: u32;
  restartFutex: u64;
  restartValue: u32;
  restartBitset: u32;
  tgid: u32;
  leader: u32;
  threadCount: u32;
  groupExiting: u32;
  groupExitStatus: u32;
  stopPending: u32;
  sharedPendingSignals: u64;
  sharedSignalQueue: u32;
  sharedQueuedSignals: u32;
  exitedUserCycles: u64;
  exitedSystemCycles: u64;
  exitedMinorFaults: u32;
  exitedVoluntarySwitches: u32;
  exitedInvoluntarySwitches: u32;
  fsGroup: u32;
  requeuePiBase: u32;
  requeuePiOffset: u64;
  rseq: u64;
  rseqLength: u32;
  rseqSignature: u32;
  rseqPending: u32;
  kernelMain: u32;
}
/** The resource limits follow the fields (resource_limits.ts): 16 pairs of u64. */
export const LIMITS_SIZE: u32 = 16 * 16;
export const LIMITS_OFFSET: u32 = (offsetof<Process>() + 7) & ~7;
export const PROCESS_SIZE: u32 = LIMITS_OFFSET + LIMITS_SIZE;
export const SIGNAL_ACTIONS_SIZE: u32 = 64 * 32;
export const NAME_OFFSET: u32 = 72;
export const NAME_SIZE: u32 = 16;
const FPU_STATE_SIZE: u32 = 512;
const TRAP_FRAME_SIZE: u32 = 176;
const SWITCH_FRAME_SIZE: u32 = 7 * 8; // six callee-saved registers and a return address

let nextPid: u32 = 1;
let allProcesses: u32 = 0;

// A clean x87/SSE state (fninit defaults, MXCSR 0x1f80) for new processes.
const INITIAL_FPU_STATE = memory.data(FPU_STATE_SIZE, 16);

/** The leader of `process`'s thread group, which holds what the group shares. */
@inline export function leaderOf(process: Process): Process {
  return changetype<Process>(process.leader);
}

@inline export function isGroupLeader(process: Process): bool {
  return process.leader == changetype<u32>(process);
}

@inline export function spaceOf(process: Process): AddressSpace {
  return changetype<AddressSpace>(process.space);
}

/** The user registers saved at the top of the process's kernel stack. */
export function userFrame(process: Process): TrapFrame {
  return changetype<TrapFrame>(process.kernelStack + KERNEL_STACK_SIZE - TRAP_FRAME_SIZE);
}

export function kernelStackTop(process: Process): u64 {
  return kernelStackBase(process.kernelStack) + KERNEL_STACK_SIZE;
}

/** How many processes have been made since boot (/proc/stat's "processes"). */
export function processesCreated(): u32 {
  return nextPid - 1;
}

/** The first process record (0 if none); the list continues through Process.allNext. */
export function processListHead(): u32 {
  return allProcesses;
}

export function findProcess(pid: u32): Process | null {
  for (let at = allProcesses; at != 0; at = changetype<Process>(at).allNext) {
    if (changetype<Process>(at).pid == pid) return changetype<Process>(at);
  }
  return null;
}

/** The process a system call's pid names (zombies included, as for kill), or null: no such pid, or one out of range. */
export function findLiveProcess(pid: i64): Process | null {
  const target = pid > 0 && pid <= <i64>U32.MAX_VALUE ? findProcess(<u32>pid) : null;
  return target == null || target.state == ProcessState.Dead ? null : target;
}

/**
 * A process with an empty address space, a kernel stack prepared so that
 * the first switch to it enters user mode through its trap frame, and no
 * open files; or, with `maker`, a thread of maker's process, in its address
 * space, with its signal actions and (with `shareFiles`) maker's descriptor
 * table (clone's CLONE_THREAD, which fork.ts finishes); or, with
 * `kernelMain`, a kernel thread whose first switch calls that function
 * (kernel_thread.ts). Null when out of memory.
 */
export function createProcess(parentPid: u32, maker: Process | null = null, shareFiles: bool = false, kernelMain: u32 = 0): Process | null {
  const address = kmalloc(PROCESS_SIZE);
  if (address == 0) return null;
  const process = changetype<Process>(address);
  const thread = maker != null;
  const space = thread ? retainAddressSpace(spaceOf(maker!)) : createAddressSpace();
  const stack = allocKernelStack();
  const fpu = kmalloc(FPU_STATE_SIZE);
  const files = shareFiles ? shareFileTable(maker!.files) : newFileTable();
  const actions = thread ? maker!.actions : kmalloc(SIGNAL_ACTIONS_SIZE);
  if (space == null || stack == 0 || fpu == 0 || files == null || actions == 0) {
    if (space != null) {
      if (thread) leaveAddressSpace(space);
      else destroyAddressSpace(space);
    }
    if (stack != 0) freeKernelStack(stack);
    if (fpu != 0) kfree(fpu);
    if (files != null) releaseFileTable(files);
    if (actions != 0 && !thread) kfree(actions);
    kfree(address);
    return null;
  }
  process.actions = actions;
  process.pid = nextPid++;
  process.fsGroup = process.pid;
  if (thread) { // the group's leader holds what its threads share
    const group = leaderOf(maker!);
    process.tgid = group.tgid;
    process.leader = changetype<u32>(group);
    group.threadCount++;
  } else {
    process.tgid = process.pid;
    process.leader = address;
    process.threadCount = 1;
  }
  process.parentPid = parentPid;
  process.startTime = monotonicNanoseconds();
  process.state = ProcessState.Runnable;
  process.space = changetype<u32>(space);
  process.kernelStack = stack;
  process.fpuState = fpu;
  process.files = changetype<FileTable>(files);
  if (load<u16>(INITIAL_FPU_STATE + 24) == 0) {
    store<u16>(INITIAL_FPU_STATE, 0x37f); // x87 control word
    store<u32>(INITIAL_FPU_STATE + 24, 0x1f80); // MXCSR
  }
  memory.copy(fpu, INITIAL_FPU_STATE, FPU_STATE_SIZE);
  // Below the trap frame: the frame arch_switch pops, returning into trap_return.
  const switchFrame = process.kernelStack + KERNEL_STACK_SIZE - TRAP_FRAME_SIZE - SWITCH_FRAME_SIZE;
  memory.fill(switchFrame, 0, SWITCH_FRAME_SIZE + TRAP_FRAME_SIZE);
  store<u64>(switchFrame + 6 * 8, layout(kernelMain == 0 ? LayoutItem.TrapReturn : LayoutItem.KernelThreadEntry));
  process.kernelMain = kernelMain;
  process.savedRsp = kernelStackTop(process) - TRAP_FRAME_SIZE - SWITCH_FRAME_SIZE;
  process.allNext = allProcesses;
  allProcesses = address;
  return process;
}

/** Frees the address space now (the process may still be running on its kernel stack). */
export function releaseAddressSpace(process: Process): void {
  if (process.space == 0) return;
  notePeakResident(process);
  leaveAddressSpace(spaceOf(process));
  process.space = 0;
}

/** The most pages it has had resident at once, in any address space it has had: Linux's hiwater_rss. */
export function peakResidentPages(process: Process): u32 {
  if (process.space == 0) return process.retiredPeakPages;
  const space = spaceOf(process);
  return max(process.retiredPeakPages, max(space.peakResidentPages, space.residentPages));
}

/** Before it leaves its address space (exec, exit): the peak stays its own. */
export function notePeakResident(process: Process): void {
  process.retiredPeakPages = peakResidentPages(process);
}

/**
 * Whether a record other than `process` uses its signal actions: another
 * thread of its process, or a process made with CLONE_SIGHAND. The last
 * record to go frees them.
 */
export function actionsHeldElsewhere(process: Process): bool {
  for (let at = allProcesses; at != 0; at = changetype<Process>(at).allNext) {
    if (at != changetype<u32>(process) && changetype<Process>(at).actions == process.actions) return true;
  }
  return false;
}

/** Frees everything left of a process that is no longer running. */
export function destroyProcess(process: Process): void {
  releaseAddressSpace(process);
  releaseInode(process.cwd);
  process.cwd = null;
  releaseInode(process.exe);
  process.exe = null;
  freeKernelStack(process.kernelStack);
  kfree(process.fpuState);
  releaseFileTable(process.files);
  if (!actionsHeldElsewhere(process)) kfree(process.actions);
  let link = changetype<usize>(0);
  for (let at = allProcesses; at != 0; at = changetype<Process>(at).allNext) {
    if (at == changetype<u32>(process)) {
      if (link == 0) allProcesses = process.allNext;
      else changetype<Process>(link).allNext = process.allNext;
      break;
    }
    link = at;
  }
  kfree(changetype<u32>(process));
}

/** Gives the process a clean x87/SSE state (a signal handler starts with one). */
export function resetFpuState(process: Process): void {
  memory.copy(process.fpuState, INITIAL_FPU_STATE, FPU_STATE_SIZE);
}

export function setProcessName(process: Process, name: u32, length: u32): void {
  const at = changetype<u32>(process) + NAME_OFFSET;
  memory.fill(at, 0, NAME_SIZE);
  memory.copy(at, name, min(length, NAME_SIZE - 1));
}

export function processNameLength(process: Process): u32 {
  const at = changetype<u32>(process) + NAME_OFFSET;
  let n: u32 = 0;
  while (n < NAME_SIZE && load<u8>(at + n) != 0) n++;
  return n;
}
