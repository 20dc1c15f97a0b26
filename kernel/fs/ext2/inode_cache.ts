// The mount's inodes in memory: one VFS Inode per ext2 inode, found by
// number, so that every name of a file leads to the same Inode. An inode
// with names stays cached until umount; one whose last name went is freed
// on disk (its blocks, then its inode) once the last holder lets go of
// the Inode and, for a regular file, the last mapping of its pages.
import { getBlock, markBlockDirty, putBlock } from "../../block/buffer_cache";
import { printf } from "../../console/console";
import {
  MemoryObject, OBJECT_READS_SLEEP, newMemoryObject, setReadPages, setWritePage, setWritePages,
} from "../../mm/memory_object";
import { dropCachedPages } from "../../mm/page_cache";
import { kfree, kmalloc } from "../../mm/slab";
import { Inode, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, fileTimeNow, newInode, releaseInode } from "../inode";
import { allocateInode, freeInodeNumber } from "./allocate";
import { freeBlocksFrom, releaseBlock } from "./block_map";
import {
  EXT2_INODE_SIZE, Ext2Inode, diskSize, fileAcl, infoOf, loadDiskInode, loadVfsFields, rawOf,
  saveDiskInode, setFileAcl, storeVfsFields,
} from "./disk_inode";
import { Ext2Fs, ext2Ops, groupOfIno } from "./fs";
import { readFilePage, readFilePages, writeFilePage, writeFilePages } from "./file_pages";

const ENOMEM: i64 = 12;
const EIO: i64 = 5;
const NANOSECONDS: u64 = 1000000000;
const ROOT_INO: u32 = 2;
/** An extended-attribute block's header: 0 magic, 4 refcount (inodes sharing it). */
const XATTR_MAGIC: u32 = 0xea020000;

/** The cached record of inode `ino`, or null. */
function findCached(fs: Ext2Fs, ino: u32): Ext2Inode | null {
  for (let at = fs.inodes; at != 0; at = changetype<Ext2Inode>(at).next) {
    const info = changetype<Ext2Inode>(at);
    if (info.ino == ino && info.inode != 0) return info;
  }
  return null;
}

function unlinkFromList(info: Ext2Inode): void {
  let link = changetype<u32>(info.fs) + 56; // Ext2Fs.inodes
  while (load<u32>(link) != changetype<u32>(info)) link = load<u32>(link) + 8; // Ext2Inode.next
  store<u32>(link, info.next);
}

/** A fast symbolic link keeps its text in i_block (it counts no block but an attribute block). */
export function isFastSymlink(info: Ext2Inode): bool {
  const raw = rawOf(info);
  const attributeUnits: u32 = fileAcl(raw) != 0 ? info.fs.blockSize >> 9 : 0;
  return (<u32>raw.mode & S_IFMT) == S_IFLNK && raw.blocks == attributeUnits;
}

/** Whether the inode's i_block is a block map (devices keep their number there, fast links their text). */
function hasBlockMap(info: Ext2Inode): bool {
  const type = <u32>rawOf(info).mode & S_IFMT;
  return type == S_IFREG || type == S_IFDIR || (type == S_IFLNK && !isFastSymlink(info));
}

/** Lets go of the inode's extended-attribute block (shared by a count in its header). */
function dropAttributes(info: Ext2Inode): void {
  const raw = rawOf(info);
  const block = fileAcl(raw);
  if (block == 0) return;
  setFileAcl(raw, 0);
  const fs = info.fs;
  const at = getBlock(fs.device, block, fs.blockSize);
  if (at < 0) return;
  let last = false;
  if (load<u32>(<u32>at) == XATTR_MAGIC) {
    const count = load<u32>(<u32>at + 4);
    last = count <= 1;
    if (!last) {
      store<u32>(<u32>at + 4, count - 1);
      markBlockDirty(<u32>at, fs.blockSize);
    }
  }
  putBlock(<u32>at);
  if (last) releaseBlock(info, block, true);
  else rawOf(info).blocks -= fs.blockSize >> 9;
}

/** The inode's last name and holder are gone: its blocks and number are freed, dtime set (as e2fsck expects). */
function deleteOnDisk(info: Ext2Inode): void {
  const fs = info.fs;
  const raw = rawOf(info);
  if (hasBlockMap(info)) freeBlocksFrom(info, 0);
  dropAttributes(info);
  const directory = (<u32>raw.mode & S_IFMT) == S_IFDIR;
  raw.dtime = <u32>(fileTimeNow() / NANOSECONDS);
  raw.links = 0;
  if (saveDiskInode(fs, info.ino, raw, false) == 0) freeInodeNumber(fs, info.ino, directory);
}

/** Both the Inode and its pages are gone: the record goes, and the disk inode too if it has no name. */
function finish(info: Ext2Inode): void {
  const fs = info.fs;
  if (rawOf(info).links == 0 && fs.unmounting == 0 && fs.readOnly == 0) deleteOnDisk(info);
  unlinkFromList(info);
  kfree(changetype<u32>(info));
}

/**
 * ReleaseObject of a file's pages: they go from the cache (written back
 * already, or belonging to a freed file). When the Inode is going too
 * (this runs inside its freeing, before evict), the record takes the size
 * now, and the Inode lets go of the object, which is freed next.
 */
function releaseFileObject(object: MemoryObject): void {
  dropCachedPages(object, 0);
  const info = changetype<Ext2Inode>(object.source);
  info.hasObject = 0;
  if (info.inode == 0) {
    finish(info);
    return;
  }
  const inode = changetype<Inode>(info.inode);
  inode.size = object.size;
  inode.object = null;
  storeVfsFields(inode, info);
}

/** EvictOp: the Inode goes (no name, no holder; or umount). */
export function evictInode(inode: Inode): void {
  const info = infoOf(inode);
  storeVfsFields(inode, info);
  info.inode = 0;
  if (info.hasObject == 0) finish(info);
}

/** Gives `inode` its record and, for a regular file, the memory object of its pages; false when out of memory. */
function attach(fs: Ext2Fs, info: Ext2Inode, inode: Inode): bool {
  inode.data = changetype<u32>(info);
  info.inode = changetype<u32>(inode);
  if ((inode.mode & S_IFMT) == S_IFREG) {
    const object = newMemoryObject(readFilePage, releaseFileObject, diskSize(rawOf(info)), OBJECT_READS_SLEEP);
    if (object == null) return false;
    setWritePage(object, writeFilePage);
    setWritePages(object, writeFilePages);
    setReadPages(object, readFilePages);
    object.owner = changetype<u32>(inode);
    object.source = changetype<u32>(info);
    inode.object = object;
    info.hasObject = 1;
  }
  info.next = fs.inodes;
  fs.inodes = changetype<u32>(info);
  return true;
}

function newRecord(fs: Ext2Fs, ino: u32): Ext2Inode | null {
  const address = kmalloc(EXT2_INODE_SIZE);
  if (address == 0) return null;
  memory.fill(address, 0, EXT2_INODE_SIZE);
  const info = changetype<Ext2Inode>(address);
  info.fs = fs;
  info.ino = ino;
  return info;
}

/** Undoes newRecord and newInode for an inode that never got into the list. */
function discard(info: Ext2Inode, inode: Inode | null): void {
  if (inode != null) kfree(changetype<u32>(inode));
  kfree(changetype<u32>(info));
}

/** The cached Inode of `ino` with a new holder, or 0. */
function retainCached(fs: Ext2Fs, ino: u32): i64 {
  const cached = findCached(fs, ino);
  if (cached == null) return 0;
  changetype<Inode>(cached.inode).refCount++;
  return <i64>cached.inode;
}

/** Inode `ino`, with a holder for the caller; -EIO (a bad or free number, logged) or -ENOMEM. */
export function getInode(fs: Ext2Fs, ino: u32): i64 {
  const cached = retainCached(fs, ino);
  if (cached != 0) return cached;
  if ((ino < fs.firstIno && ino != ROOT_INO) || ino > fs.inodesPerGroup * fs.groupCount) {
    printf("ext2: inode number %d is not one of a file\n", ino);
    return -EIO;
  }
  const info = newRecord(fs, ino);
  if (info == null) return -ENOMEM;
  const status = loadDiskInode(fs, ino, rawOf(info));
  // The read may have slept while another caller read the same inode in: one Inode per inode, theirs.
  const raced = retainCached(fs, ino);
  if (status != 0 || raced != 0) {
    discard(info, null);
    return raced != 0 ? raced : status;
  }
  if (rawOf(info).links == 0 || rawOf(info).mode == 0) {
    printf("ext2: inode %d is named, but free\n", ino);
    discard(info, null);
    return -EIO;
  }
  const inode = newInode(ext2Ops, rawOf(info).mode, fs.deviceNumber);
  if (inode == null || !attach(fs, info, inode)) {
    discard(info, inode);
    return -ENOMEM;
  }
  inode.ino = ino;
  loadVfsFields(inode, info);
  return <i64>changetype<u32>(inode);
}

/**
 * A new inode (`mode` holds its type) near directory `dir`: numbered,
 * written, cached, with no name yet (nlink 0) and a holder for the caller.
 */
export function newDiskInode(fs: Ext2Fs, dir: Inode, mode: u32, rdev: u32): i64 {
  const got = allocateInode(fs, groupOfIno(fs, <u32>dir.ino), (mode & S_IFMT) == S_IFDIR);
  if (got < 0) return got;
  const ino = <u32>got;
  const info = newRecord(fs, ino);
  const inode = newInode(ext2Ops, mode, fs.deviceNumber);
  if (info == null || inode == null || !attach(fs, info, inode)) {
    freeInodeNumber(fs, ino, (mode & S_IFMT) == S_IFDIR);
    if (info != null) discard(info, inode);
    else if (inode != null) kfree(changetype<u32>(inode));
    return -ENOMEM;
  }
  inode.ino = ino;
  inode.rdev = rdev;
  storeVfsFields(inode, info);
  const status = saveDiskInode(fs, ino, rawOf(info), true);
  if (status != 0) {
    dropNew(inode);
    return status;
  }
  return <i64>changetype<u32>(inode);
}

/** Frees an inode newDiskInode made that could not get its name: its last holder goes with nlink 0. */
export function dropNew(inode: Inode): void {
  inode.nlink = 0;
  rawOf(infoOf(inode)).links = 0;
  inode.refCount = 1;
  releaseInode(inode);
}

/** The first cached record of the mount (0 if none); the rest follow through Ext2Inode.next. */
@inline export function firstCached(fs: Ext2Fs): u32 {
  return fs.inodes;
}
