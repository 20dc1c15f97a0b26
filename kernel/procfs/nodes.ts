// The inodes of /proc: what each is (Inode.kind), its name, type and
// mode, and how one is made. An inode is made on lookup and freed when let
// go (it has no name to keep it: nlink stays 0); it holds its parent, so
// that the path of an open /proc file can always be rebuilt. Per-process
// inodes keep their process's pid in Inode.data (and a descriptor number
// in Inode.index); their numbers are fixed by what they show.
import { formatInto } from "../lib/format";
import { storeAscii } from "../lib/ascii";
import {
  INODE_OPS_SIZE, Inode, InodeOps, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, newInode, releaseInode, retainInode, setInodeName,
} from "../fs/inode";

export const enum Node {
  Root = 1,
  Self = 2,
  ProcessDirectory = 3,
  Sys = 4,
  SysKernel = 5,
  FdDirectory = 6,
  TaskDirectory = 7, // /proc/PID/task: a directory per thread, named by its id
  Meminfo = 10,
  Memcheck = 11,
  Processes = 12,
  Mounts = 13,
  Cpuinfo = 14,
  Uptime = 15,
  SystemStat = 16, // /proc/stat (Stat is /proc/PID/stat)
  Loadavg = 17,
  Partitions = 18,
  Diskstats = 19,
  Interrupts = 39,
  Vmstat = 9,
  Filesystems = 8,
  Stat = 20,
  Faults = 21,
  Maps = 22,
  Status = 23,
  Cmdline = 24,
  Environ = 25,
  Exe = 26,
  Cwd = 27,
  RootLink = 28,
  FdLink = 29, // fd/N: Inode.index is N
  FdPipe = 30, // what an fd/N link to a pipe leads to (it has no inode of its own here)
  SmapsRollup = 31,
  KpageFlags = 32, // entries.ts: a u64 per frame
  KpageCount = 33,
  Pagemap = 34, // entries.ts: a u64 per virtual page of the process
  FrameStates = 35, // entries.ts: a byte per frame (frame_states.ts)
  Swaps = 36,
  PidMax = 40,
  Tainted = 41,
  OsType = 42,
  OsRelease = 43,
  CorePattern = 44,
}

export const procOps = changetype<InodeOps>(memory.data(INODE_OPS_SIZE, 4));
let procDevice: u32 = 0;

export function setProcDevice(device: u32): void {
  procDevice = device;
}

export function isProcInode(inode: Inode): bool {
  return inode.ops == procOps;
}

export function nodeName(node: u32): string {
  switch (node) {
    case Node.Self: return "self";
    case Node.Meminfo: return "meminfo";
    case Node.Memcheck: return "memcheck";
    case Node.Processes: return "processes";
    case Node.Mounts: return "mounts";
    case Node.Cpuinfo: return "cpuinfo";
    case Node.Uptime: return "uptime";
    case Node.SystemStat: return "stat";
    case Node.Loadavg: return "loadavg";
    case Node.Partitions: return "partitions";
    case Node.Diskstats: return "diskstats";
    case Node.Interrupts: return "interrupts";
    case Node.Vmstat: return "vmstat";
    case Node.Swaps: return "swaps";
    case Node.Filesystems: return "filesystems";
    case Node.KpageFlags: return "kpageflags";
    case Node.KpageCount: return "kpagecount";
    case Node.Pagemap: return "pagemap";
    case Node.FrameStates: return "framestates";
    case Node.Sys: return "sys";
    case Node.SysKernel: return "kernel";
    case Node.PidMax: return "pid_max";
    case Node.Tainted: return "tainted";
    case Node.OsType: return "ostype";
    case Node.OsRelease: return "osrelease";
    case Node.CorePattern: return "core_pattern";
    case Node.Stat: return "stat";
    case Node.Faults: return "faults";
    case Node.Maps: return "maps";
    case Node.SmapsRollup: return "smaps_rollup";
    case Node.Status: return "status";
    case Node.Cmdline: return "cmdline";
    case Node.Environ: return "environ";
    case Node.Exe: return "exe";
    case Node.Cwd: return "cwd";
    case Node.RootLink: return "root";
    case Node.FdDirectory: return "fd";
    case Node.TaskDirectory: return "task";
    default: return "";
  }
}

/** The file type (S_IF*) of `node`, as readdir reports it. */
export function typeOf(node: u32): u32 {
  switch (node) {
    case Node.Root:
    case Node.Sys:
    case Node.SysKernel:
    case Node.ProcessDirectory:
    case Node.TaskDirectory:
    case Node.FdDirectory: return S_IFDIR;
    case Node.Self:
    case Node.Exe:
    case Node.Cwd:
    case Node.RootLink:
    case Node.FdLink: return S_IFLNK;
    case Node.FdPipe: return S_IFIFO;
    default: return S_IFREG;
  }
}

/** Linux's permissions: the environment, the descriptors and the frames are the owner's alone. */
function permissionsOf(node: u32): u32 {
  const type = typeOf(node);
  if (node == Node.FdDirectory) return 0o500;
  if (node == Node.Environ || node == Node.KpageFlags || node == Node.KpageCount || node == Node.Pagemap) return 0o400;
  if (node == Node.FdPipe) return 0o600;
  if (type == S_IFDIR) return 0o555;
  return type == S_IFLNK ? 0o777 : 0o444;
}

@inline export function inodeNumber(node: u32, pid: u32): u64 {
  return (<u64>pid << 8) | <u64>node;
}

/**
 * An inode for `node` of process `pid` (0 for the others) in `parent`,
 * named `name` (`length` bytes; none for an FdPipe), with a reference for
 * the caller; ENOMEM as -12.
 */
export function makeNamedNode(node: u32, pid: u32, parent: Inode, name: u32, length: u32): i64 {
  const inode = newInode(procOps, typeOf(node) | permissionsOf(node), procDevice);
  if (inode == null) return -12; // ENOMEM
  inode.kind = node;
  inode.data = pid;
  inode.ino = inodeNumber(node, pid);
  inode.nlink = 0;
  inode.parent = retainInode(parent); // let go in evict
  if (length != 0 && !setInodeName(inode, parent, name, length)) {
    releaseInode(inode);
    return -12;
  }
  return <i64>changetype<u32>(inode);
}

/** makeNamedNode with the node's own name, or the pid for a process directory. */
export function makeNode(node: u32, pid: u32, parent: Inode): i64 {
  const scratch = memory.data(16);
  const length = node == Node.ProcessDirectory ? formatInto(<u32>scratch, 16, "%d", pid) : storeAscii(scratch, nodeName(node));
  return makeNamedNode(node, pid, parent, <u32>scratch, length);
}

/** The root's parent is the mount point's, which it does not hold; every other inode holds its own. */
export function evictNode(inode: Inode): void {
  if (inode.kind != Node.Root) releaseInode(inode.parent);
}

/** A name of decimal digits without a leading zero (Linux's name_to_int), or -1. */
export function parseDecimal(name: u32, length: u32): i64 {
  if (length == 0 || length > 9 || (length > 1 && load<u8>(name) == 0x30)) return -1;
  let value: i64 = 0;
  for (let i: u32 = 0; i < length; i++) {
    const c = <u32>load<u8>(name + i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + <i64>(c - 0x30);
  }
  return value;
}
