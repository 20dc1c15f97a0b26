// The text of /proc/PID/stat (Linux's format; pid, comm, state, ppid,
// pgrp, session, the minor faults, the CPU times, starttime, vsize and rss
// are real), /proc/PID/faults (this
// kernel's own counts), and /proc/PID/cmdline and environ, which are read
// from the process's own memory where exec put the strings, as Linux
// reads them: a program that rewrote its arguments shows what it wrote.
import { formatInto, str } from "../lib/format";
import { AddressSpace, mappedPages } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { readSpace } from "../mm/user_copy";
import { NAME_OFFSET, Process, ProcessState, leaderOf, processNameLength, spaceOf } from "../proc/process";
import { clockTicks, systemTime, userTime } from "../proc/cpu_time";

/** The state letter of /proc/PID/stat and /proc/processes, as Linux's task_state_array has them. */
export function stateLetter(state: u32): string {
  switch (state) {
    case ProcessState.Stopped: return "T";
    case ProcessState.Runnable:
    case ProcessState.Running: return "R";
    case ProcessState.Sleeping: return "S";
    case ProcessState.DiskSleep: return "D";
    case ProcessState.Zombie: return "Z";
    default: return "X";
  }
}

export function processStat(process: Process, into: u32, capacity: u32): u32 {
  let n = formatInto(into, capacity, "%d (", process.pid);
  memory.copy(into + n, changetype<u32>(process) + NAME_OFFSET, processNameLength(process));
  n += processNameLength(process);
  n += formatInto(into + n, capacity - n, ") %s %d %d %d 0 -1 0 ", str(stateLetter(process.state)),
    process.parentPid, process.pgid, process.sid);
  const space = process.space != 0 ? spaceOf(process) : null;
  n += formatInto(into + n, capacity - n, "%d %d 0 0 ", process.minorFaults, process.childMinorFaults);
  n += formatInto(into + n, capacity - n, "%d %d %d %d 20 0 %d 0 ", clockTicks(userTime(process)),
    clockTicks(systemTime(process)), clockTicks(process.childUserTime), clockTicks(process.childSystemTime),
    leaderOf(process).threadCount);
  n += formatInto(into + n, capacity - n, "%d %d %d\n", clockTicks(process.startTime),
    space != null ? mappedPages(space) * PAGE_SIZE : 0, space != null ? space.residentPages : 0);
  return min(n, capacity);
}

export function processFaults(process: Process, into: u32, capacity: u32): u32 {
  if (process.space == 0) return 0;
  const space = spaceOf(process);
  const n = formatInto(into, capacity, "zero_page_maps %d\ndemand_zero %d\nfile %d\nresident_pages %d\n",
    space.zeroPageMaps, space.demandZeroFaults, space.fileFaults, space.residentPages);
  return min(capacity, n + formatInto(into + n, capacity - n, "cow_copies %d\ncow_reuses %d\nshared_at_fork %d\nsystem_calls %d\n",
    space.cowCopies, space.cowReuses, space.sharedAtFork, process.systemCalls));
}

/** How many bytes cmdline (or environ) of `space` may hold: what `writeArguments` needs room for. */
export function argumentsCapacity(space: AddressSpace, environment: bool): u32 {
  if (environment) return <u32>(space.envEnd - space.envStart);
  return max(<u32>(space.argEnd - space.argStart), PAGE_SIZE);
}

/**
 * cmdline (Linux's get_mm_cmdline) or environ of `space`: the strings'
 * bytes, NULs included, up to the first page that cannot be had. When the
 * byte before the end of the arguments is no longer a NUL, the program has
 * retitled itself (setproctitle) and, as Linux does, cmdline is what is
 * at the start of the arguments up to its first NUL, within a page.
 */
export function writeArguments(space: AddressSpace, environment: bool, into: u32): u32 {
  if (environment) return <u32>readSpace(space, into, space.envStart, space.envEnd - space.envStart);
  const length = space.argEnd - space.argStart;
  if (length == 0) return 0;
  const retitled = readSpace(space, into, space.argEnd - 1, 1) == 1 && load<u8>(into) != 0;
  if (!retitled) return <u32>readSpace(space, into, space.argStart, length);
  const got = <u32>readSpace(space, into, space.argStart, PAGE_SIZE);
  let n: u32 = 0;
  while (n < got && load<u8>(into + n) != 0) n++;
  return n < got ? n + 1 : n;
}
