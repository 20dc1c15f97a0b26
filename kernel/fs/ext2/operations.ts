// The InodeOps of ext2 inodes: names (lookup, create, link, unlink,
// rename, symlink), reading directories and links, truncation, and the end
// of an inode. Each change is made in the cached blocks and inode records
// in one go, written back later (ext2 has no journal: a crash between two
// changes is e2fsck's to mend, as on Linux).
import { getBlock, markBlockDirty, putBlock } from "../../block/buffer_cache";
import { printf } from "../../console/console";
import { unmapObjectFrom } from "../../mm/address_space";
import { PAGE_SIZE } from "../../mm/frame";
import { MemoryObject } from "../../mm/memory_object";
import { dropCachedPages, getCachedPage, markPageDirty, releaseCachedPage } from "../../mm/page_cache";
import {
  Inode, S_IFDIR, S_IFLNK, dropLink, fileTimeNow, isDirectoryInode, releaseInode, setInodeName, touchModified,
} from "../inode";
import { freeBlocksFrom, mapBlock } from "./block_map";
import {
  addEntry, directoryEmpty, entryInode, findEntry, initDirectory, readDirectory, removeEntry, setEntryInode,
} from "./directory";
import { Ext2Inode, infoOf, rawOf, storeInode } from "./disk_inode";
import { Ext2Fs, ext2Ops } from "./fs";
import { EXT2_MAGIC } from "./superblock";
import { dropNew, evictInode, getInode, isFastSymlink, newDiskInode } from "./inode_cache";
import { syncExt2 } from "./sync";

const ENOENT: i64 = 2;
const EIO: i64 = 5;
const EXDEV: i64 = 18;
const EEXIST: i64 = 17;
const EROFS: i64 = 30;
const EMLINK: i64 = 31;
const ENAMETOOLONG: i64 = 36;
const NAME_MAX: u32 = 255;
/** Linux's EXT2_LINK_MAX. */
const LINK_MAX: u32 = 32000;
/** A link's text up to this many bytes lives in i_block itself (a fast link). */
const FAST_LINK_BYTES: u32 = 60;

@inline function fsOf(inode: Inode): Ext2Fs {
  return infoOf(inode).fs;
}

/** Why a change to `dir` cannot be made before looking at names: EROFS, ENAMETOOLONG, or 0. */
function refuseChange(dir: Inode, length: u32): i64 {
  if (fsOf(dir).readOnly != 0) return -EROFS;
  return length > NAME_MAX ? -ENAMETOOLONG : 0;
}

/** Whether `inode` is `dir` or a directory above it (an entry naming one makes a loop). */
function isAncestor(inode: Inode, dir: Inode): bool {
  for (let at: Inode | null = dir; at != null; at = at.parent) if (at == inode) return true;
  return false;
}

/** The inode the entry at `position` of `dir` names, with a holder; or -errno. */
function inodeAtEntry(dir: Inode, position: i64): i64 {
  const ino = entryInode(dir, <u64>position);
  return ino < 0 ? ino : getInode(fsOf(dir), <u32>ino);
}

function lookup(dir: Inode, name: u32, length: u32): i64 {
  if (length > NAME_MAX) return -ENAMETOOLONG;
  const position = findEntry(dir, name, length);
  if (position == -ENOENT) return 0;
  if (position < 0) return position;
  const got = inodeAtEntry(dir, position);
  if (got < 0) return got;
  const inode = changetype<Inode>(<u32>got);
  if (isDirectoryInode(inode) && isAncestor(inode, dir)) {
    printf("ext2: directory inode %d names inode %d above it: a loop\n", dir.ino, inode.ino);
    releaseInode(inode);
    return -EIO;
  }
  // A directory has one name, the first found (its parent is what ".." walks to); a file keeps its first too.
  if (inode.parent == null && inode != changetype<Inode>(fsOf(dir).root)) setInodeName(inode, dir, name, length);
  return got;
}

/** Gives a new inode its name in `dir` (a directory its "." and ".." too): the inode, or -errno with it freed. */
function giveName(dir: Inode, name: u32, length: u32, inode: Inode): i64 {
  let status: i32 = 0;
  if (isDirectoryInode(inode)) {
    inode.nlink = 2;
    status = initDirectory(inode, <u32>dir.ino);
  } else {
    inode.nlink = 1;
    status = storeInode(inode);
  }
  if (status == 0) status = addEntry(dir, name, length, <u32>inode.ino, inode.mode);
  if (status != 0) {
    dropNew(inode);
    return status;
  }
  if (isDirectoryInode(inode)) {
    dir.nlink++;
    storeInode(dir);
  }
  setInodeName(inode, dir, name, length);
  return <i64>changetype<u32>(inode);
}

function create(dir: Inode, name: u32, length: u32, mode: u32, rdev: u32): i64 {
  const refused = refuseChange(dir, length);
  if (refused != 0) return refused;
  const existing = findEntry(dir, name, length);
  if (existing >= 0) return -EEXIST;
  if (existing != -ENOENT) return existing;
  const got = newDiskInode(fsOf(dir), dir, mode, rdev);
  if (got < 0) return got;
  return giveName(dir, name, length, changetype<Inode>(<u32>got));
}

function symlink(dir: Inode, name: u32, length: u32, target: u32, targetLength: u32): i64 {
  const refused = refuseChange(dir, length);
  if (refused != 0) return refused;
  const fs = fsOf(dir);
  if (targetLength >= fs.blockSize) return -ENAMETOOLONG;
  const existing = findEntry(dir, name, length);
  if (existing >= 0) return -EEXIST;
  if (existing != -ENOENT) return existing;
  const got = newDiskInode(fs, dir, S_IFLNK | 0o777, 0);
  if (got < 0) return got;
  const inode = changetype<Inode>(<u32>got);
  const info = infoOf(inode);
  if (targetLength < FAST_LINK_BYTES) {
    memory.copy(changetype<u32>(rawOf(info)) + 40, target, targetLength); // i_block holds the text
  } else {
    const block = mapBlock(info, 0, true);
    const at = block < 0 ? block : getBlock(fs.device, <u64>block, fs.blockSize);
    if (at < 0) {
      dropNew(inode);
      return at;
    }
    memory.copy(<u32>at, target, targetLength);
    memory.fill(<u32>at + targetLength, 0, fs.blockSize - targetLength);
    markBlockDirty(<u32>at, fs.blockSize);
    putBlock(<u32>at);
  }
  inode.size = targetLength;
  return giveName(dir, name, length, inode);
}

function readlink(inode: Inode, into: u32): i64 {
  const info = infoOf(inode);
  const fs = info.fs;
  const size = <u32>inode.size;
  if (isFastSymlink(info)) {
    if (size >= FAST_LINK_BYTES) return -EIO;
    memory.copy(into, changetype<u32>(rawOf(info)) + 40, size);
    return size;
  }
  if (size >= fs.blockSize) return -EIO;
  const block = mapBlock(info, 0, false);
  if (block <= 0) return block == 0 ? -EIO : block;
  const at = getBlock(fs.device, <u64>block, fs.blockSize);
  if (at < 0) return at;
  memory.copy(into, <u32>at, size);
  putBlock(<u32>at);
  return size;
}

function link(dir: Inode, name: u32, length: u32, inode: Inode): i64 {
  const refused = refuseChange(dir, length);
  if (refused != 0) return refused;
  if (inode.ops != ext2Ops || fsOf(inode) != fsOf(dir)) return -EXDEV;
  if (inode.nlink >= LINK_MAX) return -EMLINK;
  const existing = findEntry(dir, name, length);
  if (existing >= 0) return -EEXIST;
  if (existing != -ENOENT) return existing;
  const status = addEntry(dir, name, length, <u32>inode.ino, inode.mode);
  if (status != 0) return status;
  inode.nlink++;
  touchModified(inode);
  return storeInode(inode);
}

/** A name of `inode` went: one link less (both of a directory's, and its parent's ".." link). */
function dropName(dir: Inode, inode: Inode): void {
  if (inode.parent == dir) inode.parent = null;
  if (isDirectoryInode(inode)) {
    dir.nlink--;
    storeInode(dir);
    inode.nlink = 1;
  }
  dropLink(inode); // never frees it: the caller holds it
  storeInode(inode);
}

function unlink(dir: Inode, name: u32, length: u32): i64 {
  const refused = refuseChange(dir, length);
  if (refused != 0) return refused;
  const position = findEntry(dir, name, length);
  if (position < 0) return position;
  const got = inodeAtEntry(dir, position);
  if (got < 0) return got;
  const inode = changetype<Inode>(<u32>got);
  const status = removeEntry(dir, <u64>position);
  if (status == 0) dropName(dir, inode);
  releaseInode(inode); // the last holder of a file with no name frees it on disk
  return status;
}

/** Points a moved directory's ".." at its new parent. */
function reparent(inode: Inode, to: Inode): i32 {
  const position = findEntry(inode, changetype<u32>(memory.data<u8>([0x2e, 0x2e])), 2);
  if (position < 0) return <i32>position;
  return setEntryInode(inode, <u64>position, <u32>to.ino, S_IFDIR);
}

function rename(from: Inode, name: u32, length: u32, to: Inode, toName: u32, toLength: u32): i64 {
  const refused = refuseChange(from, length);
  if (refused != 0) return refused;
  const refusedTo = refuseChange(to, toLength);
  if (refusedTo != 0) return refusedTo;
  const position = findEntry(from, name, length);
  if (position < 0) return position;
  const ino = entryInode(from, <u64>position);
  if (ino < 0) return ino;
  const target = findEntry(to, toName, toLength);
  if (target < 0 && target != -ENOENT) return target;
  const targetIno = target >= 0 ? entryInode(to, <u64>target) : 0;
  if (targetIno < 0) return targetIno;
  if (targetIno == ino) return 0; // two names of one file: nothing happens
  const got = getInode(fsOf(from), <u32>ino);
  if (got < 0) return got;
  const inode = changetype<Inode>(<u32>got);
  let replaced: Inode | null = null;
  let status: i64 = 0;
  if (targetIno != 0) {
    const old = getInode(fsOf(to), <u32>targetIno);
    if (old < 0) status = old;
    else {
      replaced = changetype<Inode>(<u32>old);
      status = setEntryInode(to, <u64>target, <u32>ino, inode.mode);
    }
  } else {
    status = addEntry(to, toName, toLength, <u32>ino, inode.mode);
  }
  // The new name exists now (an added entry never moves the old one); the old goes.
  if (status == 0) status = removeEntry(from, <u64>position);
  if (status == 0 && isDirectoryInode(inode) && from != to) {
    status = reparent(inode, to);
    from.nlink--;
    to.nlink++;
    storeInode(from);
    storeInode(to);
  }
  if (status == 0) {
    if (inode.parent == from || isDirectoryInode(inode)) setInodeName(inode, to, toName, toLength);
    inode.ctime = fileTimeNow();
    storeInode(inode);
    if (replaced != null) dropName(to, replaced);
  }
  if (replaced != null) releaseInode(replaced);
  releaseInode(inode);
  return status;
}

/** Zeros the file's bytes from `size` to the end of its block, in its page (so growing again reads zeros). */
function clearTail(object: MemoryObject, size: u64): i32 {
  const tail = <u32>(size % PAGE_SIZE);
  if (tail == 0) return 0;
  const got = getCachedPage(object, <u32>(size / PAGE_SIZE));
  if (got < 0) return <i32>got;
  memory.fill(<u32>got + tail, 0, PAGE_SIZE - tail);
  markPageDirty(<u32>got);
  releaseCachedPage(<u32>got);
  return 0;
}

/**
 * TruncateOp: shrinking unmaps and drops the pages past the new end, clears
 * the rest of the last page and frees the blocks past it (indirect blocks
 * included); growing leaves a hole.
 */
function truncate(inode: Inode, size: u64): i64 {
  const info: Ext2Inode = infoOf(inode);
  const fs = info.fs;
  if (fs.readOnly != 0) return -EROFS;
  const object = changetype<MemoryObject>(inode.object);
  if (size < object.size) {
    const keptPages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    unmapObjectFrom(object, keptPages * PAGE_SIZE);
    dropCachedPages(object, <u32>min(keptPages, <u64>U32.MAX_VALUE));
    const status = clearTail(object, size);
    if (status != 0) return status;
    object.size = size;
    freeBlocksFrom(info, (size + fs.blockSize - 1) >> fs.blockShift);
  }
  object.size = size;
  touchModified(inode);
  return storeInode(inode);
}

function sync(inode: Inode, whole: bool): i64 {
  return syncExt2(inode, whole);
}

/** BlocksOp: i_blocks, which counts indirect and attribute blocks as Linux's st_blocks does. */
function blocks(inode: Inode): u64 {
  return rawOf(infoOf(inode)).blocks;
}

/** BlockSizeOp: st_blksize is the file system's block size, as Linux's ext2 gives it. */
function blockSize(inode: Inode): u32 {
  return fsOf(inode).blockSize;
}

/** BmapOp: where a file's block is on the disk, from its block map (0: a hole); swapon maps a swap file so. */
function bmap(inode: Inode, block: u64): i64 {
  return mapBlock(infoOf(inode), block, false);
}

/** StatfsOp: the superblock's counts (f_bavail without the blocks kept for root). */
function statfs(inode: Inode, into: u32): void {
  const fs = fsOf(inode);
  const sb = fs.superblock;
  store<u64>(into, EXT2_MAGIC); // f_type
  store<u64>(into + 8, fs.blockSize); // f_bsize
  store<u64>(into + 16, sb.blocksCount); // f_blocks
  store<u64>(into + 24, sb.freeBlocks); // f_bfree
  store<u64>(into + 32, sb.freeBlocks > sb.reservedBlocks ? sb.freeBlocks - sb.reservedBlocks : 0); // f_bavail
  store<u64>(into + 40, sb.inodesCount); // f_files
  store<u64>(into + 48, sb.freeInodes); // f_ffree
  store<u64>(into + 72, fs.blockSize); // f_frsize
}

/** Fills the operations table (once). */
export function setExt2Operations(): void {
  if (ext2Ops.lookup != 0) return;
  ext2Ops.lookup = changetype<u32>(lookup);
  ext2Ops.create = changetype<u32>(create);
  ext2Ops.link = changetype<u32>(link);
  ext2Ops.unlink = changetype<u32>(unlink);
  ext2Ops.rename = changetype<u32>(rename);
  ext2Ops.readdir = changetype<u32>(readDirectory);
  ext2Ops.readlink = changetype<u32>(readlink);
  ext2Ops.truncate = changetype<u32>(truncate);
  ext2Ops.symlink = changetype<u32>(symlink);
  ext2Ops.evict = changetype<u32>(evictInode);
  ext2Ops.empty = changetype<u32>(directoryEmpty);
  ext2Ops.sync = changetype<u32>(sync);
  ext2Ops.blocks = changetype<u32>(blocks);
  ext2Ops.statfs = changetype<u32>(statfs);
  ext2Ops.blockSize = changetype<u32>(blockSize);
  ext2Ops.bmap = changetype<u32>(bmap);
}
