// Shared by cpio.test.ts and mm-page-cache.test.ts: cpio "newc" archives
// written here the way scripts/make-initramfs.mjs writes them (and with
// any field a test wants to spoil), and a boot that hands one to the
// kernel as the multiboot2 module "initramfs": a synthetic boot
// information block (memory map and module tags) parsed by
// parseBootInfo, the frame database built around it, the slab reset, and
// mountInitramfs called, as kernel/main.ts does it.
import { expect } from "vitest";
import { type Kernel, bytesOf } from "./kernel-wasm";
import { KERNEL_STATICS, MIB, type Region, State, pcMemoryMap } from "./mm";

/** CpioStatus in cpio.ts. */
export const enum CpioStatus {
  Ok = 0,
  Truncated = 1,
  BadMagic = 2,
  BadNumber = 3,
  BadName = 4,
  TooManyEntries = 5,
}
export const CPIO_STATUS_NAMES = ["Ok", "Truncated", "BadMagic", "BadNumber", "BadName", "TooManyEntries"];

export const CPIO_HEADER_SIZE = 110;
export const CPIO_ENTRY_SIZE = 24;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const ROOT_INODE = -2;
export const NOT_FOUND = -1;

/** The thirteen header fields, in order. */
export const FIELDS = [
  "ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
] as const;
export type Field = (typeof FIELDS)[number];

export interface Member {
  name: string;
  mode: number;
  data: Uint8Array;
}

/** Ways to spoil one record. */
export interface Spoil {
  magic?: string;
  /** Replaces a field's 8 characters (any text, padded or cut to 8). */
  fields?: Partial<Record<Field, string>>;
  /** Leave out the NUL after the name (the name size still counts only what is written). */
  noNul?: boolean;
  /** Field text in upper case (valid hex all the same). */
  upperCase?: boolean;
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** One record, assuming it starts 4-byte aligned in its archive. */
export function record(name: string, mode: number, data: Uint8Array, ino: number, spoil: Spoil = {}): Uint8Array {
  const nameBytes = spoil.noNul ? bytesOf(name) : bytesOf(`${name}\0`);
  const values: Record<Field, number> = {
    ino, mode, uid: 0, gid: 0, nlink: mode & S_IFDIR ? 2 : 1, mtime: 0, filesize: data.length, devmajor: 0, devminor: 0,
    rdevmajor: 0, rdevminor: 0, namesize: nameBytes.length, check: 0,
  };
  let text = (spoil.magic ?? "070701") + FIELDS.map((f) => {
    const given = spoil.fields?.[f];
    return given === undefined ? hex8(values[f]) : given.padEnd(8, "0").slice(0, 8);
  }).join("");
  if (spoil.upperCase) text = text.toUpperCase();
  const header = bytesOf(text);
  const out = new Uint8Array(header.length + nameBytes.length + pad4(header.length + nameBytes.length) + data.length + pad4(data.length));
  out.set(header);
  out.set(nameBytes, header.length);
  out.set(data, header.length + nameBytes.length + pad4(header.length + nameBytes.length));
  return out;
}

export interface Written {
  bytes: Uint8Array;
  /** Per member, where its name and data start in the archive. */
  offsets: { name: number; data: number }[];
}

export interface ArchiveOptions {
  /** Start with a "." record (make-initramfs.mjs always does). */
  dot?: boolean;
  /** End with TRAILER!!! (default true). */
  trailer?: boolean;
  /** Spoils for member i. */
  spoil?: (i: number) => Spoil | undefined;
  /** Bytes after the trailer (Linux pads archives to 512 bytes with zeros). */
  tail?: Uint8Array;
}

/** An archive of `members` in order, laid out as make-initramfs.mjs does. */
export function archive(members: Member[], options: ArchiveOptions = {}): Written {
  const parts: Uint8Array[] = [];
  const offsets: Written["offsets"] = [];
  let at = 0;
  let ino = 1;
  const add = (bytes: Uint8Array) => {
    parts.push(bytes);
    at += bytes.length;
  };
  if (options.dot ?? true) add(record(".", 0o040755, new Uint8Array(), ino++));
  members.forEach((m, i) => {
    const spoil = options.spoil?.(i);
    const nameLength = m.name.length + (spoil?.noNul ? 0 : 1);
    offsets.push({ name: at + CPIO_HEADER_SIZE, data: at + CPIO_HEADER_SIZE + nameLength + pad4(CPIO_HEADER_SIZE + nameLength) });
    add(record(m.name, m.mode, m.data, ino++, spoil));
  });
  if (options.trailer ?? true) add(record("TRAILER!!!", 0, new Uint8Array(), ino++));
  if (options.tail) add(options.tail);
  const bytes = new Uint8Array(at);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return { bytes, offsets };
}

/** Deterministic file contents. */
export function contents(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export const file = (name: string, data: Uint8Array, mode = S_IFREG | 0o644): Member => ({ name, mode, data });
export const directory = (name: string): Member => ({ name, mode: S_IFDIR | 0o755, data: new Uint8Array() });

/** CpioEntry in cpio.ts, read from memory. */
export interface Entry {
  name: number;
  nameLength: number;
  data: number;
  size: number;
  mode: number;
}

export function readEntries(k: Kernel, table: number, count: number): Entry[] {
  const view = k.view();
  return Array.from({ length: count }, (_, i) => {
    const at = table + i * CPIO_ENTRY_SIZE;
    return {
      name: view.getUint32(at, true),
      nameLength: view.getUint32(at + 4, true),
      data: view.getUint32(at + 8, true),
      size: view.getUint32(at + 12, true),
      mode: view.getUint32(at + 16, true),
    };
  });
}

/** What the entries of `members` must be when the archive sits at `start`. */
export function expectedEntries(written: Written, members: Member[], start: number): Entry[] {
  return members.map((m, i) => ({
    name: start + written.offsets[i].name,
    nameLength: m.name.length,
    data: start + written.offsets[i].data,
    size: m.data.length,
    mode: m.mode,
  }));
}

// ---- booting with an initramfs -------------------------------------------------

/**
 * Where the boot information block and the archive go, in RAM the boot
 * reserves as BootData. The reservation below 1 MiB also covers
 * PATH_SCRATCH, where paths are written for lookupPath.
 */
export const INFO_ADDRESS = 0x10000;
export const LOW_RESERVED_END = 0x90000;
export const PATH_SCRATCH = 0x20000;
export const ARCHIVE_ADDRESS = 4 * MIB;

function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((value, i) => new DataView(out.buffer).setUint32(i * 4, value, true));
  return out;
}

/** A multiboot2 information block: a memory map tag, module tags, the end tag. */
export function bootInformation(regions: Region[], modules: { start: number; end: number; cmdline: string }[]): Uint8Array {
  const tags: Uint8Array[] = [];
  const tag = (type: number, body: Uint8Array) => {
    const bytes = new Uint8Array((8 + body.length + 7) & ~7);
    bytes.set(u32s(type, 8 + body.length));
    bytes.set(body, 8);
    tags.push(bytes);
  };
  const map = new Uint8Array(8 + regions.length * 24);
  const view = new DataView(map.buffer);
  view.setUint32(0, 24, true);
  regions.forEach((r, i) => {
    view.setBigUint64(8 + i * 24, r.base, true);
    view.setBigUint64(16 + i * 24, r.length, true);
    view.setUint32(24 + i * 24, r.type, true);
  });
  tag(6, map);
  for (const m of modules) tag(3, new Uint8Array([...u32s(m.start, m.end), ...bytesOf(m.cmdline), 0]));
  tag(0, new Uint8Array());
  const total = 8 + tags.reduce((sum, t) => sum + t.length, 0);
  const out = new Uint8Array(total);
  out.set(u32s(total, 0));
  let at = 8;
  for (const t of tags) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}

export interface BootOptions {
  /** End of RAM (default 32 MiB: load the kernel with 512 wasm pages). */
  ramEnd?: number;
  /** The module's command line (default "initramfs"). */
  cmdline?: string;
  /** Fill the RAM the allocator will hand out with this byte before booting, so stale data shows. */
  poison?: number;
}

/**
 * Boots memory management the way initMemory does, with `bytes` loaded as
 * the initramfs module at ARCHIVE_ADDRESS, and mounts it. Returns
 * mountInitramfs's status.
 */
export function bootWithInitramfs(k: Kernel, bytes: Uint8Array, options: BootOptions = {}): CpioStatus {
  const ramEnd = options.ramEnd ?? 32 * MIB;
  expect(k.memory.buffer.byteLength).toBeGreaterThanOrEqual(ramEnd);
  const moduleEnd = ARCHIVE_ADDRESS + bytes.length;
  const info = bootInformation(pcMemoryMap(ramEnd), [{ start: ARCHIVE_ADDRESS, end: moduleEnd, cmdline: options.cmdline ?? "initramfs" }]);
  if (options.poison !== undefined) {
    new Uint8Array(k.memory.buffer, 2 * MIB, ramEnd - 2 * MIB).fill(options.poison);
  }
  k.write(INFO_ADDRESS, info);
  k.write(ARCHIVE_ADDRESS, bytes);
  expect(k.exports.parseBootInfo(INFO_ADDRESS), "parseBootInfo").toBe(0);
  k.exports.clearReservedRanges();
  k.exports.reserveRange(KERNEL_STATICS.start, KERNEL_STATICS.end, KERNEL_STATICS.state);
  expect(INFO_ADDRESS + info.length).toBeLessThanOrEqual(PATH_SCRATCH);
  k.exports.reserveRange(BigInt(INFO_ADDRESS), BigInt(LOW_RESERVED_END), State.BootData);
  k.exports.reserveRange(BigInt(ARCHIVE_ADDRESS), BigInt(moduleEnd), State.BootData);
  expect(k.exports.initFrameDatabase(), "initFrameDatabase").toBe(1);
  k.exports.resetSlab();
  k.exports.initPageCache();
  return k.exports.mountInitramfs() >>> 0;
}

/**
 * Writes `path` where the kernel can read it (reserved memory below 1 MiB)
 * and walks it from the root: the inode's address, or -errno.
 */
export function lookup(k: Kernel, path: string, follow = true): number {
  const bytes = bytesOf(path);
  expect(bytes.length).toBeLessThanOrEqual(LOW_RESERVED_END - PATH_SCRATCH);
  k.write(PATH_SCRATCH, bytes);
  return Number(follow ? k.exports.lookupPath(PATH_SCRATCH, bytes.length) : k.exports.lookupLink(PATH_SCRATCH, bytes.length));
}
