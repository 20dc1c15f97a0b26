// sendfile: bytes from a file to another descriptor without a trip through
// user memory, a page at a time through a kernel buffer, with the checks
// of Linux's do_sendfile. The source must have pages of its own to read (a
// regular file, a block device, a /proc text); the destination is any file
// write() takes but an O_APPEND one, an eventfd, or an epoll or signalfd.
import { blockFileObject } from "../fs/block_file";
import { File, FileKind, O_APPEND, releaseFile, retainFile } from "../fs/file";
import { MAX_FILE_SIZE, readObjectToKernel } from "../fs/file_io";
import { Inode } from "../fs/inode";
import { allocPage, freePages } from "../mm/buddy";
import { FrameState, PAGE_SIZE } from "../mm/frame";
import { MemoryObject } from "../mm/memory_object";
import { copyFromUser, putUser64 } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { EBADF, EFAULT, EINVAL, ENOMEM, ENXIO, EOVERFLOW, ESPIPE } from "./errno";
import { AT_POSITION, MAX_RW_COUNT, checkedFile, seekable, writeFrom } from "./read_write";

/** Reads up to `count` bytes of `file` at `at` into `buffer`; the count read (0 at its end), or -errno. */
function readSource(file: File, buffer: u32, count: u32, at: u64): i64 {
  if (file.kind == FileKind.Generated) {
    if (at >= <u64>file.size) return 0;
    const n = <u32>min(<u64>count, <u64>file.size - at);
    memory.copy(buffer, file.data + <u32>at, n);
    return n;
  }
  const inode = changetype<Inode>(file.inode);
  const object: MemoryObject | null = file.kind == FileKind.BlockDevice ? blockFileObject(inode) : inode.object;
  return object == null ? -ENXIO : readObjectToKernel(changetype<MemoryObject>(object), buffer, count, at);
}

/** Copies up to `count` bytes from `from` at `at` to `to`; the count moved (the first error if none moved). */
function transfer(process: Process, to: File, from: File, at: u64, count: u64, buffer: u32): i64 {
  let done: u64 = 0;
  while (done < count) {
    const got = readSource(from, buffer, <u32>min(count - done, <u64>PAGE_SIZE), at + done);
    if (got <= 0) return done > 0 ? <i64>done : got;
    const put = writeFrom(process, to, null, buffer, <u64>got, AT_POSITION);
    if (put <= 0) return done > 0 ? <i64>done : put;
    done += <u64>put;
    if (put < got) break; // the destination took only part (a full disk, a signal)
  }
  return <i64>done;
}

/**
 * Linux's order: the offset is read first (EFAULT), then the descriptors
 * are checked and the bytes moved, and the offset is written back whatever
 * happened (EFAULT if it cannot be: a read-only page).
 */
export function sysSendfile(process: Process, outFd: i64, inFd: i64, offset: u64, count: u64): i64 {
  if (offset == 0) return sendfile(process, outFd, inFd, false, 0, count);
  const space = spaceOf(process);
  const word = memory.data(8, 8);
  if (!copyFromUser(space, <u32>word, offset, 8)) return -EFAULT;
  const start = load<i64>(word); // read before anything sleeps: `word` is shared
  const result = sendfile(process, outFd, inFd, true, start, count);
  const end = result > 0 ? start + result : start;
  return putUser64(space, offset, <u64>end) ? result : -EFAULT;
}

/** Moves up to `count` bytes from `inFd` (at `start` when `positioned`, else at its own position, which advances). */
function sendfile(process: Process, outFd: i64, inFd: i64, positioned: bool, start: i64, count: u64): i64 {
  const input = checkedFile(process, inFd, true);
  if (input == null) return -EBADF;
  const output = checkedFile(process, outFd, false);
  if (output == null) return -EBADF;
  if (positioned && start < 0) return -EINVAL;
  if (positioned && !seekable(input)) return -ESPIPE;
  const at = positioned ? <u64>start : input.offset;
  if (input.kind != FileKind.Regular && input.kind != FileKind.BlockDevice && input.kind != FileKind.Generated) return -EINVAL;
  if ((output.flags & O_APPEND) != 0) return -EINVAL;
  let n = min(count, MAX_RW_COUNT);
  if (at + n > MAX_FILE_SIZE) {
    if (at >= MAX_FILE_SIZE) return -EOVERFLOW;
    n = MAX_FILE_SIZE - at;
  }
  if (n == 0) return 0;
  const buffer = allocPage(FrameState.KernelObject, false);
  if (buffer == 0) return -ENOMEM;
  retainFile(input); // the copy sleeps; another thread may close either descriptor
  retainFile(output);
  const moved = transfer(process, output, input, at, n, buffer);
  releaseFile(output);
  releaseFile(input);
  freePages(buffer);
  if (moved > 0 && !positioned) input.offset = at + <u64>moved;
  return moved;
}
