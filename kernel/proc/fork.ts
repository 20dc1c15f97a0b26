// fork, vfork and clone(SIGCHLD): a new process sharing everything
// copy-on-write with its parent, returning 0 in the child.
import { fxsave } from "../arch/x86_64/cpu";
import { copyDescriptors } from "../fs/file";
import { Inode, retainInode } from "../fs/inode";
import { copyAddressSpace } from "../mm/fork_copy";
import { NAME_OFFSET, NAME_SIZE, Process, createProcess, destroyProcess, spaceOf, userFrame } from "./process";
import { makeRunnable, signalPending, sleepOn } from "./scheduler";
import { copySignalState } from "./signal";

const TRAP_FRAME_SIZE: u32 = 176;

/** Returns the child's pid to the parent, or -1 when out of memory. */
export function fork(parent: Process, vfork: bool): i64 {
  const child = createProcess(parent.pid);
  if (child == null) return -1;
  if (!copyAddressSpace(spaceOf(parent), spaceOf(child))) {
    destroyProcess(child);
    return -1;
  }
  fxsave(parent.fpuState); // the parent's live registers, not its last switch's
  memory.copy(child.fpuState, parent.fpuState, 512);
  child.fsBase = parent.fsBase;
  memory.copy(changetype<u32>(child) + NAME_OFFSET, changetype<u32>(parent) + NAME_OFFSET, NAME_SIZE);
  if (!copyDescriptors(child.files, parent.files)) {
    destroyProcess(child);
    return -1;
  }
  child.cwd = parent.cwd != null ? retainInode(changetype<Inode>(parent.cwd)) : null;
  child.exe = parent.exe != null ? retainInode(changetype<Inode>(parent.exe)) : null;
  child.umask = parent.umask;
  child.coreLimitSoft = parent.coreLimitSoft;
  child.coreLimitHard = parent.coreLimitHard;
  child.fileLimit = parent.fileLimit;
  child.fileLimitMax = parent.fileLimitMax;
  copySignalState(child, parent);
  child.pgid = parent.pgid;
  child.sid = parent.sid;
  memory.copy(changetype<u32>(userFrame(child)), changetype<u32>(userFrame(parent)), TRAP_FRAME_SIZE);
  userFrame(child).rax = 0;
  const pid = child.pid;
  makeRunnable(child);
  if (vfork) {
    // As vfork promises: the parent waits until the child execs or exits,
    // or until the parent itself is killed (Linux's wait is killable too).
    child.vforkParent = parent.pid;
    while (child.vforkParent != 0 && !signalPending()) sleepOn(changetype<u32>(child));
  }
  return pid;
}
