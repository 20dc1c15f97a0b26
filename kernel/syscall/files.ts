// File system calls over the initramfs and the console.
import { printProgramBytes } from "../console/console";
import {
  File, FileKind, O_ACCMODE, O_CLOEXEC, O_RDWR, O_WRONLY, FD_CLOEXEC, isPathOnly, closeDescriptor, fileAt, installFile, isNonBlocking, newFile,
  releaseFile,
} from "../fs/file";
import {
  NOT_FOUND, ROOT_INODE, S_IFREG, inodeBaseName, inodeBaseNameLength, inodeData, inodeMode, inodeName, inodeNameLength,
  inodeNumber, inodeSize, isDirectory, lookupPath, nextChild,
} from "../fs/initramfs";
import { AddressSpace, USER_MAP_END } from "../mm/address_space";
import { kfree, kmalloc } from "../mm/slab";
import { copyFromUser, copyStringFromUser, copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { isProcPath, openProcFile } from "../fs/procfs";
import { TTY_FAULT, TTY_INTERRUPTED, TTY_WOULD_BLOCK, ttyRead } from "../console/tty";
import {
  PIPE_BROKEN, PIPE_FAULT, PIPE_INTERRUPTED, PIPE_NO_MEMORY, PIPE_WOULD_BLOCK, Pipe, readPipe, writePipe,
} from "../fs/pipe";
import {
  EACCES, EAGAIN, EBADF, EFAULT, EINTR, EINVAL, EISDIR, EMFILE, ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, ENOTTY, EPIPE, EROFS, ESPIPE,
} from "./errno";

const AT_FDCWD: i64 = -100;
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_NO_AUTOMOUNT: u64 = 0x800;
const AT_EMPTY_PATH: u64 = 0x1000;
const O_CREAT: u64 = 0o100;
const O_DIRECTORY: u64 = 0o200000;
const O_TRUNC: u64 = 0o1000;
const O_PATH: u64 = 0o10000000;
const PATH_MAX: u32 = 4096;
const S_IFCHR: u32 = 0o020000;

const pathBuffer = memory.data(PATH_MAX);
const chunk = memory.data(512);

/** Copies a user path into pathBuffer; its length, or a negative errno. */
export function copyPath(space: AddressSpace, path: u64): i64 {
  const length = copyStringFromUser(space, <u32>pathBuffer, path, PATH_MAX);
  if (length == -1) return -EFAULT;
  if (length == -2) return -ENAMETOOLONG;
  return length;
}

export function pathBufferAddress(): u32 {
  return <u32>pathBuffer;
}

// Linux's MAX_RW_COUNT: one read or write moves at most this much.
const MAX_RW_COUNT: u64 = 0x7ffff000;
const IOV_MAX: i64 = 1024;
const IOVEC_SIZE: u32 = 16;

/** Linux's access_ok: the whole range lies in user space (checked before anything moves). */
@inline function userRange(address: u64, length: u64): bool {
  return address <= USER_MAP_END && length <= USER_MAP_END - address;
}

@inline function readable(file: File): bool {
  const mode = file.flags & O_ACCMODE;
  return mode == 0 || mode == O_RDWR;
}

@inline function writable(file: File): bool {
  const mode = file.flags & O_ACCMODE;
  return mode == O_WRONLY || mode == O_RDWR;
}

/**
 * Reads from an open file into user memory. Sleeps for data only when
 * `wait` (a blocking descriptor that has moved nothing yet in this call).
 */
function readFrom(process: Process, file: File, buffer: u64, count: u64, wait: bool): i64 {
  if (file.kind == FileKind.Console) {
    const result = ttyRead(spaceOf(process), buffer, count, !wait);
    return result == TTY_FAULT ? -EFAULT : result == TTY_INTERRUPTED ? -EINTR : result == TTY_WOULD_BLOCK ? -EAGAIN : result;
  }
  if (file.kind == FileKind.Directory) return -EISDIR;
  if (file.kind == FileKind.PipeRead) {
    const result = readPipe(changetype<Pipe>(file.data), spaceOf(process), buffer, count, !wait);
    return result == PIPE_FAULT ? -EFAULT : result == PIPE_INTERRUPTED ? -EINTR : result == PIPE_WOULD_BLOCK ? -EAGAIN : result;
  }
  const generated = file.kind == FileKind.Generated;
  const size = generated ? <u64>file.size : <u64>inodeSize(file.inode);
  if (file.offset >= size) return 0;
  const n = min(count, size - file.offset);
  const from = (generated ? file.data : inodeData(file.inode)) + <u32>file.offset;
  if (!copyToUser(spaceOf(process), buffer, from, n)) return -EFAULT;
  file.offset += n;
  return <i64>n;
}

/** Writes user memory to an open file (the console or a pipe: nothing else is writable). */
function writeTo(process: Process, file: File, buffer: u64, count: u64): i64 {
  if (file.kind == FileKind.PipeWrite) {
    const result = writePipe(changetype<Pipe>(file.data), spaceOf(process), buffer, count, isNonBlocking(file));
    return result == PIPE_FAULT ? -EFAULT : result == PIPE_BROKEN ? -EPIPE : result == PIPE_INTERRUPTED ? -EINTR
      : result == PIPE_WOULD_BLOCK ? -EAGAIN : result == PIPE_NO_MEMORY ? -ENOMEM : result;
  }
  if (file.kind != FileKind.Console) return -EBADF;
  let done: u64 = 0;
  while (done < count) {
    const n = <u32>min(count - done, <u64>512);
    if (!copyFromUser(spaceOf(process), <u32>chunk, buffer + done, n)) return done > 0 ? <i64>done : -EFAULT;
    printProgramBytes(chunk, n);
    done += n;
  }
  return <i64>done;
}

export function sysRead(process: Process, fd: i64, buffer: u64, count: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || !readable(file)) return -EBADF;
  if (!userRange(buffer, count)) return -EFAULT;
  return readFrom(process, file, buffer, min(count, MAX_RW_COUNT), !isNonBlocking(file));
}

export function sysWrite(process: Process, fd: i64, buffer: u64, count: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || !writable(file)) return -EBADF;
  if (!userRange(buffer, count)) return -EFAULT;
  return writeTo(process, file, buffer, min(count, MAX_RW_COUNT));
}

/**
 * readv and writev, in Linux's order: the whole iovec array is copied into
 * the kernel and checked (at most IOV_MAX entries, no length negative as
 * ssize_t: EINVAL; every range in user space, the array readable: EFAULT;
 * the total capped at MAX_RW_COUNT) before any byte moves or the caller
 * sleeps, so data landing on the array cannot change what is done. Then
 * one transfer per entry, stopping at the first short one; a read waits
 * only while nothing has arrived, and an error after some bytes moved is
 * reported as the count so far.
 */
function transferVector(process: Process, fd: i64, vector: u64, count: i64, reading: bool): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || !(reading ? readable(file) : writable(file))) return -EBADF;
  if (<u64>count > <u64>IOV_MAX) return -EINVAL;
  if (count == 0) return 0;
  // This request's own copy (at most 16 KiB): the call may sleep, so no shared scratch buffer.
  const iovecs = kmalloc(<u32>count * IOVEC_SIZE);
  if (iovecs == 0) return -ENOMEM;
  const result = checkedTransfer(process, file, iovecs, vector, <u32>count, reading);
  kfree(iovecs);
  return result;
}

function checkedTransfer(process: Process, file: File, iovecs: u32, vector: u64, count: u32, reading: bool): i64 {
  if (!copyFromUser(spaceOf(process), iovecs, vector, <u64>count * IOVEC_SIZE)) return -EFAULT;
  let total: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const entry = iovecs + i * IOVEC_SIZE;
    let length = load<u64>(entry + 8);
    if (<i64>length < 0) return -EINVAL;
    if (!userRange(load<u64>(entry), length)) return -EFAULT;
    if (length > MAX_RW_COUNT - total) {
      length = MAX_RW_COUNT - total;
      store<u64>(entry + 8, length);
    }
    total += length;
  }
  let moved: i64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const entry = iovecs + i * IOVEC_SIZE;
    const length = load<u64>(entry + 8);
    if (length == 0) continue;
    const wait = moved == 0 && !isNonBlocking(file);
    const n = reading ? readFrom(process, file, load<u64>(entry), length, wait) : writeTo(process, file, load<u64>(entry), length);
    if (n < 0) return moved > 0 ? moved : n;
    moved += n;
    if (<u64>n < length) break;
  }
  return moved;
}

export function sysReadv(process: Process, fd: i64, vector: u64, count: i64): i64 {
  return transferVector(process, fd, vector, count, true);
}

export function sysWritev(process: Process, fd: i64, vector: u64, count: i64): i64 {
  return transferVector(process, fd, vector, count, false);
}

/**
 * Makes the path in pathBuffer (`length` bytes) absolute when it is
 * relative to a directory descriptor, by putting the directory's own path
 * in front (the working directory is always "/"). Returns the new length,
 * or a negative errno for a bad descriptor.
 */
function resolveAt(process: Process, directory: i64, length: i64): i64 {
  if (directory == AT_FDCWD || load<u8>(pathBuffer) == 0x2f) return length;
  const base = fileAt(process.files, directory);
  if (base == null) return -EBADF;
  if (base.kind != FileKind.Directory) return -ENOTDIR;
  if (base.inode == ROOT_INODE) return length;
  const prefix = <i64>inodeNameLength(base.inode) + 1;
  if (prefix + length >= <i64>PATH_MAX) return -ENAMETOOLONG;
  memory.copy(<u32>pathBuffer + <u32>prefix, <u32>pathBuffer, <u32>length + 1);
  memory.copy(<u32>pathBuffer, inodeName(base.inode), <u32>prefix - 1);
  store<u8>(<u32>pathBuffer + <u32>prefix - 1, 0x2f);
  return prefix + length;
}

export function sysOpenat(process: Process, directory: i64, path: u64, flags: u64): i64 {
  const copied = copyPath(spaceOf(process), path);
  if (copied < 0) return copied;
  const length = resolveAt(process, directory, copied);
  if (length < 0) return length;
  const pathOnly = (flags & O_PATH) != 0;
  // An O_PATH descriptor names the file and reads or writes nothing (access mode 3, as Linux keeps it).
  const fileFlags = pathOnly ? O_ACCMODE : <u32>flags;
  const fdFlags = (flags & <u64>O_CLOEXEC) != 0 ? FD_CLOEXEC : 0;
  const accessMode = <u32>flags & O_ACCMODE;
  if (isProcPath(<u32>pathBuffer, <u32>length)) {
    if (!pathOnly && accessMode != 0) return -EACCES;
    const generated = openProcFile(process, <u32>pathBuffer, <u32>length, fileFlags);
    if (generated == null) return -ENOMEM;
    return install(process, generated, fdFlags);
  }
  const inode = lookupPath(<u32>pathBuffer, <u32>length);
  if (inode == NOT_FOUND) return (flags & O_CREAT) != 0 && !pathOnly ? -EROFS : -ENOENT;
  if ((flags & O_DIRECTORY) != 0 && !isDirectory(inode)) return -ENOTDIR;
  if (!pathOnly) {
    if (accessMode != 0) return isDirectory(inode) ? -EISDIR : -EROFS;
    if ((flags & O_TRUNC) != 0 && !isDirectory(inode)) return -EROFS; // truncation writes, and the archive is read-only
  }
  const file = newFile(isDirectory(inode) ? FileKind.Directory : FileKind.InitramfsFile, inode, fileFlags);
  if (file == null) return -ENOMEM;
  return install(process, file, fdFlags);
}

function install(process: Process, file: File, fdFlags: u32): i64 {
  const fd = installFile(process.files, file, fdFlags);
  if (fd < 0) {
    releaseFile(file);
    return -EMFILE;
  }
  return fd;
}

export function sysClose(process: Process, fd: i64): i64 {
  return closeDescriptor(process.files, fd) ? 0 : -EBADF;
}

export function sysLseek(process: Process, fd: i64, offset: i64, whence: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || isPathOnly(file)) return -EBADF;
  if (file.kind == FileKind.Console || file.kind == FileKind.PipeRead || file.kind == FileKind.PipeWrite) return -ESPIPE;
  let base: i64 = 0;
  if (whence == 1) base = <i64>file.offset;
  else if (whence == 2) base = file.kind == FileKind.InitramfsFile ? <i64>inodeSize(file.inode) : <i64>file.size;
  else if (whence != 0) return -EINVAL;
  const position = base + offset;
  if (position < 0) return -EINVAL;
  file.offset = <u64>position;
  return position;
}

/** Fills a Linux struct stat (144 bytes) for an inode, or for the console if inode is NOT_FOUND. */
function writeStat(space: AddressSpace, buffer: u64, inode: i32, console: bool): i64 {
  const stat = memory.data(144, 8);
  memory.fill(stat, 0, 144);
  store<u64>(stat, 1); // st_dev
  if (console) {
    store<u64>(stat + 8, 3); // st_ino
    store<u64>(stat + 16, 1); // st_nlink
    store<u32>(stat + 24, S_IFCHR | 0o620);
    store<u64>(stat + 40, (4 << 8) | 64); // st_rdev: ttyS0 is 4:64
  } else {
    store<u64>(stat + 8, inodeNumber(inode));
    store<u64>(stat + 16, isDirectory(inode) ? 2 : 1);
    store<u32>(stat + 24, inodeMode(inode));
    store<u64>(stat + 48, inodeSize(inode)); // st_size
    store<u64>(stat + 64, (<u64>inodeSize(inode) + 511) / 512); // st_blocks
  }
  store<u64>(stat + 56, 4096); // st_blksize
  return copyToUser(space, buffer, <u32>stat, 144) ? 0 : -EFAULT;
}

function writeGeneratedStat(space: AddressSpace, buffer: u64, size: u32): i64 {
  const stat = memory.data(144, 8);
  memory.fill(stat, 0, 144);
  store<u64>(stat + 16, 1); // st_nlink
  store<u32>(stat + 24, S_IFREG | 0o444);
  store<u64>(stat + 48, size);
  store<u64>(stat + 56, 4096);
  return copyToUser(space, buffer, <u32>stat, 144) ? 0 : -EFAULT;
}

export function sysFstat(process: Process, fd: i64, buffer: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  if (file.kind == FileKind.Generated) return writeGeneratedStat(spaceOf(process), buffer, file.size);
  return writeStat(spaceOf(process), buffer, file.inode, file.kind == FileKind.Console);
}

export function sysNewfstatat(process: Process, directory: i64, path: u64, buffer: u64, flags: u64): i64 {
  // No symbolic links or automounts exist, so those two flags change nothing.
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) != 0) return -EINVAL;
  const copied = copyPath(spaceOf(process), path);
  if (copied < 0) return copied;
  if (copied == 0) {
    if ((flags & AT_EMPTY_PATH) == 0) return -ENOENT;
    return sysFstat(process, directory, buffer);
  }
  const length = resolveAt(process, directory, copied);
  if (length < 0) return length;
  const inode = lookupPath(<u32>pathBuffer, <u32>length);
  if (inode == NOT_FOUND) return -ENOENT;
  return writeStat(spaceOf(process), buffer, inode, false);
}

const F_OK: u64 = 0;
const X_OK: u64 = 1;
const W_OK: u64 = 2;
const R_OK: u64 = 4;
const AT_EACCESS: u64 = 0x200;

/**
 * access, faccessat and faccessat2 for the one user, root: reading is
 * always allowed, writing never (the archive is read-only: EROFS), and
 * execution when any execute bit is set (or for a directory).
 */
export function sysFaccessat(process: Process, directory: i64, path: u64, mode: u64, flags: u64): i64 {
  if ((mode & ~(X_OK | W_OK | R_OK)) != 0) return -EINVAL;
  // Real and effective ids are one and the same, and there are no symbolic links.
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  const copied = copyPath(spaceOf(process), path);
  if (copied < 0) return copied;
  let inode: i32;
  if (copied == 0) {
    if ((flags & AT_EMPTY_PATH) == 0) return -ENOENT;
    const file = fileAt(process.files, directory);
    if (file == null) return -EBADF;
    if (file.kind != FileKind.InitramfsFile && file.kind != FileKind.Directory) return mode == F_OK || mode == R_OK ? 0 : -EACCES;
    inode = file.inode;
  } else {
    const length = resolveAt(process, directory, copied);
    if (length < 0) return length;
    if (isProcPath(<u32>pathBuffer, <u32>length)) return (mode & (W_OK | X_OK)) != 0 ? -EACCES : 0;
    inode = lookupPath(<u32>pathBuffer, <u32>length);
    if (inode == NOT_FOUND) return -ENOENT;
  }
  if ((mode & W_OK) != 0) return -EROFS;
  if ((mode & X_OK) != 0 && !isDirectory(inode) && (inodeMode(inode) & 0o111) == 0) return -EACCES;
  return 0;
}

/** getdents64: struct linux_dirent64 records for the next children of a directory. */
export function sysGetdents64(process: Process, fd: i64, buffer: u64, count: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || isPathOnly(file)) return -EBADF;
  if (file.kind != FileKind.Directory) return -ENOTDIR;
  const record = memory.data(280, 8);
  let written: u64 = 0;
  while (true) {
    const child = nextChild(file.inode, <u32>file.offset);
    if (child == NOT_FOUND) break;
    const nameLength = inodeBaseNameLength(child);
    const size = (19 + nameLength + 1 + 7) & ~7; // d_ino, d_off, d_reclen, d_type, name, NUL; 8-aligned
    if (written + size > count) {
      if (written == 0) return -EINVAL;
      break;
    }
    memory.fill(record, 0, size);
    store<u64>(record, inodeNumber(child));
    store<u64>(record + 8, <u64>child + 1); // d_off: where the next read starts
    store<u16>(record + 16, <u16>size);
    store<u8>(record + 18, isDirectory(child) ? 4 : 8); // DT_DIR, DT_REG
    memory.copy(record + 19, inodeBaseName(child), nameLength);
    if (!copyToUser(spaceOf(process), buffer + written, <u32>record, size)) return -EFAULT;
    written += size;
    file.offset = <u64>child + 1;
  }
  return <i64>written;
}

export function sysIoctl(process: Process, fd: i64): i64 {
  const file: File | null = fileAt(process.files, fd);
  if (file == null || isPathOnly(file)) return -EBADF;
  return -ENOTTY; // no terminal control yet (TIOCGWINSZ and the rest)
}
