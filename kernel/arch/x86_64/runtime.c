/* The freestanding wasm2c runtime: the few functions generated code calls
 * besides the kernel's own imports. Traps are in traps.asm (wasm_rt_trap
 * raises a kernel panic with the trapping function's registers). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* wasm's memory.fill and memory.copy land here. Quadwords first: under
 * QEMU TCG, rep stosb / rep movsb cost 8 times as much per byte. */
void *memset(void *dest, int value, size_t n) {
  void *d = dest;
  size_t quads = n / 8, bytes = n % 8;
  uint64_t pattern = 0x0101010101010101ull * (uint8_t)value;
  __asm__ volatile("rep stosq" : "+D"(d), "+c"(quads) : "a"(pattern) : "memory");
  __asm__ volatile("rep stosb" : "+D"(d), "+c"(bytes) : "a"(pattern) : "memory");
  return dest;
}

void *memcpy(void *dest, const void *src, size_t n) {
  void *d = dest;
  size_t quads = n / 8, bytes = n % 8;
  __asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(quads) : : "memory");
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(bytes) : : "memory");
  return dest;
}

void *memmove(void *dest, const void *src, size_t n) {
  unsigned char *d = dest;
  const unsigned char *s = src;
  if (d <= s || d >= s + n) return memcpy(dest, src, n);
  d += n - 1;
  s += n - 1;
  __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return dest;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] - y[i];
  return 0;
}

/* wasm2c registers one type per distinct signature used by call_indirect;
 * the kernel has a single module, so an increasing index is unique enough. */
uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  static uint32_t next_type;
  (void)params;
  (void)results;
  return next_type++;
}

/* Function tables (AssemblyScript function references) come from one static
 * pool: the kernel instantiates its module once, and its tables are fixed in
 * size (asc emits no table.grow). Running out is a build problem, so it
 * traps, which reports a kernel panic. */
#include "wasm-rt.h"

#define FUNCREF_POOL_SIZE 1024
static wasm_rt_funcref_t funcref_pool[FUNCREF_POOL_SIZE];
static uint32_t funcref_pool_used;

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *table, uint32_t elements, uint32_t max_elements) {
  if (elements > FUNCREF_POOL_SIZE - funcref_pool_used) wasm_rt_trap(WASM_RT_TRAP_OOB);
  table->data = &funcref_pool[funcref_pool_used];
  table->size = elements;
  table->max_size = elements;
  funcref_pool_used += elements;
  for (uint32_t i = 0; i < elements; i++) table->data[i] = wasm_rt_funcref_null_value;
  (void)max_elements;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *table) {
  (void)table;
}
