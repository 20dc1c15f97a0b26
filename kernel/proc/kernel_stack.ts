// Kernel stacks for processes: 16 KiB each, mapped at KERNEL_STACKS + 2 *
// physical address, so that the 16 KiB below every stack is never mapped
// and an overflow faults (the double-fault handler reports it) instead of
// corrupting a neighbour.
import { KERNEL_STACKS } from "../arch/x86_64/cpu";
import { allocPages, freePages } from "../mm/buddy";
import { FrameState, PAGE_SIZE } from "../mm/frame";
import { kernelPageTableRoot } from "../mm/kernel_map";
import { MapResult, PTE_GLOBAL, PTE_NO_EXECUTE, PTE_WRITABLE, mapPage, unmapPage } from "../mm/page_table";

export const KERNEL_STACK_ORDER: u32 = 2;
export const KERNEL_STACK_SIZE: u32 = PAGE_SIZE << KERNEL_STACK_ORDER;

@inline export function kernelStackBase(physical: u32): u64 {
  return KERNEL_STACKS + 2 * <u64>physical;
}

/** Allocates and maps a stack; returns its physical address, 0 when out of memory. */
export function allocKernelStack(): u32 {
  const physical = allocPages(KERNEL_STACK_ORDER, FrameState.KernelObject, false);
  if (physical == 0) return 0;
  const base = kernelStackBase(physical);
  for (let offset: u32 = 0; offset < KERNEL_STACK_SIZE; offset += PAGE_SIZE) {
    const result = mapPage(kernelPageTableRoot(), base + offset, physical + offset, PTE_WRITABLE | PTE_NO_EXECUTE | PTE_GLOBAL);
    if (result != MapResult.Ok) {
      for (let undo: u32 = 0; undo < offset; undo += PAGE_SIZE) unmapPage(kernelPageTableRoot(), base + undo);
      freePages(physical);
      return 0;
    }
  }
  return physical;
}

export function freeKernelStack(physical: u32): void {
  const base = kernelStackBase(physical);
  for (let offset: u32 = 0; offset < KERNEL_STACK_SIZE; offset += PAGE_SIZE) unmapPage(kernelPageTableRoot(), base + offset);
  freePages(physical);
}
