// kernel/fs/ext2 on images it must refuse or distrust: a spoiled
// superblock (magic, geometry, a size past the device) and features it
// lacks are EINVAL with a log line naming the reason; an ext3 journal is
// mounted as Linux's ext2 does, unless it needs recovery; an unknown
// read-only-compatible feature allows a read-only mount only. Inside a
// mounted file system, a directory record of length 0, a block number
// past the end and a directory entry naming a directory above it are EIO
// for that file, with a log line, while the rest still works; a failing
// disk is EIO too. Nothing panics.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contents } from "./initramfs";
import { AT_FDCWD, BUFFER, path, storeUser, sys } from "./process";
import { MS_RDONLY, bootDisk, debugfs, debugfsWrite, diskImage, fsck, makeImage, mount, names, readFile, umount, writeFile } from "./ext2-disk";

const EINVAL = -22;
const EIO = -5;

function populate(dir: string): void {
  mkdirSync(join(dir, "good"));
  writeFileSync(join(dir, "good/file"), "good\n");
  mkdirSync(join(dir, "bad"));
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, "bad", `f${i}`), `${i}`);
  mkdirSync(join(dir, "a/b"), { recursive: true });
  writeFileSync(join(dir, "mapped"), contents(20000, 1));
  writeFileSync(join(dir, "other"), contents(3000, 2));
}
const base = makeImage({ blockSize: 1024, kib: 4096, populate });

/** The image with its superblock's bytes at `offset` (from the superblock's start) replaced. */
function spoilSuperblock(offset: number, bytes: number[]): Uint8Array {
  const image = new Uint8Array(base);
  image.set(bytes, 1024 + offset);
  return image;
}

const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

describe("mount refuses", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["a superblock without the magic", spoilSuperblock(56, [0, 0]), /no ext2 magic/],
    ["a block size past 4 KiB", spoilSuperblock(24, le32(7)), /block size/],
    ["zero inodes per group", spoilSuperblock(40, le32(0)), /inodes per group/],
    ["zero blocks per group", spoilSuperblock(32, le32(0)), /blocks per group/],
    ["more blocks than the device has", spoilSuperblock(4, le32(8192)), /past the device's end/],
    ["an inode count that does not match the groups", spoilSuperblock(0, le32(12345)), /inode count/],
    ["an unknown revision", spoilSuperblock(76, le32(5)), /revision/],
    ["extents (an ext4 image)", makeImage({ type: "ext4", kib: 4096 }), /unsupported incompatible features/],
    ["a journal that needs recovery", debugfsWrite(makeImage({ type: "ext3", kib: 4096 }), "feature needs_recovery"), /needs recovery/],
  ];
  it.each(cases)("%s: EINVAL, with the reason in the log", (_, image, reason) => {
    const d = bootDisk(image);
    expect(mount(d)).toBe(EINVAL);
    expect(mount(d, MS_RDONLY)).toBe(EINVAL);
    expect(d.k.serial()).toMatch(reason);
    expect(names(d.p, "/mnt")).toEqual([]); // nothing was mounted
  });

  it("a device mounted already (EBUSY), a missing device or type (EINVAL), a node that is no block device (ENOTBLK)", () => {
    const d = bootDisk(base);
    const { p } = d;
    expect(mount(d)).toBe(0);
    expect(sys(p, 258, AT_FDCWD, path(p, "/second"), 0o755)).toBe(0);
    const type = BigInt(BUFFER);
    expect(storeUser(p, type, Buffer.from("ext2\0"))).toBe(0);
    expect(sys(p, 165, path(p, "/dev/vda"), path(p, "/second", 1), type, 0, 0)).toBe(-16);
    expect(sys(p, 165, 0, path(p, "/second", 1), type, 0, 0)).toBe(EINVAL);
    expect(sys(p, 165, path(p, "/dev/vda"), path(p, "/second", 1), 0, 0, 0)).toBe(EINVAL);
    expect(sys(p, 165, path(p, "/dev/null"), path(p, "/second", 1), type, 0, 0)).toBe(-15);
    expect(umount(d)).toBe(0);
    expect(sys(p, 165, path(p, "/dev/vda"), path(p, "/second", 1), type, 0, 0)).toBe(0);
    expect(sys(p, 166, path(p, "/second"), 0)).toBe(0);
  });

  it("a read-write mount of an unknown read-only feature, but mounts it read-only", () => {
    const d = bootDisk(debugfsWrite(base, "ssv feature_ro_compat 0x8003"));
    expect(mount(d)).toBe(EINVAL);
    expect(d.k.serial()).toMatch(/read-only features/);
    expect(mount(d, MS_RDONLY)).toBe(0);
    expect(names(d.p, "/mnt/good")).toEqual(["file"]);
    expect(umount(d)).toBe(0);
  });
});

describe("an ext3 image (a journal, clean)", () => {
  it("mounts read-write as ext2, and e2fsck finds it clean after changes", () => {
    const d = bootDisk(makeImage({ type: "ext3", kib: 8192 }));
    expect(mount(d)).toBe(0);
    expect(writeFile(d.p, "/mnt/new", contents(5000, 3))).toBe(0);
    expect(umount(d)).toBe(0);
    const check = fsck(diskImage(d));
    expect(check.status, check.output).toBe(0);
    expect(Buffer.compare(debugfs(diskImage(d), "cat /new"), Buffer.from(contents(5000, 3)))).toBe(0);
  });
});

describe("inside a mounted file system", () => {
  it("a directory record of length 0 is EIO for that directory only, with a log line naming it", () => {
    const block = Number(/(\d+)/.exec(debugfs(base, "blocks /bad").toString())![1]);
    const ino = Number(/Inode: (\d+)/.exec(debugfs(base, "stat /bad").toString())![1]);
    const image = new Uint8Array(base);
    image.set([0, 0], block * 1024 + 12 + 4); // ".."'s record length
    const d = bootDisk(image);
    expect(mount(d)).toBe(0);
    expect(names(d.p, "/mnt/bad")).toBe(EIO);
    expect(readFile(d.p, "/mnt/bad/f1")).toBe(EIO);
    expect(d.k.serial()).toMatch(new RegExp(`directory inode ${ino}: record too short`));
    expect(names(d.p, "/mnt/good")).toEqual(["file"]);
    expect(writeFile(d.p, "/mnt/good/more", contents(10, 1))).toBe(0);
    expect(umount(d)).toBe(0);
  });

  it("a block number past the end of the file system is EIO for that file, with a log line", () => {
    const image = debugfsWrite(base, "sif /mapped block[2] 999999");
    const d = bootDisk(image);
    expect(mount(d)).toBe(0);
    expect(readFile(d.p, "/mnt/mapped")).toBe(EIO);
    expect(d.k.serial()).toMatch(/maps block 999999, past the file system/);
    expect(Buffer.compare(Buffer.from(readFile(d.p, "/mnt/other") as Uint8Array), Buffer.from(contents(3000, 2)))).toBe(0);
    expect(umount(d)).toBe(0);
  });

  it("a directory entry naming a directory above it is EIO, and walking the tree does not loop", () => {
    const image = debugfsWrite(base, "ln /a /a/b/up", "ln / /a/b/root", "ln /a/b /a/b/self");
    const d = bootDisk(image);
    expect(mount(d)).toBe(0);
    expect(names(d.p, "/mnt/a/b")).toEqual(["root", "self", "up"]);
    for (const name of ["up", "root", "self"]) expect(readFile(d.p, `/mnt/a/b/${name}/x`), name).toBe(EIO);
    expect(d.k.serial()).toMatch(/a loop/);
    expect(names(d.p, "/mnt/a")).toEqual(["b"]);
    expect(umount(d)).toBe(0);
  });

  it("a failing disk gives EIO, and the file system still unmounts", () => {
    const d = bootDisk(base);
    expect(mount(d)).toBe(0);
    d.k.exports.ramDiskFailFrom(d.device, 0n);
    expect(readFile(d.p, "/mnt/mapped")).toBe(EIO);
    d.k.exports.ramDiskFailFrom(d.device, 0xffffffffffffffffn);
    expect(Buffer.compare(Buffer.from(readFile(d.p, "/mnt/mapped") as Uint8Array), Buffer.from(contents(20000, 1)))).toBe(0);
    expect(umount(d)).toBe(0);
  });
});
