// Interrupt lines: what trap.ts sees as vector 32 + line. Lines 0..15 are
// the legacy ones (ISA devices, and the PCI INTx line a function's config
// names at 0x3c), through the 8259s or, when ACPI lists an IO-APIC, through
// it; lines 16..46 carry PCI messages (MSI, MSI-X), which need the local
// APIC. Drivers register handlers; a legacy PCI line is level-triggered and
// may be shared (virtio and AHCI often land on one), so each handler
// checks its own device and says nothing when the interrupt was not its
// own. Every line counts its interrupts for /proc/interrupts.
import { FLAGS_POLARITY_HIGH, FLAGS_POLARITY_LOW, FLAGS_TRIGGER_EDGE, FLAGS_TRIGGER_LEVEL, isaFlags, isaGsi, routeGsi } from "./io_apic";
import { localApicEndOfInterrupt, localApicId, localApicInUse } from "./local_apic";
import { IRQ_BASE, picEndOfInterrupt, unmaskPicLine } from "./pic";

export const LEGACY_LINES: u32 = 16;
export const IRQ_LINES: u32 = 47;
/** The local APIC's spurious vector: its low four bits must be ones on older CPUs, and no line uses it. */
export const VECTOR_SPURIOUS: u32 = IRQ_BASE + IRQ_LINES;
const HANDLERS_PER_LINE: u32 = 4;

export const enum LineKind {
  Unused = 0,
  Isa = 1, // edge-triggered, one device
  PciLegacy = 2, // level-triggered INTx, maybe shared
  Msi = 3,
  MsiX = 4,
}

/**
 * Per line, 24 bytes: 0 count(u64)  8 reserved  12 kind(u8)  13 reserved  14 source(u16: the GSI, or for a message the
 * entry number in its function)  16 device (a message's PCI function)  20 reserved
 */
const LINE_RECORD: u32 = 24;
const lines = memory.data(IRQ_LINES * LINE_RECORD, 8);
const handlers = memory.data(IRQ_LINES * HANDLERS_PER_LINE * 4, 4);
const handlerData = memory.data(IRQ_LINES * HANDLERS_PER_LINE * 4, 4);
/** Each handler's driver name (a string); an ISA line, served by trap.ts, has only the name. */
const handlerNames = memory.data(IRQ_LINES * HANDLERS_PER_LINE * 4, 4);
let apicRouting = false;
let spurious: u64 = 0;
let destination: u32 = 0;

/** Called with the word given at registration (the driver's device record). */
export type IrqHandler = (data: u32) => void;

/** From now on legacy lines go through the IO-APIC and every interrupt ends at the local APIC (enabled first). */
export function routeThroughApic(): void {
  apicRouting = localApicInUse();
  if (apicRouting) destination = localApicId();
}

@inline export function apicRoutingInUse(): bool {
  return apicRouting;
}

@inline function lineRecord(line: u32): u32 {
  return <u32>lines + line * LINE_RECORD;
}

function claimLine(line: u32, kind: LineKind, source: u32, device: u32): void {
  const record = lineRecord(line);
  if (load<u8>(record + 12) != <u8>LineKind.Unused) return;
  store<u8>(record + 12, <u8>kind);
  store<u16>(record + 14, <u16>source);
  store<u32>(record + 16, device);
}

/** Opens legacy line `irq` with `busFlags` as its polarity and trigger unless the MADT overrides them. */
function openLegacyLine(irq: u32, busFlags: u32): bool {
  if (!apicRouting) {
    unmaskPicLine(irq);
    return true;
  }
  return routeGsi(isaGsi(irq), IRQ_BASE + irq, destination, isaFlags(irq), busFlags);
}

/** An ISA device's line (the timer, the keyboard, the serial port), which trap.ts serves itself. */
export function openIsaLine(irq: u32, name: string): bool {
  claimLine(irq, LineKind.Isa, apicRouting ? isaGsi(irq) : irq, 0);
  store<u32>(handlerNames + irq * HANDLERS_PER_LINE * 4, changetype<u32>(name));
  return openLegacyLine(irq, FLAGS_POLARITY_HIGH | FLAGS_TRIGGER_EDGE);
}

function addHandler(line: u32, handler: IrqHandler, data: u32, name: string): bool {
  for (let i: u32 = 0; i < HANDLERS_PER_LINE; i++) {
    const slot = (line * HANDLERS_PER_LINE + i) * 4;
    if (load<u32>(handlers + slot) != 0) continue;
    store<u32>(handlers + slot, changetype<u32>(handler));
    store<u32>(handlerData + slot, data);
    store<u32>(handlerNames + slot, changetype<u32>(name));
    return true;
  }
  return false;
}

/** Adds `handler` to PCI legacy line `irq` and opens the line; false if the line is out of range, full or unroutable. */
export function registerIrqHandler(irq: u32, handler: IrqHandler, data: u32, name: string): bool {
  if (irq >= LEGACY_LINES || !addHandler(irq, handler, data, name)) return false;
  claimLine(irq, LineKind.PciLegacy, apicRouting ? isaGsi(irq) : irq, 0);
  // PCI's own signalling is level-triggered, active low.
  return openLegacyLine(irq, FLAGS_POLARITY_LOW | FLAGS_TRIGGER_LEVEL);
}

/**
 * A message line of its own for `handler`; the line, or -1 when the local
 * APIC is not in use or every message line is taken. `device` (the PCI
 * function) and `entry` (the message's number in it) are for /proc/interrupts.
 */
export function allocateMessageLine(handler: IrqHandler, data: u32, name: string, kind: LineKind, device: u32, entry: u32): i32 {
  if (!apicRouting) return -1;
  for (let line = LEGACY_LINES; line < IRQ_LINES; line++) {
    if (load<u8>(lineRecord(line) + 12) != <u8>LineKind.Unused) continue;
    addHandler(line, handler, data, name);
    claimLine(line, kind, entry, device);
    return <i32>line;
  }
  return -1;
}

/** Gives back a line allocateMessageLine gave, before any message was enabled on it. */
export function releaseMessageLine(line: u32): void {
  memory.fill(lineRecord(line), 0, LINE_RECORD);
  memory.fill(handlers + line * HANDLERS_PER_LINE * 4, 0, HANDLERS_PER_LINE * 4);
  memory.fill(handlerNames + line * HANDLERS_PER_LINE * 4, 0, HANDLERS_PER_LINE * 4);
}

/** The address a PCI function writes to raise an interrupt message (fixed delivery to this CPU). */
export function messageAddress(): u32 {
  return 0xfee00000 | (destination << 12);
}

/** The data it writes for `line`: the vector, edge-triggered, fixed delivery. */
export function messageData(line: u32): u32 {
  return IRQ_BASE + line;
}

/** Runs every handler of `line`; false when none is registered. */
export function runIrqHandlers(line: u32): bool {
  let ran = false;
  for (let i: u32 = 0; i < HANDLERS_PER_LINE; i++) {
    const slot = (line * HANDLERS_PER_LINE + i) * 4;
    const handler = load<u32>(handlers + slot);
    if (handler == 0) break;
    changetype<IrqHandler>(handler)(load<u32>(handlerData + slot));
    ran = true;
  }
  return ran;
}

@inline export function countInterrupt(line: u32): void {
  const record = lineRecord(line);
  store<u64>(record, load<u64>(record) + 1);
}

export function countSpuriousInterrupt(): void {
  spurious++;
}

export function spuriousInterrupts(): u64 {
  return spurious;
}

export function endOfInterrupt(line: u32): void {
  if (apicRouting) localApicEndOfInterrupt();
  else picEndOfInterrupt(line);
}

export function lineKind(line: u32): LineKind {
  return <LineKind>load<u8>(lineRecord(line) + 12);
}

export function lineCount(line: u32): u64 {
  return load<u64>(lineRecord(line));
}

/** The name of the line's `index`th driver; null past the last. */
export function lineName(line: u32, index: u32): string | null {
  if (index >= HANDLERS_PER_LINE) return null;
  const name = load<u32>(handlerNames + (line * HANDLERS_PER_LINE + index) * 4);
  return name == 0 ? null : changetype<string>(name);
}

export function lineSource(line: u32): u32 {
  return load<u16>(lineRecord(line) + 14);
}

export function lineDevice(line: u32): u32 {
  return load<u32>(lineRecord(line) + 16);
}
