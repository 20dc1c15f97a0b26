// Block devices as files (user/diskfile.c) on a virtio-blk disk: the
// partition table read at boot, read/pread/mmap of the pattern the image
// holds, pwrite, a shared mapping's store written by msync and one written
// by sync, ENOSPC at the end; then the image on the host must hold exactly
// those bytes and nothing else changed. And the page cache under memory
// pressure (user/pagecache.c): a disk twice the size of RAM read twice, a
// working set kept through a scan, writes of more than RAM.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, expectExit } from "./qemu";
import { bootInit, buildOnce, failedChecks, programOutput, scratchDir } from "./programs";
// @ts-expect-error: a plain JavaScript module, shared with the scripts
import { makePatternDisk, masterBootRecord, patternSectors } from "../../scripts/disk-image.mjs";

const TEST_TIMEOUT = 240_000;
const MIB = 1 << 20;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

/** The image as the test made it, with the bytes user/diskfile.c writes laid over it. */
function expectedImage(): Buffer {
  const image = patternSectors(0, 16 * 2048);
  masterBootRecord(image.subarray(0, 512), [[2048, 8192], [10240, 22528]]).copy(image, 0);
  const partition = 2048 * 512;
  Buffer.from("written by pwrite\0").copy(image, 5000);
  Buffer.from("stored through mmap\0").copy(image, partition + 3 * 4096);
  Buffer.from("stored after the sync\0").copy(image, partition + 5 * 4096);
  Buffer.from("writ").copy(image, partition + 8192 * 512 - 4);
  return image;
}

describe.concurrent("block devices", () => {
  it("diskfile: /dev/vda and /dev/vda1 read, written and mapped; the image holds what was written", async () => {
    const image = join(scratchDir("disk"), "pattern.img");
    makePatternDisk(image, 16, [[2048, 8192], [10240, 22528]]);
    const result = await bootInit({ program: "diskfile", args: ["vda"], disks: [image] });
    const output = programOutput(result.serial);
    expect(result.serial).toContain("vda: 32768 sectors (16 MiB), 2 partitions");
    expect(failedChecks(output), output).toEqual([]);
    expect(output).toContain("diskfile: 0 failed");
    expectExit(result, EXIT_SUCCESS);
    const written = readFileSync(image);
    expect(written.length).toBe(16 * MIB);
    const wanted = expectedImage();
    const firstDifference = written.findIndex((byte, i) => byte !== wanted[i]);
    expect(firstDifference, `first differing byte at ${firstDifference}`).toBe(-1);
  }, TEST_TIMEOUT);

  it("pagecache: a 128 MiB disk on a 64 MiB machine read twice, a working set kept through a scan, 96 MiB written", async () => {
    const image = join(scratchDir("pressure"), "pattern.img");
    makePatternDisk(image, 128, []);
    const result = await bootInit({ program: "pagecache", args: ["vda", "128"], memory: "64M", disks: [image] });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    expect(output).toContain("pagecache: 0 failed");
    expect(output).not.toContain("Out of memory");
    expectExit(result, EXIT_SUCCESS);
    console.log(`pagecache figures:\n${output.split("\n").filter((l) => l.startsWith("figure")).join("\n")}`);
    const written = readFileSync(image);
    for (let mib = 16; mib < 112; mib += 7) { // a sample of the written sectors, as user/pagecache.c wrote them
      const sector = mib * 2048 + 5;
      const at = sector * 512;
      expect(written.readBigUInt64LE(at)).toBe(BigInt(sector) ^ 0x5757575757575757n);
      expect(written[at + 100]).toBe((sector * 13) & 0xff);
    }
    expect(written.subarray(0, 16 * MIB).equals(patternSectors(0, 16 * 2048))).toBe(true);
  }, TEST_TIMEOUT);
});
