// /proc/PID/status in Linux's format and order (fs/proc/array.c,
// task_mmu.c): identity, memory, signals, capabilities, context switches.
// Every number is the kernel's own: sizes from the regions, resident
// pages by kind from the page tables and the frame database, the peaks as
// the address space noted them. What this kernel does not have is shown as
// Linux shows its absence: no tracer, no swap, no huge pages, no seccomp,
// one thread, one CPU; every id is root's, with root's capabilities.
// A zombie has no memory lines, as on Linux.
import { formatInto, str } from "../lib/format";
import { AddressSpace, mappedPages } from "../mm/address_space";
import { SPACE_USAGE_SIZE, SpaceUsage, measureSpace } from "../mm/space_usage";
import { NAME_OFFSET, Process, ProcessState, isGroupLeader, leaderOf, processListHead, processNameLength, spaceOf } from "../proc/process";
import { MAX_SIGNAL, SIG_DFL, SIG_IGN, actionOf, bitOf } from "../proc/signal_action";

const ALL_CAPABILITIES: u64 = 0x1ffffffffff; // Linux 6.1's 41 capabilities, root's
const NO_LIMIT: u64 = U64.MAX_VALUE; // RLIMIT_SIGPENDING, as getrlimit reports it

function stateName(state: u32): string {
  switch (state) {
    case ProcessState.Runnable:
    case ProcessState.Running: return "R (running)";
    case ProcessState.Sleeping: return "S (sleeping)";
    case ProcessState.DiskSleep: return "D (disk sleep)";
    case ProcessState.Stopped: return "T (stopped)";
    case ProcessState.Zombie: return "Z (zombie)";
    default: return "X (dead)";
  }
}

/** The name as Linux escapes it here: a newline and a backslash become \n and \\. */
function writeName(process: Process, into: u32): u32 {
  const name = changetype<u32>(process) + NAME_OFFSET;
  let n: u32 = 0;
  for (let i: u32 = 0; i < processNameLength(process); i++) {
    const c = load<u8>(name + i);
    if (c == 0x0a || c == 0x5c) {
      store<u8>(into + n++, 0x5c);
      store<u8>(into + n++, c == 0x0a ? 0x6e : 0x5c);
    } else store<u8>(into + n++, c);
  }
  return n;
}

function popCount(bits: u64): u64 {
  let n: u64 = 0;
  for (let b = bits; b != 0; b &= b - 1) n++;
  return n;
}

const usage = changetype<SpaceUsage>(memory.data(SPACE_USAGE_SIZE, 4));

@inline function kib(pages: u64): u64 {
  return pages * 4;
}

function writeMemory(space: AddressSpace, into: u32, capacity: u32): u32 {
  measureSpace(space, usage);
  const resident = usage.anonymous + usage.file + usage.shared;
  const peak = max(space.peakPages, mappedPages(space));
  let n = formatInto(into, capacity, "VmPeak:\t%8d kB\nVmSize:\t%8d kB\nVmLck:\t%8d kB\nVmPin:\t%8d kB\n",
    kib(peak), kib(usage.mapped), kib(usage.locked), 0);
  n += formatInto(into + n, capacity - n, "VmHWM:\t%8d kB\nVmRSS:\t%8d kB\nRssAnon:\t%8d kB\nRssFile:\t%8d kB\n",
    kib(max(<u64>space.peakResidentPages, resident)), kib(resident), kib(usage.anonymous), kib(usage.file));
  n += formatInto(into + n, capacity - n, "RssShmem:\t%8d kB\nVmData:\t%8d kB\nVmStk:\t%8d kB\nVmExe:\t%8d kB\n",
    kib(usage.shared), kib(usage.data), kib(usage.stack), kib(usage.program));
  n += formatInto(into + n, capacity - n, "VmLib:\t%8d kB\nVmPTE:\t%8d kB\nVmSwap:\t%8d kB\nHugetlbPages:\t%8d kB\n",
    kib(usage.executable - usage.program), kib(usage.tables), kib(<u64>space.swapPages), 0);
  return n + formatInto(into + n, capacity - n, "CoreDumping:\t0\nTHP_enabled:\t0\n");
}

function writeSignals(process: Process, into: u32, capacity: u32): u32 {
  let ignored: u64 = 0;
  let caught: u64 = 0;
  for (let signal: u32 = 1; signal <= MAX_SIGNAL; signal++) {
    const handler = actionOf(process, signal).handler;
    if (handler == SIG_IGN) ignored |= bitOf(signal);
    else if (handler != SIG_DFL) caught |= bitOf(signal);
  }
  // SigQ counts the signals pending for the process's user, that is, here, for every process.
  let queued: u64 = 0;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const other = changetype<Process>(at);
    queued += popCount(other.pendingSignals) + (isGroupLeader(other) ? popCount(other.sharedPendingSignals) : 0);
  }
  const leader = leaderOf(process);
  let n = formatInto(into, capacity, "Threads:\t%d\nSigQ:\t%d/%d\nSigPnd:\t%016x\nShdPnd:\t%016x\n",
    leader.threadCount, queued, NO_LIMIT, process.pendingSignals, leader.sharedPendingSignals);
  return n + formatInto(into + n, capacity - n, "SigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n",
    process.blockedSignals, ignored, caught);
}

/** Writes the status of `process` at `into` (at most `capacity` bytes); returns the length. */
export function processStatus(process: Process, into: u32, capacity: u32): u32 {
  let n = formatInto(into, capacity, "Name:\t");
  n += writeName(process, into + n);
  const umask = process.umask;
  n += formatInto(into + n, capacity - n, "\nUmask:\t0%d%d%d\nState:\t%s\n", (umask >> 6) & 7, (umask >> 3) & 7, umask & 7,
    str(stateName(process.state)));
  n += formatInto(into + n, capacity - n, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
    process.tgid, process.pid, leaderOf(process).parentPid);
  n += formatInto(into + n, capacity - n, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\nGroups:\t \n",
    process.files.capacity);
  n += formatInto(into + n, capacity - n, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n",
    process.tgid, process.pid, process.pgid, process.sid);
  if (process.space != 0) n += writeMemory(spaceOf(process), into + n, capacity - n);
  n += writeSignals(process, into + n, capacity - n);
  n += formatInto(into + n, capacity - n, "CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n",
    0, ALL_CAPABILITIES, ALL_CAPABILITIES, ALL_CAPABILITIES, 0);
  n += formatInto(into + n, capacity - n, "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\nCpus_allowed:\t1\nCpus_allowed_list:\t0\n");
  n += formatInto(into + n, capacity - n, "voluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n",
    process.voluntarySwitches, process.involuntarySwitches);
  return min(n, capacity);
}
