// Inodes: one file of some file system, with the operations that file
// system gives it (Linux's struct inode and inode_operations). A regular
// file's bytes are a memory object (mm/memory_object.ts) in the page cache;
// directories, symbolic links and devices are whatever their file system
// makes of them.
//
// An inode lives while it has a name (nlink > 0, the directory entry's
// hold, taken by the file system) or a holder (refCount: open files, a
// working directory, a path walk in progress). The last of both frees it.
import { MemoryObject, releaseObject } from "../mm/memory_object";
import { kfree, kmalloc } from "../mm/slab";

// File times come from the wall clock, which boot registers once it runs
// (setFileClock); until then, and in unit tests, they are 0.
let fileClock: (() => u64) | null = null;

export function setFileClock(clock: () => u64): void {
  fileClock = clock;
}

/** Now, for file times: nanoseconds since 1970. */
export function fileTimeNow(): u64 {
  const clock = fileClock;
  return clock == null ? 0 : clock();
}

export const S_IFMT: u32 = 0o170000;
export const S_IFSOCK: u32 = 0o140000;
export const S_IFLNK: u32 = 0o120000;
export const S_IFREG: u32 = 0o100000;
export const S_IFBLK: u32 = 0o060000;
export const S_IFDIR: u32 = 0o040000;
export const S_IFCHR: u32 = 0o020000;
export const S_IFIFO: u32 = 0o010000;

/**
 * Operations on directories and links, a table of function references
 * (each file system has one, made at boot). Names are (address, length);
 * results are an inode address, 0 (ENOENT), or a negative errno.
 *
 *   0 lookup(dir, name, length): i64                  the child, with a reference taken
 *   4 create(dir, name, length, mode, rdev): i64      a new regular file, device or fifo, with a reference
 *   8 link(dir, name, length, inode): i64             0 or -errno (directories: mkdir makes them)
 *  12 unlink(dir, name, length): i64                  removes a name (a directory's too, for rmdir; the caller checks)
 *  16 rename(from, name, length, to, toName, toLength): i64   replaces the target name if any (the caller checks kinds)
 *  20 readdir(dir, cursor, emit, context): i64        calls emit(context, ...) for entries from `cursor`, returns the next cursor
 *  24 readlink(inode, into): i64                      the target's length, written at `into` (PATH_MAX room)
 *  28 truncate(inode, size): i64                      0 or -errno (regular files)
 *  32 symlink(dir, name, length, target, targetLength): i64   a new symbolic link, with a reference
 *  36 jumpLink(inode): i64                            for a link that stands for an inode rather than a path
 *                                                     (procfs's exe, cwd, fd/N: Linux's nd_jump_link): that
 *                                                     inode, with a reference; 0: follow readlink's text
 *  40 evict(inode): void                              the inode is being freed: the file system lets go of
 *                                                     what it keeps there (a link's target, a held parent)
 *  44 empty(dir): i64                                 0 when the directory has no entry but "." and "..",
 *                                                     else -ENOTEMPTY or -errno (rmdir, rename over it)
 *  48 sync(inode, whole): i64                         writes the file (fsync) or its whole file system
 *                                                     (syncfs) to its disk: 0 or -errno; 0 = nothing to write
 *  52 blocks(inode): u64                              st_blocks (512-byte units) of a file on a disk
 *  56 statfs(inode, into): void                       fills struct statfs's f_type, f_bsize, f_blocks, f_bfree,
 *                                                     f_bavail, f_files, f_ffree, f_frsize at `into` (a disk's)
 *  60 blockSize(inode): u32                           st_blksize, the file system's block (0: a page)
 *  64 open(inode, flags): i64                         for a file system whose files' text is made when they
 *                                                     are opened (procfs, sysfs): the File, which takes over
 *                                                     the caller's hold on the inode, or -errno
 *  68 bmap(inode, block): i64                         the disk block (in blockSize units, on the file system's
 *                                                     device) holding block `block` of a regular file, 0 for a
 *                                                     hole, or -errno (Linux's bmap: what swapon maps a swap
 *                                                     file with; 0 = the file system has none, as tmpfs)
 */
@unmanaged export class InodeOps {
  lookup: u32;
  create: u32;
  link: u32;
  unlink: u32;
  rename: u32;
  readdir: u32;
  readlink: u32;
  truncate: u32;
  symlink: u32;
  jumpLink: u32;
  evict: u32;
  empty: u32;
  sync: u32;
  blocks: u32;
  statfs: u32;
  blockSize: u32;
  open: u32;
  bmap: u32;
}
export const INODE_OPS_SIZE: u32 = 72;

export type LookupOp = (dir: Inode, name: u32, length: u32) => i64;
export type CreateOp = (dir: Inode, name: u32, length: u32, mode: u32, rdev: u32) => i64;
export type LinkOp = (dir: Inode, name: u32, length: u32, inode: Inode) => i64;
export type UnlinkOp = (dir: Inode, name: u32, length: u32) => i64;
export type RenameOp = (from: Inode, name: u32, length: u32, to: Inode, toName: u32, toLength: u32) => i64;
/**
 * Called per entry by readdir with the caller's `context` (its own record:
 * a readdir may sleep on a disk while another runs); returns false when the
 * caller's buffer is full (the entry is then not consumed).
 */
export type EmitEntry = (context: u32, ino: u64, type: u32, name: u32, length: u32, next: u64) => bool;
export type ReaddirOp = (dir: Inode, cursor: u64, emit: EmitEntry, context: u32) => i64;
export type ReadlinkOp = (inode: Inode, into: u32) => i64;
export type TruncateOp = (inode: Inode, size: u64) => i64;
export type SymlinkOp = (dir: Inode, name: u32, length: u32, target: u32, targetLength: u32) => i64;
export type JumpLinkOp = (inode: Inode) => i64;
export type EvictOp = (inode: Inode) => void;
export type EmptyOp = (dir: Inode) => i64;
export type SyncOp = (inode: Inode, whole: bool) => i64;
export type BlocksOp = (inode: Inode) => u64;
export type StatfsOp = (inode: Inode, into: u32) => void;
export type OpenOp = (inode: Inode, flags: u32) => i64;
export type BlockSizeOp = (inode: Inode) => u32;
export type BmapOp = (inode: Inode, block: u64) => i64;

/**
 * One file.
 *
 *   0 ops (InodeOps)  4 refCount  8 mode  12 nlink  16 ino(u64)  24 size(u64)
 *  32 atime(u64)  40 mtime(u64)  48 ctime(u64)   (nanoseconds since 1970)
 *  56 uid  60 gid  64 rdev (Linux's encoding)  68 device (st_dev of its file system)
 *  72 object (MemoryObject: a regular file's bytes)  76 parent (the directory holding its name)
 *  80 data (the file system's: tmpfs's entry list, a link's target)  84 mounted (a file system's root mounted here)
 *  88 name  92 nameLength (its name in `parent`, kmalloc'd: a directory's only one, which getcwd
 *     walks; a file's latest, which /proc/PID/maps shows)
 *  96 kind (the file system's own tag)  100 index (the file system's second word: procfs's descriptor number)
 * 104 pipe (a FIFO's Pipe while anyone has it open: fifo.ts)
 */
@unmanaged export class Inode {
  ops: InodeOps;
  refCount: u32;
  mode: u32;
  nlink: u32;
  ino: u64;
  size: u64;
  atime: u64;
  mtime: u64;
  ctime: u64;
  uid: u32;
  gid: u32;
  rdev: u32;
  device: u32;
  object: MemoryObject | null;
  parent: Inode | null;
  data: u32;
  mounted: Inode | null;
  name: u32;
  nameLength: u32;
  kind: u32;
  index: u32;
  pipe: u32;
}
const INODE_SIZE: u32 = 108;

let nextIno: u64 = 2;

/** A new inode with one holder (the caller), its times now; null when out of memory. */
export function newInode(ops: InodeOps, mode: u32, device: u32): Inode | null {
  const address = kmalloc(INODE_SIZE);
  if (address == 0) return null;
  const inode = changetype<Inode>(address);
  inode.ops = ops;
  inode.refCount = 1;
  inode.mode = mode;
  inode.ino = nextIno++;
  inode.device = device;
  const now = fileTimeNow();
  inode.atime = now;
  inode.mtime = now;
  inode.ctime = now;
  return inode;
}

@inline export function fileType(inode: Inode): u32 {
  return inode.mode & S_IFMT;
}

@inline export function isDirectoryInode(inode: Inode): bool {
  return fileType(inode) == S_IFDIR;
}

@inline export function isRegularInode(inode: Inode): bool {
  return fileType(inode) == S_IFREG;
}

@inline export function isSymlinkInode(inode: Inode): bool {
  return fileType(inode) == S_IFLNK;
}

/** A regular file's size lives in its memory object (mappings read it there); everything else's in the inode. */
export function inodeSize(inode: Inode): u64 {
  const object = inode.object;
  return object != null ? object.size : inode.size;
}

@inline export function retainInode(inode: Inode): Inode {
  inode.refCount++;
  return inode;
}

function freeInode(inode: Inode): void {
  const object = inode.object;
  if (object != null) object.owner = 0; // mappings may keep the bytes; the name goes
  releaseObject(object);
  if (inode.ops.evict != 0) changetype<EvictOp>(inode.ops.evict)(inode);
  if (inode.name != 0) kfree(inode.name);
  kfree(changetype<u32>(inode));
}

/** Drops one holder; frees the inode when it has neither holders nor names. */
export function releaseInode(inode: Inode | null): void {
  if (inode == null) return;
  assert(inode.refCount > 0, "releaseInode: inode has no holder");
  if (--inode.refCount == 0 && inode.nlink == 0) freeInode(inode);
}

/** One name less (unlink, rmdir, a rename that replaced it); frees an inode nobody holds. */
export function dropLink(inode: Inode): void {
  assert(inode.nlink > 0, "dropLink: inode has no name");
  inode.nlink--;
  inode.ctime = fileTimeNow();
  if (inode.nlink == 0 && inode.refCount == 0) freeInode(inode);
}

/** Records the inode's name in `parent` (getcwd, /proc/PID/maps); false when out of memory. */
export function setInodeName(inode: Inode, parent: Inode, name: u32, length: u32): bool {
  const copy = kmalloc(max(length, 1));
  if (copy == 0) return false;
  memory.copy(copy, name, length);
  if (inode.name != 0) kfree(inode.name);
  inode.name = copy;
  inode.nameLength = length;
  inode.parent = parent;
  return true;
}

export function touchModified(inode: Inode): void {
  const now = fileTimeNow();
  inode.mtime = now;
  inode.ctime = now;
}

// ---- calling the operations ------------------------------------------------

/**
 * Whether `inode` belongs to a file system of generated texts (procfs,
 * sysfs): its files have no bytes of their own to write, truncate or chmod,
 * and its names no link count.
 */
@inline export function isGeneratedInode(inode: Inode): bool {
  return inode.ops.open != 0;
}

/** Opens a generated file (see InodeOps.open): the File's address, or -errno. */
export function openGenerated(inode: Inode, flags: u32): i64 {
  return changetype<OpenOp>(inode.ops.open)(inode, flags);
}

export function lookupIn(dir: Inode, name: u32, length: u32): i64 {
  return changetype<LookupOp>(dir.ops.lookup)(dir, name, length);
}

/** An operation a file system does not offer gives this errno (EPERM: Linux's answer for, e.g., mknod on procfs). */
const EPERM: i64 = 1;
const EINVAL: i64 = 22;

/** A directory that has been removed takes no new names (Linux: ENOENT). */
const ENOENT: i64 = 2;

export function createIn(dir: Inode, name: u32, length: u32, mode: u32, rdev: u32): i64 {
  if (dir.ops.create == 0) return -EPERM;
  if (dir.nlink == 0) return -ENOENT;
  return changetype<CreateOp>(dir.ops.create)(dir, name, length, mode, rdev);
}

export function linkIn(dir: Inode, name: u32, length: u32, inode: Inode): i64 {
  if (dir.ops.link == 0) return -EPERM;
  if (dir.nlink == 0) return -ENOENT;
  return changetype<LinkOp>(dir.ops.link)(dir, name, length, inode);
}

export function unlinkIn(dir: Inode, name: u32, length: u32): i64 {
  if (dir.ops.unlink == 0) return -EPERM;
  return changetype<UnlinkOp>(dir.ops.unlink)(dir, name, length);
}

export function renameIn(from: Inode, name: u32, length: u32, to: Inode, toName: u32, toLength: u32): i64 {
  if (from.ops.rename == 0) return -EPERM;
  if (to.nlink == 0) return -ENOENT;
  return changetype<RenameOp>(from.ops.rename)(from, name, length, to, toName, toLength);
}

/**
 * readdir's first two positions, "." (0) and ".." (1: the parent, or the
 * directory itself at the top), for file systems that list no entries for
 * them: the cursor reached, 2 once both are out (less when `emit` was full).
 */
export function emitDots(dir: Inode, cursor: u64, emit: EmitEntry, context: u32): u64 {
  const dots = memory.data<u8>([0x2e, 0x2e]);
  let next = cursor;
  if (next == 0) {
    if (!emit(context, dir.ino, S_IFDIR, changetype<u32>(dots), 1, 1)) return next;
    next = 1;
  }
  if (next == 1) {
    const parent = dir.parent != null ? changetype<Inode>(dir.parent) : dir;
    if (!emit(context, parent.ino, S_IFDIR, changetype<u32>(dots), 2, 2)) return next;
    next = 2;
  }
  return next;
}

export function readdirOf(dir: Inode, cursor: u64, emit: EmitEntry, context: u32): i64 {
  return changetype<ReaddirOp>(dir.ops.readdir)(dir, cursor, emit, context);
}

export function readlinkOf(inode: Inode, into: u32): i64 {
  if (inode.ops.readlink == 0) return -EINVAL;
  return changetype<ReadlinkOp>(inode.ops.readlink)(inode, into);
}

export function symlinkIn(dir: Inode, name: u32, length: u32, target: u32, targetLength: u32): i64 {
  if (dir.ops.symlink == 0) return -EPERM;
  if (dir.nlink == 0) return -ENOENT;
  return changetype<SymlinkOp>(dir.ops.symlink)(dir, name, length, target, targetLength);
}

/** The inode a link stands for (with a reference), 0 when its text is to be followed, or -errno. */
export function jumpLinkOf(inode: Inode): i64 {
  if (inode.ops.jumpLink == 0) return 0;
  return changetype<JumpLinkOp>(inode.ops.jumpLink)(inode);
}

const ENOTEMPTY: i64 = 39;

/** 0 when directory `dir` holds nothing but "." and "..": -ENOTEMPTY, or -errno (a disk failed). */
export function directoryEmpty(dir: Inode): i64 {
  if (dir.ops.empty == 0) return -ENOTEMPTY;
  return changetype<EmptyOp>(dir.ops.empty)(dir);
}

/** Writes the file (or, `whole`, its file system) to its disk and waits: 0 or -errno. */
export function syncInode(inode: Inode, whole: bool): i64 {
  if (inode.ops.sync == 0) return 0;
  return changetype<SyncOp>(inode.ops.sync)(inode, whole);
}

export function truncateInode(inode: Inode, size: u64): i64 {
  if (inode.ops.truncate == 0) return -EPERM;
  return changetype<TruncateOp>(inode.ops.truncate)(inode, size);
}

/** The disk block holding file block `block` (see InodeOps.bmap): 0 for a hole; -EINVAL where the file system has no map (Linux's bmap). */
export function bmapOf(inode: Inode, block: u64): i64 {
  if (inode.ops.bmap == 0) return -EINVAL;
  return changetype<BmapOp>(inode.ops.bmap)(inode, block);
}

/** The file system's block size for `inode` (st_blksize; a page where the file system names none). */
export function blockSizeOf(inode: Inode): u32 {
  const size = inode.ops.blockSize == 0 ? 0 : changetype<BlockSizeOp>(inode.ops.blockSize)(inode);
  return size == 0 ? 4096 : size;
}
