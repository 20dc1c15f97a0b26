// Block groups: each group's descriptor says where its block bitmap,
// inode bitmap and inode table are, and counts its free blocks and inodes
// and its directories. The descriptors fill the blocks after the
// superblock, or, with META_BG, from group firstMetaBg on, each block of
// them sits at the start of the first group it describes.
import { getBlock, putBlock } from "../../block/buffer_cache";
import { printf } from "../../console/console";
import { Ext2Fs } from "./fs";
import { INCOMPAT_META_BG, RO_COMPAT_SPARSE_SUPER, firstMetaBg } from "./superblock";

const EIO: i64 = 5;
export const GROUP_DESCRIPTOR_SIZE: u32 = 32;

/**
 *   0 blockBitmap  4 inodeBitmap  8 inodeTable (block numbers)
 *  12 freeBlocks(u16)  14 freeInodes(u16)  16 usedDirs(u16)  18 padding, 12 reserved bytes
 */
@unmanaged export class GroupDescriptor {
  blockBitmap: u32;
  inodeBitmap: u32;
  inodeTable: u32;
  freeBlocks: u16;
  freeInodes: u16;
  usedDirs: u16;
}

/** Whether `n` is a power of `base` (1 counts). */
function isPowerOf(n: u32, base: u32): bool {
  let x: u32 = 1;
  while (x < n) x *= base;
  return x == n;
}

/** Whether group `group` holds a copy of the superblock (all do without SPARSE_SUPER; else 0, 1 and powers of 3, 5, 7). */
export function groupHasSuperblock(fs: Ext2Fs, group: u32): bool {
  if ((fs.superblock.roCompat & RO_COMPAT_SPARSE_SUPER) == 0 || group <= 1) return true;
  return isPowerOf(group, 3) || isPowerOf(group, 5) || isPowerOf(group, 7);
}

@inline export function groupFirstBlock(fs: Ext2Fs, group: u32): u32 {
  return fs.firstDataBlock + group * fs.blocksPerGroup;
}

/** The block holding descriptor block `index` (the descriptors of groups index * descriptorsPerBlock on). */
export function descriptorBlock(fs: Ext2Fs, index: u32): u32 {
  const sb = fs.superblock;
  if ((sb.incompat & INCOMPAT_META_BG) == 0 || index < firstMetaBg(sb)) return fs.firstDataBlock + 1 + index;
  const first = index * fs.descriptorsPerBlock;
  return groupFirstBlock(fs, first) + (groupHasSuperblock(fs, first) ? 1 : 0);
}

/** Group `group`'s descriptor, held in the buffer cache (putBlock it), or -errno. */
export function getGroupDescriptor(fs: Ext2Fs, group: u32): i64 {
  assert(group < fs.groupCount, "getGroupDescriptor: group past the file system");
  const block = getBlock(fs.device, descriptorBlock(fs, group / fs.descriptorsPerBlock), fs.blockSize);
  if (block < 0) return block;
  return block + <i64>((group % fs.descriptorsPerBlock) * GROUP_DESCRIPTOR_SIZE);
}

/** Blocks a group's inode table takes. */
@inline export function inodeTableBlocks(fs: Ext2Fs): u32 {
  return (fs.inodesPerGroup * fs.inodeSize + fs.blockSize - 1) >> fs.blockShift;
}

/** Mount's check that every descriptor points inside the file system: 0, or -EIO with a log line. */
export function checkGroups(fs: Ext2Fs): i32 {
  for (let group: u32 = 0; group < fs.groupCount; group++) {
    const got = getGroupDescriptor(fs, group);
    if (got < 0) return <i32>got;
    const gd = changetype<GroupDescriptor>(<u32>got);
    const end = fs.blocksCount;
    const bad = gd.blockBitmap >= end || gd.inodeBitmap >= end || gd.inodeTable >= end || gd.blockBitmap == 0 ||
      gd.inodeBitmap == 0 || gd.inodeTable == 0 || <u64>gd.inodeTable + inodeTableBlocks(fs) > <u64>end;
    putBlock(<u32>got);
    if (bad) {
      printf("ext2: group %d's descriptor points past the file system\n", group);
      return <i32>-EIO;
    }
  }
  return 0;
}
