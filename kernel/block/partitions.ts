// Partition tables: an MBR's four primary entries and the logical
// partitions of its extended one, or, behind a protective MBR, a GPT's
// entries, each a partition device over its part of the disk (vda1, vda2,
// ...), numbered as Linux numbers them (MBR slot, then 5 and up along the
// extended partition's chain of EBRs; GPT entry).
import { printBytes, printf } from "../console/console";
import { allocPage, freePages } from "../mm/buddy";
import { FrameState } from "../mm/frame";
import { BlockDevice, deviceNameAddress, deviceNameLength, namePartition, newBlockDevice, registerBlockDevice } from "./block_device";
import { BLOCK_READ, blockIo } from "./request";

const MBR_TYPE_GPT_PROTECTIVE: u8 = 0xee;
const MBR_TYPE_EXTENDED: u8 = 0x05;
const MBR_TYPE_EXTENDED_LBA: u8 = 0x0f;
const MBR_TYPE_EXTENDED_LINUX: u8 = 0x85;
const MAX_GPT_ENTRIES: u32 = 128;
/** A disk's minors leave room for partitions 1..15 (Linux's 16 minors a virtio or SCSI disk). */
const LAST_PARTITION: u32 = 15;
const EBR_AT: u32 = 2048; // where in the page buffer an EBR is read: the MBR stays in its first sector

@inline function isExtended(type: u8): bool {
  return type == MBR_TYPE_EXTENDED || type == MBR_TYPE_EXTENDED_LBA || type == MBR_TYPE_EXTENDED_LINUX;
}

function printName(device: BlockDevice): void {
  printBytes(deviceNameAddress(device), deviceNameLength(device));
}

/** Adds partition `number` of `disk` over sectors [first, first + count); one out of the disk's range is left out, with a log line. */
function addPartition(disk: BlockDevice, number: u32, first: u64, count: u64): void {
  if (count == 0) return;
  if (first >= disk.sectors || count > disk.sectors - first) {
    printName(disk);
    printf(": partition %d (sectors %d..%d) lies past the end of the disk; left out\n", number, first, first + count);
    return;
  }
  const partition = newBlockDevice();
  if (partition == null) return;
  partition.whole = disk;
  partition.firstSector = first;
  partition.sectors = count;
  partition.major = disk.major;
  partition.minor = disk.minor + number;
  partition.readOnly = disk.readOnly;
  namePartition(partition, disk, number);
  if (registerBlockDevice(partition)) disk.partitions++;
}

/** GPT: the header in sector 1 and its entry array; false if the header is not there. */
function readGpt(disk: BlockDevice, buffer: u32): bool {
  if (blockIo(disk, BLOCK_READ, 1, 1, buffer) != 0) return false;
  if (load<u64>(buffer) != 0x5452415020494645) return false; // "EFI PART"
  const entriesAt = load<u64>(buffer + 72);
  const entries = min(load<u32>(buffer + 80), MAX_GPT_ENTRIES);
  const entrySize = load<u32>(buffer + 84);
  if (entrySize < 128 || entrySize > 512 || (entrySize & 7) != 0) return false;
  let sectorRead: u64 = U64.MAX_VALUE;
  for (let i: u32 = 0; i < entries && disk.partitions < 15; i++) {
    const byte = <u64>i * entrySize;
    const sector = entriesAt + byte / 512;
    if (sector != sectorRead) {
      if (blockIo(disk, BLOCK_READ, sector, 1, buffer) != 0) return true;
      sectorRead = sector;
    }
    const entry = buffer + <u32>(byte % 512);
    if (load<u64>(entry) == 0 && load<u64>(entry + 8) == 0) continue; // an unused entry
    const first = load<u64>(entry + 32);
    const last = load<u64>(entry + 40);
    if (last >= first) addPartition(disk, i + 1, first, last - first + 1);
  }
  return true;
}

/**
 * The logical partitions of the extended partition over [start, start +
 * count): a chain of EBRs, each holding one logical partition (its start
 * relative to the EBR) and the next EBR (relative to the extended
 * partition's start). A chain that loops, leaves the extended partition
 * or runs past partition 15 ends there, with a log line.
 */
function readExtended(disk: BlockDevice, buffer: u32, start: u64, count: u64): void {
  let next: u64 = 0;
  let number: u32 = 5;
  for (let step: u32 = 0; step <= LAST_PARTITION; step++) {
    const ebr = start + next;
    if (next >= count || blockIo(disk, BLOCK_READ, ebr, 1, buffer + EBR_AT) != 0 || load<u16>(buffer + EBR_AT + 510) != 0xaa55) {
      return;
    }
    const logical = buffer + EBR_AT + 446;
    if (load<u8>(logical + 4) != 0 && !isExtended(load<u8>(logical + 4))) {
      if (number > LAST_PARTITION) break;
      addPartition(disk, number++, ebr + <u64>load<u32>(logical + 8), <u64>load<u32>(logical + 12));
    }
    const link = logical + 16;
    if (!isExtended(load<u8>(link + 4))) return;
    const following = <u64>load<u32>(link + 8);
    if (following <= next) break; // a chain must move forward: anything else loops
    next = following;
  }
  printName(disk);
  printf(": the extended partition's chain goes on past partition %d or loops; the rest is left out\n", number - 1);
}

/** Reads the disk's partition table, if it has one, and registers its partitions. */
export function scanPartitions(disk: BlockDevice): void {
  const buffer = allocPage(FrameState.KernelObject, false);
  if (buffer == 0) return;
  if (blockIo(disk, BLOCK_READ, 0, 1, buffer) == 0 && load<u16>(buffer + 510) == 0xaa55) {
    const protective = load<u8>(buffer + 446 + 4) == MBR_TYPE_GPT_PROTECTIVE;
    if (!protective || !readGpt(disk, buffer)) {
      if (protective) blockIo(disk, BLOCK_READ, 0, 1, buffer);
      let extendedFirst: u64 = 0;
      let extendedCount: u64 = 0;
      for (let slot: u32 = 0; slot < 4; slot++) {
        const entry = buffer + 446 + slot * 16;
        const type = load<u8>(entry + 4);
        if (type == 0) continue;
        const first = <u64>load<u32>(entry + 8);
        const count = <u64>load<u32>(entry + 12);
        if (!isExtended(type)) {
          addPartition(disk, slot + 1, first, count);
          continue;
        }
        // As Linux: the extended partition is a device of 2 sectors (room for a boot loader, none for a file system).
        addPartition(disk, slot + 1, first, min(count, 2));
        if (extendedCount == 0) { // Linux reads the first extended partition only, after the primary ones
          extendedFirst = first;
          extendedCount = count;
        }
      }
      if (extendedCount != 0) readExtended(disk, buffer, extendedFirst, extendedCount);
    }
  }
  freePages(buffer);
}
