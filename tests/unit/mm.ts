// Shared by the memory-management tests (mm-*.test.ts): synthetic memory
// maps written into multiboot2.ts's region table, booting the frame
// database on them, and reading frame records and free lists through memory
// with the layouts drawn in kernel/mm/frame.ts, so the tests check the
// kernel's data structures without trusting its own accessors.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { Kernel } from "./kernel-wasm";

export const PAGE = 4096;
export const MIB = 1 << 20;
export const GIB = 2 ** 30;
export const FRAMES_PER_SECTION = 4096;
export const SECTION_BYTES = FRAMES_PER_SECTION * PAGE; // 16 MiB
export const FRAME_RECORD_SIZE = 32;
export const SECTION_RECORDS_SIZE = FRAMES_PER_SECTION * FRAME_RECORD_SIZE; // 128 KiB
export const SECTION_COUNT = 256;
export const MAX_ORDER = 10;
export const NO_FRAME = 0xffffffff;

/** FrameState in frame.ts. */
export const enum State {
  Hole = 0,
  Free = 1,
  FirmwareReserved = 2,
  KernelImage = 3,
  BootData = 4,
  FrameDatabase = 5,
  PageTable = 6,
  KernelObject = 7,
  Anonymous = 8,
  FileCache = 9,
  ZeroPage = 10,
}
export const STATE_COUNT = 11;

/** Frame.flags in frame.ts. */
export const FRAME_BUDDY_HEAD = 1;
export const FRAME_BLOCK_HEAD = 2;

/** MemoryType in multiboot2.ts. */
export const enum MemoryType {
  Available = 1,
  Reserved = 2,
  AcpiReclaimable = 3,
  AcpiNvs = 4,
  BadRam = 5,
}

export interface Region {
  base: bigint;
  length: bigint;
  type: number;
}

export interface Reserved {
  start: bigint;
  end: bigint;
  state: State;
}

export const available = (base: number | bigint, length: number | bigint): Region => ({
  base: BigInt(base),
  length: BigInt(length),
  type: MemoryType.Available,
});

export const reservedRegion = (base: number | bigint, length: number | bigint, type = MemoryType.Reserved): Region => ({
  base: BigInt(base),
  length: BigInt(length),
  type,
});

/** The kernel's statics and the runtime heap the tests allocate strings from (memoryBase is 1 MiB). */
export const KERNEL_STATICS: Reserved = { start: BigInt(MIB), end: BigInt(2 * MIB), state: State.KernelImage };

/**
 * A PC-like map: conventional memory with a partial last page, the EBDA and
 * BIOS area reserved, RAM from 1 MiB to `ramEnd`, and the BIOS ROM below
 * 4 GiB reserved (in a section without RAM, so it costs no records).
 */
export function pcMemoryMap(ramEnd: number): Region[] {
  return [
    available(0, 0x9fc00),
    reservedRegion(0x9fc00, 0x400),
    reservedRegion(0xf0000, 0x10000),
    available(MIB, ramEnd - MIB),
    reservedRegion(0xfffc0000, 0x40000),
  ];
}

/** Writes `regions` as the parsed multiboot2 memory map (bootInfo.regionCount and the region table). */
export function setMemoryMap(k: Kernel, regions: Region[]): void {
  expect(regions.length).toBeLessThanOrEqual(128);
  const view = k.view();
  view.setUint32((k.exports.bootInfoAddress() >>> 0) + 24, regions.length, true);
  regions.forEach((region, i) => {
    const at = k.exports.memoryRegionAddress(i) >>> 0;
    view.setBigUint64(at, region.base, true);
    view.setBigUint64(at + 8, region.length, true);
    view.setUint32(at + 16, region.type, true);
    view.setUint32(at + 20, 0, true);
  });
}

/** Builds the frame database (and so the buddy allocator) the way initMemory does; returns initFrameDatabase's answer. */
export function bootMemory(k: Kernel, regions: Region[], reserved: Reserved[] = [KERNEL_STATICS]): boolean {
  setMemoryMap(k, regions);
  k.exports.clearReservedRanges();
  for (const r of reserved) k.exports.reserveRange(r.start, r.end, r.state);
  return k.exports.initFrameDatabase() !== 0;
}

/** Frame, read with the layout drawn in frame.ts. */
export interface FrameRecord {
  state: State;
  order: number;
  flags: number;
  refCount: number;
  mapCount: number;
  next: number;
  prev: number;
  pageIndex: number;
  owner: number;
  data: number;
}

/** Linear address of frame `pfn`'s record, or 0 when its section has none. */
export function recordAddress(k: Kernel, pfn: number): number {
  const section = Math.floor(pfn / FRAMES_PER_SECTION);
  const records = k.exports.sectionRecordsAddress(section) >>> 0;
  return records === 0 ? 0 : records + (pfn % FRAMES_PER_SECTION) * FRAME_RECORD_SIZE;
}

export function readRecord(view: DataView, at: number): FrameRecord {
  const u32 = (offset: number) => view.getUint32(at + offset, true);
  return {
    state: view.getUint8(at) as State,
    order: view.getUint8(at + 1),
    flags: view.getUint16(at + 2, true),
    refCount: u32(4),
    mapCount: u32(8),
    next: u32(12),
    prev: u32(16),
    pageIndex: u32(20),
    owner: u32(24),
    data: u32(28),
  };
}

export function frameRecord(k: Kernel, pfn: number): FrameRecord {
  const at = recordAddress(k, pfn);
  if (at === 0) throw new Error(`frame ${pfn} has no record`);
  return readRecord(k.view(), at);
}

/**
 * frameRecord for many reads: the section table is read once, so use it
 * only while the database stays as it is (after boot, it always does).
 */
export function frameReader(k: Kernel): (pfn: number) => FrameRecord {
  const view = k.view();
  const sections = Array.from({ length: SECTION_COUNT }, (_, s) => k.exports.sectionRecordsAddress(s) >>> 0);
  return (pfn) => {
    const records = sections[Math.floor(pfn / FRAMES_PER_SECTION)] ?? 0;
    if (records === 0) throw new Error(`frame ${pfn} has no record`);
    return readRecord(view, records + (pfn % FRAMES_PER_SECTION) * FRAME_RECORD_SIZE);
  };
}

/** The sections that have records, in order. */
export function sectionsWithRecords(k: Kernel): number[] {
  const out: number[] = [];
  for (let s = 0; s < SECTION_COUNT; s++) if (k.exports.sectionRecordsAddress(s) !== 0) out.push(s);
  return out;
}

/** Every recorded frame's state, by frame number (frames in sections without records are absent). */
export function frameStates(k: Kernel): Map<number, State> {
  const view = k.view();
  const states = new Map<number, State>();
  for (const s of sectionsWithRecords(k)) {
    const records = k.exports.sectionRecordsAddress(s) >>> 0;
    for (let i = 0; i < FRAMES_PER_SECTION; i++) states.set(s * FRAMES_PER_SECTION + i, view.getUint8(records + i * FRAME_RECORD_SIZE));
  }
  return states;
}

export const freeCount = (k: Kernel) => k.exports.freeFrameCount() >>> 0;
export const stateCount = (k: Kernel, state: State) => k.exports.frameStateCount(state) >>> 0;

/** A free buddy block: its first frame and order, as "order:pfn" for easy multiset comparison. */
export type Block = string;
export const blockKey = (order: number, pfn: number): Block => `${order}:${pfn}`;

/**
 * The free blocks, found two independent ways and required to agree: every
 * record flagged FRAME_BUDDY_HEAD, and every block reached by walking each
 * order's list from its head (the one record of that order with prev ==
 * NO_FRAME) through next, checking prev links and list lengths on the way.
 * Returns the blocks sorted.
 */
export function freeBlocks(k: Kernel): Block[] {
  const view = k.view();
  const flagged: Block[] = [];
  const heads = new Map<number, number[]>();
  for (const s of sectionsWithRecords(k)) {
    const records = k.exports.sectionRecordsAddress(s) >>> 0;
    for (let i = 0; i < FRAMES_PER_SECTION; i++) {
      const at = records + i * FRAME_RECORD_SIZE;
      if ((view.getUint16(at + 2, true) & FRAME_BUDDY_HEAD) === 0) continue;
      const pfn = s * FRAMES_PER_SECTION + i;
      const order = view.getUint8(at + 1);
      flagged.push(blockKey(order, pfn));
      if (view.getUint32(at + 16, true) === NO_FRAME) heads.set(order, [...(heads.get(order) ?? []), pfn]);
    }
  }
  const walked: Block[] = [];
  const record = frameReader(k);
  for (let order = 0; order <= MAX_ORDER; order++) {
    const listHeads = heads.get(order) ?? [];
    expect(listHeads.length, `order ${order} list heads`).toBeLessThanOrEqual(1);
    let previous = NO_FRAME;
    let length = 0;
    for (let pfn = listHeads[0] ?? NO_FRAME; pfn !== NO_FRAME; ) {
      const { prev, next } = record(pfn);
      if (prev !== previous) expect.fail(`prev link of ${pfn} is ${prev}, not ${previous}`);
      walked.push(blockKey(order, pfn));
      previous = pfn;
      pfn = next;
      if (++length > 1 << 20) expect.fail(`order ${order} list loops`);
    }
    expect(length, `order ${order} list length`).toBe(k.exports.freeListLength(order) >>> 0);
  }
  flagged.sort();
  walked.sort();
  expect(walked).toEqual(flagged);
  return flagged;
}

/** Frames covered by a list of blocks. */
export const blockFrames = (blocks: Block[]) => blocks.reduce((sum, b) => sum + 2 ** Number(b.split(":")[0]), 0);

/**
 * Allocates every free frame (largest blocks first) as `state` and returns
 * the blocks' addresses, so the caller can give memory back with freePages.
 * Leaves `keep` frames free (taken from the end, one frame at a time).
 */
export function exhaust(k: Kernel, state: State = State.Anonymous, keep = 0): number[] {
  const held: number[] = [];
  for (let order = MAX_ORDER; order >= 0; order--) {
    while (freeCount(k) >= keep + 2 ** order) {
      const address = k.exports.allocPages(order, state, 0) >>> 0;
      if (address === 0) break;
      held.push(address);
    }
  }
  expect(freeCount(k)).toBe(keep);
  return held;
}

// ---- kernel assertions ------------------------------------------------------

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The line of kernel source `file` holding `text` (an assert's message), which abort reports as its code. */
export function sourceLine(file: string, text: string): number {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const matches = lines.flatMap((line, i) => (line.includes(text) ? [i + 1] : []));
  if (matches.length !== 1) throw new Error(`${file}: ${matches.length} lines contain ${JSON.stringify(text)}`);
  return matches[0];
}

/**
 * Expects `action` to fail the kernel assertion in `file` whose message
 * contains `text`: abort raises vector 257 (VECTOR_KERNEL_ABORT) with the
 * assert's line as the code, and the loader throws that as an Error.
 */
export function expectAssertion(action: () => unknown, file: string, text: string): void {
  expect(action).toThrow(`arch_raise(vector 257, code ${sourceLine(file, text)})`);
}

/** Deterministic bytes for filling memory a test owns, so stale data shows. */
export function fill(k: Kernel, address: number, length: number, byte: number): void {
  new Uint8Array(k.memory.buffer, address, length).fill(byte);
}

/** Whether every byte of [address, address + length) is `byte`. */
export function allBytes(k: Kernel, address: number, length: number, byte: number): boolean {
  return Buffer.from(k.memory.buffer, address, length).equals(Buffer.alloc(length, byte));
}
