// Bringing up memory management at boot: keep what is in use out of the
// allocator, build the frame database, then the kernel's page tables.
import { LayoutItem, layout } from "../arch/x86_64/cpu";
import { bootInfo, bootModule } from "../boot/multiboot2";
import { FrameState } from "./frame";
import { clearReservedRanges, initFrameDatabase, reserveRange } from "./frame_database";
import { installKernelPageTables } from "./kernel_map";
import { resetSlab } from "./slab";
import { setReclaimHook } from "./buddy";
import { reclaimForAllocation } from "./reclaim";
import { zeroPage } from "./address_space";
import { initPageCache } from "./page_cache";

/** Physical start of the TypeScript static data (asc --memoryBase, linker/kernel.ld). */
const WASM_STATIC_BASE: u64 = 0x100000;

/** Returns false if the memory map left no room for the frame database. */
export function initMemory(bootInfoAddress: u32): bool {
  clearReservedRanges();
  // The first MiB stays the firmware's, as Linux keeps it since 5.13: BIOS
  // and SMM code may write there behind the kernel's back. It also avoids a
  // QEMU TCG pathology: with a kernel stack in the frames where GRUB's boot
  // sector once ran (0x4000-0x8000), every kernel entry cost 10 us, not 0.3.
  reserveRange(0, WASM_STATIC_BASE, FrameState.FirmwareReserved);
  reserveRange(WASM_STATIC_BASE, layout(LayoutItem.KernelPhysEnd), FrameState.KernelImage);
  reserveRange(bootInfoAddress, <u64>bootInfoAddress + bootInfo.totalSize, FrameState.BootData);
  for (let i: u32 = 0; i < bootInfo.moduleCount; i++) {
    const module = bootModule(i);
    reserveRange(module.start, module.end, FrameState.BootData);
  }
  if (!initFrameDatabase()) return false;
  installKernelPageTables();
  resetSlab();
  setReclaimHook(reclaimForAllocation);
  initPageCache();
  // The shared zero page now rather than at the first demand-zero read, so
  // that no program run leaves a frame behind it.
  return zeroPage() != 0;
}
