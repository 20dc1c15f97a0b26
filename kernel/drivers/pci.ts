// PCI configuration space through the legacy I/O ports (0xcf8 address,
// 0xcfc data), which every PC chipset still decodes: enough to find a
// device by class and to read and enable its memory BAR.
import { inl, outl } from "../arch/x86_64/cpu";

const CONFIG_ADDRESS: u32 = 0xcf8;
const CONFIG_DATA: u32 = 0xcfc;
export const NO_DEVICE: u32 = 0xffffffff;

const COMMAND_IO: u32 = 1 << 0;
const COMMAND_MEMORY: u32 = 1 << 1;
const COMMAND_BUS_MASTER: u32 = 1 << 2;

/** A device function is known by (bus << 16) | (device << 11) | (function << 8), the address bits it is selected by. */
@inline function select(location: u32, offset: u32): void {
  outl(CONFIG_ADDRESS, 0x80000000 | location | (offset & 0xfc));
}

export function pciRead32(location: u32, offset: u32): u32 {
  select(location, offset);
  return inl(CONFIG_DATA);
}

export function pciWrite32(location: u32, offset: u32, value: u32): void {
  select(location, offset);
  outl(CONFIG_DATA, value);
}

/**
 * The first function whose class, subclass and programming interface
 * match (config offset 8, bits 31..8), searching bus `bus` and the buses
 * behind its PCI-to-PCI bridges; NO_DEVICE if none.
 */
export function findPciFunction(classCode: u32, subclass: u32, programming: u32, bus: u32 = 0): u32 {
  const wanted = (classCode << 16) | (subclass << 8) | programming;
  for (let device: u32 = 0; device < 32; device++) {
    for (let fn: u32 = 0; fn < 8; fn++) {
      const location = (bus << 16) | (device << 11) | (fn << 8);
      if ((pciRead32(location, 0) & 0xffff) == 0xffff) {
        if (fn == 0) break; // no device here at all
        continue;
      }
      const classWord = pciRead32(location, 8) >> 8;
      if (classWord == wanted) return location;
      if (classWord >> 8 == 0x0604) { // a PCI-to-PCI bridge: search its secondary bus
        const secondary = (pciRead32(location, 0x18) >> 8) & 0xff;
        if (secondary > bus) {
          const found = findPciFunction(classCode, subclass, programming, secondary);
          if (found != NO_DEVICE) return found;
        }
      }
      if (fn == 0 && (pciRead32(location, 0x0c) & 0x00800000) == 0) break; // single-function device
    }
  }
  return NO_DEVICE;
}

/** Calls `visit(location)` for every function on bus `bus` and the buses behind its bridges, in bus order. */
export function forEachPciFunction(visit: (location: u32) => void, bus: u32 = 0): void {
  for (let device: u32 = 0; device < 32; device++) {
    for (let fn: u32 = 0; fn < 8; fn++) {
      const location = (bus << 16) | (device << 11) | (fn << 8);
      if ((pciRead32(location, 0) & 0xffff) == 0xffff) {
        if (fn == 0) break;
        continue;
      }
      visit(location);
      if (pciRead32(location, 8) >> 16 == 0x0604) { // a PCI-to-PCI bridge
        const secondary = (pciRead32(location, 0x18) >> 8) & 0xff;
        if (secondary > bus) forEachPciFunction(visit, secondary);
      }
      if (fn == 0 && (pciRead32(location, 0x0c) & 0x00800000) == 0) break;
    }
  }
}

/** The legacy interrupt line the firmware routed the function to (config 0x3c), 0xff if none. */
export function pciInterruptLine(location: u32): u32 {
  return pciRead32(location, 0x3c) & 0xff;
}

/** Base of I/O-port BAR `bar` (0..5), or 0 if that BAR is not an I/O BAR. */
export function pciIoBar(location: u32, bar: u32): u32 {
  const value = pciRead32(location, 0x10 + bar * 4);
  return (value & 1) != 0 ? value & 0xfffc : 0;
}

/** Lets the device answer I/O-port accesses and master the bus (DMA). */
export function pciEnableIoAndDma(location: u32): void {
  pciWrite32(location, 4, (pciRead32(location, 4) & 0xffff) | COMMAND_IO | COMMAND_BUS_MASTER);
}

/**
 * Size in bytes of memory BAR 0, found by writing all ones and reading
 * back, with memory decoding off meanwhile so that nothing (firmware SMM
 * code still driving the device, say) reaches the BAR while it moves.
 */
export function pciMemoryBar0Size(location: u32): u64 {
  const command = pciRead32(location, 4) & 0xffff;
  pciWrite32(location, 4, command & ~COMMAND_MEMORY);
  const saved = pciRead32(location, 0x10);
  pciWrite32(location, 0x10, 0xffffffff);
  const mask = pciRead32(location, 0x10) & 0xfffffff0;
  pciWrite32(location, 0x10, saved);
  pciWrite32(location, 4, command);
  return mask == 0 ? 0 : <u64>(~mask) + 1;
}

/** Physical address of memory BAR `bar` (0..5, 32- or 64-bit); 0 if it is an I/O BAR or out of range. */
export function pciMemoryBar(location: u32, bar: u32): u64 {
  if (bar > 5) return 0;
  const low = pciRead32(location, 0x10 + bar * 4);
  if ((low & 1) != 0) return 0;
  let address = <u64>(low & 0xfffffff0);
  if (((low >> 1) & 3) == 2 && bar < 5) address |= <u64>pciRead32(location, 0x14 + bar * 4) << 32;
  return address;
}

/** Lets the device answer memory accesses and master the bus (DMA). */
export function pciEnableMemoryAndDma(location: u32): void {
  pciWrite32(location, 4, (pciRead32(location, 4) & 0xffff) | COMMAND_MEMORY | COMMAND_BUS_MASTER);
}

/** Physical base of 32-bit memory BAR `bar` (0..5), or 0 if it is an I/O BAR or a 64-bit one. */
export function pciMemoryBar32(location: u32, bar: u32): u32 {
  const value = pciRead32(location, 0x10 + bar * 4);
  return (value & 1) == 0 && ((value >> 1) & 3) == 0 ? value & 0xfffffff0 : 0;
}
