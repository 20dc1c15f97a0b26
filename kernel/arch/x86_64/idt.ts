// The interrupt descriptor table: the 32 CPU exception vectors, the 47
// interrupt lines (32..78: legacy lines, then PCI messages) and the local
// APIC's spurious vector (79), each to its stub in traps.asm, all of which
// end in the TypeScript trap handler.
import { loadIdt, trapStub } from "./cpu";
import { IST_DOUBLE_FAULT, IST_NMI, KERNEL_CODE } from "./gdt";
import { VECTOR_SPURIOUS } from "./irq";

const VECTORS: u32 = 256;
const idt = memory.data(VECTORS * 16, 16);

const STUB_COUNT: u32 = VECTOR_SPURIOUS + 1; // traps.asm's VECTORS
const VECTOR_NMI: u32 = 2;
const VECTOR_DOUBLE_FAULT: u32 = 8;
const VECTOR_BREAKPOINT: u32 = 3;
const VECTOR_OVERFLOW: u32 = 4;
const INTERRUPT_GATE_DPL0: u64 = 0x8e;
// int3 and into are instructions user code may use (the debugger's breakpoint): their gates allow ring 3.
const INTERRUPT_GATE_DPL3: u64 = 0xee;

/**
 * An interrupt gate, 16 bytes:
 *   0 offset 0..15 | 2 selector | 4 ist(3 bits) | 5 type/attributes
 *   6 offset 16..31 | 8 offset 32..63 | 12 reserved
 */
function setGate(vector: u32, handler: u64, ist: u32): void {
  const entry = idt + vector * 16;
  const attributes = vector == VECTOR_BREAKPOINT || vector == VECTOR_OVERFLOW ? INTERRUPT_GATE_DPL3 : INTERRUPT_GATE_DPL0;
  const low = (handler & 0xffff) | (<u64>KERNEL_CODE << 16) | (<u64>ist << 32) |
    (attributes << 40) | (((handler >> 16) & 0xffff) << 48);
  store<u64>(entry, low);
  store<u64>(entry + 8, handler >> 32);
}

export function installIdt(): void {
  memory.fill(idt, 0, VECTORS * 16);
  for (let v: u32 = 0; v < STUB_COUNT; v++) {
    const ist = v == VECTOR_DOUBLE_FAULT ? IST_DOUBLE_FAULT : v == VECTOR_NMI ? IST_NMI : 0;
    setGate(v, trapStub(v), ist);
  }
  loadIdt(<u32>idt, VECTORS * 16 - 1);
}
