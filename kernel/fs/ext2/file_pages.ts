// A regular file's pages: read from and written to its disk blocks
// straight between the page frames and the disk (blockIo), a run of
// consecutive blocks at a time; a page holds 4096 / blockSize blocks. A
// hole reads as zeros, and so do the bytes past the end of the file. A
// written page gets blocks for the holes its writes touched; the blocks
// only its neighbours in the page touched stay holes, so a sparse file
// stays sparse. Writeback hands over runs of whole dirty pages too
// (writePages), which go out a stretch of contiguous disk blocks per
// request, as read-ahead comes in.
import { BLOCK_READ, BLOCK_WRITE, blockIo } from "../../block/request";
import { PAGE_SIZE } from "../../mm/frame";
import { MemoryObject } from "../../mm/memory_object";
import { Inode } from "../inode";
import { mapBlock } from "./block_map";
import { Ext2Inode, diskSize, rawOf, storeInode } from "./disk_inode";
import { Ext2Fs, blockSectors } from "./fs";

@inline function infoOfObject(object: MemoryObject): Ext2Inode {
  return changetype<Ext2Inode>(object.source);
}

/** Blocks that hold bytes of a file of `size` bytes. */
@inline function blocksFor(fs: Ext2Fs, size: u64): u64 {
  return (size + fs.blockSize - 1) >> fs.blockShift;
}

/** Whether block `n` of the page (blocks of 2^shift bytes) overlaps the kilobytes `dirtyKib` marks written. */
@inline function written(dirtyKib: u32, n: u32, shift: u32): bool {
  const kibPerBlock: u32 = 1 << (shift - 10);
  return (dirtyKib & (((<u32>1 << kibPerBlock) - 1) << (n * kibPerBlock))) != 0;
}

/** Reads or writes `count` consecutive blocks from disk block `first` at `buffer`. */
@inline function transfer(fs: Ext2Fs, operation: u32, first: u32, count: u32, buffer: u32): i32 {
  return blockIo(fs.device, operation, <u64>first * blockSectors(fs), count * blockSectors(fs), buffer);
}

/**
 * Reads pages [index, index + pages) of the file into the frames from
 * `buffer` (contiguous): each run of blocks that lie one after another on
 * the disk in one request, zeros for holes and past the end.
 */
function readRange(object: MemoryObject, index: u32, pages: u32, buffer: u32): i32 {
  const info = infoOfObject(object);
  const fs = info.fs;
  const count = <u64>pages * (PAGE_SIZE >> fs.blockShift);
  const first = <u64>index * (PAGE_SIZE >> fs.blockShift);
  const end = min(first + count, blocksFor(fs, object.size));
  let i: u64 = 0;
  while (i < count) {
    const logical = first + i;
    const at = buffer + (<u32>i << fs.blockShift);
    const got = logical < end ? mapBlock(info, logical, false) : 0;
    if (got < 0) return <i32>got;
    if (got == 0) {
      memory.fill(at, 0, fs.blockSize);
      i++;
      continue;
    }
    let run: u32 = 1;
    while (logical + run < end) {
      const next = mapBlock(info, logical + run, false);
      if (next != got + run) break; // a hole, another place, or an error (found again as the next run starts)
      run++;
    }
    const status = transfer(fs, BLOCK_READ, <u32>got, run, at);
    if (status != 0) return status;
    i += run;
  }
  const rangeStart = <u64>index * PAGE_SIZE;
  const rangeBytes = <u64>pages * PAGE_SIZE;
  if (object.size < rangeStart + rangeBytes) {
    const kept = object.size > rangeStart ? <u32>(object.size - rangeStart) : 0;
    memory.fill(buffer + kept, 0, <u32>rangeBytes - kept);
  }
  return 0;
}

export function readFilePage(object: MemoryObject, index: u32, page: u32): i32 {
  return readRange(object, index, 1, page);
}

/** ReadPages: read-ahead, in as few requests as the file's layout allows. */
export function readFilePages(object: MemoryObject, index: u32, count: u32, buffer: u32): i32 {
  return readRange(object, index, count, buffer);
}

/**
 * Writes pages [index, index + pages) of the file from `buffer`
 * (contiguous): the blocks that lie in the file, each stretch of blocks
 * that follow each other on the disk in one request. `dirtyKib` says which
 * kilobytes of each page were written; a hole among them gets a block (a
 * freed file's pages are dropped: owner 0).
 */
function writeRange(object: MemoryObject, index: u32, pages: u32, buffer: u32, dirtyKib: u32): i32 {
  const info = infoOfObject(object);
  if (info.inode == 0) return 0;
  const fs = info.fs;
  const perPage = PAGE_SIZE >> fs.blockShift;
  const first = <u64>index * perPage;
  const end = min(first + <u64>pages * perPage, blocksFor(fs, object.size));
  let allocated = false;
  let status: i32 = 0;
  let runStart: u32 = 0; // the run waiting to be written: its first disk block, its length, where its bytes are
  let runLength: u32 = 0;
  let runBytes: u32 = 0;
  for (let logical = first; logical <= end; logical++) {
    const at = buffer + (<u32>(logical - first) << fs.blockShift);
    let got: i64 = 0;
    if (logical < end) {
      got = mapBlock(info, logical, false);
      // A hole gets a block where the page was written, zeros or not (a write is data, as on Linux),
      // and stays a hole where only its neighbours in the page were.
      if (got == 0 && written(dirtyKib, <u32>(logical - first) & (perPage - 1), fs.blockShift)) {
        got = mapBlock(info, logical, true);
        allocated = true;
      }
      if (got < 0) status = <i32>got;
    }
    if (runLength != 0 && got == <i64>runStart + runLength) {
      runLength++;
      continue;
    }
    if (runLength != 0) {
      const result = transfer(fs, BLOCK_WRITE, runStart, runLength, runBytes);
      if (result != 0) status = result;
    }
    runLength = got > 0 ? 1 : 0;
    runStart = <u32>max(got, 0);
    runBytes = at;
  }
  if ((allocated || diskSize(rawOf(info)) != object.size) && info.inode != 0) {
    const result = storeInode(changetype<Inode>(info.inode)); // the map, i_blocks or the size changed
    if (result != 0 && status == 0) status = result;
  }
  return status;
}

/** WritePage: the page's written kilobytes decide which of its holes get blocks. */
export function writeFilePage(object: MemoryObject, index: u32, page: u32, dirtyKib: u32): i32 {
  return writeRange(object, index, 1, page, dirtyKib);
}

/** Every kilobyte of a page (MemoryObject.writePages takes wholly dirty pages only). */
const WHOLE_PAGE_KIB: u32 = (1 << (PAGE_SIZE >> 10)) - 1;

/** WritePages: a writeback run of whole dirty pages, in as few requests as the file's layout allows. */
export function writeFilePages(object: MemoryObject, index: u32, count: u32, buffer: u32): i32 {
  return writeRange(object, index, count, buffer, WHOLE_PAGE_KIB);
}
