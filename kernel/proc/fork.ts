// fork, vfork and clone: a new process sharing everything copy-on-write
// with its parent, or with CLONE_VM running in the parent's own address
// space until it execs or exits (vfork, posix_spawn); or a new thread of
// the caller's process (CLONE_THREAD), sharing its address space,
// descriptors, working directory and signal actions. Either returns 0 in
// the child.
import { fxsave } from "../arch/x86_64/cpu";
import { copyDescriptors, releaseFileTable, shareFileTable } from "../fs/file";
import { kfree, kmalloc } from "../mm/slab";
import { Inode, retainInode } from "../fs/inode";
import { leaveAddressSpace, retainAddressSpace } from "../mm/address_space";
import { copyAddressSpace } from "../mm/fork_copy";
import { waitForMemory } from "../mm/balance";
import { putUser32 } from "../mm/user_copy";
import {
  NAME_OFFSET, NAME_SIZE, Process, createProcess, destroyProcess, findProcess, leaderOf, spaceOf, userFrame,
} from "./process";
import { makeRunnable, signalPending, sleepOn } from "./scheduler";
import { copySignalState } from "./signal";
import { rseqFork } from "./rseq";
import { copyLimits } from "./resource_limits";

const TRAP_FRAME_SIZE: u32 = 176;

// Linux's clone flags.
export const CSIGNAL: u64 = 0xff; // the signal the parent gets at exit
export const CLONE_VM: u64 = 0x100;
export const CLONE_FS: u64 = 0x200;
export const CLONE_FILES: u64 = 0x400;
export const CLONE_SIGHAND: u64 = 0x800;
export const CLONE_PARENT: u64 = 0x8000;
export const CLONE_THREAD: u64 = 0x10000;
export const CLONE_SYSVSEM: u64 = 0x40000;
export const CLONE_VFORK: u64 = 0x4000;
export const CLONE_SETTLS: u64 = 0x80000;
export const CLONE_PARENT_SETTID: u64 = 0x100000;
export const CLONE_CHILD_CLEARTID: u64 = 0x200000;
export const CLONE_CHILD_SETTID: u64 = 0x1000000;

/** What clone asks for, beyond its flags. */
@unmanaged export class CloneRequest {
  flags: u64;
  stack: u64; // the child's stack pointer; 0 keeps the parent's
  parentTid: u64;
  childTid: u64;
  tls: u64;
}

/**
 * A child of `parent` as `request` describes; returns its pid (a thread's
 * id), or -1 when out of memory. With memory full of anonymous pages, a
 * fork that found none waits for some to go to swap and tries again (the
 * request is copied first: the caller's may be shared scratch, and this
 * sleeps).
 */
export function fork(parent: Process, request: CloneRequest): i64 {
  const pid = forkOnce(parent, request);
  if (pid >= 0) return pid;
  const copy = kmalloc(offsetof<CloneRequest>());
  if (copy == 0) return -1;
  memory.copy(copy, changetype<u32>(request), offsetof<CloneRequest>());
  let result: i64 = -1;
  while (result < 0 && waitForMemory()) result = forkOnce(parent, changetype<CloneRequest>(copy));
  kfree(copy);
  return result;
}

function forkOnce(parent: Process, request: CloneRequest): i64 {
  const flags = request.flags;
  if ((flags & CLONE_THREAD) != 0) return newThread(parent, request);
  // CLONE_PARENT: a sibling of the caller, which its parent hears of as of its own child.
  const child = createProcess((flags & CLONE_PARENT) != 0 ? leaderOf(parent).parentPid : parent.tgid);
  if (child == null) return -1;
  if ((flags & CLONE_VM) != 0) {
    leaveAddressSpace(spaceOf(child));
    child.space = changetype<u32>(retainAddressSpace(spaceOf(parent)));
  } else if (!copyAddressSpace(spaceOf(parent), spaceOf(child))) {
    destroyProcess(child);
    return -1;
  }
  child.exitSignal = (flags & CLONE_PARENT) != 0 ? leaderOf(parent).exitSignal : <u32>(flags & CSIGNAL);
  if ((flags & CLONE_FILES) != 0) { // one table for both, as for threads
    releaseFileTable(child.files);
    child.files = shareFileTable(parent.files);
  } else if (!copyDescriptors(child.files, parent.files)) {
    destroyProcess(child);
    return -1;
  }
  if ((flags & CLONE_SIGHAND) != 0) { // one set of signal actions for both
    kfree(child.actions);
    child.actions = parent.actions;
  }
  copyLimits(child, parent);
  copySignalState(child, parent);
  if ((flags & CLONE_VM) == 0) rseqFork(child, parent);
  return start(child, parent, request);
}

/**
 * What a new process or thread takes from the one that made it: its
 * registers (returning 0, on the stack asked for), TLS, name, working
 * directory, program, process group and session; and the thread ids
 * clone writes. The child runs from here on; with CLONE_VFORK the caller
 * waits for its exec or exit. Returns the child's id.
 */
function start(child: Process, parent: Process, request: CloneRequest): i64 {
  const flags = request.flags;
  // As Linux: the child's id goes into its own memory before it runs and
  // into the parent's; an address that cannot be written is let go.
  if ((flags & CLONE_CHILD_SETTID) != 0) putUser32(spaceOf(child), request.childTid, child.pid);
  if ((flags & CLONE_PARENT_SETTID) != 0) putUser32(spaceOf(parent), request.parentTid, child.pid);
  if ((flags & CLONE_CHILD_CLEARTID) != 0) child.clearChildTid = request.childTid;
  fxsave(parent.fpuState); // the parent's live registers, not its last switch's
  memory.copy(child.fpuState, parent.fpuState, 512);
  child.fsBase = (flags & CLONE_SETTLS) != 0 ? request.tls : parent.fsBase;
  memory.copy(changetype<u32>(child) + NAME_OFFSET, changetype<u32>(parent) + NAME_OFFSET, NAME_SIZE);
  child.cwd = parent.cwd != null ? retainInode(changetype<Inode>(parent.cwd)) : null;
  child.exe = parent.exe != null ? retainInode(changetype<Inode>(parent.exe)) : null;
  child.umask = parent.umask;
  if ((flags & CLONE_FS) != 0) child.fsGroup = parent.fsGroup;
  child.pgid = parent.pgid;
  child.sid = parent.sid;
  child.noTerminal = parent.noTerminal;
  memory.copy(changetype<u32>(userFrame(child)), changetype<u32>(userFrame(parent)), TRAP_FRAME_SIZE);
  userFrame(child).rax = 0;
  if (request.stack != 0) userFrame(child).rsp = request.stack;
  const pid = child.pid;
  makeRunnable(child);
  if ((flags & CLONE_VFORK) != 0) waitForVforkChild(child, parent);
  return pid;
}

/**
 * As vfork promises: the parent waits until the child execs or exits, or
 * until the parent itself is killed (Linux's wait is killable too).
 */
function waitForVforkChild(child: Process, parent: Process): void {
  const pid = child.pid;
  child.vforkParent = parent.pid;
  while (!signalPending()) {
    const waited = findProcess(pid); // by pid: an ended child's record may be freed meanwhile
    if (waited == null || waited.vforkParent == 0) return;
    sleepOn(changetype<u32>(waited));
  }
}

/**
 * clone with CLONE_THREAD (and CLONE_VM and CLONE_SIGHAND, which Linux
 * insists on): a thread of the caller's process, with the caller's
 * registers, signal mask and TLS (or the one asked for), starting on the
 * stack asked for; sharing the caller's descriptors with CLONE_FILES (a
 * copy without) and its working directory with CLONE_FS.
 */
function newThread(parent: Process, request: CloneRequest): i64 {
  const flags = request.flags;
  const group = leaderOf(parent);
  const thread = createProcess(group.parentPid, parent, (flags & CLONE_FILES) != 0);
  if (thread == null) return -1;
  if ((flags & CLONE_FILES) == 0 && !copyDescriptors(thread.files, parent.files)) {
    group.threadCount--;
    destroyProcess(thread);
    return -1;
  }
  thread.blockedSignals = parent.blockedSignals; // no alternate stack: Linux drops it for a thread, whose stack is new
  return start(thread, parent, request);
}
