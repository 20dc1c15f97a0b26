// Block devices: disks (a driver's) and the partitions on them, known by
// name (vda, vda1, sda, nvme0n1p1, ...) and number, as Linux's gendisk and
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
/** Linux's BLOCK_EXT_MAJOR: numbers handed out in order as disks and partitions appear (NVMe's). */
export const BLOCK_EXT_MAJOR: u32 = 259;

/** Bytes of a device's name: "nvme0n1p15" and the NUL padding. */
export const DEVICE_NAME_BYTES: u32 = 16;

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
 *  24 sectors(u64)  32 major  36 minor  40 name (16 bytes, NUL-padded)
 *  56 object (MemoryObject: the device's pages in the page cache, the buffer cache)
 *  60 queueHead  64 queueTail (requests not yet taken by the driver)  68 inFlight (taken, not completed)
 *  72 readIos(u64)  80 readSectors(u64)  88 writeIos(u64)  96 writeSectors(u64)
 * 104 readTicks(u64)  112 writeTicks(u64) (milliseconds spent, as diskstats counts)
 * 120 busyCycles(u64) (TSC cycles with requests in flight)  128 busySince(u64) (TSC, while inFlight > 0)
 * 136 partitions (how many of the disk)  140 readOnly
 * 144 volatileCache (the disk may hold completed writes in a cache until flushed: BLOCK_FLUSH goes to it)
 * 148 blockMask (sectors per logical block, less one: a disk of 4 KiB blocks takes only whole ones)
 * 152 holder: what has the device for its own, 0 for nothing (Linux's bd_holder): a file system
 *     mounted from it, a swap area on it; each of them is EBUSY while another holds it
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
  name1: u64;
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
  blockMask: u32;
  holder: u32;
}
const BLOCK_DEVICE_SIZE: u32 = 156;

const MAX_DEVICES: u32 = 32;
const devices = memory.data(MAX_DEVICES * 4, 4);
let deviceCount: u32 = 0;

/** The device's name as bytes: at most DEVICE_NAME_BYTES, NUL-padded. */
@inline export function deviceNameAddress(device: BlockDevice): u32 {
  return changetype<u32>(device) + 40;
}

export function deviceNameLength(device: BlockDevice): u32 {
  let length: u32 = 0;
  while (length < DEVICE_NAME_BYTES && load<u8>(deviceNameAddress(device) + length) != 0) length++;
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
  memory.fill(at, 0, DEVICE_NAME_BYTES);
  const length = <u32>min(prefix.length, 6);
  for (let i: u32 = 0; i < length; i++) store<u8>(at + i, <u8>prefix.charCodeAt(i));
  store<u8>(at + length, <u8>(0x61 + number % 26));
}

/**
 * Names a disk `prefix`, `number` and `suffix` ("nvme", 0, "n1": "nvme0n1"),
 * as Linux's nvme names a controller's namespaces.
 */
export function nameNumberedDisk(device: BlockDevice, prefix: string, number: u32, suffix: string): void {
  const at = deviceNameAddress(device);
  memory.fill(at, 0, DEVICE_NAME_BYTES);
  let length: u32 = 0;
  for (let i = 0; i < prefix.length; i++) store<u8>(at + length++, <u8>prefix.charCodeAt(i));
  if (number >= 10) store<u8>(at + length++, <u8>(0x30 + number / 10 % 10));
  store<u8>(at + length++, <u8>(0x30 + number % 10));
  for (let i = 0; i < suffix.length && length < DEVICE_NAME_BYTES - 4; i++) store<u8>(at + length++, <u8>suffix.charCodeAt(i));
}

/**
 * Names partition `number` (1, 2, ...) of `disk` as Linux does: the disk's
 * name and the number ("vda1"), with a 'p' between when the disk's name
 * ends in a digit ("nvme0n1p1").
 */
export function namePartition(partition: BlockDevice, disk: BlockDevice, number: u32): void {
  const at = deviceNameAddress(partition);
  memory.copy(at, deviceNameAddress(disk), DEVICE_NAME_BYTES);
  let length = deviceNameLength(disk);
  const last = length == 0 ? 0 : <u32>load<u8>(at + length - 1);
  if (last >= 0x30 && last <= 0x39 && length < DEVICE_NAME_BYTES) store<u8>(at + length++, 0x70);
  if (number >= 10 && length < DEVICE_NAME_BYTES) store<u8>(at + length++, <u8>(0x30 + number / 10));
  if (length < DEVICE_NAME_BYTES) store<u8>(at + length, <u8>(0x30 + number % 10));
}

let extendedMinors: u32 = 0;

/** The next of BLOCK_EXT_MAJOR's minors: a disk takes one, then each of its partitions, as Linux gives them out. */
export function nextExtendedMinor(): u32 {
  return extendedMinors++;
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
  if (length == 0 || length > DEVICE_NAME_BYTES) return null;
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

/** Takes `device` for `holder` (Linux's exclusive open): false when something holds it already. */
export function claimBlockDevice(device: BlockDevice, holder: u32): bool {
  if (device.holder != 0) return false;
  device.holder = holder;
  return true;
}

export function releaseBlockDevice(device: BlockDevice): void {
  device.holder = 0;
}
