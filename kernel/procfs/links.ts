// /proc/PID/exe, cwd and root: links that name an inode (the program's
// file, the working directory, the root) rather than a path. readlink
// gives the inode's path; a path walk through them goes straight to the
// inode (Linux's nd_jump_link), so they work for a file that has lost its
// name too.
import { storeAscii } from "../lib/ascii";
import { Inode, retainInode } from "../fs/inode";
import { fileSystemRoot } from "../fs/mount";
import { pathOfInode } from "../fs/names";
import { PATH_MAX } from "../fs/path";
import { Process, ProcessState, findProcess } from "../proc/process";
import { Node, isProcInode } from "./nodes";

const ENOENT: i64 = 2;
const DELETED = " (deleted)";

/** The path of `inode` at `into` (PATH_MAX room), with Linux's " (deleted)" once it has no name left; its length. */
export function writeInodePath(inode: Inode, into: u32): u32 {
  // /proc's inodes have no names to count (nlink 0) and are never deleted.
  const deleted = inode.nlink == 0 && !isProcInode(inode);
  const n = pathOfInode(inode, into, PATH_MAX - (deleted ? <u32>DELETED.length : 0));
  return deleted ? n + storeAscii(into + n, DELETED) : n;
}

/** The live (not yet exited) process a per-process inode belongs to, or null. */
export function liveProcess(inode: Inode): Process | null {
  const process = findProcess(inode.data);
  if (process == null || process.state == ProcessState.Zombie || process.state == ProcessState.Dead) return null;
  return process;
}

/** The inode an exe, cwd or root link names (not held), or null once the process has exited. */
function targetOf(link: Inode): Inode | null {
  const process = liveProcess(link);
  if (process == null) return null;
  if (link.kind == Node.Exe) return process.exe;
  if (link.kind == Node.Cwd) return process.cwd;
  return fileSystemRoot(); // no chroot here: every process's root is the root
}

export function readProcessLink(link: Inode, into: u32): i64 {
  const target = targetOf(link);
  return target == null ? -ENOENT : <i64>writeInodePath(target, into);
}

export function jumpProcessLink(link: Inode): i64 {
  const target = targetOf(link);
  return target == null ? -ENOENT : <i64>changetype<u32>(retainInode(target));
}
