// CPU time: what each process has spent running in user mode and in the
// kernel, charged at every crossing (trap entry from user mode, return to
// it, and the scheduler's switches) from the TSC, so the split is exact
// rather than sampled at the tick as Linux's default accounting samples it.
// A process is always in the kernel when it is switched in or out, so the
// time between a switch and the next crossing is kernel time.
import { rdtsc } from "../arch/x86_64/cpu";
import { cyclesToNanoseconds } from "../time/clock";
import { Process, ProcessState } from "./process";

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

/** Kernel time so far, in nanoseconds; for the running process, up to this moment. */
export function systemTime(process: Process): u64 {
  let cycles = process.systemCycles;
  if (process.state == ProcessState.Running) cycles += rdtsc() - process.accountedAt; // on the CPU, in the kernel
  return cyclesToNanoseconds(cycles);
}

/** User time so far, in nanoseconds (the running process is in the kernel while this is asked). */
export function userTime(process: Process): u64 {
  return cyclesToNanoseconds(process.userCycles);
}

/** CLOCK_PROCESS_CPUTIME_ID: user and kernel time together. */
export function cpuTime(process: Process): u64 {
  return userTime(process) + systemTime(process);
}

/** What a CPU-time clock counts (Linux's CPUCLOCK_PROF, _VIRT and _SCHED). */
export const enum CpuClock {
  Profiling = 0, // user and kernel time
  Virtual = 1, // user time
  Scheduler = 2, // time on the CPU: here the same as Profiling, both exact
}

export function readCpuClock(process: Process, which: CpuClock): u64 {
  return which == CpuClock.Virtual ? userTime(process) : cpuTime(process);
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
