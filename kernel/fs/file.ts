// Open files and the per-process descriptor table. A File is shared by
// every descriptor that refers to it (dup, fork) and counts them.
import { kfree, kmalloc } from "../mm/slab";
import { Pipe, closePipeEnd } from "./pipe";

export const FILE_TABLE_SIZE: u32 = 64;

export const enum FileKind {
  Console = 1, // the serial console: standard input, output and error
  InitramfsFile = 2,
  Directory = 3,
  Generated = 4, // text made at open (the /proc files), kept in `data`
  PipeRead = 5, // `data` is the Pipe
  PipeWrite = 6,
}

/**
 *   0 kind  4 refCount  8 inode(i32)  12 flags (open flags)  16 offset(u64)
 *  24 data  28 size   (Generated files: their text, kmalloc'd)
 */
@unmanaged export class File {
  kind: u32;
  refCount: u32;
  inode: i32;
  flags: u32;
  offset: u64;
  data: u32;
  size: u32;
}
const FILE_SIZE: u32 = 32;

export function newFile(kind: FileKind, inode: i32, flags: u32): File | null {
  const address = kmalloc(FILE_SIZE);
  if (address == 0) return null;
  const file = changetype<File>(address);
  file.kind = kind;
  file.refCount = 1;
  file.inode = inode;
  file.flags = flags;
  return file;
}

export function releaseFile(file: File): void {
  if (--file.refCount != 0) return;
  if (file.kind == FileKind.PipeRead || file.kind == FileKind.PipeWrite) {
    closePipeEnd(changetype<Pipe>(file.data), file.kind == FileKind.PipeWrite);
  } else if (file.data != 0) {
    kfree(file.data);
  }
  kfree(changetype<u32>(file));
}

/** The File behind descriptor `fd` in `table`, or null. */
export function fileAt(table: u32, fd: i64): File | null {
  if (fd < 0 || fd >= <i64>FILE_TABLE_SIZE) return null;
  const file = load<u32>(table + <u32>fd * 4);
  return file == 0 ? null : changetype<File>(file);
}

/** Installs `file` at the lowest free descriptor; -1 if the table is full. */
export function installFile(table: u32, file: File): i32 {
  for (let fd: u32 = 0; fd < FILE_TABLE_SIZE; fd++) {
    if (load<u32>(table + fd * 4) == 0) {
      store<u32>(table + fd * 4, changetype<u32>(file));
      return <i32>fd;
    }
  }
  return -1;
}

export function closeDescriptor(table: u32, fd: i64): bool {
  const file = fileAt(table, fd);
  if (file == null) return false;
  store<u32>(table + <u32>fd * 4, 0);
  releaseFile(file);
  return true;
}

/** Points descriptor `fd` at `file` (taking a reference), closing what was there. */
export function replaceDescriptor(table: u32, fd: u32, file: File): void {
  file.refCount++;
  closeDescriptor(table, fd);
  store<u32>(table + fd * 4, changetype<u32>(file));
}

/** Installs `file` (taking a reference) at the lowest free descriptor >= `lowest`; -1 if none. */
export function duplicateFrom(table: u32, file: File, lowest: u32): i32 {
  for (let fd = lowest; fd < FILE_TABLE_SIZE; fd++) {
    if (load<u32>(table + fd * 4) == 0) {
      store<u32>(table + fd * 4, changetype<u32>(file));
      file.refCount++;
      return <i32>fd;
    }
  }
  return -1;
}

export function closeAll(table: u32): void {
  for (let fd: u32 = 0; fd < FILE_TABLE_SIZE; fd++) closeDescriptor(table, fd);
}
