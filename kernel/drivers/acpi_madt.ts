// ACPI's MADT ("APIC" table): where the local APIC and the IO-APICs are,
// and which ISA interrupts arrive on another IO-APIC pin than their own
// number, with what polarity and trigger. With it, interrupts go through
// the APICs (and PCI functions can send messages); without it, or with
// `noapic` on the command line, through the 8259s as on a PC of the 1980s.
import { addIoApic, ioApicsFound, overrideIsaRoute } from "../arch/x86_64/io_apic";
import { VECTOR_SPURIOUS } from "../arch/x86_64/irq";
import { enableLocalApic, localApicBase } from "../arch/x86_64/local_apic";
import { printf } from "../console/console";
import { mapDeviceMemory } from "../mm/kernel_map";
import { str } from "../lib/format";
import { findTable } from "./acpi";

const ENTRIES: u32 = 44; // after the header, the local APIC address and the flags
const ENTRY_IO_APIC: u32 = 1;
const ENTRY_OVERRIDE: u32 = 2;
const ENTRY_LOCAL_APIC_ADDRESS: u32 = 5;
const APIC_REGISTERS_BYTES: u64 = 4096;
const FOUR_GIB: u64 = 1 << 32;

/** Reads the MADT, maps and enables the APICs it lists; false (nothing changed) when there is no usable one. */
export function setUpApics(): bool {
  const madt = findTable(0x43495041); // "APIC"
  if (madt == 0) {
    printf("apic: no MADT; interrupts go through the 8259\n");
    return false;
  }
  const end = madt + load<u32>(madt + 4);
  let localAddress = <u64>load<u32>(madt + 36);
  let overrides: u32 = 0;
  // Overrides are recorded only once an IO-APIC is known to be usable: they mean nothing to the 8259.
  for (let at = madt + ENTRIES; at + 2 <= end; at += load<u8>(at + 1)) {
    const type = load<u8>(at);
    const length = load<u8>(at + 1);
    if (length < 2 || at + length > end) break;
    if (type == ENTRY_LOCAL_APIC_ADDRESS && length >= 12) localAddress = load<u64>(at + 4);
    if (type == ENTRY_IO_APIC && length >= 12) {
      const registers = <u64>load<u32>(at + 4);
      if (registers + APIC_REGISTERS_BYTES <= FOUR_GIB && mapDeviceMemory(registers, APIC_REGISTERS_BYTES)) {
        if (addIoApic(registers, load<u32>(at + 8))) printf("apic: IO-APIC %d at %x, from GSI %d\n", load<u8>(at + 2), <u32>registers, load<u32>(at + 8));
      }
    }
  }
  const base = localApicBase(localAddress);
  if (ioApicsFound() == 0 || base == 0 || base + APIC_REGISTERS_BYTES > FOUR_GIB || !mapDeviceMemory(base, APIC_REGISTERS_BYTES)) {
    printf("apic: %s; interrupts go through the 8259\n", str(ioApicsFound() == 0 ? "no usable IO-APIC" : "the local APIC is off"));
    return false;
  }
  for (let at = madt + ENTRIES; at + 2 <= end; at += load<u8>(at + 1)) {
    const length = load<u8>(at + 1);
    if (length < 2 || at + length > end) break;
    // Bus 0 is ISA, the only bus overrides are defined for.
    if (load<u8>(at) == ENTRY_OVERRIDE && length >= 10 && load<u8>(at + 2) == 0) {
      overrideIsaRoute(load<u8>(at + 3), load<u32>(at + 4), load<u16>(at + 8));
      overrides++;
    }
  }
  enableLocalApic(base, VECTOR_SPURIOUS);
  printf("apic: local APIC at %x, %d interrupt overrides\n", <u32>base, overrides);
  return true;
}
