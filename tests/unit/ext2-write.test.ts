// kernel/fs/ext2 read-write: on images mke2fs made (1, 2 and 4 KiB
// blocks), a test process creates, writes (small, indirect-block and
// sparse files), renames (within and across directories, over a file, a
// directory with its ".."), links, unlinks, makes links and device nodes,
// truncates (shrinking mid-block, then growing over a hole), makes and
// removes directories; after umount e2fsck -fn must find nothing wrong,
// debugfs must read the same bytes, and a second mount must see it all.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contents } from "./initramfs";
import { AT_FDCWD, AT_REMOVEDIR, O_CREAT, O_RDONLY, O_WRONLY, path, sys } from "./process";
import {
  SYSCALL, bootDisk, debugfs, diskImage, dumpTree, freeCounts, fsck, makeImage, mount, names, open, pwrite, readFile, readLink, stat, umount,
  writeFile,
} from "./ext2-disk";

const SYS = { close: 3, ftruncate: 77, truncate: 76, mkdirat: 258, mknodat: 259, unlinkat: 263, renameat2: 316, linkat: 265, symlinkat: 266 };
const S_IFCHR = 0o020000;
const ENOTEMPTY = -39;
const EEXIST = -17;

function bytesOf(result: Uint8Array | number): Buffer {
  if (typeof result === "number") throw new Error(`read: ${result}`);
  return Buffer.from(result);
}

/** What the tree must hold after the changes (path in the file system → bytes). */
function changes(d: ReturnType<typeof bootDisk>): Map<string, Buffer> {
  const { p } = d;
  const expected = new Map<string, Buffer>();
  const put = (name: string, data: Uint8Array) => {
    expect(writeFile(p, `/mnt${name}`, data), name).toBe(0);
    expected.set(name, Buffer.from(data));
  };
  put("/small", contents(100, 1));
  put("/big", contents(1200 * 1024 + 3, 2));
  expect(sys(p, SYS.mkdirat, AT_FDCWD, path(p, "/mnt/a"), 0o755)).toBe(0);
  expect(sys(p, SYS.mkdirat, AT_FDCWD, path(p, "/mnt/a/b"), 0o755)).toBe(0);
  expect(sys(p, SYS.mkdirat, AT_FDCWD, path(p, "/mnt/c"), 0o700)).toBe(0);
  for (let i = 0; i < 120; i++) put(`/a/entry-number-${i}-with-some-length`, contents(i * 37, i));
  // A sparse file: bytes at 0 and at 2 MiB + 100, nothing between.
  const fd = open(p, "/mnt/sparse", O_CREAT | O_WRONLY);
  expect(pwrite(p, fd, Buffer.from("start"), 0)).toBe(5);
  expect(pwrite(p, fd, Buffer.from("end"), 2 * 1024 * 1024 + 100)).toBe(3);
  expect(sys(p, SYS.close, fd)).toBe(0);
  const sparse = Buffer.alloc(2 * 1024 * 1024 + 103);
  sparse.write("start", 0);
  sparse.write("end", 2 * 1024 * 1024 + 100);
  expected.set("/sparse", sparse);
  // Renames: within a directory, across, over a file, and a directory across (its ".." follows).
  expect(sys(p, SYS.renameat2, AT_FDCWD, path(p, "/mnt/small"), AT_FDCWD, path(p, "/mnt/renamed", 1), 0)).toBe(0);
  expected.set("/renamed", expected.get("/small")!);
  expected.delete("/small");
  expect(sys(p, SYS.renameat2, AT_FDCWD, path(p, "/mnt/a/entry-number-5-with-some-length"), AT_FDCWD, path(p, "/mnt/c/moved", 1), 0)).toBe(0);
  expected.set("/c/moved", expected.get("/a/entry-number-5-with-some-length")!);
  expected.delete("/a/entry-number-5-with-some-length");
  expect(sys(p, SYS.renameat2, AT_FDCWD, path(p, "/mnt/a/entry-number-6-with-some-length"), AT_FDCWD, path(p, "/mnt/renamed", 1), 0)).toBe(0);
  expected.set("/renamed", expected.get("/a/entry-number-6-with-some-length")!);
  expected.delete("/a/entry-number-6-with-some-length");
  expect(sys(p, SYS.renameat2, AT_FDCWD, path(p, "/mnt/a/b"), AT_FDCWD, path(p, "/mnt/c/b", 1), 0)).toBe(0);
  put("/c/b/inside", contents(5000, 9));
  // Links, unlinks, symbolic links, a device node.
  expect(sys(p, SYS.linkat, AT_FDCWD, path(p, "/mnt/big"), AT_FDCWD, path(p, "/mnt/c/big-too", 1), 0)).toBe(0);
  expected.set("/c/big-too", expected.get("/big")!);
  for (let i = 10; i < 60; i++) {
    expect(sys(p, SYS.unlinkat, AT_FDCWD, path(p, `/mnt/a/entry-number-${i}-with-some-length`), 0)).toBe(0);
    expected.delete(`/a/entry-number-${i}-with-some-length`);
  }
  expect(sys(p, SYS.symlinkat, path(p, "c/moved"), AT_FDCWD, path(p, "/mnt/fast", 1))).toBe(0);
  const longTarget = `${"x".repeat(200)}/target`;
  expect(sys(p, SYS.symlinkat, path(p, longTarget), AT_FDCWD, path(p, "/mnt/slow", 1))).toBe(0);
  expect(sys(p, SYS.mknodat, AT_FDCWD, path(p, "/mnt/tty"), S_IFCHR | 0o600, (4 << 8) | 64)).toBe(0);
  // Truncation: shrink mid-block (indirect blocks go), then grow over a hole.
  expect(sys(p, SYS.truncate, path(p, "/mnt/big"), 13 * 1024 + 1)).toBe(0);
  expect(sys(p, SYS.truncate, path(p, "/mnt/big"), 40 * 1024)).toBe(0);
  const cut = Buffer.alloc(40 * 1024);
  expected.get("/c/big-too")!.copy(cut, 0, 0, 13 * 1024 + 1);
  expected.set("/big", cut);
  expected.set("/c/big-too", cut);
  // Directories: rmdir refuses a full one, takes an empty one; mkdir over a name is EEXIST.
  expect(sys(p, SYS.unlinkat, AT_FDCWD, path(p, "/mnt/c"), AT_REMOVEDIR)).toBe(ENOTEMPTY);
  expect(sys(p, SYS.mkdirat, AT_FDCWD, path(p, "/mnt/gone"), 0o755)).toBe(0);
  expect(sys(p, SYS.unlinkat, AT_FDCWD, path(p, "/mnt/gone"), AT_REMOVEDIR)).toBe(0);
  expect(sys(p, SYS.mkdirat, AT_FDCWD, path(p, "/mnt/c"), 0o755)).toBe(EEXIST);
  return expected;
}

function checkTree(d: ReturnType<typeof bootDisk>, expected: Map<string, Buffer>): void {
  const { p } = d;
  for (const [name, data] of expected) expect(Buffer.compare(bytesOf(readFile(p, `/mnt${name}`)), data), name).toBe(0);
  expect(readLink(p, "/mnt/fast")).toBe("c/moved");
  expect((readLink(p, "/mnt/slow") as string).length).toBe(207);
  expect((stat(p, "/mnt/tty") as { rdev: number }).rdev).toBe((4 << 8) | 64);
  expect((stat(p, "/mnt/big") as { nlink: number }).nlink).toBe(2);
  expect((stat(p, "/mnt/c") as { nlink: number }).nlink).toBe(3); // ".", its name, b's ".."
  expect((stat(p, "/mnt/a") as { nlink: number }).nlink).toBe(2); // b moved out
  expect(names(p, "/mnt/c")).toEqual(["b", "big-too", "moved"]);
  expect((stat(p, "/mnt/c/b/..") as { ino: bigint }).ino).toBe((stat(p, "/mnt/c") as { ino: bigint }).ino);
}

describe.each([1024, 2048, 4096] as const)("a file system with %d-byte blocks", (blockSize) => {
  const image = makeImage({ blockSize, kib: 16384 });

  it("takes every kind of change, and e2fsck and debugfs agree with it after umount", () => {
    const d = bootDisk(image);
    expect(mount(d)).toBe(0);
    const expected = changes(d);
    checkTree(d, expected);
    expect(umount(d)).toBe(0);
    const after = diskImage(d);
    const check = fsck(after);
    expect(check.output).not.toMatch(/Pass \d+.*\n.*\?/);
    expect(check.status, check.output).toBe(0);
    const dumped = dumpTree(after);
    try {
      for (const [name, data] of expected) expect(Buffer.compare(readFileSync(join(dumped, name)), data), `debugfs rdump ${name}`).toBe(0);
    } finally {
      rmSync(dumped, { recursive: true, force: true });
    }
    expect(Buffer.compare(debugfs(after, "cat /c/b/inside"), expected.get("/c/b/inside")!)).toBe(0);
    expect(debugfs(after, "stat /sparse").toString()).toMatch(/Blockcount: (\d+)/);
    const blockcount = Number(/Blockcount: (\d+)/.exec(debugfs(after, "stat /sparse").toString())![1]);
    expect(blockcount * 512).toBeLessThanOrEqual(4 * Math.max(blockSize, 1024) + 3 * blockSize); // two data pages and the map
    // Mounted again, it reads the same.
    expect(mount(d)).toBe(0);
    checkTree(d, expected);
    expect(umount(d)).toBe(0);
    expect(fsck(diskImage(d)).status).toBe(0);
  });

  it("frees an unlinked file's blocks and inode when its last descriptor closes", () => {
    const d = bootDisk(image);
    const { p } = d;
    const objects = d.k.exports.kernelObjectsInUse();
    expect(mount(d)).toBe(0);
    const fd = open(p, "/mnt/open", O_CREAT | O_WRONLY);
    expect(pwrite(p, fd, contents(300 * 1024, 3))).toBe(300 * 1024);
    expect(sys(p, SYSCALL.fsync, fd)).toBe(0);
    const reader = open(p, "/mnt/open", O_RDONLY);
    expect(sys(p, SYS.unlinkat, AT_FDCWD, path(p, "/mnt/open"), 0)).toBe(0);
    expect(stat(p, "/mnt/open")).toBe(-2);
    expect(umount(d)).toBe(-16); // EBUSY: still open
    expect(sys(p, SYS.close, fd)).toBe(0);
    expect(sys(p, 0, reader, BigInt(0x400000 + 2 * 4096), 10)).toBe(10); // still readable
    expect(sys(p, SYS.close, reader)).toBe(0);
    expect(umount(d)).toBe(0);
    const check = fsck(diskImage(d));
    expect(check.status, check.output).toBe(0);
    expect(freeCounts(diskImage(d))).toEqual(freeCounts(image));
    // Every record the mount made is freed, but the device's buffer-cache object, which stays with the device.
    expect(d.k.exports.kernelObjectsInUse()).toBe(objects + 1);
  });
});
