// The global descriptor table and the task-state segment. Segment order
// follows what syscall/sysret will need: STAR's user base 0x18 makes sysret
// load SS = 0x20 and CS = 0x28.
import { DIRECT_MAP, LayoutItem, layout, loadGdt, loadTaskRegister, reloadSegments } from "./cpu";

export const KERNEL_CODE: u32 = 0x08;
export const KERNEL_DATA: u32 = 0x10;
export const USER_CODE32: u32 = 0x18;
export const USER_DATA: u32 = 0x20 | 3;
export const USER_CODE: u32 = 0x28 | 3;
export const TSS_SELECTOR: u32 = 0x30;

export const IST_DOUBLE_FAULT: u32 = 1;
export const IST_NMI: u32 = 2;

const ENTRY_COUNT: u32 = 8; // six segments, then the TSS's two slots
const gdt = memory.data(ENTRY_COUNT * 8, 16);

/**
 * The 64-bit TSS: only the stack pointers matter in long mode.
 *
 *   0 reserved(u32)  4 rsp0  12 rsp1  20 rsp2  28 reserved(u64)
 *  36 ist1 .. 84 ist7 (u64 each)  92 reserved(u64)  100 reserved(u16)
 * 102 ioMapBase(u16)   -- 104 bytes; u64 fields are unaligned by design
 */
const TSS_SIZE: u32 = 104;
const tss = memory.data(TSS_SIZE, 16);

const ACCESSED_PRESENT_DPL0_CODE: u64 = 0x9a;
const ACCESSED_PRESENT_DPL0_DATA: u64 = 0x92;
const ACCESSED_PRESENT_DPL3_CODE: u64 = 0xfa;
const ACCESSED_PRESENT_DPL3_DATA: u64 = 0xf2;
const LONG_MODE: u64 = 1 << 53;
const GRANULARITY_4K_32BIT: u64 = (1 << 55) | (1 << 54);

function segment(access: u64, flags: u64): u64 {
  return 0xffff | (access << 40) | (0xf << 48) | flags;
}

export function setKernelStack(top: u64): void {
  store<u64>(tss + 4, top);
}

function setInterruptStack(index: u32, top: u64): void {
  store<u64>(tss + 36 + (index - 1) * 8, top);
}

export function installGdt(): void {
  store<u64>(gdt, 0);
  store<u64>(gdt + 8, segment(ACCESSED_PRESENT_DPL0_CODE, LONG_MODE));
  store<u64>(gdt + 16, segment(ACCESSED_PRESENT_DPL0_DATA, GRANULARITY_4K_32BIT));
  store<u64>(gdt + 24, segment(ACCESSED_PRESENT_DPL3_CODE, GRANULARITY_4K_32BIT));
  store<u64>(gdt + 32, segment(ACCESSED_PRESENT_DPL3_DATA, GRANULARITY_4K_32BIT));
  store<u64>(gdt + 40, segment(ACCESSED_PRESENT_DPL3_CODE, LONG_MODE));

  memory.fill(tss, 0, TSS_SIZE);
  store<u16>(tss + 102, <u16>TSS_SIZE); // no I/O permission bitmap
  setKernelStack(layout(LayoutItem.BootStackTop));
  setInterruptStack(IST_DOUBLE_FAULT, layout(LayoutItem.DoubleFaultStackTop));
  setInterruptStack(IST_NMI, layout(LayoutItem.NmiStackTop));

  // A system descriptor takes two slots: base bits 0..23 and 24..31 in the
  // first, bits 32..63 in the second; type 9 = available 64-bit TSS.
  const base: u64 = DIRECT_MAP + <u64>tss;
  const limit: u64 = <u64>TSS_SIZE - 1;
  const low = (limit & 0xffff) | ((base & 0xffffff) << 16) | (<u64>0x89 << 40) |
    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  store<u64>(gdt + TSS_SELECTOR, low);
  store<u64>(gdt + TSS_SELECTOR + 8, base >> 32);

  loadGdt(<u32>gdt, ENTRY_COUNT * 8 - 1);
  reloadSegments(KERNEL_CODE, KERNEL_DATA);
  loadTaskRegister(TSS_SELECTOR);
}
