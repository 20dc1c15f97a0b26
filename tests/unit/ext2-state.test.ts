// kernel/fs/ext2's bookkeeping beyond the tree: the superblock's state as
// Linux keeps it (not clean while mounted read-write, the mount count and
// times, clean again after umount), fsync, syncfs and sync putting data on
// the disk without an umount, statfs's counts, and a file past 4 GiB,
// which turns LARGE_FILE on when the image lacked it.
import { describe, expect, it } from "vitest";
import { contents } from "./initramfs";
import { BUFFER, O_CREAT, O_RDONLY, O_WRONLY, sys } from "./process";
import {
  MS_RDONLY, SYSCALL, TEST_TIME, bootDisk, debugfs, diskImage, freeCounts, fsck, makeImage, mount, open, pwrite, stat,
  umount, writeFile,
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
    expect(sys(p, SYSCALL.fsync, fd)).toBe(0);
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
