// The buffer cache: a block device's bytes in the page cache, as Linux
// keeps them in the block device's own address_space. A file system reads
// its metadata (superblock, bitmaps, inode tables, directories, indirect
// blocks) a block at a time through getBlock, changes it in place and
// marks it dirty; /dev/vda's read, write and mmap use the same pages.
//
// A page holds 4 KiB of the device, so with blocks of 1 or 2 KiB it holds
// several, some of which may be a file's data, cached (and written) through
// the file's own pages. So writeback of a device page writes only the
// kilobytes marked dirty (the page cache's dirty mask), never the rest.
import { PAGE_SIZE } from "../mm/frame";
import {
  MemoryObject, OBJECT_READS_SLEEP, newMemoryObject, setReadPages, setWritePage, setWritePages,
} from "../mm/memory_object";
import { getCachedPage, markPartDirty, releaseCachedPage } from "../mm/page_cache";
import { BLOCK_READ, BLOCK_WRITE, blockIo } from "./request";
import { BlockDevice, SECTOR_SHIFT, SECTOR_SIZE, deviceBytes } from "./block_device";

const SECTORS_PER_PAGE: u32 = PAGE_SIZE / SECTOR_SIZE;
const EIO: i32 = 5;
const KIB_SECTORS: u32 = 2;

/** The device a buffer-cache object reads (MemoryObject.owner). */
@inline function deviceOf(object: MemoryObject): BlockDevice {
  return changetype<BlockDevice>(object.owner);
}

/** Sectors of page `index` that lie on the device (the last page of an odd-sized device is short). */
function sectorsIn(device: BlockDevice, index: u32): u32 {
  const first = <u64>index * SECTORS_PER_PAGE;
  return first >= device.sectors ? 0 : <u32>min(<u64>SECTORS_PER_PAGE, device.sectors - first);
}

function readDevicePage(object: MemoryObject, index: u32, page: u32): i32 {
  const device = deviceOf(object);
  const sectors = sectorsIn(device, index);
  if (sectors < SECTORS_PER_PAGE) memory.fill(page + (sectors << SECTOR_SHIFT), 0, PAGE_SIZE - (sectors << SECTOR_SHIFT));
  if (sectors == 0) return 0;
  return blockIo(device, BLOCK_READ, <u64>index * SECTORS_PER_PAGE, sectors, page);
}

/** Pages [index, index + count) of the device into contiguous frames at `buffer`: one request (read-ahead). */
function readDevicePages(object: MemoryObject, index: u32, count: u32, buffer: u32): i32 {
  const device = deviceOf(object);
  const first = <u64>index * SECTORS_PER_PAGE;
  const sectors = first >= device.sectors ? 0 : <u32>min(<u64>count * SECTORS_PER_PAGE, device.sectors - first);
  const bytes: u32 = sectors << SECTOR_SHIFT;
  if (bytes < count * PAGE_SIZE) memory.fill(buffer + bytes, 0, count * PAGE_SIZE - bytes);
  return sectors == 0 ? 0 : blockIo(device, BLOCK_READ, first, sectors, buffer);
}

/** Whole pages [index, index + count) of the device from contiguous `buffer`: one request (a writeback run). */
function writeDevicePages(object: MemoryObject, index: u32, count: u32, buffer: u32): i32 {
  const device = deviceOf(object);
  const first = <u64>index * SECTORS_PER_PAGE;
  const sectors = first >= device.sectors ? 0 : <u32>min(<u64>count * SECTORS_PER_PAGE, device.sectors - first);
  return sectors == 0 ? 0 : blockIo(device, BLOCK_WRITE, first, sectors, buffer);
}

/** Writes the dirty kilobytes of the page (bit k of `dirty`: bytes [k KiB, k+1 KiB)), a run at a time. */
function writeDevicePage(object: MemoryObject, index: u32, page: u32, dirty: u32): i32 {
  const device = deviceOf(object);
  const sectors = sectorsIn(device, index);
  const base = <u64>index * SECTORS_PER_PAGE;
  if (device.whole.blockMask != 0) dirty = 0xf; // a disk of 4 KiB blocks writes only whole ones: the page is one
  let status: i32 = 0;
  let k: u32 = 0;
  while (k < 4) {
    if ((dirty & (1 << k)) == 0) {
      k++;
      continue;
    }
    let end = k;
    while (end < 4 && (dirty & (1 << end)) != 0) end++;
    const first = k * KIB_SECTORS;
    const count = min(end * KIB_SECTORS, sectors) - min(first, sectors);
    if (count != 0) {
      const result = blockIo(device, BLOCK_WRITE, base + first, count, page + (first << SECTOR_SHIFT));
      if (result != 0) status = result;
    }
    k = end;
  }
  return status;
}

/** The device's buffer-cache object, made on first use; null when out of memory. */
export function deviceObject(device: BlockDevice): MemoryObject | null {
  if (device.object != null) return device.object;
  const object = newMemoryObject(readDevicePage, null, deviceBytes(device), OBJECT_READS_SLEEP);
  if (object == null) return null;
  object.owner = changetype<u32>(device);
  setWritePage(object, writeDevicePage);
  setReadPages(object, readDevicePages);
  setWritePages(object, writeDevicePages);
  device.object = object;
  return object;
}

/**
 * Block `block` of `size` bytes (512 to 4096, a power of two) of the
 * device: the linear address of its bytes in the cache, held until
 * putBlock; or -EIO (past the end, or the disk failed) or -ENOMEM. The
 * caller may sleep here while the disk reads it.
 */
export function getBlock(device: BlockDevice, block: u64, size: u32): i64 {
  const object = deviceObject(device);
  if (object == null) return -12;
  const offset = block * size;
  if (offset + size > deviceBytes(device)) return -EIO;
  const got = getCachedPage(object, <u32>(offset / PAGE_SIZE));
  if (got < 0) return got;
  return got + <i64>(offset % PAGE_SIZE);
}

/** Lets go of a block getBlock gave. */
export function putBlock(address: u32): void {
  releaseCachedPage(address & ~(PAGE_SIZE - 1));
}

/** The block at `address` (from getBlock, `size` bytes) was changed: writeback will write it, and only it. */
export function markBlockDirty(address: u32, size: u32): void {
  markPartDirty(address & ~(PAGE_SIZE - 1), address & (PAGE_SIZE - 1), size);
}
