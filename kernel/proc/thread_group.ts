// What the threads of a process share that each thread's record keeps a
// copy of (Linux keeps them in fs_struct and signal_struct): the working
// directory, the umask, the process group and session. Each is changed in
// every thread of the group at once, so that a thread reads its own copy.
import { Inode, releaseInode, retainInode } from "../fs/inode";
import { Process, ProcessState, processListHead } from "./process";

/** Whether `thread` belongs to `group`'s thread group and has not been freed. */
@inline export function inGroup(thread: Process, group: Process): bool {
  return thread.tgid == group.tgid && thread.state != ProcessState.Dead;
}

/** chdir, fchdir: every thread moves to `inode` (the caller's reference is taken over). */
export function setWorkingDirectory(process: Process, inode: Inode): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (!inGroup(thread, process) || thread == process || thread.cwd == null) continue;
    releaseInode(thread.cwd);
    thread.cwd = retainInode(inode);
  }
  releaseInode(process.cwd);
  process.cwd = inode;
}

export function setUmask(process: Process, mask: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (inGroup(thread, process)) thread.umask = mask;
  }
}

/** setpgid, setsid: the process joins group `pgid` of session `sid`. */
export function setProcessGroup(process: Process, pgid: u32, sid: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (!inGroup(thread, process)) continue;
    thread.pgid = pgid;
    thread.sid = sid;
  }
}

/** TIOCSCTTY, TIOCNOTTY: whether the process has given up its controlling terminal. */
export function setNoTerminal(process: Process, value: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (inGroup(thread, process)) thread.noTerminal = value;
  }
}
