// NVMe reads, writes and flushes: each block request takes one of SLOTS
// command identifiers and goes to the I/O submission queue as READ, WRITE
// or FLUSH on the disk's namespace; its buffer (physically contiguous) is
// described by PRP entries: the first page (from any offset) in PRP1, the
// second in PRP2, or for longer transfers a PRP list in the slot's part of
// a few pages of the driver's. A request longer than the controller takes
// in one command (MDTS) runs as several, one after the other, on its slot.
// Completions come on the paired completion queue, by interrupt (vector 0)
// or, at boot, by polling.
import { printBytes, printf } from "../console/console";
import { str } from "../lib/format";
import { PAGE_SIZE } from "../mm/frame";
import { BlockDevice, SECTOR_SHIFT, deviceNameAddress, deviceNameLength } from "./block_device";
import { BLOCK_FLUSH, BLOCK_READ, BlockRequest, completeRequest } from "./request";
import {
  NvmeQueue, completionCommand, completionStatus, nextCommand, peekCompletion, popCompletion, releaseCompletions, submit,
} from "./nvme_queue";

export const SLOTS: u32 = 32;
/** Bytes of PRP list per slot: 64 entries, enough for MAX_TRANSFER_SECTORS from any offset. */
export const PRP_LIST_BYTES: u32 = 512;
export const MAX_TRANSFER_SECTORS: u32 = (PRP_LIST_BYTES / 8 * PAGE_SIZE) >> SECTOR_SHIFT;

const OPCODE_FLUSH: u32 = 0x00;
const OPCODE_WRITE: u32 = 0x01;
const OPCODE_READ: u32 = 0x02;

/**
 * One namespace made a disk, the record its interrupt and the block layer hand the driver.
 *
 *   0 io (NvmeQueue: the I/O queue pair)  4 device (BlockDevice)  8 namespace (its id)
 *  12 lbaShift (log2 of a logical block in sectors: 0 for 512 bytes, 3 for 4 KiB)
 *  16 maxSectors (per command)  20 busy (bit per slot)
 *  24 slots (SLOTS × 8 bytes: the BlockRequest, sectors of it done)  28 prpLists (SLOTS × PRP_LIST_BYTES)
 */
@unmanaged export class NvmeDisk {
  io: NvmeQueue;
  device: BlockDevice;
  namespace: u32;
  lbaShift: u32;
  maxSectors: u32;
  busy: u32;
  slots: u32;
  prpLists: u32;
}
export const NVME_DISK_SIZE: u32 = 32;

@inline function slotRequest(disk: NvmeDisk, slot: u32): BlockRequest {
  return changetype<BlockRequest>(load<u32>(disk.slots + slot * 8));
}

@inline function slotDoneAddress(disk: NvmeDisk, slot: u32): u32 {
  return disk.slots + slot * 8 + 4;
}

/** Sectors the slot's next command moves: what is left of its request, at most a command's worth. */
function chunkSectors(disk: NvmeDisk, slot: u32): u32 {
  return min(slotRequest(disk, slot).count - load<u32>(slotDoneAddress(disk, slot)), disk.maxSectors);
}

/** PRP2 for `bytes` at `buffer`: none, the second page, or a list (in the slot's part) of every page after the first. */
function secondPrp(disk: NvmeDisk, slot: u32, buffer: u32, bytes: u32): u64 {
  const first = PAGE_SIZE - (buffer & (PAGE_SIZE - 1));
  if (bytes <= first) return 0;
  if (bytes <= first + PAGE_SIZE) return <u64>(buffer + first);
  const list = disk.prpLists + slot * PRP_LIST_BYTES;
  let entry = list;
  for (let page = buffer + first; page < buffer + bytes; page += PAGE_SIZE) {
    store<u64>(entry, <u64>page);
    entry += 8;
  }
  return <u64>list;
}

/** Puts the slot's next command (its request's next chunk, or its flush) on the submission queue. */
function issue(disk: NvmeDisk, slot: u32): void {
  const request = slotRequest(disk, slot);
  const command = nextCommand(disk.io);
  store<u32>(command + 4, disk.namespace);
  if (request.operation == BLOCK_FLUSH) {
    store<u32>(command, OPCODE_FLUSH | (slot << 16));
  } else {
    const done = load<u32>(slotDoneAddress(disk, slot));
    const sectors = chunkSectors(disk, slot);
    const buffer = request.buffer + (done << SECTOR_SHIFT);
    const bytes = sectors << SECTOR_SHIFT;
    store<u32>(command, (request.operation == BLOCK_READ ? OPCODE_READ : OPCODE_WRITE) | (slot << 16));
    store<u64>(command + 24, <u64>buffer);
    store<u64>(command + 32, secondPrp(disk, slot, buffer, bytes));
    store<u64>(command + 40, (request.sector + done) >> disk.lbaShift); // the starting logical block
    store<u32>(command + 48, (sectors >> disk.lbaShift) - 1); // blocks, less one
  }
  submit(disk.io);
}

/** The block layer's StartRequest: takes a free command identifier, or refuses when all SLOTS are out. */
export function startNvmeRequest(device: BlockDevice, address: u32): bool {
  const disk = changetype<NvmeDisk>(device.driver);
  if (disk.busy == 0xffffffff) return false;
  const slot = <u32>ctz(~disk.busy);
  disk.busy |= 1 << slot;
  store<u32>(disk.slots + slot * 8, address);
  store<u32>(slotDoneAddress(disk, slot), 0);
  changetype<BlockRequest>(address).driverSlot = slot;
  issue(disk, slot);
  return true;
}

function reportError(disk: NvmeDisk, request: BlockRequest, status: u32): void {
  printf("nvme: ");
  printBytes(deviceNameAddress(disk.device), deviceNameLength(disk.device));
  if (request.operation == BLOCK_FLUSH) {
    printf(": error flushing the write cache: status %x\n", status);
    return;
  }
  printf(": error %s sector %d (%d sectors): status %x\n", str(request.operation == BLOCK_READ ? "reading" : "writing"),
    request.sector, request.count, status);
}

/** One completion: the slot's request goes on with its next chunk, or is done (failed on any error). */
function finish(disk: NvmeDisk, slot: u32, status: u32): void {
  const request = slotRequest(disk, slot);
  if (status == 0 && request.operation != BLOCK_FLUSH) {
    const done = load<u32>(slotDoneAddress(disk, slot)) + chunkSectors(disk, slot);
    store<u32>(slotDoneAddress(disk, slot), done);
    if (done < request.count) {
      issue(disk, slot);
      return;
    }
  }
  if (status != 0) reportError(disk, request, status);
  disk.busy &= ~(1 << slot);
  completeRequest(changetype<u32>(request), status == 0);
}

/** Completes what the controller has posted on the I/O completion queue since last time. */
export function reapNvme(disk: NvmeDisk): void {
  let entry = peekCompletion(disk.io);
  if (entry == 0) return; // a shared line, and another device's interrupt
  while (entry != 0) {
    const slot = completionCommand(entry);
    const status = completionStatus(entry);
    popCompletion(disk.io);
    assert(slot < SLOTS && (disk.busy & (1 << slot)) != 0, "nvme: a completion names a free command identifier");
    finish(disk, slot, status);
    entry = peekCompletion(disk.io);
  }
  releaseCompletions(disk.io);
}
