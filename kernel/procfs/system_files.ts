// The text of the files of /proc about the whole system: meminfo,
// memcheck (the leak check), processes, uptime, stat, loadavg, cpuinfo and mounts.
import { freeFrameCount } from "../mm/buddy";
import { FrameState, frameStateCount } from "../mm/frame";
import { managedFrames } from "../mm/frame_database";
import {
  cowCopiesTotal, cowReusesTotal, demandZeroFaultsTotal, faultAroundMapsTotal, fileFaultsTotal, zeroPageMapsTotal,
} from "../mm/fault";
import { kernelObjectsInUse } from "../mm/slab";
import {
  activePageCount, cachedPageCount, cacheMisses, dirtyPageCount, inactivePageCount, keptPageCount, reclaimCachePages,
} from "../mm/page_cache";
import { pagesDeactivatedTotal, pagesReclaimedTotal, pagesScannedTotal } from "../mm/reclaim";
import { balanceRunsTotal } from "../mm/balance";
import { pagesWrittenTotal, writebackPageCount } from "../mm/writeback";
import { pagesSwappedInTotal, pagesSwappedOutTotal, totalSwapSlots, usedSwapSlots } from "../mm/swap_area";
import { swapCachedPages } from "../mm/swap_cache";
import { auditFrames } from "../debug/frame_audit";
import { formatInto, str } from "../lib/format";
import {
  NAME_OFFSET, Process, isGroupLeader, processListHead, processNameLength, processesCreated, spaceOf,
} from "../proc/process";
import { stateLetter } from "./process_files";
import { MOUNT_NO_ATIME, MOUNT_READ_ONLY, MOUNT_STRICT_ATIME, mountAt } from "../fs/mount";
import { tscFrequency } from "../time/tsc";
import { monotonicNanoseconds, realtimeNanoseconds } from "../time/clock";
import { contextSwitches, idleTime } from "../proc/scheduler";
import { clockTicks, machineSystemTime, machineUserTime } from "../proc/cpu_time";
import { loadHundredths, runnableCount } from "../proc/load_average";
import { pathOfInode } from "../fs/names";

/** Room for any of these texts (the files are read-only snapshots made at open). */
export const TEXT_CAPACITY: u32 = 4096;

@inline function kib(frames: u32): u64 {
  return <u64>frames * 4;
}

export function meminfo(into: u32): u32 {
  const cached = frameStateCount(FrameState.FileCache);
  // Available: free, plus cached pages that could be read again (the kept ones are the only copy; dirty ones must be written first).
  const available = freeFrameCount() + cached - min(cached, keptPageCount() + dirtyPageCount());
  let n = formatInto(into, TEXT_CAPACITY, "MemTotal:       %8d kB\nMemFree:        %8d kB\nMemAvailable:   %8d kB\n",
    kib(managedFrames), kib(freeFrameCount()), kib(available));
  n += formatInto(into + n, TEXT_CAPACITY - n, "Cached:         %8d kB\nSwapCached:     %8d kB\n", kib(cached), kib(swapCachedPages()));
  n += formatInto(into + n, TEXT_CAPACITY - n, "Shmem:          %8d kB\nAnonPages:      %8d kB\n",
    kib(keptPageCount()), kib(frameStateCount(FrameState.Anonymous)));
  n += formatInto(into + n, TEXT_CAPACITY - n, "Active(file):   %8d kB\nInactive(file): %8d kB\n",
    kib(activePageCount()), kib(inactivePageCount()));
  // Where Linux has them: after the LRU lists, before Dirty.
  const swapTotal = totalSwapSlots();
  n += formatInto(into + n, TEXT_CAPACITY - n, "SwapTotal:      %8d kB\nSwapFree:       %8d kB\n",
    swapTotal * 4, (swapTotal - usedSwapSlots()) * 4);
  n += formatInto(into + n, TEXT_CAPACITY - n, "Dirty:          %8d kB\nWriteback:      %8d kB\n",
    kib(dirtyPageCount()), kib(writebackPageCount()));
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

/**
 * /proc/vmstat, Linux's names for what this kernel counts: pages read into
 * the cache (pgpgin counts KiB, as Linux's) and written back, scanned and
 * reclaimed by the clock, moved from active to inactive, balancer runs.
 */
export function vmstat(into: u32): u32 {
  let n = formatInto(into, TEXT_CAPACITY, "nr_free_pages %d\nnr_file_pages %d\nnr_active_file %d\nnr_inactive_file %d\n",
    freeFrameCount(), cachedPageCount(), activePageCount(), inactivePageCount());
  n += formatInto(into + n, TEXT_CAPACITY - n, "nr_dirty %d\nnr_writeback %d\npgpgin %d\npgpgout %d\n",
    dirtyPageCount(), writebackPageCount(), cacheMisses * 4, pagesWrittenTotal * 4);
  n += formatInto(into + n, TEXT_CAPACITY - n, "pswpin %d\npswpout %d\n", pagesSwappedInTotal, pagesSwappedOutTotal);
  n += formatInto(into + n, TEXT_CAPACITY - n, "pgscan %d\npgsteal %d\npgdeactivate %d\npageoutrun %d\n",
    pagesScannedTotal, pagesReclaimedTotal, pagesDeactivatedTotal, balanceRunsTotal);
  return n;
}

export function memcheck(into: u32): u32 {
  reclaimCachePages();
  const problems = auditFrames();
  return formatInto(into, TEXT_CAPACITY, "problems %d\nfree_frames %d\ncached_pages %d\nkernel_objects %d\n",
    problems, freeFrameCount(), cachedPageCount(), kernelObjectsInUse());
}

/** One line per process: PID PPID STATE RSS_KIB NAME. */
export function processes(into: u32): u32 {
  let n = formatInto(into, TEXT_CAPACITY, "  PID  PPID S   RSS_KIB NAME\n");
  for (let at = processListHead(); at != 0 && n + 64 < TEXT_CAPACITY; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (!isGroupLeader(p)) continue;
    const rss = p.space != 0 ? <u64>spaceOf(p).residentPages * 4 : 0;
    n += formatInto(into + n, TEXT_CAPACITY - n, "%5d %5d %s %9d ", p.pid, p.parentPid, str(stateLetter(p.state)), rss);
    memory.copy(into + n, changetype<u32>(p) + NAME_OFFSET, processNameLength(p));
    n += processNameLength(p);
    store<u8>(into + n++, 0x0a);
  }
  return n;
}

/** The Linux version whose system-call interface this kernel follows (uname's release too). */
export const KERNEL_RELEASE = "6.1.0-tskernel";

/** Seconds since boot and seconds idle, to the hundredth, as Linux's /proc/uptime (one CPU). */
export function uptime(into: u32): u32 {
  const up = monotonicNanoseconds() / 10000000;
  const idle = idleTime() / 10000000;
  return formatInto(into, TEXT_CAPACITY, "%d.%02d %d.%02d\n", up / 100, up % 100, idle / 100, idle % 100);
}

/**
 * /proc/stat: the CPU's time by kind in clock ticks (user, nice, system,
 * idle, iowait, irq, softirq, steal, guest, guest_nice: here user, system
 * and idle; the scheduler's own moments between processes are in none),
 * for "cpu" and its one CPU, then the context switches, the boot time,
 * the processes made since boot, and those runnable.
 */
export function systemStat(into: u32): u32 {
  const user = clockTicks(machineUserTime());
  const system = clockTicks(machineSystemTime());
  const idle = clockTicks(idleTime());
  const running = runnableCount();
  let n = formatInto(into, TEXT_CAPACITY, "cpu  %d 0 %d %d 0 0 0 0 0 0\n", user, system, idle);
  n += formatInto(into + n, TEXT_CAPACITY - n, "cpu0 %d 0 %d %d 0 0 0 0 0 0\n", user, system, idle);
  n += formatInto(into + n, TEXT_CAPACITY - n, "ctxt %d\nbtime %d\n", contextSwitches(), (realtimeNanoseconds() - monotonicNanoseconds()) / 1000000000);
  n += formatInto(into + n, TEXT_CAPACITY - n, "processes %d\nprocs_running %d\nprocs_blocked 0\n", processesCreated(), running);
  return n;
}

/** /proc/loadavg: the 1, 5 and 15 minute averages, runnable/all processes, the last pid given. */
export function loadAverage(into: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < 3; i++) {
    const load = loadHundredths(i);
    n += formatInto(into + n, TEXT_CAPACITY - n, "%d.%02d ", load / 100, load % 100);
  }
  let all: u32 = 0;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) all++;
  return n + formatInto(into + n, TEXT_CAPACITY - n, "%d/%d %d\n", runnableCount(), all, processesCreated());
}

/** One processor, as Linux lists it (the fields programs look for). */
export function cpuinfo(into: u32): u32 {
  return formatInto(into, TEXT_CAPACITY,
    "processor\t: 0\nvendor_id\t: unknown\nmodel name\t: x86-64 (QEMU or a PC)\ncpu MHz\t\t: %d\ncpu cores\t: 1\nflags\t\t: fpu sse sse2 syscall nx lm\n\n",
    tscFrequency() / 1000000);
}

export function mounts(into: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; ; i++) {
    const mount = mountAt(i);
    if (mount == null || n + 128 > TEXT_CAPACITY) break;
    n += formatInto(into + n, TEXT_CAPACITY - n, "%s ", str(changetype<string>(mount.source)));
    n += pathOfInode(mount.root, into + n, TEXT_CAPACITY - n);
    const atime = (mount.flags & MOUNT_NO_ATIME) != 0 ? ",noatime" : (mount.flags & MOUNT_STRICT_ATIME) != 0 ? "" : ",relatime";
    n += formatInto(into + n, TEXT_CAPACITY - n, " %s %s%s 0 0\n", str(changetype<string>(mount.type)),
      str((mount.flags & MOUNT_READ_ONLY) != 0 ? "ro" : "rw"), str(atime));
  }
  return n;
}
