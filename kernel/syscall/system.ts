// The machine and its limits as a process sees them: sysinfo, CPU
// affinity (one CPU), resource limits (proc/resource_limits.ts), the
// scheduling policy, and prctl.
import { FILE_LIMIT_CEILING } from "../fs/file";
import { freeFrameCount } from "../mm/buddy";
import { managedFrames } from "../mm/frame_database";
import { copyFromUser, copyStringFromUser, copyToUser, putUser32 } from "../mm/user_copy";
import { RLIMIT_NOFILE, RLIM_NLIMITS, hardLimit, setLimit, softLimit } from "../proc/resource_limits";
import {
  NAME_OFFSET, Process, ProcessState, findLiveProcess, findProcess, processListHead, processNameLength, setProcessName, spaceOf,
} from "../proc/process";
import { monotonicNanoseconds } from "../time/clock";
import { EFAULT, EINVAL, EPERM, ESRCH } from "./errno";
import { MAX_SIGNAL } from "../proc/signal_action";
import { loadForSysinfo } from "../proc/load_average";

/** sysinfo: uptime, the load averages, memory in pages (mem_unit 4096), process count; no swap. */
export function sysSysinfo(process: Process, buffer: u64): i64 {
  const info = memory.data(112, 8);
  memory.fill(info, 0, 112);
  store<u64>(info, monotonicNanoseconds() / 1000000000); // uptime
  for (let i: u32 = 0; i < 3; i++) store<u64>(info + 8 + i * 8, loadForSysinfo(i)); // loads
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
  if (size < 8 || (size & 7) != 0) return -EINVAL;
  if (pid < 0 || (pid != 0 && findLiveProcess(pid) == null)) return -ESRCH;
  const bits = memory.data(8, 8);
  store<u64>(bits, 1);
  return copyToUser(spaceOf(process), mask, <u32>bits, 8) ? 8 : -EFAULT;
}

/** getcpu: CPU 0 of NUMA node 0, the only ones; either pointer may be null, and the third (tcache) is unused, as on Linux. */
export function sysGetcpu(process: Process, cpu: u64, node: u64): i64 {
  if (cpu != 0 && !putUser32(spaceOf(process), cpu, 0)) return -EFAULT;
  if (node != 0 && !putUser32(spaceOf(process), node, 0)) return -EFAULT;
  return 0;
}

/** sched_setaffinity: any mask that includes CPU 0 (the only one) is met. */
export function sysSchedSetaffinity(process: Process, pid: i64, size: u64, mask: u64): i64 {
  if (size == 0) return -EINVAL;
  const first = memory.data(8, 8);
  store<u64>(first, 0);
  if (!copyFromUser(spaceOf(process), <u32>first, mask, min(size, <u64>8))) return -EFAULT;
  if (pid < 0 || (pid != 0 && findLiveProcess(pid) == null)) return -ESRCH;
  return (load<u8>(first) & 1) != 0 ? 0 : -EINVAL;
}

/**
 * Linux's do_prlimit on `target`: the old pair (soft, hard) goes to `old`
 * and the pair at `requested` (both kernel addresses, 0 for none) is
 * taken. RLIMIT_NOFILE's hard limit may not pass fs.nr_open (EPERM);
 * root may raise any hard limit. resource_limits.ts says what enforces each.
 */
function doPrlimit(target: Process, resource: u64, requested: u32, old: u32): i64 {
  if (resource >= <u64>RLIM_NLIMITS) return -EINVAL;
  const which = <u32>resource;
  if (requested != 0) {
    const soft = load<u64>(requested);
    const hard = load<u64>(requested + 8);
    if (soft > hard) return -EINVAL;
    if (which == RLIMIT_NOFILE && hard > <u64>FILE_LIMIT_CEILING) return -EPERM;
  }
  if (old != 0) {
    store<u64>(old, softLimit(target, which));
    store<u64>(old + 8, hardLimit(target, which));
  }
  // Lowering RLIMIT_NOFILE below an open descriptor is allowed: only new ones are refused.
  if (requested != 0) setLimit(target, which, load<u64>(requested), load<u64>(requested + 8));
  return 0;
}

const requestedPair = memory.data(16, 8);
const oldPair = memory.data(16, 8);

/** getrlimit: the resource is checked (EINVAL) before the pair is written (EFAULT, a null pointer too). */
export function sysGetrlimit(process: Process, resource: u64, limit: u64): i64 {
  const result = doPrlimit(process, resource, 0, <u32>oldPair);
  if (result < 0) return result;
  return copyToUser(spaceOf(process), limit, <u32>oldPair, 16) ? 0 : -EFAULT;
}

/** setrlimit: the pair is read first (EFAULT), then checked. */
export function sysSetrlimit(process: Process, resource: u64, limit: u64): i64 {
  if (!copyFromUser(spaceOf(process), <u32>requestedPair, limit, 16)) return -EFAULT;
  return doPrlimit(process, resource, <u32>requestedPair, 0);
}

/** prlimit64, on the caller (pid 0) or any process (one user: root may); a null pointer means none, as on Linux. */
export function sysPrlimit(process: Process, pid: i64, resource: u64, newLimit: u64, oldLimit: u64): i64 {
  if (newLimit != 0 && !copyFromUser(spaceOf(process), <u32>requestedPair, newLimit, 16)) return -EFAULT;
  const target = pid == 0 ? process : pid > 0 && pid <= <i64>I32.MAX_VALUE ? findProcess(<u32>pid) : null;
  if (target == null || target.state == ProcessState.Dead) return -ESRCH;
  const result = doPrlimit(target, resource, newLimit != 0 ? <u32>requestedPair : 0, oldLimit != 0 ? <u32>oldPair : 0);
  if (result < 0) return result;
  return oldLimit == 0 || copyToUser(spaceOf(process), oldLimit, <u32>oldPair, 16) ? 0 : -EFAULT;
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
