// System-call dispatch by Linux x86-64 number: arguments in RDI, RSI, RDX,
// R10, R8, R9, the number in RAX, the result (or -errno) back in RAX.
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { print, printf } from "../console/console";
import { exitCurrent, printProcess } from "../proc/exit";
import { Process } from "../proc/process";
import { currentProcess } from "../proc/scheduler";
import { ENOSYS } from "./errno";
import {
  sysClose, sysFaccessat, sysFstat, sysGetdents64, sysIoctl, sysLseek, sysNewfstatat, sysOpenat, sysRead, sysWrite, sysReadv, sysWritev,
} from "./files";
import { sysBrk, sysMadvise, sysMmap, sysMprotect, sysMunmap } from "./memory";
import { sysDup, sysDup3, sysFcntl, sysPipe2 } from "./descriptors";
import {
  sysArchPrctl, sysClone, sysExecve, sysExit, sysFork, sysGetrusage, sysKill, sysNanosleep, sysSchedYield,
  sysReboot, sysSetTidAddress, sysUname, sysWait4,
} from "./process";
import { sysClockGettime, sysGettimeofday } from "./time";

const AT_FDCWD: u64 = <u64>-100;
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

function dispatch(process: Process, f: TrapFrame): i64 {
  const a = f.rdi;
  const b = f.rsi;
  const c = f.rdx;
  const d = f.r10;
  switch (<u32>f.rax) {
    case 0: return sysRead(process, a, b, c);
    case 1: return sysWrite(process, a, b, c);
    case 2: return sysOpenat(process, AT_FDCWD, a, b);
    case 3: return sysClose(process, a);
    case 5: return sysFstat(process, a, b);
    case 8: return sysLseek(process, a, b, c);
    case 9: return sysMmap(process, a, b, c, d, f.r8, f.r9);
    case 10: return sysMprotect(process, a, b, c);
    case 11: return sysMunmap(process, a, b);
    case 12: return sysBrk(process, a);
    case 13: return 0; // rt_sigaction: accepted, no signals are delivered yet
    case 14: return 0; // rt_sigprocmask: likewise
    case 16: return sysIoctl(process, a);
    case 19: return sysReadv(process, a, b, c);
    case 20: return sysWritev(process, a, b, c);
    case 21: return sysFaccessat(process, AT_FDCWD, a, b, 0); // access
    case 22: return sysPipe2(process, a, 0);
    case 24: return sysSchedYield(process);
    case 28: return sysMadvise(process, a, b, c);
    case 32: return sysDup(process, a);
    case 33: return sysDup3(process, a, b, 0, true); // dup2
    case 35: return sysNanosleep(process, a);
    case 39: return process.pid; // getpid
    case 56: return sysClone(process, a, b);
    case 57: return sysFork(process, false);
    case 58: return sysFork(process, true); // vfork
    case 59: return sysExecve(process, a, b, c);
    case 60: return sysExit(a); // exit
    case 61: return sysWait4(process, a, b, c, d);
    case 62: return sysKill(process, a, b);
    case 63: return sysUname(process, a);
    case 72: return sysFcntl(process, a, b, c);
    case 96: return sysGettimeofday(process, a);
    case 98: return sysGetrusage(process, a, b);
    case 110: return process.parentPid; // getppid
    case 158: return sysArchPrctl(process, a, b);
    case 169: return sysReboot(process, a, c);
    case 186: return process.pid; // gettid: one thread per process
    case 200: return sysKill(process, a, b); // tkill
    case 217: return sysGetdents64(process, a, b, c);
    case 218: return sysSetTidAddress(process, a);
    case 228: return sysClockGettime(process, a, b);
    case 231: return sysExit(a); // exit_group
    case 257: return sysOpenat(process, a, b, c);
    case 262: return sysNewfstatat(process, a, b, c, d);
    case 269: return sysFaccessat(process, a, b, c, 0); // faccessat: no flags argument
    case 292: return sysDup3(process, a, b, c, false);
    case 293: return sysPipe2(process, a, b);
    case 439: return sysFaccessat(process, a, b, c, d); // faccessat2
    default: return unknown(process, f.rax);
  }
}

export function handleSyscall(frame: TrapFrame): void {
  const process = currentProcess();
  process.systemCalls++;
  frame.rax = <u64>dispatch(process, frame);
  if (process.pendingSignal != 0) exitCurrent(process.pendingSignal);
}
