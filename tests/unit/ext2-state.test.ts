// kernel/fs/ext2's bookkeeping beyond the tree: the superblock's state as
// Linux keeps it (not clean while mounted read-write, the mount count and
// times, clean again after umount), fsync, syncfs and sync putting data on
// the disk without an umount, statfs's counts, and a file past 4 GiB,
// which turns LARGE_FILE on when the image lacked it; and the device
// node and the file system seeing the same disk around a mount.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contents } from "./initramfs";
import { BUFFER, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, storeUser, sys } from "./process";
import {
  MS_RDONLY, SYSCALL, TEST_TIME, bootDisk, debugfs, diskImage, freeCounts, fsck, makeImage, mount, open, pwrite, readFile,
  stat, umount, writeFile,
} from "./ext2-disk";
import { loadOwn, path } from "./process";

const image = makeImage({ blockSize: 1024, kib: 8192, features: "^large_file" });

/** A superblock field, as debugfs's stats shows it. */
function superField(disk: Uint8Array, name: string): string {
  const match = new RegExp(`^${name}:\\s+(.*)$`, "m").exec(debugfs(disk, "stats").toString());
  if (match == null) throw new Error(`no ${name} in debugfs stats`);
  return match[1].trim();
}

describe("the superblock's state", () => {
  it("is not clean while mounted read-write, counts the mount, and is clean again after umount", () => {
    const d = bootDisk(image);
    const mounts = Number(superField(image, "Mount count"));
    expect(superField(image, "Filesystem state")).toBe("clean");
    expect(mount(d)).toBe(0);
    const mounted = diskImage(d);
    expect(superField(mounted, "Filesystem state")).toBe("not clean");
    expect(Number(superField(mounted, "Mount count"))).toBe(mounts + 1);
    expect(superField(mounted, "Last mount time")).toMatch(/2026/);
    expect(umount(d)).toBe(0);
    const after = diskImage(d);
    expect(superField(after, "Filesystem state")).toBe("clean");
    expect(superField(after, "Last write time")).toMatch(/2026/);
    expect(fsck(after).status).toBe(0);
  });

  it("is left alone by a read-only mount", () => {
    const d = bootDisk(image);
    expect(mount(d, MS_RDONLY)).toBe(0);
    expect(umount(d)).toBe(0);
    expect(Buffer.compare(Buffer.from(diskImage(d)), Buffer.from(image))).toBe(0);
  });
});

describe("writing back without umount", () => {
  it("fsync puts a file's bytes and inode on the disk; syncfs and sync the rest", () => {
    const d = bootDisk(image);
    const { p } = d;
    expect(mount(d)).toBe(0);
    const flushes = d.k.exports.ramDiskFlushes(d.device);
    const fd = open(p, "/mnt/synced", O_CREAT | O_WRONLY);
    expect(pwrite(p, fd, contents(70000, 5))).toBe(70000);
    const writeIos = () => Number(d.k.view().getBigUint64(d.device + 80, true)); // BlockDevice.writeIos
    const writes = writeIos();
    expect(sys(p, SYSCALL.fsync, fd)).toBe(0);
    expect(writeIos() - writes).toBeLessThan(12); // 18 pages of 4 blocks: a run of 17 in two stretches, the last page, and the metadata
    expect(d.k.exports.ramDiskFlushes(d.device)).toBeGreaterThan(flushes);
    expect(Buffer.compare(debugfs(diskImage(d), "cat /synced"), Buffer.from(contents(70000, 5)))).toBe(0);
    // Its data blocks are one run in file order (pages are written back last first); the indirect block is near.
    const map = /\(0-11\):(\d+)-(\d+), \(IND\):(\d+), \(12-67\):(\d+)-(\d+)/.exec(debugfs(diskImage(d), "stat /synced").toString());
    expect(map, debugfs(diskImage(d), "stat /synced").toString()).not.toBeNull();
    const [first, last, indirect, next, end] = map!.slice(1).map(Number);
    expect([last - first, next - first, end - first]).toEqual([11, 12, 67]);
    expect(Math.abs(indirect - first)).toBeLessThan(100);
    expect(writeFile(p, "/mnt/second", contents(3000, 6))).toBe(0);
    expect(sys(p, SYSCALL.syncfs, fd)).toBe(0);
    expect(Buffer.compare(debugfs(diskImage(d), "cat /second"), Buffer.from(contents(3000, 6)))).toBe(0);
    expect(writeFile(p, "/mnt/third", contents(100, 7))).toBe(0);
    expect(sys(p, SYSCALL.sync)).toBe(0);
    expect(Buffer.compare(debugfs(diskImage(d), "cat /third"), Buffer.from(contents(100, 7)))).toBe(0);
    const synced = fsck(diskImage(d)); // consistent, though still marked in use
    expect(synced.output).not.toMatch(/Fix\?/);
    expect(sys(p, 3, fd)).toBe(0);
    expect(umount(d)).toBe(0);
  });

  it("statfs reports the superblock's counts", () => {
    const d = bootDisk(image);
    const { p } = d;
    expect(mount(d)).toBe(0);
    expect(writeFile(p, "/mnt/file", contents(50 * 1024, 1))).toBe(0);
    expect(sys(p, SYSCALL.sync)).toBe(0);
    expect(sys(p, 137, path(p, "/mnt"), BUFFER)).toBe(0); // statfs
    const view = new DataView(loadOwn(p, BUFFER, 120).buffer);
    const free = freeCounts(diskImage(d));
    expect(view.getBigUint64(0, true)).toBe(0xef53n);
    expect(view.getBigUint64(8, true)).toBe(1024n);
    expect(view.getBigUint64(16, true)).toBe(8192n);
    expect(Number(view.getBigUint64(24, true))).toBe(free.blocks);
    expect(Number(view.getBigUint64(48, true))).toBe(free.inodes);
    expect(umount(d)).toBe(0);
  });
});

describe("a file past 4 GiB", () => {
  it("is written sparse through triple-indirect blocks and turns LARGE_FILE on", () => {
    expect(debugfs(image, "features").toString()).not.toMatch(/large_file/);
    const d = bootDisk(image);
    const { p } = d;
    expect(mount(d)).toBe(0);
    const fd = open(p, "/mnt/large", O_CREAT | O_WRONLY);
    const far = 5n * 2n ** 30n + 12345n;
    expect(pwrite(p, fd, Buffer.from("far away"), far)).toBe(8);
    expect(pwrite(p, fd, Buffer.from("near"), 0)).toBe(4);
    expect(sys(p, 3, fd)).toBe(0);
    expect((stat(p, "/mnt/large") as { size: number }).size).toBe(Number(far) + 8);
    expect(umount(d)).toBe(0);
    const after = diskImage(d);
    expect(debugfs(after, "features").toString()).toMatch(/large_file/);
    const check = fsck(after);
    expect(check.status, check.output).toBe(0);
    expect(debugfs(after, "stat /large").toString()).toMatch(new RegExp(`Size: ${far + 8n}\\b`));
    // Mounted again, the bytes are where they were written, with zeros between.
    expect(mount(d)).toBe(0);
    const reader = open(p, "/mnt/large", O_RDONLY);
    expect(sys(p, 17, reader, BUFFER, 16, far - 4n)).toBe(12); // pread64
    expect(Buffer.from(loadOwn(p, BUFFER, 12)).toString("latin1")).toBe("\0\0\0\0far away");
    expect(sys(p, 17, reader, BUFFER, 4, 0)).toBe(4);
    expect(Buffer.from(loadOwn(p, BUFFER, 4)).toString("latin1")).toBe("near");
    expect(sys(p, 3, reader)).toBe(0);
    expect(umount(d)).toBe(0);
    expect(TEST_TIME).toBeGreaterThan(0);
  });
});

describe("the file system and its device node", () => {
  it("see one disk: a write through /dev/vda before the mount is read by it, and a file written by it after umount", () => {
    const populated = makeImage({ blockSize: 1024, kib: 4096, populate: (dir) => writeFileSync(join(dir, "hello"), "hello\n") });
    const block = Number(/(\d+)/.exec(debugfs(populated, "blocks /hello").toString())![1]);
    const d = bootDisk(populated);
    const { p } = d;
    const device = open(p, "/dev/vda", O_RDWR);
    expect(storeUser(p, BUFFER, Buffer.from("HELLO\n"))).toBe(0);
    expect(sys(p, 18, device, BUFFER, 6, block * 1024)).toBe(6); // pwrite64: left in the device's pages
    expect(mount(d)).toBe(0);
    expect(Buffer.from(readFile(p, "/mnt/hello") as Uint8Array).toString()).toBe("HELLO\n");
    expect(writeFile(p, "/mnt/later", contents(5000, 4))).toBe(0);
    expect(sys(p, 17, device, BUFFER, 4096, 0)).toBe(4096); // caches the device's first page meanwhile
    expect(umount(d)).toBe(0);
    const later = Number(/(\d+)/.exec(debugfs(diskImage(d), "blocks /later").toString())![1]);
    expect(sys(p, 17, device, BUFFER, 1024, later * 1024)).toBe(1024);
    expect(Buffer.compare(Buffer.from(loadOwn(p, BUFFER, 1024)), Buffer.from(contents(5000, 4).subarray(0, 1024)))).toBe(0);
    expect(sys(p, 3, device)).toBe(0);
  });
});

describe("reading ahead", () => {
  it("reads a file laid out in one run in few disk requests", () => {
    const size = 1024 * 1024;
    const populated = makeImage({ blockSize: 4096, kib: 8192, populate: (dir) => writeFileSync(join(dir, "big"), contents(size, 8)) });
    const d = bootDisk(populated);
    expect(mount(d, MS_RDONLY)).toBe(0);
    const readIos = () => Number(d.k.view().getBigUint64(d.device + 64, true)); // BlockDevice.readIos
    const before = readIos();
    expect(Buffer.compare(Buffer.from(readFile(d.p, "/mnt/big") as Uint8Array), Buffer.from(contents(size, 8)))).toBe(0);
    expect(readIos() - before).toBeLessThan(size / 4096 / 4); // 256 pages, read-ahead windows of up to 32
    expect(umount(d)).toBe(0);
  });
});
