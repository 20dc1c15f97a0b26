// Directories: getdents64 (with "." and ".."), chdir, fchdir, getcwd.
import { FileKind, fileAt } from "../fs/file";
import {
  Inode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK, isDirectoryInode, isGeneratedInode, readdirOf, releaseInode,
} from "../fs/inode";
import { pathOfInode } from "../fs/names";
import { PATH_MAX } from "../fs/path";
import { AddressSpace } from "../mm/address_space";
import { copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { kfree, kmalloc } from "../mm/slab";
import { EBADF, EFAULT, EINVAL, ENOENT, ENOMEM, ENOTDIR, ERANGE } from "./errno";
import { AT_FDCWD, lookupAt } from "./paths";
import { setWorkingDirectory } from "../proc/thread_group";

function direntType(type: u32): u8 {
  if (type == S_IFDIR) return 4;
  if (type == S_IFREG) return 8;
  if (type == S_IFLNK) return 10;
  if (type == S_IFCHR) return 2;
  if (type == S_IFBLK) return 6;
  if (type == S_IFIFO) return 1;
  if (type == S_IFSOCK) return 12;
  return 0;
}

/**
 * One getdents64 call's state, kmalloc'd for the call (a file system's
 * readdir may sleep on its disk, and another call run meanwhile):
 *   0 space  8 buffer(u64)  16 capacity(u64)  24 written(u64)  32 fault  36 full (an entry did not fit)
 *  40 the entry being written (RECORD_BYTES)
 */
@unmanaged class DirentWriter {
  space: AddressSpace;
  buffer: u64;
  capacity: u64;
  written: u64;
  fault: bool;
  full: bool;
}
const ENTRY_AT: u32 = 40;
const RECORD_BYTES: u32 = 280;

/** Writes one struct linux_dirent64; false when it does not fit (or the buffer is bad), so readdir stops there. */
function emit(context: u32, ino: u64, type: u32, name: u32, length: u32, next: u64): bool {
  const out = changetype<DirentWriter>(context);
  const record = context + ENTRY_AT;
  const size = (19 + length + 1 + 7) & ~7; // d_ino, d_off, d_reclen, d_type, name, NUL; 8-aligned
  if (out.fault) return false;
  if (out.written + size > out.capacity) {
    out.full = true;
    return false;
  }
  memory.fill(record, 0, size);
  store<u64>(record, ino);
  store<u64>(record + 8, next); // d_off: where the next read starts
  store<u16>(record + 16, <u16>size);
  store<u8>(record + 18, direntType(type));
  memory.copy(record + 19, name, length);
  if (!copyToUser(out.space, out.buffer + out.written, record, size)) {
    out.fault = true;
    return false;
  }
  out.written += size;
  return true;
}

export function sysGetdents64(process: Process, fd: i64, buffer: u64, count: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  if (file.kind != FileKind.Directory) return -ENOTDIR;
  const inode = changetype<Inode>(file.inode);
  if (inode.nlink == 0 && !isGeneratedInode(inode)) return -ENOENT; // removed, as Linux answers (/proc's have no names to count)
  const context = kmalloc(ENTRY_AT + RECORD_BYTES);
  if (context == 0) return -ENOMEM;
  const out = changetype<DirentWriter>(context);
  out.space = spaceOf(process);
  out.buffer = buffer;
  out.capacity = count;
  out.written = 0;
  out.fault = false;
  out.full = false;
  const next = readdirOf(inode, file.offset, emit, context);
  const written = out.written;
  let result: i64 = <i64>written;
  if (out.fault) result = -EFAULT;
  else if (written == 0 && out.full) result = -EINVAL; // not even the first entry fits
  else if (next < 0 && written == 0) result = next; // the directory cannot be read (EIO)
  else if (next >= 0) file.offset = <u64>next;
  kfree(context);
  return result;
}

function changeDirectory(process: Process, inode: Inode): i64 {
  if (!isDirectoryInode(inode)) {
    releaseInode(inode);
    return -ENOTDIR;
  }
  setWorkingDirectory(process, inode);
  return 0;
}

export function sysChdir(process: Process, path: u64): i64 {
  const found = lookupAt(process, AT_FDCWD, path, true, false);
  if (found < 0) return found;
  return changeDirectory(process, changetype<Inode>(<u32>found));
}

export function sysFchdir(process: Process, fd: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  if (file.inode == null) return -ENOTDIR;
  const inode = changetype<Inode>(file.inode);
  inode.refCount++;
  return changeDirectory(process, inode);
}

const cwdText = memory.data(PATH_MAX);

/** getcwd: the working directory's path and its NUL; ENOENT once it has been removed, ERANGE if it does not fit. */
export function sysGetcwd(process: Process, buffer: u64, size: u64): i64 {
  const cwd = changetype<Inode>(process.cwd);
  if (cwd.nlink == 0) return -ENOENT;
  const length = pathOfInode(cwd, <u32>cwdText, PATH_MAX - 1);
  store<u8>(cwdText + length, 0);
  if (<u64>length + 1 > size) return -ERANGE;
  return copyToUser(spaceOf(process), buffer, <u32>cwdText, length + 1) ? <i64>(length + 1) : -EFAULT;
}
