// sync_file_range: the pages of a byte range of a file, started to its
// disk (SYNC_FILE_RANGE_WRITE) and waited for (WAIT_BEFORE, WAIT_AFTER),
// with the checks of Linux's ksys_sync_file_range. As there, nothing but
// the data: no metadata, no cache flush. Writes here are synchronous, so
// WRITE returns once they are done; a WAIT alone waits for the writeback
// others (kflushd, fsync) have in flight in the range.
import { blockFileObject } from "../fs/block_file";
import { FileKind, fileAt } from "../fs/file";
import { Inode, S_IFBLK, S_IFDIR, S_IFLNK, S_IFREG, fileType } from "../fs/inode";
import { PAGE_SIZE } from "../mm/frame";
import { MemoryObject, releaseObject, retainObject } from "../mm/memory_object";
import { findCachedPage } from "../mm/page_cache";
import { waitForWriteback, writeBackObject } from "../mm/writeback";
import { Process } from "../proc/process";
import { EBADF, EINVAL, ESPIPE } from "./errno";

const SYNC_FILE_RANGE_WAIT_BEFORE: u64 = 1;
const SYNC_FILE_RANGE_WRITE: u64 = 2;
const SYNC_FILE_RANGE_WAIT_AFTER: u64 = 4;
const VALID_FLAGS: u64 = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

/** Waits for every page of [first, end) that is being written back (the object held: the sleeps may outlast its file). */
function waitForRange(object: MemoryObject, first: u32, end: u32): void {
  const last = <u32>min(<u64>end, (object.size + PAGE_SIZE - 1) / PAGE_SIZE);
  retainObject(object);
  for (let index = first; index < last; index++) {
    const page = findCachedPage(object, index);
    if (page != 0) waitForWriteback(page);
  }
  releaseObject(object);
}

export function sysSyncFileRange(process: Process, fd: i64, offset: i64, nbytes: i64, flags: u64): i64 {
  if ((flags & ~VALID_FLAGS) != 0) return -EINVAL;
  const endByte = offset + nbytes;
  if (offset < 0 || endByte < 0 || endByte < offset) return -EINVAL;
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  if (file.inode == null) return -ESPIPE; // a pipe, the console
  const inode = changetype<Inode>(file.inode);
  const type = fileType(inode);
  if (type != S_IFREG && type != S_IFBLK && type != S_IFDIR && type != S_IFLNK) return -ESPIPE;
  const object = type == S_IFBLK ? blockFileObject(inode) : type == S_IFREG ? inode.object : null;
  if (object == null || object.writePage == 0) return 0; // nothing of it goes to a disk
  const first = <u32>min(<u64>offset / PAGE_SIZE, <u64>U32.MAX_VALUE);
  const end = nbytes == 0 ? U32.MAX_VALUE : <u32>min((<u64>endByte + PAGE_SIZE - 1) / PAGE_SIZE, <u64>U32.MAX_VALUE);
  if ((flags & SYNC_FILE_RANGE_WAIT_BEFORE) != 0) waitForRange(object, first, end);
  if ((flags & SYNC_FILE_RANGE_WRITE) != 0) {
    const status = writeBackObject(object, first, end);
    if (status < 0) return status;
  }
  if ((flags & SYNC_FILE_RANGE_WAIT_AFTER) != 0) waitForRange(object, first, end);
  return 0;
}
