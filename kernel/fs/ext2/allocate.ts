// Allocation of blocks and inodes: a bit per block (per inode) in each
// group's bitmap, set while in use, with free counts kept in the group's
// descriptor and in the superblock. A block is looked for from the group
// of the inode it is for, an inode in its directory's group (a directory
// in the group with the most free inodes, spreading the tree), roughly as
// Linux's ext2 chooses.
import { getBlock, markBlockDirty, putBlock } from "../../block/buffer_cache";
import { printf } from "../../console/console";
import { Ext2Fs, superblockChanged } from "./fs";
import { GROUP_DESCRIPTOR_SIZE, GroupDescriptor, getGroupDescriptor, groupFirstBlock } from "./group";

const ENOSPC: i64 = 28;
const EIO: i64 = 5;

@inline function testBit(map: u32, bit: u32): bool {
  return (load<u8>(map + (bit >> 3)) & (1 << (bit & 7))) != 0;
}

/** The first clear bit in [start, end) of the bitmap at `map` (a full byte at a time where it can), or -1. */
function clearBitIn(map: u32, start: u32, end: u32): i32 {
  let bit = start;
  while (bit < end) {
    if ((bit & 7) == 0 && bit + 8 <= end && load<u8>(map + (bit >> 3)) == 0xff) {
      bit += 8;
      continue;
    }
    if (!testBit(map, bit)) return <i32>bit;
    bit++;
  }
  return -1;
}

/** The first clear bit below `bits` at or after `from`, else before it; -1 if none. */
function firstClearBit(map: u32, from: u32, bits: u32): i32 {
  const found = clearBitIn(map, min(from, bits), bits);
  return found >= 0 || from == 0 ? found : clearBitIn(map, 0, min(from, bits));
}

@inline function flipBit(map: u32, bit: u32): void {
  store<u8>(map + (bit >> 3), <u8>(<u32>load<u8>(map + (bit >> 3)) ^ (<u32>1 << (bit & 7))));
}

/** Blocks in group `group` (the last may be short). */
function blocksInGroup(fs: Ext2Fs, group: u32): u32 {
  return min(fs.blocksPerGroup, fs.blocksCount - groupFirstBlock(fs, group));
}

/** Marks descriptor `gd` (an address in a held block) changed. */
@inline function descriptorChanged(fs: Ext2Fs, gd: u32): void {
  markBlockDirty(gd & ~(GROUP_DESCRIPTOR_SIZE - 1), GROUP_DESCRIPTOR_SIZE);
}

/**
 * Takes the first free bit from bit `from` on (then before it) of group
 * `group`'s block bitmap (inodes: false) or inode bitmap (true): its
 * index, -1 if the group has none, or -errno.
 */
function takeBit(fs: Ext2Fs, group: u32, from: u32, inodes: bool, directory: bool, take: bool = true): i64 {
  const got = getGroupDescriptor(fs, group);
  if (got < 0) return got;
  const gd = changetype<GroupDescriptor>(<u32>got);
  if ((inodes ? gd.freeInodes : gd.freeBlocks) == 0) {
    putBlock(<u32>got);
    return -1;
  }
  const map = getBlock(fs.device, inodes ? gd.inodeBitmap : gd.blockBitmap, fs.blockSize);
  if (map < 0) {
    putBlock(<u32>got);
    return map;
  }
  const bit = firstClearBit(<u32>map, from, inodes ? fs.inodesPerGroup : blocksInGroup(fs, group));
  if (bit >= 0 && take) {
    flipBit(<u32>map, bit);
    markBlockDirty(<u32>map, fs.blockSize);
    const sb = fs.superblock;
    if (inodes) {
      gd.freeInodes--;
      if (directory) gd.usedDirs++;
      sb.freeInodes--;
    } else {
      gd.freeBlocks--;
      sb.freeBlocks--;
    }
    descriptorChanged(fs, <u32>got);
    superblockChanged(fs);
  } else if (bit < 0) {
    printf("ext2: group %d counts free %s, but its bitmap has none\n", group, changetype<usize>(inodes ? "inodes" : "blocks"));
  }
  putBlock(<u32>map);
  putBlock(<u32>got);
  return bit;
}

/** Clears bit `bit` of a group's bitmap, counting it free again; a bit already clear is logged and left. */
function releaseBit(fs: Ext2Fs, group: u32, bit: u32, inodes: bool, directory: bool): i32 {
  const got = getGroupDescriptor(fs, group);
  if (got < 0) return <i32>got;
  const gd = changetype<GroupDescriptor>(<u32>got);
  const map = getBlock(fs.device, inodes ? gd.inodeBitmap : gd.blockBitmap, fs.blockSize);
  if (map < 0) {
    putBlock(<u32>got);
    return <i32>map;
  }
  if (!testBit(<u32>map, bit)) {
    printf("ext2: freeing %s %d of group %d, which is free\n", changetype<usize>(inodes ? "inode" : "block"), bit, group);
  } else {
    flipBit(<u32>map, bit);
    markBlockDirty(<u32>map, fs.blockSize);
    const sb = fs.superblock;
    if (inodes) {
      gd.freeInodes++;
      if (directory) gd.usedDirs--;
      sb.freeInodes++;
    } else {
      gd.freeBlocks++;
      sb.freeBlocks++;
    }
    descriptorChanged(fs, <u32>got);
    superblockChanged(fs);
  }
  putBlock(<u32>map);
  putBlock(<u32>got);
  return 0;
}

/** The first free block from block `goal` on, then in the groups after its own (taken when `take`): its number, -ENOSPC, -errno. */
function searchBlock(fs: Ext2Fs, goal: u32, take: bool): i64 {
  const first = goal > fs.firstDataBlock && goal < fs.blocksCount ? goal - fs.firstDataBlock : 0;
  for (let i: u32 = 0; i < fs.groupCount; i++) {
    const group = (first / fs.blocksPerGroup + i) % fs.groupCount;
    const bit = takeBit(fs, group, i == 0 ? first % fs.blocksPerGroup : 0, false, false, take);
    if (bit >= 0) return <i64>groupFirstBlock(fs, group) + bit;
    if (bit != -1) return bit;
  }
  return -ENOSPC;
}

/** A free block, taken, looked for from block `goal` on (where the file wants it): its number, or -ENOSPC, or -errno. */
export function allocateBlock(fs: Ext2Fs, goal: u32): i64 {
  return searchBlock(fs, goal, true);
}

/** The block allocateBlock would give for `goal`, left free. */
export function findFreeBlock(fs: Ext2Fs, goal: u32): i64 {
  return searchBlock(fs, goal, false);
}

export function freeBlock(fs: Ext2Fs, block: u32): i32 {
  if (block <= fs.firstDataBlock || block >= fs.blocksCount) return <i32>-EIO;
  const offset = block - fs.firstDataBlock;
  return releaseBit(fs, offset / fs.blocksPerGroup, offset % fs.blocksPerGroup, false, false);
}

/** The group with the most free inodes (a new directory's), `fallback` when it cannot be read. */
function roomiestGroup(fs: Ext2Fs, fallback: u32): u32 {
  let best = fallback;
  let most: u32 = 0;
  for (let group: u32 = 0; group < fs.groupCount; group++) {
    const got = getGroupDescriptor(fs, group);
    if (got < 0) return fallback;
    const free = <u32>changetype<GroupDescriptor>(<u32>got).freeInodes;
    putBlock(<u32>got);
    if (free > most) {
      most = free;
      best = group;
    }
  }
  return best;
}

/** A free inode number for a file in group `parentGroup`'s directory: the number, -ENOSPC or -errno. */
export function allocateInode(fs: Ext2Fs, parentGroup: u32, directory: bool): i64 {
  const goal = directory ? roomiestGroup(fs, parentGroup) : parentGroup;
  for (let i: u32 = 0; i < fs.groupCount; i++) {
    const group = (goal + i) % fs.groupCount;
    const bit = takeBit(fs, group, 0, true, directory);
    if (bit < -1) return bit;
    if (bit < 0) continue;
    const ino = <i64>group * fs.inodesPerGroup + bit + 1;
    if (ino >= <i64>fs.firstIno) return ino;
    printf("ext2: reserved inode %d was free in the bitmap\n", ino); // left taken: it is reserved
  }
  return -ENOSPC;
}

export function freeInodeNumber(fs: Ext2Fs, ino: u32, directory: bool): i32 {
  return releaseBit(fs, (ino - 1) / fs.inodesPerGroup, (ino - 1) % fs.inodesPerGroup, true, directory);
}
