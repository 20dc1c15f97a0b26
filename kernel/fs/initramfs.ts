// The initramfs: the cpio archive GRUB loads as the module named
// "initramfs", served in place as a read-only file system. A file is known
// by its index in the entry table (its inode number, in effect).
import { findModule } from "../boot/multiboot2";
import { kmalloc } from "../mm/slab";
import { CPIO_ENTRY_SIZE, CpioEntry, CpioStatus, cpioEntryCount, parseCpio } from "./cpio";

const S_IFMT: u32 = 0o170000;
export const S_IFDIR: u32 = 0o040000;
export const S_IFREG: u32 = 0o100000;
export const ROOT_INODE: i32 = -2; // "/" has no archive entry of its own
export const NOT_FOUND: i32 = -1;

let table: u32 = 0;
let count: u32 = 0;

/** Finds and indexes the initramfs module. Returns its status (Truncated if absent). */
export function mountInitramfs(): CpioStatus {
  const module = findModule("initramfs");
  if (module == null) return CpioStatus.Truncated;
  const size = module.end - module.start;
  parseCpio(module.start, size, 0, 0);
  const capacity = cpioEntryCount();
  table = kmalloc(max(capacity, 1) * CPIO_ENTRY_SIZE);
  if (table == 0) return CpioStatus.TooManyEntries;
  const status = parseCpio(module.start, size, table, capacity);
  count = cpioEntryCount();
  return status;
}

export function initramfsFileCount(): u32 {
  return count;
}

@inline function entry(inode: i32): CpioEntry {
  return changetype<CpioEntry>(table + <u32>inode * CPIO_ENTRY_SIZE);
}

/**
 * Looks up a path (absolute or relative to "/"; "." and ".." and repeated
 * slashes are understood) given as `length` bytes at `path`.
 * Returns an inode (entry index), ROOT_INODE, or NOT_FOUND.
 */
export function lookupPath(path: u32, length: u32): i32 {
  // Normalize into a scratch buffer: components joined by single slashes.
  const normal = memory.data(4096);
  let n: u32 = 0;
  let i: u32 = 0;
  while (i < length) {
    while (i < length && load<u8>(path + i) == 0x2f) i++;
    const start = i;
    while (i < length && load<u8>(path + i) != 0x2f) i++;
    const componentLength = i - start;
    if (componentLength == 0 || (componentLength == 1 && load<u8>(path + start) == 0x2e)) continue;
    if (componentLength == 2 && load<u8>(path + start) == 0x2e && load<u8>(path + start + 1) == 0x2e) {
      while (n > 0 && load<u8>(normal + n - 1) != 0x2f) n--;
      if (n > 0) n--;
      continue;
    }
    if (n + componentLength + 1 > 4096) return NOT_FOUND;
    if (n > 0) store<u8>(normal + n++, 0x2f);
    memory.copy(normal + n, path + start, componentLength);
    n += componentLength;
  }
  if (n == 0) return ROOT_INODE;
  for (let inode: u32 = 0; inode < count; inode++) {
    const e = entry(<i32>inode);
    if (e.nameLength == n && memoryEquals(e.name, normal, n)) return <i32>inode;
  }
  return NOT_FOUND;
}

function memoryEquals(a: u32, b: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

export function inodeMode(inode: i32): u32 {
  return inode == ROOT_INODE ? S_IFDIR | 0o755 : entry(inode).mode;
}

export function inodeSize(inode: i32): u32 {
  return inode == ROOT_INODE ? 0 : entry(inode).size;
}

/** Physical address of the file's bytes (they stay in the archive). */
export function inodeData(inode: i32): u32 {
  return entry(inode).data;
}

export function isDirectory(inode: i32): bool {
  return (inodeMode(inode) & S_IFMT) == S_IFDIR;
}

export function isRegularFile(inode: i32): bool {
  return (inodeMode(inode) & S_IFMT) == S_IFREG;
}

/**
 * The first child of directory `directory` at or after entry `cursor`, or
 * NOT_FOUND: an entry whose name is the directory's name, a slash, and one
 * more component (for "/", a name without a slash).
 */
export function nextChild(directory: i32, cursor: u32): i32 {
  const prefix: u32 = directory == ROOT_INODE ? 0 : entry(directory).name;
  const prefixLength: u32 = directory == ROOT_INODE ? 0 : entry(directory).nameLength + 1;
  for (let inode = cursor; inode < count; inode++) {
    const e = entry(<i32>inode);
    if (e.nameLength <= prefixLength) continue;
    if (prefixLength > 0 && (!memoryEquals(e.name, prefix, prefixLength - 1) || load<u8>(e.name + prefixLength - 1) != 0x2f)) continue;
    let nested = false;
    for (let i = prefixLength; i < e.nameLength; i++) if (load<u8>(e.name + i) == 0x2f) nested = true;
    if (!nested) return <i32>inode;
  }
  return NOT_FOUND;
}

/** An inode's path without the leading slash (address; see inodeNameLength). */
export function inodeName(inode: i32): u32 {
  return entry(inode).name;
}

export function inodeNameLength(inode: i32): u32 {
  return entry(inode).nameLength;
}

/** The last path component of an inode's name (address; see inodeBaseNameLength). */
export function inodeBaseName(inode: i32): u32 {
  const e = entry(inode);
  let start = e.nameLength;
  while (start > 0 && load<u8>(e.name + start - 1) != 0x2f) start--;
  return e.name + start;
}

export function inodeBaseNameLength(inode: i32): u32 {
  return entry(inode).name + entry(inode).nameLength - inodeBaseName(inode);
}

/** Inode number as user space sees it (st_ino): never 0. */
export function inodeNumber(inode: i32): u64 {
  return inode == ROOT_INODE ? 1 : <u64>inode + 2;
}
