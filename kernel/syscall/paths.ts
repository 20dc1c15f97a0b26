// Paths from system calls: copied in once (PATH_MAX at most, else
// ENAMETOOLONG), then walked from the working directory, a directory
// descriptor (the *at calls), or the root for an absolute path.
import { fileAt } from "../fs/file";
import { Inode, isDirectoryInode } from "../fs/inode";
import { PATH_MAX, resolveParent, resolvePath } from "../fs/path";
import { copyStringFromUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { EBADF, EFAULT, ENAMETOOLONG, ENOENT, ENOTDIR } from "./errno";

export const AT_FDCWD: i64 = -100;
export const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
export const AT_REMOVEDIR: u64 = 0x200;
export const AT_SYMLINK_FOLLOW: u64 = 0x400;
export const AT_NO_AUTOMOUNT: u64 = 0x800;
export const AT_EMPTY_PATH: u64 = 0x1000;

// Holds one call's path until it is walked (walks do not sleep).
const pathBuffer = memory.data(PATH_MAX);
const secondPath = memory.data(PATH_MAX);

/** Copies a user path into the first path buffer; its length, or a negative errno. */
export function copyPath(process: Process, path: u64): i64 {
  return copyPathInto(process, path, <u32>pathBuffer);
}

/** For calls with two paths (rename, link, symlink): the second goes here. */
export function copySecondPath(process: Process, path: u64): i64 {
  return copyPathInto(process, path, <u32>secondPath);
}

function copyPathInto(process: Process, path: u64, into: u32): i64 {
  const length = copyStringFromUser(spaceOf(process), into, path, PATH_MAX);
  if (length == -1) return -EFAULT;
  if (length == -2) return -ENAMETOOLONG;
  return length;
}

export function pathAddress(): u32 {
  return <u32>pathBuffer;
}

export function secondPathAddress(): u32 {
  return <u32>secondPath;
}

/** The working directory (the root before init has one). */
export function workingDirectory(process: Process): Inode {
  return changetype<Inode>(process.cwd);
}

/**
 * Where a walk of a relative path starts: the working directory for
 * AT_FDCWD, else the directory `directory` names (EBADF, ENOTDIR).
 * Not held: the process holds it for the duration of the call.
 */
export function startOf(process: Process, directory: i64): i64 {
  if (<i32>directory == <i32>AT_FDCWD) return <i64>changetype<u32>(workingDirectory(process));
  const file = fileAt(process.files, directory);
  if (file == null) return -EBADF;
  const inode = file.inode;
  if (inode == null || !isDirectoryInode(inode)) return -ENOTDIR;
  return <i64>changetype<u32>(inode);
}

/**
 * The inode a user path names, relative to `directory`, with a
 * reference; or -errno. An empty path is ENOENT unless `emptyMeansDirectory`
 * (AT_EMPTY_PATH), when it names the descriptor's own file (any kind).
 */
export function lookupAt(process: Process, directory: i64, path: u64, followLast: bool, emptyMeansDirectory: bool): i64 {
  const length = copyPath(process, path);
  if (length < 0) return length;
  return lookupCopied(process, directory, <u32>pathBuffer, <u32>length, followLast, emptyMeansDirectory);
}

export function lookupCopied(process: Process, directory: i64, path: u32, length: u32, followLast: bool, emptyMeansDirectory: bool): i64 {
  if (length == 0) {
    if (!emptyMeansDirectory) return -ENOENT;
    if (<i32>directory == <i32>AT_FDCWD) {
      const cwd = workingDirectory(process);
      cwd.refCount++;
      return <i64>changetype<u32>(cwd);
    }
    const file = fileAt(process.files, directory);
    if (file == null) return -EBADF;
    const inode = file.inode;
    if (inode == null) return -EBADF; // a pipe or the console has no inode to name here
    inode.refCount++;
    return <i64>changetype<u32>(inode);
  }
  const start = startFor(process, directory, path);
  if (start < 0) return start;
  return resolvePath(changetype<Inode>(<u32>start), path, length, followLast);
}

/** Where the walk of `path` starts; an absolute path ignores the directory descriptor, as on Linux. */
function startFor(process: Process, directory: i64, path: u32): i64 {
  return load<u8>(path) == 0x2f ? <i64>changetype<u32>(workingDirectory(process)) : startOf(process, directory);
}

/** The directory holding the last component of a copied path, with a reference (see resolveParent). */
export function parentAt(process: Process, directory: i64, path: u32, length: u32): i64 {
  if (length == 0) return -ENOENT;
  const start = startFor(process, directory, path);
  if (start < 0) return start;
  return resolveParent(changetype<Inode>(<u32>start), path, length);
}
