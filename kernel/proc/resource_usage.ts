// struct rusage, as getrusage and wait4 report it: CPU times, the peak
// resident size, minor faults and context switches, for a process itself
// or for the children it has reaped (and theirs). Major faults, swaps,
// block I/O, messages and signals are counted nowhere here (no disk or
// swap yet), so they read 0 as they would on Linux with none of them.
//
//    0 ru_utime (timeval)  16 ru_stime (timeval)  32 ru_maxrss (KiB)
//   64 ru_minflt  72 ru_majflt  128 ru_nvcsw  136 ru_nivcsw   (144 bytes, all longs)
import { addChildTimes, systemTime, userTime } from "./cpu_time";
import { Process, peakResidentPages } from "./process";

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

/** RUSAGE_SELF: the process alone. */
export function storeOwnUsage(into: usize, process: Process): void {
  storeUsage(into, userTime(process), systemTime(process), peakResidentPages(process), process.minorFaults,
    process.voluntarySwitches, process.involuntarySwitches);
}

/** RUSAGE_CHILDREN: every child reaped so far, and its own reaped children. */
export function storeChildrenUsage(into: usize, process: Process): void {
  storeUsage(into, process.childUserTime, process.childSystemTime, process.childPeakPages, process.childMinorFaults,
    process.childVoluntarySwitches, process.childInvoluntarySwitches);
}

/** wait4's rusage for `child`: itself and its reaped children together, as Linux sums them. */
export function storeReapedUsage(into: usize, child: Process): void {
  storeUsage(into, userTime(child) + child.childUserTime, systemTime(child) + child.childSystemTime,
    max(peakResidentPages(child), child.childPeakPages), <u64>child.minorFaults + child.childMinorFaults,
    <u64>child.voluntarySwitches + child.childVoluntarySwitches, <u64>child.involuntarySwitches + child.childInvoluntarySwitches);
}

/** A child reaped: what it used joins the parent's children's usage. */
export function addChildUsage(parent: Process, child: Process): void {
  addChildTimes(parent, child);
  parent.childMinorFaults += child.minorFaults + child.childMinorFaults;
  parent.childVoluntarySwitches += child.voluntarySwitches + child.childVoluntarySwitches;
  parent.childInvoluntarySwitches += child.involuntarySwitches + child.childInvoluntarySwitches;
  parent.childPeakPages = max(parent.childPeakPages, max(peakResidentPages(child), child.childPeakPages));
}
