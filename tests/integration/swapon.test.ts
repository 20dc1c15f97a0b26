// Swap areas (kernel/fs/swap_on.ts, swap_off.ts, kernel/procfs/swaps.ts):
// user/swapareas.c puts partitions and ext2 swap files made by Debian's
// mkswap (util-linux, Essential: always installed) in use and out again,
// and checks /proc/swaps, /proc/meminfo and every refusal with Linux's
// errnos; a swap file on 1 KiB blocks has as many slots as debugfs finds
// runs of blocks in order on the disk. 80 MiB on a 64 MiB machine go out
// to a disk and to an ext2 swap file and come back right. A boot has the
// kernel take swap=/dev/vda1 itself, then busybox's swapon (-d: discards
// asked for), swapoff and mkswap work with it. The ext2 disks are
// e2fsck-clean afterwards.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, expectExit } from "./qemu";
import { bootInit, buildOnce, failedChecks, initramfsWith, programOutput, scratchDir } from "./programs";
// @ts-expect-error: a plain JavaScript module, shared with the scripts
import { masterBootRecord } from "../../scripts/disk-image.mjs";

const TEST_TIMEOUT = 240_000;
const SECTOR = 512;
const PAGE = 4096;
const MKSWAP = "/usr/sbin/mkswap";
let dir = "";
let initramfs = "";

/** A file of `pages` pages made a swap area by mkswap: its bytes. */
function mkswap(name: string, pages: number): Buffer {
  const path = join(dir, name);
  writeFileSync(path, Buffer.alloc(0));
  execFileSync("truncate", ["-s", String(pages * PAGE), path]);
  execFileSync(MKSWAP, [path], { stdio: ["ignore", "ignore", "pipe"] }); // it warns of the holes, which are the host's business
  return readFileSync(path);
}

/**
 * vda: vda1 a 4 MiB area; vda2 a 2 MiB one listing bad pages 5, 6 and 7
 * (written into its header here: mkswap -c would need a real bad disk);
 * vda3 with the old "SWAP-SPACE" magic; vda4 1 MiB holding a 2 MiB area's
 * header (a truncated area).
 */
function swapDisk(name: string): string {
  const partitions = [[2048, 8192], [10240, 4096], [14336, 2048], [16384, 2048]];
  const path = join(dir, name);
  const fd = openSync(path, "w");
  writeSync(fd, masterBootRecord(Buffer.alloc(SECTOR), partitions), 0, SECTOR, 0);
  const write = (bytes: Buffer, sector: number) => writeSync(fd, bytes, 0, bytes.length, sector * SECTOR);
  write(mkswap("vda1", 1024), 2048);
  const bad = mkswap("vda2", 512);
  bad.writeUInt32LE(3, 1032);
  [5, 6, 7].forEach((page, i) => bad.writeUInt32LE(page, 1536 + i * 4));
  write(bad, 10240);
  const oldMagic = mkswap("vda3", 256);
  oldMagic.write("SWAP-SPACE", PAGE - 10, "latin1");
  write(oldMagic, 14336);
  write(mkswap("vda4", 512).subarray(0, 256 * PAGE), 16384);
  closeSync(fd);
  return path;
}

function ext2Disk(name: string, blockSize: number): string {
  const path = join(dir, name);
  execFileSync("mke2fs", ["-q", "-F", "-t", "ext2", "-b", String(blockSize), "-E", "root_owner=0:0", path, "16m"]);
  return path;
}

/**
 * The KiB of swap a file of `pages` pages on `image` gives, found as Linux's
 * generic_swapfile_activate finds it (fs/swap_extents.ts does the same):
 * from the file's page 1 on, each page's worth of blocks in order on the
 * disk is a slot, and after a run broken on the disk the next probe starts
 * one block on.
 */
function slotsInOrder(image: string, file: string, pages: number, blockSize: number): number {
  const perPage = PAGE / blockSize;
  const blocks = pages * perPage;
  const commands = join(dir, "bmap.cmds");
  writeFileSync(commands, Array.from({ length: blocks }, (_, b) => `bmap ${file} ${b}\n`).join(""));
  const out = execFileSync("debugfs", ["-f", commands, image], { stdio: ["ignore", "pipe", "ignore"], maxBuffer: 1 << 24 });
  const map = out.toString().split("\n").filter((l) => /^\d+$/.test(l.trim())).map(Number);
  expect(map).toHaveLength(blocks);
  let slots = 0;
  for (let probe = perPage; slots < pages - 1 && probe + perPage <= blocks;) {
    let run = 1;
    while (run < perPage && map[probe + run] === map[probe] + run) run++;
    if (run < perPage) probe++;
    else {
      slots++;
      probe += perPage;
    }
  }
  return slots * 4;
}

beforeAll(async () => {
  await buildOnce();
  dir = scratchDir("swapon");
  const templates = join(dir, "templates");
  mkdirSync(templates);
  writeFileSync(join(templates, "file.tmpl"), mkswap("file", 512));
  writeFileSync(join(templates, "small.tmpl"), mkswap("small", 10));
  writeFileSync(join(dir, "busybox.sh"), "/bin/swapareas boot || exit 1\n" +
    "swapon -d /dev/vda1 && echo 'with -d:' && cat /proc/swaps && swapoff /dev/vda1 && echo 'after swapoff:' && cat /proc/swaps\n" +
    "mkswap /dev/vda3 >/dev/null && swapon /dev/vda3 && echo 'busybox mkswap:' && cat /proc/swaps && swapoff /dev/vda3\n" +
    "swapon /dev/vda4 || echo 'vda4 refused'\n");
  initramfs = await initramfsWith([`/swap=${templates}`, `/etc/busybox-swap.sh=${join(dir, "busybox.sh")}`]);
}, TEST_TIMEOUT);

const line = (path: string, type: string, kib: number, priority: number) =>
  `${path}${" ".repeat(Math.max(40 - path.length, 1))}${type}\t${kib}\t\t0\t\t${priority}\n`;
const HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

/** An ext2 image of 1 KiB blocks holding /swapfile, a swap area of `mib` MiB whose pages after the header are written (no holes). */
function ext2WithSwapFile(name: string, mib: number): string {
  const root = join(dir, `${name}-root`);
  mkdirSync(root);
  const area = mkswap(`${name}-area`, mib * 256);
  area.fill(0xa5, PAGE);
  writeFileSync(join(root, "swapfile"), area);
  const path = join(dir, name);
  execFileSync("mke2fs", ["-q", "-F", "-t", "ext2", "-b", "1024", "-E", "root_owner=0:0", "-d", root, path, `${mib + 32}m`]);
  return path;
}

describe.concurrent("swap areas", () => {
  it("swapon and swapoff of partitions and ext2 files: /proc/swaps, meminfo, priorities, EBUSY, ETXTBSY, every refusal", async () => {
    const image = ext2Disk("files.img", 4096);
    const small = ext2Disk("small-blocks.img", 1024);
    const result = await bootInit({ program: "swapareas", disks: [swapDisk("swap.img"), image, small], initramfs });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    expect(output).toContain("swapareas: 0 failed");
    expect(output).toContain("swapon: swapfile has holes");
    expectExit(result, EXIT_SUCCESS);
    for (const disk of [image, small]) {
      const check = spawnSync("e2fsck", ["-fn", disk], { encoding: "utf8" });
      expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    }
    const kib = Number(/^1k-blocks-kib (-?\d+)$/m.exec(output)?.[1]);
    expect(kib, output).toBe(slotsInOrder(small, "/swapfile", 512, 1024));
  }, TEST_TIMEOUT);

  it("80 MiB on a 64 MiB machine: pages out to a disk (swap=) and to an ext2 file of 1 KiB blocks, and back, every word right", async () => {
    const disk = join(dir, "whole.img");
    writeFileSync(disk, mkswap("whole", 96 * 256));
    const onDisk = await bootInit({
      program: "swapareas", args: ["fill", "80", "/dev/vda"], options: "swap=/dev/vda", memory: "64M", disks: [disk], initramfs,
    });
    const image = ext2WithSwapFile("paged.img", 96);
    const inFile = await bootInit({
      program: "swapareas", args: ["fill", "80", "/mnt/swapfile", "/dev/vda"], memory: "64M", disks: [image], initramfs,
    });
    for (const result of [onDisk, inFile]) {
      const output = programOutput(result.serial);
      expect(failedChecks(output), output).toEqual([]);
      expect(output).toContain("swapareas: 0 failed");
      expectExit(result, EXIT_SUCCESS);
    }
    const check = spawnSync("e2fsck", ["-fn", image], { encoding: "utf8" });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
  }, TEST_TIMEOUT);

  it("swap=/dev/vda1 at boot; busybox's swapon -d, swapoff and mkswap", async () => {
    const result = await bootInit({
      program: "sh", args: ["/etc/busybox-swap.sh"], options: "swap=/dev/vda1", disks: [swapDisk("boot.img")], initramfs,
    });
    const output = programOutput(result.serial).replace(/^swapon: adding .*\n/gm, ""); // the kernel's log lines
    expect(failedChecks(output), output).toEqual([]);
    expect(result.serial).toContain("swapon: adding 4092 KiB of swap, priority -2, 1 extents");
    expect(output).toContain(`with -d:\n${HEADER}${line("/dev/vda1", "partition", 4092, -2)}after swapoff:\n${HEADER}busybox mkswap:\n` +
      `${HEADER}${line("/dev/vda3", "partition", 1020, -2)}`);
    expect(output).toContain("vda4 refused");
    expectExit(result, EXIT_SUCCESS);
  }, TEST_TIMEOUT);
});
