// mount and umount2: a new tmpfs, procfs or sysfs over a directory, or an ext2
// file system from a block device; a remount that makes a mounted file
// system read-only or read-write again. Options and flags that would change
// behaviour this kernel does not have are refused (EINVAL), not taken and
// ignored.
import { blockDeviceOf } from "../fs/block_file";
import { deviceNumber } from "../fs/cpio";
import { ext2Busy, ext2Mount, ext2Remount, ext2Unmount, isExt2Inode } from "../fs/ext2/mount";
import { Inode, S_IFBLK, S_IFDIR, fileType, isDirectoryInode, releaseInode } from "../fs/inode";
import { MOUNT_READ_ONLY, Mount, mountIndexOf, mountOver, mountWithRoot, unmount } from "../fs/mount";
import { newProcfs } from "../procfs/procfs";
import { newSysfs } from "../sysfs/sysfs";
import {
  TMPFS_LIMITS_SIZE, TmpfsLimits, isTmpfsInode, newTmpfs, tmpfsEmptyTree, tmpfsLimitsOf, tmpfsTreeBusy,
} from "../fs/tmpfs";
import { PAGE_SIZE } from "../mm/frame";
import { kfree, kmalloc } from "../mm/slab";
import { TMPFS_OPTIONS_SIZE, TmpfsOptions, parseTmpfsOptions } from "./tmpfs_options";
import { copyStringFromUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { equalsAscii } from "../lib/ascii";
import { EBUSY, EFAULT, EINVAL, ENODEV, ENOMEM, ENOTBLK, ENOTDIR, ENXIO } from "./errno";
import { AT_FDCWD, lookupAt } from "./paths";

const MS_RDONLY: u64 = 1;
const MS_NOSUID: u64 = 2;
const MS_REMOUNT: u64 = 32;
const MS_SILENT: u64 = 32768;
const MNT_FORCE: u64 = 1;
const MNT_DETACH: u64 = 2;
const UMOUNT_NOFOLLOW: u64 = 8;
let nextDevice: u32 = 16; // anonymous device numbers 0:16 on for mounted file systems

/**
 * The root of the ext2 file system on the block device node at `source`
 * (its rdev names the device), with the mount's holder; or -errno.
 */
function mountExt2(process: Process, source: u64, readOnly: bool): i64 {
  if (source == 0) return -EINVAL; // no device named
  const found = lookupAt(process, AT_FDCWD, source, true, false);
  if (found < 0) return found;
  const node = changetype<Inode>(<u32>found);
  const isBlock = fileType(node) == S_IFBLK;
  const rdev = node.rdev;
  const device = blockDeviceOf(node);
  releaseInode(node);
  if (!isBlock) return -ENOTBLK;
  if (device == null) return -ENXIO;
  return ext2Mount(device, readOnly, rdev);
}

/**
 * mount: "tmpfs" (with its options), "proc" or "sysfs" over a directory, or "ext2"
 * from a block device (no options); flags MS_RDONLY, MS_NOSUID (nothing
 * is set-user-id here) and MS_SILENT only; or a remount.
 */
export function sysMount(process: Process, source: u64, target: u64, type: u64, flags: u64, data: u64): i64 {
  if ((flags & MS_REMOUNT) != 0) return remount(process, target, flags, data);
  if (type == 0) return -EINVAL; // as Linux's do_new_mount
  const name = memory.data(16);
  const length = copyStringFromUser(spaceOf(process), <u32>name, type, 16);
  if (length == -1) return -EFAULT;
  const tmpfs = length > 0 && equalsAscii(<u32>name, <u32>length, "tmpfs");
  const proc = length > 0 && equalsAscii(<u32>name, <u32>length, "proc");
  const sysfs = length > 0 && equalsAscii(<u32>name, <u32>length, "sysfs");
  const ext2 = length > 0 && equalsAscii(<u32>name, <u32>length, "ext2");
  if (!tmpfs && !proc && !sysfs && !ext2) return -ENODEV;
  if ((flags & ~(MS_NOSUID | MS_SILENT | MS_RDONLY)) != 0) return -EINVAL;
  if (data != 0 && !tmpfs) {
    const first = memory.data(1);
    if (copyStringFromUser(spaceOf(process), <u32>first, data, 1) != 0) return -EINVAL; // no options for the others
  }
  const found = lookupAt(process, AT_FDCWD, target, true, false);
  if (found < 0) return found;
  const point = changetype<Inode>(<u32>found);
  if (!isDirectoryInode(point)) {
    releaseInode(point);
    return -ENOTDIR;
  }
  if (ext2) return mountExt2Over(process, point, source, (flags & MS_RDONLY) != 0);
  const device = deviceNumber(0, nextDevice++);
  // A tmpfs's options are read last: the walk above may sleep, and `options` is shared by every caller.
  const limits = tmpfs ? tmpfsLimits(process, data) : 0;
  if (<i32>limits < 0) {
    releaseInode(point);
    return <i32>limits;
  }
  const root = tmpfs ? newTmpfs(device, limits) : sysfs ? newSysfs(device) : newProcfs(device);
  if (root == null) {
    releaseInode(point);
    if (limits != 0) kfree(limits);
    return -ENOMEM;
  }
  if (tmpfs && options.mode != U32.MAX_VALUE) root.mode = S_IFDIR | options.mode;
  if (tmpfs && options.uid != U32.MAX_VALUE) root.uid = options.uid;
  if (tmpfs && options.gid != U32.MAX_VALUE) root.gid = options.gid;
  const mountFlags = (flags & MS_RDONLY) != 0 ? MOUNT_READ_ONLY : 0;
  const kind = tmpfs ? "tmpfs" : sysfs ? "sysfs" : "proc";
  if (!mountOver(point, root, kind, kind, device, mountFlags)) {
    root.nlink = 0; // it never got a place: free it
    releaseInode(root);
    releaseInode(point);
    return -ENOMEM; // the table is full, or no memory for its name
  }
  return 0; // the mount keeps the holds on both
}

/**
 * MS_REMOUNT, with MS_RDONLY or without (read-write again), of the file
 * system mounted at `target` (the type and source are not looked at, as
 * in Linux). Going read-only waits for no one: with a regular file open
 * for writing on it, EBUSY. No options (data must be empty), no per-mount
 * MS_BIND remount.
 */
function remount(process: Process, target: u64, flags: u64, data: u64): i64 {
  if ((flags & ~(MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_SILENT)) != 0) return -EINVAL;
  if (data != 0) {
    const first = memory.data(1);
    if (copyStringFromUser(spaceOf(process), <u32>first, data, 1) != 0) return -EINVAL;
  }
  const found = lookupAt(process, AT_FDCWD, target, true, false);
  if (found < 0) return found;
  const root = changetype<Inode>(<u32>found);
  const mount = mountWithRoot(root);
  const readOnly = (flags & MS_RDONLY) != 0;
  let error: i64 = mount == null ? -EINVAL : 0;
  if (error == 0 && readOnly && changetype<Mount>(mount).writers != 0) error = -EBUSY;
  if (error == 0 && isExt2Inode(root)) error = ext2Remount(root, readOnly);
  if (error == 0) {
    const m = changetype<Mount>(mount);
    m.flags = readOnly ? m.flags | MOUNT_READ_ONLY : m.flags & ~MOUNT_READ_ONLY;
  }
  releaseInode(root);
  return error;
}

// The options of the tmpfs being mounted: parsed, then used before anything can sleep.
const options = changetype<TmpfsOptions>(memory.data(TMPFS_OPTIONS_SIZE, 4));

/**
 * Reads and parses a tmpfs's options into `options`: a kmalloc'd
 * TmpfsLimits when they set a limit, 0 when they set none, or -errno
 * (EFAULT, EINVAL for an unknown or malformed option, ENOMEM).
 */
function tmpfsLimits(process: Process, data: u64): u32 {
  if (data == 0) return parseTmpfsOptions(0, 0, options) ? 0 : <u32>-EINVAL;
  const text = kmalloc(PAGE_SIZE);
  if (text == 0) return <u32>-ENOMEM;
  const length = copyStringFromUser(spaceOf(process), text, data, PAGE_SIZE);
  const parsed = length >= 0 && parseTmpfsOptions(text, <u32>length, options);
  kfree(text);
  if (length < 0) return <u32>(length == -1 ? -EFAULT : -EINVAL);
  if (!parsed) return <u32>-EINVAL;
  if (options.pages == 0 && options.inodes == 0) return 0;
  const limits = kmalloc(TMPFS_LIMITS_SIZE);
  if (limits == 0) return <u32>-ENOMEM;
  const record = changetype<TmpfsLimits>(limits);
  record.pagesUsed = 0;
  record.pagesLimit = options.pages != 0 ? options.pages : U32.MAX_VALUE;
  record.inodesUsed = 0;
  record.inodesLimit = options.inodes;
  return limits;
}

/** The ext2 half of sysMount, once the mount point is found (its holder passes to the mount, or is let go). */
function mountExt2Over(process: Process, point: Inode, source: u64, readOnly: bool): i64 {
  const mounted = mountExt2(process, source, readOnly);
  if (mounted < 0) {
    releaseInode(point);
    return mounted;
  }
  const root = changetype<Inode>(<u32>mounted);
  if (!mountOver(point, root, "ext2", "ext2", root.device, readOnly ? MOUNT_READ_ONLY : 0)) {
    ext2Unmount(root);
    releaseInode(point);
    return -ENOMEM;
  }
  return 0;
}

/** umount2: the root of a mounted file system, when nothing in it is in use (else EBUSY; MNT_DETACH and MNT_FORCE are not supported). */
export function sysUmount2(process: Process, target: u64, flags: u64): i64 {
  if ((flags & ~UMOUNT_NOFOLLOW) != 0) return (flags & (MNT_FORCE | MNT_DETACH)) != 0 ? -EBUSY : -EINVAL;
  const found = lookupAt(process, AT_FDCWD, target, (flags & UMOUNT_NOFOLLOW) == 0, false);
  if (found < 0) return found;
  const root = changetype<Inode>(<u32>found);
  const index = mountIndexOf(root);
  let error: i64 = index < 0 ? -EINVAL : 0;
  // Our walk holds one reference and the mount another: any more is a user.
  if (error == 0 && (root.refCount > 2 || (isTmpfsInode(root) && tmpfsTreeBusy(root)))) error = -EBUSY;
  if (error == 0 && isExt2Inode(root) && ext2Busy(root, 2)) error = -EBUSY;
  releaseInode(root);
  if (error != 0) return error;
  const unmounted = unmount(<u32>index);
  if (isExt2Inode(unmounted)) return ext2Unmount(unmounted);
  const limits = isTmpfsInode(unmounted) ? tmpfsLimitsOf(unmounted) : null;
  if (isTmpfsInode(unmounted)) tmpfsEmptyTree(unmounted);
  unmounted.nlink = 0; // the mount's hold was the last: the root goes
  releaseInode(unmounted);
  if (limits != null) kfree(changetype<u32>(limits));
  return 0;
}
