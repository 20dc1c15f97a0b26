// read and write of a regular file: through the page cache, a page at a
// time, straight between the cached frame and user memory (so a read into
// a copy-on-write page faults it, and a write is seen at once by every
// process that maps the file shared). A written page is marked dirty: for
// tmpfs it is then the only copy of its bytes.
import { AddressSpace, releaseUserFrame, zeroPage } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { MemoryObject, OBJECT_SWAP_FILE } from "../mm/memory_object";
import {
  READ_AHEAD_MAX, finishOverwrite, firstCachedIndex, getCachedPage, getCachedPageAhead, getPageToOverwrite, isHole,
  markPageAccessed, markPartDirty,
} from "../mm/page_cache";

/** The first read-ahead of a sequential reader, in pages (it doubles from there with each call). */
const READ_AHEAD_START: u32 = 4;
import { copyFromUser, copyToUser, userPage } from "../mm/user_copy";
import { overDirtyLimit, waitForWriteback, writeBackObject } from "../mm/writeback";
import { Inode, touchModified } from "./inode";

const EFAULT: i64 = 14;
const EFBIG: i64 = 27;
const ENOSPC: i64 = 28;
const ETXTBSY: i64 = 26;
// Page indices are 32-bit: files stop just short of 16 TiB (Linux's tmpfs limit is larger; nothing here comes near).
export const MAX_FILE_SIZE: u64 = <u64>U32.MAX_VALUE * PAGE_SIZE;

/** lseek SEEK_DATA: the first offset at or after `offset` in data; -1 if only holes follow (ENXIO). */
export function nextData(inode: Inode, offset: u64): i64 {
  const object = changetype<MemoryObject>(inode.object);
  if (offset >= object.size) return -1;
  const last = <u32>((object.size - 1) / PAGE_SIZE);
  const first = <u32>(offset / PAGE_SIZE);
  const cached = firstCachedIndex(object, first);
  let index = first;
  if (isHole(object, index)) {
    if (cached > last) return -1;
    index = cached;
  }
  return <i64>max(offset, <u64>index * PAGE_SIZE);
}

/** lseek SEEK_HOLE: the first offset at or after `offset` in a hole (the end of the file counts as one). */
export function nextHole(inode: Inode, offset: u64): i64 {
  const object = changetype<MemoryObject>(inode.object);
  if (offset >= object.size) return -1;
  const pages = (object.size + PAGE_SIZE - 1) / PAGE_SIZE;
  let index = offset / PAGE_SIZE;
  while (index < pages && !isHole(object, <u32>index)) index++;
  return <i64>min(max(offset, index * PAGE_SIZE), object.size);
}

/** Reads up to `count` bytes at `offset`; the count read (0 at or past the end), or -errno if nothing was. */
export function readInode(inode: Inode, space: AddressSpace, to: u64, count: u64, offset: u64): i64 {
  return readObject(changetype<MemoryObject>(inode.object), space, to, count, offset);
}

/** Reads up to `count` bytes of `object` at `offset` into user memory (a file's, or a block device's). */
export function readObject(object: MemoryObject, space: AddressSpace, to: u64, count: u64, offset: u64): i64 {
  if (offset >= object.size) return 0;
  const total = min(count, object.size - offset);
  // A reader that goes on where it stopped is sequential: each of its calls reads ahead twice as far as the last.
  const first = <u32>(offset / PAGE_SIZE);
  const sequential = first == object.lastRead || first == object.lastRead + 1 || (first == 0 && object.lastRead == U32.MAX_VALUE);
  object.window = sequential ? min(max(object.window * 2, READ_AHEAD_START), READ_AHEAD_MAX) : 0;
  const requested = <u32>min((offset + total + PAGE_SIZE - 1) / PAGE_SIZE - first, <u64>READ_AHEAD_MAX);
  let done: u64 = 0;
  while (done < total) {
    const at = offset + done;
    const inPage = <u32>(at % PAGE_SIZE);
    const chunk = <u32>min(<u64>(PAGE_SIZE - inPage), total - done);
    const index = <u32>(at / PAGE_SIZE);
    let ok: bool;
    if (isHole(object, index)) {
      ok = copyToUser(space, to + done, zeroPage(), chunk); // a hole is read without making its page
    } else {
      const got = getCachedPageAhead(object, index, max(object.window, requested - (index - first)));
      if (got < 0) return done > 0 ? <i64>done : got;
      const page = <u32>got;
      if (index != object.lastRead) { // reading on in the same page is not another use of it
        markPageAccessed(page);
        object.lastRead = index;
      }
      ok = copyToUser(space, to + done, page + inPage, chunk);
      releaseUserFrame(page, false);
    }
    if (!ok) return done > 0 ? <i64>done : -EFAULT;
    done += chunk;
  }
  return <i64>done;
}

/** Reads up to `count` bytes at `offset` into kernel memory at `into` (exec reads an ELF's headers so); the count read. */
export function readInodeToKernel(inode: Inode, into: u32, count: u32, offset: u64): i64 {
  return readObjectToKernel(changetype<MemoryObject>(inode.object), into, count, offset);
}

/** readInodeToKernel for any object (a block device's too, for sendfile); the count read, or -errno if nothing was. */
export function readObjectToKernel(object: MemoryObject, into: u32, count: u32, offset: u64): i64 {
  if (offset >= object.size) return 0;
  const total = <u32>min(<u64>count, object.size - offset);
  let done: u32 = 0;
  while (done < total) {
    const at = offset + done;
    const inPage = <u32>(at % PAGE_SIZE);
    const chunk = min(PAGE_SIZE - inPage, total - done);
    const got = getCachedPage(object, <u32>(at / PAGE_SIZE));
    if (got < 0) return done > 0 ? <i64>done : got;
    const page = <u32>got;
    memory.copy(into + done, page + inPage, chunk);
    releaseUserFrame(page, false);
    done += chunk;
  }
  return <i64>done;
}

/**
 * Writes `count` bytes at `offset`, growing the file; the count written, or
 * -errno if nothing was. The bytes are at `from` in `space`, or in kernel
 * memory (linear) when `space` is null (a core dump writes so).
 */
export function writeInode(inode: Inode, space: AddressSpace | null, from: u64, count: u64, offset: u64): i64 {
  const done = writeObject(changetype<MemoryObject>(inode.object), space, from, count, offset, MAX_FILE_SIZE);
  if (done > 0) touchModified(inode);
  return done;
}

/**
 * As writeInode, for any object, which grows up to `limit` bytes: a file's
 * largest size, or a block device's own (past which a write is ENOSPC, as
 * Linux's block devices answer).
 */
export function writeObject(object: MemoryObject, space: AddressSpace | null, from: u64, count: u64, offset: u64, limit: u64): i64 {
  if ((object.flags & OBJECT_SWAP_FILE) != 0) return -ETXTBSY; // swap writes its slots there (Linux's generic_write_checks)
  if (offset >= limit) return count == 0 ? 0 : limit == MAX_FILE_SIZE ? -EFBIG : -ENOSPC;
  const total = min(count, limit - offset);
  let done: u64 = 0;
  while (done < total) {
    const at = offset + done;
    const inPage = <u32>(at % PAGE_SIZE);
    const chunk = <u32>min(<u64>(PAGE_SIZE - inPage), total - done);
    // A whole page replaced need not be read first, if its source is in memory (see getPageToOverwrite).
    const whole = chunk == PAGE_SIZE && (space == null || userPage(space, from + done, false) != 0);
    const got = whole ? getPageToOverwrite(object, <u32>(at / PAGE_SIZE)) : getCachedPage(object, <u32>(at / PAGE_SIZE));
    if (got < 0) {
      if (done == 0) return got;
      break;
    }
    const page = <u32>got;
    waitForWriteback(page); // the disk is reading these bytes: let it finish before they change
    let ok = true;
    if (space == null) memory.copy(page + inPage, <u32>(from + done), chunk);
    else ok = copyFromUser(space, page + inPage, from + done, chunk);
    if (whole) finishOverwrite(page, ok);
    if (ok) markPartDirty(page, inPage, chunk); // a file system with small blocks writes (and allocates) only these
    releaseUserFrame(page, false);
    if (!ok) {
      if (done == 0) return -EFAULT;
      break;
    }
    done += chunk;
    if (at + chunk > object.size) object.size = at + chunk;
  }
  if (done != 0 && overDirtyLimit()) writeBackObject(object, 0, U32.MAX_VALUE); // the writer pays: it is throttled
  return <i64>done;
}
