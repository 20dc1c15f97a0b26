// Processes: the record, creation of an empty one, and final release.
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { AddressSpace, createAddressSpace, destroyAddressSpace, leaveAddressSpace } from "../mm/address_space";
import { kfree, kmalloc } from "../mm/slab";
import { KERNEL_STACK_SIZE, allocKernelStack, freeKernelStack, kernelStackBase } from "./kernel_stack";
import { LayoutItem, layout } from "../arch/x86_64/cpu";
import { FILE_LIMIT_DEFAULT, FILE_LIMIT_DEFAULT_MAX, FileTable, freeFileTable, newFileTable } from "../fs/file";
import { Inode, releaseInode } from "../fs/inode";

export const enum ProcessState {
  Runnable = 0,
  Running = 1,
  Sleeping = 2,
  Zombie = 3, // exited, waiting for its parent
  Dead = 4, // exited and uncollectable: freed once the scheduler is off its stack
  Stopped = 5, // by a stop signal, until SIGCONT or SIGKILL
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
 * 144 pendingSignals(u64)  152 blockedSignals(u64): bit n-1 for signal n
 * 160 signalQueue (the pending signals' siginfo, oldest first: signal_queue.ts)
 * 164 syscallNumber (of the latest call, in progress or just made: a core's orig_rax)
 * 168 savedMask(u64): the mask to restore after a handler run from rt_sigsuspend  176 hasSavedMask
 * 180 exitSignal (sent to the parent at exit: SIGCHLD, or clone's choice)  184 coreLimitSoft(u64)  192 coreLimitHard(u64): RLIMIT_CORE
 * 200 queuedSignals (how many entries signalQueue holds)
 * 204 jobStatus: a stop or continue its parent has not waited for, in wait's encoding (sig << 8 | 0x7f, 0xffff), or 0
 * 208 altStackBase(u64)  216 altStackSize(u64): sigaltstack's stack (size 0: none)  224 altStackFlags (SS_AUTODISARM)
 * 232 awaitedSignals(u64): the set an rt_sigtimedwait in progress waits for (they wake it though blocked)
 * 240 deathSignal: sent to it when its parent ends (prctl PR_SET_PDEATHSIG; 0: none)
 * 244 noTerminal: 1 once it gave up its controlling terminal (TIOCNOTTY), which its children inherit
 * 248 exe (the program's inode, held: /proc/PID/exe)
 * 252 voluntarySwitches (gave up the CPU to sleep)  256 involuntarySwitches (preempted, or sched_yield)
 * 260 fileLimit  264 fileLimitMax: RLIMIT_NOFILE (no descriptor at or above fileLimit is handed out)
 * 272 addressLimit(u64)  280 addressLimitMax(u64): RLIMIT_AS  288 dataLimit(u64)  296 dataLimitMax(u64): RLIMIT_DATA
 * 304 timers (the first of its POSIX timers: posix_timer.ts)  308 nextTimerId  312 timerCount
 * 316 sleepBase (TimeBase of the nanosleep in progress or to be restarted by restart_syscall; 0: none)
 * 320 sleepDeadline(u64): when that sleep ends, in nanoseconds of sleepBase
 * 328 sleepRemaining(u64): where it writes the time left if a signal interrupts it (0: nowhere)
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
  pendingSignals: u64;
  blockedSignals: u64;
  signalQueue: u32;
  syscallNumber: u32;
  savedMask: u64;
  hasSavedMask: u32;
  exitSignal: u32;
  coreLimitSoft: u64;
  coreLimitHard: u64;
  queuedSignals: u32;
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
  fileLimit: u32;
  fileLimitMax: u32;
  addressLimit: u64;
  addressLimitMax: u64;
  dataLimit: u64;
  dataLimitMax: u64;
  timers: u32;
  nextTimerId: u32;
  timerCount: u32;
  sleepBase: u32;
  sleepDeadline: u64;
  sleepRemaining: u64;
}
const PROCESS_SIZE: u32 = 336;
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
 * open files. Null when out of memory.
 */
export function createProcess(parentPid: u32): Process | null {
  const address = kmalloc(PROCESS_SIZE);
  if (address == 0) return null;
  const process = changetype<Process>(address);
  const space = createAddressSpace();
  const stack = allocKernelStack();
  const fpu = kmalloc(FPU_STATE_SIZE);
  const files = newFileTable();
  const actions = kmalloc(SIGNAL_ACTIONS_SIZE);
  if (space == null || stack == 0 || fpu == 0 || files == null || actions == 0) {
    if (space != null) destroyAddressSpace(space);
    if (stack != 0) freeKernelStack(stack);
    if (fpu != 0) kfree(fpu);
    if (files != null) freeFileTable(files);
    if (actions != 0) kfree(actions);
    kfree(address);
    return null;
  }
  process.actions = actions;
  process.coreLimitSoft = 0; // Linux's boot value: no core files unless a process asks for them
  process.coreLimitHard = U64.MAX_VALUE;
  process.fileLimit = FILE_LIMIT_DEFAULT;
  process.fileLimitMax = FILE_LIMIT_DEFAULT_MAX;
  process.addressLimit = U64.MAX_VALUE;
  process.addressLimitMax = U64.MAX_VALUE;
  process.dataLimit = U64.MAX_VALUE;
  process.dataLimitMax = U64.MAX_VALUE;
  process.pid = nextPid++;
  process.parentPid = parentPid;
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
  store<u64>(switchFrame + 6 * 8, layout(LayoutItem.TrapReturn));
  process.savedRsp = kernelStackTop(process) - TRAP_FRAME_SIZE - SWITCH_FRAME_SIZE;
  process.allNext = allProcesses;
  allProcesses = address;
  return process;
}

/** Frees the address space now (the process may still be running on its kernel stack). */
export function releaseAddressSpace(process: Process): void {
  if (process.space == 0) return;
  leaveAddressSpace(spaceOf(process));
  process.space = 0;
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
  freeFileTable(process.files);
  kfree(process.actions);
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
