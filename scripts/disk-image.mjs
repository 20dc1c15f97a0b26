#!/usr/bin/env node
// Disk images for the tests and for `make run DISK=...`:
//   disk-image.mjs pattern OUT MIB [START:COUNT ...]
//     every sector s holds the pattern user/diskfile.c checks (its first 8
//     bytes are s, little-endian; byte i past them is (s * 7 + i) & 0xff),
//     with an MBR whose primary partitions (type 0x83) span the given sectors;
//   disk-image.mjs ext2 OUT MIB DIR [BLOCK_SIZE]
//     an ext2 file system filled from DIR by Debian's mke2fs -d, on a disk
//     with an MBR and one partition from sector 2048 (so /dev/vda1).
import { execFileSync } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SECTOR = 512;

/** The pattern bytes of sectors [first, first + count). */
export function patternSectors(first, count) {
  const bytes = Buffer.alloc(count * SECTOR);
  for (let k = 0; k < count; k++) {
    const s = first + k;
    const at = k * SECTOR;
    bytes.writeBigUInt64LE(BigInt(s), at);
    for (let i = 8; i < SECTOR; i++) bytes[at + i] = (s * 7 + i) & 0xff;
  }
  return bytes;
}

/**
 * An MBR (sector 0) over `sectors` sectors of disk with primary partitions
 * [start, count] of `type` ([start, count, kind] for another type: 0x05 is
 * an extended partition, whose EBRs writeLogicalPartitions writes).
 */
export function masterBootRecord(base, partitions, type = 0x83) {
  const mbr = Buffer.from(base);
  mbr.fill(0, 446, 510);
  partitions.forEach(([start, count, kind = type], slot) => {
    const entry = 446 + slot * 16;
    mbr[entry + 1] = 0xfe; mbr[entry + 2] = 0xff; mbr[entry + 3] = 0xff; // CHS past the 8 GiB limit: LBA only
    mbr[entry + 4] = kind;
    mbr[entry + 5] = 0xfe; mbr[entry + 6] = 0xff; mbr[entry + 7] = 0xff;
    mbr.writeUInt32LE(start, entry + 8);
    mbr.writeUInt32LE(count, entry + 12);
  });
  mbr.writeUInt16LE(0xaa55, 510);
  return mbr;
}

/**
 * The chain of EBRs of an extended partition starting at sector
 * `extendedStart` of image `out`: one per logical partition [ebr, start,
 * count] (the EBR's sector, then the partition's, absolute), each linking
 * to the next (or, `loopBack`, the last one back to the first).
 */
export function writeLogicalPartitions(out, extendedStart, logicals, loopBack = false) {
  const fd = openSync(out, "r+");
  logicals.forEach(([ebr, start, count], i) => {
    const sector = Buffer.alloc(SECTOR);
    const entry = (at, kind, first, length) => {
      sector[at + 4] = kind;
      sector.writeUInt32LE(first, at + 8);
      sector.writeUInt32LE(length, at + 12);
    };
    entry(446, 0x83, start - ebr, count);
    const next = i + 1 < logicals.length ? logicals[i + 1] : loopBack ? logicals[0] : undefined;
    if (next) entry(462, 0x05, next[0] - extendedStart, next[1] + next[2] - next[0]);
    sector.writeUInt16LE(0xaa55, 510);
    writeSync(fd, sector, 0, SECTOR, ebr * SECTOR);
  });
  closeSync(fd);
}

export function makePatternDisk(out, mebibytes, partitions) {
  const sectors = mebibytes * 2048;
  const fd = openSync(out, "w");
  const chunk = 2048;
  for (let s = 0; s < sectors; s += chunk) {
    let bytes = patternSectors(s, Math.min(chunk, sectors - s));
    if (s === 0 && partitions.length > 0) bytes = Buffer.concat([masterBootRecord(bytes.subarray(0, SECTOR), partitions), bytes.subarray(SECTOR)]);
    writeSync(fd, bytes, 0, bytes.length, s * SECTOR);
  }
  closeSync(fd);
}

/** An ext2 file system made from `dir`, in partition 1 (sector 2048 on) of an MBR disk of `mebibytes`. */
export function makeExt2Disk(out, mebibytes, dir, blockSize = 1024) {
  const sectors = mebibytes * 2048;
  const fd = openSync(out, "w");
  writeSync(fd, masterBootRecord(Buffer.alloc(SECTOR), [[2048, sectors - 2048]]), 0, SECTOR, 0);
  writeSync(fd, Buffer.alloc(SECTOR), 0, SECTOR, sectors * SECTOR - SECTOR);
  closeSync(fd);
  execFileSync("/usr/sbin/mke2fs", [
    "-q", "-F", "-t", "ext2", "-b", String(blockSize), "-E", `offset=${2048 * SECTOR}`, "-d", dir, out, `${(sectors - 2048) / 2}k`,
  ], { stdio: ["ignore", "inherit", "inherit"] });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [kind, out, mib, ...rest] = process.argv.slice(2);
  if (kind === "pattern" && out && mib) {
    makePatternDisk(out, Number(mib), rest.map((p) => p.split(":").map(Number)));
  } else if (kind === "ext2" && out && mib && rest[0]) {
    makeExt2Disk(out, Number(mib), rest[0], rest[1] ? Number(rest[1]) : 1024);
  } else {
    console.error("usage: disk-image.mjs pattern OUT MIB [START:COUNT ...] | ext2 OUT MIB DIR [BLOCK_SIZE]");
    process.exit(2);
  }
}
