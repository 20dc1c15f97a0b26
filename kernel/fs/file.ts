// Open files and the per-process descriptor table. A File (Linux's struct
// file) is shared by every descriptor that refers to it (dup, fork) and
// counts them; it holds the access mode and the status flags (O_NONBLOCK,
// O_APPEND), which fcntl(F_SETFL) changes for every such descriptor at
// once. Close-on-exec belongs to the descriptor, not the File: it lives in
// bit 0 of the descriptor's table slot (Files are slab objects, at least
// 16-byte aligned).
import { kfree, kmalloc } from "../mm/slab";
import { Inode, releaseInode } from "./inode";
import { Pipe, closePipeEnd } from "./pipe";

export const FILE_TABLE_SIZE: u32 = 64;

export const O_ACCMODE: u32 = 3;
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
  PipeRead = 5, // `data` is the Pipe
  PipeWrite = 6,
  Device = 7, // a character device: its inode's rdev says which
  PathOnly = 8, // O_PATH: names its inode, reads and writes nothing
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
  return file;
}

/** An O_PATH descriptor: it names a file and can neither read nor write it. */
@inline export function isPathOnly(file: File): bool {
  return file.kind == FileKind.PathOnly;
}

@inline export function isNonBlocking(file: File): bool {
  return (file.flags & O_NONBLOCK) != 0;
}

export function releaseFile(file: File): void {
  if (--file.refCount != 0) return;
  if (file.kind == FileKind.PipeRead || file.kind == FileKind.PipeWrite) {
    closePipeEnd(changetype<Pipe>(file.data), file.kind == FileKind.PipeWrite);
  } else if (file.data != 0) {
    kfree(file.data);
  }
  releaseInode(file.inode);
  kfree(changetype<u32>(file));
}

@inline function slot(table: u32, fd: u32): u32 {
  return table + fd * 4;
}

@inline function fileIn(entry: u32): u32 {
  return entry & ~FD_CLOEXEC;
}

/** The File behind descriptor `fd` in `table`, or null. */
export function fileAt(table: u32, fd: i64): File | null {
  if (fd < 0 || fd >= <i64>FILE_TABLE_SIZE) return null;
  const file = fileIn(load<u32>(slot(table, <u32>fd)));
  return file == 0 ? null : changetype<File>(file);
}

/** Descriptor flags (FD_CLOEXEC) of an open descriptor. */
export function descriptorFlags(table: u32, fd: u32): u32 {
  return load<u32>(slot(table, fd)) & FD_CLOEXEC;
}

export function setDescriptorFlags(table: u32, fd: u32, flags: u32): void {
  const at = slot(table, fd);
  store<u32>(at, fileIn(load<u32>(at)) | (flags & FD_CLOEXEC));
}

/**
 * Installs `file` (taking over the caller's reference) at the lowest free
 * descriptor >= `lowest`, with descriptor flags `fdFlags`; -1 if none is free.
 */
export function installFileFrom(table: u32, file: File, lowest: u32, fdFlags: u32): i32 {
  assert((changetype<u32>(file) & FD_CLOEXEC) == 0, "installFileFrom: File not aligned, the flag bit would corrupt it");
  for (let fd = lowest; fd < FILE_TABLE_SIZE; fd++) {
    if (load<u32>(slot(table, fd)) == 0) {
      store<u32>(slot(table, fd), changetype<u32>(file) | (fdFlags & FD_CLOEXEC));
      return <i32>fd;
    }
  }
  return -1;
}

/** Installs `file` (taking over the caller's reference) at the lowest free descriptor; -1 if the table is full. */
export function installFile(table: u32, file: File, fdFlags: u32 = 0): i32 {
  return installFileFrom(table, file, 0, fdFlags);
}

/** Empties descriptor `fd` without releasing its File (undoing an install whose reference the caller still holds). */
export function forgetDescriptor(table: u32, fd: u32): void {
  store<u32>(slot(table, fd), 0);
}

export function closeDescriptor(table: u32, fd: i64): bool {
  const file = fileAt(table, fd);
  if (file == null) return false;
  store<u32>(slot(table, <u32>fd), 0);
  releaseFile(file);
  return true;
}

/** Points descriptor `fd` at `file` (taking a reference) with descriptor flags `fdFlags`, closing what was there. */
export function replaceDescriptor(table: u32, fd: u32, file: File, fdFlags: u32): void {
  file.refCount++;
  closeDescriptor(table, fd);
  store<u32>(slot(table, fd), changetype<u32>(file) | (fdFlags & FD_CLOEXEC));
}

/** Installs `file` (taking a reference) at the lowest free descriptor >= `lowest`; -1 if none. */
export function duplicateFrom(table: u32, file: File, lowest: u32, fdFlags: u32): i32 {
  const fd = installFileFrom(table, file, lowest, fdFlags);
  if (fd >= 0) file.refCount++;
  return fd;
}

/** fork: the child's table refers to the same Files, with the same descriptor flags. */
export function copyDescriptors(into: u32, from: u32): void {
  for (let fd: u32 = 0; fd < FILE_TABLE_SIZE; fd++) {
    const entry = load<u32>(slot(from, fd));
    if (entry == 0) continue;
    store<u32>(slot(into, fd), entry);
    changetype<File>(fileIn(entry)).refCount++;
  }
}

/** execve: closes the descriptors marked close-on-exec. */
export function closeOnExec(table: u32): void {
  for (let fd: u32 = 0; fd < FILE_TABLE_SIZE; fd++) {
    if ((load<u32>(slot(table, fd)) & FD_CLOEXEC) != 0) closeDescriptor(table, fd);
  }
}

export function closeAll(table: u32): void {
  for (let fd: u32 = 0; fd < FILE_TABLE_SIZE; fd++) closeDescriptor(table, fd);
}
