// AHCI commands in memory: the structures a port's DMA engine reads to run
// an ATA command, as the AHCI 1.3.1 specification draws them (section 4.2).
// A port's memory is one block of four frames:
//
//   0x0000 command list: 32 command headers of 32 bytes (1 KiB aligned)
//   0x0400 received FIS area (256 bytes, 256 aligned)
//   0x0800 IDENTIFY DEVICE data (512 bytes)
//   0x1000 command tables: one of 256 bytes per slot (128 aligned), to 0x3000
//   (the last frame is unused: the buddy allocator hands out powers of two)
//
// A command header, 32 bytes:
//   0 flags: bits 0..4 command FIS length in dwords, 6 write (to the device), 16..31 PRDT entries
//   4 PRD byte count (the HBA writes how much it moved)  8 command table address(u64)  16..31 reserved
//
// A command table, 256 bytes here:
//   0x00 command FIS (a host-to-device register FIS, 20 bytes)  0x40 ATAPI command (unused)
//   0x80 PRDT: 8 entries of 16 bytes: 0 data address(u64)  8 reserved  12 byte count − 1, bit 31 interrupt
import { memoryBarrier } from "../arch/x86_64/cpu";
import { SECTOR_SHIFT } from "./block_device";

export const COMMAND_LIST: u32 = 0x0000;
export const RECEIVED_FIS: u32 = 0x0400;
export const IDENTIFY_DATA: u32 = 0x0800;
const COMMAND_TABLES: u32 = 0x1000;
/** The port's memory block: 2^2 frames. */
export const PORT_MEMORY_ORDER: u32 = 2;

const HEADER_SIZE: u32 = 32;
const TABLE_SIZE: u32 = 256;
const PRDT: u32 = 0x80;
const PRD_SIZE: u32 = 16;
const PRDS_PER_TABLE: u32 = (TABLE_SIZE - PRDT) / PRD_SIZE;
/** One PRD entry moves at most 4 MiB (a 22-bit byte count). */
const PRD_MAX_BYTES: u32 = 4 << 20;
const PRD_INTERRUPT: u32 = 1 << 31;

const HEADER_WRITE: u32 = 1 << 6;
const REGISTER_FIS_DWORDS: u32 = 5;
const FIS_HOST_TO_DEVICE: u8 = 0x27;
const FIS_COMMAND: u8 = 1 << 7; // the FIS carries a command, not a device control update
const DEVICE_LBA: u8 = 1 << 6;

export const ATA_READ_DMA_EXT: u8 = 0x25;
export const ATA_WRITE_DMA_EXT: u8 = 0x35;
export const ATA_FLUSH_CACHE_EXT: u8 = 0xea;
export const ATA_IDENTIFY_DEVICE: u8 = 0xec;

/** An LBA48 command moves at most 65536 sectors (a count of 0 means 65536), which 8 PRDs of 4 MiB cover. */
const MAX_COMMAND_SECTORS: u32 = 65536;

@inline function headerAddress(area: u32, slot: u32): u32 {
  return area + COMMAND_LIST + slot * HEADER_SIZE;
}

@inline function tableAddress(area: u32, slot: u32): u32 {
  return area + COMMAND_TABLES + slot * TABLE_SIZE;
}

/**
 * Writes slot `slot`'s command: ATA `command` on `count` sectors from
 * `sector`, data in the `bytes` at physical `buffer` (0 bytes: no data),
 * `write` when the data goes to the device. The slot must not be issued.
 */
export function buildCommand(area: u32, slot: u32, command: u8, sector: u64, count: u32, buffer: u32, bytes: u32, write: bool): void {
  assert(count <= MAX_COMMAND_SECTORS, "ahci: a command moves at most 65536 sectors");
  assert((buffer & 1) == 0 && (bytes & 1) == 0, "ahci: PRD addresses and byte counts are word-aligned");
  const table = tableAddress(area, slot);
  memory.fill(table, 0, PRDT);
  store<u8>(table, FIS_HOST_TO_DEVICE);
  store<u8>(table + 1, FIS_COMMAND);
  store<u8>(table + 2, command);
  store<u8>(table + 4, <u8>sector);
  store<u8>(table + 5, <u8>(sector >> 8));
  store<u8>(table + 6, <u8>(sector >> 16));
  store<u8>(table + 7, DEVICE_LBA);
  store<u8>(table + 8, <u8>(sector >> 24));
  store<u8>(table + 9, <u8>(sector >> 32));
  store<u8>(table + 10, <u8>(sector >> 40));
  store<u8>(table + 12, <u8>count); // 65536 is written as 0, as ATA asks
  store<u8>(table + 13, <u8>(count >> 8));

  let entries: u32 = 0;
  for (let offset: u32 = 0; offset < bytes; offset += PRD_MAX_BYTES) {
    assert(entries < PRDS_PER_TABLE, "ahci: the transfer needs more PRDs than a command table holds");
    const prd = table + PRDT + entries * PRD_SIZE;
    const length = min(bytes - offset, PRD_MAX_BYTES);
    store<u64>(prd, <u64>(buffer + offset));
    store<u32>(prd + 8, 0);
    // Only the last entry asks for an interrupt: the command's own completion is the one that matters.
    store<u32>(prd + 12, (length - 1) | (offset + length == bytes ? PRD_INTERRUPT : 0));
    entries++;
  }

  const header = headerAddress(area, slot);
  store<u32>(header, REGISTER_FIS_DWORDS | (write ? HEADER_WRITE : 0) | (entries << 16));
  store<u32>(header + 4, 0);
  store<u64>(header + 8, <u64>table);
  memoryBarrier(); // the header and table are in memory before the slot is issued
}

/** A block-layer transfer of `count` sectors: its byte count. */
@inline export function sectorBytes(count: u32): u32 {
  return count << SECTOR_SHIFT;
}
