// CPU instructions, provided by the native side (intrinsics.c, traps.asm).
// Addresses passed as u32 are linear-memory (physical) addresses.

@external("env", "cpu_inb") export declare function inb(port: u32): u32;
@external("env", "cpu_outb") export declare function outb(port: u32, value: u32): void;
@external("env", "cpu_inw") export declare function inw(port: u32): u32;
@external("env", "cpu_outw") export declare function outw(port: u32, value: u32): void;
@external("env", "cpu_inl") export declare function inl(port: u32): u32;
@external("env", "cpu_outl") export declare function outl(port: u32, value: u32): void;

@external("env", "cpu_read_cr0") export declare function readCr0(): u64;
@external("env", "cpu_read_cr2") export declare function readCr2(): u64;
@external("env", "cpu_read_cr3") export declare function readCr3(): u64;
@external("env", "cpu_read_cr4") export declare function readCr4(): u64;
@external("env", "cpu_write_cr0") export declare function writeCr0(value: u64): void;
@external("env", "cpu_write_cr3") export declare function writeCr3(value: u64): void;
@external("env", "cpu_write_cr4") export declare function writeCr4(value: u64): void;

@external("env", "cpu_rdmsr") export declare function rdmsr(msr: u32): u64;
@external("env", "cpu_wrmsr") export declare function wrmsr(msr: u32, value: u64): void;
@external("env", "cpu_invlpg") export declare function invlpg(virtualAddress: u64): void;
@external("env", "cpu_rdtsc") export declare function rdtsc(): u64;
/** RDRAND: writes a random u64 at `out` and returns 1, or returns 0 when none was ready (only if CPUID.1:ECX.RDRAND). */
@external("env", "cpu_rdrand") export declare function rdrand(out: u32): u32;
/** Writes EAX, EBX, ECX, EDX as four u32 at `out`. */
@external("env", "cpu_cpuid") export declare function cpuid(leaf: u32, subleaf: u32, out: u32): void;

@external("env", "cpu_halt") export declare function halt(): void;
@external("env", "cpu_disable_interrupts") export declare function disableInterrupts(): void;
@external("env", "cpu_enable_interrupts") export declare function enableInterrupts(): void;
@external("env", "cpu_read_flags") export declare function readFlags(): u64;
/** A 32-bit device register at a physical address (mapped with mapDeviceMemory), which may lie above 4 GiB. */
@external("env", "mmio_read32") export declare function mmioRead32(physical: u64): u32;
@external("env", "mmio_write32") export declare function mmioWrite32(physical: u64, value: u32): void;
/** A full fence (mfence) that the compiler does not move memory accesses across: before telling a device to read what was written. */
@external("env", "cpu_memory_barrier") export declare function memoryBarrier(): void;

@external("env", "cpu_load_gdt") export declare function loadGdt(table: u32, limit: u32): void;
@external("env", "cpu_load_idt") export declare function loadIdt(table: u32, limit: u32): void;
@external("env", "cpu_load_task_register") export declare function loadTaskRegister(selector: u32): void;
@external("env", "cpu_reload_segments") export declare function reloadSegments(code: u32, data: u32): void;

@external("env", "cpu_idle") export declare function idle(): void;
@external("env", "cpu_fxsave") export declare function fxsave(area: u32): void;
@external("env", "cpu_fxrstor") export declare function fxrstor(area: u32): void;
/** Saves callee-saved registers and RSP at linear `saveSlot`, resumes the context at `nextRsp`. */
@external("env", "arch_switch") export declare function switchContext(saveSlot: u32, nextRsp: u64): void;
@external("env", "arch_set_syscall_stack") export declare function setSyscallStack(top: u64): void;

/** Virtual address of the entry stub for exception `vector` (0..31). */
@external("env", "arch_trap_stub") export declare function trapStub(vector: u32): u64;
@external("env", "arch_layout") export declare function layout(item: LayoutItem): u64;
/** Reports `vector` with the caller's registers as a trap frame; never returns. */
@external("env", "arch_raise") export declare function raise(vector: u64, code: u64): void;

@external("env", "arch_selftest_divide") export declare function selftestDivide(dividend: u32, divisor: u32): u32;
@external("env", "arch_selftest_invalid_opcode") export declare function selftestInvalidOpcode(): void;
@external("env", "arch_selftest_call") export declare function selftestCall(virtualAddress: u64): void;
@external("env", "arch_selftest_write") export declare function selftestWrite(virtualAddress: u64): void;

/** Fill the 4 KiB page at physical `page` with zeros (page_ops.asm). */
@external("env", "mm_zero_page") export declare function zeroPage(page: u32): void;
/** Copy the 4 KiB page at physical `from` to `to` (page_ops.asm). */
@external("env", "mm_copy_page") export declare function copyPage(to: u32, from: u32): void;
/** The same two with rep stosq / rep movsq, for comparison. */
@external("env", "mm_zero_page_rep") export declare function zeroPageRep(page: u32): void;
@external("env", "mm_copy_page_rep") export declare function copyPageRep(to: u32, from: u32): void;

/** What the linker placed where (arch_layout in intrinsics.c). */
export const enum LayoutItem {
  KernelPhysStart = 0,
  KernelPhysEnd = 1,
  TextStart = 2,
  TextEnd = 3,
  BootStackGuard = 4,
  BootStackTop = 5,
  DoubleFaultStackGuard = 6,
  DoubleFaultStackTop = 7,
  NmiStackGuard = 8,
  NmiStackTop = 9,
  RodataStart = 10,
  RodataEnd = 11,
  DataStart = 12,
  KernelEnd = 13,
  SyscallEntry = 14,
  TrapReturn = 15,
  VdsoImageStart = 16, // physical, page-aligned
  VdsoImageEnd = 17, // physical
  KernelThreadEntry = 18, // where a new kernel thread's first switch returns to (entry.c)
}

export const KERNEL_VMA: u64 = 0xffffffff80000000;
/** Kernel stacks: the 16 KiB stack at physical p is mapped at KERNEL_STACKS + 2p (arch.h). */
export const KERNEL_STACKS: u64 = 0xffffff8000000000;
export const KERNEL_STACK_SLOT: u64 = 0x8000;
export const DIRECT_MAP: u64 = 0xffff800000000000;
export const PAGE_SIZE: u32 = 4096;

/** Pseudo-vectors for reports that do not come from the CPU (arch.h). */
export const VECTOR_WASM_TRAP: u32 = 256;
export const VECTOR_KERNEL_ABORT: u32 = 257;
export const VECTOR_SYSCALL: u32 = 512;

/** Linear-memory address of a kernel virtual address (image or direct map), or -1. */
export function linearAddressOf(virtualAddress: u64): i64 {
  if (virtualAddress >= KERNEL_VMA) return <i64>(virtualAddress - KERNEL_VMA);
  if (virtualAddress >= KERNEL_STACKS && virtualAddress - KERNEL_STACKS < <u64>0x200000000) {
    const slot = (virtualAddress - KERNEL_STACKS) & ~(KERNEL_STACK_SLOT - 1);
    return <i64>(slot / 2 + (virtualAddress - KERNEL_STACKS - slot));
  }
  if (virtualAddress >= DIRECT_MAP && virtualAddress - DIRECT_MAP < 0xffff0000) {
    return <i64>(virtualAddress - DIRECT_MAP);
  }
  return -1;
}
