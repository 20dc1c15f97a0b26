// The files of /sys/block/DISK and /sys/block/DISK/PART: each device's
// numbers, size, read-only flag and I/O counts, in the formats of Linux's
// block/genhd.c and block/partitions/core.c, so that tools that read them
// (lsblk, LTP's tst_device: the sectors a test wrote) find them as there.
import { BlockDevice, deviceNameAddress, deviceNameLength, isPartition } from "../block/block_device";
import { busyMilliseconds } from "../block/request";
import { formatInto } from "../lib/format";

export const enum BlockFile {
  Dev = 0, // "MAJOR:MINOR"
  Size = 1, // in 512-byte sectors
  Stat = 2, // the counters, as /proc/diskstats without the names
  ReadOnly = 3, // "ro": 0 or 1
  Removable = 4, // disks only: 0 (no removable media here)
  Start = 5, // partitions only: the first sector on the disk
  Partition = 6, // partitions only: its number
}

/** A disk's files, then a partition's, in readdir's order. */
export const DISK_FILES = memory.data<u8>([
  <u8>BlockFile.Dev, <u8>BlockFile.ReadOnly, <u8>BlockFile.Removable, <u8>BlockFile.Size, <u8>BlockFile.Stat,
]);
export const DISK_FILE_COUNT: u32 = 5;
export const PARTITION_FILES = memory.data<u8>([
  <u8>BlockFile.Dev, <u8>BlockFile.Partition, <u8>BlockFile.ReadOnly, <u8>BlockFile.Size, <u8>BlockFile.Start,
  <u8>BlockFile.Stat,
]);
export const PARTITION_FILE_COUNT: u32 = 6;

export function blockFileName(file: u32): string {
  switch (file) {
    case BlockFile.Dev: return "dev";
    case BlockFile.Size: return "size";
    case BlockFile.Stat: return "stat";
    case BlockFile.ReadOnly: return "ro";
    case BlockFile.Removable: return "removable";
    case BlockFile.Start: return "start";
    case BlockFile.Partition: return "partition";
    default: return "";
  }
}

/** Whether `file` is one of `device`'s (a disk and a partition have different sets). */
export function hasBlockFile(device: BlockDevice, file: u32): bool {
  if (file == BlockFile.Removable) return !isPartition(device);
  if (file == BlockFile.Start || file == BlockFile.Partition) return isPartition(device);
  return file <= <u32>BlockFile.Partition;
}

/**
 * The 17 counters of Linux's stat file: reads (completed, merged, sectors,
 * milliseconds), writes (the same), requests in flight, milliseconds busy,
 * weighted milliseconds (counted as the plain ones), then discards and
 * flushes (none counted: 0). Requests are not merged here; a partition's
 * in-flight and busy figures are its disk's.
 */
function stat(device: BlockDevice, into: u32, capacity: u32): u32 {
  let n = formatInto(into, capacity, "%8d %8d %8d %8d ", device.readIos, 0, device.readSectors, device.readTicks);
  n += formatInto(into + n, capacity - n, "%8d %8d %8d %8d ", device.writeIos, 0, device.writeSectors, device.writeTicks);
  const busy = busyMilliseconds(device.whole);
  n += formatInto(into + n, capacity - n, "%8d %8d %8d ", device.whole.inFlight, busy, busy);
  n += formatInto(into + n, capacity - n, "%8d %8d %8d %8d %8d %8d\n", 0, 0, 0, 0, 0, 0);
  return n;
}

/** Writes `file`'s text for `device` at `into`; its length. */
export function blockFileText(device: BlockDevice, file: u32, into: u32, capacity: u32): u32 {
  switch (file) {
    case BlockFile.Dev: return formatInto(into, capacity, "%d:%d\n", device.major, device.minor);
    case BlockFile.Size: return formatInto(into, capacity, "%d\n", device.sectors);
    case BlockFile.Stat: return stat(device, into, capacity);
    case BlockFile.ReadOnly: return formatInto(into, capacity, "%d\n", device.whole.readOnly != 0 ? 1 : 0);
    case BlockFile.Removable: return formatInto(into, capacity, "0\n");
    case BlockFile.Start: return formatInto(into, capacity, "%d\n", device.firstSector);
    case BlockFile.Partition: return formatInto(into, capacity, "%d\n", partitionNumber(device));
    default: return 0;
  }
}

/** A partition's number: the digits its name ends with (vda1, sda12: namePartition's). */
function partitionNumber(device: BlockDevice): u32 {
  const name = deviceNameAddress(device);
  let number: u32 = 0;
  for (let i: u32 = 0; i < deviceNameLength(device); i++) {
    const c = <u32>load<u8>(name + i);
    number = c >= 0x30 && c <= 0x39 ? number * 10 + (c - 0x30) : 0;
  }
  return number;
}
