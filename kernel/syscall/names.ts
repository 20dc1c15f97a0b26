// Calls that change names: mkdir, mknod, unlink, rmdir, rename, link,
// symlink, readlink (each with its *at form), with the checks Linux makes
// before it touches anything, in its order (a read-only mount's EROFS
// among them: after EEXIST for a new name, before ENOENT for an old one).
import {
  Inode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK, createIn, directoryEmpty, isDirectoryInode, isSymlinkInode, linkIn, lookupIn,
  readlinkOf, releaseInode, renameIn, symlinkIn, unlinkIn,
} from "../fs/inode";
import { PATH_MAX, isDotOrDotDot, lastName, lastNameLength, trailingSlash } from "../fs/path";
import { copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import {
  EBUSY, EEXIST, EINVAL, EISDIR, ENOENT, ENOMEM, ENOTDIR, ENOTEMPTY, EPERM, EROFS, EXDEV,
} from "./errno";
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, copyPath, copySecondPath, lookupCopied, parentAt, pathAddress,
  secondPathAddress,
} from "./paths";
import { kfree, kmalloc } from "../mm/slab";
import { onReadOnlyMount } from "../fs/mount";

const RENAME_NOREPLACE: u64 = 1;

/** The parent of the copied path's last component, which must be a real name (not "/", ".", ".."). */
function parentForName(process: Process, directory: i64, path: u32, length: u32, whenDot: i64): i64 {
  const result = parentAt(process, directory, path, length);
  if (result < 0) return result;
  if (lastNameLength == 0 || isDotOrDotDot(lastName, lastNameLength)) {
    releaseInode(changetype<Inode>(<u32>result));
    return whenDot;
  }
  return result;
}

/**
 * Linux's filename_create checks of the new name in `parent` (after the
 * dots): EEXIST if it is taken, else ENOENT if a trailing slash asks for a
 * directory and something else is to be made (mknod("x/") names a
 * directory that is not there), else EROFS on a read-only mount; 0 when
 * the name may be made.
 */
function refuseNewName(parent: Inode, directoryNode: bool): i64 {
  const found = lookupIn(parent, lastName, lastNameLength);
  if (found < 0) return found;
  if (found > 0) {
    releaseInode(changetype<Inode>(<u32>found));
    return -EEXIST;
  }
  if (trailingSlash && !directoryNode) return -ENOENT;
  return onReadOnlyMount(parent) ? -EROFS : 0;
}

function makeNode(process: Process, directory: i64, path: u64, mode: u32, rdev: u32, directoryNode: bool): i64 {
  const length = copyPath(process, path);
  if (length < 0) return length;
  const parentResult = parentForName(process, directory, pathAddress(), <u32>length, -EEXIST);
  if (parentResult < 0) return parentResult;
  const parent = changetype<Inode>(<u32>parentResult);
  const refused = refuseNewName(parent, directoryNode);
  if (refused != 0) {
    releaseInode(parent);
    return refused;
  }
  const made = createIn(parent, lastName, lastNameLength, mode, rdev);
  releaseInode(parent);
  if (made < 0) return made;
  releaseInode(changetype<Inode>(<u32>made));
  return 0;
}

export function sysMkdirat(process: Process, directory: i64, path: u64, mode: u64): i64 {
  // Linux's mkdir keeps the permission bits and the sticky bit only.
  return makeNode(process, directory, path, S_IFDIR | (<u32>mode & 0o1777 & ~process.umask), 0, true);
}

/**
 * mknod: regular files, FIFOs, character and block devices, and socket
 * nodes (which no open can use: ENXIO); a directory is mkdir's (EPERM),
 * any other type EINVAL, as in Linux.
 */
export function sysMknodat(process: Process, directory: i64, path: u64, mode: u64, device: u64): i64 {
  const type = <u32>mode & S_IFMT;
  if (type == S_IFDIR) return -EPERM;
  if (type != 0 && type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO && type != S_IFSOCK) return -EINVAL;
  // Linux's new_decode_dev: the 32-bit dev_t user space passes is already in our encoding.
  return makeNode(process, directory, path, (type == 0 ? S_IFREG : type) | (<u32>mode & 0o7777 & ~process.umask),
    <u32>device, false);
}

/** unlink and rmdir (AT_REMOVEDIR), refusing what Linux refuses. */
export function sysUnlinkat(process: Process, directory: i64, path: u64, flags: u64): i64 {
  if ((flags & ~AT_REMOVEDIR) != 0) return -EINVAL;
  const removingDirectory = (flags & AT_REMOVEDIR) != 0;
  const length = copyPath(process, path);
  if (length < 0) return length;
  const parentResult = parentAt(process, directory, pathAddress(), <u32>length);
  if (parentResult < 0) return parentResult;
  const parent = changetype<Inode>(<u32>parentResult);
  let error: i64 = 0;
  if (lastNameLength == 0) error = removingDirectory ? -EBUSY : -EISDIR; // "/"
  else if (isDotOrDotDot(lastName, lastNameLength)) {
    error = !removingDirectory ? -EISDIR : lastNameLength == 1 ? -EINVAL : -ENOTEMPTY;
  }
  if (error == 0 && onReadOnlyMount(parent)) error = -EROFS;
  if (error == 0) {
    const found = lookupIn(parent, lastName, lastNameLength);
    if (found <= 0) error = found == 0 ? -ENOENT : found;
    else {
      const inode = changetype<Inode>(<u32>found);
      if (removingDirectory) {
        if (!isDirectoryInode(inode)) error = -ENOTDIR;
        else if (inode.mounted != null || inode.device != parent.device) error = -EBUSY;
        else error = directoryEmpty(inode);
      } else if (isDirectoryInode(inode)) {
        error = -EISDIR;
      } else if (trailingSlash) {
        error = -ENOTDIR;
      }
      releaseInode(inode);
    }
  }
  if (error == 0) error = unlinkIn(parent, lastName, lastNameLength);
  releaseInode(parent);
  return error;
}

/** Whether directory `inode` is `ancestor` or inside it. */
function isWithin(inode: Inode, ancestor: Inode): bool {
  for (let at: Inode | null = inode; at != null; at = at.parent) if (at == ancestor) return true;
  return false;
}

/** rename's checks once both names are looked up, in Linux's order (`slash`: either path ended with one). */
function checkRename(source: Inode, target: Inode | null, fromParent: Inode, toParent: Inode, slash: bool, noReplace: bool): i64 {
  if (target != null && noReplace) return -EEXIST;
  if (slash && !isDirectoryInode(source)) return -ENOTDIR;
  if (isDirectoryInode(source) && isWithin(toParent, source)) return -EINVAL; // into its own subtree
  if (target == null) return source.mounted != null ? -EBUSY : 0;
  if (isDirectoryInode(target) && isWithin(fromParent, target)) return -ENOTEMPTY; // over a directory above the source
  if (target == source) return 0; // two names of one file: nothing happens
  if (isDirectoryInode(source) && !isDirectoryInode(target)) return -ENOTDIR;
  if (!isDirectoryInode(source) && isDirectoryInode(target)) return -EISDIR;
  if (source.mounted != null || target.mounted != null) return -EBUSY;
  if (isDirectoryInode(target)) {
    const empty = directoryEmpty(target);
    if (empty != 0) return empty;
  }
  return 0;
}

export function sysRenameat2(process: Process, fromDirectory: i64, from: u64, toDirectory: i64, to: u64, flags: u64): i64 {
  if ((flags & ~RENAME_NOREPLACE) != 0) return -EINVAL; // RENAME_EXCHANGE and RENAME_WHITEOUT are not supported
  const fromLength = copyPath(process, from);
  if (fromLength < 0) return fromLength;
  const toLength = copySecondPath(process, to);
  if (toLength < 0) return toLength;
  const fromResult = parentAt(process, fromDirectory, pathAddress(), <u32>fromLength);
  if (fromResult < 0) return fromResult;
  const fromParent = changetype<Inode>(<u32>fromResult);
  // The walk's last-name buffer is shared: keep the source name before the second walk.
  const sourceName = kmalloc(max(lastNameLength, 1));
  if (sourceName == 0) {
    releaseInode(fromParent);
    return -ENOMEM;
  }
  const sourceLength = lastNameLength;
  memory.copy(sourceName, lastName, sourceLength);
  const sourceSlash = trailingSlash;
  const result = renameFrom(process, fromParent, sourceName, sourceLength, sourceSlash, toDirectory, <u32>toLength, flags);
  kfree(sourceName);
  releaseInode(fromParent);
  return result;
}

/** Linux's order: both paths are walked before either name is looked at. */
function renameFrom(
  process: Process, fromParent: Inode, name: u32, length: u32, sourceSlash: bool, toDirectory: i64, toLength: u32, flags: u64,
): i64 {
  const toResult = parentAt(process, toDirectory, secondPathAddress(), toLength);
  if (toResult < 0) return toResult;
  const toParent = changetype<Inode>(<u32>toResult);
  const error = renameBetween(fromParent, name, length, sourceSlash, toParent, (flags & RENAME_NOREPLACE) != 0);
  releaseInode(toParent);
  return error;
}

/** Renames `name` in `fromParent` to the second walk's last name in `toParent`. */
function renameBetween(fromParent: Inode, name: u32, length: u32, sourceSlash: bool, toParent: Inode, noReplace: bool): i64 {
  if (toParent.device != fromParent.device) return -EXDEV;
  if (length == 0 || isDotOrDotDot(name, length)) return -EBUSY;
  if (lastNameLength == 0 || isDotOrDotDot(lastName, lastNameLength)) return noReplace ? -EEXIST : -EBUSY;
  if (onReadOnlyMount(fromParent)) return -EROFS;
  const found = lookupIn(fromParent, name, length);
  if (found <= 0) return found == 0 ? -ENOENT : found;
  const source = changetype<Inode>(<u32>found);
  const existing = lookupIn(toParent, lastName, lastNameLength);
  let error: i64 = existing < 0 ? existing : 0;
  const target = existing > 0 ? changetype<Inode>(<u32>existing) : null;
  if (error == 0) error = checkRename(source, target, fromParent, toParent, sourceSlash || trailingSlash, noReplace);
  if (target != null) releaseInode(target);
  if (error == 0) error = renameIn(fromParent, name, length, toParent, lastName, lastNameLength);
  releaseInode(source);
  return error;
}

export function sysLinkat(process: Process, fromDirectory: i64, from: u64, toDirectory: i64, to: u64, flags: u64): i64 {
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  const fromLength = copyPath(process, from);
  if (fromLength < 0) return fromLength;
  const toLength = copySecondPath(process, to);
  if (toLength < 0) return toLength;
  const sourceResult = lookupCopied(process, fromDirectory, pathAddress(), <u32>fromLength,
    (flags & AT_SYMLINK_FOLLOW) != 0, (flags & AT_EMPTY_PATH) != 0);
  if (sourceResult < 0) return sourceResult;
  const source = changetype<Inode>(<u32>sourceResult);
  const parentResult = parentForName(process, toDirectory, secondPathAddress(), <u32>toLength, -EEXIST);
  let error: i64 = parentResult < 0 ? parentResult : 0;
  if (error == 0) {
    const parent = changetype<Inode>(<u32>parentResult);
    error = refuseNewName(parent, false);
    if (error == 0 && parent.device != source.device) error = -EXDEV;
    if (error == 0 && isDirectoryInode(source)) error = -EPERM;
    if (error == 0) error = linkIn(parent, lastName, lastNameLength, source);
    releaseInode(parent);
  }
  releaseInode(source);
  return error;
}

export function sysSymlinkat(process: Process, target: u64, directory: i64, path: u64): i64 {
  const targetLength = copySecondPath(process, target);
  if (targetLength < 0) return targetLength;
  if (targetLength == 0) return -ENOENT;
  const length = copyPath(process, path);
  if (length < 0) return length;
  const parentResult = parentForName(process, directory, pathAddress(), <u32>length, -EEXIST);
  if (parentResult < 0) return parentResult;
  const parent = changetype<Inode>(<u32>parentResult);
  const refused = refuseNewName(parent, false);
  const made = refused != 0 ? refused : symlinkIn(parent, lastName, lastNameLength, secondPathAddress(), <u32>targetLength);
  releaseInode(parent);
  if (made < 0) return made;
  releaseInode(changetype<Inode>(<u32>made));
  return 0;
}

const linkTarget = memory.data(PATH_MAX);

export function sysReadlinkat(process: Process, directory: i64, path: u64, buffer: u64, size: i64): i64 {
  if (size <= 0) return -EINVAL;
  const found = lookupAtPath(process, directory, path);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  const length = isSymlinkInode(inode) ? readlinkOf(inode, <u32>linkTarget) : -EINVAL;
  releaseInode(inode);
  if (length < 0) return length;
  const n = min(<u64>length, <u64>size);
  return copyToUser(spaceOf(process), buffer, <u32>linkTarget, n) ? <i64>n : -14; // EFAULT
}

/** readlinkat with an empty path reads the link an O_PATH descriptor names. */
function lookupAtPath(process: Process, directory: i64, path: u64): i64 {
  const length = copyPath(process, path);
  if (length < 0) return length;
  return lookupCopied(process, directory, pathAddress(), <u32>length, false, true);
}

export function sysRename(process: Process, from: u64, to: u64): i64 {
  return sysRenameat2(process, AT_FDCWD, from, AT_FDCWD, to, 0);
}
