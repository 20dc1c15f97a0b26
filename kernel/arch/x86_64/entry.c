/* Native entry: make the wasm2c instance whose linear memory is the direct
 * map of physical memory, and hand control to the TypeScript kernel. */
#include "arch.h"
#include "kernel.h"

/* 65536 pages would wrap wasm2c's 32-bit page count to 0. */
#define LINEAR_MEMORY_PAGES 65535u

static wasm_rt_memory_t linear_memory;
/* Page-aligned, on a page of its own: the instance holds the wasm globals,
 * written on every kernel entry. When it shared a page with the memory
 * descriptor, system calls under QEMU TCG cost 9 us instead of 0.25 us in
 * some builds (no retranslation was counted; the cause is not understood). */
static Z_kernel_instance_t kernel_instance __attribute__((aligned(4096)));

wasm_rt_memory_t *Z_envZ_memory(struct Z_env_instance_t *env) {
  (void)env;
  return &linear_memory;
}

void kernel_entry(uint32_t boot_info) {
  linear_memory.data = (uint8_t *)DIRECT_MAP;
  linear_memory.pages = LINEAR_MEMORY_PAGES;
  linear_memory.max_pages = LINEAR_MEMORY_PAGES;
  linear_memory.size = LINEAR_MEMORY_PAGES * 65536u;
  Z_kernel_init_module();
  Z_kernel_instantiate(&kernel_instance, 0);
  Z_kernelZ_kmain(&kernel_instance, boot_info);
}

/* A kernel thread's first switch returns here, on its own stack: it runs
 * the TypeScript function its record names, which never returns (if it
 * did, the kernel would panic: kernel/main.ts). */
void kernel_thread_entry(void) {
  Z_kernelZ_kernelThread(&kernel_instance);
}

void trap_dispatch(struct trap_frame *frame) {
  Z_kernelZ_trap(&kernel_instance, linear_address(frame));
}
