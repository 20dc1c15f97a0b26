// Finding the disks at boot: each driver registers what it finds, then the
// partition tables of every disk are read (the processes that will use
// them do not exist yet, so these reads poll the device).
import { printf, printBytes } from "../console/console";
import { blockDeviceAt, blockDeviceCount, deviceNameAddress, deviceNameLength, isPartition } from "./block_device";
import { scanPartitions } from "./partitions";
import { str } from "../lib/format";
import { probeVirtioBlock } from "./virtio_blk";
import { probeAhci } from "./ahci";

export function probeBlockDevices(): void {
  probeVirtioBlock();
  probeAhci();
  const disks = blockDeviceCount();
  for (let i: u32 = 0; i < disks; i++) {
    const disk = blockDeviceAt(i);
    if (isPartition(disk)) continue;
    scanPartitions(disk);
    printBytes(deviceNameAddress(disk), deviceNameLength(disk));
    printf(": %d sectors (%d MiB)%s, %d partitions\n", disk.sectors, disk.sectors >> 11,
      str(disk.readOnly != 0 ? " read-only" : ""), disk.partitions);
  }
}
