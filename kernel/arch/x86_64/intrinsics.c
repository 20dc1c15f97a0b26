/* CPU instructions the TypeScript kernel imports (kernel/arch/x86_64/cpu.ts).
 * Each is one instruction or close to it; pointers cross as linear (physical)
 * addresses. */
#include "arch.h"
#include "kernel.h"

#define IMPORT(ret, name, ...) ret Z_envZ_##name(struct Z_env_instance_t *env, ##__VA_ARGS__)

IMPORT(u32, cpu_inb, u32 port) {
  uint8_t v;
  __asm__ volatile("inb %w1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
IMPORT(void, cpu_outb, u32 port, u32 value) {
  __asm__ volatile("outb %b0, %w1" : : "a"(value), "Nd"(port));
}
IMPORT(u32, cpu_inw, u32 port) {
  uint16_t v;
  __asm__ volatile("inw %w1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
IMPORT(void, cpu_outw, u32 port, u32 value) {
  __asm__ volatile("outw %w0, %w1" : : "a"(value), "Nd"(port));
}
IMPORT(u32, cpu_inl, u32 port) {
  uint32_t v;
  __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
IMPORT(void, cpu_outl, u32 port, u32 value) {
  __asm__ volatile("outl %0, %w1" : : "a"(value), "Nd"(port));
}

#define CONTROL_REGISTER(n)                                   \
  IMPORT(u64, cpu_read_cr##n) {                               \
    uint64_t v;                                               \
    __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));         \
    return v;                                                 \
  }
CONTROL_REGISTER(0)
CONTROL_REGISTER(2)
CONTROL_REGISTER(3)
CONTROL_REGISTER(4)
IMPORT(void, cpu_write_cr0, u64 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
IMPORT(void, cpu_write_cr3, u64 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
IMPORT(void, cpu_write_cr4, u64 v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

IMPORT(u64, cpu_rdmsr, u32 msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}
IMPORT(void, cpu_wrmsr, u32 msr, u64 v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
IMPORT(void, cpu_invlpg, u64 address) {
  __asm__ volatile("invlpg (%0)" : : "r"(address) : "memory");
}
IMPORT(u64, cpu_rdtsc) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}
/* One RDRAND: the 64-bit value goes to linear `out`; 1 when the CPU had
 * one ready (carry set), 0 when its generator was momentarily drained. */
IMPORT(u32, cpu_rdrand, u32 out) {
  uint64_t value;
  uint8_t ready;
  __asm__ volatile("rdrand %0; setc %1" : "=r"(value), "=qm"(ready) : : "cc");
  *(uint64_t *)linear_pointer(out) = value;
  return ready;
}
IMPORT(void, cpu_cpuid, u32 leaf, u32 subleaf, u32 out) {
  uint32_t *r = linear_pointer(out);
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(subleaf));
}
IMPORT(void, cpu_halt) { __asm__ volatile("hlt"); }
IMPORT(void, cpu_disable_interrupts) { __asm__ volatile("cli" : : : "memory"); }
IMPORT(void, cpu_enable_interrupts) { __asm__ volatile("sti" : : : "memory"); }
/* Device registers anywhere in the physical address space, through the
 * direct map: a 64-bit BAR may lie above 4 GiB, beyond linear memory. */
IMPORT(u32, mmio_read32, u64 physical) { return *(volatile uint32_t *)(DIRECT_MAP + physical); }
IMPORT(void, mmio_write32, u64 physical, u32 value) { *(volatile uint32_t *)(DIRECT_MAP + physical) = value; }

/* Orders memory accesses for devices that read memory by DMA, and keeps
 * the compiler from moving loads and stores of generated code across it. */
IMPORT(void, cpu_memory_barrier) { __asm__ volatile("mfence" : : : "memory"); }
IMPORT(u64, cpu_read_flags) {
  uint64_t flags;
  __asm__ volatile("pushfq; popq %0" : "=r"(flags));
  return flags;
}

struct __attribute__((packed)) descriptor_pointer {
  uint16_t limit;
  uint64_t base;
};
IMPORT(void, cpu_load_gdt, u32 table, u32 limit) {
  struct descriptor_pointer p = {(uint16_t)limit, (uint64_t)linear_pointer(table)};
  __asm__ volatile("lgdt %0" : : "m"(p));
}
IMPORT(void, cpu_load_idt, u32 table, u32 limit) {
  struct descriptor_pointer p = {(uint16_t)limit, (uint64_t)linear_pointer(table)};
  __asm__ volatile("lidt %0" : : "m"(p));
}
IMPORT(void, cpu_load_task_register, u32 selector) {
  __asm__ volatile("ltr %w0" : : "r"(selector));
}
/* Reload CS with a far return, then the data segment registers. */
IMPORT(void, cpu_reload_segments, u32 code, u32 data) {
  __asm__ volatile(
      "pushq %q0\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      "movw %w1, %%ds\n"
      "movw %w1, %%es\n"
      "movw %w1, %%ss\n"
      : : "r"((uint64_t)code), "r"(data) : "rax", "memory");
}

/* String-instruction page zero and copy, kept to compare against the
 * unrolled versions in page_ops.asm (selftest=bench-mm). */
IMPORT(void, mm_zero_page_rep, u32 page) {
  void *d = linear_pointer(page);
  uint64_t n = 4096 / 8;
  __asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0ull) : "memory");
}
IMPORT(void, mm_copy_page_rep, u32 to, u32 from) {
  void *d = linear_pointer(to);
  const void *s = linear_pointer(from);
  uint64_t n = 4096 / 8;
  __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

extern uint64_t trap_stub_table[];
extern char syscall_entry[], trap_return[];
extern void kernel_thread_entry(void);
extern char kernel_phys_start[], kernel_end[], kernel_text_start[], kernel_text_end[];
extern char kernel_rodata_start[], kernel_rodata_end[], kernel_data_start[];
extern char boot_stack_guard[], boot_stack_top[];
extern char double_fault_stack_guard[], double_fault_stack_top[];
extern char nmi_stack_guard[], nmi_stack_top[];
extern char vdso_image_start[], vdso_image_end[];

IMPORT(u64, arch_trap_stub, u32 vector) { return trap_stub_table[vector]; }

/* Addresses only the linker knows; the numbering is LayoutItem in cpu.ts. */
IMPORT(u64, arch_layout, u32 item) {
  switch (item) {
    case 0: return (uint64_t)kernel_phys_start;
    case 1: return (uint64_t)kernel_end - KERNEL_VMA;
    case 2: return (uint64_t)kernel_text_start;
    case 3: return (uint64_t)kernel_text_end;
    case 4: return (uint64_t)boot_stack_guard;
    case 5: return (uint64_t)boot_stack_top;
    case 6: return (uint64_t)double_fault_stack_guard;
    case 7: return (uint64_t)double_fault_stack_top;
    case 8: return (uint64_t)nmi_stack_guard;
    case 9: return (uint64_t)nmi_stack_top;
    case 10: return (uint64_t)kernel_rodata_start;
    case 11: return (uint64_t)kernel_rodata_end;
    case 12: return (uint64_t)kernel_data_start;
    case 13: return (uint64_t)kernel_end;
    case 14: return (uint64_t)syscall_entry;
    case 15: return (uint64_t)trap_return;
    case 16: return (uint64_t)vdso_image_start - KERNEL_VMA;
    case 17: return (uint64_t)vdso_image_end - KERNEL_VMA;
    case 18: return (uint64_t)kernel_thread_entry;
    default: return 0;
  }
}

/* Deliberate CPU exceptions for selftest=: these are the only ways to reach
 * #DE and #UD, since wasm code checks its divisions and has no bad opcodes. */
IMPORT(u32, arch_selftest_divide, u32 dividend, u32 divisor) {
  uint32_t quotient, remainder = 0;
  __asm__ volatile("divl %2" : "=a"(quotient), "+d"(remainder) : "r"(divisor), "a"(dividend));
  return quotient;
}
IMPORT(void, arch_selftest_invalid_opcode) { __asm__ volatile("ud2"); }
/* Calls `address` as code: for proving that data mappings are not executable. */
IMPORT(void, arch_selftest_call, u64 address) { ((void (*)(void))address)(); }
/* Writes to `address`: for proving that code mappings are read-only. */
IMPORT(void, arch_selftest_write, u64 address) { *(volatile uint32_t *)address = 0; }
