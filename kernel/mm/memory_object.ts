// Memory objects: what a page of the page cache belongs to (Linux's
// address_space, SerenityOS's VMObject). A file of tmpfs, a shared
// anonymous mapping and the vDSO are each one; mm knows an object only by
// the two operations its creator gave it, so the page cache never asks what
// kind of thing a page belongs to.
//
// An object counts its holders: the file system's inode for a file, every
// region that maps it, the page cache never. When the last holder lets go,
// `release` runs (which normally drops the object's pages from the cache).
import { copyPage } from "../arch/x86_64/cpu";
import { NO_FRAME, PAGE_SIZE } from "./frame";
import { kfree, kmalloc } from "./slab";

/**
 * Fills frame `page` (linear address) with page `index` of the object: its
 * bytes, zeros past them. Returns 0, or -errno (EIO: the disk failed). It may
 * sleep (a disk read), so it must keep nothing in shared scratch across one.
 */
export type ReadPage = (object: MemoryObject, index: u32, page: u32) => i32;
/**
 * Writes frame `page`, page `index` of the object, back to where the object
 * keeps it: 0 or -errno. It may sleep. `dirtyKib` says which kilobytes
 * changed (bit k: bytes [k KiB, k+1 KiB)); a file writes its whole page.
 */
export type WritePage = (object: MemoryObject, index: u32, page: u32, dirtyKib: u32) => i32;
/**
 * Fills `count` frames from `buffer` (contiguous) with pages [index, index
 * + count) of the object, in as few disk requests as it can: read-ahead.
 * Returns 0 or -errno. It may sleep.
 */
export type ReadPages = (object: MemoryObject, index: u32, count: u32, buffer: u32) => i32;
/**
 * Writes `count` whole pages [index, index + count) of the object, copied
 * in order into contiguous memory at `buffer`, in as few disk requests as
 * it can (writeback of a run of dirty pages). Returns 0 or -errno; may sleep.
 */
export type WritePages = (object: MemoryObject, index: u32, count: u32, buffer: u32) => i32;
/** The last holder let go. */
export type ReleaseObject = (object: MemoryObject) => void;

/**
 *   0 readPage (ReadPage)  4 release (ReleaseObject, 0 = just free the record)
 *   8 refCount  12 flags  16 size(u64): bytes the object holds (a file's size)
 *  24 source  28 sourceBytes: where readPage finds the bytes, for objects that
 *     have them in memory already (an initramfs file's archive bytes)
 *  32 owner: the creator's record (a file's inode), for reports such as /proc/PID/maps
 *  36 mappings: the first region mapping the object (a list through Region.nextMapping),
 *     so that truncation finds every page table to unmap from
 *  40 pages: how many of its pages the page cache holds
 *  44 executors: address spaces running it as their program (writing it is then ETXTBSY)
 *  48 writePage (WritePage; 0: its dirty pages are kept, not written: tmpfs, shared memory)
 *  52 lastRead: the page read() last took bytes from (a read of the same page again is not a new use of it)
 *  56 dirtyHead: its first dirty page waiting for writeback (a frame number; a list through Frame.next/prev)
 *  60 dirtyPages: how many  64 nextDirty: the next object with such pages (writeback's list)
 *  68 writeError: the first writeback error since fsync last reported one (-errno; Linux's AS_EIO)
 *  72 dirtiedAt(u64): when the oldest of them was dirtied (monotonic nanoseconds)
 *  80 readPages (ReadPages; 0: pages are read one at a time, and not ahead)
 *  84 window: how many pages the next read-ahead of a sequential reader takes (it doubles up to READ_AHEAD_MAX)
 *  88 quota (PageQuota, 0: none): the pages it may have cached, counted with others' (a tmpfs mounted with size=)
 *  92 writePages (WritePages; 0: dirty pages are written one at a time)
 *  96 writingBack: its pages being written back right now (fsync waits for them: writeback.ts)
 */
@unmanaged export class MemoryObject {
  readPage: u32;
  release: u32;
  refCount: u32;
  flags: u32;
  size: u64;
  source: u32;
  sourceBytes: u32;
  owner: u32;
  mappings: u32;
  pages: u32;
  executors: u32;
  writePage: u32;
  lastRead: u32;
  dirtyHead: u32;
  dirtyPages: u32;
  nextDirty: u32;
  writeError: i32;
  dirtiedAt: u64;
  readPages: u32;
  window: u32;
  quota: u32;
  writePages: u32;
  writingBack: u32;
}
export const MEMORY_OBJECT_SIZE: u32 = 100;

/**
 * A limit on the pages several objects may hold in the page cache
 * together (a tmpfs's size=, Linux's shmem max_blocks): a page past it is
 * ENOSPC. Its owner may follow these two words with its own.
 *   0 used  4 limit
 */
@unmanaged export class PageQuota {
  used: u32;
  limit: u32;
}

/**
 * MemoryObject.flags: the pages cannot be read again once dropped (they
 * are the only copy: shared anonymous memory, or a tmpfs file), so every
 * page of the object is kept (marked dirty) from the moment it is written
 * or, for memory with no source at all, created.
 */
export const OBJECT_NO_SOURCE: u32 = 1;
/**
 * The object may have holes: a page past its source that is not in the
 * cache reads as zeros without being made (a tmpfs file), as Linux's
 * tmpfs reads a hole.
 */
export const OBJECT_SPARSE: u32 = 2;
/**
 * Reading a page may sleep (it comes from a disk): a page fault that must
 * read one sleeps, then is taken again (FaultResponse.Retry), because the
 * faulting thread's mappings may have changed meanwhile.
 */
export const OBJECT_READS_SLEEP: u32 = 4;
/**
 * The object's bytes are a swap area in use (Linux's S_SWAPFILE, which is
 * on the block device's inode for a partition: here the object every node
 * of the device shares): writes, truncation and fallocate are ETXTBSY,
 * because swap writes its slots to the disk under the page cache.
 */
export const OBJECT_SWAP_FILE: u32 = 8;

/** A new object with one holder (the caller); null when out of memory. */
export function newMemoryObject(readPage: ReadPage, release: ReleaseObject | null, size: u64, flags: u32): MemoryObject | null {
  const address = kmalloc(MEMORY_OBJECT_SIZE);
  if (address == 0) return null;
  const object = changetype<MemoryObject>(address);
  initMemoryObject(object, readPage, release, size, flags);
  return object;
}

/** Prepares a statically placed object (the vDSO's), with one holder that never lets go. */
export function initMemoryObject(object: MemoryObject, readPage: ReadPage, release: ReleaseObject | null, size: u64, flags: u32): void {
  object.readPage = changetype<u32>(readPage);
  object.release = release == null ? 0 : changetype<u32>(release);
  object.refCount = 1;
  object.flags = flags;
  object.size = size;
  object.source = 0;
  object.sourceBytes = 0;
  object.owner = 0;
  object.mappings = 0;
  object.pages = 0;
  object.executors = 0;
  object.writePage = 0;
  object.lastRead = U32.MAX_VALUE;
  object.dirtyHead = NO_FRAME;
  object.dirtyPages = 0;
  object.nextDirty = 0;
  object.dirtiedAt = 0;
  object.writeError = 0;
  object.readPages = 0;
  object.window = 0;
  object.quota = 0;
  object.writePages = 0;
  object.writingBack = 0;
}

/** Lets writeback write runs of whole dirty pages of the object in one go. */
export function setWritePages(object: MemoryObject, writePages: WritePages): void {
  object.writePages = changetype<u32>(writePages);
}

/** Lets the object read runs of pages in one go, so that the page cache reads ahead for it. */
export function setReadPages(object: MemoryObject, readPages: ReadPages): void {
  object.readPages = changetype<u32>(readPages);
}

/** Gives the object a place to write its dirty pages back to (a file on a disk). */
export function setWritePage(object: MemoryObject, writePage: WritePage): void {
  object.writePage = changetype<u32>(writePage);
}

@inline export function retainObject(object: MemoryObject | null): void {
  if (object != null) object.refCount++;
}

/** Drops one hold; the last runs the object's release operation and frees the record. */
export function releaseObject(object: MemoryObject | null): void {
  if (object == null) return;
  assert(object.refCount > 0, "releaseObject: object has no holder");
  if (--object.refCount != 0) return;
  if (object.release != 0) changetype<ReleaseObject>(object.release)(object);
  kfree(changetype<u32>(object));
}

@inline export function readObjectPage(object: MemoryObject, index: u32, page: u32): i32 {
  return changetype<ReadPage>(object.readPage)(object, index, page);
}

@inline export function readObjectPages(object: MemoryObject, index: u32, count: u32, buffer: u32): i32 {
  return changetype<ReadPages>(object.readPages)(object, index, count, buffer);
}

@inline export function writeObjectPages(object: MemoryObject, index: u32, count: u32, buffer: u32): i32 {
  return changetype<WritePages>(object.writePages)(object, index, count, buffer);
}

@inline export function writeObjectPage(object: MemoryObject, index: u32, page: u32, dirtyKib: u32): i32 {
  return changetype<WritePage>(object.writePage)(object, index, page, dirtyKib);
}

/** ReadPage for objects whose bytes are in memory at `source` (zeros past `sourceBytes`). */
export function readFromSource(object: MemoryObject, index: u32, page: u32): i32 {
  const offset = <u64>index * PAGE_SIZE;
  const bytes = offset < <u64>object.sourceBytes ? <u32>min(<u64>PAGE_SIZE, <u64>object.sourceBytes - offset) : 0;
  const from = object.source + <u32>offset;
  if (bytes == PAGE_SIZE && (from & (PAGE_SIZE - 1)) == 0) {
    copyPage(page, from);
    return 0;
  }
  if (bytes != 0) memory.copy(page, from, bytes);
  memory.fill(page + bytes, 0, PAGE_SIZE - bytes);
  return 0;
}

/** ReadPage for memory that starts zeroed and has no source (shared anonymous memory, new files). */
export function readZeroes(object: MemoryObject, index: u32, page: u32): i32 {
  memory.fill(page, 0, PAGE_SIZE);
  return 0;
}
