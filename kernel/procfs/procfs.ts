// /proc, a file system whose files' text is made when they are opened, so
// that programs (tests, benchmarks, LTP, ps) can read the kernel's state:
//   /proc/meminfo       memory totals, Linux's field names where they fit
//   /proc/PID/stat      Linux's format (process_files.ts)
//   /proc/PID/status    Linux's format: ids, memory by kind, signal masks (status.ts)
//   /proc/PID/cmdline, environ   the strings, read from the process's memory (process_files.ts)
//   /proc/PID/exe, cwd, root     links to the program, the working directory, the root (links.ts)
//   /proc/PID/fd/N      a link per open descriptor (fd.ts)
//   /proc/PID/task/TID  a directory per thread, with the same files, of that thread
//   /proc/PID/faults    the process's page-fault, copy-on-write and system-call counts
//   /proc/PID/maps      its regions, in Linux's format (maps.ts)
//   /proc/PID/smaps_rollup   its resident pages, shared and private, clean and dirty, and Pss (smaps_rollup.ts)
//   /proc/PID/pagemap   a u64 per virtual page: present, the frame, exclusive, file (entries.ts)
//   /proc/kpageflags, /proc/kpagecount   a u64 per frame: Linux's flag bits, the map count (entries.ts)
//   /proc/framestates   a byte per frame: its state, and whether it is shared (entries.ts; ours, for pictures)
//   /proc/PID/mounts, /proc/mounts   the mount table, in Linux's format
//   /proc/self          a symbolic link to the caller's PID directory
//   /proc/processes     one line per process: pid, parent, state, resident KiB, name
//   /proc/memcheck      drops unmapped cache pages, audits every frame's
//                       counts (problems are printed on the console), and
//                       reports the free-frame count: the leak check
//   /proc/filesystems   the file system types mount(2) takes
//   /proc/vmstat        page-cache, writeback and reclaim counts, Linux's names (system_files.ts)
//   /proc/partitions, /proc/diskstats   every disk and partition, and the sectors each has moved (disks.ts)
//   /proc/interrupts    each interrupt line's count, controller and driver (interrupts.ts)
//   /proc/swaps         the swap areas in use, in Linux's format (swaps.ts)
//   /proc/cpuinfo, /proc/stat, /proc/loadavg, /proc/sys/kernel/{pid_max,tainted,ostype,osrelease}
//   /proc/sys/kernel/core_pattern   "core", the one pattern core files follow (core_file.ts)
// The inodes are nodes.ts's; the system-wide texts system_files.ts's.
import { kfree, kmalloc } from "../mm/slab";
import { formatInto, str } from "../lib/format";
import { Process, ProcessState, findProcess, isGroupLeader, processListHead, spaceOf } from "../proc/process";
import { currentProcess } from "../proc/scheduler";
import { FileKind, O_ACCMODE, newFile } from "../fs/file";
import { equalsAscii, storeAscii } from "../lib/ascii";
import { formatMaps } from "./maps";
import { EmitEntry, Inode, S_IFDIR, emitDots, newInode, releaseInode } from "../fs/inode";
import { deviceNumber } from "../fs/cpio";
import { mountAtBoot } from "../fs/mount";
import { jumpDescriptorLink, lookupDescriptor, openDescriptorPipe, readDescriptorLink, readDescriptors } from "./fd";
import { jumpProcessLink, readProcessLink } from "./links";
import {
  Node, evictNode, inodeNumber, makeNode, nodeName, parseDecimal, procOps, setProcDevice, typeOf,
} from "./nodes";
import { argumentsCapacity, processFaults, processStat, writeArguments } from "./process_files";
import { processStatus } from "./status";
import { formatSmapsRollup } from "./smaps_rollup";
import { isEntriesNode } from "./entries";
import { diskstats, partitions } from "./disks";
import { interrupts } from "./interrupts";
import { swaps, swapsCapacity } from "./swaps";
import {
  KERNEL_RELEASE, TEXT_CAPACITY, cpuinfo, loadAverage, meminfo, memcheck, mounts, processes, systemStat, uptime, vmstat,
} from "./system_files";

// ---- the file system ---------------------------------------------------------

const ENOENT: i64 = 2;
const ENOMEM: i64 = 12;
const EACCES: i64 = 13;

// The fixed entries of each directory, in readdir's order (the root's PID
// directories follow them, and fd/ has only its descriptors).
const ROOT_ENTRIES = memory.data<u8>([
  <u8>Node.Meminfo, <u8>Node.Memcheck, <u8>Node.Processes, <u8>Node.Mounts, <u8>Node.Cpuinfo, <u8>Node.Sys, <u8>Node.Self,
  <u8>Node.Uptime, <u8>Node.SystemStat, <u8>Node.Loadavg, <u8>Node.Partitions, <u8>Node.Diskstats, <u8>Node.Vmstat,
  <u8>Node.Filesystems, <u8>Node.Interrupts, <u8>Node.KpageFlags, <u8>Node.KpageCount, <u8>Node.FrameStates, <u8>Node.Swaps,
]);
const SYS_ENTRIES = memory.data<u8>([<u8>Node.SysKernel]);
const SYS_KERNEL_ENTRIES = memory.data<u8>([
  <u8>Node.PidMax, <u8>Node.Tainted, <u8>Node.OsType, <u8>Node.OsRelease, <u8>Node.CorePattern,
]);
const PROCESS_ENTRIES = memory.data<u8>([
  <u8>Node.Cmdline, <u8>Node.Cwd, <u8>Node.Environ, <u8>Node.Exe, <u8>Node.FdDirectory, <u8>Node.Faults, <u8>Node.Maps,
  <u8>Node.Mounts, <u8>Node.Pagemap, <u8>Node.RootLink, <u8>Node.SmapsRollup, <u8>Node.Stat, <u8>Node.Status, <u8>Node.TaskDirectory,
]);

function entriesOf(dir: u32): u32 {
  return dir == Node.Root ? <u32>ROOT_ENTRIES : dir == Node.Sys ? <u32>SYS_ENTRIES
    : dir == Node.SysKernel ? <u32>SYS_KERNEL_ENTRIES : <u32>PROCESS_ENTRIES;
}

function entryCount(dir: u32): u32 {
  switch (dir) {
    case Node.Root: return 19;
    case Node.Sys: return 1;
    case Node.SysKernel: return 5;
    case Node.ProcessDirectory: return 14;
    default: return 0;
  }
}

function lookup(dir: Inode, name: u32, length: u32): i64 {
  if (dir.kind == Node.FdDirectory) return lookupDescriptor(dir, name, length);
  const entries = entriesOf(dir.kind);
  for (let i: u32 = 0; i < entryCount(dir.kind); i++) {
    const node = <u32>load<u8>(entries + i);
    if (equalsAscii(name, length, nodeName(node))) return makeNode(node, dir.data, dir);
  }
  if (dir.kind != Node.Root && dir.kind != Node.TaskDirectory) return 0;
  // As Linux: a thread's directory is also found, though not listed, at /proc/TID.
  const pid = parseDecimal(name, length);
  const found = pid > 0 ? findProcess(<u32>pid) : null;
  if (found == null || (dir.kind == Node.TaskDirectory && found.tgid != groupOf(dir))) return 0;
  return makeNode(Node.ProcessDirectory, <u32>pid, dir);
}

/** The thread group a task/ directory lists (0 if its process is gone). */
function groupOf(dir: Inode): u32 {
  const owner = findProcess(dir.data);
  return owner != null ? owner.tgid : 0;
}

function emitName(emit: EmitEntry, context: u32, node: u32, ino: u64, next: u64): bool {
  const scratch = memory.data(16);
  return emit(context, ino, typeOf(node), <u32>scratch, storeAscii(scratch, nodeName(node)), next);
}

/**
 * Positions: 0 ".", 1 "..", then the fixed names, then (in the root) one
 * per process, or (in task/) one per thread, the cursor being 100 + its
 * id, or (in fd/) one per descriptor (fd.ts).
 */
function readdir(dir: Inode, cursor: u64, emit: EmitEntry, context: u32): i64 {
  let next = emitDots(dir, cursor, emit, context);
  if (next < 2) return <i64>next;
  if (dir.kind == Node.FdDirectory) return readDescriptors(dir, next, emit, context);
  const entries = entriesOf(dir.kind);
  for (let i: u32 = 0; i < entryCount(dir.kind); i++) {
    const position = <u64>(2 + i);
    if (next > position) continue;
    const node = <u32>load<u8>(entries + i);
    if (!emitName(emit, context, node, inodeNumber(node, dir.data), position + 1)) return <i64>next;
    next = position + 1;
  }
  if (dir.kind != Node.Root && dir.kind != Node.TaskDirectory) return <i64>next;
  const group = dir.kind == Node.TaskDirectory ? groupOf(dir) : 0;
  if (next < 100) next = 100;
  // Processes (or a process's threads) in pid order, from the cursor on:
  // the list is newest first, so pick the smallest above each time.
  while (true) {
    let best: u32 = 0;
    for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
      const p = changetype<Process>(at);
      if (p.state == ProcessState.Dead) continue;
      if (group == 0 ? !isGroupLeader(p) : p.tgid != group) continue; // a thread is under its process's task/
      const pid = p.pid;
      if (<u64>pid + 100 >= next && (best == 0 || pid < best)) best = pid;
    }
    if (best == 0) return <i64>next;
    const digits = memory.data(12);
    const length = formatInto(<u32>digits, 12, "%d", best);
    if (!emit(context, inodeNumber(Node.ProcessDirectory, best), S_IFDIR, <u32>digits, length, <u64>best + 101)) return <i64>next;
    next = <u64>best + 101;
  }
  return <i64>next; // not reached
}

function readlink(inode: Inode, into: u32): i64 {
  if (inode.kind == Node.Self) return formatInto(into, 12, "%d", currentProcess().tgid);
  if (inode.kind == Node.FdLink) return readDescriptorLink(inode, into);
  return readProcessLink(inode, into);
}

/** /proc/self is followed by its text; the others lead straight to what they name. */
function jumpLink(inode: Inode): i64 {
  if (inode.kind == Node.Self) return 0;
  if (inode.kind == Node.FdLink) return jumpDescriptorLink(inode);
  return jumpProcessLink(inode);
}

const PROC_SUPER_MAGIC: u64 = 0x9fa0;

/** statfs: procfs's magic, and no blocks or inodes to count. */
function statfs(inode: Inode, into: u32): void {
  store<u64>(into, PROC_SUPER_MAGIC); // f_type
}

/** Mounts nothing itself: makes the root (one holder, for the mount). */
export function newProcfs(device: u32): Inode | null {
  if (procOps.lookup == 0) {
    procOps.lookup = changetype<u32>(lookup);
    procOps.readdir = changetype<u32>(readdir);
    procOps.readlink = changetype<u32>(readlink);
    procOps.jumpLink = changetype<u32>(jumpLink);
    procOps.evict = changetype<u32>(evictNode);
    procOps.open = changetype<u32>(openProcFile);
    procOps.statfs = changetype<u32>(statfs);
  }
  setProcDevice(device);
  const root = newInode(procOps, S_IFDIR | 0o555, device);
  if (root == null) return null;
  root.kind = Node.Root;
  root.nlink = 2;
  root.ino = 1;
  return root;
}

/** Mounts procfs over the root's /proc, which the boot tree made; false if it could not. */
export function mountProcAtBoot(): bool {
  const device = deviceNumber(0, 3);
  return mountAtBoot("proc", newProcfs(device), "proc", device);
}

/** Whether `node` is a text about one process (and needs it to be there). */
function isProcessText(node: u32): bool {
  return node == Node.Stat || node == Node.Faults || node == Node.Maps || node == Node.Status || node == Node.Cmdline ||
    node == Node.Environ || node == Node.SmapsRollup;
}

/** Writes the text of `node` at `into` (`capacity` bytes); `process` is its process for the per-process ones. */
function writeText(node: u32, process: Process | null, into: u32, capacity: u32): u32 {
  switch (node) {
    case Node.Meminfo: return meminfo(into);
    case Node.Memcheck: return memcheck(into);
    case Node.Processes: return processes(into);
    case Node.Mounts: return mounts(into);
    case Node.Cpuinfo: return cpuinfo(into);
    case Node.Uptime: return uptime(into);
    case Node.SystemStat: return systemStat(into);
    case Node.Loadavg: return loadAverage(into);
    case Node.Partitions: return partitions(into, capacity);
    case Node.Diskstats: return diskstats(into, capacity);
    case Node.Interrupts: return interrupts(into, capacity);
    case Node.Vmstat: return vmstat(into);
    case Node.Swaps: return swaps(into, capacity);
    // The types mount(2) takes, in Linux's format ("nodev": needs no device).
    case Node.Filesystems: return formatInto(into, capacity, "nodev\ttmpfs\nnodev\tproc\nnodev\tsysfs\n\text2\n");
    case Node.PidMax: return formatInto(into, capacity, "4194304\n");
    case Node.Tainted: return formatInto(into, capacity, "0\n");
    case Node.OsType: return formatInto(into, capacity, "Linux\n");
    case Node.OsRelease: return formatInto(into, capacity, "%s\n", str(KERNEL_RELEASE));
    case Node.CorePattern: return formatInto(into, capacity, "core\n");
    default: break;
  }
  const p = changetype<Process>(process);
  if (node == Node.Stat) return processStat(p, into, capacity);
  if (node == Node.Status) return processStatus(p, into, capacity);
  if (node == Node.Faults) return processFaults(p, into, capacity);
  if (p.space == 0) return 0; // a zombie has no memory to show
  if (node == Node.Maps) return formatMaps(spaceOf(p), into, capacity);
  if (node == Node.SmapsRollup) return formatSmapsRollup(spaceOf(p), into, capacity);
  return writeArguments(spaceOf(p), node == Node.Environ, into);
}

/** An entries file holds nothing of its own: each read makes what it returns. */
function openEntries(inode: Inode, flags: u32): i64 {
  if (inode.kind == Node.Pagemap && findProcess(inode.data) == null) return -ENOENT;
  const file = newFile(FileKind.Entries, inode, flags);
  return file == null ? -ENOMEM : <i64>changetype<u32>(file);
}

/**
 * Opens procfs file `inode`: a File holding its text (read-only: EACCES
 * for writing), or a new end of the pipe an FdPipe stands for. Returns the
 * File's address, which takes over the caller's hold on `inode`, or -errno
 * (ENOENT: its process is gone; ENOMEM), the hold then still the caller's.
 */
export function openProcFile(inode: Inode, flags: u32): i64 {
  const node = inode.kind;
  if (node == Node.FdPipe) {
    const end = openDescriptorPipe(inode, flags);
    if (end > 0) releaseInode(inode); // a pipe end has no inode
    return end;
  }
  if ((flags & O_ACCMODE) != 0) return -EACCES;
  if (isEntriesNode(node)) return openEntries(inode, flags);
  let process: Process | null = null;
  let capacity = TEXT_CAPACITY;
  if (isProcessText(node)) {
    process = findProcess(inode.data);
    if (process == null) return -ENOENT;
    if ((node == Node.Cmdline || node == Node.Environ) && process.space != 0) {
      capacity = argumentsCapacity(spaceOf(process), node == Node.Environ);
    }
  }
  if (node == Node.Swaps) capacity = swapsCapacity();
  const text = kmalloc(max(capacity, 1));
  if (text == 0) return -ENOMEM;
  const size = writeText(node, process, text, capacity);
  const file = newFile(FileKind.Generated, inode, flags);
  if (file == null) {
    kfree(text);
    return -ENOMEM;
  }
  file.data = text;
  file.size = min(size, capacity);
  return <i64>changetype<u32>(file);
}
