// Process system calls: exit, wait4 and waitid, thread-area set-up,
// yielding, resource usage, uname, reboot.
import { wrmsr } from "../arch/x86_64/cpu";
import { ExitStatus, restart, shutdown, stop } from "../drivers/qemu_exit";
import { print } from "../console/console";
import { copyToUser } from "../mm/user_copy";
import { exitCurrent, exitThread, printProcess } from "../proc/exit";
import { Process, leaderOf, spaceOf } from "../proc/process";
import {
  CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, CONTINUED_STATUS, SIGCHLD, SIGCONT, WAIT_CORE_DUMPED,
} from "../proc/signal_action";
import {
  WAIT_BAD_OPTIONS, WAIT_FAULT, WAIT_INTERRUPTED, WAIT_NO_CHILD, WCONTINUED, WEXITED, WNOHANG, WUNTRACED, WaitFor,
  lastWaitStatus, waitFor, waitForChild,
} from "../proc/wait";
import { makeRunnable, yieldToScheduler } from "../proc/scheduler";
import { ECHILD, EINTR, EFAULT, EINVAL, EPERM } from "./errno";
import { KERNEL_RELEASE } from "../procfs/system_files";
import { storeAscii } from "../lib/ascii";
import { clockTicks, systemTime, userTime } from "../proc/cpu_time";
import { RUSAGE_SIZE, storeChildrenUsage, storeOwnUsage, storeThreadUsage } from "../proc/resource_usage";
import { monotonicNanoseconds } from "../time/clock";

const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const MSR_FS_BASE: u32 = 0xc0000100;

/** exit ends the calling thread, exit_group (`group`) every thread of its process. */
export function sysExit(status: u64, group: bool): i64 {
  if (group) exitCurrent(<u32>(status & 0xff) << 8);
  else exitThread(<u32>(status & 0xff) << 8);
  return 0;
}

export function sysWait4(process: Process, pid: i64, status: u64, options: u64, usage: u64): i64 {
  const result = waitForChild(process, pid, status, options, usage);
  return result == WAIT_NO_CHILD ? -ECHILD : result == WAIT_FAULT ? -EFAULT : result == WAIT_INTERRUPTED ? -EINTR
    : result == WAIT_BAD_OPTIONS ? -EINVAL : result;
}

const REBOOT_MAGIC1: u64 = 0xfee1dead;
const REBOOT_POWER_OFF: u64 = 0x4321fedc;
const REBOOT_RESTART: u64 = 0x01234567;
const REBOOT_HALT: u64 = 0xcdef0123;

/** reboot(2): power off, restart, or halt (under QEMU with exit=qemu, each ends the run as a success). */
export function sysReboot(process: Process, magic: u64, command: u64): i64 {
  if ((magic & 0xffffffff) != REBOOT_MAGIC1) return -EINVAL;
  const c = command & 0xffffffff;
  if (c != REBOOT_POWER_OFF && c != REBOOT_RESTART && c != REBOOT_HALT) return -EINVAL;
  print(c == REBOOT_RESTART ? "kernel: restart requested by " : c == REBOOT_HALT ? "kernel: halt requested by " : "kernel: power off requested by ");
  printProcess(process);
  print("\n");
  if (c == REBOOT_RESTART) restart();
  if (c == REBOOT_HALT) stop();
  shutdown(ExitStatus.Success);
  return 0;
}

export function sysArchPrctl(process: Process, code: u64, address: u64): i64 {
  if (code == ARCH_SET_FS) {
    if (address >= 0x0000800000000000) return -EPERM; // a kernel address, as Linux answers
    process.fsBase = address;
    wrmsr(MSR_FS_BASE, address);
    return 0;
  }
  if (code == ARCH_GET_FS) {
    const value = memory.data(8, 8);
    store<u64>(value, process.fsBase);
    return copyToUser(spaceOf(process), address, <u32>value, 8) ? 0 : -EFAULT;
  }
  return -EINVAL;
}

export function sysSetTidAddress(process: Process, address: u64): i64 {
  process.clearChildTid = address;
  return process.pid; // the thread's id
}

export function sysSchedYield(process: Process): i64 {
  makeRunnable(process);
  yieldToScheduler();
  return 0;
}

const RUSAGE_SELF: i64 = 0;
const RUSAGE_CHILDREN: i64 = -1;
const RUSAGE_THREAD: i64 = 1;

/** getrusage (resource_usage.ts says what is counted). */
export function sysGetrusage(process: Process, who: i64, usage: u64): i64 {
  if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD) return -EINVAL;
  const rusage = memory.data(RUSAGE_SIZE, 8);
  if (who == RUSAGE_CHILDREN) storeChildrenUsage(rusage, process);
  else if (who == RUSAGE_THREAD) storeThreadUsage(rusage, process);
  else storeOwnUsage(rusage, process);
  return copyToUser(spaceOf(process), usage, <u32>rusage, RUSAGE_SIZE) ? 0 : -EFAULT;
}

/**
 * times: struct tms (user, system, children's user, children's system, in
 * clock ticks); the answer is the clock ticks since boot (Linux counts
 * from an arbitrary point too).
 */
export function sysTimes(process: Process, buffer: u64): i64 {
  if (buffer != 0) {
    const tms = memory.data(32, 8);
    store<u64>(tms, clockTicks(userTime(process)));
    store<u64>(tms + 8, clockTicks(systemTime(process)));
    store<u64>(tms + 16, clockTicks(leaderOf(process).childUserTime));
    store<u64>(tms + 24, clockTicks(leaderOf(process).childSystemTime));
    if (!copyToUser(spaceOf(process), buffer, <u32>tms, 32)) return -EFAULT;
  }
  return <i64>clockTicks(monotonicNanoseconds());
}

function putField(utsname: usize, index: u32, value: string): void {
  storeAscii(utsname + index * 65, value);
}

export function sysUname(process: Process, buffer: u64): i64 {
  const utsname = memory.data(6 * 65, 8);
  memory.fill(utsname, 0, 6 * 65);
  putField(utsname, 0, "TSKernel"); // sysname
  putField(utsname, 1, "tskernel"); // nodename
  putField(utsname, 2, KERNEL_RELEASE); // release: the Linux interface followed
  putField(utsname, 3, "#1"); // version
  putField(utsname, 4, "x86_64"); // machine
  putField(utsname, 5, "(none)"); // domainname
  return copyToUser(spaceOf(process), buffer, <u32>utsname, 6 * 65) ? 0 : -EFAULT;
}

const P_ALL: i64 = 0;
const P_PID: i64 = 1;
const P_PGID: i64 = 2;
const WSTOPPED: u64 = WUNTRACED; // waitid's name for it
const WNOWAIT: u64 = 0x01000000;

/**
 * waitid: like wait4, reporting in a siginfo (si_signo SIGCHLD, si_code
 * CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED or CLD_CONTINUED, si_pid,
 * si_status); at least one of WEXITED, WSTOPPED and WCONTINUED, as on Linux.
 */
export function sysWaitid(process: Process, idType: i64, id: i64, info: u64, options: u64, usage: u64): i64 {
  if ((options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | 0xe0000000)) != 0) return -EINVAL;
  if ((options & (WEXITED | WSTOPPED | WCONTINUED)) == 0) return -EINVAL;
  let kind: WaitFor;
  let which: u32 = 0;
  if (idType == P_ALL) kind = WaitFor.Any;
  else if (idType == P_PID) {
    if (id <= 0 || id > <i64>U32.MAX_VALUE) return -EINVAL;
    kind = WaitFor.Pid;
    which = <u32>id;
  } else if (idType == P_PGID) {
    if (id < 0 || id > <i64>U32.MAX_VALUE) return -EINVAL;
    kind = WaitFor.Group;
    which = id == 0 ? process.pgid : <u32>id;
  } else return -EINVAL; // P_PIDFD: no pid descriptors here
  const found = waitFor(process, kind, which, 0, options & ~WNOWAIT, usage, (options & WNOWAIT) != 0);
  if (found < 0) {
    return found == WAIT_NO_CHILD ? -ECHILD : found == WAIT_FAULT ? -EFAULT : found == WAIT_INTERRUPTED ? -EINTR : -EINVAL;
  }
  if (info != 0) {
    const siginfo = memory.data(128, 8);
    memory.fill(siginfo, 0, 128);
    if (found > 0) {
      const status = lastWaitStatus;
      const signal = status & 0x7f;
      const code = status == CONTINUED_STATUS ? CLD_CONTINUED : signal == 0x7f ? CLD_STOPPED : signal == 0 ? CLD_EXITED
        : (status & WAIT_CORE_DUMPED) != 0 ? CLD_DUMPED : CLD_KILLED;
      store<i32>(siginfo, <i32>SIGCHLD);
      store<i32>(siginfo + 8, code);
      store<i32>(siginfo + 16, <i32>found); // si_pid
      store<i32>(siginfo + 24, code == CLD_CONTINUED ? <i32>SIGCONT : code == CLD_STOPPED || code == CLD_EXITED
        ? <i32>((status >> 8) & 0xff) : <i32>signal); // si_status
    }
    if (!copyToUser(spaceOf(process), info, <u32>siginfo, 128)) return -EFAULT;
  }
  return 0;
}
