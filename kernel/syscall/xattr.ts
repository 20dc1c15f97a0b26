// Extended attributes (getxattr, setxattr, listxattr, removexattr and
// their l- and f- forms): none of our file systems (the initramfs, tmpfs,
// /proc) keeps any, so, as Linux for a file system without xattr
// handlers, reading or changing one is EOPNOTSUPP and the list is empty.
// The file is looked up and the name read first, so a missing file or a
// bad pointer gives the errno it would on Linux.
import { fileAt } from "../fs/file";
import { Inode, releaseInode } from "../fs/inode";
import { copyStringFromUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { EBADF, EFAULT, EOPNOTSUPP, ERANGE } from "./errno";
import { AT_FDCWD, lookupAt } from "./paths";

const XATTR_NAME_MAX: u32 = 255;

/** Linux's import_xattr_name: EFAULT for a bad pointer, ERANGE for an empty name or one over 255 bytes. */
function checkName(process: Process, name: u64): i64 {
  const buffer = memory.data(XATTR_NAME_MAX + 2);
  const length = copyStringFromUser(spaceOf(process), <u32>buffer, name, XATTR_NAME_MAX + 1);
  if (length == -1) return -EFAULT;
  if (length <= 0 || length > <i64>XATTR_NAME_MAX) return -ERANGE;
  return 0;
}

/** The answer for the file at `path` (followed unless `follow` is false): `result`, once the file and name check out. */
function onPath(process: Process, path: u64, follow: bool, name: u64, result: i64): i64 {
  const found = lookupAt(process, AT_FDCWD, path, follow, false);
  if (found < 0) return found;
  releaseInode(changetype<Inode>(<u32>found));
  if (name != 0) {
    const checked = checkName(process, name);
    if (checked < 0) return checked;
  }
  return result;
}

function onDescriptor(process: Process, fd: i64, name: u64, result: i64): i64 {
  if (fileAt(process.files, fd) == null) return -EBADF;
  if (name != 0) {
    const checked = checkName(process, name);
    if (checked < 0) return checked;
  }
  return result;
}

/** getxattr, lgetxattr (`follow` false), setxattr, lsetxattr and removexattr, lremovexattr: no attribute to have. */
export function sysPathXattr(process: Process, path: u64, name: u64, follow: bool): i64 {
  return onPath(process, path, follow, name, -EOPNOTSUPP);
}

/** fgetxattr, fsetxattr, fremovexattr. */
export function sysDescriptorXattr(process: Process, fd: i64, name: u64): i64 {
  return onDescriptor(process, fd, name, -EOPNOTSUPP);
}

/** listxattr, llistxattr: an empty list. */
export function sysListXattr(process: Process, path: u64, follow: bool): i64 {
  return onPath(process, path, follow, 0, 0);
}

/** flistxattr: an empty list. */
export function sysDescriptorListXattr(process: Process, fd: i64): i64 {
  return onDescriptor(process, fd, 0, 0);
}
