// kernel/fs/ext2 read-only: images made by mke2fs -d (block sizes 1, 2 and
// 4 KiB, revisions 0 and 1) mounted from a RAM disk and read back through
// the system calls: directory listings (one spanning many blocks, read
// with a small getdents64 buffer so the cursor is used), file bytes
// (direct, indirect and double-indirect blocks, a sparse file's holes,
// a size that ends mid-block), fast and slow symbolic links, a device
// node's number, and stat's sizes and link counts. A read-only mount
// refuses changes (EROFS) and leaves the image as it was.
import { mkdirSync, symlinkSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contents } from "./initramfs";
import { AT_FDCWD, O_CREAT, O_WRONLY, path, sys } from "./process";
import {
  MS_RDONLY, bootDisk, diskImage, listDirectory, makeImage, mount, names, open, readFile, readLink, stat, umount,
} from "./ext2-disk";

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;
const EROFS = -30;
const ENOENT = -2;

const FILES: Record<string, number> = {
  empty: 0,
  small: 10,
  "mid-block": 1500,
  pages: 3 * 4096 + 7,
  indirect: 100 * 1024,
  "double-indirect": 400 * 1024,
};
const SPARSE_SIZE = 3 * 1024 * 1024 + 5;
const LONG_TARGET = `${"long/".repeat(30)}target`;

function populate(dir: string): void {
  Object.entries(FILES).forEach(([name, size], i) => writeFileSync(join(dir, name), contents(size, i + 1)));
  const sparse = openSync(join(dir, "sparse"), "w");
  writeSync(sparse, Buffer.from("head"), 0, 4, 0);
  writeSync(sparse, Buffer.from("middle"), 0, 6, 1024 * 1024 + 100);
  closeSync(sparse);
  truncateSync(join(dir, "sparse"), SPARSE_SIZE);
  mkdirSync(join(dir, "many"));
  for (let i = 0; i < 150; i++) writeFileSync(join(dir, "many", `file-with-a-longish-name-${i}`), `${i}\n`);
  mkdirSync(join(dir, "sub/deeper"), { recursive: true });
  writeFileSync(join(dir, "sub/deeper/leaf"), "leaf\n");
  symlinkSync("sub/deeper/leaf", join(dir, "fast-link"));
  symlinkSync(LONG_TARGET, join(dir, "slow-link"));
  execFileSync("mknod", [join(dir, "null"), "c", "1", "3"]);
}

function expectedSparse(): Uint8Array {
  const out = new Uint8Array(SPARSE_SIZE);
  out.set(Buffer.from("head"), 0);
  out.set(Buffer.from("middle"), 1024 * 1024 + 100);
  return out;
}

const LAYOUTS = [
  { blockSize: 1024, revision: 1 },
  { blockSize: 2048, revision: 1 },
  { blockSize: 4096, revision: 1 },
  { blockSize: 1024, revision: 0 },
] as const;

describe.each(LAYOUTS)("an image with $blockSize-byte blocks, revision $revision", ({ blockSize, revision }) => {
  const image = makeImage({ blockSize, revision, kib: 8192, populate });

  it("mounts read-only and reads every file, directory and link as mke2fs wrote them", () => {
    const d = bootDisk(image);
    const { p } = d;
    expect(mount(d, MS_RDONLY)).toBe(0);
    expect(names(p, "/mnt")).toEqual(
      [...Object.keys(FILES), "fast-link", "lost+found", "many", "null", "slow-link", "sparse", "sub"].sort(),
    );
    Object.entries(FILES).forEach(([name, size], i) => {
      expect(Buffer.compare(readFile(p, `/mnt/${name}`) as Buffer, Buffer.from(contents(size, i + 1))), name).toBe(0);
      expect((stat(p, `/mnt/${name}`) as { size: number }).size).toBe(size);
    });
    expect(Buffer.compare(readFile(p, "/mnt/sparse") as Buffer, Buffer.from(expectedSparse()))).toBe(0);
    const sparse = stat(p, "/mnt/sparse") as { blocks: number };
    expect(sparse.blocks * 512).toBeLessThan(64 * 1024); // the holes take no blocks
    expect(latin1Of(readFile(p, "/mnt/fast-link"))).toBe("leaf\n");
    expect(readLink(p, "/mnt/fast-link")).toBe("sub/deeper/leaf");
    expect(readLink(p, "/mnt/slow-link")).toBe(LONG_TARGET);
    const device = stat(p, "/mnt/null") as { mode: number; rdev: number };
    expect(device.mode & S_IFMT).toBe(S_IFCHR);
    expect(device.rdev).toBe((1 << 8) | 3);
    const root = stat(p, "/mnt") as { mode: number; nlink: number; ino: bigint };
    expect(root.mode & S_IFMT).toBe(S_IFDIR);
    expect(root.ino).toBe(2n);
    expect((stat(p, "/mnt/small") as { blksize: number }).blksize).toBe(blockSize); // as Linux's ext2: its block size
    expect(root.nlink).toBe(5); // ".", "..", and lost+found, many and sub's ".."
    expect((stat(p, "/mnt/sub/deeper/leaf") as { mode: number }).mode & S_IFMT).toBe(S_IFREG);
    expect(latin1Of(readFile(p, "/mnt/sub/deeper/../deeper/leaf"))).toBe("leaf\n");
  });

  it("lists a directory of many blocks through a small getdents64 buffer", () => {
    const d = bootDisk(image);
    const { p } = d;
    expect(mount(d, MS_RDONLY)).toBe(0);
    const entries = listDirectory(p, "/mnt/many", 200);
    if (typeof entries === "number") throw new Error(`getdents64: ${entries}`);
    const listed = entries.map((e) => e.name).filter((n) => n !== "." && n !== "..").sort();
    expect(listed).toEqual(Array.from({ length: 150 }, (_, i) => `file-with-a-longish-name-${i}`).sort());
    expect(new Set(entries.map((e) => e.ino)).size).toBe(152);
    // Revision 0 has no file types in its entries: DT_UNKNOWN.
    for (const e of entries) expect(e.type).toBe(revision === 0 ? 0 : e.name.startsWith(".") ? 4 : 8);
    expect(latin1Of(readFile(p, "/mnt/many/file-with-a-longish-name-77"))).toBe("77\n");
  });

  it("refuses changes on a read-only mount and leaves the image unchanged", () => {
    const d = bootDisk(image);
    const { p } = d;
    expect(mount(d, MS_RDONLY)).toBe(0);
    expect(open(p, "/mnt/new", O_CREAT | O_WRONLY)).toBe(EROFS);
    expect(sys(p, 258, AT_FDCWD, path(p, "/mnt/dir"), 0o755)).toBe(EROFS);
    expect(sys(p, 263, AT_FDCWD, path(p, "/mnt/small"), 0)).toBe(EROFS);
    expect(sys(p, 76, path(p, "/mnt/small"), 0)).toBe(EROFS);
    expect(open(p, "/mnt/small", O_WRONLY)).toBe(EROFS);
    expect(sys(p, 268, AT_FDCWD, path(p, "/mnt/small"), 0o600)).toBe(EROFS); // fchmodat
    expect(sys(p, 280, AT_FDCWD, path(p, "/mnt/small"), 0, 0)).toBe(EROFS); // utimensat
    const fd = open(p, "/mnt/small", 0);
    expect(sys(p, 74, fd)).toBe(0); // fsync: nothing to write
    expect(umount(d)).toBe(-16); // EBUSY while it is open
    expect(sys(p, 3, fd)).toBe(0);
    expect(stat(p, "/mnt/new")).toBe(ENOENT);
    expect(umount(d)).toBe(0);
    expect(Buffer.compare(Buffer.from(diskImage(d)), Buffer.from(image))).toBe(0);
  });
});

function latin1Of(bytes: Uint8Array | number): string {
  if (typeof bytes === "number") throw new Error(`read: ${bytes}`);
  return Buffer.from(bytes).toString("latin1");
}
