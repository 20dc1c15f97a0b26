// clone, clone3, fork and vfork: new processes and new threads. The work is
// proc/fork.ts's; this is the checking of what is asked.
import { PAGE_SIZE } from "../mm/frame";
import { copyFromUser } from "../mm/user_copy";
import {
  CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_FILES, CLONE_FS, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_SETTLS,
  CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VFORK, CLONE_VM, CSIGNAL, CloneRequest, fork,
} from "../proc/fork";
import { Process, spaceOf } from "../proc/process";
import { E2BIG, EFAULT, EINVAL, ENOMEM } from "./errno";

const SIGCHLD: u64 = 17;

function cloneResult(pid: i64): i64 {
  return pid < 0 ? -ENOMEM : pid;
}

/** fork, and vfork: CLONE_VM | CLONE_VFORK, the child borrowing the parent's memory until it execs or exits. */
export function sysFork(process: Process, vfork: bool): i64 {
  const request = changetype<CloneRequest>(memory.data(offsetof<CloneRequest>(), 8));
  memory.fill(changetype<usize>(request), 0, offsetof<CloneRequest>());
  request.flags = SIGCHLD | (vfork ? CLONE_VM | CLONE_VFORK : 0);
  return cloneResult(fork(process, request));
}

// Flags a new process or thread may be made with: ours (fork.ts), and
// those Linux itself ignores or that have no effect without a tracer
// (there is no ptrace) or without System V semaphores (CLONE_SYSVSEM).
const CLONE_PTRACE: u64 = 0x2000;
const CLONE_DETACHED: u64 = 0x400000;
const CLONE_UNTRACED: u64 = 0x800000;
const KNOWN_FLAGS: u64 = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_PARENT | CLONE_VFORK
  | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_PTRACE | CLONE_DETACHED
  | CLONE_UNTRACED | CLONE_SYSVSEM;
const MAX_EXIT_SIGNAL: u64 = 64;

/**
 * clone and clone3, with the flags glibc's and musl's fork, vfork,
 * posix_spawn and pthread_create use, and the others Linux's own rules
 * allow: a thread needs shared signal actions, and those a shared address
 * space; init may not make a sibling (EINVAL). Namespaces and pid
 * descriptors are refused with EINVAL, as a Linux built without them
 * refuses them.
 */
function cloneWith(process: Process, request: CloneRequest, exitSignal: u64): i64 {
  const flags = request.flags;
  if ((flags & ~KNOWN_FLAGS) != 0) return -EINVAL;
  if ((flags & CLONE_THREAD) != 0 && (flags & CLONE_SIGHAND) == 0) return -EINVAL;
  if ((flags & CLONE_SIGHAND) != 0 && (flags & CLONE_VM) == 0) return -EINVAL;
  if ((flags & CLONE_PARENT) != 0 && process.tgid == 1) return -EINVAL;
  if ((flags & CLONE_THREAD) != 0) {
    request.flags = flags & ~CSIGNAL; // a thread signals nobody when it ends
    return cloneResult(fork(process, request));
  }
  request.flags = (flags & ~CSIGNAL) | exitSignal;
  return cloneResult(fork(process, request));
}

/**
 * clone(flags, stack, parent_tid, child_tid, tls): x86-64's argument order.
 * As in Linux, the exit signal in the low byte is not checked: one above
 * 64 signals nothing.
 */
export function sysClone(process: Process, flags: u64, stack: u64, parentTid: u64, childTid: u64, tls: u64): i64 {
  const request = changetype<CloneRequest>(memory.data(offsetof<CloneRequest>(), 8));
  request.flags = flags & ~CSIGNAL;
  request.stack = stack;
  request.parentTid = parentTid;
  request.childTid = childTid;
  request.tls = tls;
  return cloneWith(process, request, flags & CSIGNAL);
}

// struct clone_args: flags, pidfd, child_tid, parent_tid, exit_signal,
// stack, stack_size, tls (version 0, 64 bytes), then set_tid,
// set_tid_size (80 bytes) and cgroup (88 bytes).
const CLONE_ARGS_SIZE_VER0: u64 = 64;
const CLONE_ARGS_KNOWN: u32 = 88;

/** clone3(args, size): a larger struct is accepted when its extra bytes are 0 (E2BIG otherwise), as Linux does. */
export function sysClone3(process: Process, args: u64, size: u64): i64 {
  if (size < CLONE_ARGS_SIZE_VER0) return -EINVAL;
  if (size > PAGE_SIZE) return -E2BIG;
  const buffer = memory.data(PAGE_SIZE, 8);
  memory.fill(buffer, 0, CLONE_ARGS_KNOWN);
  if (!copyFromUser(spaceOf(process), buffer, args, <u32>size)) return -EFAULT;
  for (let at = CLONE_ARGS_KNOWN; at < <u32>size; at++) if (load<u8>(buffer + at) != 0) return -E2BIG;
  const flags = load<u64>(buffer);
  const exitSignal = load<u64>(buffer + 32);
  const stack = load<u64>(buffer + 40);
  const stackSize = load<u64>(buffer + 48);
  if ((flags & CSIGNAL) != 0 || load<u64>(buffer + 72) != 0 || load<u64>(buffer + 64) != 0) return -EINVAL; // set_tid needs a pid namespace
  if ((stack == 0) != (stackSize == 0) || exitSignal > MAX_EXIT_SIGNAL) return -EINVAL;
  if ((flags & (CLONE_THREAD | CLONE_PARENT)) != 0 && exitSignal != 0) return -EINVAL; // as clone3_args_valid
  const request = changetype<CloneRequest>(memory.data(offsetof<CloneRequest>(), 8));
  request.flags = flags;
  request.stack = stack + stackSize;
  request.childTid = load<u64>(buffer + 16);
  request.parentTid = load<u64>(buffer + 24);
  request.tls = load<u64>(buffer + 56);
  return cloneWith(process, request, exitSignal);
}
