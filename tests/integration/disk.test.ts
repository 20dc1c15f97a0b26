// Block devices as files (user/blockdev.c) on a virtio-blk disk: the
// partition table read at boot, read/pread/mmap of the pattern the image
// holds, pwrite, a shared mapping's store written by msync and one written
// by sync, ENOSPC at the end; then the image on the host must hold exactly
// those bytes and nothing else changed.
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

/** The image as the test made it, with the bytes user/blockdev.c writes laid over it. */
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
  it("blockdev: /dev/vda and /dev/vda1 read, written and mapped; the image holds what was written", async () => {
    const image = join(scratchDir("disk"), "pattern.img");
    makePatternDisk(image, 16, [[2048, 8192], [10240, 22528]]);
    const result = await bootInit({ program: "blockdev", args: ["vda"], disks: [image] });
    const output = programOutput(result.serial);
    expect(result.serial).toContain("vda: 32768 sectors (16 MiB), 2 partitions");
    expect(failedChecks(output), output).toEqual([]);
    expect(output).toContain("blockdev: 0 failed");
    expectExit(result, EXIT_SUCCESS);
    const written = readFileSync(image);
    expect(written.length).toBe(16 * MIB);
    const wanted = expectedImage();
    const firstDifference = written.findIndex((byte, i) => byte !== wanted[i]);
    expect(firstDifference, `first differing byte at ${firstDifference}`).toBe(-1);
  }, TEST_TIMEOUT);
});
