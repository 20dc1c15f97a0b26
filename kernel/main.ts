// The TypeScript kernel's entry points, called from native code
// (kernel/arch/x86_64/entry.c): kmain once at boot, trap on every exception.
import { installGdt } from "./arch/x86_64/gdt";
import { installIdt } from "./arch/x86_64/idt";
import { ExitStatus, enableQemuExit, shutdown } from "./arch/x86_64/qemu_exit";
import { argumentEquals, parseCommandLine } from "./boot/cmdline";
import { printBanner } from "./boot/banner";
import { bootInfo, parseBootInfo } from "./boot/multiboot2";
import { serialInit } from "./console/serial";
import { print } from "./console/console";
import { handleTrap } from "./debug/panic";
import { runSelftest, selftestRequested } from "./debug/selftest";
import { loadSymbols } from "./debug/symbols";
import { initMemory } from "./mm/init";
import { printMemoryReport } from "./mm/meminfo";

export function kmain(bootInfoAddress: u32): void {
  serialInit();
  parseBootInfo(bootInfoAddress);
  parseCommandLine(bootInfo.cmdline, bootInfo.cmdline != 0 ? bootInfo.cmdlineLength : 0);
  if (argumentEquals("exit", "qemu")) enableQemuExit();
  installGdt();
  installIdt();
  printBanner(loadSymbols());
  if (bootInfo.regionCount == 0 || !initMemory(bootInfoAddress)) {
    print("no usable memory map from the bootloader; cannot continue\n");
    shutdown(ExitStatus.Failure);
  }
  printMemoryReport();
  if (selftestRequested()) shutdown(runSelftest());
  print("boot complete\n");
  shutdown(ExitStatus.Success);
}

export function trap(frameAddress: u32): void {
  handleTrap(frameAddress);
}
