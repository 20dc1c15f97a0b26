// One AHCI port with an ATA disk on it: bringing it up, IDENTIFY DEVICE,
// and the block layer's requests, several in flight in the port's command
// slots (not queued: the disk runs them one after another, but the HBA
// starts the next one without waiting for the kernel).
//
// Errors. After a task-file error the AHCI specification (6.2.2) has the
// HBA stop with the failed command at PxCMD.CCS, while some HBAs (QEMU's)
// clear the failed slot and go on. So when more than one command was
// issued the port cannot say which one failed: it waits for the HBA to
// go idle, recovers (stop, clear errors, start) and runs each of those
// requests (the suspects) again alone, holding new ones back meanwhile, so
// that the one that fails alone is the one that failed. Reads and writes
// may run twice: each moves the same bytes again.
import { memoryBarrier, mmioRead32, mmioWrite32, rdtsc } from "../arch/x86_64/cpu";
import { printBytes, printf } from "../console/console";
import { allocPages, freePages } from "../mm/buddy";
import { kfree, kmalloc } from "../mm/slab";
import { str } from "../lib/format";
import { FrameState } from "../mm/frame";
import { tscAfter } from "../time/clock";
import { BlockDevice, deviceNameAddress, deviceNameLength } from "./block_device";
import { BLOCK_FLUSH, BLOCK_READ, BLOCK_WRITE, BlockRequest, completeRequest } from "./request";
import {
  ATA_FLUSH_CACHE_EXT, ATA_IDENTIFY_DEVICE, ATA_READ_DMA_EXT, ATA_WRITE_DMA_EXT, COMMAND_LIST, IDENTIFY_DATA,
  PORT_MEMORY_ORDER, RECEIVED_FIS, buildCommand, sectorBytes,
} from "./ahci_command";

// Port registers, from the port's base (ABAR + 0x100 + 0x80 × port).
const PxCLB: u32 = 0x00;
const PxFB: u32 = 0x08;
const PxIS: u32 = 0x10;
const PxIE: u32 = 0x14;
const PxCMD: u32 = 0x18;
const PxTFD: u32 = 0x20;
const PxSIG: u32 = 0x24;
const PxSSTS: u32 = 0x28;
const PxSERR: u32 = 0x30;
const PxCI: u32 = 0x38;

const CMD_START: u32 = 1 << 0;
const CMD_SPIN_UP: u32 = 1 << 1;
const CMD_CLO: u32 = 1 << 3; // command list override: clears a stuck BSY/DRQ
const CMD_FIS_RECEIVE: u32 = 1 << 4;
const CMD_FIS_RUNNING: u32 = 1 << 14;
const CMD_LIST_RUNNING: u32 = 1 << 15;

const TFD_ERR: u32 = 1 << 0;
const TFD_DRQ: u32 = 1 << 3;
const TFD_BSY: u32 = 1 << 7;

// PxIS and PxIE bits: completions (a register FIS, a PIO setup FIS, a set-device-bits FIS) and errors.
const IS_REGISTER_FIS: u32 = 1 << 0;
const IS_PIO_SETUP: u32 = 1 << 1;
const IS_DEVICE_BITS: u32 = 1 << 3;
const IS_OVERFLOW: u32 = 1 << 24;
const IS_INTERFACE_FATAL: u32 = 1 << 27;
const IS_HOST_DATA: u32 = 1 << 28;
const IS_HOST_FATAL: u32 = 1 << 29;
const IS_TASK_FILE: u32 = 1 << 30;
const IS_ERRORS: u32 = IS_OVERFLOW | IS_INTERFACE_FATAL | IS_HOST_DATA | IS_HOST_FATAL | IS_TASK_FILE;
const IS_ENABLED: u32 = IS_REGISTER_FIS | IS_PIO_SETUP | IS_DEVICE_BITS | IS_ERRORS;

/** The spec's limit for the engine to stop (PxCMD.CR, FR) is 500 ms; IDENTIFY gets as long. */
const TIMEOUT_NS: u64 = 500000000;

/**
 * A port with a disk, the disk's driver record.
 *
 *   0 registers(u64) (the port's, physical)  8 area (its memory block, ahci_command.ts)  12 device (BlockDevice)
 *  16 number (port on its HBA)  20 slotMask (the command slots the HBA has)  24 busy (slots holding a request)
 *  28 issued (slots in PxCI, completion not yet seen)  32 suspects (slots to run alone again after an error)
 *  36 canOverride (the HBA has PxCMD.CLO)  40 requests (32 words: the request in each busy slot)
 */
@unmanaged export class AhciPort {
  registers: u64;
  area: u32;
  device: BlockDevice;
  number: u32;
  slotMask: u32;
  busy: u32;
  issued: u32;
  suspects: u32;
  canOverride: u32;
}
const REQUESTS: u32 = 40;
const AHCI_PORT_SIZE: u32 = REQUESTS + 32 * 4;

@inline function readPort(port: AhciPort, register: u32): u32 {
  return mmioRead32(port.registers + register);
}

@inline function writePort(port: AhciPort, register: u32, value: u32): void {
  mmioWrite32(port.registers + register, value);
}

@inline function requestSlot(port: AhciPort, slot: u32): u32 {
  return changetype<u32>(port) + REQUESTS + slot * 4;
}

const DETECTION_ESTABLISHED: u32 = 3; // PxSSTS.DET: a device is present and the link is up
const SIGNATURE_ATA: u32 = 0x00000101; // an ATAPI device (0xeb140101) or a port multiplier is not a disk for this driver

/** Whether the port with registers at `registers` has an ATA disk attached. */
export function hasAtaDisk(registers: u64): bool {
  return (mmioRead32(registers + PxSSTS) & 0xf) == DETECTION_ESTABLISHED && mmioRead32(registers + PxSIG) == SIGNATURE_ATA;
}

/** Silences a port this driver does not use: the firmware may have left its interrupts on, and one it raised would never be cleared. */
export function quietPort(registers: u64): void {
  mmioWrite32(registers + PxIE, 0);
  mmioWrite32(registers + PxIS, 0xffffffff);
}

/** Waits until (register & mask) == value; false on timeout. */
function waitPort(port: AhciPort, register: u32, mask: u32, value: u32): bool {
  const deadline = tscAfter(TIMEOUT_NS);
  while ((readPort(port, register) & mask) != value) {
    if (rdtsc() > deadline) return false;
  }
  return true;
}

/** Stops the command list engine (PxCMD.ST off, then CR falls); this also clears PxCI. */
function stopEngine(port: AhciPort): bool {
  const command = readPort(port, PxCMD);
  if ((command & (CMD_START | CMD_LIST_RUNNING)) == 0) return true;
  writePort(port, PxCMD, command & ~CMD_START);
  return waitPort(port, PxCMD, CMD_LIST_RUNNING, 0);
}

/**
 * Starts the command list engine. The device must not be busy (BSY or
 * DRQ) when ST is set: it may still be spinning up, or stuck after an
 * error, which command list override clears where the HBA has it.
 */
function startEngine(port: AhciPort): bool {
  if (!waitPort(port, PxTFD, TFD_BSY | TFD_DRQ, 0)) {
    if (port.canOverride == 0) return false;
    writePort(port, PxCMD, readPort(port, PxCMD) | CMD_CLO);
    if (!waitPort(port, PxCMD, CMD_CLO, 0)) return false;
  }
  writePort(port, PxCMD, readPort(port, PxCMD) | CMD_START);
  return true;
}

/** Stops the port's engines, command list then FIS receive, so that it no longer touches memory. */
function stopPort(port: AhciPort): bool {
  writePort(port, PxIE, 0);
  if (!stopEngine(port)) return false;
  const command = readPort(port, PxCMD);
  if ((command & (CMD_FIS_RECEIVE | CMD_FIS_RUNNING)) == 0) return true;
  writePort(port, PxCMD, command & ~CMD_FIS_RECEIVE);
  return waitPort(port, PxCMD, CMD_FIS_RUNNING, 0);
}

/** Hands slot `slot`, already written, to the HBA. */
function issue(port: AhciPort, slot: u32): void {
  assert((port.issued & (1 << slot)) == 0, "ahci: issuing a slot that is already issued");
  port.issued |= 1 << slot;
  memoryBarrier();
  writePort(port, PxCI, 1 << slot);
}

/**
 * Takes port `number` (registers at `registers`) from whoever ran it,
 * gives it its memory and starts it; null when its engines do not stop
 * or start, or memory runs out. Its interrupts stay off until enableInterrupts.
 */
export function startPort(registers: u64, number: u32, slots: u32, canOverride: bool): AhciPort | null {
  const record = kmalloc(AHCI_PORT_SIZE);
  if (record == 0) return null;
  memory.fill(record, 0, AHCI_PORT_SIZE);
  const port = changetype<AhciPort>(record);
  port.registers = registers;
  port.number = number;
  port.slotMask = slots == 32 ? 0xffffffff : (1 << slots) - 1;
  port.canOverride = canOverride ? 1 : 0;
  if (!stopPort(port)) {
    kfree(record);
    return null;
  }
  port.area = allocPages(PORT_MEMORY_ORDER, FrameState.KernelObject, true);
  if (port.area == 0) {
    kfree(record);
    return null;
  }
  // The area is below 4 GiB (linear addresses are physical), so the upper halves are 0.
  writePort(port, PxCLB, port.area + COMMAND_LIST);
  writePort(port, PxCLB + 4, 0);
  writePort(port, PxFB, port.area + RECEIVED_FIS);
  writePort(port, PxFB + 4, 0);
  writePort(port, PxCMD, readPort(port, PxCMD) | CMD_FIS_RECEIVE | CMD_SPIN_UP);
  writePort(port, PxSERR, 0xffffffff);
  writePort(port, PxIS, 0xffffffff);
  if (startEngine(port)) return port;
  releasePort(port);
  return null;
}

/** Stops a port that will not be used and gives back its memory. */
export function releasePort(port: AhciPort): void {
  stopPort(port);
  freePages(port.area);
  kfree(changetype<u32>(port));
}

export function enableInterrupts(port: AhciPort): void {
  writePort(port, PxIS, 0xffffffff);
  writePort(port, PxIE, IS_ENABLED);
}

@inline function identifyWord(port: AhciPort, index: u32): u32 {
  return load<u16>(port.area + IDENTIFY_DATA + index * 2);
}

/**
 * IDENTIFY DEVICE, polled (at boot, interrupts off): the disk's size in
 * sectors (from the LBA48 words 100..103, else words 60..61), 0 when the
 * command fails or times out.
 */
export function identify(port: AhciPort): u64 {
  buildCommand(port.area, 0, ATA_IDENTIFY_DEVICE, 0, 0, port.area + IDENTIFY_DATA, 512, false);
  issue(port, 0);
  const done = waitPort(port, PxCI, 1, 0);
  port.issued = 0;
  const failed = !done || (readPort(port, PxIS) & IS_ERRORS) != 0 || (readPort(port, PxTFD) & TFD_ERR) != 0;
  writePort(port, PxIS, 0xffffffff);
  if (failed) return 0;
  if ((identifyWord(port, 83) & (1 << 10)) != 0) return load<u64>(port.area + IDENTIFY_DATA + 200);
  return <u64>load<u32>(port.area + IDENTIFY_DATA + 120);
}

/** Whether IDENTIFY said the disk's write cache is on (word 85 bit 5), so that flushes matter. */
export function writeCacheEnabled(port: AhciPort): bool {
  return (identifyWord(port, 85) & (1 << 5)) != 0;
}

/** Prints the model IDENTIFY gave (words 27..46, each word's two bytes swapped, padded with spaces). */
export function printModel(port: AhciPort): void {
  const model = port.area + IDENTIFY_DATA + 54;
  for (let i: u32 = 0; i < 40; i += 2) store<u16>(model + i, bswap<u16>(load<u16>(model + i)));
  let length: u32 = 40;
  while (length > 0 && load<u8>(model + length - 1) == 0x20) length--;
  printBytes(model, length);
}

/** The block layer's StartRequest: writes the request into a free slot and issues it (or holds it while suspects run). */
export function startRequest(device: BlockDevice, address: u32): bool {
  const port = changetype<AhciPort>(device.driver);
  const free = port.slotMask & ~port.busy;
  if (free == 0) return false;
  const slot = <u32>ctz(free);
  const request = changetype<BlockRequest>(address);
  if (request.operation == BLOCK_FLUSH) {
    buildCommand(port.area, slot, ATA_FLUSH_CACHE_EXT, 0, 0, 0, 0, false);
  } else {
    const write = request.operation == BLOCK_WRITE;
    buildCommand(port.area, slot, write ? ATA_WRITE_DMA_EXT : ATA_READ_DMA_EXT, request.sector, request.count,
      request.buffer, sectorBytes(request.count), write);
  }
  request.driverSlot = slot;
  store<u32>(requestSlot(port, slot), address);
  port.busy |= 1 << slot;
  if (port.suspects == 0) issue(port, slot);
  return true;
}

/** Gives slot `slot`'s request back to the block layer (which may at once start another in the freed slot). */
function finish(port: AhciPort, slot: u32, ok: bool): void {
  const address = load<u32>(requestSlot(port, slot));
  assert(changetype<BlockRequest>(address).driverSlot == slot, "ahci: a slot's request names another slot");
  store<u32>(requestSlot(port, slot), 0);
  port.busy &= ~(1 << slot);
  port.suspects &= ~(1 << slot);
  completeRequest(address, ok);
}

/** Issues the next suspect once none is in flight; when none is left, every request held back. */
function issueHeld(port: AhciPort): void {
  if (port.suspects != 0) {
    if (port.issued == 0) issue(port, <u32>ctz(port.suspects));
    return;
  }
  for (let held = port.busy & ~port.issued; held != 0; held &= held - 1) issue(port, <u32>ctz(held));
}

function operationName(operation: u32): string {
  return operation == BLOCK_READ ? "reading" : operation == BLOCK_WRITE ? "writing" : "flushing";
}

function printDiskName(port: AhciPort): void {
  printf("ahci: ");
  printBytes(deviceNameAddress(port.device), deviceNameLength(port.device));
}

function reportFailure(port: AhciPort, slot: u32, status: u32, taskFile: u32): void {
  const request = changetype<BlockRequest>(load<u32>(requestSlot(port, slot)));
  printDiskName(port);
  printf(": error %s sector %d (%d sectors): status %x, error %x, interrupt status %x\n",
    str(operationName(request.operation)), request.sector, request.count, taskFile & 0xff, (taskFile >> 8) & 0xff, status);
}

/** Stop, clear the errors, start: AHCI 6.2.2.1's recovery, after which the port takes commands again. */
function recover(port: AhciPort): void {
  if (!stopEngine(port)) printf("ahci: port %d: the command list engine does not stop\n", port.number);
  writePort(port, PxSERR, 0xffffffff);
  writePort(port, PxIS, 0xffffffff);
  if (!startEngine(port)) printf("ahci: port %d: the device stays busy after an error\n", port.number);
}

/**
 * Waits until the HBA has stopped working through its command list: PxCI
 * empty, or unchanged for 100 ms (an HBA that halts at the error, as the
 * specification's does). QEMU's goes on with the next command instead, and
 * stopping its engine under a command in flight crashes it.
 */
function waitIdle(port: AhciPort): void {
  let seen = readPort(port, PxCI);
  while (seen != 0) {
    const deadline = tscAfter(100000000);
    while (readPort(port, PxCI) == seen && rdtsc() < deadline) {}
    const now = readPort(port, PxCI);
    if (now == seen) return;
    seen = now;
  }
}

/** After an error (PxIS `status`): fails the request when one was issued, else makes them all suspects. */
function handleError(port: AhciPort, status: u32): void {
  const taskFile = readPort(port, PxTFD);
  const issued = port.issued;
  const inFlight = <u32>popcnt(issued);
  port.issued = 0;
  if (inFlight > 1) waitIdle(port);
  recover(port);
  if (inFlight == 1) {
    const slot = <u32>ctz(issued);
    reportFailure(port, slot, status, taskFile);
    finish(port, slot, false);
  } else if (inFlight > 1) {
    printDiskName(port);
    printf(": error with %d commands in flight; running them again one at a time\n", inFlight);
    port.suspects = issued;
  } else {
    printDiskName(port);
    printf(": error with no command in flight: interrupt status %x\n", status);
  }
  issueHeld(port);
}

/**
 * Completes what the port has finished: from its interrupt, or polled.
 * PxIS is cleared before PxCI is read, so a completion after the read
 * raises the interrupt again.
 */
export function servicePort(port: AhciPort): void {
  const status = readPort(port, PxIS);
  writePort(port, PxIS, status);
  if ((status & IS_ERRORS) != 0) {
    handleError(port, status);
    return;
  }
  let done = port.issued & ~readPort(port, PxCI);
  port.issued &= ~done;
  for (; done != 0; done &= done - 1) finish(port, <u32>ctz(done), true);
  issueHeld(port);
}
