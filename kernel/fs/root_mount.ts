// root=: a disk's file system as the root, mounted by the kernel before
// init starts, as Linux does for root=/dev/vda1 (also root=vda1, and
// root=LABEL=NAME, which Linux leaves to an initramfs: here the kernel
// reads the volume names itself). The tree made at boot is the early
// userland: it stays reachable at /initramfs when the disk has that
// directory, /dev and /proc move to the disk's /dev and /proc, and if the
// disk cannot be mounted the kernel says why and init runs from the
// initramfs, where a shell can look into it (Linux would panic). The root
// is read-only unless the command line says `rw`, as on Linux.
import { BlockDevice, blockDeviceAt, blockDeviceCount, deviceNameAddress, deviceNameLength, findBlockDeviceNamed } from "../block/block_device";
import { getBlock, putBlock } from "../block/buffer_cache";
import { argumentValueAddress, argumentValueLength, hasArgument } from "../boot/cmdline";
import { printBytes, printf } from "../console/console";
import { str } from "../lib/format";
import { deviceNumber } from "./cpio";
import { ext2Mount } from "./ext2/mount";
import { Inode, isDirectoryInode, lookupIn, releaseInode } from "./inode";
import { MOUNT_READ_ONLY, fileSystemRoot, moveMount, replaceRoot } from "./mount";
import { startsWithAscii, storeAscii } from "../lib/ascii";

const EXT2_MAGIC: u16 = 0xef53;
const LABEL_OFFSET: u32 = 120; // s_volume_name in the superblock, 16 bytes
const NAME = memory.data(16);

/** The device whose ext2 volume name is the `length` bytes at `label`, or null. */
function deviceLabelled(label: u32, length: u32): BlockDevice | null {
  if (length > 16) return null;
  for (let i: u32 = 0; i < blockDeviceCount(); i++) {
    const device = blockDeviceAt(i);
    const got = getBlock(device, 1, 1024); // the superblock
    if (got < 0) continue;
    const sb = <u32>got;
    const matches = load<u16>(sb + 56) == EXT2_MAGIC && memory.compare(sb + LABEL_OFFSET, label, length) == 0 &&
      (length == 16 || load<u8>(sb + LABEL_OFFSET + length) == 0);
    putBlock(sb);
    if (matches) return device;
  }
  return null;
}

function rootDevice(): BlockDevice | null {
  const at = <u32>argumentValueAddress("root");
  const length = <u32>max(argumentValueLength("root"), 0);
  if (startsWithAscii(at, length, "LABEL=")) return deviceLabelled(at + 6, length - 6);
  if (startsWithAscii(at, length, "/dev/")) return findBlockDeviceNamed(at + 5, length - 5);
  return findBlockDeviceNamed(at, length);
}

/** The directory `name` in `dir`, with a reference; null if it is missing or not a directory. */
function directoryIn(dir: Inode, name: string): Inode | null {
  storeAscii(NAME, name);
  const found = lookupIn(dir, <u32>NAME, name.length);
  if (found <= 0) return null;
  const inode = changetype<Inode>(<u32>found);
  if (isDirectoryInode(inode)) return inode;
  releaseInode(inode);
  return null;
}

/** /dev, /proc or /sys of the boot tree, mounted over, moves to the same directory of the disk, if it has one. */
function moveToDisk(oldRoot: Inode, newRoot: Inode, name: string): void {
  const from = directoryIn(oldRoot, name);
  if (from == null) return;
  const to = directoryIn(newRoot, name);
  if (to == null || !moveMount(from, to)) {
    printf("root: the disk has no /%s to mount on; it is left out\n", str(name));
    if (to != null) releaseInode(to);
  }
  releaseInode(from);
}

/** Mounts the root= file system, if the command line names one; on failure the boot tree stays the root. */
export function mountRootFromDisk(): void {
  if (!hasArgument("root")) return;
  const device = rootDevice();
  if (device == null) {
    printf("root: no disk named ");
    printBytes(<u32>argumentValueAddress("root"), <u32>max(argumentValueLength("root"), 0));
    printf("; init runs from the initramfs\n");
    return;
  }
  const readOnly = !hasArgument("rw");
  const mounted = ext2Mount(device, readOnly, deviceNumber(device.major, device.minor));
  printf("root: ");
  printBytes(deviceNameAddress(device), deviceNameLength(device));
  if (mounted < 0) {
    printf(": not mounted (error %d); init runs from the initramfs\n", -mounted);
    return;
  }
  const newRoot = changetype<Inode>(<u32>mounted);
  const oldRoot = fileSystemRoot();
  const keepAt = directoryIn(newRoot, "initramfs");
  if (!replaceRoot(newRoot, "ext2", "/dev/root", newRoot.device, readOnly ? MOUNT_READ_ONLY : 0, keepAt)) {
    printf(": no room in the mount table; init runs from the initramfs\n");
    if (keepAt != null) releaseInode(keepAt);
    return;
  }
  moveToDisk(oldRoot, newRoot, "dev");
  moveToDisk(oldRoot, newRoot, "proc");
  moveToDisk(oldRoot, newRoot, "sys");
  printf(": ext2 mounted as / (%s)%s\n", str(readOnly ? "read-only" : "read-write"),
    str(keepAt != null ? ", the initramfs at /initramfs" : ""));
}
