// The sixteen resource limits of a process (getrlimit's RLIMIT_*), each a
// soft and a hard value, kept at the end of its record and copied by fork.
// Who enforces each:
//   CPU        the scheduler (cpu_timers.ts): SIGXCPU each second past soft, SIGKILL at hard
//   FSIZE      writes and truncates of regular files (syscall/file_size_limit.ts): SIGXFSZ and EFBIG
//   DATA, AS   mmap, brk and mremap (syscall/address_limits.ts): ENOMEM
//   STACK      execve: the size of the new program's stack
//   CORE       the core dump
//   NOFILE     every call that hands out a descriptor
//   SIGPENDING the signal queue: real-time signals beyond it are EAGAIN
// The rest have nothing to bound here, or bind only unprivileged users
// and every process here is root, as on Linux for uid 0: RSS and LOCKS
// (Linux ignores them too), NPROC and MEMLOCK (root passes them),
// MSGQUEUE (no message queues), NICE and RTPRIO (no priorities to set),
// RTTIME (no real-time scheduling).
//
//   limits: 16 x { soft(u64), hard(u64) }, in RLIMIT_* order (256 bytes)
import { FILE_LIMIT_CEILING, FILE_LIMIT_DEFAULT, FILE_LIMIT_DEFAULT_MAX } from "../fs/file";
import { managedFrames } from "../mm/frame_database";
import { KERNEL_STACK_SIZE } from "./kernel_stack";
import { LIMITS_OFFSET, LIMITS_SIZE, Process } from "./process";

export const RLIMIT_CPU: u32 = 0;
export const RLIMIT_FSIZE: u32 = 1;
export const RLIMIT_DATA: u32 = 2;
export const RLIMIT_STACK: u32 = 3;
export const RLIMIT_CORE: u32 = 4;
export const RLIMIT_NPROC: u32 = 6;
export const RLIMIT_NOFILE: u32 = 7;
export const RLIMIT_MEMLOCK: u32 = 8;
export const RLIMIT_AS: u32 = 9;
export const RLIMIT_SIGPENDING: u32 = 11;
export const RLIMIT_MSGQUEUE: u32 = 12;
export const RLIMIT_NICE: u32 = 13;
export const RLIMIT_RTPRIO: u32 = 14;
export const RLIM_NLIMITS: u32 = 16;
export const RLIM_INFINITY: u64 = 0xffffffffffffffff;

const DEFAULT_STACK: u64 = 8 << 20; // Linux's _STK_LIM
const DEFAULT_MEMLOCK: u64 = 8 << 20; // Linux's MLOCK_LIMIT
const DEFAULT_MSGQUEUE: u64 = 819200; // Linux's MQ_BYTES_MAX

/** The limits of `process`'s thread group, kept in its leader. */
@inline function limitsOf(process: Process): usize {
  return process.leader + LIMITS_OFFSET;
}

@inline export function softLimit(process: Process, resource: u32): u64 {
  return load<u64>(limitsOf(process) + resource * 16);
}

@inline export function hardLimit(process: Process, resource: u32): u64 {
  return load<u64>(limitsOf(process) + resource * 16 + 8);
}

export function setLimit(process: Process, resource: u32, soft: u64, hard: u64): void {
  store<u64>(limitsOf(process) + resource * 16, soft);
  store<u64>(limitsOf(process) + resource * 16 + 8, hard);
}

/** No descriptor at or above this is handed out (RLIMIT_NOFILE's soft value; the table never grows past the ceiling). */
@inline export function descriptorLimit(process: Process): u32 {
  return <u32>min(softLimit(process, RLIMIT_NOFILE), <u64>FILE_LIMIT_CEILING);
}

/**
 * Linux's initial limits (INIT_RLIMITS), with NPROC and SIGPENDING from
 * the memory as Linux derives them: half the threads whose kernel stacks
 * would take an eighth of RAM.
 */
export function setDefaultLimits(process: Process): void {
  for (let resource: u32 = 0; resource < RLIM_NLIMITS; resource++) setLimit(process, resource, RLIM_INFINITY, RLIM_INFINITY);
  const threads = max(<u64>managedFrames * 4096 / 8 / KERNEL_STACK_SIZE, 20) / 2;
  setLimit(process, RLIMIT_STACK, DEFAULT_STACK, RLIM_INFINITY);
  setLimit(process, RLIMIT_CORE, 0, RLIM_INFINITY);
  setLimit(process, RLIMIT_NPROC, threads, threads);
  setLimit(process, RLIMIT_NOFILE, FILE_LIMIT_DEFAULT, FILE_LIMIT_DEFAULT_MAX);
  setLimit(process, RLIMIT_MEMLOCK, DEFAULT_MEMLOCK, DEFAULT_MEMLOCK);
  setLimit(process, RLIMIT_SIGPENDING, threads, threads);
  setLimit(process, RLIMIT_MSGQUEUE, DEFAULT_MSGQUEUE, DEFAULT_MSGQUEUE);
  setLimit(process, RLIMIT_NICE, 0, 0);
  setLimit(process, RLIMIT_RTPRIO, 0, 0);
}

/** fork: the child starts with its parent's limits. */
export function copyLimits(child: Process, parent: Process): void {
  memory.copy(limitsOf(child), limitsOf(parent), LIMITS_SIZE);
}
