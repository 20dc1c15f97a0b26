// Boots the ISO and checks the banner and the memory map GRUB passed on.
import { describe, expect, it } from "vitest";
import { EXIT_SUCCESS, boot, expectExit } from "./qemu";

const MIB = 1024 * 1024;

/** Usable memory the banner reports, in bytes. */
function usableBytes(serial: string): number {
  const match = serial.match(/usable memory: (\d+) KiB/);
  if (!match) throw new Error(`no usable-memory line in:\n${serial}`);
  return Number(match[1]) * 1024;
}

describe.concurrent("boot", () => {
  for (const [memory, megabytes] of [["64M", 64], ["512M", 512], ["3G", 3072]] as const) {
    it(`reaches the banner and reports the memory map with -m ${memory}`, async () => {
      const result = await boot({ cmdline: "exit=qemu init=none", memory });
      expectExit(result, EXIT_SUCCESS);
      const serial = result.serial;
      expect(serial).toContain("TSKernel");
      expect(serial).toMatch(/bootloader: GRUB/);
      expect(serial).toContain("command line: exit=qemu init=none");
      expect(serial).toMatch(/kernel symbols: [1-9]\d*/);
      // Conventional memory below 640 KiB, then RAM from 1 MiB up to the
      // top of -m, less what the firmware keeps for ACPI (at most 1 MiB).
      expect(serial).toMatch(/\[0x0000000000000000-0x000000000009[0-9a-f]{4}\] +\d+ KiB available/);
      const top = serial.match(/\[0x0000000000100000-0x([0-9a-f]{16})\] .* available/);
      expect(top, serial).not.toBeNull();
      const end = Number.parseInt(top![1], 16) + 1;
      expect(end).toBeLessThanOrEqual(megabytes * MIB);
      expect(end).toBeGreaterThan((megabytes - 1) * MIB);
      const usable = usableBytes(serial);
      expect(usable).toBeLessThanOrEqual(megabytes * MIB);
      expect(usable).toBeGreaterThan((megabytes - 2) * MIB);
      expect(serial).toContain("boot complete");
      console.log(`boot -m ${memory}: ${result.milliseconds} ms wall time from QEMU start to exit`);
    });
  }
});
