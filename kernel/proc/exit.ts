// How processes end: by exiting, or killed by the kernel with a one-line
// report in the spirit of Linux's. When init ends, the machine does.
import { syncEverything } from "../block/flush";
import { syncFileSystems } from "../fs/mount";
import { ext2PowerOff } from "../fs/ext2/mount";
import { writeCr3 } from "../arch/x86_64/cpu";
import { ExitStatus, shutdown } from "../drivers/qemu_exit";
import { argumentEquals } from "../boot/cmdline";
import { printBytes, printf } from "../console/console";
import { str } from "../lib/format";
import { noFileTable, releaseFileTable } from "../fs/file";
import { releaseInode } from "../fs/inode";
import { kernelPageTableRoot } from "../mm/kernel_map";
import { putUser32 } from "../mm/user_copy";
import { printMemoryReport } from "../mm/meminfo";
import {
  NAME_OFFSET, Process, ProcessState, findProcess, leaderOf, processListHead, processNameLength, releaseAddressSpace, spaceOf,
} from "./process";
import {
  currentProcess, exitToScheduler, freeWhenDead, killThread, signalGroup, signalProcess, tellParent, wakeUp,
} from "./scheduler";
import { futexWakeOne } from "./futex_queue";
import { discardSignals, groupPending, threadPending } from "./signal_queue";
import { inGroup } from "./thread_group";
import { keepExitedThreadTime } from "./cpu_time";
import { keepExitedThreadCounts } from "./resource_usage";
import { hangUpOrphanedGroups } from "./orphans";
import { deleteTimers } from "./posix_timer";
import { releasePiLocks } from "./pi_owner";
import { releaseRobustList } from "./robust_list";
import {
  CLD_DUMPED, CLD_EXITED, CLD_KILLED, SA_NOCLDWAIT, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGHUP, SIGILL, SIGINT, SIGKILL, SIGSEGV, SIGTRAP,
  SIG_IGN, WAIT_CORE_DUMPED, actionOf,
} from "./signal_action";
import { detachSession, foregroundGroup, terminalSession } from "../drivers/tty_session";


export function signalName(signal: u32): string {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    default: return "signal";
  }
}

export function printProcessName(process: Process): void {
  printBytes(changetype<u32>(process) + NAME_OFFSET, processNameLength(process));
}

/** Prints "name[pid]" for messages about a process. */
export function printProcess(process: Process): void {
  printProcessName(process);
  printf("[%d]", process.pid);
}

function printFaultCounts(process: Process): void {
  if (process.space == 0) return;
  const space = spaceOf(process);
  printProcess(process);
  printf(" faults: %d zero-page, %d demand-zero, %d file; %d pages resident\n",
    space.zeroPageMaps, space.demandZeroFaults, space.fileFaults, space.residentPages);
  printProcess(process);
  printf(" copy-on-write: %d copies, %d reuses without copying, %d pages shared at fork\n",
    space.cowCopies, space.cowReuses, space.sharedAtFork);
}

/** Children of an exiting process go to init, which reaps them. */
function reparentChildren(process: Process): void {
  let zombie = false;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const child = changetype<Process>(at);
    if (child.parentPid != process.tgid) continue;
    child.parentPid = 1;
    if (child.deathSignal != 0) signalProcess(child, child.deathSignal, process.tgid);
    child.exitSignal = SIGCHLD; // as Linux: nobody may make init's children signal it otherwise
    if (child.state == ProcessState.Zombie) zombie = true;
  }
  const init = findProcess(1);
  if (zombie && init != null) wakeUp(changetype<u32>(init));
}

/**
 * CLONE_CHILD_CLEARTID and set_tid_address: when a process leaves an
 * address space others still run in, its thread-id word there becomes 0
 * and one futex waiter on it is woken (how a joiner learns of the end). A
 * space left to nobody has no one to tell, as in Linux's mm_release.
 */
export function clearChildTid(process: Process): void {
  const address = process.clearChildTid;
  process.clearChildTid = 0;
  if (address == 0 || process.space == 0 || spaceOf(process).users < 2) return;
  const space = spaceOf(process);
  if (!putUser32(space, address, 0)) return;
  futexWakeOne(space, address);
}

/**
 * A session leader gives up the console it controls (TIOCNOTTY, or its
 * exit): the session loses it, and the foreground group gets SIGHUP and
 * SIGCONT, as Linux's disassociate_ctty does.
 */
export function releaseTerminal(leader: Process): void {
  if (leader.sid != leader.tgid || terminalSession() != leader.sid) return;
  const group = foregroundGroup();
  detachSession();
  signalGroup(group, SIGHUP);
  signalGroup(group, SIGCONT);
}

/** A vfork parent waits for its child to exec or exit. */
export function releaseVforkParent(process: Process): void {
  if (process.vforkParent == 0) return;
  process.vforkParent = 0;
  wakeUp(changetype<u32>(process));
}

/**
 * exit_group, and a fatal signal: ends every thread of the current
 * process, the process with the Linux wait status `waitStatus` (code << 8
 * for an exit, the signal number for a kill), unless another thread began
 * ending it first. Never returns.
 */
export function exitCurrent(waitStatus: u32): void {
  const process = currentProcess();
  const group = leaderOf(process);
  if (group.groupExiting == 0) {
    group.groupExiting = 1;
    group.groupExitStatus = waitStatus;
    killOtherThreads(process);
  }
  exitThread(waitStatus);
}

/** The other threads of the current one's process get SIGKILL, to end at their next return to user mode. */
export function killOtherThreads(process: Process): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (thread == process || !inGroup(thread, process) || thread.state == ProcessState.Zombie) continue;
    killThread(thread);
  }
}

/**
 * exit: ends the current thread. The last thread of a process to end
 * ends the process, with this status unless exit_group or a fatal signal
 * gave one. A leader that ends first stays a zombie nobody can reap until
 * then, as in Linux; any other thread is freed at once. Never returns.
 */
export function exitThread(waitStatus: u32): void {
  const process = currentProcess();
  const group = leaderOf(process);
  if (argumentEquals("loglevel", "debug") && group.threadCount == 1) printFaultCounts(process);
  // The machine powers off when init ends: what is written goes to the disks first, while init
  // can still sleep on them, and ext2 is marked clean (a clean shutdown's sync and unmount).
  if (group.tgid == 1 && group.threadCount == 1) {
    syncFileSystems();
    syncEverything();
    ext2PowerOff();
  }
  releaseRobustList(process);
  releasePiLocks(process);
  clearChildTid(process);
  discardSignals(threadPending(process), U64.MAX_VALUE);
  keepExitedThreadTime(process);
  keepExitedThreadCounts(process);
  if (process != group) {
    releaseInode(process.cwd);
    process.cwd = null;
    releaseInode(process.exe);
    process.exe = null;
  }
  releaseFileTable(process.files); // the last holder closes every descriptor
  process.files = noFileTable();
  writeCr3(kernelPageTableRoot());
  releaseAddressSpace(process);
  releaseVforkParent(process);
  group.threadCount--;
  wakeUp(changetype<u32>(group) + offsetof<Process>("threadCount")); // an execve waiting for the others to go
  if (process != group) process.state = ProcessState.Dead;
  if (group.threadCount == 0) endProcess(group, group.groupExiting != 0 ? group.groupExitStatus : waitStatus);
  else if (process == group) process.state = ProcessState.Zombie;
  exitToScheduler();
}

/**
 * The last thread of `group` has ended: what the process held goes, its
 * children go to init, and its parent hears of it. It stays a zombie until
 * the parent collects the status with wait4.
 */
function endProcess(group: Process, waitStatus: u32): void {
  deleteTimers(group);
  group.alarmAt = 0; // a zombie's alarm would only keep the idle loop watching the clock
  discardSignals(groupPending(group), U64.MAX_VALUE);
  discardSignals(threadPending(group), U64.MAX_VALUE);
  releaseInode(group.cwd);
  group.cwd = null;
  releaseInode(group.exe);
  group.exe = null;
  group.waitStatus = waitStatus;
  if (group.tgid == 1) endOfInit(waitStatus);
  hangUpOrphanedGroups(group);
  releaseTerminal(group);
  reparentChildren(group);
  const parent = findProcess(group.parentPid);
  let state = ProcessState.Dead;
  if (parent != null) {
    // A parent that ignores SIGCHLD, or set SA_NOCLDWAIT, leaves no zombies to collect (Linux's autoreap).
    const action = actionOf(parent, SIGCHLD);
    const autoReap = group.exitSignal == SIGCHLD && (action.handler == SIG_IGN || (action.flags & SA_NOCLDWAIT) != 0);
    if (!autoReap) state = ProcessState.Zombie;
  }
  group.state = state;
  if (state == ProcessState.Dead && group != currentProcess()) freeWhenDead(group); // its leader ended before: nobody else frees it
  if (parent != null) {
    const signal = waitStatus & 0x7f;
    const code = signal == 0 ? CLD_EXITED : (waitStatus & WAIT_CORE_DUMPED) != 0 ? CLD_DUMPED : CLD_KILLED;
    tellParent(group, code, signal == 0 ? waitStatus >> 8 : signal);
  }
}

/** init has ended: report how, and power off (exit QEMU). */
function endOfInit(waitStatus: u32): void {
  const signal = waitStatus & 0x7f;
  if (signal == 0) printf("init: exited with status %d\n", waitStatus >> 8);
  else {
    printf("init: killed by signal %d (%s)%s\n", signal, str(signalName(signal)),
      str((waitStatus & WAIT_CORE_DUMPED) != 0 ? " (core dumped)" : ""));
  }
  if (argumentEquals("loglevel", "debug")) printMemoryReport();
  shutdown(waitStatus == 0 ? ExitStatus.Success : ExitStatus.InitFailed);
}
