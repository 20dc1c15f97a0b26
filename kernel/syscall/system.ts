// The machine and its limits as a process sees them: sysinfo, CPU
// affinity (one CPU), and resource limits (read-only for now).
import { FILE_TABLE_SIZE } from "../fs/file";
import { freeFrameCount } from "../mm/buddy";
import { managedFrames } from "../mm/frame_database";
import { copyFromUser, copyStringFromUser, copyToUser } from "../mm/user_copy";
import { STACK_SIZE } from "../proc/exec";
import {
  NAME_OFFSET, Process, findProcess, processListHead, processNameLength, setProcessName, spaceOf,
} from "../proc/process";
import { monotonicNanoseconds } from "../time/clock";
import { EFAULT, EINVAL, EPERM, ESRCH } from "./errno";
import { MAX_SIGNAL } from "../proc/signal_action";

/** sysinfo: uptime, memory in pages (mem_unit 4096), process count; no swap, no load average kept. */
export function sysSysinfo(process: Process, buffer: u64): i64 {
  const info = memory.data(112, 8);
  memory.fill(info, 0, 112);
  store<u64>(info, monotonicNanoseconds() / 1000000000); // uptime
  store<u64>(info + 32, managedFrames); // totalram
  store<u64>(info + 40, freeFrameCount()); // freeram
  let processes: u16 = 0;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) processes++;
  store<u16>(info + 80, processes); // procs
  store<u32>(info + 104, 4096); // mem_unit
  return copyToUser(spaceOf(process), buffer, <u32>info, 112) ? 0 : -EFAULT;
}

/** sched_getaffinity: CPU 0 is the only one; the answer is the mask's size in bytes, as the system call gives it. */
export function sysSchedGetaffinity(process: Process, pid: i64, size: u64, mask: u64): i64 {
  if (pid < 0) return -ESRCH;
  if (size < 8 || (size & 7) != 0) return -EINVAL;
  const bits = memory.data(8, 8);
  store<u64>(bits, 1);
  return copyToUser(spaceOf(process), mask, <u32>bits, 8) ? 8 : -EFAULT;
}

/** sched_setaffinity: any mask that includes CPU 0 (the only one) is met. */
export function sysSchedSetaffinity(process: Process, pid: i64, size: u64, mask: u64): i64 {
  if (pid < 0) return -ESRCH;
  if (size == 0) return -EINVAL;
  const first = memory.data(8, 8);
  store<u64>(first, 0);
  if (!copyFromUser(spaceOf(process), <u32>first, mask, min(size, <u64>8))) return -EFAULT;
  return (load<u8>(first) & 1) != 0 ? 0 : -EINVAL;
}

const RLIMIT_STACK: u32 = 3;
const RLIMIT_NOFILE: u32 = 7;
const RLIM_NLIMITS: u64 = 16;
const RLIM_INFINITY: u64 = 0xffffffffffffffff;

const RLIMIT_CORE: u32 = 4;

/** The limits as they are: the descriptor table's size, the stack's reserved size, the core limit set, no others. */
function limitOf(process: Process, resource: u32, hard: bool): u64 {
  if (resource == RLIMIT_NOFILE) return FILE_TABLE_SIZE;
  if (resource == RLIMIT_STACK) return STACK_SIZE;
  if (resource == RLIMIT_CORE) return hard ? process.coreLimitHard : process.coreLimitSoft;
  return RLIM_INFINITY;
}

/**
 * getrlimit, setrlimit and prlimit64. Only RLIMIT_CORE can be changed (no
 * core file is ever written, so every value is kept); other limits are
 * not enforced yet, and setting them is refused with EPERM rather than
 * taken and ignored.
 */
export function sysPrlimit(process: Process, pid: i64, resource: u64, newLimit: u64, oldLimit: u64): i64 {
  if (pid != 0 && pid != <i64>process.pid) return pid < 0 ? -EINVAL : -ESRCH;
  if (resource >= RLIM_NLIMITS) return -EINVAL;
  const pair = memory.data(16, 8);
  if (newLimit != 0) {
    if (!copyFromUser(spaceOf(process), <u32>pair, newLimit, 16)) return -EFAULT;
    if (load<u64>(pair) > load<u64>(pair + 8)) return -EINVAL;
    if (<u32>resource != RLIMIT_CORE) return -EPERM;
  }
  if (oldLimit != 0) {
    const old = memory.data(16, 8);
    store<u64>(old, limitOf(process, <u32>resource, false));
    store<u64>(old + 8, limitOf(process, <u32>resource, true));
    if (!copyToUser(spaceOf(process), oldLimit, <u32>old, 16)) return -EFAULT;
  }
  if (newLimit != 0) {
    process.coreLimitSoft = load<u64>(pair);
    process.coreLimitHard = load<u64>(pair + 8);
  }
  return 0;
}

const SCHED_OTHER: i64 = 0;
const SCHED_FIFO: i64 = 1;
const SCHED_RR: i64 = 2;
const SCHED_BATCH: i64 = 3;
const SCHED_IDLE: i64 = 5;
const SCHED_DEADLINE: i64 = 6;

@inline function knownPolicy(policy: i64): bool {
  return policy == SCHED_OTHER || policy == SCHED_FIFO || policy == SCHED_RR || policy == SCHED_BATCH ||
    policy == SCHED_IDLE || policy == SCHED_DEADLINE;
}

/** sched_get_priority_max and _min: Linux's ranges (1..99 for the real-time policies, 0 for the others). */
export function sysSchedPriorityLimit(policy: i64, maximum: bool): i64 {
  if (!knownPolicy(policy)) return -EINVAL;
  if (policy == SCHED_FIFO || policy == SCHED_RR) return maximum ? 99 : 1;
  return 0;
}

/** sched_getscheduler: every process is SCHED_OTHER (round robin, one queue). */
export function sysSchedGetscheduler(process: Process, pid: i64): i64 {
  if (pid < 0) return -EINVAL;
  if (pid != 0 && pid != <i64>process.pid && (pid > <i64>U32.MAX_VALUE || findProcess(<u32>pid) == null)) return -ESRCH;
  return SCHED_OTHER;
}

/** sched_getparam: priority 0, as SCHED_OTHER has. */
export function sysSchedGetparam(process: Process, pid: i64, param: u64): i64 {
  if (param == 0 || pid < 0) return -EINVAL;
  const policy = sysSchedGetscheduler(process, pid);
  if (policy < 0) return policy;
  const zero = memory.data(4, 4);
  store<u32>(zero, 0);
  return copyToUser(spaceOf(process), param, <u32>zero, 4) ? 0 : -EFAULT;
}

const PR_SET_PDEATHSIG: i64 = 1;
const PR_GET_PDEATHSIG: i64 = 2;
const PR_SET_NAME: i64 = 15;
const PR_GET_NAME: i64 = 16;

/**
 * prctl: the process name (PR_SET_NAME, PR_GET_NAME: 16 bytes, as comm)
 * and the parent-death signal (PR_SET_PDEATHSIG, PR_GET_PDEATHSIG); other
 * options are not supported (EINVAL).
 */
export function sysPrctl(process: Process, option: i64, argument: u64): i64 {
  const name = memory.data(16, 4);
  if (option == PR_SET_PDEATHSIG) {
    if (argument > <u64>MAX_SIGNAL) return -EINVAL;
    process.deathSignal = <u32>argument;
    return 0;
  }
  if (option == PR_GET_PDEATHSIG) {
    const value = memory.data(4, 4);
    store<u32>(value, process.deathSignal);
    return copyToUser(spaceOf(process), argument, <u32>value, 4) ? 0 : -EFAULT;
  }
  if (option == PR_SET_NAME) {
    memory.fill(name, 0, 16);
    const length = copyStringFromUser(spaceOf(process), <u32>name, argument, 16);
    if (length == -1) return -EFAULT;
    setProcessName(process, <u32>name, length == -2 ? 15 : <u32>length);
    return 0;
  }
  if (option == PR_GET_NAME) {
    memory.fill(name, 0, 16);
    memory.copy(<u32>name, changetype<u32>(process) + NAME_OFFSET, processNameLength(process));
    return copyToUser(spaceOf(process), argument, <u32>name, 16) ? 0 : -EFAULT;
  }
  return -EINVAL;
}
