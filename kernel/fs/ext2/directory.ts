// Directories: blocks of variable-length entries (inode, record length,
// name length, file type, name), each record running to the next, the
// last to the block's end; a removed entry joins the one before it, or
// has inode 0 when it starts a block. A directory's position for readdir
// is a byte offset in it. Entries are checked as they are read: a bad one
// makes the directory EIO, with a log line naming the inode.
import { getBlock, markBlockDirty, putBlock } from "../../block/buffer_cache";
import { printf } from "../../console/console";
import {
  EmitEntry, Inode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, touchModified,
} from "../inode";
import { mapBlock } from "./block_map";
import { Ext2Inode, INDEX_FLAG, infoOf, rawOf, storeInode } from "./disk_inode";
import { Ext2Fs } from "./fs";
import { INCOMPAT_FILETYPE } from "./superblock";

const EIO: i64 = 5;
const ENOENT: i64 = 2;
const NOT_EMPTY: i64 = -39; // ENOTEMPTY

/**
 *   0 inode (0: unused)  4 recordLength(u16)  6 nameLength(u8)  7 fileType(u8; with FILETYPE)  8 name
 */
@unmanaged class DirEntry {
  inode: u32;
  recordLength: u16;
  nameLength: u8;
  fileType: u8;
}
const ENTRY_HEADER: u32 = 8;

/** Bytes an entry with a name of `length` needs. */
@inline function recordFor(length: u32): u32 {
  return (ENTRY_HEADER + length + 3) & ~3;
}

@inline function entryAt(address: u32): DirEntry {
  return changetype<DirEntry>(address);
}

/** ext2's file types, by S_IFMT >> 12: 1 regular, 2 directory, 3 char, 4 block, 5 fifo, 6 socket, 7 link. */
export function fileTypeOf(mode: u32): u8 {
  switch (mode & S_IFMT) {
    case S_IFREG: return 1;
    case S_IFDIR: return 2;
    case S_IFCHR: return 3;
    case S_IFBLK: return 4;
    case S_IFIFO: return 5;
    case S_IFSOCK: return 6;
    case S_IFLNK: return 7;
    default: return 0;
  }
}

function modeOfFileType(type: u8): u32 {
  switch (type) {
    case 1: return S_IFREG;
    case 2: return S_IFDIR;
    case 3: return S_IFCHR;
    case 4: return S_IFBLK;
    case 5: return S_IFIFO;
    case 6: return S_IFSOCK;
    case 7: return S_IFLNK;
    default: return 0;
  }
}

@inline function hasFileType(fs: Ext2Fs): bool {
  return (fs.superblock.incompat & INCOMPAT_FILETYPE) != 0;
}

/** Whether the entry at `offset` of a block is sound; logs and says no when not. */
function checkEntry(info: Ext2Inode, block: u32, offset: u32): bool {
  const fs = info.fs;
  const entry = entryAt(block + offset);
  const length = <u32>entry.recordLength;
  let problem: string | null = null;
  if (length < recordFor(1)) problem = "record too short";
  else if ((length & 3) != 0) problem = "record not 4-aligned";
  else if (offset + length > fs.blockSize) problem = "record crosses its block";
  else if (recordFor(entry.nameLength) > length) problem = "name past its record";
  else if (entry.inode > fs.inodesPerGroup * fs.groupCount) problem = "inode number past the file system";
  if (problem == null) return true;
  printf("ext2: directory inode %d: %s (offset %d of a block)\n", info.ino, changetype<usize>(problem), offset);
  return false;
}

/** Block `logical` of the directory, held (putBlock it); -EIO for a hole (logged), or -errno. */
function directoryBlock(info: Ext2Inode, logical: u32): i64 {
  const got = mapBlock(info, logical, false);
  if (got < 0) return got;
  if (got == 0) {
    printf("ext2: directory inode %d has a hole at block %d\n", info.ino, logical);
    return -EIO;
  }
  return getBlock(info.fs.device, <u64>got, info.fs.blockSize);
}

@inline function blockCount(dir: Inode): u32 {
  return <u32>(dir.size >> infoOf(dir).fs.blockShift);
}

function nameMatches(entry: DirEntry, name: u32, length: u32): bool {
  return entry.inode != 0 && <u32>entry.nameLength == length && memory.compare(changetype<u32>(entry) + ENTRY_HEADER, name, length) == 0;
}

/** Where the entry named `name` is: its byte offset in the directory, -ENOENT, or -errno. */
export function findEntry(dir: Inode, name: u32, length: u32): i64 {
  const info = infoOf(dir);
  const size = info.fs.blockSize;
  for (let logical: u32 = 0; logical < blockCount(dir); logical++) {
    const got = directoryBlock(info, logical);
    if (got < 0) return got;
    const block = <u32>got;
    for (let offset: u32 = 0; offset < size; offset += entryAt(block + offset).recordLength) {
      if (!checkEntry(info, block, offset)) {
        putBlock(block);
        return -EIO;
      }
      if (nameMatches(entryAt(block + offset), name, length)) {
        putBlock(block);
        return <i64>logical * size + offset;
      }
    }
    putBlock(block);
  }
  return -ENOENT;
}

/** The entry at byte `position` (from findEntry), held in its block: the entry's address; putBlock it. */
function entryAtPosition(dir: Inode, position: u64): i64 {
  const info = infoOf(dir);
  const got = directoryBlock(info, <u32>(position >> info.fs.blockShift));
  if (got < 0) return got;
  return got + <i64>(position & (info.fs.blockSize - 1));
}

/** The inode number of the entry at `position`. */
export function entryInode(dir: Inode, position: u64): i64 {
  const got = entryAtPosition(dir, position);
  if (got < 0) return got;
  const ino = entryAt(<u32>got).inode;
  putBlock(<u32>got);
  return ino;
}

/** A directory changes: its index (if any) is dropped and its times set; the inode is written. */
function directoryChanged(dir: Inode): i32 {
  rawOf(infoOf(dir)).flags &= ~INDEX_FLAG;
  touchModified(dir);
  return storeInode(dir);
}

/** Points the entry at `position` at inode `ino` (rename over a name, a moved directory's ".."). */
export function setEntryInode(dir: Inode, position: u64, ino: u32, mode: u32): i32 {
  const got = entryAtPosition(dir, position);
  if (got < 0) return <i32>got;
  const entry = entryAt(<u32>got);
  entry.inode = ino;
  if (hasFileType(infoOf(dir).fs)) entry.fileType = fileTypeOf(mode);
  markBlockDirty(<u32>got & ~(infoOf(dir).fs.blockSize - 1), infoOf(dir).fs.blockSize);
  putBlock(<u32>got);
  return directoryChanged(dir);
}

/** Removes the entry at `position`: it joins the record before it, or is marked unused when first in its block. */
export function removeEntry(dir: Inode, position: u64): i32 {
  const info = infoOf(dir);
  const size = info.fs.blockSize;
  const got = directoryBlock(info, <u32>(position >> info.fs.blockShift));
  if (got < 0) return <i32>got;
  const block = <u32>got;
  const at = <u32>(position & (size - 1));
  if (at == 0) {
    entryAt(block).inode = 0;
  } else {
    let previous: u32 = 0;
    while (previous + entryAt(block + previous).recordLength < at) previous += entryAt(block + previous).recordLength;
    assert(previous + entryAt(block + previous).recordLength == at, "removeEntry: position is not an entry's");
    entryAt(block + previous).recordLength += entryAt(block + at).recordLength;
  }
  markBlockDirty(block, size);
  putBlock(block);
  return directoryChanged(dir);
}

function writeEntry(fs: Ext2Fs, at: u32, recordLength: u32, ino: u32, mode: u32, name: u32, length: u32): void {
  const entry = entryAt(at);
  entry.inode = ino;
  entry.recordLength = <u16>recordLength;
  entry.nameLength = <u8>length;
  entry.fileType = hasFileType(fs) ? fileTypeOf(mode) : 0;
  memory.copy(at + ENTRY_HEADER, name, length);
}

/** Puts the entry in `block` if it has room (an unused record, or the slack after one): whether it did. */
function placeIn(fs: Ext2Fs, block: u32, ino: u32, mode: u32, name: u32, length: u32): bool {
  const needed = recordFor(length);
  for (let offset: u32 = 0; offset < fs.blockSize; offset += entryAt(block + offset).recordLength) {
    const entry = entryAt(block + offset);
    const record = <u32>entry.recordLength;
    if (entry.inode == 0 && record >= needed) {
      writeEntry(fs, block + offset, record, ino, mode, name, length);
      return true;
    }
    const used = recordFor(entry.nameLength);
    if (entry.inode != 0 && record - used >= needed) {
      entry.recordLength = <u16>used;
      writeEntry(fs, block + offset + used, record - used, ino, mode, name, length);
      return true;
    }
  }
  return false;
}

/** Adds name → `ino` (of type `mode`) to the directory, in the first block with room or a new one: 0 or -errno. */
export function addEntry(dir: Inode, name: u32, length: u32, ino: u32, mode: u32): i32 {
  const info = infoOf(dir);
  const fs = info.fs;
  const blocks = blockCount(dir);
  for (let logical: u32 = 0; logical < blocks; logical++) {
    const got = directoryBlock(info, logical);
    if (got < 0) return <i32>got;
    const block = <u32>got;
    for (let offset: u32 = 0; offset < fs.blockSize; offset += entryAt(block + offset).recordLength) {
      if (!checkEntry(info, block, offset)) {
        putBlock(block);
        return <i32>-EIO;
      }
    }
    const placed = placeIn(fs, block, ino, mode, name, length);
    if (placed) markBlockDirty(block, fs.blockSize);
    putBlock(block);
    if (placed) return directoryChanged(dir);
  }
  const got = mapBlock(info, blocks, true);
  if (got < 0) return <i32>got;
  const at = getBlock(fs.device, <u64>got, fs.blockSize);
  if (at < 0) return <i32>at;
  writeEntry(fs, <u32>at, fs.blockSize, ino, mode, name, length);
  markBlockDirty(<u32>at, fs.blockSize);
  putBlock(<u32>at);
  dir.size += fs.blockSize;
  return directoryChanged(dir);
}

/** A new directory's first block: "." and "..". 0 or -errno. */
export function initDirectory(dir: Inode, parentIno: u32): i32 {
  const info = infoOf(dir);
  const fs = info.fs;
  const got = mapBlock(info, 0, true);
  if (got < 0) return <i32>got;
  const at = getBlock(fs.device, <u64>got, fs.blockSize);
  if (at < 0) return <i32>at;
  const dot = recordFor(1);
  writeEntry(fs, <u32>at, dot, <u32>dir.ino, S_IFDIR, changetype<u32>(memory.data<u8>([0x2e])), 1);
  writeEntry(fs, <u32>at + dot, fs.blockSize - dot, parentIno, S_IFDIR, changetype<u32>(memory.data<u8>([0x2e, 0x2e])), 2);
  markBlockDirty(<u32>at, fs.blockSize);
  putBlock(<u32>at);
  dir.size = fs.blockSize;
  return storeInode(dir);
}

@inline function isDots(entry: DirEntry): bool {
  const at = changetype<u32>(entry) + ENTRY_HEADER;
  return load<u8>(at) == 0x2e && (entry.nameLength == 1 || (entry.nameLength == 2 && load<u8>(at + 1) == 0x2e));
}

/** EmptyOp: 0 when the directory holds nothing but "." and "..", else -ENOTEMPTY, or -errno. */
export function directoryEmpty(dir: Inode): i64 {
  const info = infoOf(dir);
  for (let logical: u32 = 0; logical < blockCount(dir); logical++) {
    const got = directoryBlock(info, logical);
    if (got < 0) return got;
    const block = <u32>got;
    let result: i64 = 0;
    for (let offset: u32 = 0; offset < info.fs.blockSize && result == 0; offset += entryAt(block + offset).recordLength) {
      if (!checkEntry(info, block, offset)) result = -EIO;
      else if (entryAt(block + offset).inode != 0 && !isDots(entryAt(block + offset))) result = NOT_EMPTY;
    }
    putBlock(block);
    if (result != 0) return result;
  }
  return 0;
}

/**
 * ReaddirOp: the entries from byte `cursor` on; the next cursor (the
 * directory's size at its end), or -errno. A bad entry after some were
 * given ends the call there, so the next one reports it.
 */
export function readDirectory(dir: Inode, cursor: u64, emit: EmitEntry, context: u32): i64 {
  const info = infoOf(dir);
  const fs = info.fs;
  const size = <u64>blockCount(dir) << fs.blockShift;
  let position = cursor;
  let emitted = false;
  while (position < size) {
    const logical = <u32>(position >> fs.blockShift);
    const got = directoryBlock(info, logical);
    if (got < 0) return got;
    const block = <u32>got;
    const base = <u64>logical << fs.blockShift;
    const start = <u32>(position - base);
    let offset: u32 = 0;
    let stopped = false;
    while (offset < fs.blockSize) {
      if (!checkEntry(info, block, offset)) {
        putBlock(block);
        return emitted ? <i64>(base + offset) : -EIO;
      }
      const entry = entryAt(block + offset);
      const next = offset + entry.recordLength;
      if (offset >= start && entry.inode != 0) {
        const type = hasFileType(fs) ? modeOfFileType(entry.fileType) : 0;
        if (!emit(context, entry.inode, type, block + offset + ENTRY_HEADER, entry.nameLength, base + next)) {
          position = base + offset;
          stopped = true;
          break;
        }
        emitted = true;
      }
      offset = next;
    }
    putBlock(block);
    if (stopped) return <i64>position;
    position = base + fs.blockSize;
  }
  return <i64>position;
}
