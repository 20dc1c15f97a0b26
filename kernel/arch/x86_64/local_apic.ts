// The local APIC: where every interrupt of the IO-APIC and every PCI
// message (MSI) arrives, and where each one ends (the end-of-interrupt
// register). Only what routing through it needs: it is switched on with a
// spurious vector, its priority left open, its own timer unused (the PIT
// stays the clock), LINT0/LINT1 as the firmware set them.
import { mmioRead32, mmioWrite32, rdmsr } from "./cpu";

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_ENABLED: u64 = 1 << 11;
const APIC_BASE_ADDRESS_MASK: u64 = 0x000ffffffffff000;

const REG_ID: u32 = 0x20;
const REG_TASK_PRIORITY: u32 = 0x80;
const REG_END_OF_INTERRUPT: u32 = 0xb0;
const REG_SPURIOUS: u32 = 0xf0;
const SPURIOUS_APIC_ENABLED: u32 = 1 << 8;

/** Its registers' physical address; 0 while it is not in use. */
let registers: u64 = 0;

/**
 * Where its registers are: the base the CPU reports (IA32_APIC_BASE) wins
 * over the one an ACPI table gives, as firmware may have moved it and the
 * MSR is what the CPU decodes; 0 when the MSR says the APIC is disabled.
 */
export function localApicBase(tableAddress: u64): u64 {
  const base = rdmsr(IA32_APIC_BASE);
  if ((base & APIC_BASE_ENABLED) == 0) return 0;
  return (base & APIC_BASE_ADDRESS_MASK) != 0 ? base & APIC_BASE_ADDRESS_MASK : tableAddress;
}

/** Switches it on at `base` (already mapped uncached): from now on every interrupt ends here. */
export function enableLocalApic(base: u64, spuriousVector: u32): void {
  registers = base;
  mmioWrite32(registers + REG_TASK_PRIORITY, 0);
  mmioWrite32(registers + REG_SPURIOUS, SPURIOUS_APIC_ENABLED | spuriousVector);
}

@inline export function localApicInUse(): bool {
  return registers != 0;
}

/** The APIC ID of this CPU: where IO-APIC entries and MSI messages are sent. */
export function localApicId(): u32 {
  return mmioRead32(registers + REG_ID) >> 24;
}

export function localApicEndOfInterrupt(): void {
  mmioWrite32(registers + REG_END_OF_INTERRUPT, 0);
}
