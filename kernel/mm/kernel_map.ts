// The kernel's own page tables, replacing the boot stub's: kernel text
// read-only and executable, rodata read-only, data and bss writable, all
// of it NX except text, guard pages below the stacks left unmapped; the
// direct map of RAM non-executable and global, with frame 0 unmapped so a
// null pointer in TypeScript faults.
import {
  DIRECT_MAP, KERNEL_VMA, LayoutItem, cpuid, layout, readCr4, writeCr3, writeCr4,
} from "../arch/x86_64/cpu";
import { MemoryType, bootInfo, memoryRegion } from "../boot/multiboot2";
import { PAGE_SIZE } from "./frame";
import { framebufferBytes } from "../console/framebuffer";
import {
  HUGE_PAGE_SIZE, MapResult, PTE_CACHE_DISABLE, PTE_GLOBAL, PTE_NO_EXECUTE, PTE_WRITABLE, PTE_WRITE_THROUGH, allocTable,
  mapHugePage, mapPage, setNoExecuteSupported,
} from "./page_table";

const FOUR_GIB: u64 = 1 << 32;
const CR4_PGE: u64 = 1 << 7;
const CR4_SMEP: u64 = 1 << 20;
const CR4_SMAP: u64 = 1 << 21;

let kernelRoot: u32 = 0;
let smepSmap: u32 = 0;

/** The page-table root every address space shares the kernel half of. */
export function kernelPageTableRoot(): u32 {
  return kernelRoot;
}

const cpuidOut = memory.data(16, 4);

function hasNoExecute(): bool {
  cpuid(0x80000001, 0, <u32>cpuidOut);
  return (load<u32>(cpuidOut + 12) & (1 << 20)) != 0;
}

function mapOrDie(result: MapResult): void {
  assert(result == MapResult.Ok, "kernel page tables: mapping failed (out of frames or overlap)");
}

/** Flags for the direct map of physical page `physical`. */
function directMapFlags(physical: u64): u64 {
  const textStart = layout(LayoutItem.TextStart) - KERNEL_VMA;
  const rodataEnd = layout(LayoutItem.RodataEnd) - KERNEL_VMA;
  const readOnly = physical >= textStart && physical < rodataEnd; // the kernel's code and constants
  return PTE_NO_EXECUTE | PTE_GLOBAL | (readOnly ? 0 : PTE_WRITABLE);
}

/** Memory the direct map must reach: RAM and what firmware keeps in RAM (ACPI). */
function isMappedType(type: u32): bool {
  return type == MemoryType.Available || type == MemoryType.AcpiReclaimable || type == MemoryType.AcpiNvs;
}

/** 2 = one region covers all of [start, end); 1 = some region overlaps it; 0 = none. */
function coverage(start: u64, end: u64): u32 {
  let result: u32 = 0;
  for (let i: u32 = 0; i < bootInfo.regionCount; i++) {
    const region = memoryRegion(i);
    if (!isMappedType(region.type)) continue;
    const regionEnd = region.base + region.length;
    if (region.base <= start && end <= regionEnd) return 2;
    if (region.base < end && start < regionEnd) result = 1;
  }
  return result;
}

/**
 * The direct map: every 2 MiB chunk of RAM below 4 GiB as one huge page,
 * except chunks that regions cover only in part and the chunks holding the
 * kernel image (whose code must be read-only here too), which get 4 KiB
 * pages. Overlapping or unsorted regions are fine: each page is mapped once.
 */
function mapDirect(root: u32): void {
  const imageStart = layout(LayoutItem.KernelPhysStart) & ~(HUGE_PAGE_SIZE - 1);
  const imageEnd = (layout(LayoutItem.KernelPhysEnd) + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
  for (let chunk: u64 = 0; chunk < FOUR_GIB; chunk += HUGE_PAGE_SIZE) {
    const chunkEnd = chunk + HUGE_PAGE_SIZE;
    const covered = coverage(chunk, chunkEnd);
    if (covered == 0) continue;
    const inImage = chunk < imageEnd && imageStart < chunkEnd;
    if (covered == 2 && !inImage && chunk != 0) {
      mapOrDie(mapHugePage(root, DIRECT_MAP + chunk, chunk, PTE_NO_EXECUTE | PTE_GLOBAL | PTE_WRITABLE));
      continue;
    }
    for (let page = chunk; page < chunkEnd; page += PAGE_SIZE) {
      if (page != 0 && coverage(page, page + PAGE_SIZE) != 0) {
        mapOrDie(mapPage(root, DIRECT_MAP + page, page, directMapFlags(page)));
      }
    }
  }
}

/** Maps [start, end) of the kernel image (virtual addresses) with `flags`, skipping `guards`. */
function mapImage(root: u32, start: u64, end: u64, flags: u64): void {
  for (let at = start & ~(<u64>PAGE_SIZE - 1); at < end; at += PAGE_SIZE) {
    if (at == layout(LayoutItem.BootStackGuard) || at == layout(LayoutItem.DoubleFaultStackGuard) ||
        at == layout(LayoutItem.NmiStackGuard)) continue;
    mapOrDie(mapPage(root, at, at - KERNEL_VMA, flags | PTE_GLOBAL));
  }
}

/**
 * The framebuffer is device memory, not RAM: mapped write-through so that
 * pixels reach the screen without waiting for a cache flush.
 */
function mapFramebuffer(root: u32): void {
  const bytes = framebufferBytes();
  if (bytes == 0) return;
  const start = bootInfo.framebufferAddress & ~(<u64>PAGE_SIZE - 1);
  const end = bootInfo.framebufferAddress + bytes;
  for (let page = start; page < end; page += PAGE_SIZE) {
    const result = mapPage(root, DIRECT_MAP + page, page, PTE_NO_EXECUTE | PTE_GLOBAL | PTE_WRITABLE | PTE_WRITE_THROUGH);
    assert(result == MapResult.Ok || result == MapResult.AlreadyMapped, "kernel page tables: cannot map the framebuffer");
  }
}

/**
 * Maps a device's registers at DIRECT_MAP + physical, uncached, so that
 * the kernel reaches them at linear address == physical address like RAM.
 * False if a table could not be allocated.
 */
export function mapDeviceMemory(physical: u64, bytes: u64): bool {
  const end = physical + bytes;
  for (let page = physical & ~(<u64>PAGE_SIZE - 1); page < end; page += PAGE_SIZE) {
    const result = mapPage(kernelRoot, DIRECT_MAP + page, page,
      PTE_NO_EXECUTE | PTE_GLOBAL | PTE_WRITABLE | PTE_CACHE_DISABLE | PTE_WRITE_THROUGH);
    if (result == MapResult.OutOfMemory) return false;
  }
  return true;
}

/** Builds the kernel's page tables and switches to them. */
export function installKernelPageTables(): void {
  setNoExecuteSupported(hasNoExecute());
  const root = allocTable();
  assert(root != 0, "kernel page tables: no frame for the root");
  mapDirect(root);
  mapFramebuffer(root);
  mapImage(root, layout(LayoutItem.TextStart), layout(LayoutItem.TextEnd), 0);
  mapImage(root, layout(LayoutItem.RodataStart), layout(LayoutItem.RodataEnd), PTE_NO_EXECUTE);
  mapImage(root, layout(LayoutItem.DataStart), layout(LayoutItem.KernelEnd), PTE_NO_EXECUTE | PTE_WRITABLE);

  let cr4 = readCr4() | CR4_PGE;
  cpuid(7, 0, <u32>cpuidOut);
  const features = load<u32>(cpuidOut + 4);
  if (features & (1 << 7)) cr4 |= CR4_SMEP;
  if (features & (1 << 20)) cr4 |= CR4_SMAP;
  smepSmap = <u32>((cr4 & (CR4_SMEP | CR4_SMAP)) >> 20);
  writeCr3(root);
  writeCr4(cr4);
  kernelRoot = root;
}

/** SMEP (bit 0) and SMAP (bit 1) as enabled, for the boot report. */
export function supervisorProtections(): u32 {
  return smepSmap;
}
