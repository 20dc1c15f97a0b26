// ext2 inodes as they are on disk, and the in-memory record that keeps one
// (Ext2Inode: the disk inode's first 128 bytes, which hold everything ext2
// uses, with the mount and the VFS Inode it belongs to). The VFS Inode is
// authoritative for what the VFS changes (mode, owner, size, times, links,
// rdev); storeInode copies those into the record and the record into the
// inode table, in one go, in the buffer cache.
import { deviceMajor, deviceMinor } from "../cpio";
import { getBlock, markBlockDirty, putBlock } from "../../block/buffer_cache";
import { Inode, S_IFBLK, S_IFCHR, fileType, isRegularInode } from "../inode";
import { Ext2Fs, groupOfIno, superblockChanged } from "./fs";
import { GroupDescriptor, getGroupDescriptor } from "./group";
import { RO_COMPAT_LARGE_FILE } from "./superblock";

const NANOSECONDS: u64 = 1000000000;
export const DISK_INODE_SIZE: u32 = 128;
export const DIRECT_BLOCKS: u32 = 12;
export const INDIRECT: u32 = 12;
export const DOUBLE_INDIRECT: u32 = 13;
export const TRIPLE_INDIRECT: u32 = 14;
export const BLOCK_SLOTS: u32 = 15;
/** i_flags: a hashed directory (ext2 reads it as linear; changing it drops the index, as Linux's ext2 does). */
export const INDEX_FLAG: u32 = 0x1000;

/**
 * An inode on disk (the first 128 bytes; larger inodes' extra bytes are left as they are):
 *
 *   0 mode(u16)  2 uid(u16)  4 size  8 atime  12 ctime  16 mtime  20 dtime  24 gid(u16)  26 links(u16)
 *  28 blocks (512-byte units, indirect blocks included)  32 flags  36 osd1
 *  40 block[15] (12 direct, indirect, double, triple; a device's number; a fast link's text)
 * 100 generation  104 fileAcl (an extended-attribute block)  108 sizeHigh (regular files)  112 faddr
 * 116 frag(u8) fsize(u8) padding(u16)  120 uidHigh(u16)  122 gidHigh(u16)  124 reserved
 */
@unmanaged export class DiskInode {
  mode: u16;
  uid: u16;
  size: u32;
  atime: u32;
  ctime: u32;
  mtime: u32;
  dtime: u32;
  gid: u16;
  links: u16;
  blocks: u32;
  flags: u32;
  osd1: u32;
}

@inline export function blockSlot(raw: DiskInode, slot: u32): u32 {
  return load<u32>(changetype<u32>(raw) + 40 + slot * 4);
}

@inline export function setBlockSlot(raw: DiskInode, slot: u32, block: u32): void {
  store<u32>(changetype<u32>(raw) + 40 + slot * 4, block);
}

@inline export function fileAcl(raw: DiskInode): u32 {
  return load<u32>(changetype<u32>(raw) + 104);
}

@inline export function setFileAcl(raw: DiskInode, block: u32): void {
  store<u32>(changetype<u32>(raw) + 104, block);
}

/**
 * One ext2 inode in memory:
 *   0 fs  4 inode (the VFS Inode; 0 once it is freed while its file's pages live on in a mapping)
 *   8 next (the mount's list)  12 ino  16 hasObject (a regular file's memory object is alive)
 *  20 syncPass (the mount's pass that last wrote it)  24 firstGoal (where its block 0 belongs: block L's goal is firstGoal + L)
 *  28 raw (DiskInode, 128 bytes)
 */
@unmanaged export class Ext2Inode {
  fs: Ext2Fs;
  inode: u32;
  next: u32;
  ino: u32;
  hasObject: u32;
  syncPass: u32;
  firstGoal: u32;
}
const RAW_OFFSET: u32 = 28;
export const EXT2_INODE_SIZE: u32 = RAW_OFFSET + DISK_INODE_SIZE;

@inline export function rawOf(info: Ext2Inode): DiskInode {
  return changetype<DiskInode>(changetype<u32>(info) + RAW_OFFSET);
}

@inline export function infoOf(inode: Inode): Ext2Inode {
  return changetype<Ext2Inode>(inode.data);
}

/** Where inode `ino` lies: its inode-table block (in the high word) and byte offset in it; -errno on failure. */
function locate(fs: Ext2Fs, ino: u32): i64 {
  const group = groupOfIno(fs, ino);
  const got = getGroupDescriptor(fs, group);
  if (got < 0) return got;
  const table = changetype<GroupDescriptor>(<u32>got).inodeTable;
  putBlock(<u32>got);
  const byte = <u64>((ino - 1) % fs.inodesPerGroup) * fs.inodeSize;
  return <i64>(((<u64>table + (byte >> fs.blockShift)) << 32) | (byte & (fs.blockSize - 1)));
}

/** Copies disk inode `ino` into `raw`: 0 or -errno. */
export function loadDiskInode(fs: Ext2Fs, ino: u32, raw: DiskInode): i32 {
  const where = locate(fs, ino);
  if (where < 0) return <i32>where;
  const got = getBlock(fs.device, <u64>where >> 32, fs.blockSize);
  if (got < 0) return <i32>got;
  memory.copy(changetype<u32>(raw), <u32>got + <u32>(where & 0xffffffff), DISK_INODE_SIZE);
  putBlock(<u32>got);
  return 0;
}

/** Writes `raw` as disk inode `ino`; a new inode's extra bytes (inodes past 128 bytes) are zeroed too. 0 or -errno. */
export function saveDiskInode(fs: Ext2Fs, ino: u32, raw: DiskInode, fresh: bool): i32 {
  const where = locate(fs, ino);
  if (where < 0) return <i32>where;
  const got = getBlock(fs.device, <u64>where >> 32, fs.blockSize);
  if (got < 0) return <i32>got;
  const at = <u32>got + <u32>(where & 0xffffffff);
  memory.copy(at, changetype<u32>(raw), DISK_INODE_SIZE);
  if (fresh) memory.fill(at + DISK_INODE_SIZE, 0, fs.inodeSize - DISK_INODE_SIZE);
  markBlockDirty(<u32>got, fs.blockSize);
  putBlock(<u32>got);
  return 0;
}

/** A device node's number as ext2 keeps it: the old 16-bit form in block[0] when it fits, else the new one in block[1]. */
function storeDeviceNumber(raw: DiskInode, rdev: u32): void {
  const major = deviceMajor(rdev);
  const minor = deviceMinor(rdev);
  if (major < 256 && minor < 256) {
    setBlockSlot(raw, 0, (major << 8) | minor);
    setBlockSlot(raw, 1, 0);
  } else {
    setBlockSlot(raw, 0, 0);
    setBlockSlot(raw, 1, rdev);
  }
}

@inline function isDevice(inode: Inode): bool {
  return fileType(inode) == S_IFCHR || fileType(inode) == S_IFBLK;
}

/** Fills the VFS fields of `inode` from its record (its size goes to its object, made by the caller). */
export function loadVfsFields(inode: Inode, info: Ext2Inode): void {
  const raw = rawOf(info);
  const base = changetype<u32>(raw);
  inode.mode = raw.mode;
  inode.uid = <u32>raw.uid | (<u32>load<u16>(base + 120) << 16);
  inode.gid = <u32>raw.gid | (<u32>load<u16>(base + 122) << 16);
  inode.nlink = raw.links;
  inode.atime = <u64>raw.atime * NANOSECONDS;
  inode.mtime = <u64>raw.mtime * NANOSECONDS;
  inode.ctime = <u64>raw.ctime * NANOSECONDS;
  inode.size = diskSize(raw);
  if (isDevice(inode)) inode.rdev = blockSlot(raw, 0) != 0 ? blockSlot(raw, 0) : blockSlot(raw, 1);
}

/** The size on disk: a regular file's upper half is in sizeHigh (LARGE_FILE). */
export function diskSize(raw: DiskInode): u64 {
  const high = (<u32>raw.mode & 0o170000) == 0o100000 ? load<u32>(changetype<u32>(raw) + 108) : 0;
  return (<u64>high << 32) | raw.size;
}

/** Copies what the VFS keeps into the record; a size past 2 GiB turns LARGE_FILE on (as Linux does). */
export function storeVfsFields(inode: Inode, info: Ext2Inode): void {
  const raw = rawOf(info);
  const base = changetype<u32>(raw);
  const fs = info.fs;
  raw.mode = <u16>inode.mode;
  raw.uid = <u16>inode.uid;
  store<u16>(base + 120, <u16>(inode.uid >> 16));
  raw.gid = <u16>inode.gid;
  store<u16>(base + 122, <u16>(inode.gid >> 16));
  raw.links = <u16>inode.nlink;
  raw.atime = <u32>(inode.atime / NANOSECONDS);
  raw.mtime = <u32>(inode.mtime / NANOSECONDS);
  raw.ctime = <u32>(inode.ctime / NANOSECONDS);
  const object = inode.object;
  const size = object != null ? object.size : inode.size;
  raw.size = <u32>size;
  if (isRegularInode(inode)) {
    store<u32>(base + 108, <u32>(size >> 32));
    if (size > 0x7fffffff && (fs.superblock.roCompat & RO_COMPAT_LARGE_FILE) == 0) {
      fs.superblock.roCompat |= RO_COMPAT_LARGE_FILE;
      superblockChanged(fs);
    }
  }
  if (isDevice(inode)) storeDeviceNumber(raw, inode.rdev);
}

/** Writes the inode to its table: 0 or -errno. */
export function storeInode(inode: Inode): i32 {
  const info = infoOf(inode);
  storeVfsFields(inode, info);
  return saveDiskInode(info.fs, info.ino, rawOf(info), false);
}
