// Block device nodes (/dev/vda, /dev/vda1, ...): opened, they read and
// write the device's bytes through its pages in the page cache (the buffer
// cache the file systems use too), so a write through /dev/vda and a file
// system's read of the same block see one copy. Mapping one maps those
// pages. The node's rdev names the device.
import { BlockDevice, deviceBytes, findBlockDevice } from "../block/block_device";
import { deviceObject } from "../block/buffer_cache";
import { MemoryObject } from "../mm/memory_object";
import { deviceMajor, deviceMinor } from "./cpio";
import { Inode, S_IFBLK, fileType } from "./inode";

/** The device a block-device node names, or null (no such device: open says ENXIO). */
export function blockDeviceOf(inode: Inode): BlockDevice | null {
  if (fileType(inode) != S_IFBLK) return null;
  return findBlockDevice(deviceMajor(inode.rdev), deviceMinor(inode.rdev));
}

/** The page-cache object of the device the node names; null when there is none or no memory for it. */
export function blockFileObject(inode: Inode): MemoryObject | null {
  const device = blockDeviceOf(inode);
  return device == null ? null : deviceObject(device);
}

/** A block device's size in bytes (lseek SEEK_END, BLKGETSIZE64); 0 if it is gone. */
export function blockFileSize(inode: Inode): u64 {
  const device = blockDeviceOf(inode);
  return device == null ? 0 : deviceBytes(device);
}
