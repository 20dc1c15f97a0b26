// What threads and processes share that each record keeps a copy of
// (Linux keeps them in fs_struct and signal_struct): the working directory
// and umask (shared by CLONE_FS), the process group and session (by a
// process's threads). Each is changed in every record that shares it at
// once, so that each reads its own copy.
import { Inode, releaseInode, retainInode } from "../fs/inode";
import { Process, ProcessState, processListHead } from "./process";

/** Whether `thread` belongs to `group`'s thread group and has not been freed. */
@inline export function inGroup(thread: Process, group: Process): bool {
  return thread.tgid == group.tgid && thread.state != ProcessState.Dead;
}

/** Whether `other` shares `process`'s working directory and umask. */
@inline function sharesFs(other: Process, process: Process): bool {
  return other.fsGroup == process.fsGroup && other.state != ProcessState.Dead && other.state != ProcessState.Zombie;
}

/** chdir, fchdir: every record sharing the directory moves to `inode` (the caller's reference is taken over). */
export function setWorkingDirectory(process: Process, inode: Inode): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (!sharesFs(thread, process) || thread == process || thread.cwd == null) continue;
    releaseInode(thread.cwd);
    thread.cwd = retainInode(inode);
  }
  releaseInode(process.cwd);
  process.cwd = inode;
}

export function setUmask(process: Process, mask: u32): void {
  process.umask = mask;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (sharesFs(thread, process)) thread.umask = mask;
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
