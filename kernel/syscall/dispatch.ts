// System-call dispatch by Linux x86-64 number: arguments in RDI, RSI, RDX,
// R10, R8, R9, the number in RAX, the result (or -errno) back in RAX.
import { sysSyncFileRange } from "./sync_range";
import { sysSendfile } from "./sendfile";
import { sysFadvise64 } from "./fadvise";
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { argumentEquals } from "../boot/cmdline";
import { print, printf } from "../console/console";
import { printProcess } from "../proc/exit";
import { Process, leaderOf, spaceOf } from "../proc/process";
import { currentProcess } from "../proc/scheduler";
import { EINTR, ENOSYS, ERESTARTNOINTR, ERESTART_RESTARTBLOCK } from "./errno";
import { handlerAboutToRun } from "../proc/signal";
import { SA_RESTART } from "../proc/signal_action";
import {
  sysPause, sysRtSigaction, sysRtSigpending, sysRtSigprocmask, sysRtSigreturn, sysRtSigsuspend, sysSigaltstack,
} from "./signals";
import {
  sysFaccessat, sysFchmod, sysFchmodat, sysFchown, sysFchownat, sysFstat, sysFstatfs, sysFsync, sysFtruncate, sysSync,
  sysNewfstatat, sysStat, sysStatfs, sysStatx, sysSyncfs, sysTruncate, sysUmask, sysUtimensat,
} from "./attributes";
import { sysChdir, sysFchdir, sysGetcwd, sysGetdents64 } from "./directories";
import { sysIoctl } from "./ioctl";
import { sysLinkat, sysMkdirat, sysMknodat, sysReadlinkat, sysRename, sysRenameat2, sysSymlinkat, sysUnlinkat } from "./names";
import { sysClose, sysCreat, sysOpen, sysOpenat } from "./open";
import { sysLseek, sysPread, sysRead, sysTransferVector, sysWrite } from "./read_write";
import { sysBrk, sysMmap, sysMprotect, sysMsync, sysMunmap } from "./memory";
import { sysMlock, sysMlockall, sysMunlock, sysMunlockall } from "./memory_lock";
import { sysFallocate } from "./fallocate";
import { sysMadvise } from "./madvise";
import { sysMincore } from "./mincore";
import { sysMremap } from "./remap";
import {
  sysCapget, sysCapset, sysGetId, sysGetResId, sysGetgroups, sysGetpgid, sysGetsid, sysSetIds, sysSetgroups,
  sysSetpgid, sysSetsid,
} from "./identity";
import { sysFutex } from "./futex";
import { sysFutexWaitv } from "./futex_waitv";
import { sysGetRobustList, sysSetRobustList } from "./robust_list";
import { sysRseq } from "./rseq";
import { sysMount, sysUmount2 } from "./mounts";
import { sysSwapoff, sysSwapon } from "./swap";
import { sysPoll, sysPpoll, sysPselect6, sysSelect } from "./poll";
import { getRandom } from "./devices";
import {
  sysGetcpu, sysGetrlimit, sysPrctl, sysPrlimit, sysSchedGetaffinity, sysSchedGetparam, sysSchedGetscheduler, sysSchedPriorityLimit,
  sysSchedSetaffinity, sysSetrlimit, sysSysinfo,
} from "./system";
import { sysDup, sysDup3, sysFcntl, sysPipe2 } from "./descriptors";
import {
  sysArchPrctl, sysExit, sysGetrusage, sysSchedYield, sysTimes,
  sysReboot, sysSetTidAddress, sysUname, sysWait4, sysWaitid,
} from "./process";
import { sysClone, sysClone3, sysFork } from "./clone";
import { sysExecve } from "./execve";
import { sysSignalfd4 } from "./signalfd";
import { sysEpollCreate, sysEpollCreate1, sysEpollCtl, sysEpollPwait, sysEpollPwait2, sysEpollWait } from "./epoll";
import { sysEventfd2 } from "./eventfd";
import { sysKill, sysRtTgsigqueueinfo, sysTgkill, sysTkill } from "./signal_send";
import { sysRtSigtimedwait } from "./signal_wait";
import {
  sysAlarm, sysClockGetres, sysClockGettime, sysClockSettime, sysGetitimer, sysGettimeofday, sysSetitimer,
} from "./time";
import { sysClockNanosleep, sysNanosleep, sysRestartSyscall } from "./sleep";
import { sysTimerCreate, sysTimerDelete, sysTimerGetoverrun, sysTimerGettime, sysTimerSettime } from "./timers";
import { sysDescriptorListXattr, sysDescriptorXattr, sysListXattr, sysPathXattr } from "./xattr";

const AT_FDCWD: i64 = -100;
const SYS_RESTART_SYSCALL: u32 = 219;
const U32_KEEP: u64 = 0xffffffff; // "-1": leave this id as it is
const AT_REMOVEDIR: u64 = 0x200;
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
// Numbers already reported: a bit each below MAX_LOGGED, a short list above.
const MAX_LOGGED: u32 = 512;
const logged = memory.data(MAX_LOGGED / 8);
const MAX_LOGGED_HIGH: u32 = 16;
const loggedHigh = memory.data(MAX_LOGGED_HIGH * 8, 8);
let loggedHighCount: u32 = 0;

function firstReport(number: u64): bool {
  if (number < <u64>MAX_LOGGED) {
    const index = <u32>number;
    const bit = <u8>(<u32>1 << (index & 7));
    const seen = (load<u8>(logged + index / 8) & bit) != 0;
    store<u8>(logged + index / 8, load<u8>(logged + index / 8) | bit);
    return !seen;
  }
  for (let i: u32 = 0; i < loggedHighCount; i++) if (load<u64>(loggedHigh + i * 8) == number) return false;
  if (loggedHighCount < MAX_LOGGED_HIGH) store<u64>(loggedHigh + loggedHighCount++ * 8, number);
  return true;
}

function unknown(process: Process, number: u64): i64 {
  if (firstReport(number)) {
    print("kernel: ");
    printProcess(process);
    printf(" called unknown system call %i; returning ENOSYS\n", number);
  }
  return -ENOSYS;
}

// Arguments that are an int in C (pids, signal numbers, wait options) are
// cut to 32 bits, as Linux's SYSCALL_DEFINE does: a caller may leave the
// upper half of the register undefined (glibc's wait4 passes -1 as 0xffffffff).
export function dispatch(process: Process, f: TrapFrame): i64 {
  const a = f.rdi;
  const b = f.rsi;
  const c = f.rdx;
  const d = f.r10;
  const e = f.r8;
  switch (<u32>f.rax) {
    case 0: return sysRead(process, a, b, c);
    case 1: return sysWrite(process, a, b, c);
    case 2: return sysOpen(process, a, b, c);
    case 3: return sysClose(process, a);
    case 4: return sysStat(process, a, b, true);
    case 5: return sysFstat(process, a, b);
    case 6: return sysStat(process, a, b, false); // lstat
    case 7: return sysPoll(process, a, b, c);
    case 8: return sysLseek(process, a, b, c);
    case 9: return sysMmap(process, a, b, c, d, f.r8, f.r9);
    case 10: return sysMprotect(process, a, b, c);
    case 11: return sysMunmap(process, a, b);
    case 12: return sysBrk(process, a);
    case 13: return sysRtSigaction(process, a, b, c, d);
    case 14: return sysRtSigprocmask(process, a, b, c, d);
    case 15: return sysRtSigreturn(process, f);
    case 16: return sysIoctl(process, a, b, c);
    case 17: return sysPread(process, a, b, c, d, true); // pread64
    case 18: return sysPread(process, a, b, c, d, false); // pwrite64
    case 19: return sysTransferVector(process, a, b, c, 0, false, true); // readv
    case 20: return sysTransferVector(process, a, b, c, 0, false, false); // writev
    case 21: return sysFaccessat(process, AT_FDCWD, a, b, 0); // access
    case 22: return sysPipe2(process, a, 0);
    case 23: return sysSelect(process, a, b, c, d, e);
    case 24: return sysSchedYield(process);
    case 25: return sysMremap(process, a, b, c, d, e);
    case 26: return sysMsync(process, a, b, c);
    case 27: return sysMincore(process, a, b, c);
    case 28: return sysMadvise(process, a, b, c);
    case 32: return sysDup(process, a);
    case 33: return sysDup3(process, a, b, 0, true); // dup2
    case 34: return sysPause(process);
    case 35: return sysNanosleep(process, a, b);
    case 36: return sysGetitimer(process, a, b);
    case 37: return sysAlarm(process, a);
    case 38: return sysSetitimer(process, a, b, c);
    case 39: return process.tgid; // getpid
    case 40: return sysSendfile(process, a, b, c, d);
    case 56: return sysClone(process, a, b, c, d, e);
    case 57: return sysFork(process, false);
    case 58: return sysFork(process, true); // vfork
    case 59: return sysExecve(process, a, b, c);
    case 60: return sysExit(a, false); // exit
    case 61: return sysWait4(process, <i32>a, b, <u32>c, d);
    case 62: return sysKill(process, <i32>a, <i32>b);
    case 63: return sysUname(process, a);
    case 72: return sysFcntl(process, a, b, c);
    case 74: return sysFsync(process, a); // fsync
    case 75: return sysFsync(process, a); // fdatasync
    case 76: return sysTruncate(process, a, b);
    case 77: return sysFtruncate(process, a, b);
    case 79: return sysGetcwd(process, a, b);
    case 80: return sysChdir(process, a);
    case 81: return sysFchdir(process, a);
    case 82: return sysRename(process, a, b);
    case 83: return sysMkdirat(process, AT_FDCWD, a, b); // mkdir
    case 84: return sysUnlinkat(process, AT_FDCWD, a, AT_REMOVEDIR); // rmdir
    case 85: return sysCreat(process, a, b);
    case 86: return sysLinkat(process, AT_FDCWD, a, AT_FDCWD, b, 0); // link
    case 87: return sysUnlinkat(process, AT_FDCWD, a, 0); // unlink
    case 88: return sysSymlinkat(process, a, AT_FDCWD, b); // symlink
    case 89: return sysReadlinkat(process, AT_FDCWD, a, b, c); // readlink
    case 90: return sysFchmodat(process, AT_FDCWD, a, b, 0); // chmod
    case 91: return sysFchmod(process, a, b);
    case 92: return sysFchownat(process, AT_FDCWD, a, b, c, 0); // chown
    case 93: return sysFchown(process, a, b, c);
    case 94: return sysFchownat(process, AT_FDCWD, a, b, c, AT_SYMLINK_NOFOLLOW); // lchown
    case 95: return sysUmask(process, a);
    case 96: return sysGettimeofday(process, a);
    case 97: return sysGetrlimit(process, a, b);
    case 98: return sysGetrusage(process, a, b);
    case 99: return sysSysinfo(process, a);
    case 100: return sysTimes(process, a);
    case 102: return sysGetId(); // getuid
    case 104: return sysGetId(); // getgid
    case 105: return sysSetIds(a, U32_KEEP, U32_KEEP); // setuid
    case 106: return sysSetIds(a, U32_KEEP, U32_KEEP); // setgid
    case 107: return sysGetId(); // geteuid
    case 108: return sysGetId(); // getegid
    case 109: return sysSetpgid(process, <i32>a, <i32>b);
    case 110: return leaderOf(process).parentPid; // getppid
    case 111: return process.pgid; // getpgrp
    case 112: return sysSetsid(process);
    case 113: return sysSetIds(a, b, U32_KEEP); // setreuid
    case 114: return sysSetIds(a, b, U32_KEEP); // setregid
    case 115: return sysGetgroups(<i32>a);
    case 116: return sysSetgroups(process, <i32>a, b);
    case 117: return sysSetIds(a, b, c); // setresuid
    case 118: return sysGetResId(process, a, b, c); // getresuid
    case 119: return sysSetIds(a, b, c); // setresgid
    case 120: return sysGetResId(process, a, b, c); // getresgid
    case 121: return sysGetpgid(process, <i32>a);
    case 124: return sysGetsid(process, <i32>a);
    case 125: return sysCapget(process, a, b);
    case 126: return sysCapset(process, a, b);
    case 127: return sysRtSigpending(process, a, b);
    case 128: return sysRtSigtimedwait(process, a, b, c, d);
    case 129: return sysRtTgsigqueueinfo(process, -1, <i32>a, <i32>b, c); // rt_sigqueueinfo
    case 130: return sysRtSigsuspend(process, a, b);
    case 131: return sysSigaltstack(process, f, a, b);
    case 133: return sysMknodat(process, AT_FDCWD, a, b, c); // mknod
    case 137: return sysStatfs(process, a, b);
    case 138: return sysFstatfs(process, a, b);
    case 143: return sysSchedGetparam(process, a, b);
    case 145: return sysSchedGetscheduler(process, a);
    case 146: return sysSchedPriorityLimit(a, true);
    case 147: return sysSchedPriorityLimit(a, false);
    case 149: return sysMlock(process, a, b, 0);
    case 150: return sysMunlock(process, a, b);
    case 151: return sysMlockall(process, a);
    case 152: return sysMunlockall(process);
    case 157: return sysPrctl(process, a, b);
    case 158: return sysArchPrctl(process, a, b);
    case 160: return sysSetrlimit(process, a, b);
    case 162: return sysSync(); // sync
    case 165: return sysMount(process, a, b, c, d, e);
    case 166: return sysUmount2(process, a, b);
    case 167: return sysSwapon(process, a, b);
    case 168: return sysSwapoff(process, a);
    case 169: return sysReboot(process, a, c);
    case 186: return process.pid; // gettid
    case 188: return sysPathXattr(process, a, b, true); // setxattr
    case 189: return sysPathXattr(process, a, b, false); // lsetxattr
    case 190: return sysDescriptorXattr(process, a, b); // fsetxattr
    case 191: return sysPathXattr(process, a, b, true); // getxattr
    case 192: return sysPathXattr(process, a, b, false); // lgetxattr
    case 193: return sysDescriptorXattr(process, a, b); // fgetxattr
    case 194: return sysListXattr(process, a, true); // listxattr
    case 195: return sysListXattr(process, a, false); // llistxattr
    case 196: return sysDescriptorListXattr(process, a); // flistxattr
    case 197: return sysPathXattr(process, a, b, true); // removexattr
    case 198: return sysPathXattr(process, a, b, false); // lremovexattr
    case 199: return sysDescriptorXattr(process, a, b); // fremovexattr
    case 200: return sysTkill(process, <i32>a, <i32>b);
    case 202: return sysFutex(process, a, b, c, d, e, f.r9);
    case 203: return sysSchedSetaffinity(process, a, b, c);
    case 204: return sysSchedGetaffinity(process, a, b, c);
    case 213: return sysEpollCreate(process, <i32>a);
    case 217: return sysGetdents64(process, a, b, c);
    case 218: return sysSetTidAddress(process, a);
    case SYS_RESTART_SYSCALL: return sysRestartSyscall(process);
    case 222: return sysTimerCreate(process, <i32>a, b, c);
    case 223: return sysTimerSettime(process, <i32>a, b, c, d);
    case 224: return sysTimerGettime(process, <i32>a, b);
    case 225: return sysTimerGetoverrun(process, <i32>a);
    case 226: return sysTimerDelete(process, <i32>a);
    case 227: return sysClockSettime(process, <i32>a, b);
    case 228: return sysClockGettime(process, <i32>a, b);
    case 229: return sysClockGetres(process, <i32>a, b);
    case 230: return sysClockNanosleep(process, <i32>a, <u32>b, c, d);
    case 231: return sysExit(a, true); // exit_group
    case 232: return sysEpollWait(process, a, b, <i32>c, <i32>d);
    case 233: return sysEpollCtl(process, a, <i32>b, c, d);
    case 234: return sysTgkill(process, <i32>a, <i32>b, <i32>c);
    case 247: return sysWaitid(process, <i32>a, <i32>b, c, <u32>d, e);
    case 257: return sysOpenat(process, a, b, c, d);
    case 258: return sysMkdirat(process, a, b, c);
    case 259: return sysMknodat(process, a, b, c, d);
    case 260: return sysFchownat(process, a, b, c, d, e);
    case 262: return sysNewfstatat(process, a, b, c, d);
    case 263: return sysUnlinkat(process, a, b, c);
    case 264: return sysRenameat2(process, a, b, c, d, 0); // renameat
    case 265: return sysLinkat(process, a, b, c, d, e);
    case 266: return sysSymlinkat(process, a, b, c);
    case 267: return sysReadlinkat(process, a, b, c, d);
    case 268: return sysFchmodat(process, a, b, c, 0); // fchmodat: no flags argument
    case 270: return sysPselect6(process, a, b, c, d, e, f.r9);
    case 271: return sysPpoll(process, a, b, c, d, e);
    case 273: return sysSetRobustList(process, a, b);
    case 277: return sysSyncFileRange(process, a, <i64>b, <i64>c, d);
    case 274: return sysGetRobustList(process, <i32>a, b, c);
    case 269: return sysFaccessat(process, a, b, c, 0); // faccessat: no flags argument
    case 280: return sysUtimensat(process, a, b, c, d);
    case 282: return sysSignalfd4(process, <i32>a, b, c, 0);
    case 281: return sysEpollPwait(process, a, b, <i32>c, <i32>d, e, f.r9);
    case 284: return sysEventfd2(process, <u32>a, 0); // eventfd
    case 285: return sysFallocate(process, a, b, c, d);
    case 221: return sysFadvise64(process, a, <i64>b, <i64>c, <i64>d);
    case 289: return sysSignalfd4(process, <i32>a, b, c, d);
    case 290: return sysEventfd2(process, <u32>a, <u32>b);
    case 291: return sysEpollCreate1(process, <u32>a);
    case 292: return sysDup3(process, a, b, c, false);
    case 293: return sysPipe2(process, a, b);
    case 295: return sysTransferVector(process, a, b, c, <i64>d, true, true); // preadv
    case 296: return sysTransferVector(process, a, b, c, <i64>d, true, false); // pwritev
    case 297: return sysRtTgsigqueueinfo(process, <i32>a, <i32>b, <i32>c, d);
    case 302: return sysPrlimit(process, a, b, c, d);
    case 306: return sysSyncfs(process, a);
    case 309: return sysGetcpu(process, a, b);
    case 316: return sysRenameat2(process, a, b, c, d, e);
    case 318: return getRandom(spaceOf(process), a, b, c);
    case 325: return sysMlock(process, a, b, c); // mlock2
    case 332: return sysStatx(process, a, b, c, d, e);
    case 334: return sysRseq(process, a, <u32>b, <i32>c, <u32>d);
    case 435: return sysClone3(process, a, b);
    case 439: return sysFaccessat(process, a, b, c, d); // faccessat2
    case 441: return sysEpollPwait2(process, a, b, <i32>c, d, e, f.r9);
    case 449: return sysFutexWaitv(process, a, <u32>b, <u32>c, d, <i32>e);
    case 452: return sysFchmodat(process, a, b, c, d); // fchmodat2
    default: return unknown(process, f.rax);
  }
}

// Calls Linux restarts after a handler with SA_RESTART (the others answer
// EINTR), and after a signal that runs no handler and does not end the
// process (a stop, then a continue): read, write and their vector and
// positioned forms, ioctl (a background job changing the terminal), wait4,
// an untimed futex wait (futex's only EINTR) and futex_waitv (its deadline
// is absolute).
function restartable(number: u32): bool {
  return number <= 1 || number == 16 || number == 17 || number == 18 || number == 19 || number == 20 || number == 61 || number == 202 ||
    number == 295 || number == 296 || number == 449;
}

// trace=syscalls on the command line: every call, its first four arguments
// and its result on the console, as strace shows them (a debugging aid).
let tracing: i32 = -1;

function trace(process: Process, number: u32, frame: TrapFrame, result: i64): void {
  printProcess(process);
  printf(" %d(0x%x, 0x%x, 0x%x, 0x%x) = %i\n", number, frame.rdi, frame.rsi, frame.rdx, frame.r10, result);
}

export function handleSyscall(frame: TrapFrame): void {
  const process = currentProcess();
  process.systemCalls++;
  const number = <u32>frame.rax;
  process.syscallNumber = number;
  if (tracing < 0) tracing = argumentEquals("trace", "syscalls") ? 1 : 0;
  const result = dispatch(process, frame);
  if (tracing != 0) trace(process, number, frame, result);
  frame.rax = <u64>result;
  if (result == -ERESTART_RESTARTBLOCK) {
    // An interrupted sleep: EINTR for a handler (and nothing left to
    // restart), else restart_syscall continues it once the process runs on.
    if (handlerAboutToRun(process) != null) {
      frame.rax = <u64>-EINTR;
      process.sleepBase = 0;
      process.restartFutex = 0;
    } else {
      frame.rax = SYS_RESTART_SYSCALL;
      frame.rip -= 2;
    }
  } else if (result == -ERESTARTNOINTR) {
    frame.rax = number; // after the handler, if any: the call runs again
    frame.rip -= 2;
  } else if (result == -EINTR && restartable(number)) {
    // No handler to run (the signal stops the process, say) restarts the
    // call as well, as Linux's -ERESTARTSYS does: the caller never sees it.
    const action = handlerAboutToRun(process);
    if (action == null || (action.flags & SA_RESTART) != 0) {
      frame.rax = number; // the handler returns to the syscall instruction, which runs again
      frame.rip -= 2;
    }
  }
}
