// The NVMe driver (kernel/block/nvme*.ts) under QEMU's `-device nvme`:
// /dev/nvme0n1 and its partition nvme0n1p1 read and written through
// user/diskfile.c, the image then holding exactly the bytes written, the
// numbers Linux gives (259:0 for the disk, 259:1 for its partition, the
// next disk after them) in /proc/partitions, /sys/block and /dev; two NVMe
// disks beside a virtio and a SATA disk, the NVMe interrupts arriving as
// MSI-X messages (with pci=nomsi, on the INTx line); ext2 on NVMe mounted, changed and found clean by e2fsck;
// a namespace of 4 KiB blocks; a sector that fails (QEMU's blkdebug); and
// the read throughput of a 64 MiB disk.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, expectExit } from "./qemu";
import { bootInit, buildOnce, failedChecks, initramfsWith, programOutput, scratchDir } from "./programs";
// @ts-expect-error: a plain JavaScript module, shared with the scripts
import { makePatternDisk } from "../../scripts/disk-image.mjs";

const TEST_TIMEOUT = 240_000;
const SECTOR = 512;

/** The shell scripts some tests run as init (`sh /etc/nvme/NAME.sh`), in an initramfs of their own. */
const SCRIPTS: Record<string, string> = {
  "one.sh": "/bin/diskfile nvme0n1 && cat /proc/partitions /sys/block/nvme0n1/dev /sys/block/nvme0n1/nvme0n1p1/dev " +
    "/sys/block/nvme0n1/nvme0n1p1/start && ls -l /dev/nvme0n1 /dev/nvme0n1p1",
  "mixed.sh": "/bin/diskfile vda && /bin/diskfile sda && /bin/diskfile nvme0n1 && /bin/diskfile nvme1n1 && " +
    "cat /proc/partitions /proc/interrupts",
  "nomsi.sh": "/bin/diskfile nvme0n1 && cat /proc/interrupts",
  "4k.sh": "cat /proc/partitions && /bin/blockload nvme0n1 readers && " +
    "dd if=/dev/zero of=/dev/nvme0n1 bs=512 seek=9 count=1 conv=fsync",
};
let initramfs = "";

beforeAll(async () => {
  await buildOnce();
  const dir = scratchDir("nvme-scripts");
  for (const [name, text] of Object.entries(SCRIPTS)) writeFileSync(join(dir, name), `${text}\n`);
  initramfs = await initramfsWith([`/etc/nvme=${dir}`]);
}, TEST_TIMEOUT);

/** Boots `sh /etc/nvme/SCRIPT` as init with `disks`; fails unless it exits 0. Returns what was printed after boot. */
async function runScript(script: string, disks: string[]): Promise<{ serial: string; output: string }> {
  const result = await bootInit({ program: "sh", args: [`/etc/nvme/${script}`], initramfs, disks });
  expectExit(result, EXIT_SUCCESS);
  const output = programOutput(result.serial);
  expect(failedChecks(output), result.serial).toEqual([]);
  return { serial: result.serial, output };
}

/** A 16 MiB disk (or `mebibytes`) with user/diskfile.c's pattern and partition 1 at sectors 2048..10239. */
function writeImage(name: string, mebibytes = 16): { path: string; original: Buffer } {
  const path = join(scratchDir("nvme"), name);
  makePatternDisk(path, mebibytes, [[2048, 8192]]);
  return { path, original: readFileSync(path) };
}

/** Fails naming the first differing byte unless the image holds exactly what diskfile wrote. */
function expectDiskfileWrites(path: string, original: Buffer): void {
  const expected = Buffer.from(original);
  const partition = 2048 * SECTOR;
  const put = (text: string, at: number) => Buffer.from(`${text}\0`).copy(expected, at);
  put("written by pwrite", 5000);
  put("stored through mmap", partition + 3 * 4096);
  put("stored after the sync", partition + 5 * 4096);
  Buffer.from("writ").copy(expected, partition + 8192 * SECTOR - 4); // the write across the partition's end
  const image = readFileSync(path);
  expect(image.length).toBe(expected.length);
  const first = image.findIndex((byte, i) => byte !== expected[i]);
  expect(first, `${path}: byte ${first} is ${image[first]}, expected ${expected[first]}`).toBe(-1);
}

// One QEMU at a time: the machine's two cores are shared.
describe("nvme", () => {
  it("diskfile: /dev/nvme0n1 and nvme0n1p1 read and write; the image holds exactly the bytes written; 259:0 and 259:1", async () => {
    const disk = writeImage("nvme0n1.img");
    const { serial, output } = await runScript("one.sh", [`${disk.path},nvme`]);
    expect(serial).toMatch(/^nvme: nvme0n1 on 0:[0-9a-f]+\.0: QEMU NVMe Ctrl, 512-byte blocks, write cache (on|off)$/m);
    expect(serial).toContain("nvme0n1: 32768 sectors (16 MiB), 1 partitions\n");
    expect(output).toContain("diskfile: 0 failed\n");
    expect(output).toMatch(/^ +259 +0 +16384 nvme0n1$/m);
    expect(output).toMatch(/^ +259 +1 +4096 nvme0n1p1$/m);
    expect(output).toMatch(/^259:0\n259:1\n2048$/m);
    expect(output).toMatch(/^brw-rw---- +1 root +root +259, +0 .* \/dev\/nvme0n1$/m);
    expect(output).toMatch(/^brw-rw---- +1 root +root +259, +1 .* \/dev\/nvme0n1p1$/m);
    expectDiskfileWrites(disk.path, disk.original);
  }, TEST_TIMEOUT);

  it("two NVMe disks beside a virtio and a SATA disk: each its own image, numbered in turn, interrupting by MSI-X", async () => {
    const images = ["vda", "sda", "nvme0", "nvme1"].map((name) => writeImage(`mixed-${name}.img`));
    const kinds = ["", ",ahci", ",nvme", ",nvme,writeback"];
    const { serial, output } = await runScript("mixed.sh", images.map((image, i) => `${image.path}${kinds[i]}`));
    expect(output.match(/^diskfile: 0 failed$/gm), serial).toHaveLength(4);
    images.forEach((image) => expectDiskfileWrites(image.path, image.original));
    expect(serial).toMatch(/^nvme: nvme1n1 on 0:[0-9a-f]+\.0: QEMU NVMe Ctrl, 512-byte blocks, write cache on$/m);
    for (const [minor, name] of [[0, "nvme0n1"], [1, "nvme0n1p1"], [2, "nvme1n1"], [3, "nvme1n1p1"]]) {
      expect(output, serial).toMatch(new RegExp(`^ +259 +${minor} +\\d+ ${name}$`, "m"));
    }
    const lines = [...output.matchAll(/^ *\d+: +(\d+) +PCI-MSIX-0000:00:[0-9a-f]{2}\.0 +0-edge +nvme$/gm)];
    expect(lines, output).toHaveLength(2);
    for (const line of lines) expect(Number(line[1]), output).toBeGreaterThan(0);
  }, TEST_TIMEOUT);

  it("pci=nomsi: the NVMe disk on its level-triggered INTx line through the IO-APIC", async () => {
    const disk = writeImage("nomsi.img");
    const result = await bootInit({
      program: "sh", args: ["/etc/nvme/nomsi.sh"], options: "pci=nomsi", initramfs, disks: [`${disk.path},nvme`],
    });
    expectExit(result, EXIT_SUCCESS);
    const output = programOutput(result.serial);
    expect(failedChecks(output), result.serial).toEqual([]);
    const line = output.match(/^ *\d+: +(\d+) +IO-APIC +\d+-fasteoi +(.*\bnvme\b.*)$/m);
    expect(line, output).not.toBeNull();
    expect(Number(line![1]), output).toBeGreaterThan(0);
    expectDiskfileWrites(disk.path, disk.original);
  }, TEST_TIMEOUT);

  it("ext2 on NVMe: mounted, changed and unmounted; e2fsck finds it clean", async () => {
    const dir = scratchDir("nvme-ext2");
    const root = join(dir, "root");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "hello"), "hello from the host\n");
    writeFileSync(join(root, "old"), Buffer.alloc(30000, 1));
    const image = join(dir, "ext2.img");
    execFileSync("mke2fs", ["-q", "-F", "-t", "ext2", "-b", "1024", "-E", "root_owner=0:0", "-d", root, image, "8m"]);
    const result = await bootInit({ program: "ext2", args: ["nvme0n1"], disks: [`${image},nvme`] });
    const output = programOutput(result.serial);
    expect(failedChecks(output), result.serial).toEqual([]);
    expect(output).toContain("ext2: 0 failed");
    expectExit(result, EXIT_SUCCESS);
    const check = spawnSync("e2fsck", ["-fn", image], { encoding: "utf8" });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
  }, TEST_TIMEOUT);

  it("a namespace of 4 KiB blocks: its MBR counts in blocks, pages read, a 512-byte write lands in its block", async () => {
    const path = join(scratchDir("nvme"), "4k.img");
    makePatternDisk(path, 16, [[256, 1024]]); // in 4 KiB blocks: sectors 2048..10239
    const expected = readFileSync(path).fill(0, 9 * SECTOR, 10 * SECTOR);
    const { serial, output } = await runScript("4k.sh", [`${path},nvme4k`]);
    expect(serial).toMatch(/^nvme: nvme0n1 on 0:[0-9a-f]+\.0: QEMU NVMe Ctrl, 4096-byte blocks, write cache (on|off)$/m);
    expect(output).toMatch(/^ +259 +1 +4096 nvme0n1p1$/m);
    expect(output).toContain("blockload: 0 failed\n");
    expect(readFileSync(path).equals(expected), "only sector 9 is written").toBe(true);
  }, TEST_TIMEOUT);

  it("a sector that fails fails its request with EIO and a log line; the disk goes on", async () => {
    const disk = writeImage("bad.img");
    const rules = join(scratchDir("nvme"), "blkdebug.conf");
    writeFileSync(rules, '[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "3000"\n');
    const result = await bootInit({
      program: "blockload", args: ["nvme0n1", "readers", "3000"], disks: [`blkdebug:${rules}:${disk.path},nvme`],
    });
    expectExit(result, EXIT_SUCCESS);
    const output = programOutput(result.serial);
    expect(failedChecks(output), result.serial).toEqual([]);
    expect(output).toMatch(/^nvme: nvme0n1: error reading sector 3000 \(8 sectors\): status [0-9a-f]+$/m);
    expect(output).toContain("ok four readers at once read the pattern\n");
    expect(output).toContain("ok a good page still reads after the errors\n");
  }, TEST_TIMEOUT);

  it("reads a 64 MiB disk through /dev/nvme0n1 in 1 MiB reads", async () => {
    const disk = writeImage("speed.img", 64);
    const result = await bootInit({ program: "blockload", args: ["nvme0n1", "speed"], disks: [`${disk.path},nvme`] });
    expectExit(result, EXIT_SUCCESS);
    const rate = programOutput(result.serial).match(/^blockload: read 64 MiB in (\d+) ms \((\d+) MiB\/s\)$/m);
    expect(rate, result.serial).not.toBeNull();
    console.log(`nvme: read 64 MiB in ${rate![1]} ms (${rate![2]} MiB/s) under TCG`);
  }, TEST_TIMEOUT);
});
