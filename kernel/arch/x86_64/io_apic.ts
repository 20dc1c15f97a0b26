// IO-APICs: each has a window of two registers (select, data) and a
// redirection entry per input pin. Pins are numbered machine-wide as
// global system interrupts (GSIs): an IO-APIC takes `pinCount` of them from
// its base. ISA interrupts 0..15 arrive on the GSIs of the same numbers
// unless ACPI's MADT says otherwise (an override: the PIT's IRQ 0 is
// usually GSI 2), with the polarity and trigger the override names.
import { mmioRead32, mmioWrite32 } from "./cpu";

const REG_SELECT: u32 = 0x00;
const REG_WINDOW: u32 = 0x10;
const REG_VERSION: u32 = 0x01;
const REG_REDIRECTION: u32 = 0x10; // two registers per pin: low word, then high word

const ENTRY_ACTIVE_LOW: u32 = 1 << 13;
const ENTRY_LEVEL: u32 = 1 << 15;
const ENTRY_MASKED: u32 = 1 << 16;

/** MADT interrupt flags: polarity in bits 0..1, trigger in bits 2..3 (0 = the bus's own). */
export const FLAGS_POLARITY_HIGH: u32 = 1;
export const FLAGS_POLARITY_LOW: u32 = 3;
export const FLAGS_TRIGGER_EDGE: u32 = 1 << 2;
export const FLAGS_TRIGGER_LEVEL: u32 = 3 << 2;

const MAX_IO_APICS: u32 = 8;
/** Per IO-APIC, 16 bytes: 0 registers(u64, physical)  8 gsiBase  12 pinCount */
const ioApics = memory.data(MAX_IO_APICS * 16, 8);
let ioApicCount: u32 = 0;

/** Per ISA interrupt, 8 bytes: 0 gsi  4 flags (MADT's); identity and 0 without an override. */
const isaRoutes = memory.data(16 * 8, 4);
let isaRoutesReset = false;

function resetIsaRoutes(): void {
  for (let irq: u32 = 0; irq < 16; irq++) {
    store<u32>(isaRoutes + irq * 8, irq);
    store<u32>(isaRoutes + irq * 8 + 4, 0);
  }
  isaRoutesReset = true;
}

@inline function readRegister(registers: u64, index: u32): u32 {
  mmioWrite32(registers + REG_SELECT, index);
  return mmioRead32(registers + REG_WINDOW);
}

@inline function writeRegister(registers: u64, index: u32, value: u32): void {
  mmioWrite32(registers + REG_SELECT, index);
  mmioWrite32(registers + REG_WINDOW, value);
}

/** Records an IO-APIC (its registers mapped uncached) and masks all its pins; false when the table is full. */
export function addIoApic(registers: u64, gsiBase: u32): bool {
  if (ioApicCount == MAX_IO_APICS) return false;
  if (!isaRoutesReset) resetIsaRoutes();
  const pinCount = ((readRegister(registers, REG_VERSION) >> 16) & 0xff) + 1;
  const record = ioApics + ioApicCount * 16;
  store<u64>(record, registers);
  store<u32>(record + 8, gsiBase);
  store<u32>(record + 12, pinCount);
  ioApicCount++;
  for (let pin: u32 = 0; pin < pinCount; pin++) writeRegister(registers, REG_REDIRECTION + pin * 2, ENTRY_MASKED);
  return true;
}

export function ioApicsFound(): u32 {
  return ioApicCount;
}

/** An MADT interrupt source override: ISA interrupt `irq` arrives on `gsi` with `flags`. */
export function overrideIsaRoute(irq: u32, gsi: u32, flags: u32): void {
  if (irq >= 16) return;
  if (!isaRoutesReset) resetIsaRoutes();
  store<u32>(isaRoutes + irq * 8, gsi);
  store<u32>(isaRoutes + irq * 8 + 4, flags);
}

export function isaGsi(irq: u32): u32 {
  return load<u32>(isaRoutes + irq * 8);
}

export function isaFlags(irq: u32): u32 {
  return load<u32>(isaRoutes + irq * 8 + 4);
}

/** The IO-APIC record holding `gsi`, or 0. */
function ioApicOf(gsi: u32): u32 {
  for (let i: u32 = 0; i < ioApicCount; i++) {
    const record = <u32>ioApics + i * 16;
    const base = load<u32>(record + 8);
    if (gsi >= base && gsi < base + load<u32>(record + 12)) return record;
  }
  return 0;
}

/**
 * Sends `gsi` to `vector` on the CPU with APIC ID `destination`, fixed
 * delivery, unmasked; `flags` as the MADT gives them, where 0 ("as the bus
 * does") means `busFlags`. False when no IO-APIC has that pin.
 */
export function routeGsi(gsi: u32, vector: u32, destination: u32, flags: u32, busFlags: u32): bool {
  const record = ioApicOf(gsi);
  if (record == 0) return false;
  const registers = load<u64>(record);
  const pin = gsi - load<u32>(record + 8);
  let polarity = flags & 3;
  if (polarity == 0) polarity = busFlags & 3;
  let trigger = flags & (3 << 2);
  if (trigger == 0) trigger = busFlags & (3 << 2);
  let low = vector & 0xff;
  if (polarity == FLAGS_POLARITY_LOW) low |= ENTRY_ACTIVE_LOW;
  if (trigger == FLAGS_TRIGGER_LEVEL) low |= ENTRY_LEVEL;
  // Masked while the entry changes: a half-written entry must not deliver.
  writeRegister(registers, REG_REDIRECTION + pin * 2, ENTRY_MASKED);
  writeRegister(registers, REG_REDIRECTION + pin * 2 + 1, destination << 24);
  writeRegister(registers, REG_REDIRECTION + pin * 2, low);
  return true;
}

/** Whether `gsi`'s entry is level-triggered (for /proc/interrupts). */
export function gsiIsLevel(gsi: u32): bool {
  const record = ioApicOf(gsi);
  if (record == 0) return false;
  return (readRegister(load<u64>(record), REG_REDIRECTION + (gsi - load<u32>(record + 8)) * 2) & ENTRY_LEVEL) != 0;
}
