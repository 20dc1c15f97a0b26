// Partition tables (kernel/block/partitions.ts): an MBR with primary
// partitions and an extended one whose chain of EBRs holds logical
// partitions 5 and 6, numbered and sized as Linux does (the extended
// partition itself a 2-sector device); a chain that loops back stops with
// a log line, the partitions before it kept.
import { closeSync, openSync, readSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, expectExit } from "./qemu";
import { bootInit, buildOnce, initramfsWith, programOutput, scratchDir } from "./programs";
// @ts-expect-error: a plain JavaScript module, shared with the scripts
import { makePatternDisk, masterBootRecord, writeLogicalPartitions } from "../../scripts/disk-image.mjs";

const TEST_TIMEOUT = 240_000;
const SECTOR = 512;
let initramfs = "";

beforeAll(async () => {
  await buildOnce();
  const dir = scratchDir("partitions-scripts");
  // The first 8 bytes of each partition's first sector: the pattern's sector number there.
  writeFileSync(join(dir, "show.sh"), "cat /proc/partitions\n" +
    "for p in vda1 vda5 vda6; do [ -e /dev/$p ] && echo \"$p starts at $(dd if=/dev/$p bs=512 count=1 2>/dev/null | od -An -tu8 -N8)\"; done\n" +
    "ls -1 /sys/block/vda\n");
  initramfs = await initramfsWith([`/etc/partitions=${dir}`]);
}, TEST_TIMEOUT);

/** A 16 MiB pattern disk with vda1 (primary), vda2 (extended: vda5, vda6 inside) and vda3 (primary). */
function extendedDisk(name: string, loopBack: boolean): string {
  const path = join(scratchDir("partitions"), name);
  makePatternDisk(path, 16, []);
  const fd = openSync(path, "r+");
  const first = Buffer.alloc(SECTOR);
  readSync(fd, first, 0, SECTOR, 0);
  writeSync(fd, masterBootRecord(first, [[2048, 4096], [8192, 16384, 0x05], [26624, 2048]]), 0, SECTOR, 0);
  closeSync(fd);
  writeLogicalPartitions(path, 8192, [[8192, 8255, 2000], [12288, 14336, 4096]], loopBack);
  return path;
}

async function show(disk: string): Promise<{ serial: string; output: string }> {
  const result = await bootInit({ program: "sh", args: ["/etc/partitions/show.sh"], initramfs, disks: [disk] });
  expectExit(result, EXIT_SUCCESS);
  return { serial: result.serial, output: programOutput(result.serial) };
}

const PARTITIONS = (lines: string[]) => `major minor  #blocks  name\n\n${lines.join("\n")}\n`;

describe("partitions", () => {
  it("an extended partition's logical partitions are vda5 and vda6, after the primary ones", async () => {
    const { serial, output } = await show(extendedDisk("extended.img", false));
    expect(output, serial).toContain(PARTITIONS([
      " 254        0      16384 vda", " 254        1       2048 vda1", " 254        2          1 vda2", " 254        3       1024 vda3",
      " 254        5       1000 vda5", " 254        6       2048 vda6",
    ]));
    expect(output).toMatch(/^vda1 starts at +2048$/m);
    expect(output).toMatch(/^vda5 starts at +8255$/m);
    expect(output).toMatch(/^vda6 starts at +14336$/m);
    expect(output).toMatch(/^vda6$/m); // /sys/block/vda lists it
    expect(serial).toContain("vda: 32768 sectors (16 MiB), 5 partitions\n");
  }, TEST_TIMEOUT);

  it("a chain of EBRs that loops back ends with a log line; what came before it stays", async () => {
    const { serial, output } = await show(extendedDisk("loop.img", true));
    expect(serial).toContain("vda: the extended partition's chain goes on past partition 6 or loops; the rest is left out\n");
    expect(output).toMatch(/^vda5 starts at +8255$/m);
    expect(output).toMatch(/^vda6 starts at +14336$/m);
  }, TEST_TIMEOUT);
});
