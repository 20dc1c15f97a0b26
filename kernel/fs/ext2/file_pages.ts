// A regular file's pages: read from and written to its disk blocks
// straight between the page frame and the disk (blockIo), a run of
// consecutive blocks at a time; a page holds 4096 / blockSize blocks. A
// hole reads as zeros, and so do the bytes past the end of the file. A
// written page gets blocks for the holes it fills, except for blocks that
// are still all zeros: those stay holes, so a sparse file stays sparse.
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

function isZero(at: u32, bytes: u32): bool {
  for (let i: u32 = 0; i < bytes; i += 8) if (load<u64>(at + i) != 0) return false;
  return true;
}

/** Reads or writes `count` consecutive blocks from disk block `first` at `buffer`. */
@inline function transfer(fs: Ext2Fs, operation: u32, first: u32, count: u32, buffer: u32): i32 {
  return blockIo(fs.device, operation, <u64>first * blockSectors(fs), count * blockSectors(fs), buffer);
}

export function readFilePage(object: MemoryObject, index: u32, page: u32): i32 {
  const info = infoOfObject(object);
  const fs = info.fs;
  const perPage = PAGE_SIZE >> fs.blockShift;
  const first = <u64>index * perPage;
  const end = min(first + perPage, blocksFor(fs, object.size));
  let i: u32 = 0;
  while (<u64>i < <u64>perPage) {
    const logical = first + i;
    const got = logical < end ? mapBlock(info, logical, false) : 0;
    if (got < 0) return <i32>got;
    if (got == 0) {
      memory.fill(page + (i << fs.blockShift), 0, fs.blockSize);
      i++;
      continue;
    }
    let run: u32 = 1;
    while (first + i + run < end) {
      const next = mapBlock(info, first + i + run, false);
      if (next != got + run) break; // a hole, another place, or an error (found again as the next run starts)
      run++;
    }
    const status = transfer(fs, BLOCK_READ, <u32>got, run, page + (i << fs.blockShift));
    if (status != 0) return status;
    i += run;
  }
  const pageStart = <u64>index * PAGE_SIZE;
  if (object.size < pageStart + PAGE_SIZE) {
    const kept = object.size > pageStart ? <u32>(object.size - pageStart) : 0;
    memory.fill(page + kept, 0, PAGE_SIZE - kept);
  }
  return 0;
}

/** Writes the page's blocks that lie in the file (a freed file's pages are dropped: owner 0). */
export function writeFilePage(object: MemoryObject, index: u32, page: u32, dirtyKib: u32): i32 {
  const info = infoOfObject(object);
  if (info.inode == 0) return 0;
  const fs = info.fs;
  const perPage = PAGE_SIZE >> fs.blockShift;
  const first = <u64>index * perPage;
  const end = min(first + perPage, blocksFor(fs, object.size));
  let allocated = false;
  let status: i32 = 0;
  for (let logical = first; logical < end; logical++) {
    const at = page + (<u32>(logical - first) << fs.blockShift);
    let got = mapBlock(info, logical, false);
    if (got == 0) {
      if (isZero(at, fs.blockSize)) continue;
      got = mapBlock(info, logical, true);
      allocated = true;
    }
    if (got < 0) {
      status = <i32>got;
      continue;
    }
    const result = transfer(fs, BLOCK_WRITE, <u32>got, 1, at);
    if (result != 0) status = result;
  }
  if ((allocated || diskSize(rawOf(info)) != object.size) && info.inode != 0) {
    const result = storeInode(changetype<Inode>(info.inode)); // the map, i_blocks or the size changed
    if (result != 0 && status == 0) status = result;
  }
  return status;
}
