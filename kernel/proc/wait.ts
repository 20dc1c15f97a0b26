// wait4: collect a child's exit status, reaping the zombie.
import { copyToUser } from "../mm/user_copy";
import { Process, ProcessState, destroyProcess, processListHead, spaceOf } from "./process";
import { signalPending, sleepOn } from "./scheduler";

const WNOHANG: u64 = 1;
export const WAIT_NO_CHILD: i64 = -1; // ECHILD
export const WAIT_FAULT: i64 = -2; // EFAULT
export const WAIT_INTERRUPTED: i64 = -3; // EINTR

function matches(child: Process, parent: Process, pid: i64): bool {
  return child.parentPid == parent.pid && (pid <= 0 || <i64>child.pid == pid);
}

/**
 * Waits for a child (`pid` > 0: that one; otherwise any) to exit. Returns
 * its pid, 0 with WNOHANG when none has exited yet, WAIT_NO_CHILD or WAIT_FAULT.
 */
export function waitForChild(parent: Process, pid: i64, status: u64, options: u64): i64 {
  while (true) {
    let children = false;
    for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
      const child = changetype<Process>(at);
      if (!matches(child, parent, pid)) continue;
      children = true;
      if (child.state != ProcessState.Zombie) continue;
      if (status != 0) {
        const value = memory.data(4, 4);
        store<u32>(value, child.waitStatus);
        if (!copyToUser(spaceOf(parent), status, <u32>value, 4)) return WAIT_FAULT;
      }
      const childPid = child.pid;
      destroyProcess(child);
      return childPid;
    }
    if (!children) return WAIT_NO_CHILD;
    if (options & WNOHANG) return 0;
    if (signalPending()) return WAIT_INTERRUPTED;
    sleepOn(changetype<u32>(parent));
  }
}
