// tmpfs: a file system in memory, the root one. Directories are lists of
// entries; a regular file's bytes are a memory object in the page cache
// (pages written are dirty and stay; pages never written read as zeros, or
// as the initramfs archive's bytes for a file unpacked from it, and may be
// dropped and read again); symbolic links keep their target; device nodes
// their number.
import { unmapObjectFrom } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { MemoryObject, OBJECT_SPARSE, newMemoryObject, readFromSource, readZeroes } from "../mm/memory_object";
import { dropCachedPages, findCachedPage, markPageDirty } from "../mm/page_cache";
import { kfree, kmalloc } from "../mm/slab";
import {
  EmitEntry, INODE_OPS_SIZE, Inode, InodeOps, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, dropLink, fileType, isDirectoryInode,
  isSymlinkInode, newInode, retainInode, setInodeName, touchModified,
} from "./inode";

const ENOENT: i64 = 2;
const ENOMEM: i64 = 12;
const EEXIST: i64 = 17;
const ENOSPC: i64 = 28;

/**
 * A directory entry:
 *   0 next  4 inode  8 serial(u64): readdir's position, increasing in list order
 *  16 nameLength  20 name bytes
 */
@unmanaged class DirEntry {
  next: u32;
  inode: Inode;
  serial: u64;
  nameLength: u32;
}
const ENTRY_HEADER: u32 = 20;
// Readdir positions: 0 is ".", 1 is "..", entries have serials from 2 on.
const FIRST_SERIAL: u64 = 2;
// A directory's size, as Linux's tmpfs counts it: 20 bytes a name (BOGO_DIRENT_SIZE), "." and ".." included.
const NAME_BYTES: u64 = 20;
const EMPTY_DIRECTORY_BYTES: u64 = 2 * NAME_BYTES;

/**
 * A tmpfs mounted with size= or nr_inodes= counts its pages and inodes
 * against these limits (0: none), through Inode.index of each of its
 * inodes and MemoryObject.quota of each file (Linux's shmem_sb_info).
 *   0 pages (PageQuota: used, limit)  8 inodesUsed  12 inodesLimit
 */
@unmanaged export class TmpfsLimits {
  pagesUsed: u32;
  pagesLimit: u32;
  inodesUsed: u32;
  inodesLimit: u32;
}
export const TMPFS_LIMITS_SIZE: u32 = 16;

/** The limits of the tmpfs `inode` is in, or null when it has none. */
export function tmpfsLimitsOf(inode: Inode): TmpfsLimits | null {
  return inode.index == 0 ? null : changetype<TmpfsLimits>(inode.index);
}

function inodesFull(dir: Inode): bool {
  const limits = tmpfsLimitsOf(dir);
  return limits != null && limits.inodesLimit != 0 && limits.inodesUsed >= limits.inodesLimit;
}

/** tmpfs keeps a directory's next serial in Inode.kind and its entries in Inode.data. */
const tmpfsOps = changetype<InodeOps>(memory.data(INODE_OPS_SIZE, 4));

@inline function entryName(entry: DirEntry): u32 {
  return changetype<u32>(entry) + ENTRY_HEADER;
}

function nameEquals(entry: DirEntry, name: u32, length: u32): bool {
  if (entry.nameLength != length) return false;
  const at = entryName(entry);
  for (let i: u32 = 0; i < length; i++) if (load<u8>(at + i) != load<u8>(name + i)) return false;
  return true;
}

function findEntry(dir: Inode, name: u32, length: u32): DirEntry | null {
  for (let at = dir.data; at != 0; at = changetype<DirEntry>(at).next) {
    if (nameEquals(changetype<DirEntry>(at), name, length)) return changetype<DirEntry>(at);
  }
  return null;
}

/** Appends an entry for `inode` (taking no reference: the entry counts as one of its links). */
function addEntry(dir: Inode, name: u32, length: u32, inode: Inode): bool {
  const address = kmalloc(ENTRY_HEADER + length);
  if (address == 0) return false;
  const entry = changetype<DirEntry>(address);
  entry.inode = inode;
  if (dir.kind < <u32>FIRST_SERIAL) dir.kind = <u32>FIRST_SERIAL;
  entry.serial = dir.kind++;
  entry.nameLength = length;
  memory.copy(entryName(entry), name, length);
  let link = changetype<usize>(dir) + 80; // Inode.data: the first entry
  while (load<u32>(link) != 0) link = load<u32>(link); // DirEntry.next is at 0
  store<u32>(link, address);
  dir.size += NAME_BYTES;
  touchModified(dir);
  return true;
}

function removeEntry(dir: Inode, entry: DirEntry): void {
  let link = changetype<usize>(dir) + 80;
  while (load<u32>(link) != changetype<u32>(entry)) link = load<u32>(link);
  store<u32>(link, entry.next);
  kfree(changetype<u32>(entry));
  dir.size -= NAME_BYTES;
  touchModified(dir);
}

const ENOTEMPTY: i64 = 39;

/** EmptyOp: whether a directory has no entry (for rmdir and rename over it). */
function directoryEmpty(dir: Inode): i64 {
  return dir.data == 0 ? 0 : -ENOTEMPTY;
}

function releaseFileObject(object: MemoryObject): void {
  dropCachedPages(object, 0);
}

/** A new inode of the file system `dir` is in (a holder: the caller); regular files get their memory object. */
function makeInode(dir: Inode, mode: u32, rdev: u32, source: u32, sourceBytes: u32): Inode | null {
  const inode = newInode(tmpfsOps, mode, dir.device);
  if (inode == null) return null;
  inode.rdev = rdev;
  inode.index = dir.index;
  if ((mode & S_IFMT) == S_IFDIR) inode.size = EMPTY_DIRECTORY_BYTES;
  if ((mode & S_IFMT) == S_IFREG) {
    const object = newMemoryObject(sourceBytes != 0 ? readFromSource : readZeroes, releaseFileObject, sourceBytes, OBJECT_SPARSE);
    if (object == null) {
      kfree(changetype<u32>(inode));
      return null;
    }
    object.source = source;
    object.sourceBytes = sourceBytes;
    object.owner = changetype<u32>(inode);
    object.quota = inode.index; // a TmpfsLimits begins with its PageQuota
    inode.object = object;
  }
  const limits = tmpfsLimitsOf(inode);
  if (limits != null) limits.inodesUsed++;
  return inode;
}

function lookup(dir: Inode, name: u32, length: u32): i64 {
  const entry = findEntry(dir, name, length);
  return entry == null ? 0 : <i64>changetype<u32>(retainInode(entry.inode));
}

/** Gives `inode` its first name in `dir`: directories count their "." and the parent their "..". */
function giveName(dir: Inode, name: u32, length: u32, inode: Inode): bool {
  if (!setInodeName(inode, dir, name, length)) return false;
  if (!addEntry(dir, name, length, inode)) return false;
  inode.nlink = isDirectoryInode(inode) ? 2 : 1;
  if (isDirectoryInode(inode)) dir.nlink++;
  return true;
}

/** Creates a file of any type but a link (`mode` holds the type) with a reference for the caller. */
export function tmpfsCreate(dir: Inode, name: u32, length: u32, mode: u32, rdev: u32): i64 {
  return createWithSource(dir, name, length, mode, rdev, 0, 0);
}

/** As tmpfsCreate, for a regular file whose first bytes are `sourceBytes` at `source` (an archive's). */
export function createWithSource(dir: Inode, name: u32, length: u32, mode: u32, rdev: u32, source: u32, sourceBytes: u32): i64 {
  if (findEntry(dir, name, length) != null) return -EEXIST;
  if (inodesFull(dir)) return -ENOSPC;
  const inode = makeInode(dir, mode, rdev, source, sourceBytes);
  if (inode == null) return -ENOMEM;
  if (!giveName(dir, name, length, inode)) {
    inode.refCount = 0;
    dropLinkless(inode);
    return -ENOMEM;
  }
  return <i64>changetype<u32>(inode);
}

/** Frees an inode that never got a name. */
function dropLinkless(inode: Inode): void {
  inode.nlink = 1;
  dropLink(inode);
}

function symlink(dir: Inode, name: u32, length: u32, target: u32, targetLength: u32): i64 {
  if (findEntry(dir, name, length) != null) return -EEXIST;
  if (inodesFull(dir)) return -ENOSPC;
  const copy = kmalloc(max(targetLength, 1));
  if (copy == 0) return -ENOMEM;
  memory.copy(copy, target, targetLength);
  const inode = makeInode(dir, S_IFLNK | 0o777, 0, 0, 0);
  if (inode == null) {
    kfree(copy);
    return -ENOMEM;
  }
  inode.data = copy;
  inode.size = targetLength;
  if (!giveName(dir, name, length, inode)) {
    inode.refCount = 0;
    dropLinkless(inode);
    return -ENOMEM;
  }
  return <i64>changetype<u32>(inode);
}

function link(dir: Inode, name: u32, length: u32, inode: Inode): i64 {
  if (findEntry(dir, name, length) != null) return -EEXIST;
  if (!addEntry(dir, name, length, inode)) return -ENOMEM;
  inode.nlink++;
  touchModified(inode);
  return 0;
}

/** Removes a name; for a directory (empty: the caller checked) both its links go. */
function unlink(dir: Inode, name: u32, length: u32): i64 {
  const entry = findEntry(dir, name, length);
  if (entry == null) return -ENOENT;
  const inode = entry.inode;
  removeEntry(dir, entry);
  if (inode.parent == dir) inode.parent = null; // the directory may go before an open file does
  if (isDirectoryInode(inode)) {
    dir.nlink--;
    dropLink(retainInode(inode)); // "." goes first; the holder taken here keeps it for the last name
    inode.refCount--;
  }
  dropLink(inode);
  return 0;
}

function rename(from: Inode, name: u32, length: u32, to: Inode, toName: u32, toLength: u32): i64 {
  const entry = findEntry(from, name, length);
  if (entry == null) return -ENOENT;
  const inode = entry.inode;
  const target = findEntry(to, toName, toLength);
  if (target != null && target.inode == inode) return 0; // two names of one file: nothing happens
  if (!setInodeName(inode, to, toName, toLength)) return -ENOMEM;
  if (!addEntry(to, toName, toLength, inode)) return -ENOMEM;
  // The new name exists now; the old entry and a replaced target go.
  removeEntry(from, entry);
  if (isDirectoryInode(inode)) {
    from.nlink--;
    to.nlink++;
  }
  if (target != null) {
    const replaced = target.inode;
    removeEntry(to, target);
    if (replaced.parent == to) replaced.parent = null;
    if (isDirectoryInode(replaced)) {
      to.nlink--;
      dropLink(retainInode(replaced));
      replaced.refCount--;
    }
    dropLink(replaced);
  }
  touchModified(inode);
  return 0;
}

function readdir(dir: Inode, cursor: u64, emit: EmitEntry, context: u32): i64 {
  let next = cursor;
  if (next == 0) {
    if (!emit(context, dir.ino, S_IFDIR, changetype<u32>(memory.data<u8>([0x2e])), 1, 1)) return <i64>next;
    next = 1;
  }
  if (next == 1) {
    const parent = dir.parent != null ? changetype<Inode>(dir.parent) : dir;
    if (!emit(context, parent.ino, S_IFDIR, changetype<u32>(memory.data<u8>([0x2e, 0x2e])), 2, FIRST_SERIAL)) return <i64>next;
    next = FIRST_SERIAL;
  }
  for (let at = dir.data; at != 0; at = changetype<DirEntry>(at).next) {
    const entry = changetype<DirEntry>(at);
    if (entry.serial < next) continue;
    if (!emit(context, entry.inode.ino, fileType(entry.inode), entryName(entry), entry.nameLength, entry.serial + 1)) return <i64>next;
    next = entry.serial + 1;
  }
  return <i64>next;
}

function readlink(inode: Inode, into: u32): i64 {
  memory.copy(into, inode.data, <u32>inode.size);
  return <i64>inode.size;
}

/** A link's target is its own copy (Inode.data); a directory's entries are gone by the time it is freed. */
function evict(inode: Inode): void {
  if (isSymlinkInode(inode) && inode.data != 0) kfree(inode.data);
  const limits = tmpfsLimitsOf(inode);
  if (limits != null) limits.inodesUsed--;
}

/**
 * Sets a regular file's size. Shrinking unmaps the pages past the new end
 * from every process (touching them is then SIGBUS) and frees them, and
 * clears the rest of the last page, so that growing again reads zeros.
 */
function truncate(inode: Inode, size: u64): i64 {
  const object = changetype<MemoryObject>(inode.object);
  if (size < object.size) {
    const keptPages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    unmapObjectFrom(object, keptPages * PAGE_SIZE);
    dropCachedPages(object, <u32>min(keptPages, <u64>U32.MAX_VALUE));
    const tail = <u32>(size % PAGE_SIZE);
    if (tail != 0) {
      const page = findCachedPage(object, <u32>(size / PAGE_SIZE));
      if (page != 0) {
        memory.fill(page + tail, 0, PAGE_SIZE - tail);
        markPageDirty(page);
      }
    }
    if (<u64>object.sourceBytes > size) object.sourceBytes = <u32>size;
  }
  object.size = size;
  touchModified(inode);
  return 0;
}

/**
 * Fills the operations table and makes the root directory (one holder: the
 * caller, which mounts it); `limits` (a TmpfsLimits the mount owns, 0 for
 * none) bounds its pages and inodes.
 */
export function newTmpfs(device: u32, limits: u32 = 0): Inode | null {
  if (tmpfsOps.lookup == 0) {
    tmpfsOps.lookup = changetype<u32>(lookup);
    tmpfsOps.create = changetype<u32>(tmpfsCreate);
    tmpfsOps.link = changetype<u32>(link);
    tmpfsOps.unlink = changetype<u32>(unlink);
    tmpfsOps.rename = changetype<u32>(rename);
    tmpfsOps.readdir = changetype<u32>(readdir);
    tmpfsOps.readlink = changetype<u32>(readlink);
    tmpfsOps.truncate = changetype<u32>(truncate);
    tmpfsOps.symlink = changetype<u32>(symlink);
    tmpfsOps.evict = changetype<u32>(evict);
    tmpfsOps.empty = changetype<u32>(directoryEmpty);
  }
  const root = newInode(tmpfsOps, S_IFDIR | 0o755, device);
  if (root == null) return null;
  root.nlink = 2;
  root.size = EMPTY_DIRECTORY_BYTES;
  root.index = limits;
  if (limits != 0) changetype<TmpfsLimits>(limits).inodesUsed = 1; // the root counts, as on Linux (df -i)
  return root;
}

/** Whether anything in the tree below `dir` is in use: an open file, a working directory, a mount. */
export function tmpfsTreeBusy(dir: Inode): bool {
  for (let at = dir.data; at != 0; at = changetype<DirEntry>(at).next) {
    const inode = changetype<DirEntry>(at).inode;
    if (inode.refCount != 0 || inode.mounted != null) return true;
    if (isDirectoryInode(inode) && tmpfsTreeBusy(inode)) return true;
  }
  return false;
}

/** Removes every name below `dir` (unmount), freeing what nobody holds, and detaches them from the mount's limits. */
export function tmpfsEmptyTree(dir: Inode): void {
  while (dir.data != 0) {
    const entry = changetype<DirEntry>(dir.data);
    const inode = entry.inode;
    if (isDirectoryInode(inode)) tmpfsEmptyTree(inode);
    // A file still mapped outlives the mount, whose limits go with it: its pages count against nothing now.
    if (inode.object != null) changetype<MemoryObject>(inode.object).quota = 0;
    inode.index = 0;
    const length = entry.nameLength;
    const name = memory.data(256);
    memory.copy(<u32>name, entryName(entry), length);
    unlink(dir, <u32>name, length);
  }
}

/** Whether `inode` belongs to a tmpfs (rmdir and rename ask whether a directory is empty). */
export function isTmpfsInode(inode: Inode): bool {
  return inode.ops == tmpfsOps;
}
