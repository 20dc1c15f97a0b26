// swapon's work once the path is walked (Linux's mm/swapfile.c: claim the
// file, read and check its header, map its slots, put the area in use):
// a block device is one extent of slots; a regular file is mapped through
// its file system's bmap (swap_extents.ts), so this never asks what file
// system a file is on. The header page is read through the page cache, as
// any read of the file would.
import { BlockDevice, claimBlockDevice, deviceBytes, findBlockDevice, releaseBlockDevice } from "../block/block_device";
import { printf } from "../console/console";
import { PAGE_SIZE } from "../mm/frame";
import { MemoryObject, OBJECT_SWAP_FILE } from "../mm/memory_object";
import { kfree, kmalloc } from "../mm/slab";
import { prepareSwapCache } from "../mm/swap_cache";
import { prepareSwapOut } from "../mm/swap_out";
import { writeBackObject } from "../mm/writeback";
import {
  MAX_SWAP_AREAS, SWAP_FLAG_PREFER, SWAP_FLAG_PRIO_MASK, SwapArea, addSwapExtent, checkSwapHeader, enableSwapArea,
  freeSwapArea, newSwapArea, swapAreaAt,
} from "../mm/swap_area";
import { blockDeviceOf } from "./block_file";
import { deviceMajor, deviceMinor } from "./cpio";
import { FileKind, O_RDWR, newFile, releaseFile } from "./file";
import { readObjectToKernel } from "./file_io";
import {
  Inode, S_IFBLK, fileType, inodeSize, isDirectoryInode, isRegularInode, releaseInode, retainInode,
} from "./inode";
import { onReadOnlyMount } from "./mount";
import { swapBlockIo } from "./swap_io";
import { mapSwapFile } from "./swap_extents";
import { swapObjectOf } from "./swap_file";

const EPERM: i64 = 1;
const ENXIO: i64 = 6;
const ENOMEM: i64 = 12;
const EBUSY: i64 = 16;
const EISDIR: i64 = 21;
const EINVAL: i64 = 22;
const EROFS: i64 = 30;

/**
 * Discards (Linux's SWAP_FLAG_DISCARD and its _ONCE and _PAGES policies)
 * are taken and, as Linux does on a device that cannot discard, not done:
 * none of our disks takes discards.
 */
const SWAP_FLAG_DISCARD: u32 = 0x10000;
const SWAP_FLAG_DISCARD_ONCE: u32 = 0x20000;
const SWAP_FLAG_DISCARD_PAGES: u32 = 0x40000;
const SWAP_FLAGS_VALID: u32 = SWAP_FLAG_PRIO_MASK | SWAP_FLAG_PREFER | SWAP_FLAG_DISCARD | SWAP_FLAG_DISCARD_ONCE |
  SWAP_FLAG_DISCARD_PAGES;

/**
 * What swapon refuses before it looks at the path, in Linux's order:
 * unknown flags (EINVAL), then every area taken (EPERM: Linux's
 * alloc_swap_info takes a record first). 0 when neither.
 */
export function swapOnRefused(flags: u64): i64 {
  if ((flags & ~<u64>SWAP_FLAGS_VALID) != 0) return -EINVAL;
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) if (swapAreaAt(i) == null) return 0;
  return -EPERM;
}

/** Why `inode` cannot be opened for reading and writing as swapon opens it (EISDIR, EROFS, ENXIO), else 0. */
function openRefused(inode: Inode): i64 {
  if (isDirectoryInode(inode)) return -EISDIR;
  if (isRegularInode(inode) && onReadOnlyMount(inode)) return -EROFS;
  if (fileType(inode) == S_IFBLK && blockDeviceOf(inode) == null) return -ENXIO;
  return 0;
}

/** The disk a regular file's blocks are on (its file system's st_dev names it), or the device a node names. */
function diskOf(inode: Inode): BlockDevice | null {
  if (!isRegularInode(inode)) return blockDeviceOf(inode);
  return findBlockDevice(deviceMajor(inode.device), deviceMinor(inode.device));
}

/**
 * Slots and extents for the area whose header is at `header`, on `inode`
 * (whose bytes are `object`), put in use with `flags`: the area's index,
 * or -errno. The area's File (its owner) holds the file from now on.
 */
function activate(inode: Inode, object: MemoryObject, header: u32, flags: u32): i64 {
  const regular = isRegularInode(inode);
  const disk = diskOf(inode);
  if (disk == null) return -EINVAL; // a file system on no disk (tmpfs) has no blocks to swap to
  const slots = checkSwapHeader(header, (regular ? inodeSize(inode) : deviceBytes(disk)) / PAGE_SIZE, regular);
  if (slots < 0) return slots;
  // Dirty cached pages go to the disk first: a file's pages get their blocks only then (the map
  // must see them), and a device's would otherwise be written later over slots swap has filled.
  const written = writeBackObject(object, 0, U32.MAX_VALUE);
  if (written < 0) return written;
  const file = newFile(regular ? FileKind.Regular : FileKind.BlockDevice, retainInode(inode), O_RDWR);
  if (file == null) {
    releaseInode(inode); // the hold taken for it (the caller keeps its own)
    return -ENOMEM;
  }
  const area = newSwapArea(<u32>slots, changetype<u32>(disk), swapBlockIo, changetype<u32>(file), regular);
  if (area == null) {
    releaseFile(file);
    return -ENOMEM;
  }
  let status: i64 = regular ? mapSwapFile(area, inode) : addSwapExtent(area, 0, <u32>slots, 0) ? 0 : -ENOMEM;
  // The swap cache's chains and the write buffer, made now: when pages go out memory is short.
  if (status == 0 && !(prepareSwapCache() && prepareSwapOut())) status = -ENOMEM;
  if (status == 0) status = enableSwapArea(area, header, flags);
  if (status < 0) {
    freeSwapArea(area);
    releaseFile(file);
    return status;
  }
  report(changetype<SwapArea>(swapAreaAt(<u32>status)));
  return status;
}

/** Linux's "Adding ...k swap" line. */
function report(area: SwapArea): void {
  printf("swapon: adding %d KiB of swap, priority %i, %d extents\n", <u64>area.usable * (PAGE_SIZE / 1024), <u64><i64>area.priority,
    area.extentCount);
}

/**
 * swapon of `inode` (held by the caller) with swapon(2)'s `flags`, which
 * swapOnRefused has let through: 0, or -errno: EISDIR, EROFS, ENXIO as an
 * open for writing would give; EINVAL for a file that is neither regular
 * nor a block device, a bad header, holes, no slot left; EBUSY when it is
 * a swap area already (whichever path or node names it); EPERM when every
 * area is taken; ENOMEM; the disk's errno.
 */
export function swapOnInode(inode: Inode, flags: u32): i64 {
  const refused = openRefused(inode);
  if (refused != 0) return refused;
  const object = swapObjectOf(inode);
  if (object == null) return fileType(inode) == S_IFBLK ? -ENOMEM : -EINVAL; // a character device, a FIFO, a /proc file
  if ((object.flags & OBJECT_SWAP_FILE) != 0) return -EBUSY;
  // A partition is taken for the area alone, as Linux's exclusive open: EBUSY while it is mounted, and a mount EBUSY after.
  const device = fileType(inode) == S_IFBLK ? blockDeviceOf(inode) : null;
  if (device != null && !claimBlockDevice(device, changetype<u32>(object))) return -EBUSY;
  // Claimed now, as Linux holds the inode's lock throughout: a second swapon meanwhile is EBUSY, and writes ETXTBSY.
  object.flags |= OBJECT_SWAP_FILE;
  const header = kmalloc(PAGE_SIZE); // zeroed: a file shorter than a page reads as its bytes, then zeros
  let status: i64 = header == 0 ? -ENOMEM : readObjectToKernel(object, header, PAGE_SIZE, 0);
  if (status >= 0) status = activate(inode, object, header, flags);
  if (header != 0) kfree(header);
  if (status < 0) {
    object.flags &= ~OBJECT_SWAP_FILE;
    if (device != null) releaseBlockDevice(device);
    return status;
  }
  return 0;
}
