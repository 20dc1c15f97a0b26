// The TypeScript kernel's entry points, called from native code
// (kernel/arch/x86_64/entry.c): kmain once at boot, trap on every exception.
import { installGdt } from "./arch/x86_64/gdt";
import { installIdt } from "./arch/x86_64/idt";
import { ExitStatus, enableQemuExit, shutdown } from "./drivers/qemu_exit";
import { argumentEquals, hasArgument, parseCommandLine } from "./boot/cmdline";
import { printBanner } from "./console/banner";
import { bootInfo, parseBootInfo } from "./boot/multiboot2";
import { serialInit } from "./console/serial";
import { print, printBytes } from "./console/console";
import { runSelftest, selftestRequested } from "./debug/selftest";
import { loadSymbols } from "./debug/symbols";
import { initMemory } from "./mm/init";
import { printMemoryReport } from "./mm/meminfo";
import { enableUserFeatures } from "./arch/x86_64/cpu_setup";
import { IRQ_KEYBOARD, IRQ_SERIAL, IRQ_TIMER, initPic, startPit } from "./arch/x86_64/pic";
import { openIsaLine, routeThroughApic } from "./arch/x86_64/irq";
import { setUpApics } from "./drivers/acpi_madt";
import { argumentNumber } from "./boot/cmdline";
import { setFaultAround } from "./mm/fault";
import { printf } from "./console/console";
import { initramfsFileCount } from "./fs/initramfs";
import { mountFileSystems } from "./fs/boot";
import { mountProcAtBoot } from "./procfs/procfs";
import { mountSysAtBoot } from "./sysfs/sysfs";
import { setFileClock } from "./fs/inode";
import { cpioStatusName, CpioStatus } from "./fs/cpio";
import { str } from "./lib/format";
import { startInit } from "./proc/init";
import { setLayoutRandomised } from "./proc/exec_layout";
import { registerScheduling, runScheduler } from "./proc/scheduler";
import { initClock, markKernelStart, realtimeNanoseconds } from "./time/clock";
import { initVdso } from "./mm/vdso";
import { initUsbKeyboard } from "./drivers/usb_keyboard";
import { initAcpi } from "./drivers/acpi";
import { framebufferColumns, initFramebufferConsole } from "./console/framebuffer";
import { toggleFrameMap } from "./drivers/frame_map";
import { dispatchTrap } from "./trap";
import { probeBlockDevices } from "./block/probe";
import { mountRootFromDisk } from "./fs/root_mount";
import { swapOnAtBoot } from "./fs/swap_boot";
import { kernelThreadMain, startKernelThread } from "./proc/kernel_thread";
import { flusherMain, setSwappiness } from "./mm/balance";
import { setPageCluster } from "./mm/swap_in";
import { initTermios } from "./drivers/termios";

/** The PICs are always moved off the exception vectors; the APICs take over when ACPI lists them. */
function initInterrupts(): void {
  initPic();
  if (!hasArgument("noapic") && setUpApics()) routeThroughApic();
  openIsaLine(IRQ_TIMER, "timer");
  openIsaLine(IRQ_KEYBOARD, "i8042");
  openIsaLine(IRQ_SERIAL, "ttyS0");
  startPit();
}

export function kmain(bootInfoAddress: u32): void {
  markKernelStart();
  serialInit();
  parseBootInfo(bootInfoAddress);
  // The boot stub maps the first 4 GiB, framebuffers included: the screen
  // can show the banner already.
  const screen = initFramebufferConsole();
  initTermios(); // the window size is the screen's
  parseCommandLine(bootInfo.cmdline, bootInfo.cmdline != 0 ? bootInfo.cmdlineLength : 0);
  if (argumentEquals("exit", "qemu")) enableQemuExit();
  installGdt();
  installIdt();
  printBanner(loadSymbols());
  if (screen) printf("framebuffer console: %dx%d pixels, %d columns\n", bootInfo.framebufferWidth, bootInfo.framebufferHeight,
    framebufferColumns());
  if (bootInfo.regionCount == 0 || !initMemory(bootInfoAddress)) {
    print("no usable memory map from the bootloader; cannot continue\n");
    shutdown(ExitStatus.Failure);
  }
  printMemoryReport();
  if (hasArgument("framemap")) toggleFrameMap();
  if (selftestRequested()) shutdown(runSelftest());
  setFaultAround(<u32>argumentNumber("faultaround", 16));
  setSwappiness(<u32>argumentNumber("sysctl.vm.swappiness", 60)); // Linux's sysctl words
  setPageCluster(<u32>argumentNumber("sysctl.vm.page-cluster", 3));
  setLayoutRandomised(!hasArgument("norandmaps"));
  const clockReport = memory.data(160);
  printBytes(<u32>clockReport, min(initClock(<u32>clockReport, 160), 160));
  registerScheduling();
  initVdso();
  enableUserFeatures();
  initInterrupts();
  initUsbKeyboard();
  initAcpi();
  setFileClock(realtimeNanoseconds);
  probeBlockDevices();
  const initramfs = mountFileSystems();
  if (!mountProcAtBoot()) print("procfs: /proc not mounted\n");
  if (!mountSysAtBoot()) print("sysfs: /sys not mounted\n");
  mountRootFromDisk();
  swapOnAtBoot();
  if (initramfs == CpioStatus.Ok) printf("initramfs: %d files\n", initramfsFileCount());
  else printf("initramfs: %s (%d files usable)\n", str(cpioStatusName(initramfs)), initramfsFileCount());
  print("boot complete\n");
  if (!argumentEquals("init", "none")) {
    if (!startInit()) shutdown(ExitStatus.Failure);
    if (!startKernelThread("kflushd", flusherMain)) print("kflushd: no memory for the writeback and reclaim thread\n");
    runScheduler();
    print("kernel: no process left to run\n");
  }
  shutdown(ExitStatus.Success);
}

/** A new kernel thread starts here (entry.c's kernel_thread_entry). */
export function kernelThread(): void {
  kernelThreadMain();
}

export function trap(frameAddress: u32): void {
  dispatchTrap(frameAddress);
}
