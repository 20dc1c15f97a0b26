// The machine and its limits as a process sees them: sysinfo, CPU
// affinity (one CPU), and resource limits (read-only for now).
import { FILE_TABLE_SIZE } from "../fs/file";
import { freeFrameCount } from "../mm/buddy";
import { managedFrames } from "../mm/frame_database";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { STACK_SIZE } from "../proc/exec";
import { Process, processListHead, spaceOf } from "../proc/process";
import { monotonicNanoseconds } from "../time/clock";
import { EFAULT, EINVAL, EPERM, ESRCH } from "./errno";

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

/** The limits as they are: the descriptor table's size, the stack's reserved size, no others. */
function limitOf(resource: u32): u64 {
  if (resource == RLIMIT_NOFILE) return FILE_TABLE_SIZE;
  if (resource == RLIMIT_STACK) return STACK_SIZE;
  return RLIM_INFINITY;
}

/** getrlimit and prlimit64. Changing a limit is not supported yet: a new value is refused with EPERM. */
export function sysPrlimit(process: Process, pid: i64, resource: u64, newLimit: u64, oldLimit: u64): i64 {
  if (pid != 0 && pid != <i64>process.pid) return pid < 0 ? -EINVAL : -ESRCH;
  if (resource >= RLIM_NLIMITS) return -EINVAL;
  if (newLimit != 0) return -EPERM;
  if (oldLimit == 0) return 0;
  const pair = memory.data(16, 8);
  store<u64>(pair, limitOf(<u32>resource));
  store<u64>(pair + 8, limitOf(<u32>resource));
  return copyToUser(spaceOf(process), oldLimit, <u32>pair, 16) ? 0 : -EFAULT;
}
