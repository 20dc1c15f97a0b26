// Shared by the ext2 tests: images made by e2fsprogs' mke2fs from a
// directory written here, a kernel booted with one on a RAM disk
// (ram_disk.ts) behind /dev/vda, a test process that mounts it on /mnt
// and works on it with system calls, and the image copied back out for
// e2fsck and debugfs to judge.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { type Kernel, bytesOf, latin1, loadKernel } from "./kernel-wasm";
import { MIB } from "./mm";
import { archive, bootWithInitramfs } from "./initramfs";
import {
  AT_FDCWD, BUFFER, BUFFER_BYTES, O_CREAT, O_DIRECTORY, O_RDONLY, O_WRONLY, type TestProcess, loadOwn, path, spawn, storeUser, sys,
} from "./process";

export const SYSCALL = { mount: 165, umount2: 166, fsync: 74, fdatasync: 75, sync: 162, syncfs: 306 } as const;
export const MS_RDONLY = 1;
const RAM_END = 32 * MIB;
/** Where the disk's bytes sit: past the RAM the kernel's memory map describes, so no allocator hands them out. */
const DISK_ADDRESS = RAM_END;
export const DISK_MAJOR = 254;
export const DISK_RDEV = DISK_MAJOR << 8;
/** The file clock's time in the tests (seconds since 1970): 2026-01-01. */
export const TEST_TIME = 1767225600;

export interface ImageOptions {
  blockSize?: 1024 | 2048 | 4096;
  revision?: 0 | 1;
  /** mke2fs's -t (default ext2). */
  type?: string;
  /** mke2fs -O, e.g. "^large_file". */
  features?: string;
  kib?: number;
  /** Files to put in the image's root, written into a host directory first (mke2fs -d). */
  populate?: (dir: string) => void;
}

/** Runs mke2fs on a new image file; the image's bytes. */
export function makeImage(options: ImageOptions = {}): Uint8Array {
  const work = mkdtempSync(join(tmpdir(), "ext2-"));
  try {
    const root = join(work, "root");
    execFileSync("mkdir", [root]);
    options.populate?.(root);
    const image = join(work, "image");
    const args = ["-q", "-F", "-t", options.type ?? "ext2", "-b", String(options.blockSize ?? 1024), "-E", "root_owner=0:0", "-d", root];
    if (options.revision === 0) args.push("-r", "0");
    if (options.features) args.push("-O", options.features);
    execFileSync("mke2fs", [...args, image, `${options.kib ?? 4096}k`], { stdio: "pipe" });
    return new Uint8Array(readFileSync(image));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs `tool` with `args` over a copy of `image` in a file; its status and output. */
function withImageFile<T>(image: Uint8Array, run: (file: string) => T): T {
  const work = mkdtempSync(join(tmpdir(), "ext2-check-"));
  try {
    const file = join(work, "image");
    writeFileSync(file, image);
    return run(file);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** e2fsck -fn: the exit status (0: no errors) and what it said. */
export function fsck(image: Uint8Array): { status: number; output: string } {
  return withImageFile(image, (file) => {
    const result = spawnSync("e2fsck", ["-fn", file], { encoding: "utf8" });
    return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
  });
}

/** debugfs -R REQUEST: what it printed. */
export function debugfs(image: Uint8Array, request: string): Buffer {
  return withImageFile(image, (file) => execFileSync("debugfs", ["-R", request, file], { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 }));
}

/** The image's whole tree copied out by debugfs rdump into a new host directory (the caller removes it). */
export function dumpTree(image: Uint8Array): string {
  const out = mkdtempSync(join(tmpdir(), "ext2-dump-"));
  withImageFile(image, (file) => execFileSync("debugfs", ["-R", `rdump / ${out}`, file], { stdio: "pipe" }));
  return out;
}

/** The superblock's free block and inode counts, as debugfs reads them. */
export function freeCounts(image: Uint8Array): { blocks: number; inodes: number } {
  const text = debugfs(image, "stats").toString();
  return { blocks: Number(/Free blocks:\s+(\d+)/.exec(text)![1]), inodes: Number(/Free inodes:\s+(\d+)/.exec(text)![1]) };
}

/** Changes an image with debugfs -w (set_super_value, set_inode_field, ...). */
export function debugfsWrite(image: Uint8Array, ...requests: string[]): Uint8Array {
  return withImageFile(image, (file) => {
    for (const request of requests) execFileSync("debugfs", ["-w", "-R", request, file], { stdio: "pipe" });
    return new Uint8Array(readFileSync(file));
  });
}

export interface Disk {
  k: Kernel;
  p: TestProcess;
  device: number;
  bytes: number;
}

/** A kernel with `image` on /dev/vda and /mnt made, and a test process; nothing mounted yet. */
export function bootDisk(image: Uint8Array): Disk {
  const k = loadKernel({ memoryPages: (DISK_ADDRESS + image.length + 0xffff) >> 16 });
  expect(bootWithInitramfs(k, archive([]).bytes, { ramEnd: RAM_END })).toBe(0);
  k.write(DISK_ADDRESS, image);
  k.exports.setTestClock(BigInt(TEST_TIME) * 1_000_000_000n);
  const device = k.exports.newRamDisk(DISK_ADDRESS, BigInt(image.length / 512), DISK_MAJOR, 0);
  expect(device).not.toBe(0);
  const name = bytesOf("vda");
  k.write(0x20000, name);
  expect(k.exports.makeBlockNode(0x20000, name.length, DISK_RDEV)).toBe(0n);
  const p = spawn(k);
  expect(sys(p, 258, AT_FDCWD, path(p, "/mnt"), 0o755)).toBe(0); // mkdirat
  return { k, p, device, bytes: image.length };
}

export function mount(d: Disk, flags = 0): number {
  const { p } = d;
  const type = BigInt(BUFFER);
  expect(storeUser(p, type, bytesOf("ext2\0"))).toBe(0);
  return sys(p, SYSCALL.mount, path(p, "/dev/vda"), path(p, "/mnt", 1), type, flags, 0);
}

export function umount(d: Disk): number {
  return sys(d.p, SYSCALL.umount2, path(d.p, "/mnt"), 0);
}

/** The disk's bytes now. */
export function diskImage(d: Disk): Uint8Array {
  return d.k.read(DISK_ADDRESS, d.bytes);
}

/** open(path, flags, mode): the descriptor or -errno. */
export function open(p: TestProcess, at: string, flags: number, mode = 0o644): number {
  return sys(p, 257, AT_FDCWD, path(p, at), flags, mode);
}

/** A whole file's bytes through read(2), or -errno (of open or the first read that failed). */
export function readFile(p: TestProcess, at: string): Uint8Array | number {
  const fd = open(p, at, O_RDONLY);
  if (fd < 0) return fd;
  const parts: Uint8Array[] = [];
  for (;;) {
    const n = sys(p, 0, fd, BUFFER, BUFFER_BYTES);
    if (n < 0) {
      sys(p, 3, fd);
      return n;
    }
    if (n === 0) break;
    parts.push(loadOwn(p, BUFFER, n));
  }
  sys(p, 3, fd);
  return Buffer.concat(parts);
}

/** Writes `data` at `offset` of the descriptor with pwrite64, in chunks; the total written. */
export function pwrite(p: TestProcess, fd: number, data: Uint8Array, offset: number | bigint = 0): number {
  let done = 0;
  while (done < data.length) {
    const chunk = data.subarray(done, done + BUFFER_BYTES);
    expect(storeUser(p, BUFFER, chunk)).toBe(0);
    const n = sys(p, 18, fd, BUFFER, chunk.length, BigInt(offset) + BigInt(done));
    if (n < 0) return n;
    done += n;
  }
  return done;
}

/** Creates (or truncates) a file with `data`: 0 or -errno. */
export function writeFile(p: TestProcess, at: string, data: Uint8Array): number {
  const fd = open(p, at, O_CREAT | O_WRONLY | 0o1000); // O_TRUNC
  if (fd < 0) return fd;
  const n = pwrite(p, fd, data);
  sys(p, 3, fd);
  return n < 0 ? n : 0;
}

export interface Entry {
  ino: bigint;
  type: number;
  name: string;
}

/** A directory's entries through getdents64 (an error of open or getdents64 as a number). */
export function listDirectory(p: TestProcess, at: string, bufferBytes = BUFFER_BYTES): Entry[] | number {
  const fd = open(p, at, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd;
  const entries: Entry[] = [];
  for (;;) {
    const n = sys(p, 217, fd, BUFFER, bufferBytes);
    if (n < 0) {
      sys(p, 3, fd);
      return n;
    }
    if (n === 0) break;
    const bytes = loadOwn(p, BUFFER, n);
    const view = new DataView(bytes.buffer);
    for (let offset = 0; offset < n; offset += view.getUint16(offset + 16, true)) {
      const name = bytes.subarray(offset + 19, bytes.indexOf(0, offset + 19));
      entries.push({ ino: view.getBigUint64(offset, true), type: view.getUint8(offset + 18), name: latin1(name) });
    }
  }
  sys(p, 3, fd);
  return entries;
}

/** The names in a directory, sorted, without "." and "..". */
export function names(p: TestProcess, at: string): string[] | number {
  const entries = listDirectory(p, at);
  if (typeof entries === "number") return entries;
  return entries.map((e) => e.name).filter((n) => n !== "." && n !== "..").sort();
}

export interface Stat {
  ino: bigint;
  nlink: number;
  mode: number;
  uid: number;
  size: number;
  blocks: number;
  blksize: number;
  rdev: number;
}

/** newfstatat (following links unless `noFollow`): the fields, or -errno. */
export function stat(p: TestProcess, at: string, noFollow = false): Stat | number {
  const result = sys(p, 262, AT_FDCWD, path(p, at), BUFFER, noFollow ? 0x100 : 0);
  if (result < 0) return result;
  const view = new DataView(loadOwn(p, BUFFER, 144).buffer);
  return {
    ino: view.getBigUint64(8, true),
    nlink: Number(view.getBigUint64(16, true)),
    mode: view.getUint32(24, true),
    uid: view.getUint32(28, true),
    rdev: Number(view.getBigUint64(40, true)),
    size: Number(view.getBigUint64(48, true)),
    blocks: Number(view.getBigUint64(64, true)),
    blksize: Number(view.getBigUint64(56, true)),
  };
}

/** readlinkat: the text, or -errno. */
export function readLink(p: TestProcess, at: string): string | number {
  const n = sys(p, 267, AT_FDCWD, path(p, at), BUFFER, 4096);
  return n < 0 ? n : latin1(loadOwn(p, BUFFER, n));
}

export { O_CREAT, O_WRONLY };
