// The absolute path of an inode, rebuilt from the names inodes keep of
// themselves (Inode.name in Inode.parent) up to the root: getcwd,
// /proc/PID/maps and /proc/mounts use it. A directory has exactly one
// name; a file shows its latest.
import { Inode } from "./inode";

const MAX_DEPTH: u32 = 2048; // a path of PATH_MAX bytes has at most this many components

/** Writes the path of `inode` at `into` (at most `capacity` bytes); returns its length. */
export function pathOfInode(inode: Inode, into: u32, capacity: u32): u32 {
  let depth: u32 = 0;
  for (let at: Inode | null = inode; at != null && at.nameLength != 0 && depth < MAX_DEPTH; at = at.parent) depth++;
  if (depth == 0) {
    if (capacity == 0) return 0;
    store<u8>(into, 0x2f);
    return 1;
  }
  let n: u32 = 0;
  for (let level = depth; level > 0; level--) {
    let at = inode;
    for (let i: u32 = 1; i < level; i++) at = changetype<Inode>(at.parent);
    if (n + 1 + at.nameLength > capacity) break;
    store<u8>(into + n++, 0x2f);
    memory.copy(into + n, at.name, at.nameLength);
    n += at.nameLength;
  }
  return n;
}
