// The initramfs: the cpio archive GRUB loads as the module named
// "initramfs", unpacked into the root tmpfs at boot as Linux does, but
// without copying a byte of file data: each regular file's memory object
// reads its pages from the archive the first time they are needed, and a
// page written becomes the file's own. So exec of a large program still
// reads nothing before it is touched.
import { findModule } from "../boot/multiboot2";
import { kfree, kmalloc } from "../mm/slab";
import { CPIO_ENTRY_SIZE, CpioEntry, CpioStatus, cpioEntryCount, parseCpio } from "./cpio";
import {
  Inode, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, isDirectoryInode, lookupIn, releaseInode, symlinkIn,
} from "./inode";
import { createWithSource, tmpfsCreate } from "./tmpfs";

let unpacked: u32 = 0;

/** Entries unpacked at boot (for the boot log). */
export function initramfsFileCount(): u32 {
  return unpacked;
}

/** The directory `name` in `dir`, made if missing; with a reference, or null. */
function directoryIn(dir: Inode, name: u32, length: u32, mode: u32): Inode | null {
  const found = lookupIn(dir, name, length);
  if (found > 0) {
    const inode = changetype<Inode>(<u32>found);
    if (isDirectoryInode(inode)) return inode;
    releaseInode(inode);
    return null;
  }
  const made = tmpfsCreate(dir, name, length, S_IFDIR | (mode & 0o7777), 0);
  return made > 0 ? changetype<Inode>(<u32>made) : null;
}

/** Creates one archive member under `root`, its parent directories first. False if it could not be. */
function unpackEntry(root: Inode, e: CpioEntry): bool {
  let dir = changetype<Inode>(changetype<u32>(root));
  dir.refCount++;
  let start: u32 = 0;
  while (true) {
    let end = start;
    while (end < e.nameLength && load<u8>(e.name + end) != 0x2f) end++;
    const name = e.name + start;
    const length = end - start;
    if (end == e.nameLength) { // the member itself
      let result: i64 = 0;
      const type = e.mode & S_IFMT;
      if (length == 0) result = 0;
      else if (type == S_IFDIR) {
        const made = directoryIn(dir, name, length, e.mode);
        if (made != null) {
          made.mode = e.mode;
          releaseInode(made);
        }
        result = made != null ? 0 : -1;
      } else if (type == S_IFLNK) result = symlinkIn(dir, name, length, e.data, e.size);
      else if (type == S_IFREG) result = createWithSource(dir, name, length, e.mode, 0, e.data, e.size);
      else result = tmpfsCreate(dir, name, length, e.mode, e.rdev);
      if (result > 0) releaseInode(changetype<Inode>(<u32>result));
      releaseInode(dir);
      return result >= 0;
    }
    if (length != 0) {
      const next = directoryIn(dir, name, length, 0o755);
      releaseInode(dir);
      if (next == null) return false;
      dir = next;
    }
    start = end + 1;
  }
  return false; // not reached
}

/** Finds the initramfs module and unpacks it into `root`. Returns its status (Truncated if absent). */
export function unpackInitramfs(root: Inode): CpioStatus {
  const module = findModule("initramfs");
  if (module == null) return CpioStatus.Truncated;
  return unpackArchive(root, module.start, module.end - module.start);
}

/** Unpacks the archive at [start, start + size) into `root`; members that cannot be made are skipped. */
export function unpackArchive(root: Inode, start: u32, size: u32): CpioStatus {
  parseCpio(start, size, 0, 0);
  const capacity = cpioEntryCount();
  const table = kmalloc(max(capacity, 1) * CPIO_ENTRY_SIZE);
  if (table == 0) return CpioStatus.TooManyEntries;
  const status = parseCpio(start, size, table, capacity);
  for (let i: u32 = 0; i < cpioEntryCount(); i++) {
    if (unpackEntry(root, changetype<CpioEntry>(table + i * CPIO_ENTRY_SIZE))) unpacked++;
  }
  kfree(table);
  return status;
}
