// wait4 and waitid: collect a child's exit status, reaping the zombie, or
// hear of a child stopped (WUNTRACED, WSTOPPED) or continued (WCONTINUED).
import { copyToUser } from "../mm/user_copy";
import { Process, ProcessState, destroyProcess, isGroupLeader, leaderOf, processListHead, spaceOf } from "./process";
import { groupStopped, signalPending, sleepOn } from "./scheduler";
import { CONTINUED_STATUS, SIGCHLD } from "./signal_action";
import { RUSAGE_SIZE, addChildUsage, storeReapedUsage } from "./resource_usage";

export const WNOHANG: u64 = 1;
export const WUNTRACED: u64 = 2; // waitid calls it WSTOPPED
export const WEXITED: u64 = 4; // implied by wait4
export const WCONTINUED: u64 = 8;
// A thread waits for the children of any thread of its process: __WNOTHREAD,
// which would limit it to its own, is accepted and changes nothing (children
// belong to processes here). A "clone" child is one whose exit signal is
// not SIGCHLD: __WCLONE waits for those only, __WALL for both kinds, and
// neither for the others only. Threads are never waited for.
const WNOTHREAD: u64 = 0x20000000;
const WALL: u64 = 0x40000000;
const WCLONE: u64 = 0x80000000;
const KNOWN_OPTIONS: u64 = WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE;

export const WAIT_NO_CHILD: i64 = -1; // ECHILD
export const WAIT_FAULT: i64 = -2; // EFAULT
export const WAIT_INTERRUPTED: i64 = -3; // EINTR
export const WAIT_BAD_OPTIONS: i64 = -4; // EINVAL

/** Which children a wait is for (waitid's idtype). */
export const enum WaitFor {
  Any = 0,
  Pid = 1,
  Group = 2,
}

function matches(child: Process, parent: Process, kind: WaitFor, id: u32, options: u64): bool {
  if (child.parentPid != parent.tgid || child.state == ProcessState.Dead || !isGroupLeader(child)) return false;
  if ((options & WALL) == 0 && (child.exitSignal != SIGCHLD) != ((options & WCLONE) != 0)) return false;
  if (kind == WaitFor.Pid) return child.tgid == id;
  if (kind == WaitFor.Group) return child.pgid == id;
  return true;
}

function childUsage(parent: Process, child: Process, usage: u64): bool {
  const rusage = memory.data(RUSAGE_SIZE, 8);
  storeReapedUsage(rusage, child);
  return copyToUser(spaceOf(parent), usage, <u32>rusage, RUSAGE_SIZE);
}

/**
 * Waits for a child (`pid` > 0: that one; otherwise any) to exit. Returns
 * its pid, 0 with WNOHANG when none has exited yet, WAIT_NO_CHILD,
 * WAIT_FAULT or WAIT_BAD_OPTIONS. Its status goes to `status` and its
 * resource usage to `usage` (either may be 0).
 */
export function waitForChild(parent: Process, pid: i64, status: u64, options: u64, usage: u64): i64 {
  if ((options & ~KNOWN_OPTIONS) != 0) return WAIT_BAD_OPTIONS;
  // wait4's pid: > 0 that child, -1 any, 0 the caller's process group, < -1 group -pid.
  const kind = pid > 0 ? WaitFor.Pid : pid == -1 ? WaitFor.Any : WaitFor.Group;
  const id = pid > 0 ? <u32>pid : pid == 0 ? parent.pgid : <u32>(-pid);
  return waitFor(parent, kind, id, status, options | WEXITED, usage, false);
}

/** The status waitFor reported last, in wait's encoding (waitid's siginfo is made from it). */
export let lastWaitStatus: u32 = 0;

/** What `child` has to report to a wait with these options: a wait status, or -1 for nothing. */
function reportOf(child: Process, options: u64): i64 {
  if (child.state == ProcessState.Zombie && child.threadCount == 0) return (options & WEXITED) != 0 ? <i64>child.waitStatus : -1;
  const job = child.jobStatus;
  if (job == 0) return -1;
  if (job == CONTINUED_STATUS) return (options & WCONTINUED) != 0 ? <i64>job : -1;
  return groupStopped(child) && (options & WUNTRACED) != 0 ? <i64>job : -1;
}

/**
 * The wait itself, for the events in `options` (WEXITED, WUNTRACED,
 * WCONTINUED); `keep` (waitid's WNOWAIT) leaves the child, or its stop or
 * continue, to be waited for again.
 */
export function waitFor(parent: Process, kind: WaitFor, id: u32, status: u64, options: u64, usage: u64, keep: bool): i64 {
  while (true) {
    let children = false;
    for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
      const child = changetype<Process>(at);
      if (!matches(child, parent, kind, id, options)) continue;
      children = true;
      const report = reportOf(child, options);
      if (report < 0) continue;
      if (status != 0) {
        const value = memory.data(4, 4);
        store<u32>(value, <u32>report);
        if (!copyToUser(spaceOf(parent), status, <u32>value, 4)) return WAIT_FAULT;
      }
      if (usage != 0 && !childUsage(parent, child, usage)) return WAIT_FAULT;
      lastWaitStatus = <u32>report;
      if (keep) return child.pid;
      if (child.state != ProcessState.Zombie) {
        child.jobStatus = 0; // heard of once, as Linux reports a stop or continue
        return child.pid;
      }
      addChildUsage(leaderOf(parent), child);
      const childPid = child.pid;
      destroyProcess(child);
      return childPid;
    }
    if (!children) return WAIT_NO_CHILD;
    if (options & WNOHANG) return 0;
    if (signalPending()) return WAIT_INTERRUPTED;
    sleepOn(parent.leader); // where tellParent wakes the process
  }
}
