// kernel/proc/elf_load.ts: where exec puts an image (chooseBias) and how
// it maps one (mapImage), on simulated memory with a real file of the
// initramfs behind the regions. A relocatable image goes near
// ELF_ET_DYN_BASE (a PIE), or in the highest room under the mmap top (a
// static PIE, an interpreter), aligned as the program asks; every segment
// becomes a file-backed region whose last file page is a private copy with
// the rest zeroed and whose pages after that are demand-zero, exactly as
// the page faults then find them.
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { archive, bootWithInitramfs, contents, file, lookup } from "./initramfs";

const MEMORY_PAGES = 512; // 32 MiB
const PAGE = 0x1000n;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const ET_EXEC = 2;
const ET_DYN = 3;
const PIE_BASE = 0x555555554000n; // ELF_ET_DYN_BASE, page aligned
const MMAP_TOP = 0x7ffffffff000n - (8n << 20n) - (1n << 20n); // with norandmaps
const USER_LIMIT = 0x00007f0000000000n;
const NO_BIAS = 2n ** 64n - 1n;
const PIE_PLACEMENT = 0;
const MMAP_AREA = 1;
const FAULT_USER = 4;
const PTE_ADDRESS = 0x000ffffffffff000n;
const ELF_IMAGE_SIZE = 64 + 16 * 40;
const IMAGE = { type: 0, segmentCount: 4, alignment: 40, low: 48, high: 56, segments: 64 };
const REGION = { start: 0, end: 8, protection: 16, flags: 20, object: 24, fileOffset: 32, fileBytes: 40 };
const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const REGION_FILE = 2;

interface Segment {
  address: bigint;
  memorySize: bigint;
  offset: bigint;
  fileSize: bigint;
  flags: number;
}

/** A PIE's two segments as ld lays them out: text from the file's start, data + .bss two pages on. */
const TEXT: Segment = { address: 0n, memorySize: 0x1800n, offset: 0n, fileSize: 0x1800n, flags: PF_R | PF_X };
const DATA: Segment = { address: 0x3e10n, memorySize: 0x2000n, offset: 0x2e10n, fileSize: 0x238n, flags: PF_R | PF_W };
const FILE_BYTES = contents(5 * Number(PAGE), 7);

let k: Kernel;
let space: number;
let object: number;
beforeEach(() => {
  k = loadKernel({ memoryPages: MEMORY_PAGES });
  expect(bootWithInitramfs(k, archive([file("program", FILE_BYTES, 0o100755)]).bytes)).toBe(0);
  expect(k.exports.zeroPage()).not.toBe(0);
  space = k.exports.createAddressSpace() >>> 0;
  const inode = lookup(k, "/program");
  expect(inode).toBeGreaterThan(0);
  object = k.exports.inodeObject(inode) >>> 0;
  k.exports.setLayoutRandomised(0);
});

/** An ElfImage record as elf.ts's checks leave it (only what placing and mapping read). */
function image(type: number, segments: Segment[], alignment = PAGE): number {
  const at = k.exports.kmalloc(ELF_IMAGE_SIZE) >>> 0;
  const view = k.view();
  view.setUint16(at + IMAGE.type, type, true);
  view.setUint32(at + IMAGE.segmentCount, segments.length, true);
  view.setBigUint64(at + IMAGE.alignment, alignment, true);
  const low = segments.reduce((m, s) => (s.address & ~(PAGE - 1n)) < m ? s.address & ~(PAGE - 1n) : m, 2n ** 64n - 1n);
  const high = segments.reduce((m, s) => (s.address + s.memorySize > m ? s.address + s.memorySize : m), 0n);
  view.setBigUint64(at + IMAGE.low, low, true);
  view.setBigUint64(at + IMAGE.high, high, true);
  segments.forEach((s, i) => {
    const record = at + IMAGE.segments + i * 40;
    view.setBigUint64(record, s.address, true);
    view.setBigUint64(record + 8, s.memorySize, true);
    view.setBigUint64(record + 16, s.offset, true);
    view.setBigUint64(record + 24, s.fileSize, true);
    view.setUint32(record + 32, s.flags, true);
  });
  return at;
}

const bias = (record: number, placement: number, isProgram = true) =>
  BigInt.asUintN(64, k.exports.chooseElfBias(space, record, placement, isProgram ? 1 : 0));

function regions() {
  const set = k.exports.addressSpaceRegions(space) >>> 0;
  const view = k.view();
  return Array.from({ length: view.getUint32(set + 4, true) }, (_, i) => {
    const r = k.exports.regionAt(set, i) >>> 0;
    return {
      start: view.getBigUint64(r + REGION.start, true), end: view.getBigUint64(r + REGION.end, true),
      protection: view.getUint32(r + REGION.protection, true), flags: view.getUint32(r + REGION.flags, true),
      object: view.getUint32(r + REGION.object, true), fileOffset: view.getBigUint64(r + REGION.fileOffset, true),
      fileBytes: view.getBigUint64(r + REGION.fileBytes, true),
    };
  });
}

/** Faults `address` in for a read and returns its page's bytes, and whether the frame is the page cache's. */
function readPage(address: bigint): Uint8Array {
  expect(k.exports.handleUserFault(space, address, FAULT_USER)).toBe(0);
  const root = k.view().getUint32(space, true);
  const entry = BigInt.asUintN(64, k.exports.leafEntry(root, address & ~(PAGE - 1n)));
  return k.read(Number(entry & PTE_ADDRESS), Number(PAGE));
}

describe("chooseBias", () => {
  it("leaves an ET_EXEC image where it was linked", () => {
    const record = image(ET_EXEC, [{ ...TEXT, address: 0x400000n }]);
    expect(bias(record, PIE_PLACEMENT)).toBe(0n);
    expect(bias(record, MMAP_AREA)).toBe(0n);
  });

  it("puts a PIE at ELF_ET_DYN_BASE when nothing is randomised, aligned as its segments ask", () => {
    expect(bias(image(ET_DYN, [TEXT, DATA]), PIE_PLACEMENT)).toBe(PIE_BASE);
    expect(bias(image(ET_DYN, [TEXT, DATA], 0x200000n), PIE_PLACEMENT)).toBe(0x555555400000n);
    // Linked elsewhere than 0: the bias takes it to the same place.
    expect(bias(image(ET_DYN, [{ ...TEXT, address: 0x10000n }]), PIE_PLACEMENT)).toBe(PIE_BASE - 0x10000n);
  });

  it("randomises a PIE's place within 1 TiB above ELF_ET_DYN_BASE, in pages", () => {
    k.exports.setLayoutRandomised(1);
    const record = image(ET_DYN, [TEXT, DATA]);
    const places = new Set<bigint>();
    for (let i = 0; i < 20; i++) {
      const b = bias(record, PIE_PLACEMENT);
      expect(b % PAGE).toBe(0n);
      expect(b >= PIE_BASE && b < PIE_BASE + (1n << 40n)).toBe(true);
      places.add(b);
    }
    expect(places.size).toBeGreaterThan(15);
  });

  it("refuses a PIE that would reach past USER_LIMIT", () => {
    const reaching = { ...TEXT, memorySize: USER_LIMIT - PIE_BASE }; // ends exactly there
    expect(bias(image(ET_DYN, [reaching]), PIE_PLACEMENT)).toBe(PIE_BASE);
    expect(bias(image(ET_DYN, [{ ...reaching, memorySize: reaching.memorySize + 1n }]), PIE_PLACEMENT)).toBe(NO_BIAS);
  });

  it("puts a static PIE or an interpreter in the highest room under the mmap top", () => {
    const record = image(ET_DYN, [TEXT, DATA]); // 6 pages
    expect(bias(record, MMAP_AREA)).toBe(MMAP_TOP - 6n * PAGE);
    // Below what is there already.
    k.exports.mapElfImage(space, object, record, MMAP_TOP - 6n * PAGE);
    expect(bias(record, MMAP_AREA, false)).toBe(MMAP_TOP - 12n * PAGE);
  });

  it("aligns the program in the mmap area, but not an interpreter (as Linux)", () => {
    const record = image(ET_DYN, [TEXT, DATA], 0x200000n);
    const program = bias(record, MMAP_AREA);
    expect(program % 0x200000n).toBe(0n);
    expect(program + 6n * PAGE <= MMAP_TOP && program + 6n * PAGE + 0x200000n > MMAP_TOP).toBe(true);
    expect(bias(record, MMAP_AREA, false)).toBe(MMAP_TOP - 6n * PAGE);
  });

  it("finds no room for what the mmap area cannot hold", () => {
    expect(bias(image(ET_DYN, [{ ...TEXT, memorySize: MMAP_TOP }]), MMAP_AREA)).toBe(NO_BIAS);
    expect(bias(image(ET_DYN, [TEXT], 2n ** 63n), MMAP_AREA)).toBe(NO_BIAS); // the alignment's slack is the problem
  });
});

describe("mapImage", () => {
  it("makes each segment a private file region whose file bytes end where the segment's do", () => {
    const b = MMAP_TOP - 6n * PAGE;
    expect(BigInt.asUintN(64, k.exports.mapElfImage(space, object, image(ET_DYN, [TEXT, DATA]), b))).toBe(b + 6n * PAGE);
    expect(regions()).toEqual([
      { start: b, end: b + 2n * PAGE, protection: PROT_READ | PROT_EXEC, flags: REGION_FILE, object, fileOffset: 0n, fileBytes: 0x1800n },
      {
        start: b + 3n * PAGE, end: b + 6n * PAGE, protection: PROT_READ | PROT_WRITE, flags: REGION_FILE, object,
        fileOffset: 0x2000n, fileBytes: 0xe10n + 0x238n,
      },
    ]);
  });

  it("is lazy: pages come on faults, the last file page with its tail zeroed, the .bss after it as zeros", () => {
    const b = MMAP_TOP - 6n * PAGE;
    k.exports.mapElfImage(space, object, image(ET_DYN, [TEXT, DATA]), b);
    const root = k.view().getUint32(space, true);
    for (let page = 0n; page < 6n; page++) expect(k.exports.leafEntry(root, b + page * PAGE), "nothing mapped yet").toBe(0n);
    const bytes = (from: number, length: number) => FILE_BYTES.slice(from, from + length);
    expect(readPage(b)).toEqual(bytes(0, 0x1000));
    // Text's second page: the file's bytes past the segment's end are zeros.
    const second = readPage(b + PAGE);
    expect(second.slice(0, 0x800)).toEqual(bytes(0x1000, 0x800));
    expect(second.slice(0x800).every((x) => x === 0)).toBe(true);
    // Data's first page is a whole file page; the next holds its last 0x48 bytes, then .bss.
    expect(readPage(b + 3n * PAGE)).toEqual(bytes(0x2000, 0x1000));
    const last = readPage(b + 4n * PAGE);
    expect(last.slice(0, 0x48)).toEqual(bytes(0x3000, 0x48));
    expect(last.slice(0x48).every((x) => x === 0)).toBe(true);
    expect(readPage(b + 5n * PAGE).every((x) => x === 0)).toBe(true);
  });

  it("maps an ET_EXEC interpreter over the program it was linked on top of, as Linux's MAP_FIXED", () => {
    const program = image(ET_EXEC, [{ ...TEXT, address: 0x400000n }]);
    const interpreter = image(ET_EXEC, [{ ...DATA, address: 0x400e10n }]);
    k.exports.mapElfImage(space, object, program, 0n);
    k.exports.mapElfImage(space, object, interpreter, 0n);
    expect(regions().map((r) => [r.start, r.end, r.fileOffset])).toEqual([[0x400000n, 0x403000n, 0x2000n]]);
  });
});
