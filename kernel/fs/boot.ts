// The file system tree at boot, as a Linux initramfs system sees it: a
// tmpfs root with the initramfs unpacked into it, /dev (a tmpfs of its own
// holding the device nodes, devtmpfs-like, with /dev/shm), /tmp, and the
// empty /proc and /sys that procfs and sysfs, layers above, are mounted over. /dev also has
// the links into /proc/self/fd that udev or systemd make on Linux
// (/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr): bash's process
// substitution hands its commands /dev/fd/N names, and a node for each disk
// and partition found at boot.
import { storeAscii } from "../lib/ascii";
import { CpioStatus, deviceNumber } from "./cpio";
import { blockDeviceAt, blockDeviceCount, deviceNameAddress, deviceNameLength } from "../block/block_device";
import { Inode, S_IFBLK, S_IFCHR, S_IFDIR, isDirectoryInode, lookupIn, releaseInode, symlinkIn } from "./inode";
import { unpackInitramfs } from "./initramfs";
import { mountOver, mountRoot } from "./mount";
import { newTmpfs, tmpfsCreate } from "./tmpfs";

// Anonymous device numbers (major 0), as Linux gives in-memory file systems.
const ROOT_DEVICE: u32 = deviceNumber(0, 1);
const DEV_DEVICE: u32 = deviceNumber(0, 5);

// Names, and the targets of the links, as bytes (a link needs both at once).
const NAME_BYTES = memory.data(32);
const TARGET_BYTES = memory.data(32);

function ascii(s: string, scratch: usize = NAME_BYTES): u32 {
  storeAscii(scratch, s);
  return <u32>scratch;
}

/** The directory `name` in `dir` (made with `mode` if missing), with a reference; null if there is a non-directory there. */
function directory(dir: Inode, name: string, mode: u32): Inode | null {
  const found = lookupIn(dir, ascii(name), name.length);
  if (found > 0) {
    const inode = changetype<Inode>(<u32>found);
    if (isDirectoryInode(inode)) return inode;
    releaseInode(inode);
    return null;
  }
  const made = tmpfsCreate(dir, ascii(name), name.length, S_IFDIR | mode, 0);
  return made > 0 ? changetype<Inode>(<u32>made) : null;
}

function device(dir: Inode, name: string, mode: u32, major: u32, minor: u32): void {
  const made = tmpfsCreate(dir, ascii(name), name.length, S_IFCHR | mode, deviceNumber(major, minor));
  if (made > 0) releaseInode(changetype<Inode>(<u32>made));
}

/** A node per disk and partition the drivers found (/dev/vda, /dev/vda1, ...), as udev makes them. */
function blockDeviceNodes(dev: Inode): void {
  for (let i: u32 = 0; i < blockDeviceCount(); i++) {
    const disk = blockDeviceAt(i);
    const made = tmpfsCreate(dev, deviceNameAddress(disk), deviceNameLength(disk), S_IFBLK | 0o660, deviceNumber(disk.major, disk.minor));
    if (made > 0) releaseInode(changetype<Inode>(<u32>made));
  }
}

function link(dir: Inode, name: string, target: string): void {
  const made = symlinkIn(dir, ascii(name), name.length, ascii(target, TARGET_BYTES), target.length);
  if (made > 0) releaseInode(changetype<Inode>(<u32>made));
}

/** Builds the tree; returns the initramfs's unpacking status. Panics only if memory is too short for the root itself. */
export function mountFileSystems(): CpioStatus {
  const root = newTmpfs(ROOT_DEVICE);
  assert(root != null && mountRoot(changetype<Inode>(root), "rootfs", ROOT_DEVICE), "mountFileSystems: no memory for the root");
  const top = changetype<Inode>(root);
  const status = unpackInitramfs(top);
  const tmp = directory(top, "tmp", 0o1777);
  if (tmp != null) releaseInode(tmp);
  const procPoint = directory(top, "proc", 0o555);
  if (procPoint != null) releaseInode(procPoint);
  const sysPoint = directory(top, "sys", 0o555);
  if (sysPoint != null) releaseInode(sysPoint);
  const devPoint = directory(top, "dev", 0o755);
  const dev = newTmpfs(DEV_DEVICE);
  if (devPoint != null && dev != null && mountOver(devPoint, dev, "devtmpfs", "devtmpfs", DEV_DEVICE)) {
    device(dev, "null", 0o666, 1, 3);
    device(dev, "zero", 0o666, 1, 5);
    device(dev, "full", 0o666, 1, 7);
    device(dev, "random", 0o666, 1, 8);
    device(dev, "urandom", 0o666, 1, 9);
    device(dev, "tty", 0o666, 5, 0);
    device(dev, "console", 0o600, 5, 1);
    link(dev, "fd", "/proc/self/fd");
    link(dev, "stdin", "/proc/self/fd/0");
    link(dev, "stdout", "/proc/self/fd/1");
    link(dev, "stderr", "/proc/self/fd/2");
    const shm = directory(dev, "shm", 0o1777);
    if (shm != null) releaseInode(shm);
    blockDeviceNodes(dev);
  }
  return status;
}
