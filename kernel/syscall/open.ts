// open, openat, creat and close. The one user is root, so permission bits
// are kept and reported but never refuse an open; what the file is decides
// the rest (EISDIR, ENOTDIR, ELOOP for O_NOFOLLOW, ENXIO for a device
// nothing drives).
import { blockFileObject } from "../fs/block_file";
import {
  FD_CLOEXEC, File, FileKind, O_ACCMODE, O_CLOEXEC, O_RDWR, O_WRONLY, closeDescriptor, installFile, newFile, releaseFile,
} from "../fs/file";
import {
  Inode, S_IFBLK, S_IFCHR, S_IFIFO, S_IFREG, createIn, fileType, inodeSize, isDirectoryInode, isGeneratedInode, isRegularInode,
  isSymlinkInode, jumpLinkOf, lookupIn, openGenerated, readlinkOf, releaseInode, truncateInode,
} from "../fs/inode";
import { isDotOrDotDot, lastName, lastNameLength, resolveParent, trailingSlash } from "../fs/path";
import { Process } from "../proc/process";
import { isKnownDevice } from "./devices";
import { onReadOnlyMount } from "../fs/mount";
import { openFifo } from "../fs/fifo";
import { EBADF, EEXIST, EISDIR, ELOOP, ENOENT, ENOMEM, ENOTDIR, ENXIO, EROFS, ETXTBSY } from "./errno";
import { MemoryObject, OBJECT_SWAP_FILE } from "../mm/memory_object";
import { AT_FDCWD, copyPath, lookupCopied, parentAt, pathAddress } from "./paths";
import { descriptorLimit } from "../proc/resource_limits";

const O_CREAT: u64 = 0o100;
const O_EXCL: u64 = 0o200;
const O_TRUNC: u64 = 0o1000;
const O_DIRECTORY: u64 = 0o200000;
const O_NOFOLLOW: u64 = 0o400000;
const O_PATH: u64 = 0o10000000;
const O_TMPFILE: u64 = 0o20000000 | O_DIRECTORY;

function install(process: Process, file: File, fdFlags: u32): i64 {
  const fd = installFile(process.files, file, descriptorLimit(process), fdFlags);
  if (fd < 0) releaseFile(file); // EMFILE, or ENOMEM when the table could not grow
  return fd;
}

const MAX_LINKS: u32 = 40;
const linkTarget = memory.data(4096);

/** The inode to open: found, or made by O_CREAT; with a reference, or -errno. */
function openTarget(process: Process, directory: i64, length: u32, flags: u64, mode: u64): i64 {
  const follow = (flags & O_NOFOLLOW) == 0;
  if ((flags & O_CREAT) == 0) return lookupCopied(process, directory, pathAddress(), length, follow, false);
  let parentResult = parentAt(process, directory, pathAddress(), length);
  if (parentResult < 0) return parentResult;
  let parent = changetype<Inode>(<u32>parentResult);
  // A link in the last component leads on to its target, which O_CREAT makes
  // if it is missing (as Linux does for a dangling link without O_EXCL).
  for (let links: u32 = 0; ; links++) {
    if (lastNameLength == 0 || isDotOrDotDot(lastName, lastNameLength)) { // the directory itself: it exists
      releaseInode(parent);
      return (flags & O_EXCL) != 0 ? -EEXIST : -EISDIR;
    }
    if (trailingSlash) { // a directory is asked for, and O_CREAT makes none (Linux: whether or not the name exists)
      releaseInode(parent);
      return -EISDIR;
    }
    const found = lookupIn(parent, lastName, lastNameLength);
    if (found == 0) break;
    if (found < 0) {
      releaseInode(parent);
      return found;
    }
    const inode = changetype<Inode>(<u32>found);
    if ((flags & O_EXCL) != 0) {
      releaseInode(parent);
      releaseInode(inode);
      return -EEXIST;
    }
    if (!isSymlinkInode(inode) || !follow) {
      releaseInode(parent);
      return found; // O_NOFOLLOW on a link: the caller refuses it (ELOOP)
    }
    if (links == MAX_LINKS) {
      releaseInode(parent);
      releaseInode(inode);
      return -ELOOP;
    }
    const jumped = jumpLinkOf(inode);
    if (jumped != 0) { // a /proc link: the inode it names (or -errno), never a name to create
      releaseInode(parent);
      releaseInode(inode);
      return jumped;
    }
    const targetLength = readlinkOf(inode, <u32>linkTarget);
    releaseInode(inode);
    const next = targetLength <= 0 ? -ENOENT : resolveParent(parent, <u32>linkTarget, <u32>targetLength);
    releaseInode(parent);
    if (next < 0) return next;
    parent = changetype<Inode>(<u32>next);
  }
  if (parent.ops.create == 0) { // procfs: nothing can be made there, and the name is not there
    releaseInode(parent);
    return -ENOENT;
  }
  if (onReadOnlyMount(parent)) {
    releaseInode(parent);
    return -EROFS;
  }
  const made = createIn(parent, lastName, lastNameLength, S_IFREG | (<u32>mode & 0o7777 & ~process.umask), 0);
  releaseInode(parent);
  return made;
}

export function sysOpenat(process: Process, directory: i64, path: u64, flags: u64, mode: u64): i64 {
  if ((flags & O_TMPFILE) == O_TMPFILE) return -EROFS; // unnamed files are not supported yet
  const length = copyPath(process, path);
  if (length < 0) return length;
  const pathOnly = (flags & O_PATH) != 0;
  const fdFlags = (flags & <u64>O_CLOEXEC) != 0 ? FD_CLOEXEC : 0;
  const targetResult = openTarget(process, directory, <u32>length, pathOnly ? flags & ~O_CREAT : flags, mode);
  if (targetResult < 0) return targetResult;
  const inode = changetype<Inode>(<u32>targetResult);
  const accessMode = <u32>flags & O_ACCMODE;
  const writing = accessMode == O_WRONLY || accessMode == O_RDWR;
  let error: i64 = 0;
  if ((flags & O_DIRECTORY) != 0 && !isDirectoryInode(inode)) error = -ENOTDIR;
  else if (pathOnly) error = 0;
  else if (isSymlinkInode(inode)) error = -ELOOP; // O_NOFOLLOW met a link
  else if (isDirectoryInode(inode) && (writing || (flags & O_CREAT) != 0)) error = -EISDIR;
  else if (fileType(inode) != S_IFREG && !isDirectoryInode(inode) && !isGeneratedInode(inode) && fileType(inode) != S_IFIFO &&
    !(fileType(inode) == S_IFCHR && isKnownDevice(inode.rdev)) && !(fileType(inode) == S_IFBLK && blockFileObject(inode) != null)) {
    error = -ENXIO; // a device nothing drives, or a socket node
  }
  if (error == 0 && !pathOnly && isRegularInode(inode) && (writing || (flags & O_TRUNC) != 0) && onReadOnlyMount(inode)) {
    error = -EROFS;
  }
  // A program some process runs may not change under it (Linux's ETXTBSY).
  if (error == 0 && !pathOnly && isRegularInode(inode) && (writing || (flags & O_TRUNC) != 0) && inode.object != null &&
    changetype<MemoryObject>(inode.object).executors != 0) {
    error = -ETXTBSY;
  }
  // A swap area's file opens for writing, but is not truncated (Linux's notify_change on an S_SWAPFILE inode).
  if (error == 0 && !pathOnly && isRegularInode(inode) && (flags & O_TRUNC) != 0 && inode.object != null &&
    (changetype<MemoryObject>(inode.object).flags & OBJECT_SWAP_FILE) != 0) {
    error = -ETXTBSY;
  }
  if (error != 0) {
    releaseInode(inode);
    return error;
  }
  // As on Linux, O_TRUNC empties a regular file even when it is opened read-only.
  if (!pathOnly && isRegularInode(inode) && (flags & O_TRUNC) != 0 && inode.object != null && inodeSize(inode) != 0) {
    const truncated = truncateInode(inode, 0);
    if (truncated < 0) {
      releaseInode(inode);
      return truncated;
    }
  }
  if (!pathOnly && isGeneratedInode(inode) && !isDirectoryInode(inode)) {
    const opened = openGenerated(inode, <u32>flags); // EACCES for writing: the texts are read-only
    if (opened < 0) {
      releaseInode(inode);
      return opened;
    }
    return install(process, changetype<File>(<u32>opened), fdFlags);
  }
  if (!pathOnly && fileType(inode) == S_IFIFO) {
    const opened = openFifo(inode, <u32>flags); // may sleep until the other end is opened
    if (opened < 0) {
      releaseInode(inode);
      return opened;
    }
    return install(process, changetype<File>(<u32>opened), fdFlags);
  }
  const kind = pathOnly ? FileKind.PathOnly : isDirectoryInode(inode) ? FileKind.Directory
    : isRegularInode(inode) ? FileKind.Regular : fileType(inode) == S_IFBLK ? FileKind.BlockDevice : FileKind.Device;
  const file = newFile(kind, inode, pathOnly ? 0 : <u32>flags);
  if (file == null) {
    releaseInode(inode);
    return -ENOMEM;
  }
  return install(process, file, fdFlags);
}

export function sysOpen(process: Process, path: u64, flags: u64, mode: u64): i64 {
  return sysOpenat(process, AT_FDCWD, path, flags, mode);
}

/** creat: open for writing, created or truncated. */
export function sysCreat(process: Process, path: u64, mode: u64): i64 {
  return sysOpenat(process, AT_FDCWD, path, O_CREAT | <u64>O_WRONLY | O_TRUNC, mode);
}

export function sysClose(process: Process, fd: i64): i64 {
  return closeDescriptor(process.files, fd) ? 0 : -EBADF;
}
