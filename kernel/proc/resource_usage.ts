// struct rusage, as getrusage and wait4 report it: CPU times, the peak
// resident size, minor faults and context switches, for a process itself
// or for the children it has reaped (and theirs). Major faults, swaps,
// block I/O, messages and signals are counted nowhere here (no disk or
// swap yet), so they read 0 as they would on Linux with none of them.
//
//    0 ru_utime (timeval)  16 ru_stime (timeval)  32 ru_maxrss (KiB)
//   64 ru_minflt  72 ru_majflt  128 ru_nvcsw  136 ru_nivcsw   (144 bytes, all longs)
import { addChildTimes, systemTime, threadSystemTime, threadUserTime, userTime } from "./cpu_time";
import { Process, ProcessState, leaderOf, peakResidentPages, processListHead } from "./process";

export const RUSAGE_SIZE: u32 = 144;

function storeTimeval(at: usize, nanoseconds: u64): void {
  store<u64>(at, nanoseconds / 1000000000);
  store<u64>(at + 8, (nanoseconds % 1000000000) / 1000);
}

function storeUsage(into: usize, user: u64, system: u64, peakPages: u32, minorFaults: u64, voluntary: u64, involuntary: u64): void {
  memory.fill(into, 0, RUSAGE_SIZE);
  storeTimeval(into, user);
  storeTimeval(into + 16, system);
  store<u64>(into + 32, <u64>peakPages * 4);
  store<u64>(into + 64, minorFaults);
  store<u64>(into + 128, voluntary);
  store<u64>(into + 136, involuntary);
}

/** The u32 counter at `offset` of each thread of the process, with what its ended threads counted at `exitedOffset` of the leader. */
function processCount(process: Process, offset: usize, exitedOffset: usize): u64 {
  const leader = leaderOf(process);
  let total = <u64>load<u32>(changetype<usize>(leader) + exitedOffset) + load<u32>(changetype<usize>(leader) + offset);
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const thread = changetype<Process>(at);
    if (thread != leader && thread.tgid == leader.tgid && thread.state != ProcessState.Dead) total += load<u32>(at + offset);
  }
  return total;
}

@inline function minorFaultsOf(process: Process): u64 {
  return processCount(process, offsetof<Process>("minorFaults"), offsetof<Process>("exitedMinorFaults"));
}

@inline function voluntarySwitchesOf(process: Process): u64 {
  return processCount(process, offsetof<Process>("voluntarySwitches"), offsetof<Process>("exitedVoluntarySwitches"));
}

@inline function involuntarySwitchesOf(process: Process): u64 {
  return processCount(process, offsetof<Process>("involuntarySwitches"), offsetof<Process>("exitedInvoluntarySwitches"));
}

/** A thread ends: what it counted stays its process's. */
export function keepExitedThreadCounts(thread: Process): void {
  const leader = leaderOf(thread);
  if (leader == thread) return;
  leader.exitedMinorFaults += thread.minorFaults;
  leader.exitedVoluntarySwitches += thread.voluntarySwitches;
  leader.exitedInvoluntarySwitches += thread.involuntarySwitches;
  thread.minorFaults = 0;
  thread.voluntarySwitches = 0;
  thread.involuntarySwitches = 0;
}

/** RUSAGE_SELF: the process alone, all its threads. */
export function storeOwnUsage(into: usize, process: Process): void {
  storeUsage(into, userTime(process), systemTime(process), peakResidentPages(leaderOf(process)), minorFaultsOf(process),
    voluntarySwitchesOf(process), involuntarySwitchesOf(process));
}

/** RUSAGE_THREAD: the calling thread alone. */
export function storeThreadUsage(into: usize, thread: Process): void {
  storeUsage(into, threadUserTime(thread), threadSystemTime(thread), peakResidentPages(leaderOf(thread)), thread.minorFaults,
    thread.voluntarySwitches, thread.involuntarySwitches);
}

/** RUSAGE_CHILDREN: every child reaped so far, and its own reaped children. */
export function storeChildrenUsage(into: usize, process: Process): void {
  const leader = leaderOf(process);
  storeUsage(into, leader.childUserTime, leader.childSystemTime, leader.childPeakPages, leader.childMinorFaults,
    leader.childVoluntarySwitches, leader.childInvoluntarySwitches);
}

/** wait4's rusage for `child`: itself and its reaped children together, as Linux sums them. */
export function storeReapedUsage(into: usize, child: Process): void {
  storeUsage(into, userTime(child) + child.childUserTime, systemTime(child) + child.childSystemTime,
    max(peakResidentPages(child), child.childPeakPages), minorFaultsOf(child) + child.childMinorFaults,
    voluntarySwitchesOf(child) + child.childVoluntarySwitches, involuntarySwitchesOf(child) + child.childInvoluntarySwitches);
}

/** A child reaped: what it used joins the parent's children's usage. */
export function addChildUsage(parent: Process, child: Process): void {
  addChildTimes(parent, child);
  parent.childMinorFaults += <u32>(minorFaultsOf(child) + child.childMinorFaults);
  parent.childVoluntarySwitches += <u32>(voluntarySwitchesOf(child) + child.childVoluntarySwitches);
  parent.childInvoluntarySwitches += <u32>(involuntarySwitchesOf(child) + child.childInvoluntarySwitches);
  parent.childPeakPages = max(parent.childPeakPages, max(peakResidentPages(child), child.childPeakPages));
}
