// /proc, a file system whose files' text is made when they are opened, so
// that programs (tests, benchmarks, LTP) can read the kernel's counters:
//   /proc/meminfo      memory totals, Linux's field names where they fit
//   /proc/PID/stat     Linux's format; pid, comm, state, ppid, minflt are real
//   /proc/PID/faults   the process's page-fault, copy-on-write and system-call counts
//   /proc/PID/maps     its regions, in Linux's format (proc_maps.ts)
//   /proc/self         a symbolic link to the caller's PID directory
//   /proc/mounts       the mount table, in Linux's format
//   /proc/processes    one line per process: pid, parent, state, resident KiB, name
//   /proc/memcheck     drops unmapped cache pages, audits every frame's
//                      counts (problems are printed on the console), and
//                      reports the free-frame count: the leak check
// Its inodes are made on lookup and freed when let go (they have no names
// to keep them); their numbers are fixed by what they show.
import { freeFrameCount } from "../mm/buddy";
import { FrameState, frameStateCount } from "../mm/frame";
import { managedFrames } from "../mm/frame_database";
import {
  cowCopiesTotal, cowReusesTotal, demandZeroFaultsTotal, faultAroundMapsTotal, fileFaultsTotal, zeroPageMapsTotal,
} from "../mm/fault";
import { kernelObjectsInUse, kfree, kmalloc } from "../mm/slab";
import { cachedPageCount, dirtyPageCount, reclaimCachePages } from "../mm/page_cache";
import { auditFrames } from "../debug/frame_audit";
import { formatInto, str } from "../lib/format";
import { NAME_OFFSET, Process, ProcessState, findProcess, processListHead, spaceOf } from "../proc/process";
import { currentProcess } from "../proc/scheduler";
import { File, FileKind, newFile } from "../fs/file";
import { equalsAscii, storeAscii } from "../lib/ascii";
import { formatMaps } from "./maps";
import {
  EmitEntry, INODE_OPS_SIZE, Inode, InodeOps, S_IFDIR, S_IFLNK, S_IFREG, lookupIn, newInode, releaseInode, setInodeName,
} from "../fs/inode";
import { deviceNumber } from "../fs/cpio";
import { fileSystemRoot, mountAt, mountOver } from "../fs/mount";
import { tscFrequency } from "../time/tsc";
import { pathOfInode } from "../fs/names";

const TEXT_CAPACITY: u32 = 2048;

@inline function kib(frames: u32): u64 {
  return <u64>frames * 4;
}

function meminfo(into: u32): u32 {
  const cached = frameStateCount(FrameState.FileCache);
  // Available: free, plus cached pages that could be read again (the dirty ones are the only copy).
  const available = freeFrameCount() + cached - min(cached, dirtyPageCount());
  let n = formatInto(into, TEXT_CAPACITY, "MemTotal:       %8d kB\nMemFree:        %8d kB\nMemAvailable:   %8d kB\n",
    kib(managedFrames), kib(freeFrameCount()), kib(available));
  n += formatInto(into + n, TEXT_CAPACITY - n, "Cached:         %8d kB\nShmem:          %8d kB\nAnonPages:      %8d kB\n",
    kib(cached), kib(dirtyPageCount()), kib(frameStateCount(FrameState.Anonymous)));
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
  n += formatInto(into + n, TEXT_CAPACITY - n, ") %s %d %d %d 0 -1 0 %d 0 0 0 ", str(stateLetter(process.state)),
    process.parentPid, process.pgid, process.sid, process.minorFaults);
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

/** The state letter of /proc/PID/stat and /proc/processes, as Linux's task_state_array has them. */
function stateLetter(state: u32): string {
  switch (state) {
    case ProcessState.Stopped: return "T";
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

/** The Linux version whose system-call interface this kernel follows (uname's release too). */
export const KERNEL_RELEASE = "6.1.0-tskernel";

/** One processor, as Linux lists it (the fields programs look for). */
function cpuinfo(into: u32): u32 {
  return formatInto(into, TEXT_CAPACITY,
    "processor\t: 0\nvendor_id\t: unknown\nmodel name\t: x86-64 (QEMU or a PC)\ncpu MHz\t\t: %d\ncpu cores\t: 1\nflags\t\t: fpu sse sse2 syscall nx lm\n\n",
    tscFrequency() / 1000000);
}

function mounts(into: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; ; i++) {
    const mount = mountAt(i);
    if (mount == null || n + 128 > TEXT_CAPACITY) break;
    n += formatInto(into + n, TEXT_CAPACITY - n, "%s ", str(changetype<string>(mount.source)));
    n += pathOfInode(mount.root, into + n, TEXT_CAPACITY - n);
    n += formatInto(into + n, TEXT_CAPACITY - n, " %s rw 0 0\n", str(changetype<string>(mount.type)));
  }
  return n;
}

// ---- the file system ---------------------------------------------------------

/** What a procfs inode is (Inode.kind); its process, for the PID ones, is Inode.data. */
const enum Node {
  Root = 1,
  Self = 2,
  ProcessDirectory = 3,
  Sys = 4,
  SysKernel = 5,
  Meminfo = 10,
  Memcheck = 11,
  Processes = 12,
  Mounts = 13,
  Cpuinfo = 14,
  Stat = 20,
  Faults = 21,
  Maps = 22,
  PidMax = 30,
  Tainted = 31,
  OsType = 32,
  OsRelease = 33,
}

// The fixed entries of each directory, in readdir's order (the root's PID directories follow).
const ROOT_ENTRIES = memory.data<u8>([
  <u8>Node.Meminfo, <u8>Node.Memcheck, <u8>Node.Processes, <u8>Node.Mounts, <u8>Node.Cpuinfo, <u8>Node.Sys, <u8>Node.Self,
]);
const SYS_ENTRIES = memory.data<u8>([<u8>Node.SysKernel]);
const SYS_KERNEL_ENTRIES = memory.data<u8>([<u8>Node.PidMax, <u8>Node.Tainted, <u8>Node.OsType, <u8>Node.OsRelease]);
const PROCESS_ENTRIES = memory.data<u8>([<u8>Node.Stat, <u8>Node.Faults, <u8>Node.Maps, <u8>Node.Mounts]);

function entriesOf(dir: u32): u32 {
  return dir == Node.Root ? <u32>ROOT_ENTRIES : dir == Node.Sys ? <u32>SYS_ENTRIES
    : dir == Node.SysKernel ? <u32>SYS_KERNEL_ENTRIES : <u32>PROCESS_ENTRIES;
}

function entryCount(dir: u32): u32 {
  return dir == Node.Root ? 7 : dir == Node.Sys ? 1 : dir == Node.SysKernel ? 4 : 4;
}

function typeOf(node: u32): u32 {
  if (node == Node.Sys || node == Node.SysKernel || node == Node.ProcessDirectory) return S_IFDIR;
  return node == Node.Self ? S_IFLNK : S_IFREG;
}

const procOps = changetype<InodeOps>(memory.data(INODE_OPS_SIZE, 4));
let procDevice: u32 = 0;

function nodeName(node: Node): string {
  switch (node) {
    case Node.Self: return "self";
    case Node.Meminfo: return "meminfo";
    case Node.Memcheck: return "memcheck";
    case Node.Processes: return "processes";
    case Node.Mounts: return "mounts";
    case Node.Cpuinfo: return "cpuinfo";
    case Node.Sys: return "sys";
    case Node.SysKernel: return "kernel";
    case Node.PidMax: return "pid_max";
    case Node.Tainted: return "tainted";
    case Node.OsType: return "ostype";
    case Node.OsRelease: return "osrelease";
    case Node.Stat: return "stat";
    case Node.Faults: return "faults";
    case Node.Maps: return "maps";
    default: return "";
  }
}

function nodeIs(name: u32, length: u32, node: Node): bool {
  return equalsAscii(name, length, nodeName(node));
}

/** An inode for `node` (of process `pid` for the per-process ones), with a reference for the caller. */
function makeNode(node: Node, pid: u32, parent: Inode): i64 {
  const type = typeOf(node);
  const directory = type == S_IFDIR;
  const mode = directory ? S_IFDIR | 0o555 : type == S_IFLNK ? S_IFLNK | 0o777 : S_IFREG | 0o444;
  const inode = newInode(procOps, mode, procDevice);
  if (inode == null) return -12; // ENOMEM
  inode.kind = node;
  inode.data = pid;
  inode.ino = (<u64>pid << 8) | <u64>node;
  inode.nlink = 0;
  inode.parent = parent;
  if (node == Node.ProcessDirectory) {
    const digits = memory.data(12);
    const length = formatInto(<u32>digits, 12, "%d", pid);
    if (!setInodeName(inode, parent, <u32>digits, length)) return -12;
  } else if (directory) {
    const scratch = memory.data(16);
    if (!setInodeName(inode, parent, <u32>scratch, storeAscii(scratch, nodeName(node)))) return -12;
  }
  return <i64>changetype<u32>(inode);
}

function parsePid(name: u32, length: u32): u32 {
  if (length == 0 || length > 9) return 0;
  let pid: u32 = 0;
  for (let i: u32 = 0; i < length; i++) {
    const c = <u32>load<u8>(name + i);
    if (c < 0x30 || c > 0x39) return 0;
    pid = pid * 10 + c - 0x30;
  }
  return pid;
}

function lookup(dir: Inode, name: u32, length: u32): i64 {
  const entries = entriesOf(dir.kind);
  for (let i: u32 = 0; i < entryCount(dir.kind); i++) {
    const node = <u32>load<u8>(entries + i);
    if (nodeIs(name, length, node)) return makeNode(node, dir.data, dir);
  }
  if (dir.kind != Node.Root) return 0;
  const pid = parsePid(name, length);
  if (pid == 0 || findProcess(pid) == null) return 0;
  return makeNode(Node.ProcessDirectory, pid, dir);
}

function emitName(emit: EmitEntry, node: Node, ino: u64, type: u32, next: u64): bool {
  const scratch = memory.data(16);
  return emit(ino, type, <u32>scratch, storeAscii(scratch, nodeName(node)), next);
}

/**
 * Positions: 0 ".", 1 "..", then the fixed names, then (in the root) one
 * per process, the cursor being 100 + its pid.
 */
function readdir(dir: Inode, cursor: u64, emit: EmitEntry): i64 {
  let next = cursor;
  const dots = memory.data<u8>([0x2e, 0x2e]);
  if (next == 0) {
    if (!emit(dir.ino, S_IFDIR, changetype<u32>(dots), 1, 1)) return <i64>next;
    next = 1;
  }
  if (next == 1) {
    const parent = dir.parent != null ? changetype<Inode>(dir.parent) : dir;
    if (!emit(parent.ino, S_IFDIR, changetype<u32>(dots), 2, 2)) return <i64>next;
    next = 2;
  }
  const entries = entriesOf(dir.kind);
  for (let i: u32 = 0; i < entryCount(dir.kind); i++) {
    const position = <u64>(2 + i);
    if (next > position) continue;
    const node = <u32>load<u8>(entries + i);
    if (!emitName(emit, node, (<u64>dir.data << 8) | <u64>node, typeOf(node), position + 1)) return <i64>next;
    next = position + 1;
  }
  if (dir.kind != Node.Root) return <i64>next;
  if (next < 100) next = 100;
  // Processes in pid order, from the cursor on: the list is newest first, so pick the smallest above each time.
  while (true) {
    let best: u32 = 0;
    for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
      const pid = changetype<Process>(at).pid;
      if (<u64>pid + 100 >= next && (best == 0 || pid < best)) best = pid;
    }
    if (best == 0) return <i64>next;
    const digits = memory.data(12);
    const length = formatInto(<u32>digits, 12, "%d", best);
    if (!emit((<u64>best << 8) | <u64>Node.ProcessDirectory, S_IFDIR, <u32>digits, length, <u64>best + 101)) return <i64>next;
    next = <u64>best + 101;
  }
  return <i64>next; // not reached
}

function readlink(inode: Inode, into: u32): i64 {
  return formatInto(into, 12, "%d", currentProcess().pid);
}

/** Mounts nothing itself: makes the root (one holder, for the mount). */
export function newProcfs(device: u32): Inode | null {
  if (procOps.lookup == 0) {
    procOps.lookup = changetype<u32>(lookup);
    procOps.readdir = changetype<u32>(readdir);
    procOps.readlink = changetype<u32>(readlink);
  }
  procDevice = device;
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
  const name = memory.data<u8>([0x70, 0x72, 0x6f, 0x63]);
  const found = lookupIn(fileSystemRoot(), <u32>name, 4);
  if (found <= 0) return false;
  const point = changetype<Inode>(<u32>found);
  const root = newProcfs(device);
  if (root != null && mountOver(point, root, "proc", "proc", device)) return true;
  releaseInode(root);
  releaseInode(point);
  return false;
}

export function isProcInode(inode: Inode): bool {
  return inode.ops == procOps;
}

/** A File holding the text of procfs file `inode` (the caller's hold on it passes to the File); null when out of memory or its process is gone. */
export function openProcFile(inode: Inode, flags: u32): File | null {
  const text = kmalloc(TEXT_CAPACITY);
  if (text == 0) return null;
  let size: u32 = 0;
  const node = inode.kind;
  if (node == Node.Meminfo) size = meminfo(text);
  else if (node == Node.Memcheck) size = memcheck(text);
  else if (node == Node.Processes) size = processes(text);
  else if (node == Node.Mounts) size = mounts(text);
  else if (node == Node.Cpuinfo) size = cpuinfo(text);
  else if (node == Node.PidMax) size = formatInto(text, TEXT_CAPACITY, "4194304\n");
  else if (node == Node.Tainted) size = formatInto(text, TEXT_CAPACITY, "0\n");
  else if (node == Node.OsType) size = formatInto(text, TEXT_CAPACITY, "Linux\n");
  else if (node == Node.OsRelease) size = formatInto(text, TEXT_CAPACITY, "%s\n", str(KERNEL_RELEASE));
  else {
    const process = findProcess(inode.data);
    if (process == null) {
      kfree(text);
      return null;
    }
    if (node == Node.Stat) size = processStat(process, text);
    else if (process.space == 0) size = 0; // a zombie: no memory left to show, as Linux's empty maps
    else if (node == Node.Faults) size = processFaults(process, text);
    else size = formatMaps(spaceOf(process), text, TEXT_CAPACITY);
  }
  const file = newFile(FileKind.Generated, inode, flags);
  if (file == null) {
    kfree(text);
    return null;
  }
  file.data = text;
  file.size = min(size, TEXT_CAPACITY);
  return file;
}
