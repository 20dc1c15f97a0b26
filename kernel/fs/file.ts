// Open files and the per-process descriptor table. A File (Linux's struct
// file) is shared by every descriptor that refers to it (dup, fork) and
// counts them; it holds the access mode and the status flags (O_NONBLOCK,
// O_APPEND), which fcntl(F_SETFL) changes for every such descriptor at
// once. Close-on-exec belongs to the descriptor, not the File: it lives in
// bit 0 of the descriptor's table slot (Files are slab objects, at least
// 16-byte aligned).
//
// The table starts with 64 slots and, as Linux's fdtable, grows (doubling)
// when a descriptor past its end is wanted; RLIMIT_NOFILE, which the
// caller passes in, bounds the descriptors it hands out.
import { kfree, kmalloc } from "../mm/slab";
import { forgetWatchedFile, freeEpollSet } from "./epoll_set";
import { Inode, isRegularInode, releaseInode } from "./inode";
import { closedForWriting, openedForWriting } from "./mount";
import { Pipe, closePipeEnds } from "./pipe";

/** RLIMIT_NOFILE as Linux starts init with (INR_OPEN_CUR, INR_OPEN_MAX), and its ceiling (fs.nr_open). */
export const FILE_LIMIT_DEFAULT: u32 = 1024;
export const FILE_LIMIT_DEFAULT_MAX: u32 = 4096;
export const FILE_LIMIT_CEILING: u32 = 1048576;
const FIRST_CAPACITY: u32 = 64; // Linux's NR_OPEN_DEFAULT

const ENOMEM: i32 = 12;
const EMFILE: i32 = 24;

export const O_ACCMODE: u32 = 3;
export const O_RDONLY: u32 = 0;
export const O_WRONLY: u32 = 1;
export const O_RDWR: u32 = 2;
export const O_APPEND: u32 = 0o2000;
export const O_NONBLOCK: u32 = 0o4000;
export const O_NOATIME: u32 = 0o1000000;
export const O_CLOEXEC: u32 = 0o2000000;
/** The status flags a File keeps and F_SETFL may change (O_ASYNC and O_DIRECT are refused). */
export const STATUS_FLAGS: u32 = O_APPEND | O_NONBLOCK | O_NOATIME;

/** Descriptor flag (fcntl F_GETFD/F_SETFD). */
export const FD_CLOEXEC: u32 = 1;

export const enum FileKind {
  Console = 1, // the serial console: standard input, output and error
  Regular = 2, // a file whose bytes are its inode's memory object
  Directory = 3,
  Generated = 4, // text made at open (the /proc files), kept in `data`
  PipeRead = 5, // `data` is the Pipe; the access mode says which ends it holds (a FIFO opened O_RDWR: both)
  PipeWrite = 6,
  Device = 7, // a character device: its inode's rdev says which
  PathOnly = 8, // O_PATH: names its inode, reads and writes nothing
  SignalFd = 9, // signalfd: `data` holds the signal set it reads (a u64, kmalloc'd)
  EventFd = 10, // eventfd: `data` holds its counter and mode (kmalloc'd)
  Epoll = 11, // `data` is its EpollSet (epoll_set.ts)
  BlockDevice = 12, // a block device node: its bytes are the device's pages (block_file.ts)
  Entries = 13, // a /proc file of u64 entries made at each read (kpageflags, kpagecount, PID/pagemap): its inode says which
}

/** Files with no inode of their own, which Linux backs with its anonymous inode: what /proc/PID/fd calls them. */
export function anonymousName(file: File): string | null {
  if (file.kind == FileKind.SignalFd) return "anon_inode:[signalfd]";
  if (file.kind == FileKind.EventFd) return "anon_inode:[eventfd]";
  return file.kind == FileKind.Epoll ? "anon_inode:[eventpoll]" : null;
}

/**
 *   0 kind  4 refCount  8 inode (held; 0 for pipes and the console)
 *  12 flags (access mode | status flags)  16 offset(u64)
 *  24 data  28 size   (Generated files: their text, kmalloc'd)
 */
@unmanaged export class File {
  kind: u32;
  refCount: u32;
  inode: Inode | null;
  flags: u32;
  offset: u64;
  data: u32;
  size: u32;
}
const FILE_SIZE: u32 = 32;

/** A new File with one reference; it takes over the caller's hold on `inode`. `flags` are open flags (only the access mode and status flags are kept). */
export function newFile(kind: FileKind, inode: Inode | null, flags: u32): File | null {
  const address = kmalloc(FILE_SIZE);
  if (address == 0) return null;
  const file = changetype<File>(address);
  file.kind = kind;
  file.refCount = 1;
  file.inode = inode;
  file.flags = flags & (O_ACCMODE | STATUS_FLAGS);
  if (countsAsWriter(file)) openedForWriting(changetype<Inode>(inode));
  return file;
}

/** Linux's rule: a regular file open for writing keeps its mount from going read-only; device nodes and FIFOs do not. */
@inline function countsAsWriter(file: File): bool {
  const access = file.flags & O_ACCMODE;
  return file.inode != null && (access == O_WRONLY || access == O_RDWR) && !isPathOnly(file) &&
    isRegularInode(changetype<Inode>(file.inode));
}

/** An O_PATH descriptor: it names a file and can neither read nor write it. */
@inline export function isPathOnly(file: File): bool {
  return file.kind == FileKind.PathOnly;
}

@inline export function isNonBlocking(file: File): bool {
  return (file.flags & O_NONBLOCK) != 0;
}

/** An end of a pipe, or of a FIFO (whose File also holds its inode). */
@inline export function isPipeFile(file: File): bool {
  return file.kind == FileKind.PipeRead || file.kind == FileKind.PipeWrite;
}

/**
 * Another hold on `file`: a call that may sleep with it keeps it so, as
 * Linux's fdget does, since another thread may close the descriptor meanwhile.
 */
@inline export function retainFile(file: File): File {
  file.refCount++;
  return file;
}

export function releaseFile(file: File): void {
  if (--file.refCount != 0) return;
  forgetWatchedFile(changetype<u32>(file));
  if (file.kind == FileKind.Epoll) {
    if (file.data != 0) freeEpollSet(file.data);
  } else if (isPipeFile(file)) {
    const mode = file.flags & O_ACCMODE;
    const freed = closePipeEnds(changetype<Pipe>(file.data), mode != O_WRONLY, mode != O_RDONLY);
    if (freed && file.inode != null) changetype<Inode>(file.inode).pipe = 0; // a FIFO's: the next open makes a new one
  } else if (file.data != 0) {
    kfree(file.data);
  }
  if (countsAsWriter(file)) closedForWriting(changetype<Inode>(file.inode));
  releaseInode(file.inode);
  kfree(changetype<u32>(file));
}

/**
 * One process's descriptors, shared by the threads made with CLONE_FILES.
 *
 *   0 slots (kmalloc'd, `capacity` u32s: a File's address | FD_CLOEXEC, 0 when free)  4 capacity
 *   8 users: the records holding it
 */
@unmanaged export class FileTable {
  slots: u32;
  capacity: u32;
  users: u32;
}
const FILE_TABLE_RECORD_SIZE: u32 = 12;

// What a record that has exited holds instead of its table: no slots, and
// never freed (its users count is never looked at).
const NO_FILES = memory.data(FILE_TABLE_RECORD_SIZE, 4);

/** The table of a record that has let go of its own (an exited thread, a zombie): empty. */
export function noFileTable(): FileTable {
  return changetype<FileTable>(NO_FILES);
}

/** One more holder of `table`: a thread made with CLONE_FILES. */
export function shareFileTable(table: FileTable): FileTable {
  table.users++;
  return table;
}

/** A holder lets go of `table`: the last one closes every descriptor and frees it. */
export function releaseFileTable(table: FileTable): void {
  if (changetype<u32>(table) == <u32>NO_FILES) return;
  table.users--;
  if (table.users == 0) freeFileTable(table);
}

/** An empty table of 64 slots; null when out of memory. */
export function newFileTable(): FileTable | null {
  const address = kmalloc(FILE_TABLE_RECORD_SIZE);
  if (address == 0) return null;
  const slots = kmalloc(FIRST_CAPACITY * 4);
  if (slots == 0) {
    kfree(address);
    return null;
  }
  const table = changetype<FileTable>(address);
  table.slots = slots;
  table.capacity = FIRST_CAPACITY;
  table.users = 1;
  return table;
}

/** Makes room for descriptor `fd` (fd < FILE_LIMIT_CEILING), doubling the slots; false when out of memory. */
function growTo(table: FileTable, fd: u32): bool {
  if (fd < table.capacity) return true;
  let capacity = max(table.capacity, FIRST_CAPACITY);
  while (capacity <= fd) capacity <<= 1;
  const slots = kmalloc(capacity * 4);
  if (slots == 0) return false;
  if (table.slots != 0) {
    memory.copy(slots, table.slots, table.capacity * 4);
    kfree(table.slots);
  }
  table.slots = slots;
  table.capacity = capacity;
  return true;
}

@inline function slot(table: FileTable, fd: u32): u32 {
  return table.slots + fd * 4;
}

@inline function fileIn(entry: u32): u32 {
  return entry & ~FD_CLOEXEC;
}

/** The File behind descriptor `fd` in `table`, or null. */
export function fileAt(table: FileTable, fd: i64): File | null {
  if (fd < 0 || fd >= <i64>table.capacity) return null;
  const file = fileIn(load<u32>(slot(table, <u32>fd)));
  return file == 0 ? null : changetype<File>(file);
}

/** Descriptor flags (FD_CLOEXEC) of an open descriptor. */
export function descriptorFlags(table: FileTable, fd: u32): u32 {
  return load<u32>(slot(table, fd)) & FD_CLOEXEC;
}

export function setDescriptorFlags(table: FileTable, fd: u32, flags: u32): void {
  const at = slot(table, fd);
  store<u32>(at, fileIn(load<u32>(at)) | (flags & FD_CLOEXEC));
}

/**
 * Installs `file` (taking over the caller's reference) at the lowest free
 * descriptor >= `lowest` and below `limit` (RLIMIT_NOFILE), with descriptor
 * flags `fdFlags`. Returns the descriptor, -EMFILE when every one below the
 * limit is taken, or -ENOMEM when the table could not grow.
 */
export function installFileFrom(table: FileTable, file: File, lowest: u32, limit: u32, fdFlags: u32): i32 {
  assert((changetype<u32>(file) & FD_CLOEXEC) == 0, "installFileFrom: File not aligned, the flag bit would corrupt it");
  let fd = lowest;
  const end = min(limit, table.capacity);
  while (fd < end && load<u32>(slot(table, fd)) != 0) fd++;
  if (fd >= limit) return -EMFILE;
  if (!growTo(table, fd)) return -ENOMEM;
  store<u32>(slot(table, fd), changetype<u32>(file) | (fdFlags & FD_CLOEXEC));
  return <i32>fd;
}

/** Installs `file` (taking over the caller's reference) at the lowest free descriptor; -EMFILE or -ENOMEM as installFileFrom. */
export function installFile(table: FileTable, file: File, limit: u32, fdFlags: u32 = 0): i32 {
  return installFileFrom(table, file, 0, limit, fdFlags);
}

/** Empties descriptor `fd` without releasing its File (undoing an install whose reference the caller still holds). */
export function forgetDescriptor(table: FileTable, fd: u32): void {
  store<u32>(slot(table, fd), 0);
}

export function closeDescriptor(table: FileTable, fd: i64): bool {
  const file = fileAt(table, fd);
  if (file == null) return false;
  store<u32>(slot(table, <u32>fd), 0);
  releaseFile(file);
  return true;
}

/**
 * Points descriptor `fd` (below FILE_LIMIT_CEILING) at `file` (taking a
 * reference) with descriptor flags `fdFlags`, closing what was there;
 * false when the table could not grow to hold it.
 */
export function replaceDescriptor(table: FileTable, fd: u32, file: File, fdFlags: u32): bool {
  if (!growTo(table, fd)) return false;
  file.refCount++;
  closeDescriptor(table, fd);
  store<u32>(slot(table, fd), changetype<u32>(file) | (fdFlags & FD_CLOEXEC));
  return true;
}

/** Installs `file` (taking a reference) at the lowest free descriptor in [lowest, limit); -EMFILE or -ENOMEM as installFileFrom. */
export function duplicateFrom(table: FileTable, file: File, lowest: u32, limit: u32, fdFlags: u32): i32 {
  const fd = installFileFrom(table, file, lowest, limit, fdFlags);
  if (fd >= 0) file.refCount++;
  return fd;
}

/** fork: the child's table (new) refers to the same Files, with the same descriptor flags; false when out of memory. */
export function copyDescriptors(into: FileTable, from: FileTable): bool {
  let highest: i32 = -1;
  for (let fd: u32 = 0; fd < from.capacity; fd++) if (load<u32>(slot(from, fd)) != 0) highest = <i32>fd;
  if (highest >= 0 && !growTo(into, <u32>highest)) return false;
  for (let fd: i32 = 0; fd <= highest; fd++) {
    const entry = load<u32>(slot(from, <u32>fd));
    if (entry == 0) continue;
    store<u32>(slot(into, <u32>fd), entry);
    changetype<File>(fileIn(entry)).refCount++;
  }
  return true;
}

/** execve: closes the descriptors marked close-on-exec. */
export function closeOnExec(table: FileTable): void {
  for (let fd: u32 = 0; fd < table.capacity; fd++) {
    if ((load<u32>(slot(table, fd)) & FD_CLOEXEC) != 0) closeDescriptor(table, fd);
  }
}

/** exit: closes every descriptor and gives back the slots (a zombie holds none). */
export function closeAll(table: FileTable): void {
  for (let fd: u32 = 0; fd < table.capacity; fd++) closeDescriptor(table, fd);
  if (table.slots != 0) kfree(table.slots);
  table.slots = 0;
  table.capacity = 0;
}

export function freeFileTable(table: FileTable): void {
  closeAll(table);
  kfree(changetype<u32>(table));
}
