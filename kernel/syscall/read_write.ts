// read, write, their vector and positioned forms, and lseek, over every
// kind of open file: regular files (through the page cache), the console
// and other character devices, pipes, directories (EISDIR), the /proc
// text made at open, and the /proc tables made at each read.
import {
  File, FileKind, O_ACCMODE, O_APPEND, O_RDWR, O_WRONLY, fileAt, isNonBlocking, isPipeFile, releaseFile, retainFile,
} from "../fs/file";
import { MAX_FILE_SIZE, nextData, nextHole, readInode, readObject, writeInode, writeObject } from "../fs/file_io";
import { blockFileObject, blockFileSize } from "../fs/block_file";
import { fileAccessed } from "../fs/access_time";
import { Inode, inodeSize } from "../fs/inode";
import {
  PIPE_BROKEN, PIPE_FAULT, PIPE_INTERRUPTED, PIPE_NO_MEMORY, PIPE_WOULD_BLOCK, Pipe, readPipe, writePipe,
} from "../fs/pipe";
import { AddressSpace, USER_MAP_END } from "../mm/address_space";
import { kfree, kmalloc } from "../mm/slab";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { signalProcess } from "../proc/scheduler";
import { SIGPIPE } from "../proc/signal_action";
import { DEV_TTYS0, isTerminal, isTerminalFile, readDevice, writeConsole, writeDevice } from "./devices";
import { backgroundRead, backgroundWrite } from "./terminal_background";
import { EAGAIN, EBADF, EFAULT, EINTR, EINVAL, EISDIR, ENOMEM, ENXIO, EPIPE, ESPIPE } from "./errno";
import { writableCount } from "./file_size_limit";
import { readEventfd, writeEventfd } from "./eventfd";
import { readSignalfd } from "./signalfd";
import { readEntries } from "../procfs/entries";

// Linux's MAX_RW_COUNT: one read or write moves at most this much.
export const MAX_RW_COUNT: u64 = 0x7ffff000;
const IOV_MAX: i64 = 1024;
const IOVEC_SIZE: u32 = 16;
/** `offset` argument meaning "at the file's own position" (read, write, readv, writev). */
export const AT_POSITION: i64 = -1;

/** Linux's access_ok: the whole range lies in user space (checked before anything moves). */
@inline function userRange(address: u64, length: u64): bool {
  return address <= USER_MAP_END && length <= USER_MAP_END - address;
}

@inline function readable(file: File): bool {
  const mode = file.flags & O_ACCMODE;
  return file.kind != FileKind.PathOnly && (mode == 0 || mode == O_RDWR);
}

@inline function writable(file: File): bool {
  const mode = file.flags & O_ACCMODE;
  return file.kind != FileKind.PathOnly && (mode == O_WRONLY || mode == O_RDWR);
}

/** Files with a position: not pipes or terminals (Linux's memory devices, null and zero, have one). */
@inline export function seekable(file: File): bool {
  return file.kind == FileKind.Regular || file.kind == FileKind.Directory || file.kind == FileKind.Generated ||
    file.kind == FileKind.BlockDevice || file.kind == FileKind.Entries ||
    (file.kind == FileKind.Device && !isTerminal(changetype<Inode>(file.inode).rdev));
}

/**
 * Reads from an open file into user memory, at `offset` (AT_POSITION: the
 * file's position, which then advances). Sleeps for data only when `wait`
 * (a blocking descriptor that has moved nothing yet in this call).
 */
function readFrom(process: Process, file: File, buffer: u64, count: u64, offset: i64, wait: bool): i64 {
  const space = spaceOf(process);
  if (isTerminalFile(file)) {
    const stopped = backgroundRead(process);
    if (stopped != 0) return stopped;
  }
  if (file.kind == FileKind.Console) return readDevice(DEV_TTYS0, space, buffer, count, !wait);
  if (file.kind == FileKind.Directory) return -EISDIR;
  if (file.kind == FileKind.SignalFd) return readSignalfd(process, file, buffer, count, !wait);
  if (file.kind == FileKind.EventFd) return readEventfd(process, file, buffer, count, !wait);
  if (file.kind == FileKind.Epoll) return -EINVAL; // it has no read, as on Linux
  if (isPipeFile(file)) {
    const result = readPipe(changetype<Pipe>(file.data), space, buffer, count, !wait);
    return result == PIPE_FAULT ? -EFAULT : result == PIPE_INTERRUPTED ? -EINTR : result == PIPE_WOULD_BLOCK ? -EAGAIN : result;
  }
  const at = offset == AT_POSITION ? file.offset : <u64>offset;
  let result: i64;
  if (file.kind == FileKind.Device) {
    result = readDevice(changetype<Inode>(file.inode).rdev, space, buffer, count, !wait);
  } else if (file.kind == FileKind.Regular) {
    result = readInode(changetype<Inode>(file.inode), space, buffer, count, at);
    if (result >= 0) fileAccessed(file);
  } else if (file.kind == FileKind.BlockDevice) {
    const object = blockFileObject(changetype<Inode>(file.inode));
    result = object == null ? -ENXIO : readObject(object, space, buffer, count, at);
  } else if (file.kind == FileKind.Entries) {
    result = readEntries(changetype<Inode>(file.inode), space, buffer, count, at);
  } else if (file.kind == FileKind.Generated) {
    if (at >= <u64>file.size) return 0;
    const n = min(count, <u64>file.size - at);
    result = copyToUser(space, buffer, file.data + <u32>at, n) ? <i64>n : -EFAULT;
  } else {
    return -EBADF;
  }
  if (result > 0 && offset == AT_POSITION && file.kind != FileKind.Device) file.offset += <u64>result;
  return result;
}

/** Writes user memory to an open file, at `offset` (AT_POSITION: the file's position, or its end with O_APPEND). */
function writeTo(process: Process, file: File, buffer: u64, count: u64, offset: i64): i64 {
  return writeFrom(process, file, spaceOf(process), buffer, count, offset);
}

/**
 * writeTo from `buffer` in `space`, or in kernel memory when `space` is
 * null (sendfile's): then only the files sendfile may write take it.
 */
export function writeFrom(process: Process, file: File, space: AddressSpace | null, buffer: u64, count: u64, offset: i64): i64 {
  if (isPipeFile(file)) {
    const result = writePipe(changetype<Pipe>(file.data), space, buffer, count, isNonBlocking(file));
    if (result == PIPE_BROKEN) {
      signalProcess(process, SIGPIPE, 0); // and EPIPE, for a process that ignores or handles it
      return -EPIPE;
    }
    return result == PIPE_FAULT ? -EFAULT : result == PIPE_INTERRUPTED ? -EINTR
      : result == PIPE_WOULD_BLOCK ? -EAGAIN : result == PIPE_NO_MEMORY ? -ENOMEM : result;
  }
  if (isTerminalFile(file)) {
    const stopped = backgroundWrite(process);
    if (stopped != 0) return stopped;
  }
  if (file.kind == FileKind.Console) return writeConsole(space, buffer, count, isNonBlocking(file));
  if (file.kind == FileKind.Device) return writeDevice(changetype<Inode>(file.inode).rdev, space, buffer, count, isNonBlocking(file));
  if (file.kind == FileKind.SignalFd || file.kind == FileKind.Epoll) return -EINVAL; // they have no write, as on Linux
  if (file.kind == FileKind.EventFd) return space == null ? -EINVAL : writeEventfd(process, file, buffer, count, isNonBlocking(file));
  if (file.kind == FileKind.BlockDevice) return writeBlockFile(file, space, buffer, count, offset);
  if (file.kind != FileKind.Regular) return -EBADF;
  const inode = changetype<Inode>(file.inode);
  // As on Linux, O_APPEND writes at the end even when pwrite gives an offset.
  const append = (file.flags & O_APPEND) != 0;
  const at = append ? inodeSize(inode) : offset == AT_POSITION ? file.offset : <u64>offset;
  const allowed = writableCount(process, at, count);
  if (allowed < 0) return allowed;
  const result = writeInode(inode, space, buffer, <u64>allowed, at);
  if (result > 0 && offset == AT_POSITION) file.offset = at + <u64>result; // pwrite leaves it, O_APPEND or not
  return result;
}

/** A write to a block device: its bytes, up to its end (then ENOSPC); O_APPEND has no meaning there. */
function writeBlockFile(file: File, space: AddressSpace | null, buffer: u64, count: u64, offset: i64): i64 {
  const inode = changetype<Inode>(file.inode);
  const object = blockFileObject(inode);
  if (object == null) return -ENXIO;
  const at = offset == AT_POSITION ? file.offset : <u64>offset;
  const result = writeObject(object, space, buffer, count, at, blockFileSize(inode));
  if (result > 0 && offset == AT_POSITION) file.offset = at + <u64>result;
  return result;
}

/** The descriptor's file if it is open for reading (or, not `reading`, writing); null for EBADF. */
export function checkedFile(process: Process, fd: i64, reading: bool): File | null {
  const file = fileAt(process.files, fd);
  if (file == null || !(reading ? readable(file) : writable(file))) return null;
  return file;
}

export function sysRead(process: Process, fd: i64, buffer: u64, count: u64): i64 {
  const file = checkedFile(process, fd, true);
  if (file == null) return -EBADF;
  if (!userRange(buffer, count)) return -EFAULT;
  retainFile(file); // a read may sleep; another thread may close the descriptor
  const result = readFrom(process, file, buffer, min(count, MAX_RW_COUNT), AT_POSITION, !isNonBlocking(file));
  releaseFile(file);
  return result;
}

export function sysWrite(process: Process, fd: i64, buffer: u64, count: u64): i64 {
  const file = checkedFile(process, fd, false);
  if (file == null) return -EBADF;
  if (!userRange(buffer, count)) return -EFAULT;
  retainFile(file);
  const result = writeTo(process, file, buffer, min(count, MAX_RW_COUNT), AT_POSITION);
  releaseFile(file);
  return result;
}

/** pread64 and pwrite64: at `offset`, leaving the file's position alone; ESPIPE where there is none. */
export function sysPread(process: Process, fd: i64, buffer: u64, count: u64, offset: i64, reading: bool): i64 {
  const file = checkedFile(process, fd, reading);
  if (file == null) return -EBADF;
  if (offset < 0) return -EINVAL;
  if (!seekable(file)) return -ESPIPE;
  if (!userRange(buffer, count)) return -EFAULT;
  const n = min(count, MAX_RW_COUNT);
  retainFile(file);
  const result = reading ? readFrom(process, file, buffer, n, offset, !isNonBlocking(file)) : writeTo(process, file, buffer, n, offset);
  releaseFile(file);
  return result;
}

/**
 * readv, writev, preadv and pwritev, in Linux's order: the whole iovec
 * array is copied into the kernel and checked (at most IOV_MAX entries, no
 * length negative as ssize_t: EINVAL; every range in user space, the array
 * readable: EFAULT; the total capped at MAX_RW_COUNT) before any byte
 * moves or the caller sleeps, so data landing on the array cannot change
 * what is done. Then one transfer per entry, stopping at the first short
 * one; a read waits only while nothing has arrived, and an error after
 * some bytes moved is reported as the count so far.
 */
export function sysTransferVector(process: Process, fd: i64, vector: u64, count: i64, offset: i64, positioned: bool, reading: bool): i64 {
  const file = checkedFile(process, fd, reading);
  if (file == null) return -EBADF;
  if (positioned) {
    if (offset < 0) return -EINVAL; // -1 too, which would otherwise mean the file's own position
    if (!seekable(file)) return -ESPIPE;
  } else {
    offset = AT_POSITION;
  }
  if (<u64>count > <u64>IOV_MAX) return -EINVAL;
  if (count == 0) return 0;
  // This request's own copy (at most 16 KiB): the call may sleep, so no shared scratch buffer.
  const iovecs = kmalloc(<u32>count * IOVEC_SIZE);
  if (iovecs == 0) return -ENOMEM;
  retainFile(file);
  const result = checkedTransfer(process, file, iovecs, vector, <u32>count, offset, reading);
  releaseFile(file);
  kfree(iovecs);
  return result;
}

function checkedTransfer(process: Process, file: File, iovecs: u32, vector: u64, count: u32, offset: i64, reading: bool): i64 {
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
    const at = offset == AT_POSITION ? AT_POSITION : offset + moved;
    const wait = moved == 0 && !isNonBlocking(file);
    const n = reading ? readFrom(process, file, load<u64>(entry), length, at, wait) : writeTo(process, file, load<u64>(entry), length, at);
    if (n < 0) return moved > 0 ? moved : n;
    moved += n;
    if (<u64>n < length) break;
  }
  return moved;
}

const SEEK_SET: i64 = 0;
const SEEK_CUR: i64 = 1;
const SEEK_END: i64 = 2;
const SEEK_DATA: i64 = 3;
const SEEK_HOLE: i64 = 4;

export function sysLseek(process: Process, fd: i64, offset: i64, whence: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  // Linux's noop_llseek: the position stays 0.
  if (file.kind == FileKind.SignalFd || file.kind == FileKind.EventFd || file.kind == FileKind.Epoll) return 0;
  if (!seekable(file)) return -ESPIPE;
  const size = file.kind == FileKind.Regular ? <i64>inodeSize(changetype<Inode>(file.inode))
    : file.kind == FileKind.Generated ? <i64>file.size
    : file.kind == FileKind.BlockDevice ? <i64>blockFileSize(changetype<Inode>(file.inode)) : 0;
  let position: i64;
  if (whence == SEEK_SET) position = offset;
  else if (whence == SEEK_CUR) position = <i64>file.offset + offset;
  else if (whence == SEEK_END) position = size + offset;
  else if (whence == SEEK_DATA || whence == SEEK_HOLE) {
    if (file.kind != FileKind.Regular) return -EINVAL;
    if (offset < 0) return -ENXIO;
    const inode = changetype<Inode>(file.inode);
    position = whence == SEEK_DATA ? nextData(inode, <u64>offset) : nextHole(inode, <u64>offset);
    if (position < 0) return -ENXIO;
  } else {
    return -EINVAL;
  }
  if (position < 0 || <u64>position > MAX_FILE_SIZE) return -EINVAL;
  if (file.kind == FileKind.Directory && whence == SEEK_END) return -EINVAL; // a directory's positions are readdir cursors
  file.offset = <u64>position;
  return position;
}
