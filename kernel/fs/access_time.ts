// When a read changes a file's access time, as Linux decides it
// (fs/inode.c's atime_needs_update): never with O_NOATIME or on a mount
// with MS_NOATIME; always on one with MS_STRICTATIME; otherwise, Linux's
// default relatime, only when the access time is not after the last
// change or modification, or is a day old: enough for programs that ask
// "was this read since it was written?", at a fraction of the inode writes.
import { File, O_NOATIME } from "./file";
import { Inode, fileTimeNow } from "./inode";
import { MOUNT_NO_ATIME, MOUNT_STRICT_ATIME, mountOf } from "./mount";

const DAY_NANOSECONDS: u64 = 24 * 3600 * 1000000000;

/** A read of `file` (its inode's bytes) happened: the access time moves if the rules above say so. */
export function fileAccessed(file: File): void {
  const inode = changetype<Inode>(file.inode);
  if ((file.flags & O_NOATIME) != 0) return;
  const mount = mountOf(inode);
  const flags = mount != null ? mount.flags : 0;
  if ((flags & MOUNT_NO_ATIME) != 0) return;
  const now = fileTimeNow();
  const stale = inode.atime <= inode.mtime || inode.atime <= inode.ctime || now - inode.atime >= DAY_NANOSECONDS;
  if ((flags & MOUNT_STRICT_ATIME) != 0 || stale) inode.atime = now;
}
