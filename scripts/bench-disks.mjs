// The storage boots' disks (scripts/bench.mjs, user/bench/disk.c): a raw
// one, and one with an ext2 file system on partition 1. Every 4 KiB page of
// the raw disk, and of each file on the ext2 one, starts with its page
// number (little-endian, 64 bits), so that the reads can check what they
// got; disk.c stamps the pages it writes with the complement. And the swap
// boots' disk (user/bench/swap.c): a swap area, empty.
import { execFileSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeExt2Disk } from "./disk-image.mjs";

// user/bench/disk.c's regions, in MiB: five repetitions each of a 64 MiB
// sequential read, an 8 MiB mapping faulted cold then warm, and 32 MiB written.
const SEQ = { size: 64, stride: 65 }, FAULT = { size: 8, stride: 9 }, WRITE = { size: 32, stride: 33 }, REPS = 5;
const WRITE_BASE = REPS * (SEQ.stride + FAULT.stride);
const DISK_MIB = WRITE_BASE + REPS * WRITE.stride + 1;

/** A file (the raw disk's image, or a file for the ext2 one) of `mebibytes` whose 4 KiB pages start with their page numbers. */
function writeStamped(path, mebibytes) {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(1 << 20);
  for (let mib = 0; mib < mebibytes; mib++) {
    for (let page = 0; page < 256; page++) chunk.writeBigUInt64LE(BigInt(mib * 256 + page), page * 4096);
    writeSync(fd, chunk, 0, chunk.length, mib * chunk.length);
  }
  closeSync(fd);
}

/** The ext2 disk's image (4 KiB blocks): five each of seq-N, fault-N and the 32 MiB program big-N, and room for five write-N. */
export function makeExt2Template(out, bigProgram) {
  const path = join(out, "ext2-template.img");
  const dir = join(out, "ext2-root");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (let rep = 0; rep < REPS; rep++) {
    writeStamped(join(dir, `seq-${rep}`), SEQ.size);
    writeStamped(join(dir, `fault-${rep}`), FAULT.size);
    copyFileSync(bigProgram, join(dir, `big-${rep}`));
    chmodSync(join(dir, `big-${rep}`), 0o755);
  }
  makeExt2Disk(path, REPS * (SEQ.size + FAULT.size + 32 + WRITE.size) + 64, dir, 4096);
  rmSync(dir, { recursive: true });
  return path;
}

/** Pages of the raw disk's written regions that do not hold their stamp (the page number's complement), after a storage boot. */
export function unwrittenPages(path) {
  const fd = openSync(path, "r");
  const chunk = Buffer.alloc(1 << 20);
  let wrong = 0;
  for (let rep = 0; rep < REPS; rep++) {
    for (let mib = WRITE_BASE + rep * WRITE.stride; mib < WRITE_BASE + rep * WRITE.stride + WRITE.size; mib++) {
      readSync(fd, chunk, 0, chunk.length, mib * chunk.length);
      for (let page = 0; page < 256; page++) {
        if (chunk.readBigUInt64LE(page * 4096) !== BigInt.asUintN(64, ~BigInt(mib * 256 + page))) wrong++;
      }
    }
  }
  closeSync(fd);
  return wrong;
}

/** Fresh copies of both disks for one boot: [raw, ext2]. */
export function freshDisks(out, ext2Template) {
  const raw = join(out, "disk.img"), ext2 = join(out, "ext2.img");
  writeStamped(raw, DISK_MIB);
  copyFileSync(ext2Template, ext2);
  return [raw, ext2];
}

/** A fresh swap area for one swap boot (user/bench/swap.c): a sparse 1 GiB file made one by Debian's mkswap. */
export function freshSwapDisk(out) {
  const path = join(out, "swap.img");
  rmSync(path, { force: true });
  const fd = openSync(path, "w");
  ftruncateSync(fd, 1 << 30);
  closeSync(fd);
  execFileSync("/usr/sbin/mkswap", [path], { stdio: "ignore" });
  return path;
}
