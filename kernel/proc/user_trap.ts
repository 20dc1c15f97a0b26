// CPU exceptions raised by user code: page faults go to the fault handlers;
// anything they cannot resolve, and every other exception, kills the
// process with a one-line report and the matching signal (dumping core
// first if its limit allows: fatal_signal.ts).
import { readCr2 } from "../arch/x86_64/cpu";
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { print, printf } from "../console/console";
import { FaultResponse, handleUserFault } from "../mm/fault";
import { deliverFault } from "./signal";
import {
  BUS_ADRERR, FPE_INTDIV, ILL_ILLOPN, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGTRAP, SI_KERNEL,
} from "./signal_action";
import { exitCurrent, printProcess, printProcessName } from "./exit";
import { dieOfFault } from "./fatal_signal";
import { Process, ProcessState, isGroupLeader, leaderOf, processListHead, spaceOf } from "./process";
import { currentProcess, signalProcess, sleepOnUntil } from "./scheduler";
import { tscAfter } from "../time/clock";

/** How long init waits for the process killed in its place to free its memory, before faulting again. */
const OOM_WAIT_NANOSECONDS: u64 = 10_000_000;
import { str } from "../lib/format";

const VECTOR_DIVIDE: u64 = 0;
const VECTOR_BREAKPOINT: u64 = 3;
const VECTOR_INVALID_OPCODE: u64 = 6;
const VECTOR_GENERAL_PROTECTION: u64 = 13;
const VECTOR_PAGE_FAULT: u64 = 14;
const VECTOR_ALIGNMENT: u64 = 17;
const VECTOR_SIMD: u64 = 19;

/** A fault the process's handler takes, or else reports it and kills the process. */
function reportAndKill(frame: TrapFrame, what: string, signal: u32, code: i32): void {
  const process = currentProcess();
  if (deliverFault(process, frame, signal, code, 0)) return;
  print("traps: ");
  printProcess(process);
  printf(" %s ip:%x sp:%x error:%x", str(what), frame.rip, frame.rsp, frame.errorCode);
  dieOfFault(signal, code, 0, true);
}

/** What the out-of-memory kill weighs (Linux's oom_badness without page tables): pages resident and pages out in swap. */
function memoryWeight(p: Process): u64 {
  const space = spaceOf(p);
  return <u64>space.residentPages + <u64>space.swapPages;
}

/**
 * The process the out-of-memory kill takes: the heaviest of user space
 * (resident plus swapped pages), init never while another lives; on a tie
 * the one asking for memory goes, as it is the one growing.
 */
function chooseVictim(asking: Process): Process | null {
  let best: Process | null = leaderOf(asking).tgid == 1 ? null : leaderOf(asking);
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p.tgid == 1 || p.kernelMain != 0 || p.space == 0 || !isGroupLeader(p)) continue;
    if (p.state == ProcessState.Zombie || p.state == ProcessState.Dead) continue;
    if (best == null || memoryWeight(p) > memoryWeight(changetype<Process>(best))) best = p;
  }
  return best;
}

function reportKill(victim: Process): void {
  const space = spaceOf(victim);
  printf("Out of memory: killed process %d (", victim.tgid);
  printProcessName(victim);
  printf("), %d KiB resident, %d KiB swapped", <u64>space.residentPages * 4, <u64>space.swapPages * 4);
}

/**
 * No frame could be had for a fault of `process` (or a call that faults
 * pages in for it: MAP_POPULATE, mlock), even after the page cache gave
 * back what nobody maps and anonymous memory went to swap while swap had
 * room. The heaviest process goes (chooseVictim). When that is another,
 * the asking one waits a moment for it to go and this returns, for the
 * fault to be tried again.
 */
export function killForMemory(process: Process, address: u64): void {
  const victim = chooseVictim(process);
  if (victim != null && victim.tgid != leaderOf(process).tgid) {
    reportKill(victim);
    printf(", for the fault of process %d at %x\n", leaderOf(process).tgid, address);
    signalProcess(victim, SIGKILL);
    sleepOnUntil(changetype<u32>(process), tscAfter(OOM_WAIT_NANOSECONDS));
    return;
  }
  reportKill(process);
  printf(", faulting at %x; no frame left after reclaiming the page cache and swapping\n", address);
  exitCurrent(SIGKILL);
}

function handlePageFault(frame: TrapFrame): void {
  const process = currentProcess();
  const address = readCr2();
  const response = handleUserFault(spaceOf(process), address, <u32>frame.errorCode);
  if (response == FaultResponse.Continue) {
    process.minorFaults++;
    return;
  }
  if (response == FaultResponse.Retry) return; // the page came from the disk: the access faults again, and finds it
  if (response == FaultResponse.OutOfMemory) {
    killForMemory(process, address); // returns only for init, when another process went instead
    return;
  }
  if (response == FaultResponse.BusError) {
    if (deliverFault(process, frame, SIGBUS, BUS_ADRERR, address)) return;
    printProcess(process);
    printf(": bus error at %x ip %x sp %x (past the end of the mapped file)", address, frame.rip, frame.rsp);
    dieOfFault(SIGBUS, BUS_ADRERR, address, true);
  }
  const code = response == FaultResponse.Forbidden ? SEGV_ACCERR : SEGV_MAPERR;
  if (deliverFault(process, frame, SIGSEGV, code, address)) return;
  printProcess(process);
  printf(": segfault at %x ip %x sp %x error %x", address, frame.rip, frame.rsp, frame.errorCode);
  dieOfFault(SIGSEGV, code, address, true);
}

export function handleUserException(frame: TrapFrame): void {
  switch (frame.vector) {
    case VECTOR_PAGE_FAULT: handlePageFault(frame); break;
    case VECTOR_DIVIDE: reportAndKill(frame, "divide error", SIGFPE, FPE_INTDIV); break;
    case VECTOR_SIMD: reportAndKill(frame, "SIMD floating-point error", SIGFPE, 0); break;
    case VECTOR_INVALID_OPCODE: reportAndKill(frame, "invalid opcode", SIGILL, ILL_ILLOPN); break;
    case VECTOR_BREAKPOINT: reportAndKill(frame, "breakpoint", SIGTRAP, SI_KERNEL); break;
    case VECTOR_ALIGNMENT: reportAndKill(frame, "alignment check", SIGBUS, 1); break; // BUS_ADRALN
    case VECTOR_GENERAL_PROTECTION: reportAndKill(frame, "general protection", SIGSEGV, SI_KERNEL); break;
    default: reportAndKill(frame, "exception", SIGSEGV, SI_KERNEL);
  }
}
