// The path walk (Linux's namei): from a starting directory (the working
// directory, a directory descriptor, or the root for an absolute path),
// one component at a time: "." stays, ".." goes to the parent (never above
// the root), a mount point continues in the mounted root, a symbolic link
// is replaced by its target (at most MAX_LINKS of them, else ELOOP; a
// procfs link such as /proc/self/exe leads straight to its inode), and
// every component but the last must be a directory (ENOTDIR). A name
// longer than NAME_MAX is ENAMETOOLONG.
//
// The walk does not sleep, so its working buffers can be static.
import {
  Inode, isDirectoryInode, isSymlinkInode, jumpLinkOf, lookupIn, readlinkOf, releaseInode, retainInode,
} from "./inode";
import { fileSystemRoot, mountUsed } from "./mount";

const ENOENT: i64 = 2;
const ENOTDIR: i64 = 20;
const ENAMETOOLONG: i64 = 36;
const ELOOP: i64 = 40;
export const PATH_MAX: u32 = 4096;
const NAME_MAX: u32 = 255;
const MAX_LINKS: u32 = 40;

// The path still to walk: a copy of the caller's, with link targets spliced in.
const work = memory.data(2 * PATH_MAX);
const spliced = memory.data(2 * PATH_MAX);
const target = memory.data(PATH_MAX);
let workLength: u32 = 0;

/** After walkToParent: the last component (in the walk's buffer, valid until the next walk). */
export let lastName: u32 = 0;
export let lastNameLength: u32 = 0;
/** After walkToParent: whether the path ended with a slash (the last component must be a directory). */
export let trailingSlash = false;

@inline function isSlash(at: u32): bool {
  return load<u8>(at) == 0x2f;
}

@inline function isDot(name: u32, length: u32): bool {
  return length == 1 && load<u8>(name) == 0x2e;
}

@inline function isDotDot(name: u32, length: u32): bool {
  return length == 2 && load<u16>(name) == 0x2e2e;
}

/** The directory above `dir` (the root is its own parent), with a reference. */
function parentOf(dir: Inode, root: Inode): Inode {
  if (dir == root || dir.parent == null) return retainInode(dir);
  return retainInode(changetype<Inode>(dir.parent));
}

/** Follows mount points down to the file system mounted last (a use: it clears their expiry marks). Takes over `inode`'s reference. */
function crossMounts(inode: Inode): Inode {
  let at = inode;
  while (at.mounted != null) {
    const mounted = retainInode(changetype<Inode>(at.mounted));
    releaseInode(at);
    at = mounted;
    mountUsed(at);
  }
  return at;
}

/**
 * Replaces the walked part of the path with `link`'s target; returns the
 * new start inode or an errno. A target ending in a slash, of a link that
 * ends the path, asks for a directory as a trailing slash does.
 */
function splice(link: Inode, from: u32, dir: Inode, root: Inode, last: bool): i64 {
  const length = readlinkOf(link, <u32>target);
  if (length < 0) return length;
  if (last && length > 0 && isSlash(<u32>target + <u32>length - 1)) trailingSlash = true;
  const rest = workLength - from;
  if (<u64>length + 1 + rest >= <u64>PATH_MAX) return -ENAMETOOLONG;
  memory.copy(spliced, target, <u32>length);
  store<u8>(spliced + <u32>length, 0x2f);
  memory.copy(spliced + <u32>length + 1, work + from, rest);
  workLength = <u32>length + 1 + rest;
  memory.copy(work, spliced, workLength);
  if (length > 0 && isSlash(<u32>target)) return <i64>changetype<u32>(retainInode(root));
  return <i64>changetype<u32>(retainInode(dir));
}

/**
 * Walks `path` (`length` bytes) from `start` and returns the inode it names
 * (with a reference) or a negative errno. `toParent`: stop at the last
 * component and return its directory instead (lastName says which name;
 * an empty last name means the path was "/" or ended in "." or ".."'s
 * resolution, see below). `followLast`: follow a symbolic link in the last
 * component.
 */
function walk(start: Inode, root: Inode, path: u32, length: u32, toParent: bool, followLast: bool): i64 {
  if (length == 0) return -ENOENT;
  if (length >= PATH_MAX) return -ENAMETOOLONG;
  memory.copy(work, path, length);
  workLength = length;
  let links: u32 = 0;
  let at: u32 = 0;
  let current = retainInode(isSlash(path) ? root : start);
  trailingSlash = isSlash(path + length - 1);
  while (true) {
    while (at < workLength && isSlash(work + at)) at++;
    const name = work + at;
    while (at < workLength && !isSlash(work + at)) at++;
    const nameLength = work + at - name;
    let rest = at;
    while (rest < workLength && isSlash(work + rest)) rest++;
    const last = rest == workLength;
    if (nameLength == 0) { // the path was all slashes (or ended in them): the directory itself
      lastName = name;
      lastNameLength = 0;
      return <i64>changetype<u32>(current);
    }
    if (nameLength > NAME_MAX) {
      releaseInode(current);
      return -ENAMETOOLONG;
    }
    if (!isDirectoryInode(current)) {
      releaseInode(current);
      return -ENOTDIR;
    }
    if (last && toParent) {
      lastName = name;
      lastNameLength = nameLength;
      return <i64>changetype<u32>(current);
    }
    let next: Inode;
    if (isDot(name, nameLength)) {
      next = retainInode(current);
    } else if (isDotDot(name, nameLength)) {
      next = parentOf(current, root);
    } else {
      const found = lookupIn(current, name, nameLength);
      if (found <= 0) {
        releaseInode(current);
        return found == 0 ? -ENOENT : found;
      }
      next = crossMounts(changetype<Inode>(<u32>found));
    }
    if (isSymlinkInode(next) && (!last || followLast || trailingSlash)) {
      if (++links > MAX_LINKS) {
        releaseInode(next);
        releaseInode(current);
        return -ELOOP;
      }
      const jumped = jumpLinkOf(next);
      if (jumped == 0) {
        const restart = splice(next, at, current, root, last);
        releaseInode(next);
        releaseInode(current);
        if (restart < 0) return restart;
        current = changetype<Inode>(<u32>restart);
        at = 0;
        continue;
      }
      // A link that names an inode: the walk goes on from it with the rest of the path.
      releaseInode(next);
      if (jumped < 0) {
        releaseInode(current);
        return jumped;
      }
      next = changetype<Inode>(<u32>jumped);
    }
    releaseInode(current);
    current = next;
    if (last) {
      if (trailingSlash && !isDirectoryInode(current)) {
        releaseInode(current);
        return -ENOTDIR;
      }
      return <i64>changetype<u32>(current);
    }
  }
  return 0; // not reached
}

/** The inode `path` names, from `start` (relative paths) and `root`, with a reference; or -errno. */
export function resolvePath(start: Inode, path: u32, length: u32, followLast: bool): i64 {
  return walk(start, fileSystemRoot(), path, length, false, followLast);
}

/**
 * The directory that would hold the last component of `path`, with a
 * reference, the component in lastName/lastNameLength; or -errno. A path
 * whose last component is "." or ".." or that is "/" gives that directory
 * with lastNameLength 0 only when it is all slashes; "." and ".." come
 * back as names, which callers creating or removing refuse (EEXIST, EINVAL
 * or EBUSY, as Linux answers each call).
 */
export function resolveParent(start: Inode, path: u32, length: u32): i64 {
  return walk(start, fileSystemRoot(), path, length, true, false);
}

export function isDotOrDotDot(name: u32, length: u32): bool {
  return isDot(name, length) || isDotDot(name, length);
}
