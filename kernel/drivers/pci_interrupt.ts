// A PCI function's interrupt: a message of its own (MSI-X, else MSI) when
// the function can send one and the local APIC is there to receive it,
// else its legacy INTx line, shared and level-triggered. A message needs no
// routing tables and is never shared, so a driver's handler runs only for
// its own device. `pci=nomsi` on the command line keeps every function on
// its line, as in Linux.
import {
  IrqHandler, LineKind, allocateMessageLine, messageAddress, messageData, registerIrqHandler, releaseMessageLine,
} from "../arch/x86_64/irq";
import { mmioRead32, mmioWrite32 } from "../arch/x86_64/cpu";
import { argumentEquals } from "../boot/cmdline";
import { mapDeviceMemory } from "../mm/kernel_map";
import { pciInterruptLine, pciMemoryBar, pciRead32, pciWrite32 } from "./pci";

const STATUS_CAPABILITIES: u32 = 1 << 20; // in the command/status word
const COMMAND_MEMORY: u32 = 1 << 1;
const COMMAND_INTX_DISABLE: u32 = 1 << 10;
const CAPABILITY_MSI: u32 = 0x05;
const CAPABILITY_MSIX: u32 = 0x11;

const MSI_ENABLE: u32 = 1 << 16; // message control is the upper half of the capability's first word
const MSI_MULTIPLE_ENABLE: u32 = 7 << 20;
const MSI_64_BIT: u32 = 1 << 23;
const MSIX_ENABLE: u32 = 1 << 31;
const MSIX_FUNCTION_MASK: u32 = 1 << 30;
const MSIX_ENTRY_BYTES: u32 = 16;
const MSIX_VECTOR_MASKED: u32 = 1;

export const enum PciInterrupt {
  None = 0,
  Line = 1,
  Msi = 2,
  MsiX = 3,
}

/** The config offset of capability `id` in the function's list, or 0. */
export function pciCapability(location: u32, id: u32): u32 {
  if ((pciRead32(location, 4) & STATUS_CAPABILITIES) == 0) return 0;
  let offset = pciRead32(location, 0x34) & 0xfc;
  // At most 48 capabilities fit in the 192 bytes after the header: a loop in a broken list ends.
  for (let steps = 0; offset >= 0x40 && steps < 48; steps++) {
    const word = pciRead32(location, offset);
    if ((word & 0xff) == id) return offset;
    offset = (word >> 8) & 0xfc;
  }
  return 0;
}

function disableLine(location: u32): void {
  pciWrite32(location, 4, (pciRead32(location, 4) & 0xffff) | COMMAND_INTX_DISABLE);
}

/** Entry 0 of the MSI-X table sends `line`; the other entries stay masked. */
function enableMsix(location: u32, capability: u32, line: u32): bool {
  const control = pciRead32(location, capability);
  const tableWord = pciRead32(location, capability + 4);
  const bar = pciMemoryBar(location, tableWord & 7);
  const entries = ((control >> 16) & 0x7ff) + 1;
  if (bar == 0) return false;
  const table = bar + <u64>(tableWord & ~7);
  if (!mapDeviceMemory(table, entries * MSIX_ENTRY_BYTES)) return false;
  pciWrite32(location, 4, (pciRead32(location, 4) & 0xffff) | COMMAND_MEMORY);
  // Enabled with the whole function masked while the table is written: no message can go out half-made.
  pciWrite32(location, capability, control | MSIX_ENABLE | MSIX_FUNCTION_MASK);
  for (let i: u32 = 0; i < entries; i++) {
    const entry = table + i * MSIX_ENTRY_BYTES;
    mmioWrite32(entry + 12, MSIX_VECTOR_MASKED);
    if (i != 0) continue;
    mmioWrite32(entry, messageAddress());
    mmioWrite32(entry + 4, 0);
    mmioWrite32(entry + 8, messageData(line));
    mmioWrite32(entry + 12, 0);
  }
  mmioRead32(table); // posted writes reach the device before the mask lifts
  disableLine(location);
  pciWrite32(location, capability, (control | MSIX_ENABLE) & ~MSIX_FUNCTION_MASK);
  return true;
}

/** One message (no multiple-message enable), to `line`. */
function enableMsi(location: u32, capability: u32, line: u32): void {
  const control = pciRead32(location, capability);
  pciWrite32(location, capability + 4, messageAddress());
  if ((control & MSI_64_BIT) != 0) {
    pciWrite32(location, capability + 8, 0);
    pciWrite32(location, capability + 12, (pciRead32(location, capability + 12) & 0xffff0000) | messageData(line));
  } else {
    pciWrite32(location, capability + 8, (pciRead32(location, capability + 8) & 0xffff0000) | messageData(line));
  }
  disableLine(location);
  pciWrite32(location, capability, (control & ~MSI_MULTIPLE_ENABLE) | MSI_ENABLE);
}

/**
 * Gives function `location` an interrupt that runs `handler(data)`, and
 * says which kind it got (a virtio device lays its registers out
 * differently under MSI-X); None when it has neither a message nor a line.
 */
export function requestPciInterrupt(location: u32, handler: IrqHandler, data: u32, name: string): PciInterrupt {
  if (!argumentEquals("pci", "nomsi")) {
    const msix = pciCapability(location, CAPABILITY_MSIX);
    const msi = msix != 0 ? 0 : pciCapability(location, CAPABILITY_MSI);
    if (msix != 0 || msi != 0) {
      const line = allocateMessageLine(handler, data, name, msix != 0 ? LineKind.MsiX : LineKind.Msi, location, 0);
      if (line >= 0) {
        if (msix != 0 && enableMsix(location, msix, <u32>line)) return PciInterrupt.MsiX;
        if (msi != 0) {
          enableMsi(location, msi, <u32>line);
          return PciInterrupt.Msi;
        }
        releaseMessageLine(<u32>line);
      }
    }
  }
  const irq = pciInterruptLine(location);
  return irq < 16 && registerIrqHandler(irq, handler, data, name) ? PciInterrupt.Line : PciInterrupt.None;
}
