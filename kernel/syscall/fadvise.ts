// fadvise64 (posix_fadvise), with the checks of Linux's generic_fadvise.
// DONTNEED writes the range's dirty pages back and drops the clean ones
// nobody maps (so a benchmark can start cold); WILLNEED reads up to
// WILLNEED_PAGES of the range into the cache now (Linux starts that read
// and returns; this kernel has no reads in the background yet). NORMAL,
// RANDOM and SEQUENTIAL tune Linux's readahead, which this kernel does not
// have, and NOREUSE does nothing on Linux either. Files whose bytes have no
// backing store to read or drop (tmpfs, devices but block devices, /proc)
// take every advice and do nothing, as Linux answers for its in-memory
// file systems.
import { blockFileObject } from "../fs/block_file";
import { FileKind, fileAt } from "../fs/file";
import { Inode } from "../fs/inode";
import { PAGE_SIZE } from "../mm/frame";
import { MemoryObject } from "../mm/memory_object";
import { dropCleanRange, getCachedPage, releaseCachedPage } from "../mm/page_cache";
import { writeBackObject } from "../mm/writeback";
import { Process } from "../proc/process";
import { EBADF, EINVAL, ESPIPE } from "./errno";

const POSIX_FADV_NOREUSE: i64 = 5;
const POSIX_FADV_WILLNEED: i64 = 3;
const POSIX_FADV_DONTNEED: i64 = 4;
const WILLNEED_PAGES: u64 = 128;

export function sysFadvise64(process: Process, fd: i64, offset: i64, length: i64, advice: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  if (file.kind == FileKind.PipeRead || file.kind == FileKind.PipeWrite) return -ESPIPE;
  if (length < 0 || advice < 0 || advice > POSIX_FADV_NOREUSE) return -EINVAL;
  const inode = file.inode;
  let object: MemoryObject | null = null;
  if (file.kind == FileKind.BlockDevice) object = blockFileObject(changetype<Inode>(inode));
  else if (file.kind == FileKind.Regular) object = changetype<Inode>(inode).object;
  if (object == null || object.writePage == 0 || (advice != POSIX_FADV_WILLNEED && advice != POSIX_FADV_DONTNEED)) return 0;
  const start = offset < 0 ? 0 : <u64>offset;
  const end = length == 0 || <u64>length > U64.MAX_VALUE - start ? object.size : min(object.size, start + <u64>length);
  if (start >= end) return 0;
  const first = <u32>(start / PAGE_SIZE);
  const last = <u32>min((end + PAGE_SIZE - 1) / PAGE_SIZE, <u64>U32.MAX_VALUE);
  if (advice == POSIX_FADV_DONTNEED) {
    writeBackObject(object, first, last);
    // Only whole pages inside the range go, as Linux invalidates them.
    const whole = <u32>((start + PAGE_SIZE - 1) / PAGE_SIZE);
    const wholeEnd = end == object.size ? last : <u32>(end / PAGE_SIZE);
    if (whole < wholeEnd) dropCleanRange(object, whole, wholeEnd);
    return 0;
  }
  for (let index = first; index < last && <u64>(index - first) < WILLNEED_PAGES; index++) {
    const page = getCachedPage(object, index);
    if (page < 0) break; // advice: a page that cannot be read is not an error here
    releaseCachedPage(<u32>page);
  }
  return 0;
}
