// A file's attributes: the stat family (stat, lstat, fstat, newfstatat,
// statx), statfs, access, chmod, chown, utimensat, umask, truncate, and
// the sync calls, which have nothing to write back on tmpfs and say so by
// succeeding at once.
import { TmpfsLimits, isTmpfsInode, tmpfsLimitsOf } from "../fs/tmpfs";
import { syncEverything } from "../block/flush";
import { blockDeviceOf, blockFileObject } from "../fs/block_file";
import { BLOCK_FLUSH, blockIo } from "../block/request";
import { writeBackObject } from "../mm/writeback";
import { File, FileKind, anonymousName, fileAt } from "../fs/file";
import {
  BlockSizeOp, BlocksOp, Inode, S_IFCHR, S_IFIFO, S_IFMT, StatfsOp, fileTimeNow, inodeSize, isDirectoryInode,
  isGeneratedInode, isRegularInode, releaseInode, syncInode, truncateInode,
} from "../fs/inode";
import { MAX_FILE_SIZE } from "../fs/file_io";
import { onReadOnlyMount, syncFileSystems } from "../fs/mount";
import { PIPE_DEVICE, Pipe, pipeInodeNumber } from "../fs/pipe";
import { freeFrameCount } from "../mm/buddy";
import { managedFrames } from "../mm/frame_database";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { EACCES, EBADF, EFAULT, EFBIG, EINVAL, EISDIR, ENXIO, EPERM, EROFS, ETXTBSY } from "./errno";
import { MemoryObject, OBJECT_SWAP_FILE } from "../mm/memory_object";
import { DEV_TTYS0 } from "./devices";
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW, copyPath, lookupAt, lookupCopied, pathAddress,
} from "./paths";
import { checkNewSize } from "./file_size_limit";
import { setUmask } from "../proc/thread_group";

const STAT_SIZE: u32 = 144;
const ANONYMOUS_DEVICE: u64 = 13; // the next unnamed device after the pipes' (pipe.ts)
const STATX_SIZE: u32 = 256;
const TMPFS_MAGIC: u64 = 0x01021994;
const PIPEFS_MAGIC: u64 = 0x50495045;

/** Attributes of an open file that has no inode (the console, a pipe), or of an inode. */
function statOf(file: File | null, inode: Inode | null, into: u32): void {
  memory.fill(into, 0, STAT_SIZE);
  const blockSize = inode != null && inode.ops.blockSize != 0 ? changetype<BlockSizeOp>(inode.ops.blockSize)(inode) : 4096;
  store<u64>(into + 56, blockSize); // st_blksize
  if (file != null && anonymousName(file) != null) {
    // Linux's anonymous inode: one for all such files, read and write for its owner, no file type.
    store<u64>(into, ANONYMOUS_DEVICE); // st_dev
    store<u64>(into + 8, 1); // st_ino
    store<u64>(into + 16, 1); // st_nlink
    store<u32>(into + 24, 0o600);
    return;
  }
  if (inode == null) {
    const console = file != null && file.kind == FileKind.Console;
    store<u64>(into, console ? 1 : PIPE_DEVICE); // st_dev
    store<u64>(into + 8, console ? 3 : pipeInodeNumber(changetype<Pipe>(changetype<File>(file).data))); // st_ino
    store<u64>(into + 16, 1); // st_nlink
    store<u32>(into + 24, console ? S_IFCHR | 0o620 : S_IFIFO | 0o600);
    if (console) store<u64>(into + 40, DEV_TTYS0);
    return;
  }
  const size = file != null && file.kind == FileKind.Generated ? <u64>file.size : inodeSize(inode);
  store<u64>(into, inode.device);
  store<u64>(into + 8, inode.ino);
  store<u64>(into + 16, inode.nlink);
  store<u32>(into + 24, inode.mode);
  store<u32>(into + 28, inode.uid);
  store<u32>(into + 32, inode.gid);
  store<u64>(into + 40, inode.rdev);
  store<u64>(into + 48, size);
  store<u64>(into + 64, blocksOf(inode)); // st_blocks
  storeTime(into + 72, inode.atime);
  storeTime(into + 88, inode.mtime);
  storeTime(into + 104, inode.ctime);
}

/**
 * st_blocks, in 512-byte units: the pages a regular file holds, those in
 * the page cache or still in the initramfs archive it was unpacked from
 * (a hole holds none).
 */
function blocksOf(inode: Inode): u64 {
  if (inode.ops.blocks != 0) return changetype<BlocksOp>(inode.ops.blocks)(inode);
  const object = inode.object;
  if (object == null || !isRegularInode(inode)) return 0;
  const archivePages = (<u64>object.sourceBytes + 4095) / 4096;
  return max(<u64>object.pages, archivePages) * 8;
}

@inline function storeTime(at: u32, nanoseconds: u64): void {
  store<u64>(at, nanoseconds / 1000000000);
  store<u64>(at + 8, nanoseconds % 1000000000);
}

const statBuffer = memory.data(STATX_SIZE, 8);

function writeStat(process: Process, file: File | null, inode: Inode | null, buffer: u64): i64 {
  statOf(file, inode, <u32>statBuffer);
  return copyToUser(spaceOf(process), buffer, <u32>statBuffer, STAT_SIZE) ? 0 : -EFAULT;
}

export function sysFstat(process: Process, fd: i64, buffer: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  return writeStat(process, file, file.inode, buffer);
}

export function sysNewfstatat(process: Process, directory: i64, path: u64, buffer: u64, flags: u64): i64 {
  // There are no automounts, so that flag changes nothing.
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) != 0) return -EINVAL;
  const length = copyPath(process, path);
  if (length < 0) return length;
  if (length == 0 && (flags & AT_EMPTY_PATH) != 0 && <i32>directory != <i32>AT_FDCWD) return sysFstat(process, directory, buffer);
  const found = lookupCopied(process, directory, pathAddress(), <u32>length, (flags & AT_SYMLINK_NOFOLLOW) == 0,
    (flags & AT_EMPTY_PATH) != 0);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  const result = writeStat(process, null, inode, buffer);
  releaseInode(inode);
  return result;
}

export function sysStat(process: Process, path: u64, buffer: u64, follow: bool): i64 {
  return sysNewfstatat(process, AT_FDCWD, path, buffer, follow ? 0 : AT_SYMLINK_NOFOLLOW);
}

const STATX_BASIC_STATS: u32 = 0x7ff;
const AT_STATX_SYNC_TYPE: u64 = 0x6000;

/** statx: the basic fields (all of them are real), with their nanoseconds. */
export function sysStatx(process: Process, directory: i64, path: u64, flags: u64, mask: u64, buffer: u64): i64 {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) != 0) return -EINVAL;
  if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return -EINVAL;
  if ((mask & 0x80000000) != 0) return -EINVAL; // STATX__RESERVED
  const length = copyPath(process, path);
  if (length < 0) return length;
  let file: File | null = null;
  let inode: Inode | null = null;
  if (length == 0 && (flags & AT_EMPTY_PATH) != 0 && <i32>directory != <i32>AT_FDCWD) {
    file = fileAt(process.files, directory);
    if (file == null) return -EBADF;
    inode = file.inode;
    if (inode != null) inode.refCount++;
  } else {
    const found = lookupCopied(process, directory, pathAddress(), <u32>length, (flags & AT_SYMLINK_NOFOLLOW) == 0,
      (flags & AT_EMPTY_PATH) != 0);
    if (found < 0) return found;
    inode = changetype<Inode>(<u32>found);
  }
  const stat = memory.data(STAT_SIZE, 8);
  statOf(file, inode, <u32>stat);
  releaseInode(inode);
  const x = <u32>statBuffer;
  memory.fill(x, 0, STATX_SIZE);
  store<u32>(x, STATX_BASIC_STATS); // stx_mask
  store<u32>(x + 4, <u32>load<u64>(stat + 56)); // stx_blksize
  store<u32>(x + 16, <u32>load<u64>(stat + 16)); // stx_nlink
  store<u32>(x + 20, load<u32>(stat + 28)); // stx_uid
  store<u32>(x + 24, load<u32>(stat + 32)); // stx_gid
  store<u16>(x + 28, <u16>load<u32>(stat + 24)); // stx_mode
  store<u64>(x + 32, load<u64>(stat + 8)); // stx_ino
  store<u64>(x + 40, load<u64>(stat + 48)); // stx_size
  store<u64>(x + 48, load<u64>(stat + 64)); // stx_blocks
  // atime, btime (no birth time is kept: ctime stands in), ctime, mtime: offsets in struct stat.
  const times = memory.data<u32>([72, 104, 104, 88]);
  for (let i: u32 = 0; i < 4; i++) {
    const from = <u32>stat + load<u32>(times + i * 4);
    store<u64>(x + 64 + i * 16, load<u64>(from));
    store<u32>(x + 72 + i * 16, <u32>load<u64>(from + 8));
  }
  const rdev = <u32>load<u64>(stat + 40);
  const dev = <u32>load<u64>(stat);
  store<u32>(x + 128, (rdev >> 8) & 0xfff); // stx_rdev_major
  store<u32>(x + 132, (rdev & 0xff) | ((rdev >> 12) & 0xfff00));
  store<u32>(x + 136, (dev >> 8) & 0xfff); // stx_dev_major
  store<u32>(x + 140, (dev & 0xff) | ((dev >> 12) & 0xfff00));
  return copyToUser(spaceOf(process), buffer, x, STATX_SIZE) ? 0 : -EFAULT;
}

/** struct statfs for the file system `inode` is on. */
function writeStatfs(process: Process, inode: Inode, buffer: u64): i64 {
  const s = <u32>statBuffer;
  memory.fill(s, 0, 120);
  store<u64>(s, TMPFS_MAGIC); // f_type, unless the file system's statfs says otherwise
  store<u64>(s + 8, 4096); // f_bsize
  store<u64>(s + 72, 4096); // f_frsize
  if (inode.ops.statfs != 0) {
    changetype<StatfsOp>(inode.ops.statfs)(inode, s);
  } else if (isTmpfsInode(inode) && tmpfsLimitsOf(inode) != null) {
    const limits = changetype<TmpfsLimits>(tmpfsLimitsOf(inode));
    const blocks = limits.pagesLimit == U32.MAX_VALUE ? managedFrames : limits.pagesLimit; // size= or nr_blocks=
    const free = blocks > limits.pagesUsed ? blocks - limits.pagesUsed : 0;
    store<u64>(s + 16, blocks); // f_blocks
    store<u64>(s + 24, free); // f_bfree
    store<u64>(s + 32, free); // f_bavail
    const files = limits.inodesLimit != 0 ? limits.inodesLimit : managedFrames;
    store<u64>(s + 40, files); // f_files
    store<u64>(s + 48, files > limits.inodesUsed ? files - limits.inodesUsed : 0); // f_ffree
  } else {
    store<u64>(s + 16, managedFrames); // f_blocks: tmpfs may use all of memory
    store<u64>(s + 24, freeFrameCount()); // f_bfree
    store<u64>(s + 32, freeFrameCount()); // f_bavail
    store<u64>(s + 40, managedFrames); // f_files
    store<u64>(s + 48, freeFrameCount()); // f_ffree
  }
  store<u32>(s + 56, inode.device); // f_fsid
  store<u64>(s + 64, 255); // f_namelen
  return copyToUser(spaceOf(process), buffer, s, 120) ? 0 : -EFAULT;
}

export function sysStatfs(process: Process, path: u64, buffer: u64): i64 {
  const found = lookupAt(process, AT_FDCWD, path, true, false);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  const result = writeStatfs(process, inode, buffer);
  releaseInode(inode);
  return result;
}

export function sysFstatfs(process: Process, fd: i64, buffer: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  if (file.inode != null) return writeStatfs(process, changetype<Inode>(file.inode), buffer);
  if (file.kind != FileKind.PipeRead && file.kind != FileKind.PipeWrite) return -EINVAL; // the console is no file system here
  // Linux's pipefs: a magic, the page as block size, and nothing to count.
  const s = <u32>statBuffer;
  memory.fill(s, 0, 120);
  store<u64>(s, PIPEFS_MAGIC);
  store<u64>(s + 8, 4096); // f_bsize
  store<u64>(s + 72, 4096); // f_frsize
  store<u64>(s + 64, 255); // f_namelen
  return copyToUser(spaceOf(process), buffer, s, 120) ? 0 : -EFAULT;
}

const X_OK: u64 = 1;
const W_OK: u64 = 2;
const R_OK: u64 = 4;
const AT_EACCESS: u64 = 0x200;

/**
 * access, faccessat and faccessat2 for the one user, root: reading and
 * writing are always allowed (but /proc is read-only), execution when any
 * execute bit is set or for a directory.
 */
export function sysFaccessat(process: Process, directory: i64, path: u64, mode: u64, flags: u64): i64 {
  if ((mode & ~(X_OK | W_OK | R_OK)) != 0) return -EINVAL;
  // Real and effective ids are one and the same.
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  const found = lookupAt(process, directory, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  let result: i64 = 0;
  if ((mode & W_OK) != 0 && isGeneratedInode(inode) && !isDirectoryInode(inode)) result = -EACCES;
  if ((mode & X_OK) != 0 && !isDirectoryInode(inode) && (inode.mode & 0o111) == 0) result = -EACCES;
  releaseInode(inode);
  return result;
}

/** The inode a chmod/chown/utimensat-style call names: by path (relative to `directory`) or, with no path, the descriptor's. */
function targetOf(process: Process, directory: i64, path: u64, follow: bool, emptyPath: bool): i64 {
  if (path == 0 && emptyPath) return lookupCopied(process, directory, pathAddress(), 0, follow, true);
  return lookupAt(process, directory, path, follow, emptyPath);
}

function changeMode(inode: Inode, mode: u64): i64 {
  if (isGeneratedInode(inode)) return -EPERM;
  if (onReadOnlyMount(inode)) return -EROFS;
  inode.mode = (inode.mode & S_IFMT) | (<u32>mode & 0o7777);
  inode.ctime = fileTimeNow();
  return 0;
}

export function sysFchmodat(process: Process, directory: i64, path: u64, mode: u64, flags: u64): i64 {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  const found = targetOf(process, directory, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  const result = changeMode(inode, mode);
  releaseInode(inode);
  return result;
}

export function sysFchmod(process: Process, fd: i64, mode: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  if (file.inode == null) return -EINVAL; // a pipe
  return changeMode(changetype<Inode>(file.inode), mode);
}

/** Owner and group change as root asks (-1 keeps one); setuid and setgid bits go, as on Linux. */
function changeOwner(inode: Inode, owner: u64, group: u64): i64 {
  if (isGeneratedInode(inode)) return -EPERM;
  if (onReadOnlyMount(inode)) return -EROFS;
  const keepOwner = <u32>owner == U32.MAX_VALUE;
  const keepGroup = <u32>group == U32.MAX_VALUE;
  if (!keepOwner) inode.uid = <u32>owner;
  if (!keepGroup) inode.gid = <u32>group;
  if ((!keepOwner || !keepGroup) && !isDirectoryInode(inode)) inode.mode &= ~(<u32>0o6000);
  inode.ctime = fileTimeNow();
  return 0;
}

export function sysFchownat(process: Process, directory: i64, path: u64, owner: u64, group: u64, flags: u64): i64 {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  const found = targetOf(process, directory, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  const result = changeOwner(inode, owner, group);
  releaseInode(inode);
  return result;
}

export function sysFchown(process: Process, fd: i64, owner: u64, group: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  if (file.inode == null) return -EINVAL;
  return changeOwner(changetype<Inode>(file.inode), owner, group);
}

export function sysUmask(process: Process, mask: u64): i64 {
  const old = process.umask;
  setUmask(process, <u32>mask & 0o777);
  return old;
}

const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

/** utimensat: access and modification times from two timespecs (or now, for a null pointer or UTIME_NOW). */
export function sysUtimensat(process: Process, directory: i64, path: u64, times: u64, flags: u64): i64 {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  const spec = memory.data(32, 8);
  if (times != 0) {
    if (!copyFromUser(spaceOf(process), <u32>spec, times, 32)) return -EFAULT;
    for (let i: u32 = 0; i < 2; i++) {
      const nanoseconds = load<i64>(spec + i * 16 + 8);
      if (nanoseconds != UTIME_NOW && nanoseconds != UTIME_OMIT && (nanoseconds < 0 || nanoseconds >= 1000000000)) {
        return -EINVAL;
      }
    }
  }
  // A null path (Linux allows it for futimens) means the descriptor itself.
  const found = path == 0 ? lookupCopied(process, directory, pathAddress(), 0, true, true)
    : targetOf(process, directory, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  if (onReadOnlyMount(inode)) {
    releaseInode(inode);
    return -EROFS;
  }
  const now = fileTimeNow();
  for (let i: u32 = 0; i < 2; i++) {
    const seconds = load<i64>(spec + i * 16);
    const nanoseconds = load<i64>(spec + i * 16 + 8);
    if (times != 0 && nanoseconds == UTIME_OMIT) continue;
    const value = times == 0 || nanoseconds == UTIME_NOW ? now : <u64>seconds * 1000000000 + <u64>nanoseconds;
    if (i == 0) inode.atime = value;
    else inode.mtime = value;
  }
  inode.ctime = now;
  releaseInode(inode);
  return 0;
}

function truncate(process: Process, inode: Inode, length: i64): i64 {
  if (length < 0) return -EINVAL;
  if (<u64>length > MAX_FILE_SIZE) return -EFBIG;
  if (isDirectoryInode(inode)) return -EISDIR;
  if (!isRegularInode(inode) || isGeneratedInode(inode)) return -EINVAL;
  if (onReadOnlyMount(inode)) return -EROFS;
  const object = changetype<MemoryObject>(inode.object);
  if (object.executors != 0 || (object.flags & OBJECT_SWAP_FILE) != 0) return -ETXTBSY;
  const refused = checkNewSize(process, inodeSize(inode), <u64>length);
  if (refused < 0) return refused;
  return truncateInode(inode, <u64>length);
}

export function sysTruncate(process: Process, path: u64, length: i64): i64 {
  const found = lookupAt(process, AT_FDCWD, path, true, false);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  const result = truncate(process, inode, length);
  releaseInode(inode);
  return result;
}

export function sysFtruncate(process: Process, fd: i64, length: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  if (file.kind != FileKind.Regular || (file.flags & 3) == 0) return -EINVAL; // not open for writing, or not a file
  return truncate(process, changetype<Inode>(file.inode), length);
}

/**
 * fsync and fdatasync: a block device's dirty pages are written and its
 * write cache flushed; a file on a disk's file system goes to its disk
 * with its inode; tmpfs has no disk behind it, so everything there is
 * already where it belongs.
 */
export function sysFsync(process: Process, fd: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  if (file.kind == FileKind.PipeRead || file.kind == FileKind.PipeWrite) return -EINVAL;
  if (file.kind == FileKind.BlockDevice) {
    const inode = changetype<Inode>(file.inode);
    const device = blockDeviceOf(inode);
    const object = blockFileObject(inode);
    if (device == null || object == null) return -ENXIO;
    const written = writeBackObject(object, 0, U32.MAX_VALUE);
    const flushed = blockIo(device, BLOCK_FLUSH, 0, 0, 0);
    return written != 0 ? <i64>written : <i64>flushed;
  }
  return file.inode != null ? syncInode(changetype<Inode>(file.inode), false) : 0;
}

/** syncfs: the file system of the descriptor's file goes to its disk (sync's work for those with no disk of their own). */
export function sysSyncfs(process: Process, fd: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  const inode = file.inode;
  if (inode != null && inode.ops.sync != 0) return syncInode(inode, true);
  syncEverything();
  return 0;
}

/** sync: every mounted disk file system (its inodes, pages and metadata), then every dirty page and disk cache. */
export function sysSync(): i64 {
  syncFileSystems();
  syncEverything();
  return 0;
}
