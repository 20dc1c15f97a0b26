// fallocate on tmpfs files, with the checks of Linux's vfs_fallocate and
// shmem_fallocate in their order. Reserving space extends the file unless
// FALLOC_FL_KEEP_SIZE; no page is made ahead of use (a tmpfs hole reads as
// zeros either way; only st_blocks could tell). FALLOC_FL_PUNCH_HOLE (with
// FALLOC_FL_KEEP_SIZE, as Linux requires) frees the range, which then
// reads as zeros in every mapping of the file. Other modes are
// EOPNOTSUPP, as tmpfs answers.
import { FileKind, O_ACCMODE, fileAt } from "../fs/file";
import { MAX_FILE_SIZE } from "../fs/file_io";
import { Inode, touchModified, truncateInode } from "../fs/inode";
import { punchHole } from "../mm/hole";
import { MemoryObject, OBJECT_SWAP_FILE } from "../mm/memory_object";
import { Process } from "../proc/process";
import { EBADF, EFBIG, EINVAL, EISDIR, ENODEV, ENOMEM, EOPNOTSUPP, ESPIPE, ETXTBSY } from "./errno";
import { checkNewSize } from "./file_size_limit";

const FALLOC_FL_KEEP_SIZE: u64 = 0x01;
const FALLOC_FL_PUNCH_HOLE: u64 = 0x02;
const FALLOC_FL_COLLAPSE_RANGE: u64 = 0x08;
const FALLOC_FL_ZERO_RANGE: u64 = 0x10;
const FALLOC_FL_INSERT_RANGE: u64 = 0x20;
const FALLOC_FL_UNSHARE_RANGE: u64 = 0x40;
const SUPPORTED_MASK: u64 = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE |
  FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE;

/** The mode's own consistency (vfs_fallocate): 0 or -errno. */
function checkMode(mode: u64): i64 {
  if ((mode & ~SUPPORTED_MASK) != 0) return -EOPNOTSUPP;
  if ((mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) return -EOPNOTSUPP;
  if ((mode & FALLOC_FL_PUNCH_HOLE) != 0 && (mode & FALLOC_FL_KEEP_SIZE) == 0) return -EOPNOTSUPP;
  if ((mode & FALLOC_FL_COLLAPSE_RANGE) != 0 && (mode & ~FALLOC_FL_COLLAPSE_RANGE) != 0) return -EINVAL;
  if ((mode & FALLOC_FL_INSERT_RANGE) != 0 && (mode & ~FALLOC_FL_INSERT_RANGE) != 0) return -EINVAL;
  if ((mode & FALLOC_FL_UNSHARE_RANGE) != 0 && (mode & ~(FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE)) != 0) return -EINVAL;
  return 0;
}

export function sysFallocate(process: Process, fd: i64, mode: u64, offset: i64, length: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  if (offset < 0 || length <= 0) return -EINVAL;
  const refused = checkMode(mode);
  if (refused != 0) return refused;
  if (file.kind == FileKind.PathOnly || (file.flags & O_ACCMODE) == 0) return -EBADF; // not open for writing
  if (file.kind == FileKind.PipeRead || file.kind == FileKind.PipeWrite) return -ESPIPE;
  if (file.kind == FileKind.Directory) return -EISDIR;
  if (file.kind == FileKind.Generated || file.kind == FileKind.Entries) return -EOPNOTSUPP; // /proc files are regular but have no fallocate
  if (file.kind != FileKind.Regular) return -ENODEV;
  if ((changetype<MemoryObject>(changetype<Inode>(file.inode).object).flags & OBJECT_SWAP_FILE) != 0) return -ETXTBSY; // an active swap file
  if (<u64>offset + <u64>length > MAX_FILE_SIZE) return -EFBIG;
  if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) != 0) return -EOPNOTSUPP; // tmpfs does only these
  const inode = changetype<Inode>(file.inode);
  const object = changetype<MemoryObject>(inode.object);
  if ((mode & FALLOC_FL_PUNCH_HOLE) != 0) {
    if (!punchHole(object, <u64>offset, <u64>length)) return -ENOMEM;
    touchModified(inode);
    return 0;
  }
  const end = <u64>offset + <u64>length;
  if ((mode & FALLOC_FL_KEEP_SIZE) == 0 && end > object.size) {
    const refused = checkNewSize(process, object.size, end);
    return refused < 0 ? refused : truncateInode(inode, end);
  }
  return 0;
}
