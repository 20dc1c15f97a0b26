// Interrupt routing (arch/x86_64/irq.ts, io_apic.ts, local_apic.ts,
// drivers/acpi_madt.ts, drivers/pci_interrupt.ts): with ACPI's MADT the
// legacy lines go through the IO-APIC and PCI disks send messages (virtio
// MSI-X, AHCI MSI); `pci=nomsi` keeps the disks on their INTx lines through
// the IO-APIC; `noapic` puts everything back on the 8259s. Each way a
// virtio disk and a SATA disk must read and write right (user/diskfile.c)
// and /proc/interrupts must show the lines where they should be, counting.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, expectExit } from "./qemu";
import { bootInit, buildOnce, failedChecks, initramfsWith, programOutput, scratchDir } from "./programs";
// @ts-expect-error: a plain JavaScript module, shared with the scripts
import { makePatternDisk } from "../../scripts/disk-image.mjs";

const TEST_TIMEOUT = 240_000;
let initramfs = "";

beforeAll(async () => {
  await buildOnce();
  const dir = scratchDir("interrupts-scripts");
  writeFileSync(join(dir, "disks.sh"), "/bin/diskfile vda && /bin/diskfile sda && cat /proc/interrupts\n");
  initramfs = await initramfsWith([`/etc/interrupts=${dir}`]);
}, TEST_TIMEOUT);

interface Line {
  count: number;
  controller: string;
  name: string;
}

/** The /proc/interrupts lines of `output`, by driver name ("timer", "virtio-blk", "ahci", ...). */
function interruptLines(output: string): Map<string, Line> {
  const lines = new Map<string, Line>();
  for (const m of output.matchAll(/^ *\d+: +(\d+) +(.*\S) {2,}(\S.*)$/gm)) {
    for (const name of m[3].split(", ")) lines.set(name, { count: Number(m[1]), controller: m[2], name });
  }
  return lines;
}

async function bootWith(options: string): Promise<{ serial: string; lines: Map<string, Line> }> {
  const name = options.replace(/\W+/g, "-") || "default";
  const virtio = join(scratchDir("interrupts"), `${name}-vda.img`);
  const sata = join(scratchDir("interrupts"), `${name}-sda.img`);
  makePatternDisk(virtio, 16, [[2048, 8192]]);
  makePatternDisk(sata, 16, [[2048, 8192]]);
  const result = await bootInit({
    program: "sh", args: ["/etc/interrupts/disks.sh"], options: options || undefined, initramfs, disks: [virtio, `${sata},ahci`],
  });
  expectExit(result, EXIT_SUCCESS);
  const output = programOutput(result.serial);
  expect(failedChecks(output), result.serial).toEqual([]);
  expect(output.match(/^diskfile: 0 failed$/gm), result.serial).toHaveLength(2);
  const lines = interruptLines(output);
  for (const driver of ["timer", "virtio-blk", "ahci"]) expect(lines.get(driver)?.count, `${driver}\n${output}`).toBeGreaterThan(0);
  return { serial: result.serial, lines };
}

// One QEMU at a time: the machine's two cores are shared.
describe("interrupts", () => {
  it("with the MADT: the timer through the IO-APIC (GSI 2), virtio-blk by MSI-X and AHCI by MSI", async () => {
    const { serial, lines } = await bootWith("");
    expect(serial).toMatch(/^apic: IO-APIC 0 at fec00000, from GSI 0$/m);
    expect(serial).toMatch(/^apic: local APIC at fee00000, \d+ interrupt overrides$/m);
    expect(lines.get("timer")?.controller, serial).toMatch(/^IO-APIC +2-edge$/);
    expect(lines.get("virtio-blk")?.controller, serial).toMatch(/^PCI-MSIX-0000:00:[0-9a-f]{2}\.0 +0-edge$/);
    expect(lines.get("ahci")?.controller, serial).toMatch(/^PCI-MSI-0000:00:[0-9a-f]{2}\.0 +0-edge$/);
  }, TEST_TIMEOUT);

  it("pci=nomsi: both disks on their level-triggered INTx lines through the IO-APIC", async () => {
    const { serial, lines } = await bootWith("pci=nomsi");
    expect(lines.get("timer")?.controller, serial).toMatch(/^IO-APIC +2-edge$/);
    for (const driver of ["virtio-blk", "ahci"]) expect(lines.get(driver)?.controller, serial).toMatch(/^IO-APIC +\d+-fasteoi$/);
  }, TEST_TIMEOUT);

  it("noapic: every line on the 8259s, the disks still served", async () => {
    const { serial, lines } = await bootWith("noapic");
    expect(serial).not.toMatch(/^apic: /m);
    for (const driver of ["timer", "virtio-blk", "ahci"]) expect(lines.get(driver)?.controller, serial).toBe("XT-PIC");
  }, TEST_TIMEOUT);
});
