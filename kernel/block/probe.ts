// Finding the disks at boot: each driver registers what it finds, then the
// partition tables of every disk are read (the processes that will use
// them do not exist yet, so these reads poll the device). Disks of the
// extended major are numbered here, each just before its partitions.
import { printf, printBytes } from "../console/console";
import {
  BLOCK_EXT_MAJOR, blockDeviceAt, blockDeviceCount, deviceNameAddress, deviceNameLength, isPartition, nextExtendedMinor,
} from "./block_device";
import { scanPartitions } from "./partitions";
import { str } from "../lib/format";
import { probeVirtioBlock } from "./virtio_blk";
import { probeAhci } from "./ahci";
import { probeNvme } from "./nvme";

export function probeBlockDevices(): void {
  probeVirtioBlock();
  probeAhci();
  probeNvme();
  const disks = blockDeviceCount();
  for (let i: u32 = 0; i < disks; i++) {
    const disk = blockDeviceAt(i);
    if (isPartition(disk)) continue;
    if (disk.major == BLOCK_EXT_MAJOR) disk.minor = nextExtendedMinor(); // its partitions' numbers come next
    scanPartitions(disk);
    printBytes(deviceNameAddress(disk), deviceNameLength(disk));
    printf(": %d sectors (%d MiB)%s, %d partitions\n", disk.sectors, disk.sectors >> 11,
      str(disk.readOnly != 0 ? " read-only" : ""), disk.partitions);
  }
}
