// The AHCI driver (kernel/block/ahci*.ts) under QEMU's `-device ahci` with
// `ide-hd` disks: /dev/sda read and written through user/diskfile.c, the
// image then holding exactly the bytes written; two SATA disks at once, one
// with a write cache that fsync flushes; seven, on two controllers; a SATA
// and a virtio disk at once; four readers at once with a sector that fails
// (QEMU's blkdebug injects EIO), which must fail alone, every time, while
// every other read succeeds and the port keeps working; a write that
// fails, seen by fsync; and the read throughput of a 64 MiB disk.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, expectExit } from "./qemu";
import { bootInit, buildOnce, failedChecks, initramfsWith, programOutput, scratchDir } from "./programs";
// @ts-expect-error: a plain JavaScript module, shared with the scripts
import { makePatternDisk } from "../../scripts/disk-image.mjs";

const TEST_TIMEOUT = 240_000;
const SECTOR = 512;

/**
 * The shell scripts some tests run as init (`sh /etc/ahci/NAME.sh`), in an
 * initramfs of their own.
 */
const SCRIPTS: Record<string, string> = {
  "two.sh": "/bin/diskfile sda && /bin/diskfile sdb",
  "seven.sh": "cat /proc/partitions && /bin/blockload sdg readers",
  "mixed.sh": "/bin/diskfile vda && /bin/diskfile sda",
  // The page holding sector 3000 must fail to write, the next page must not.
  "badwrite.sh": "! dd if=/dev/zero of=/dev/sda bs=4096 count=1 seek=375 conv=fsync &&\n" +
    "  dd if=/dev/zero of=/dev/sda bs=4096 count=1 seek=100 conv=fsync",
};
let initramfs = "";

beforeAll(async () => {
  await buildOnce();
  const dir = scratchDir("ahci-scripts");
  for (const [name, text] of Object.entries(SCRIPTS)) writeFileSync(join(dir, name), `${text}\n`);
  initramfs = await initramfsWith([`/etc/ahci=${dir}`]);
}, TEST_TIMEOUT);

/** Boots `sh /etc/ahci/SCRIPT` as init with `disks`; fails unless it exits 0. Returns what was printed after boot. */
async function runScript(script: string, disks: string[]): Promise<{ serial: string; output: string }> {
  const result = await bootInit({ program: "sh", args: [`/etc/ahci/${script}`], initramfs, disks });
  expectExit(result, EXIT_SUCCESS);
  const output = programOutput(result.serial);
  expect(failedChecks(output), result.serial).toEqual([]);
  return { serial: result.serial, output };
}

/** A 16 MiB disk (or `mebibytes`) with user/diskfile.c's pattern and partition 1 at sectors 2048..10239. */
function writeImage(name: string, mebibytes = 16): { path: string; original: Buffer } {
  const path = join(scratchDir("ahci"), name);
  makePatternDisk(path, mebibytes, [[2048, 8192]]);
  return { path, original: readFileSync(path) };
}

/** The image as diskfile leaves it: its writes at their disk offsets, NUL-terminated as it writes them. */
function expectedAfterBlockdev(original: Buffer): Buffer {
  const expected = Buffer.from(original);
  const partition = 2048 * SECTOR;
  const put = (text: string, at: number) => Buffer.from(`${text}\0`).copy(expected, at);
  put("written by pwrite", 5000);
  put("stored through mmap", partition + 3 * 4096);
  put("stored after the sync", partition + 5 * 4096);
  Buffer.from("writ").copy(expected, partition + 8192 * SECTOR - 4); // the write across the partition's end
  return expected;
}

/** Fails naming the first differing byte unless the image holds exactly what diskfile wrote. */
function expectBlockdevWrites(path: string, original: Buffer): void {
  const image = readFileSync(path);
  const expected = expectedAfterBlockdev(original);
  expect(image.length).toBe(expected.length);
  const first = image.findIndex((byte, i) => byte !== expected[i]);
  expect(first, `${path}: byte ${first} is ${image[first]}, expected ${expected[first]}`).toBe(-1);
}

// One QEMU at a time: the machine's two cores are shared.
describe("ahci", () => {
  it("diskfile: /dev/sda reads and writes; the image holds exactly the bytes written", async () => {
    const disk = writeImage("sda.img");
    const result = await bootInit({ program: "diskfile", args: ["sda"], disks: [`${disk.path},ahci`] });
    expectExit(result, EXIT_SUCCESS);
    const output = programOutput(result.serial);
    expect(failedChecks(output), result.serial).toEqual([]);
    expect(result.serial).toMatch(/^ahci: sda on 0:[0-9a-f]+\.0 port 0: QEMU HARDDISK, write cache off$/m);
    expect(result.serial).toContain("sda: 32768 sectors (16 MiB), 1 partitions\n");
    expect(output).toContain("diskfile: 0 failed\n");
    expectBlockdevWrites(disk.path, disk.original);
  }, TEST_TIMEOUT);

  it("two SATA disks on one controller are sda and sdb, each its own image; sdb's write cache is flushed", async () => {
    const first = writeImage("first.img");
    const second = writeImage("second.img");
    const { serial, output } = await runScript("two.sh", [`${first.path},ahci`, `${second.path},ahci,writeback`]);
    expect(serial).toMatch(/^ahci: sda on 0:[0-9a-f]+\.0 port 0: QEMU HARDDISK, write cache off$/m);
    // With the cache on, diskfile's fsync and sync send FLUSH CACHE EXT, which must succeed.
    expect(serial).toMatch(/^ahci: sdb on 0:[0-9a-f]+\.0 port 1: QEMU HARDDISK, write cache on$/m);
    expect(output.match(/^diskfile: 0 failed$/gm), serial).toHaveLength(2);
    expectBlockdevWrites(first.path, first.original);
    expectBlockdevWrites(second.path, second.original);
  }, TEST_TIMEOUT);

  it("seven SATA disks fill one controller's six ports and go on to a second controller's", async () => {
    const images = ["a", "b", "c", "d", "e", "f", "g"].map((letter) => writeImage(`sd${letter}.img`, 1));
    const { serial, output } = await runScript("seven.sh", images.map((image) => `${image.path},ahci`));
    const found = [...serial.matchAll(/^ahci: (sd[a-z]) on (\S+) port (\d): QEMU HARDDISK/gm)].map((m) => [m[1], m[2], Number(m[3])]);
    expect(found.map(([name, , port]) => `${name}:${port}`), serial).toEqual(["sda:0", "sdb:1", "sdc:2", "sdd:3", "sde:4", "sdf:5", "sdg:0"]);
    expect(new Set(found.slice(0, 6).map(([, location]) => location)).size, serial).toBe(1);
    expect(found[6][1], serial).not.toBe(found[0][1]);
    expect(output, serial).toMatch(/^ +8 +96 +1024 sdg$/m);
    expect(output, serial).toContain("blockload: 0 failed\n");
  }, TEST_TIMEOUT);

  it("a virtio disk and a SATA disk at once are vda and sda", async () => {
    const virtio = writeImage("vda.img");
    const sata = writeImage("sda.img");
    const { serial, output } = await runScript("mixed.sh", [virtio.path, `${sata.path},ahci`]);
    expect(output.match(/^diskfile: 0 failed$/gm), serial).toHaveLength(2);
    expectBlockdevWrites(virtio.path, virtio.original);
    expectBlockdevWrites(sata.path, sata.original);
  }, TEST_TIMEOUT);

  it("a sector that fails fails alone, each time, with requests of other readers in flight; the port recovers", async () => {
    const disk = writeImage("bad.img");
    const rules = join(scratchDir("ahci"), "blkdebug.conf");
    writeFileSync(rules, '[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "3000"\n');
    const result = await bootInit({
      program: "blockload", args: ["sda", "readers", "3000"], disks: [`blkdebug:${rules}:${disk.path},ahci`],
    });
    expectExit(result, EXIT_SUCCESS);
    const output = programOutput(result.serial);
    expect(failedChecks(output), result.serial).toEqual([]);
    expect(output).toMatch(/^ahci: sda: error reading sector 3000 \(8 sectors\): status 41, error 4, interrupt status 40000001$/m);
    // The error arrived with other readers' commands issued too, so the port ran them again one at a time.
    expect(output).toMatch(/^ahci: sda: error with \d+ commands in flight; running them again one at a time$/m);
    expect(output).toContain("ok four readers at once read the pattern\n");
    expect(output).toContain("ok a good page still reads after the errors\n");
    expect(readFileSync(disk.path).equals(disk.original)).toBe(true);
  }, TEST_TIMEOUT);

  it("a write that fails makes fsync fail with EIO and leaves the sector as it was; the next write lands", async () => {
    const disk = writeImage("badwrite.img");
    const rules = join(scratchDir("ahci"), "blkdebug.conf");
    writeFileSync(rules, '[inject-error]\nevent = "write_aio"\nerrno = "5"\nsector = "3000"\n');
    const { serial, output } = await runScript("badwrite.sh", [`blkdebug:${rules}:${disk.path},ahci`]);
    expect(output, serial).toMatch(/^ahci: sda: error writing sector 3000 \(8 sectors\): status 41, error 4, interrupt status 40000001$/m);
    expect(output, serial).toContain("dd: /dev/sda: Input/output error\n");
    const expected = Buffer.from(disk.original);
    expected.fill(0, 100 * 4096, 101 * 4096);
    const image = readFileSync(disk.path);
    const first = image.findIndex((byte, i) => byte !== expected[i]);
    expect(first, `byte ${first} is ${image[first]}, expected ${expected[first]}`).toBe(-1);
  }, TEST_TIMEOUT);

  it("reads a 64 MiB disk through /dev/sda in 1 MiB reads", async () => {
    const disk = writeImage("speed.img", 64);
    const result = await bootInit({ program: "blockload", args: ["sda", "speed"], disks: [`${disk.path},ahci`] });
    expectExit(result, EXIT_SUCCESS);
    const rate = programOutput(result.serial).match(/^blockload: read 64 MiB in (\d+) ms \((\d+) MiB\/s\)$/m);
    expect(rate, result.serial).not.toBeNull();
    console.log(`ahci: read 64 MiB in ${rate![1]} ms (${rate![2]} MiB/s) under TCG`);
  }, TEST_TIMEOUT);
});

