// /proc: a few files whose text is made when they are opened, so that
// programs (tests, benchmarks) can read the kernel's counters:
//   /proc/meminfo      memory totals, Linux's field names where they fit
//   /proc/self/stat    Linux's format; pid, comm, state, ppid, minflt are real
//   /proc/self/faults  this process's page-fault, copy-on-write and system-call counts
//   /proc/self/maps    its regions, in Linux's format (proc_maps.ts)
//   /proc/processes    one line per process: pid, parent, state, resident KiB, name
//   /proc/memcheck     drops unmapped cache pages, audits every frame's
//                      counts (problems are printed on the console), and
//                      reports the free-frame count: the leak check
import { freeFrameCount } from "../mm/buddy";
import { FrameState, frameStateCount } from "../mm/frame";
import { managedFrames } from "../mm/frame_database";
import {
  cowCopiesTotal, cowReusesTotal, demandZeroFaultsTotal, faultAroundMapsTotal, fileFaultsTotal, zeroPageMapsTotal,
} from "../mm/fault";
import { kernelObjectsInUse, kfree, kmalloc } from "../mm/slab";
import { cachedPageCount, reclaimCachePages } from "../mm/page_cache";
import { auditFrames } from "../debug/frame_audit";
import { formatInto, str } from "../lib/format";
import { NAME_OFFSET, Process, ProcessState, processListHead, spaceOf } from "../proc/process";
import { File, FileKind, newFile } from "./file";
import { equalsAscii } from "../lib/ascii";
import { formatMaps } from "./proc_maps";

const TEXT_CAPACITY: u32 = 2048;

@inline function kib(frames: u32): u64 {
  return <u64>frames * 4;
}

function meminfo(into: u32): u32 {
  let n = formatInto(into, TEXT_CAPACITY, "MemTotal:       %8d kB\nMemFree:        %8d kB\nAnonPages:      %8d kB\n",
    kib(managedFrames), kib(freeFrameCount()), kib(frameStateCount(FrameState.Anonymous)));
  n += formatInto(into + n, TEXT_CAPACITY - n, "FilePages:      %8d kB\nPageTables:     %8d kB\nKernelObjects:  %8d kB\n",
    kib(frameStateCount(FrameState.FileCache)), kib(frameStateCount(FrameState.PageTable)),
    kib(frameStateCount(FrameState.KernelObject)));
  n += formatInto(into + n, TEXT_CAPACITY - n, "ZeroPageMaps:   %8d\nDemandZeroFaults: %6d\nFileFaults:     %8d\n",
    zeroPageMapsTotal, demandZeroFaultsTotal, fileFaultsTotal);
  n += formatInto(into + n, TEXT_CAPACITY - n, "CowCopies:      %8d\nCowReuses:      %8d\nCachedPages:    %8d\n",
    cowCopiesTotal, cowReusesTotal, cachedPageCount());
  n += formatInto(into + n, TEXT_CAPACITY - n, "FaultAroundMaps: %7d\n", faultAroundMapsTotal);
  return n;
}

function processStat(process: Process, into: u32): u32 {
  const name = changetype<u32>(process) + NAME_OFFSET;
  let n = formatInto(into, TEXT_CAPACITY, "%d (", process.pid);
  for (let i: u32 = 0; i < 16 && load<u8>(name + i) != 0; i++) store<u8>(into + n++, load<u8>(name + i));
  n += formatInto(into + n, TEXT_CAPACITY - n, ") R %d %d %d 0 -1 0 %d 0 0 0 ", process.parentPid, process.pid, process.pid,
    process.minorFaults);
  n += formatInto(into + n, TEXT_CAPACITY - n, "0 0 0 0 20 0 1 0 0 %d %d\n",
    process.space != 0 ? <u64>spaceOf(process).residentPages * 4096 : 0,
    process.space != 0 ? spaceOf(process).residentPages : 0);
  return n;
}

function processFaults(process: Process, into: u32): u32 {
  const space = spaceOf(process);
  const n = formatInto(into, TEXT_CAPACITY, "zero_page_maps %d\ndemand_zero %d\nfile %d\nresident_pages %d\n",
    space.zeroPageMaps, space.demandZeroFaults, space.fileFaults, space.residentPages);
  return n + formatInto(into + n, TEXT_CAPACITY - n, "cow_copies %d\ncow_reuses %d\nshared_at_fork %d\nsystem_calls %d\n",
    space.cowCopies, space.cowReuses, space.sharedAtFork, process.systemCalls);
}

function memcheck(into: u32): u32 {
  reclaimCachePages();
  const problems = auditFrames();
  return formatInto(into, TEXT_CAPACITY, "problems %d\nfree_frames %d\ncached_pages %d\nkernel_objects %d\n",
    problems, freeFrameCount(), cachedPageCount(), kernelObjectsInUse());
}

function stateLetter(state: u32): string {
  switch (state) {
    case ProcessState.Runnable: return "R";
    case ProcessState.Running: return "R";
    case ProcessState.Sleeping: return "S";
    case ProcessState.Zombie: return "Z";
    default: return "X";
  }
}

/** One line per process: PID PPID STATE RSS_KIB NAME. */
function processes(into: u32): u32 {
  let n = formatInto(into, TEXT_CAPACITY, "  PID  PPID S   RSS_KIB NAME\n");
  for (let at = processListHead(); at != 0 && n + 64 < TEXT_CAPACITY; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    const rss = p.space != 0 ? <u64>spaceOf(p).residentPages * 4 : 0;
    n += formatInto(into + n, TEXT_CAPACITY - n, "%5d %5d %s %9d ", p.pid, p.parentPid, str(stateLetter(p.state)), rss);
    const name = changetype<u32>(p) + NAME_OFFSET;
    for (let i: u32 = 0; i < 16 && load<u8>(name + i) != 0; i++) store<u8>(into + n++, load<u8>(name + i));
    store<u8>(into + n++, 0x0a);
  }
  return n;
}

/** Whether `path` names a /proc file (then openProcFile makes it). */
export function isProcPath(path: u32, length: u32): bool {
  return equalsAscii(path, length, "/proc/meminfo") || equalsAscii(path, length, "/proc/self/stat") ||
    equalsAscii(path, length, "/proc/self/faults") || equalsAscii(path, length, "/proc/memcheck") ||
    equalsAscii(path, length, "/proc/processes") || equalsAscii(path, length, "/proc/self/maps");
}

/** A File holding the text of /proc file `path`, for `process`; null when out of memory. */
export function openProcFile(process: Process, path: u32, length: u32, flags: u32): File | null {
  const text = kmalloc(TEXT_CAPACITY);
  if (text == 0) return null;
  let size: u32;
  if (equalsAscii(path, length, "/proc/meminfo")) size = meminfo(text);
  else if (equalsAscii(path, length, "/proc/self/stat")) size = processStat(process, text);
  else if (equalsAscii(path, length, "/proc/memcheck")) size = memcheck(text);
  else if (equalsAscii(path, length, "/proc/processes")) size = processes(text);
  else if (equalsAscii(path, length, "/proc/self/maps")) size = formatMaps(spaceOf(process), text, TEXT_CAPACITY);
  else size = processFaults(process, text);
  const file = newFile(FileKind.Generated, -1, flags);
  if (file == null) {
    kfree(text);
    return null;
  }
  file.data = text;
  file.size = min(size, TEXT_CAPACITY);
  return file;
}
