// mount and umount2, for the in-memory file systems: a new tmpfs or a
// procfs over a directory. Options and flags that would change behaviour
// this kernel does not have are refused (EINVAL), not taken and ignored.
import { deviceNumber } from "../fs/cpio";
import { Inode, isDirectoryInode, releaseInode } from "../fs/inode";
import { mountIndexOf, mountOver, unmount } from "../fs/mount";
import { newProcfs } from "../procfs/procfs";
import { isTmpfsInode, newTmpfs, tmpfsEmptyTree, tmpfsTreeBusy } from "../fs/tmpfs";
import { copyStringFromUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { equalsAscii } from "../lib/ascii";
import { EBUSY, EFAULT, EINVAL, ENODEV, ENOMEM, ENOTDIR } from "./errno";
import { AT_FDCWD, lookupAt } from "./paths";

const MS_NOSUID: u64 = 2;
const MS_SILENT: u64 = 32768;
const MNT_FORCE: u64 = 1;
const MNT_DETACH: u64 = 2;
const UMOUNT_NOFOLLOW: u64 = 8;
let nextDevice: u32 = 16; // anonymous device numbers 0:16 on for mounted file systems

/** mount: "tmpfs" or "proc" over a directory; MS_NOSUID (nothing is set-user-id here) and MS_SILENT only; no options. */
export function sysMount(process: Process, source: u64, target: u64, type: u64, flags: u64, data: u64): i64 {
  const name = memory.data(16);
  const length = copyStringFromUser(spaceOf(process), <u32>name, type, 16);
  if (length == -1) return -EFAULT;
  const tmpfs = length > 0 && equalsAscii(<u32>name, <u32>length, "tmpfs");
  const proc = length > 0 && equalsAscii(<u32>name, <u32>length, "proc");
  if (!tmpfs && !proc) return -ENODEV;
  if ((flags & ~(MS_NOSUID | MS_SILENT)) != 0) return -EINVAL;
  if (data != 0) {
    const first = memory.data(1);
    if (copyStringFromUser(spaceOf(process), <u32>first, data, 1) != 0) return -EINVAL; // no mount options are supported
  }
  const found = lookupAt(process, AT_FDCWD, target, true, false);
  if (found < 0) return found;
  const point = changetype<Inode>(<u32>found);
  if (!isDirectoryInode(point)) {
    releaseInode(point);
    return -ENOTDIR;
  }
  const device = deviceNumber(0, nextDevice++);
  const root = tmpfs ? newTmpfs(device) : newProcfs(device);
  if (root == null) {
    releaseInode(point);
    return -ENOMEM;
  }
  if (!mountOver(point, root, tmpfs ? "tmpfs" : "proc", tmpfs ? "tmpfs" : "proc", device)) {
    root.nlink = 0; // it never got a place: free it
    releaseInode(root);
    releaseInode(point);
    return -ENOMEM; // the table is full, or no memory for its name
  }
  return 0; // the mount keeps the holds on both
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
  releaseInode(root);
  if (error != 0) return error;
  const unmounted = unmount(<u32>index);
  if (isTmpfsInode(unmounted)) tmpfsEmptyTree(unmounted);
  unmounted.nlink = 0; // the mount's hold was the last: the root goes
  releaseInode(unmounted);
  return 0;
}
