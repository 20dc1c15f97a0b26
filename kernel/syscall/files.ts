// File system calls over the initramfs and the console.
import { printProgramBytes } from "../console/console";
import { File, FileKind, closeDescriptor, fileAt, installFile, newFile, releaseFile } from "../fs/file";
import {
  NOT_FOUND, S_IFREG, inodeBaseName, inodeBaseNameLength, inodeData, inodeMode, inodeNumber, inodeSize, isDirectory,
  lookupPath, nextChild,
} from "../fs/initramfs";
import { AddressSpace } from "../mm/address_space";
import { copyFromUser, copyStringFromUser, copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { isProcPath, openProcFile } from "../fs/procfs";
import { TTY_FAULT, TTY_INTERRUPTED, ttyRead } from "../console/tty";
import { PIPE_BROKEN, PIPE_FAULT, PIPE_INTERRUPTED, Pipe, readPipe, writePipe } from "../fs/pipe";
import {
  EACCES, EBADF, EFAULT, EINTR, EINVAL, EISDIR, EMFILE, ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, ENOTTY, EPIPE, EROFS, ESPIPE,
} from "./errno";

const AT_FDCWD: i64 = -100;
const AT_EMPTY_PATH: u64 = 0x1000;
const O_ACCMODE: u64 = 3;
const O_CREAT: u64 = 0o100;
const O_DIRECTORY: u64 = 0o200000;
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

export function sysRead(process: Process, fd: i64, buffer: u64, count: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  if (file.kind == FileKind.Console) {
    const result = ttyRead(spaceOf(process), buffer, count);
    return result == TTY_FAULT ? -EFAULT : result == TTY_INTERRUPTED ? -EINTR : result;
  }
  if (file.kind == FileKind.Directory) return -EISDIR;
  if (file.kind == FileKind.PipeWrite) return -EBADF;
  if (file.kind == FileKind.PipeRead) {
    const result = readPipe(changetype<Pipe>(file.data), spaceOf(process), buffer, count);
    return result == PIPE_FAULT ? -EFAULT : result == PIPE_INTERRUPTED ? -EINTR : result;
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

export function sysWrite(process: Process, fd: i64, buffer: u64, count: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file != null && file.kind == FileKind.PipeWrite) {
    const result = writePipe(changetype<Pipe>(file.data), spaceOf(process), buffer, count);
    return result == PIPE_FAULT ? -EFAULT : result == PIPE_BROKEN ? -EPIPE : result == PIPE_INTERRUPTED ? -EINTR : result;
  }
  if (file == null || file.kind != FileKind.Console) return -EBADF;
  let done: u64 = 0;
  while (done < count) {
    const n = <u32>min(count - done, <u64>512);
    if (!copyFromUser(spaceOf(process), <u32>chunk, buffer + done, n)) return done > 0 ? <i64>done : -EFAULT;
    printProgramBytes(chunk, n);
    done += n;
  }
  return <i64>done;
}

/**
 * readv and writev: one read or write per iovec, in order, stopping at the
 * first that moves fewer bytes than asked (end of file, an empty pipe or
 * console line) as Linux does; an error after some bytes moved is
 * reported as the count so far.
 */
function transferVector(process: Process, fd: i64, vector: u64, count: i64, reading: bool): i64 {
  if (count < 0 || count > 1024) return -EINVAL;
  const iovec = memory.data(16, 8);
  let total: i64 = 0;
  for (let i: i64 = 0; i < count; i++) {
    if (!copyFromUser(spaceOf(process), <u32>iovec, vector + <u64>i * 16, 16)) return total > 0 ? total : -EFAULT;
    const length = load<u64>(iovec + 8);
    if (length == 0) continue;
    const moved = reading ? sysRead(process, fd, load<u64>(iovec), length) : sysWrite(process, fd, load<u64>(iovec), length);
    if (moved < 0) return total > 0 ? total : moved;
    total += moved;
    if (<u64>moved < length) break;
  }
  return total;
}

export function sysReadv(process: Process, fd: i64, vector: u64, count: i64): i64 {
  return transferVector(process, fd, vector, count, true);
}

export function sysWritev(process: Process, fd: i64, vector: u64, count: i64): i64 {
  return transferVector(process, fd, vector, count, false);
}

export function sysOpenat(process: Process, directory: i64, path: u64, flags: u64): i64 {
  const length = copyPath(spaceOf(process), path);
  if (length < 0) return length;
  if (directory != AT_FDCWD && load<u8>(pathBuffer) != 0x2f) {
    const base = fileAt(process.files, directory);
    if (base == null) return -EBADF;
    if (base.kind != FileKind.Directory) return -ENOTDIR;
  }
  if (isProcPath(<u32>pathBuffer, <u32>length)) {
    if ((flags & O_ACCMODE) != 0) return -EACCES;
    const generated = openProcFile(process, <u32>pathBuffer, <u32>length);
    if (generated == null) return -ENOMEM;
    return install(process, generated);
  }
  const inode = lookupPath(<u32>pathBuffer, <u32>length);
  if (inode == NOT_FOUND) return (flags & O_CREAT) != 0 ? -EROFS : -ENOENT;
  if ((flags & O_ACCMODE) != 0) return isDirectory(inode) ? -EISDIR : -EROFS;
  if ((flags & O_DIRECTORY) != 0 && !isDirectory(inode)) return -ENOTDIR;
  const file = newFile(isDirectory(inode) ? FileKind.Directory : FileKind.InitramfsFile, inode, <u32>flags);
  if (file == null) return -ENOMEM;
  return install(process, file);
}

function install(process: Process, file: File): i64 {
  const fd = installFile(process.files, file);
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
  if (file == null) return -EBADF;
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
  const length = copyPath(spaceOf(process), path);
  if (length < 0) return length;
  if (length == 0) {
    if ((flags & AT_EMPTY_PATH) == 0) return -ENOENT;
    return sysFstat(process, directory, buffer);
  }
  const inode = lookupPath(<u32>pathBuffer, <u32>length);
  if (inode == NOT_FOUND) return -ENOENT;
  return writeStat(spaceOf(process), buffer, inode, false);
}

/** getdents64: struct linux_dirent64 records for the next children of a directory. */
export function sysGetdents64(process: Process, fd: i64, buffer: u64, count: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
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
  if (file == null) return -EBADF;
  return -ENOTTY; // no terminal control yet (TIOCGWINSZ and the rest)
}
