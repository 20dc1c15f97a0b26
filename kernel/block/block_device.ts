// Block devices: disks (a driver's) and the partitions on them, known by
// name (vda, vda1, sda, ...) and number, as Linux's gendisk and
// block_device. A driver fills in a record, sets `start` (the operation that
// hands a request to the hardware) and registers it; the block layer
// (request.ts) queues requests, counts them for /proc/diskstats and puts
// the waiting process to sleep. A partition has no driver of its own: its
// requests go to its disk, moved by its first sector.
import { kmalloc } from "../mm/slab";
import { MemoryObject } from "../mm/memory_object";

export const SECTOR_SIZE: u32 = 512;
export const SECTOR_SHIFT: u32 = 9;

/** Linux's major numbers: virtio disks and SCSI/SATA disks. */
export const VIRTIO_BLOCK_MAJOR: u32 = 254;
export const SCSI_DISK_MAJOR: u32 = 8;

/**
 * The hardware operation: take `request` now (true) or refuse it for lack
 * of room in the device's queue (false: the block layer offers it again
 * after the next completion). Completion is reported through completeRequest.
 */
export type StartRequest = (device: BlockDevice, request: u32) => bool;
/** Looks for completions without waiting for the interrupt (at boot, before any process can sleep). */
export type PollDevice = (device: BlockDevice) => void;

/**
 * One disk or partition.
 *
 *   0 start (StartRequest; 0 for a partition)  4 poll (PollDevice)  8 driver (the driver's record)
 *  12 whole (the disk; the record itself for a disk)  16 firstSector(u64) (a partition's start on its disk)
 *  24 sectors(u64)  32 major  36 minor  40 name (8 bytes, NUL-padded)
 *  48 object (MemoryObject: the device's pages in the page cache, the buffer cache)
 *  52 queueHead  56 queueTail (requests not yet taken by the driver)  60 inFlight (taken, not completed)
 *  64 readIos(u64)  72 readSectors(u64)  80 writeIos(u64)  88 writeSectors(u64)
 *  96 readTicks(u64)  104 writeTicks(u64) (milliseconds spent, as diskstats counts)
 * 112 busyCycles(u64) (TSC cycles with requests in flight)  120 busySince(u64) (TSC, while inFlight > 0)
 * 128 partitions (how many of the disk)  132 readOnly
 * 136 volatileCache (the disk may hold completed writes in a cache until flushed: BLOCK_FLUSH goes to it)
 */
@unmanaged export class BlockDevice {
  start: u32;
  poll: u32;
  driver: u32;
  whole: BlockDevice;
  firstSector: u64;
  sectors: u64;
  major: u32;
  minor: u32;
  name0: u64;
  object: MemoryObject | null;
  queueHead: u32;
  queueTail: u32;
  inFlight: u32;
  readIos: u64;
  readSectors: u64;
  writeIos: u64;
  writeSectors: u64;
  readTicks: u64;
  writeTicks: u64;
  busyCycles: u64;
  busySince: u64;
  partitions: u32;
  readOnly: u32;
  volatileCache: u32;
}
const BLOCK_DEVICE_SIZE: u32 = 144;

const MAX_DEVICES: u32 = 32;
const devices = memory.data(MAX_DEVICES * 4, 4);
let deviceCount: u32 = 0;

/** The device's name as bytes: at most 8, NUL-padded. */
@inline export function deviceNameAddress(device: BlockDevice): u32 {
  return changetype<u32>(device) + 40;
}

export function deviceNameLength(device: BlockDevice): u32 {
  let length: u32 = 0;
  while (length < 8 && load<u8>(deviceNameAddress(device) + length) != 0) length++;
  return length;
}

/** A zeroed record for a driver to fill; null when out of memory. */
export function newBlockDevice(): BlockDevice | null {
  const address = kmalloc(BLOCK_DEVICE_SIZE);
  if (address == 0) return null;
  memory.fill(address, 0, BLOCK_DEVICE_SIZE);
  const device = changetype<BlockDevice>(address);
  device.whole = device;
  return device;
}

/** Names a disk `prefix` and a letter by its number (0: "vda", 1: "vdb", ...), as Linux's sd and virtio_blk. */
export function nameDisk(device: BlockDevice, prefix: string, number: u32): void {
  const at = deviceNameAddress(device);
  memory.fill(at, 0, 8);
  const length = <u32>min(prefix.length, 6);
  for (let i: u32 = 0; i < length; i++) store<u8>(at + i, <u8>prefix.charCodeAt(i));
  store<u8>(at + length, <u8>(0x61 + number % 26));
}

/** Names partition `number` (1, 2, ...) of `disk` as Linux does for these disks: the disk's name and the number ("vda1"). */
export function namePartition(partition: BlockDevice, disk: BlockDevice, number: u32): void {
  const at = deviceNameAddress(partition);
  memory.copy(at, deviceNameAddress(disk), 8);
  let length = deviceNameLength(disk);
  if (number >= 10 && length < 8) store<u8>(at + length++, <u8>(0x30 + number / 10));
  if (length < 8) store<u8>(at + length, <u8>(0x30 + number % 10));
}

/** Makes the device known (listed, openable as /dev/NAME); false when the table is full. */
export function registerBlockDevice(device: BlockDevice): bool {
  if (deviceCount == MAX_DEVICES) return false;
  store<u32>(devices + deviceCount++ * 4, changetype<u32>(device));
  return true;
}

export function blockDeviceCount(): u32 {
  return deviceCount;
}

/** The index-th registered device, in registration order (a disk, then its partitions). */
export function blockDeviceAt(index: u32): BlockDevice {
  assert(index < deviceCount, "blockDeviceAt: index past the table");
  return changetype<BlockDevice>(load<u32>(devices + index * 4));
}

/** The device with number (major, minor), or null. */
export function findBlockDevice(major: u32, minor: u32): BlockDevice | null {
  for (let i: u32 = 0; i < deviceCount; i++) {
    const device = blockDeviceAt(i);
    if (device.major == major && device.minor == minor) return device;
  }
  return null;
}

/** The device named `name` (no "/dev/"), or null. */
export function findBlockDeviceNamed(name: u32, length: u32): BlockDevice | null {
  if (length == 0 || length > 8) return null;
  for (let i: u32 = 0; i < deviceCount; i++) {
    const device = blockDeviceAt(i);
    if (deviceNameLength(device) != length) continue;
    if (memory.compare(deviceNameAddress(device), name, length) == 0) return device;
  }
  return null;
}

@inline export function isPartition(device: BlockDevice): bool {
  return device.whole != device;
}

@inline export function deviceBytes(device: BlockDevice): u64 {
  return device.sectors << SECTOR_SHIFT;
}
