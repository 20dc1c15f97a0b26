// The block map of an inode: which disk block holds each of its blocks.
// i_block[0..11] are the first twelve; i_block[12] is an indirect block of
// further addresses, i_block[13] a block of indirect blocks, i_block[14]
// one more level. A 0 anywhere is a hole (reads as zeros). Indirect blocks
// are metadata, read and changed through the buffer cache.
import { getBlock, markBlockDirty, putBlock } from "../../block/buffer_cache";
import { printf } from "../../console/console";
import { writeBackObject } from "../../mm/writeback";
import { PAGE_SIZE } from "../../mm/frame";
import { allocateBlock, findFreeBlock, freeBlock } from "./allocate";
import {
  DIRECT_BLOCKS, DiskInode, Ext2Inode, INDIRECT, blockSlot, rawOf, setBlockSlot,
} from "./disk_inode";
import { Ext2Fs, addressesPerBlock, groupOfIno, validBlock } from "./fs";
import { groupFirstBlock } from "./group";

const EIO: i64 = 5;
const EFBIG: i64 = 27;

/** A block number found in a map that cannot be one: the file reads EIO, with a log line naming it. */
export function badBlock(info: Ext2Inode, block: u32): i64 {
  printf("ext2: inode %d maps block %d, past the file system\n", info.ino, block);
  return -EIO;
}

/** a to the n-th: the blocks one entry covers, n levels of indirection up. */
function power(a: u64, n: u32): u64 {
  let result: u64 = 1;
  for (let i: u32 = 0; i < n; i++) result *= a;
  return result;
}

@inline function blockUnits(fs: Ext2Fs): u32 {
  return fs.blockSize >> 9;
}

/**
 * A freed block may still have dirty bytes in the buffer cache (it was a
 * directory or an indirect block): they are written now, so that a later
 * write of the block as a file's data (straight to the disk) is not
 * overwritten by them.
 */
export function forgetMetadata(fs: Ext2Fs, block: u32): void {
  const object = fs.device.object;
  if (object == null) return;
  const page = <u32>((<u64>block << fs.blockShift) / PAGE_SIZE);
  writeBackObject(object, page, page + 1);
}

/** Whether the inode's data blocks are read through the buffer cache (a directory's, a link's), not its own pages. */
@inline function holdsMetadata(info: Ext2Inode): bool {
  return (<u32>rawOf(info).mode & 0o170000) != 0o100000;
}

/** Frees a block of the inode's, counting it out of i_blocks. */
export function releaseBlock(info: Ext2Inode, block: u32, metadata: bool): void {
  const fs = info.fs;
  if (metadata) forgetMetadata(fs, block);
  if (freeBlock(fs, block) == 0) rawOf(info).blocks -= blockUnits(fs);
}

/**
 * Where block `logical` of the inode should go: as far from its block 0
 * as it is in the file. Writeback takes a file's pages in any order (the
 * last written first), so a goal that follows the last block given would
 * lay a file out backwards; this one keeps it in order. Block 0's place is
 * where it is, or the first free block of the inode's group then.
 */
function goalFor(info: Ext2Inode, logical: u64): u32 {
  const fs = info.fs;
  if (info.firstGoal == 0) {
    const first = blockSlot(rawOf(info), 0);
    const found = validBlock(fs, first) ? <i64>first : findFreeBlock(fs, groupFirstBlock(fs, groupOfIno(fs, info.ino)));
    info.firstGoal = found > 0 ? <u32>found : fs.firstDataBlock + 1;
  }
  const goal = <u64>info.firstGoal + logical;
  return goal < <u64>fs.blocksCount ? <u32>goal : info.firstGoal;
}

/** A new block for block `logical` of the inode (or an indirect block on its way), counted in i_blocks; an indirect one zeroed. */
function newBlock(info: Ext2Inode, logical: u64, indirect: bool): i64 {
  const fs = info.fs;
  const got = allocateBlock(fs, goalFor(info, logical));
  if (got < 0) return got;
  rawOf(info).blocks += blockUnits(fs);
  if (indirect) {
    const at = getBlock(fs.device, <u64>got, fs.blockSize);
    if (at < 0) {
      releaseBlock(info, <u32>got, false);
      return at;
    }
    memory.fill(<u32>at, 0, fs.blockSize);
    markBlockDirty(<u32>at, fs.blockSize);
    putBlock(<u32>at);
  }
  return got;
}

/**
 * The block an empty entry of the map gets: `got`, newly allocated for it,
 * unless another writeback of the file filled the entry (`now`) while
 * newBlock slept reading a bitmap or the block: the kernel runs one thread
 * at a time between sleeps, so only then can it change. Keeping both would
 * lose the other's block, and with an indirect one every block under it:
 * ours is given back instead.
 */
function keptBlock(info: Ext2Inode, now: u32, got: u32, indirect: bool): u32 {
  if (now == 0) return got;
  releaseBlock(info, got, indirect);
  return now;
}

/**
 * The disk block holding block `logical` of the inode: its number, 0 for a
 * hole (when not `allocate`), or -errno (EIO: a bad number in the map;
 * EFBIG: past what the map can address; ENOSPC).
 */
export function mapBlock(info: Ext2Inode, logical: u64, allocate: bool): i64 {
  const fs = info.fs;
  const raw = rawOf(info);
  const a = <u64>addressesPerBlock(fs);
  const shift = fs.blockShift - 2;
  let slot: u32;
  let depth: u32 = 0;
  let rest = logical;
  if (logical < <u64>DIRECT_BLOCKS) {
    slot = <u32>logical;
  } else {
    rest -= DIRECT_BLOCKS;
    slot = INDIRECT;
    depth = 1;
    while (rest >= power(a, depth)) {
      rest -= power(a, depth);
      slot++;
      depth++;
      if (depth > 3) return -EFBIG;
    }
  }
  let block = blockSlot(raw, slot);
  if (block == 0) {
    if (!allocate) return 0;
    const got = newBlock(info, logical, depth > 0);
    if (got < 0) return got;
    block = keptBlock(info, blockSlot(raw, slot), <u32>got, depth > 0);
    setBlockSlot(raw, slot, block);
  } else if (!validBlock(fs, block)) {
    return badBlock(info, block);
  }
  for (let level = depth; level > 0; level--) {
    const index = <u32>((rest >> (shift * (level - 1))) & (a - 1));
    const at = getBlock(fs.device, block, fs.blockSize);
    if (at < 0) return at;
    let entry = load<u32>(<u32>at + index * 4);
    if (entry == 0) {
      if (!allocate) {
        putBlock(<u32>at);
        return 0;
      }
      const got = newBlock(info, logical, level > 1);
      if (got < 0) {
        putBlock(<u32>at);
        return got;
      }
      entry = keptBlock(info, load<u32>(<u32>at + index * 4), <u32>got, level > 1);
      store<u32>(<u32>at + index * 4, entry);
      markBlockDirty(<u32>at, fs.blockSize);
    } else if (!validBlock(fs, entry)) {
      putBlock(<u32>at);
      return badBlock(info, entry);
    }
    putBlock(<u32>at);
    block = entry;
  }
  return block;
}

/**
 * Frees the blocks of the subtree under indirect block `block` (`depth`
 * levels of indirection: 1 holds data blocks) from its logical offset
 * `from` on; the block itself goes too when `from` is 0. Whether it went
 * (a bad number goes too, logged: there is nothing to free behind it).
 */
function freeBranch(info: Ext2Inode, block: u32, depth: u32, from: u64): bool {
  const fs = info.fs;
  if (!validBlock(fs, block)) {
    badBlock(info, block);
    return true; // nothing to free there: the entry goes
  }
  const a = <u64>addressesPerBlock(fs);
  const per = power(a, depth - 1);
  const at = getBlock(fs.device, block, fs.blockSize);
  if (at < 0) return false;
  for (let i = <u32>(from / per); i < <u32>a; i++) {
    const entry = load<u32>(<u32>at + i * 4);
    if (entry == 0) continue;
    const partial = i == <u32>(from / per) ? from % per : 0;
    let gone = true;
    if (depth > 1) gone = freeBranch(info, entry, depth - 1, partial);
    else if (validBlock(fs, entry)) releaseBlock(info, entry, holdsMetadata(info));
    else badBlock(info, entry);
    if (gone) store<u32>(<u32>at + i * 4, 0);
  }
  markBlockDirty(<u32>at, fs.blockSize);
  putBlock(<u32>at);
  if (from != 0) return false;
  releaseBlock(info, block, true);
  return true;
}

/** Frees every block of the inode from logical block `keep` on (truncate; all of them when the inode goes). */
export function freeBlocksFrom(info: Ext2Inode, keep: u64): void {
  const raw: DiskInode = rawOf(info);
  for (let slot = <u32>min(keep, <u64>DIRECT_BLOCKS); slot < DIRECT_BLOCKS; slot++) {
    const block = blockSlot(raw, slot);
    if (block == 0) continue;
    if (validBlock(info.fs, block)) releaseBlock(info, block, holdsMetadata(info));
    else badBlock(info, block);
    setBlockSlot(raw, slot, 0);
  }
  const a = <u64>addressesPerBlock(info.fs);
  let base = <u64>DIRECT_BLOCKS;
  for (let depth: u32 = 1; depth <= 3; depth++) {
    const span = power(a, depth);
    const slot = INDIRECT + depth - 1;
    const block = blockSlot(raw, slot);
    if (block != 0 && keep < base + span) {
      const from = keep > base ? keep - base : 0;
      if (freeBranch(info, block, depth, from)) setBlockSlot(raw, slot, 0);
    }
    base += span;
  }
}
