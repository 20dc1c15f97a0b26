// What the kernel says when it comes up: who it is, what loaded it, and
// the memory it was given.
import { LayoutItem, layout } from "../arch/x86_64/cpu";
import { BootInfoStatus, MemoryType, bootInfo, bootInfoStatusName, bootModule, memoryRegion, memoryTypeName } from "../boot/multiboot2";
import { print, printBytes, printf } from "./console";
import { str } from "../lib/format";

function printMemoryMap(): void {
  print("memory map (multiboot2):\n");
  let usable: u64 = 0;
  let regions: u32 = 0;
  for (let i: u32 = 0; i < bootInfo.regionCount; i++) {
    const region = memoryRegion(i);
    const end = region.base + region.length;
    printf("  [%p-%p] %10m %s\n", region.base, end - 1, region.length, str(memoryTypeName(region.type)));
    if (region.type != MemoryType.Available || region.length == 0) continue;
    regions++;
    usable += region.length;
  }
  printf("usable memory: %d KiB (%m) in %d regions\n", usable / 1024, usable, regions);
}

export function printBanner(symbolCount: u32): void {
  print("\nTSKernel 0.1: an x86-64 kernel in TypeScript (AssemblyScript -> wasm2c -> clang)\n");
  if (bootInfo.loaderName != 0) {
    print("bootloader: ");
    printBytes(bootInfo.loaderName, bootInfo.loaderNameLength);
    print("\n");
  }
  print("command line: ");
  printBytes(bootInfo.cmdline, bootInfo.cmdline != 0 ? bootInfo.cmdlineLength : 0);
  print("\n");
  const start = layout(LayoutItem.KernelPhysStart);
  const end = layout(LayoutItem.KernelPhysEnd);
  printf("kernel image: physical %p-%p (%m)\n", start, end - 1, end - start);
  for (let i: u32 = 0; i < bootInfo.moduleCount; i++) {
    const module = bootModule(i);
    printf("module %d: %p-%p (%m) ", i, module.start, module.end - 1, module.end - module.start);
    printBytes(module.cmdline, module.cmdlineLength);
    print("\n");
  }
  printf("kernel symbols: %d\n", symbolCount);
  if (bootInfo.status != BootInfoStatus.Ok) {
    printf("warning: boot information: %s\n", str(bootInfoStatusName(bootInfo.status)));
  }
  printMemoryMap();
}
