// /proc/partitions and /proc/diskstats: every disk and partition, in
// Linux's formats (block/genhd.c), so that tools and tests read the
// sectors each has moved.
import { BlockDevice, blockDeviceAt, blockDeviceCount, deviceNameAddress, deviceNameLength } from "../block/block_device";
import { busyMilliseconds } from "../block/request";
import { formatInto } from "../lib/format";

function name(device: BlockDevice, into: u32, capacity: u32): u32 {
  const length = min(deviceNameLength(device), capacity);
  memory.copy(into, deviceNameAddress(device), length);
  return length;
}

/** "major minor  #blocks  name", #blocks in KiB. */
export function partitions(into: u32, capacity: u32): u32 {
  let n = formatInto(into, capacity, "major minor  #blocks  name\n\n");
  for (let i: u32 = 0; i < blockDeviceCount() && n + 64 < capacity; i++) {
    const device = blockDeviceAt(i);
    n += formatInto(into + n, capacity - n, "%4d  %7d %10d ", device.major, device.minor, device.sectors >> 1);
    n += name(device, into + n, capacity - n);
    store<u8>(into + n++, 0x0a);
  }
  return n;
}

/**
 * One line per device: major, minor, name, then reads completed, reads
 * merged (0: nothing merges requests here), sectors read, milliseconds
 * reading, the same four for writes, requests in flight, milliseconds with
 * any in flight, and the weighted time (counted as the plain one).
 */
export function diskstats(into: u32, capacity: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < blockDeviceCount() && n + 160 < capacity; i++) {
    const device = blockDeviceAt(i);
    n += formatInto(into + n, capacity - n, "%4d %7d ", device.major, device.minor);
    n += name(device, into + n, capacity - n);
    n += formatInto(into + n, capacity - n, " %d 0 %d %d", device.readIos, device.readSectors, device.readTicks);
    n += formatInto(into + n, capacity - n, " %d 0 %d %d", device.writeIos, device.writeSectors, device.writeTicks);
    const busy = busyMilliseconds(device.whole);
    n += formatInto(into + n, capacity - n, " %d %d %d\n", device.whole == device ? device.inFlight : 0, busy, busy);
  }
  return n;
}
