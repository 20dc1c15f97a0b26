// Mounts: a file system's root inode placed over a directory. A walk that
// reaches the directory continues in the mounted root (Inode.mounted), and
// ".." from the mounted root leads to the directory's parent, because the
// root takes the directory's place (its parent and name). The table keeps
// what /proc/mounts shows and umount undoes, and each mount's flags: a
// read-only mount refuses every change to its files (EROFS), and counts the
// regular files open for writing on it, which a remount read-only waits
// for no one to hold (EBUSY), as Linux's mnt_want_write.
import { kfree, kmalloc } from "../mm/slab";
import { storeAscii } from "../lib/ascii";
import { Inode, lookupIn, releaseInode, setInodeName, syncInode } from "./inode";

const MAX_MOUNTS: u32 = 16;

/**
 *   0 point (the directory mounted over; 0 for the root file system)  4 root
 *   8 type (a string's address: "tmpfs", "proc")  12 source  16 device
 *  20 flags (MOUNT_*)  24 writers (regular files open for writing on it)
 *  28 walks (path walks that went into it)  32 expiryMark (umount2's
 *     MNT_EXPIRE: 1 + `walks` when it marked the mount, 0 unmarked)
 */
@unmanaged export class Mount {
  point: Inode | null;
  root: Inode;
  type: u32;
  source: u32;
  device: u32;
  flags: u32;
  writers: u32;
  walks: u32;
  expiryMark: u32;
}
const MOUNT_SIZE: u32 = 36;

export const MOUNT_READ_ONLY: u32 = 1;
export const MOUNT_NO_ATIME: u32 = 2; // MS_NOATIME: reads never change access times
export const MOUNT_STRICT_ATIME: u32 = 4; // MS_STRICTATIME: every read does; neither is Linux's relatime (access_time.ts)

const mounts = memory.data(MAX_MOUNTS * 4, 4);
let mountCount: u32 = 0;
let rootInode: Inode | null = null;

/** The root of the whole tree ("/"). */
export function fileSystemRoot(): Inode {
  return changetype<Inode>(rootInode);
}

export function mountAt(index: u32): Mount | null {
  return index < mountCount ? changetype<Mount>(load<u32>(mounts + index * 4)) : null;
}

function record(point: Inode | null, root: Inode, type: string, source: string, device: u32, flags: u32): bool {
  if (mountCount == MAX_MOUNTS) return false;
  const address = kmalloc(MOUNT_SIZE);
  if (address == 0) return false;
  const mount = changetype<Mount>(address);
  mount.point = point;
  mount.root = root;
  mount.type = changetype<u32>(type);
  mount.source = changetype<u32>(source);
  mount.device = device;
  mount.flags = flags;
  mount.writers = 0;
  mount.walks = 0;
  mount.expiryMark = 0;
  store<u32>(mounts + mountCount++ * 4, address);
  return true;
}

/** Makes `root` (its holder passes to the mount) the root of everything. */
export function mountRoot(root: Inode, type: string, device: u32): bool {
  if (!record(null, root, type, "rootfs", device, 0)) return false;
  rootInode = root;
  return true;
}

/**
 * Makes `root` (a disk's file system: root=; its holder passes to the
 * mount) the root of everything in place of the tmpfs made at boot, which
 * then sits over directory `keepAt` of the new root (its holder passes
 * too), as Linux's rootfs stays under the real root; with no such
 * directory it stays in the table, out of reach. False when out of room.
 */
export function replaceRoot(root: Inode, type: string, source: string, device: u32, flags: u32, keepAt: Inode | null): bool {
  const old = changetype<Mount>(load<u32>(mounts)); // the boot root's record is the first
  assert(old.point == null, "replaceRoot: the first mount is not the boot root");
  if (keepAt != null && keepAt.mounted != null) keepAt = null;
  if (keepAt != null && !setInodeName(old.root, keepAt.parent != null ? changetype<Inode>(keepAt.parent) : keepAt,
    keepAt.name, keepAt.nameLength)) return false;
  if (!record(null, root, type, source, device, flags)) return false;
  if (keepAt != null) {
    old.point = keepAt;
    keepAt.mounted = old.root;
  }
  rootInode = root;
  return true;
}

/**
 * Moves the mount over directory `from` to directory `to` (Linux's
 * MS_MOVE): the caller's holder on `to` passes to the mount, the mount's
 * on `from` is let go. False when nothing is mounted on `from`, something
 * is on `to`, or memory for the name is short.
 */
export function moveMount(from: Inode, to: Inode): bool {
  if (from.mounted == null || to.mounted != null) return false;
  const root = changetype<Inode>(from.mounted);
  for (let i: u32 = 0; i < mountCount; i++) {
    const mount = changetype<Mount>(load<u32>(mounts + i * 4));
    if (mount.point != from) continue;
    if (!setInodeName(root, to.parent != null ? changetype<Inode>(to.parent) : to, to.name, to.nameLength)) return false;
    mount.point = to;
    to.mounted = root;
    from.mounted = null;
    releaseInode(from);
    return true;
  }
  return false;
}

/**
 * Mounts `root` (its holder passes to the mount) over directory `point`
 * (the caller's holder on it passes too). False when out of room.
 */
export function mountOver(point: Inode, root: Inode, type: string, source: string, device: u32, flags: u32 = 0): bool {
  if (point.mounted != null) return false;
  const parent = point.parent != null ? changetype<Inode>(point.parent) : point;
  if (!setInodeName(root, parent, point.name, point.nameLength)) return false;
  if (!record(point, root, type, source, device, flags)) return false;
  point.mounted = root;
  return true;
}

/**
 * Mounts `root` (a new file system's, its holder passing to the mount)
 * over directory `name` of the root, which the boot tree made: /proc,
 * /sys. False if it could not (both holds then let go).
 */
export function mountAtBoot(name: string, root: Inode | null, type: string, device: u32): bool {
  const scratch = memory.data(16);
  const found = root != null ? lookupIn(fileSystemRoot(), <u32>scratch, storeAscii(scratch, name)) : 0;
  const point = found > 0 ? changetype<Inode>(<u32>found) : null;
  if (point != null && mountOver(point, changetype<Inode>(root), type, type, device)) return true;
  releaseInode(root);
  releaseInode(point);
  return false;
}

/** Writes every mounted file system that has a disk back to it (sync); the first error, or 0. */
export function syncFileSystems(): i64 {
  let status: i64 = 0;
  for (let i: u32 = 0; i < mountCount; i++) {
    const result = syncInode(changetype<Mount>(load<u32>(mounts + i * 4)).root, true);
    if (status == 0) status = result;
  }
  return status;
}

/** The mount whose file system `inode` is on (every mount has a device number of its own), or null. */
export function mountOf(inode: Inode): Mount | null {
  for (let i: u32 = 0; i < mountCount; i++) {
    const mount = changetype<Mount>(load<u32>(mounts + i * 4));
    if (mount.device == inode.device) return mount;
  }
  return null;
}

/** Whether `inode` is on a file system mounted read-only: its names, data and attributes then refuse change (EROFS). */
export function onReadOnlyMount(inode: Inode): bool {
  const mount = mountOf(inode);
  return mount != null && (mount.flags & MOUNT_READ_ONLY) != 0;
}

/** A regular file on `inode`'s mount was opened for writing (file.ts); closedForWriting undoes it. */
export function openedForWriting(inode: Inode): void {
  const mount = mountOf(inode);
  if (mount != null) mount.writers++;
}

export function closedForWriting(inode: Inode): void {
  const mount = mountOf(inode);
  if (mount != null) mount.writers--;
}

/** A path walk went into the file system whose root is `root` (a use, which an expiry mark must see). */
export function mountUsed(root: Inode): void {
  const mount = mountWithRoot(root);
  if (mount != null) mount.walks++;
}

/** The mount whose root is `root`, the root file system's included (a remount's target), or null. */
export function mountWithRoot(root: Inode): Mount | null {
  for (let i: u32 = 0; i < mountCount; i++) {
    const mount = changetype<Mount>(load<u32>(mounts + i * 4));
    if (mount.root == root) return mount;
  }
  return null;
}

/** The mount whose root is `root`, or -1 (umount's target must be one). */
export function mountIndexOf(root: Inode): i32 {
  for (let i: u32 = 0; i < mountCount; i++) {
    const mount = changetype<Mount>(load<u32>(mounts + i * 4));
    if (mount.root == root && mount.point != null) return <i32>i;
  }
  return -1;
}

/**
 * Undoes mountOver: the directory is itself again (and its holder is let
 * go); the mounted root comes back to the caller, which frees its file
 * system.
 */
export function unmount(index: u32): Inode {
  const mount = changetype<Mount>(load<u32>(mounts + index * 4));
  const root = mount.root;
  const point = changetype<Inode>(mount.point);
  point.mounted = null;
  memory.copy(mounts + index * 4, mounts + (index + 1) * 4, (mountCount - index - 1) * 4);
  mountCount--;
  kfree(changetype<u32>(mount));
  releaseInode(point);
  return root;
}
