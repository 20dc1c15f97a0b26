// CPU time: what each process has spent running in user mode and in the
// kernel, charged at every crossing (trap entry from user mode, return to
// it, and the scheduler's switches) from the TSC, so the split is exact
// rather than sampled at the tick as Linux's default accounting samples it.
// A process is always in the kernel when it is switched in or out, so the
// time between a switch and the next crossing is kernel time.
import { rdtsc } from "../arch/x86_64/cpu";
import { cyclesToNanoseconds } from "../time/clock";
import { Process, ProcessState, leaderOf, processListHead } from "./process";

// The whole machine's, for /proc/stat: every process's, including those gone.
let allUserCycles: u64 = 0;
let allSystemCycles: u64 = 0;

/** A trap from user mode: the time since the last crossing was user time. */
export function chargeUserTime(process: Process): void {
  const now = rdtsc();
  const spent = now - process.accountedAt;
  process.userCycles += spent;
  allUserCycles += spent;
  process.accountedAt = now;
}

/** Back to user mode, or switched out: the time since the last crossing was kernel time. */
export function chargeSystemTime(process: Process): void {
  const now = rdtsc();
  const spent = now - process.accountedAt;
  process.systemCycles += spent;
  allSystemCycles += spent;
  process.accountedAt = now;
}

/** Time every process has spent in user mode since boot, in nanoseconds. */
export function machineUserTime(): u64 {
  return cyclesToNanoseconds(allUserCycles);
}

/** Time every process has spent in the kernel since boot (the scheduler's own time is not in it). */
export function machineSystemTime(): u64 {
  return cyclesToNanoseconds(allSystemCycles);
}

/** Switched in: its clock starts again from now. */
export function startCharging(process: Process): void {
  process.accountedAt = rdtsc();
}

/** One thread's kernel time so far, in nanoseconds; for the running thread, up to this moment. */
export function threadSystemTime(thread: Process): u64 {
  return cyclesToNanoseconds(systemCyclesOf(thread));
}

/** One thread's user time so far, in nanoseconds (the running thread is in the kernel while this is asked). */
export function threadUserTime(thread: Process): u64 {
  return cyclesToNanoseconds(thread.userCycles);
}

function systemCyclesOf(thread: Process): u64 {
  let cycles = thread.systemCycles;
  if (thread.state == ProcessState.Running) cycles += rdtsc() - thread.accountedAt; // on the CPU, in the kernel
  return cycles;
}

/** The process's kernel time: every thread's, those ended included, in nanoseconds. */
export function systemTime(process: Process): u64 {
  const leader = leaderOf(process);
  let cycles = leader.exitedSystemCycles + systemCyclesOf(leader);
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (thread != leader && thread.tgid == leader.tgid && thread.state != ProcessState.Dead) cycles += systemCyclesOf(thread);
  }
  return cyclesToNanoseconds(cycles);
}

/** The process's user time: every thread's, those ended included, in nanoseconds. */
export function userTime(process: Process): u64 {
  const leader = leaderOf(process);
  let cycles = leader.exitedUserCycles + leader.userCycles;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (thread != leader && thread.tgid == leader.tgid && thread.state != ProcessState.Dead) cycles += thread.userCycles;
  }
  return cyclesToNanoseconds(cycles);
}

/** A thread ends: its time stays its process's. */
export function keepExitedThreadTime(thread: Process): void {
  const leader = leaderOf(thread);
  if (leader == thread) return;
  leader.exitedUserCycles += thread.userCycles;
  leader.exitedSystemCycles += thread.systemCycles;
  thread.userCycles = 0;
  thread.systemCycles = 0;
}

/** CLOCK_PROCESS_CPUTIME_ID: user and kernel time together. */
export function cpuTime(process: Process): u64 {
  return userTime(process) + systemTime(process);
}

/** What a CPU-time clock counts (Linux's CPUCLOCK_PROF, _VIRT and _SCHED), with CPU_CLOCK_THREAD for one thread's. */
export const enum CpuClock {
  Profiling = 0, // user and kernel time
  Virtual = 1, // user time
  Scheduler = 2, // time on the CPU: here the same as Profiling, both exact
}
export const CPU_CLOCK_THREAD: u32 = 4; // Linux's CPUCLOCK_PERTHREAD_MASK

export function readCpuClock(process: Process, which: u32): u64 {
  const virtual = (which & 3) == CpuClock.Virtual;
  if ((which & CPU_CLOCK_THREAD) != 0) return virtual ? threadUserTime(process) : threadUserTime(process) + threadSystemTime(process);
  return virtual ? userTime(process) : cpuTime(process);
}

/** wait reaped `child`: its times and its reaped children's become part of the parent's children's times. */
export function addChildTimes(parent: Process, child: Process): void {
  parent.childUserTime += userTime(child) + child.childUserTime;
  parent.childSystemTime += systemTime(child) + child.childSystemTime;
}

/** Linux's USER_HZ: the clock ticks of times() and /proc/PID/stat. */
export const USER_HZ: u64 = 100;

@inline export function clockTicks(nanoseconds: u64): u64 {
  return nanoseconds / (1000000000 / USER_HZ);
}
