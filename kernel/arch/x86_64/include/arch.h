/* Facts shared by the native parts of the kernel. */
#pragma once
#include <stdint.h>

#define KERNEL_VMA 0xffffffff80000000ull
#define DIRECT_MAP 0xffff800000000000ull
/* Kernel stacks: the 16 KiB stack at physical p is mapped at
 * KERNEL_STACKS + 2p, so each has an unmapped 16 KiB guard below it. */
#define KERNEL_STACKS 0xffffff8000000000ull
#define KERNEL_STACK_SLOT 0x8000ull

/* Saved by traps.asm on every exception; the TypeScript TrapFrame record
 * (kernel/arch/x86_64/trap_frame.ts) reads the same layout. */
struct trap_frame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error_code;
  uint64_t rip, cs, rflags, rsp, ss;
};

/* Pseudo-vectors for reports that do not come from the CPU. */
#define VECTOR_WASM_TRAP 256
#define VECTOR_KERNEL_ABORT 257

/* Wasm linear memory address of a kernel pointer: linear memory is the
 * direct map, and the kernel image is reached through its physical address. */
static inline uint32_t linear_address(const void *p) {
  uint64_t v = (uint64_t)p;
  if (v >= KERNEL_VMA) return (uint32_t)(v - KERNEL_VMA);
  if (v >= KERNEL_STACKS) {
    uint64_t slot = (v - KERNEL_STACKS) & ~(KERNEL_STACK_SLOT - 1);
    return (uint32_t)(slot / 2 + (v - KERNEL_STACKS - slot));
  }
  return (uint32_t)(v - DIRECT_MAP);
}

static inline void *linear_pointer(uint32_t address) {
  return (void *)(DIRECT_MAP + address);
}

__attribute__((noreturn)) void arch_raise(uint64_t vector, uint64_t code);
void trap_dispatch(struct trap_frame *frame);
