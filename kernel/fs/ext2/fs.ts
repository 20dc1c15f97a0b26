// A mounted ext2 file system: the device, the geometry read from the
// superblock, the held superblock page, and the in-memory inodes (one
// Inode per ext2 inode, found by number through the mount's list).
import { BlockDevice } from "../../block/block_device";
import { markBlockDirty } from "../../block/buffer_cache";
import { INODE_OPS_SIZE, InodeOps } from "../inode";
import { DiskSuperblock, SUPERBLOCK_SIZE } from "./superblock";

/**
 *   0 device  4 superblock (DiskSuperblock: its bytes in the buffer cache, held while mounted)
 *   8 blockSize  12 blockShift (log2 of blockSize)  16 blocksCount  20 inodesPerGroup  24 blocksPerGroup
 *  28 firstDataBlock  32 groupCount  36 inodeSize  40 firstIno  44 descriptorsPerBlock  48 readOnly
 *  52 deviceNumber (st_dev of its files)  56 inodes (the first Ext2Inode in memory: a list through next)
 *  60 unmounting (inodes freed now stay on disk as they are)  64 root (Inode)
 *  68 syncPass (counts syncs of the whole file system; each marks the inodes it wrote)
 */
@unmanaged export class Ext2Fs {
  device: BlockDevice;
  superblock: DiskSuperblock;
  blockSize: u32;
  blockShift: u32;
  blocksCount: u32;
  inodesPerGroup: u32;
  blocksPerGroup: u32;
  firstDataBlock: u32;
  groupCount: u32;
  inodeSize: u32;
  firstIno: u32;
  descriptorsPerBlock: u32;
  readOnly: u32;
  deviceNumber: u32;
  inodes: u32;
  unmounting: u32;
  root: u32;
  syncPass: u32;
}
export const EXT2_FS_SIZE: u32 = 72;

/** The operations of every ext2 inode (operations.ts fills the table at the first mount). */
export const ext2Ops = changetype<InodeOps>(memory.data(INODE_OPS_SIZE, 4));

/** The superblock changed (free counts, state, features): writeback will write it. */
export function superblockChanged(fs: Ext2Fs): void {
  markBlockDirty(changetype<u32>(fs.superblock), SUPERBLOCK_SIZE);
}

/** Addresses in one indirect block. */
@inline export function addressesPerBlock(fs: Ext2Fs): u32 {
  return fs.blockSize >> 2;
}

/** Sectors in one block. */
@inline export function blockSectors(fs: Ext2Fs): u32 {
  return fs.blockSize >> 9;
}

/** Whether `block` (nonzero) can be a block of this file system: past the superblock's area, before its end. */
@inline export function validBlock(fs: Ext2Fs, block: u32): bool {
  return block > fs.firstDataBlock && block < fs.blocksCount;
}

@inline export function groupOfBlock(fs: Ext2Fs, block: u32): u32 {
  return (block - fs.firstDataBlock) / fs.blocksPerGroup;
}

@inline export function groupOfIno(fs: Ext2Fs, ino: u32): u32 {
  return (ino - 1) / fs.inodesPerGroup;
}
