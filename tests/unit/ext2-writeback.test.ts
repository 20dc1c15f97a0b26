// kernel/fs/ext2 writeback in runs (file_pages.ts, writeFilePages): fsync
// of a file whose pages are wholly dirty writes each stretch of its blocks
// that lie one after another on the disk with one request, and the blocks
// end up where the map says, holes filled where written and left where
// not, the file's last partial page cut at its end, and a failing disk
// reported once. The RAM disk logs every write; the map comes from
// debugfs after umount, and e2fsck -fn must find nothing wrong.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contents } from "./initramfs";
import { AT_FDCWD, O_CREAT, O_WRONLY, path, sys } from "./process";
import {
  type Disk, SYSCALL, bootDisk, debugfs, diskImage, fsck, makeImage, mount, open, pwrite, readFile, stat, umount,
} from "./ext2-disk";

const SYS = { close: 3, ftruncate: 77, unlinkat: 263 };
const EIO = -5;
const PAGE = 4096;
/** Pages mm/writeback.ts puts in one run at most. */
const RUN_PAGES = 32;

interface Write {
  sector: number;
  count: number;
}

/** The writes the disk saw from the `from`-th on. */
function writesSince(d: Disk, from: number): Write[] {
  const total = d.k.exports.ramDiskWrites(d.device);
  const log = d.k.exports.ramDiskWriteLog(d.device) >>> 0;
  const view = d.k.view();
  const writes: Write[] = [];
  for (let i = from; i < total; i++) {
    writes.push({ sector: Number(view.getBigUint64(log + i * 16, true)), count: view.getUint32(log + i * 16 + 8, true) });
  }
  return writes;
}

/** The disk block of each block of file `name` (0 for a hole), from debugfs stat's BLOCKS list. */
function blockMap(image: Uint8Array, name: string, blocks: number): number[] {
  const text = debugfs(image, `stat ${name}`).toString();
  const map = new Array<number>(blocks).fill(0);
  const list = text.slice(text.indexOf("BLOCKS:"));
  for (const [, first, last, start] of list.matchAll(/\((\d+)(?:-(\d+))?\):(\d+)/g)) {
    for (let logical = Number(first); logical <= Number(last ?? first); logical++) map[logical] = Number(start) + logical - Number(first);
  }
  return map;
}

/** Stretches of the map whose blocks follow each other on the disk: [first logical block, length]. */
function stretches(map: number[]): [number, number][] {
  const found: [number, number][] = [];
  for (let i = 0; i < map.length; i++) {
    if (map[i] === 0) continue;
    const last = found[found.length - 1];
    if (last && i === last[0] + last[1] && map[i] === map[i - 1] + 1) last[1]++;
    else found.push([i, 1]);
  }
  return found;
}

/**
 * The writes that carried the file's data, checked: each is a stretch of
 * consecutive disk blocks that are consecutive in the file too, and every
 * block of the file in [first, end) is written exactly once.
 */
function dataWrites(writes: Write[], map: number[], blockSize: number, first = 0, end = map.length): Write[] {
  const perBlock = blockSize / 512;
  const owner = new Map<number, number>(); // disk block → logical block
  map.forEach((block, logical) => block !== 0 && logical >= first && logical < end && owner.set(block, logical));
  const written = new Set<number>();
  const data = writes.filter((w) => owner.has(w.sector / perBlock));
  for (const w of data) {
    expect(w.sector % perBlock, "a data write starts at a block").toBe(0);
    expect(w.count % perBlock, "a data write is whole blocks").toBe(0);
    const start = owner.get(w.sector / perBlock)!;
    for (let i = 0; i < w.count / perBlock; i++) {
      expect(map[start + i], `block ${start + i} where the write put it`).toBe(w.sector / perBlock + i);
      expect(written.has(start + i), `block ${start + i} written once`).toBe(false);
      written.add(start + i);
    }
  }
  for (let logical = first; logical < end; logical++) {
    if (map[logical] !== 0) expect(written.has(logical), `block ${logical} written`).toBe(true);
  }
  return data;
}

function fsync(d: Disk, fd: number): number {
  return sys(d.p, SYSCALL.fsync, fd);
}

function checkClean(image: Uint8Array): void {
  const check = fsck(image);
  expect(check.status, check.output).toBe(0);
}

/** Blocks a file of `size` bytes with no holes takes, with its indirect blocks (two levels: enough here). */
function blocksWithIndirect(size: number, blockSize: number): number {
  const data = Math.ceil(size / blockSize), perBlock = blockSize / 4;
  const doubly = Math.max(0, data - 12 - perBlock);
  return data + (data > 12 ? 1 : 0) + (doubly > 0 ? 1 + Math.ceil(doubly / perBlock) : 0);
}

describe.each([1024, 2048, 4096] as const)("ext2 writeback runs with %d-byte blocks", (blockSize) => {
  const perPage = PAGE / blockSize;

  it("writes a contiguous file in one request a run", () => {
    const d = bootDisk(makeImage({ blockSize, kib: 16384 }));
    expect(mount(d)).toBe(0);
    const pages = 100;
    const data = contents(pages * PAGE, 3);
    const fd = open(d.p, "/mnt/file", O_CREAT | O_WRONLY);
    expect(pwrite(d.p, fd, data)).toBe(data.length);
    const before = d.k.exports.ramDiskWrites(d.device);
    expect(fsync(d, fd)).toBe(0);
    const writes = writesSince(d, before);
    expect(sys(d.p, SYS.close, fd)).toBe(0);
    expect((stat(d.p, "/mnt/file") as { blocks: number }).blocks).toBe(blocksWithIndirect(data.length, blockSize) * blockSize / 512);
    expect(umount(d)).toBe(0);
    const image = diskImage(d);
    checkClean(image);
    const map = blockMap(image, "/file", pages * perPage);
    const written = dataWrites(writes, map, blockSize);
    // One request a stretch of a run: the runs are 32 pages, and the indirect blocks split the stretches.
    const pieces = stretches(map).length;
    expect(written.length).toBeGreaterThanOrEqual(Math.ceil(pages / RUN_PAGES));
    expect(written.length).toBeLessThanOrEqual(pieces + Math.ceil(pages / RUN_PAGES));
    expect(writes.length, "all writes of the fsync, metadata too").toBeLessThan(pages / 4);
    expect(mount(d)).toBe(0);
    expect(Buffer.compare(Buffer.from(readFile(d.p, "/mnt/file") as Uint8Array), Buffer.from(data))).toBe(0);
  });

  it("splits a run where the free space is fragmented", () => {
    // 160 one-block files, three of every four then removed: the free space is three-block holes.
    const image = makeImage({
      blockSize, kib: 16384,
      populate: (dir) => {
        for (let i = 0; i < 160; i++) writeFileSync(join(dir, `f${i}`), contents(blockSize, i));
      },
    });
    const d = bootDisk(image);
    expect(mount(d)).toBe(0);
    for (let i = 0; i < 160; i++) if (i % 4 !== 3) expect(sys(d.p, SYS.unlinkat, AT_FDCWD, path(d.p, `/mnt/f${i}`), 0)).toBe(0);
    const pages = 12;
    const data = contents(pages * PAGE, 7);
    const fd = open(d.p, "/mnt/file", O_CREAT | O_WRONLY);
    expect(pwrite(d.p, fd, data)).toBe(data.length);
    const before = d.k.exports.ramDiskWrites(d.device);
    expect(fsync(d, fd)).toBe(0);
    const writes = writesSince(d, before);
    expect(sys(d.p, SYS.close, fd)).toBe(0);
    expect(umount(d)).toBe(0);
    const after = diskImage(d);
    checkClean(after);
    const map = blockMap(after, "/file", pages * perPage);
    const pieces = stretches(map).length;
    expect(pieces, "the file is in pieces").toBeGreaterThan(1);
    expect(dataWrites(writes, map, blockSize).length, "one request a piece (one run)").toBe(pieces);
    expect(mount(d)).toBe(0);
    expect(Buffer.compare(Buffer.from(readFile(d.p, "/mnt/file") as Uint8Array), Buffer.from(data))).toBe(0);
  });

  it("gives blocks to the holes a run fills and leaves the others", () => {
    const d = bootDisk(makeImage({ blockSize, kib: 16384 }));
    expect(mount(d)).toBe(0);
    const fd = open(d.p, "/mnt/sparse", O_CREAT | O_WRONLY);
    const head = contents(PAGE, 1), tail = contents(PAGE, 2), middle = contents(16 * PAGE, 3);
    expect(pwrite(d.p, fd, head, 0)).toBe(PAGE);
    expect(pwrite(d.p, fd, tail, 64 * PAGE)).toBe(PAGE);
    expect(fsync(d, fd)).toBe(0);
    expect(pwrite(d.p, fd, middle, 16 * PAGE)).toBe(middle.length);
    const before = d.k.exports.ramDiskWrites(d.device);
    expect(fsync(d, fd)).toBe(0);
    const writes = writesSince(d, before);
    expect(sys(d.p, SYS.close, fd)).toBe(0);
    const size = 65 * PAGE;
    expect((stat(d.p, "/mnt/sparse") as { blocks: number }).blocks).toBe((18 * PAGE + blockSize) / 512); // and the indirect block
    expect(umount(d)).toBe(0);
    const image = diskImage(d);
    checkClean(image);
    const map = blockMap(image, "/sparse", size / blockSize);
    for (let logical = 0; logical < map.length; logical++) {
      const page = Math.floor(logical / perPage);
      expect(map[logical] !== 0, `block ${logical} mapped`).toBe(page === 0 || page === 64 || (page >= 16 && page < 32));
    }
    const data = dataWrites(writes, map, blockSize, 16 * perPage, 32 * perPage);
    expect(data.length).toBeLessThanOrEqual(stretches(map.map((b, i) => (i >= 16 * perPage && i < 32 * perPage ? b : 0))).length);
    const expected = Buffer.alloc(size);
    expected.set(head, 0);
    expected.set(middle, 16 * PAGE);
    expected.set(tail, 64 * PAGE);
    expect(mount(d)).toBe(0);
    expect(Buffer.compare(Buffer.from(readFile(d.p, "/mnt/sparse") as Uint8Array), expected)).toBe(0);
  });

  it("writes the last partial page of a run only up to the file's end", () => {
    const d = bootDisk(makeImage({ blockSize, kib: 16384 }));
    expect(mount(d)).toBe(0);
    const data = contents(5 * PAGE, 4);
    const size = 4 * PAGE + 2 * 1024 + 100; // into the last page's third kilobyte
    const fd = open(d.p, "/mnt/short", O_CREAT | O_WRONLY);
    expect(pwrite(d.p, fd, data)).toBe(data.length);
    expect(sys(d.p, SYS.ftruncate, fd, size)).toBe(0); // the last page stays wholly dirty: it joins the run
    const before = d.k.exports.ramDiskWrites(d.device);
    expect(fsync(d, fd)).toBe(0);
    const writes = writesSince(d, before);
    expect(sys(d.p, SYS.close, fd)).toBe(0);
    expect((stat(d.p, "/mnt/short") as { blocks: number }).blocks).toBe(blocksWithIndirect(size, blockSize) * blockSize / 512);
    expect(umount(d)).toBe(0);
    const image = diskImage(d);
    checkClean(image);
    const blocks = Math.ceil(size / blockSize);
    const map = blockMap(image, "/short", blocks);
    const written = dataWrites(writes, map, blockSize);
    expect(written.length).toBe(stretches(map).length);
    expect(written.reduce((sum, w) => sum + w.count, 0), "nothing past the end's block").toBe(blocks * blockSize / 512);
    expect(mount(d)).toBe(0);
    expect(Buffer.compare(Buffer.from(readFile(d.p, "/mnt/short") as Uint8Array), Buffer.from(data.subarray(0, size)))).toBe(0);
  });

  it("reports a failed run's error once, and writes again once the disk works", () => {
    const d = bootDisk(makeImage({ blockSize, kib: 16384 }));
    expect(mount(d)).toBe(0);
    const pages = 40;
    const fd = open(d.p, "/mnt/file", O_CREAT | O_WRONLY);
    expect(pwrite(d.p, fd, contents(pages * PAGE, 5))).toBe(pages * PAGE);
    let before = d.k.exports.ramDiskWrites(d.device);
    expect(fsync(d, fd)).toBe(0);
    // The blocks are in place now: the disk fails from the middle of the largest write (a run's) on.
    const largest = writesSince(d, before).reduce((a, b) => (b.count > a.count ? b : a));
    d.k.exports.ramDiskFailFrom(d.device, BigInt(largest.sector + largest.count / 2));
    const data = contents(pages * PAGE, 6);
    expect(pwrite(d.p, fd, data)).toBe(data.length);
    before = d.k.exports.ramDiskWrites(d.device);
    expect(fsync(d, fd)).toBe(EIO);
    expect(writesSince(d, before).length, "runs, not pages").toBeLessThan(pages / 4);
    expect(fsync(d, fd), "reported once").toBe(0);
    d.k.exports.ramDiskFailFrom(d.device, 0xffffffffffffffffn);
    expect(pwrite(d.p, fd, data)).toBe(data.length);
    expect(fsync(d, fd)).toBe(0);
    expect(sys(d.p, SYS.close, fd)).toBe(0);
    expect(umount(d)).toBe(0);
    checkClean(diskImage(d));
    expect(mount(d)).toBe(0);
    expect(Buffer.compare(Buffer.from(readFile(d.p, "/mnt/file") as Uint8Array), Buffer.from(data))).toBe(0);
  });
});
