// An xHCI (USB 3) host controller, driven just far enough for a keyboard:
// many PCs boot by UEFI with no PS/2 emulation once the firmware is gone,
// so a USB keyboard is the only one they have.
//
// The controller reads and writes its rings and contexts by DMA, in frames
// from the buddy allocator (their linear address is their physical
// address). Everything is polled: commands at boot with a timeout, the
// keyboard's reports from the timer interrupt (usb_keyboard.ts). No hubs:
// a device must sit on a root port.
//
// A TRB (transfer request block), 16 bytes:
//   0 parameter(u64)  8 status(u32)  12 control(u32): bit 0 cycle, 10..15 type
import { memoryBarrier, mmioRead32, mmioWrite32, rdtsc } from "../arch/x86_64/cpu";
import { allocPage, allocPages } from "../mm/buddy";
import { FrameState, PAGE_SIZE } from "../mm/frame";
import { mapDeviceMemory } from "../mm/kernel_map";
import { tscAfter } from "../time/clock";
import { NO_DEVICE, findPciFunction, pciEnableMemoryAndDma, pciMemoryBar, pciMemoryBar0Size } from "./pci";

const TRB_NORMAL: u32 = 1;
const TRB_SETUP: u32 = 2;
const TRB_DATA: u32 = 3;
const TRB_STATUS: u32 = 4;
const TRB_LINK: u32 = 6;
const TRB_ENABLE_SLOT: u32 = 9;
const TRB_ADDRESS_DEVICE: u32 = 11;
const TRB_CONFIGURE_ENDPOINT: u32 = 12;
const TRB_EVALUATE_CONTEXT: u32 = 13;
const TRB_TRANSFER_EVENT: u32 = 32;
const TRB_COMMAND_COMPLETION: u32 = 33;

const CYCLE: u32 = 1 << 0;
const TOGGLE_CYCLE: u32 = 1 << 1; // link TRB
const SHORT_OK: u32 = 1 << 2; // interrupt on short packet
const IOC: u32 = 1 << 5; // interrupt (an event) on completion
const IMMEDIATE: u32 = 1 << 6; // the parameter is the data (setup TRB)
const DIRECTION_IN: u32 = 1 << 16;
const COMPLETION_SUCCESS: u32 = 1;
const COMPLETION_SHORT_PACKET: u32 = 13;

const TRBS_PER_RING: u32 = PAGE_SIZE / 16; // the last one links back to the first

// Operational registers (from the operational base) and port registers.
const USBCMD: u32 = 0x00;
const USBSTS: u32 = 0x04;
const CRCR: u32 = 0x18;
const DCBAAP: u32 = 0x30;
const CONFIG: u32 = 0x38;
const PORTSC: u32 = 0x400; // + 0x10 per port
const CMD_RUN: u32 = 1 << 0;
const CMD_RESET: u32 = 1 << 1;
const STS_HALTED: u32 = 1 << 0;
const STS_NOT_READY: u32 = 1 << 11;
const PORT_CONNECTED: u32 = 1 << 0;
const PORT_ENABLED: u32 = 1 << 1;
const PORT_RESET: u32 = 1 << 4;
const PORT_POWER: u32 = 1 << 9;
const PORT_RESET_CHANGE: u32 = 1 << 21;
const PORT_CHANGE_BITS: u32 = 0x7f << 17; // write-1-to-clear status changes
const MAX_SLOTS_USED: u32 = 8;
const TIMEOUT_NS: u64 = 500000000;

// Register blocks, at physical addresses (the BAR may be above 4 GiB).
let operational: u64 = 0;
let interrupter: u64 = 0; // runtime registers of interrupter 0
let doorbells: u64 = 0;
let contextSize: u32 = 32;
let portCount: u32 = 0;
let deviceContexts: u32 = 0; // the DCBAA: one device context pointer per slot
let input: u32 = 0; // the input context of the next command: control context 0, slot 1, endpoints from 2

/** A producer ring (commands, or one endpoint's transfers): where the next TRB goes, and the cycle bit it carries. */
@unmanaged export class Ring {
  base: u32;
  index: u32;
  cycle: u32;
}
const commandRing = changetype<Ring>(memory.data(12, 4));
let eventRing: u32 = 0;
let eventIndex: u32 = 0;
let eventCycle: u32 = 1;

// The last event waited for (copied before the event ring moves on).
let eventParameter: u64 = 0;
let eventStatus: u32 = 0;
let eventControl: u32 = 0;

@inline function write64(register: u64, value: u64): void {
  mmioWrite32(register, <u32>value);
  mmioWrite32(register + 4, <u32>(value >> 32));
}

function newPage(): u32 {
  return allocPage(FrameState.KernelObject, true);
}

function newRing(ring: Ring): bool {
  ring.base = newPage();
  ring.index = 0;
  ring.cycle = 1;
  return ring.base != 0;
}

/** Writes a TRB at the ring's enqueue point (its cycle bit last) and returns its address. */
function enqueue(ring: Ring, parameter: u64, status: u32, control: u32): u32 {
  const trb = ring.base + ring.index * 16;
  store<u64>(trb, parameter);
  store<u32>(trb + 8, status);
  memoryBarrier();
  store<u32>(trb + 12, (control & ~CYCLE) | ring.cycle);
  ring.index++;
  if (ring.index == TRBS_PER_RING - 1) {
    const link = ring.base + ring.index * 16;
    store<u64>(link, ring.base);
    store<u32>(link + 8, 0);
    memoryBarrier();
    store<u32>(link + 12, (TRB_LINK << 10) | TOGGLE_CYCLE | ring.cycle);
    ring.index = 0;
    ring.cycle ^= 1;
  }
  return trb;
}

function ringDoorbell(slot: u32, target: u32): void {
  memoryBarrier();
  mmioWrite32(doorbells + slot * 4, target);
}

/** The next unread event TRB, or 0 if the controller has written none. */
function peekEvent(): u32 {
  const trb = eventRing + eventIndex * 16;
  return (load<u32>(trb + 12) & CYCLE) == eventCycle ? trb : 0;
}

/** Moves past the current event and tells the controller how far we have read. */
function consumeEvent(): void {
  eventIndex++;
  if (eventIndex == TRBS_PER_RING) {
    eventIndex = 0;
    eventCycle ^= 1;
  }
  write64(interrupter + 0x18, <u64>(eventRing + eventIndex * 16) | 8); // ERDP, clearing Event Handler Busy
}

/**
 * Waits for the event of `type` about the TRB at `trb`, dropping others
 * (port changes, late answers to requests that timed out); false on timeout.
 */
function waitEvent(type: u32, trb: u32): bool {
  const deadline = tscAfter(TIMEOUT_NS);
  while (rdtsc() < deadline) {
    const event = peekEvent();
    if (event == 0) continue;
    eventParameter = load<u64>(event);
    eventStatus = load<u32>(event + 8);
    eventControl = load<u32>(event + 12);
    consumeEvent();
    if ((eventControl >> 10 & 0x3f) == type && eventParameter == <u64>trb) return true;
  }
  return false;
}

@inline function completionCode(): u32 {
  return eventStatus >> 24;
}

/** Runs one command; true when it completed successfully (the slot it names is then in eventControl's top byte). */
function command(parameter: u64, control: u32): bool {
  const trb = enqueue(commandRing, parameter, 0, control);
  ringDoorbell(0, 0);
  return waitEvent(TRB_COMMAND_COMPLETION, trb) && completionCode() == COMPLETION_SUCCESS;
}

function pause(nanoseconds: u64): void {
  const until = tscAfter(nanoseconds);
  while (rdtsc() < until) {}
}

/** Waits until (register & mask) == value; false on timeout. */
function waitRegister(register: u64, mask: u32, value: u32): bool {
  const deadline = tscAfter(TIMEOUT_NS);
  while ((mmioRead32(register) & mask) != value) {
    if (rdtsc() > deadline) return false;
  }
  return true;
}

const BIOS_OWNED: u32 = 1 << 16;
const OS_OWNED: u32 = 1 << 24;
// USB legacy support control: keep the reserved bits, drop the SMI enables, clear the SMI events (write 1).
const LEGACY_KEEP: u32 = (0x7 << 1) | (0xff << 5) | (0x7 << 17);
const LEGACY_SMI_EVENTS: u32 = 0x7 << 29;

/**
 * Takes the controller from the firmware (USB legacy support capability),
 * if it holds it: asks, waits, and if the firmware does not answer, takes
 * it anyway and stops its SMIs, as Linux does.
 */
function takeFromFirmware(capabilities: u64, extended: u32, size: u64): void {
  let at = extended;
  while (at != 0 && <u64>at + 8 <= size) {
    const header = mmioRead32(capabilities + at);
    if ((header & 0xff) == 1) {
      mmioWrite32(capabilities + at, header | OS_OWNED);
      if (!waitRegister(capabilities + at, BIOS_OWNED, 0)) {
        mmioWrite32(capabilities + at, (mmioRead32(capabilities + at) & ~BIOS_OWNED) | OS_OWNED);
      }
      const control = capabilities + at + 4;
      mmioWrite32(control, (mmioRead32(control) & LEGACY_KEEP) | LEGACY_SMI_EVENTS);
      return;
    }
    const next = (header >> 8) & 0xff;
    at = next == 0 ? 0 : at + next * 4;
  }
}

// ---- devices ------------------------------------------------------------

@inline function contextAt(context: u32, index: u32): u32 {
  return context + index * contextSize;
}

/** The input context, cleared for the next command. */
function clearedInput(): u32 {
  memory.fill(input, 0, PAGE_SIZE);
  return input;
}

/** A control transfer on `slot`'s endpoint 0: setup, optional data stage IN into `buffer`, status. */
export function controlTransfer(ring: Ring, slot: u32, setup: u64, length: u32, buffer: u32): bool {
  const transferType: u32 = length == 0 ? 0 : 3; // no data, or IN
  enqueue(ring, setup, 8, (TRB_SETUP << 10) | IMMEDIATE | (transferType << 16));
  if (length != 0) enqueue(ring, buffer, length, (TRB_DATA << 10) | DIRECTION_IN);
  const status = enqueue(ring, 0, 0, (TRB_STATUS << 10) | IOC | (length == 0 ? DIRECTION_IN : 0));
  ringDoorbell(slot, 1);
  return waitEvent(TRB_TRANSFER_EVENT, status) && completionCode() == COMPLETION_SUCCESS;
}

/** Queues a transfer IN of up to `length` bytes into `buffer` on `slot`'s endpoint `dci`; its completion comes back through nextCompletedTransfer. */
export function queueTransferIn(ring: Ring, slot: u32, dci: u32, buffer: u32, length: u32): void {
  enqueue(ring, buffer, length, (TRB_NORMAL << 10) | SHORT_OK | IOC);
  ringDoorbell(slot, dci);
}

export let transferSucceeded = false;

/**
 * The buffer of the next transfer that completed on `slot`'s endpoint `dci` (0 when none
 * is waiting), dropping other events. transferSucceeded says whether data
 * arrived (a short packet counts: a report may be shorter than asked).
 */
export function nextCompletedTransfer(slot: u32, dci: u32): u32 {
  for (let trb = peekEvent(); trb != 0; trb = peekEvent()) {
    const control = load<u32>(trb + 12);
    const code = load<u32>(trb + 8) >> 24;
    const request = <u32>load<u64>(trb); // the TRB that completed: its parameter is the buffer
    consumeEvent();
    if ((control >> 10 & 0x3f) != TRB_TRANSFER_EVENT || control >> 24 != slot || (control >> 16 & 0x1f) != dci) continue;
    transferSucceeded = code == COMPLETION_SUCCESS || code == COMPLETION_SHORT_PACKET;
    return <u32>load<u64>(request);
  }
  return 0;
}

/** A setup packet: request type, request, value, index, length. */
export function setupPacket(requestType: u32, request: u32, value: u32, index: u32, length: u32): u64 {
  return <u64>requestType | (<u64>request << 8) | (<u64>value << 16) | (<u64>index << 32) | (<u64>length << 48);
}

/** Endpoint 0's packet size before the device descriptor is read: SuperSpeed 512, high speed 64, else 8. */
export function initialMaxPacket0(speed: u32): u32 {
  return speed >= 4 ? 512 : speed == 3 ? 64 : 8;
}

/** Enables a slot and addresses the device on `port` (1-based) through `ep0`; returns the slot, 0 on failure. */
export function addressDevice(port: u32, ep0: Ring): u32 {
  const speed = portSpeed(port);
  if (!command(0, TRB_ENABLE_SLOT << 10)) return 0;
  const slot = eventControl >> 24;
  if (slot == 0 || slot > MAX_SLOTS_USED) return 0;
  const output = newPage();
  if (output == 0 || !newRing(ep0)) return 0;
  store<u64>(deviceContexts + slot * 8, output);
  const input = clearedInput();
  store<u32>(contextAt(input, 0) + 4, 0b11); // add the slot and endpoint 0
  const slotContext = contextAt(input, 1);
  store<u32>(slotContext, (1 << 27) | (speed << 20)); // one context entry
  store<u32>(slotContext + 4, port << 16);
  writeEndpointContext(contextAt(input, 2), 4, initialMaxPacket0(speed), 0, ep0.base, 8);
  if (!command(input, (TRB_ADDRESS_DEVICE << 10) | (slot << 24))) return 0;
  pause(2000000); // SET_ADDRESS recovery (USB 2 9.2.6.3)
  return slot;
}

/**
 * Endpoint context: type (4 control, 7 interrupt IN), max packet size,
 * interval (xHCI's encoding), transfer ring, average TRB length.
 */
function writeEndpointContext(at: u32, type: u32, maxPacket: u32, interval: u32, ring: u32, averageLength: u32): void {
  store<u32>(at, interval << 16);
  store<u32>(at + 4, (3 << 1) | (type << 3) | (maxPacket << 16)); // three retries on errors
  store<u64>(at + 8, <u64>ring | 1); // dequeue pointer with cycle state 1
  store<u32>(at + 16, averageLength | (type == 7 ? maxPacket << 16 : 0));
}

/** Tells the controller endpoint 0's real max packet size (from the device descriptor). */
export function updateMaxPacket(slot: u32, maxPacket: u32, ep0: Ring): bool {
  const input = clearedInput();
  store<u32>(contextAt(input, 0) + 4, 0b10);
  writeEndpointContext(contextAt(input, 2), 4, maxPacket, 0, ep0.base, 8); // only the packet size is evaluated
  return command(input, (TRB_EVALUATE_CONTEXT << 10) | (slot << 24));
}

/** Adds an interrupt IN endpoint (device context index `dci`) to `slot`. */
export function configureInterruptEndpoint(slot: u32, port: u32, dci: u32, maxPacket: u32, interval: u32, ring: Ring): bool {
  if (!newRing(ring)) return false;
  const input = clearedInput();
  store<u32>(contextAt(input, 0) + 4, 1 | (1 << dci));
  const output = <u32>load<u64>(deviceContexts + slot * 8);
  const slotContext = contextAt(input, 1);
  store<u32>(slotContext, (load<u32>(output) & 0x00ffffff) | (dci << 27));
  store<u32>(slotContext + 4, port << 16);
  writeEndpointContext(contextAt(input, dci + 1), 7, maxPacket, interval, ring.base, maxPacket);
  return command(input, (TRB_CONFIGURE_ENDPOINT << 10) | (slot << 24));
}

// ---- the controller ---------------------------------------------------------

/** Why startXhci found no controller to use (null: there is none). */
export let xhciProblem: string | null = null;

/** Finds, resets and starts the first xHCI controller. Returns its port count, 0 if there is none or it failed. */
export function startXhci(): u32 {
  const location = findPciFunction(0x0c, 0x03, 0x30);
  if (location == NO_DEVICE) return 0;
  const base = pciMemoryBar(location, 0);
  const size = pciMemoryBar0Size(location);
  if (base == 0 || size == 0) {
    xhciProblem = "the xHCI controller's registers are not memory-mapped; not used";
    return 0;
  }
  if (!mapDeviceMemory(base, size)) return 0;
  pciEnableMemoryAndDma(location);
  const capabilities = base;
  if (mmioRead32(capabilities) == 0xffffffff) { // powered down (D3) or gone: every register reads as ones
    xhciProblem = "the xHCI controller does not answer; not used";
    return 0;
  }
  operational = capabilities + (mmioRead32(capabilities) & 0xff);
  doorbells = capabilities + (mmioRead32(capabilities + 0x14) & ~3);
  interrupter = capabilities + (mmioRead32(capabilities + 0x18) & ~0x1f) + 0x20;
  const structural1 = mmioRead32(capabilities + 4);
  const structural2 = mmioRead32(capabilities + 8);
  const features = mmioRead32(capabilities + 0x10);
  contextSize = (features & 4) != 0 ? 64 : 32;
  portCount = structural1 >> 24;
  takeFromFirmware(capabilities, (features >> 16) << 2, size);

  mmioWrite32(operational + USBCMD, mmioRead32(operational + USBCMD) & ~CMD_RUN);
  if (!waitRegister(operational + USBSTS, STS_HALTED, STS_HALTED)) return 0;
  mmioWrite32(operational + USBCMD, CMD_RESET);
  if (!waitRegister(operational + USBCMD, CMD_RESET, 0) || !waitRegister(operational + USBSTS, STS_NOT_READY, 0)) return 0;
  mmioWrite32(operational + CONFIG, min(structural1 & 0xff, MAX_SLOTS_USED));

  deviceContexts = newPage();
  eventRing = newPage();
  input = newPage();
  const segmentTable = newPage();
  if (deviceContexts == 0 || eventRing == 0 || input == 0 || segmentTable == 0 || !newRing(commandRing)) return 0;
  const scratchpads = ((structural2 >> 21) & 0x1f) << 5 | (structural2 >> 27);
  if (scratchpads != 0) { // pages the controller keeps for itself, listed in an array that slot 0 points to
    const array = allocPages(scratchpads > 512 ? 1 : 0, FrameState.KernelObject, true); // up to 1023 pointers
    if (array == 0) return 0;
    for (let i: u32 = 0; i < scratchpads; i++) {
      const page = newPage();
      if (page == 0) return 0;
      store<u64>(array + i * 8, page);
    }
    store<u64>(deviceContexts, array);
  }
  write64(operational + DCBAAP, deviceContexts);
  write64(operational + CRCR, <u64>commandRing.base | 1);
  store<u64>(segmentTable, eventRing);
  store<u32>(segmentTable + 8, TRBS_PER_RING);
  mmioWrite32(interrupter + 0x08, 1); // ERSTSZ: one segment
  write64(interrupter + 0x18, eventRing); // ERDP
  write64(interrupter + 0x10, segmentTable); // ERSTBA last: it starts the event ring
  mmioWrite32(operational + USBCMD, CMD_RUN);
  if (!waitRegister(operational + USBSTS, STS_HALTED, 0)) return 0;
  pause(100000000); // ports report their devices only after power-on settles (USB 2 asks 100 ms at most)
  return portCount;
}

/** The speed of the device on `port` (1-based): 1 full, 2 low, 3 high, 4 and up SuperSpeed. */
export function portSpeed(port: u32): u32 {
  return (mmioRead32(operational + PORTSC + (port - 1) * 0x10) >> 10) & 0xf;
}

/** Resets port `port` (1-based) if a device is connected to it; true when it is then enabled. */
export function resetPort(port: u32): bool {
  const register = operational + PORTSC + (port - 1) * 0x10;
  let status = mmioRead32(register);
  if ((status & PORT_POWER) == 0) { // ports under power control start unpowered
    mmioWrite32(register, (status & ~(PORT_ENABLED | PORT_CHANGE_BITS)) | PORT_POWER);
    pause(20000000);
    status = mmioRead32(register);
  }
  if ((status & PORT_CONNECTED) == 0) return false;
  if ((status & PORT_ENABLED) != 0) return true; // USB 3 ports enable themselves
  // Preserve the port's settings, clear no change bit by accident, and never write PORT_ENABLED (writing 1 disables).
  mmioWrite32(register, (status & ~(PORT_ENABLED | PORT_CHANGE_BITS)) | PORT_RESET);
  if (!waitRegister(register, PORT_RESET_CHANGE, PORT_RESET_CHANGE)) return false;
  mmioWrite32(register, (mmioRead32(register) & ~(PORT_ENABLED | PORT_CHANGE_BITS)) | PORT_RESET_CHANGE);
  if (!waitRegister(register, PORT_ENABLED, PORT_ENABLED)) return false;
  pause(10000000); // reset recovery before the first request (USB 2 7.1.7.5)
  return true;
}

