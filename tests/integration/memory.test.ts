// Physical memory management on a real boot: the memory report against the
// memory map, every frame allocated and given back, and the kernel's page
// protections enforced.
import { describe, expect, it } from "vitest";
import { EXIT_PANIC, EXIT_SUCCESS, boot, expectExit } from "./qemu";

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * Documented margin between the RAM the memory map offers and what is free
 * after boot: the kernel image with its 1 MiB of TypeScript static data
 * (under 2 MiB), the frame database (32 bytes per 4 KiB frame), the kernel's
 * page tables (under 1 MiB with the firmware's reserved low memory), the
 * page cache's hash chains (a 4-byte head for every 8 frames, at least a
 * page of them), and the boot modules, whose size is the initramfs's (the
 * user programs it holds), not the kernel's.
 */
function allowedOverhead(usable: number, bootModules: number): number {
  const frames = usable / 4096;
  return 3 * MIB + frames * 32 + Math.max(frames / 2, 4096) + bootModules;
}

function number(serial: string, pattern: RegExp): number {
  const match = serial.match(pattern);
  if (!match) throw new Error(`${pattern} not found in:\n${serial}`);
  return Number(match[1]);
}

describe.concurrent("physical memory", () => {
  for (const memory of ["64M", "512M", "3G"]) {
    it(`reports free memory within the documented margin of the memory map with -m ${memory}`, async () => {
      const result = await boot({ cmdline: "exit=qemu init=none", memory });
      expectExit(result, EXIT_SUCCESS);
      const usable = number(result.serial, /usable memory: (\d+) KiB/) * KIB;
      const free = number(result.serial, /memory: \d+ KiB total, (\d+) KiB free/) * KIB;
      expect(free).toBeLessThan(usable);
      const bootModules = number(result.serial, / boot modules and info +(\d+) frames/) * 4096;
      expect(usable - free).toBeLessThanOrEqual(allowedOverhead(usable, bootModules));
      expect(result.serial).toMatch(/frame database: 32 bytes per frame/);
      expect(result.serial).toMatch(/ kernel image +\d+ frames/);
      expect(result.serial).toMatch(/ page tables +\d+ frames/);
    });
  }

  it("allocates every free frame, checks a pattern in each, and frees them back to the boot state", async () => {
    const result = await boot({ cmdline: "exit=qemu selftest=mm-fill", memory: "256M", timeoutMs: 60_000 });
    expectExit(result, EXIT_SUCCESS);
    const free = number(result.serial, /memory: \d+ KiB total, (\d+) KiB free/);
    const allocated = number(result.serial, /mm-fill: allocated (\d+) frames/);
    expect(allocated * 4).toBe(free);
    expect(result.serial).toMatch(/mm-fill: 0 bad words; free frames (\d+) after, \1 before; free lists as at boot, consistent/);
  });

  it("a write to kernel text is a protection-violation page fault", async () => {
    const result = await boot({ cmdline: "exit=qemu selftest=write-text" });
    expectExit(result, EXIT_PANIC);
    expect(result.serial).toContain("KERNEL PANIC: page fault (#PF) (vector 14)");
    expect(result.serial).toContain("error code 0x3: protection-violation write kernel-mode");
    expect(result.serial).toMatch(/CR2 0xffffffff8[0-9a-f]{4}000/);
    expect(result.serial).toMatch(/RIP 0x[0-9a-f]{16} in Z_envZ_arch_selftest_write\+0x/);
  });

  it("executing from the direct map is an instruction-fetch page fault", async () => {
    const result = await boot({ cmdline: "exit=qemu selftest=exec-direct-map" });
    expectExit(result, EXIT_PANIC);
    expect(result.serial).toContain("error code 0x11: protection-violation read kernel-mode instruction-fetch");
    // The fetch itself faults: RIP and CR2 are the same direct-map address.
    const cr2 = result.serial.match(/CR2 (0xffff8000[0-9a-f]{8})/);
    expect(cr2, result.serial).not.toBeNull();
    expect(result.serial).toContain(`RIP ${cr2![1]} in ?`);
  });

  it("bench-mm prints its numbers", async () => {
    const result = await boot({ cmdline: "exit=qemu selftest=bench-mm", memory: "256M", timeoutMs: 60_000 });
    expectExit(result, EXIT_SUCCESS);
    for (const line of result.serial.split("\n").filter((l) => l.startsWith("bench-mm "))) console.log(line);
    expect(result.serial).toMatch(/bench-mm alloc\+free order 0 +\d+\.\d ns/);
    expect(result.serial).toMatch(/bench-mm zero page: unrolled movs \(used\) +\d+\.\d ns/);
    expect(result.serial).toMatch(/bench-mm copy page: unrolled movs \(used\) +\d+\.\d ns/);
    expect(result.serial).toMatch(/bench-mm map\+unmap 4 KiB +\d+\.\d ns/);
  });
});
