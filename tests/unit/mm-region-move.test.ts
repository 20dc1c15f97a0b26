// mremap's move (kernel/mm/region_move.ts) and hole punching
// (kernel/mm/hole.ts) on simulated memory. A move takes page-table entries,
// not bytes: after it the new addresses hold exactly the old entries (same
// frames, same flags, same counts), the old ones none, and tables emptied
// on the way are freed. It may need new page tables; with too few frames it
// must fail holding nothing, as if it had never started, so it runs here
// with exactly 0, 1, 2, ... frames free until it succeeds. A punched hole
// unmaps the object's pages from every mapper and frees them, keeping
// private copies.
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { PAGE, State, exhaust, frameReader, freeCount } from "./mm";
import { archive, bootWithInitramfs, contents, file } from "./initramfs";

const MEMORY_PAGES = 512; // 32 MiB
const PROT_READ = 1;
const PROT_WRITE = 2;
const REGION_SHARED = 1;
const REGION_FILE = 2;
const FAULT_WRITE = 2;
const FAULT_USER = 4;
const CONTINUE = 0;
const PTE_ADDRESS = 0x000ffffffffff000n;
const REGION = { start: 0, end: 8, fileOffset: 32, fileBytes: 40 };
const AS = { root: 0, residentPages: 4 };
const SET = { count: 4 };

// Six pages over a 2 MiB boundary, moved far away (new page-directory-pointer
// table, page directory and two page tables) and over a boundary again.
const SOURCE = 0x400000n - 3n * BigInt(PAGE);
const PAGES = 6;
const TARGET = 0x500000000000n + 0x200000n - 2n * BigInt(PAGE);
const TABLES_NEEDED = 4;

interface Machine {
  k: Kernel;
  space: number;
}

function boot(): Machine {
  const k = loadKernel({ memoryPages: MEMORY_PAGES });
  expect(bootWithInitramfs(k, archive([file("data", contents(PAGE, 1))]).bytes)).toBe(0);
  k.exports.installCacheReclaimHook();
  expect(k.exports.zeroPage()).not.toBe(0);
  const space = k.exports.createAddressSpace() >>> 0;
  expect(space).not.toBe(0);
  return { k, space };
}

const at = (base: bigint, page: number) => base + BigInt(page * PAGE);
const u32 = (m: Machine, address: number) => m.k.view().getUint32(address, true);
const root = (m: Machine) => u32(m, m.space + AS.root);
const leaf = (m: Machine, va: bigint) => BigInt.asUintN(64, m.k.exports.leafEntry(root(m), va));
const regions = (m: Machine) => m.k.exports.addressSpaceRegions(m.space) >>> 0;
const regionCount = (m: Machine) => u32(m, regions(m) + SET.count);

function addRegion(m: Machine, start: bigint, pages: number, flags = 0, object = 0): number {
  const region = m.k.exports.newRegion(start, start + BigInt(pages * PAGE), PROT_READ | PROT_WRITE, flags) >>> 0;
  expect(region).not.toBe(0);
  if (object !== 0) {
    m.k.exports.attachObject(region, object, m.space);
    m.k.view().setBigUint64(region + REGION.fileBytes, BigInt(pages * PAGE), true);
  }
  expect(m.k.exports.insertRegion(regions(m), region)).toBe(1);
  return region;
}

function fault(m: Machine, va: bigint, access: number): void {
  expect(m.k.exports.handleUserFault(m.space, va, access | FAULT_USER)).toBe(CONTINUE);
}

/** Anonymous pages: all written but the last, which is read (the zero page). */
function sourcePages(m: Machine): void {
  addRegion(m, SOURCE, PAGES);
  for (let i = 0; i < PAGES; i++) fault(m, at(SOURCE, i), i < PAGES - 1 ? FAULT_WRITE : 0);
}

/** Free frames once a fresh machine's empty space is destroyed: where every test machine must end. */
function freeWithNoSpace(): number {
  const m = boot();
  m.k.exports.destroyAddressSpace(m.space);
  m.k.exports.reclaimCachePages();
  return freeCount(m.k);
}

const entries = (m: Machine, base: bigint) => Array.from({ length: PAGES }, (_, i) => leaf(m, at(base, i)));

describe("moveRange", () => {
  it("moves the entries, or with too few frames for its tables changes nothing", () => {
    const baseline = freeWithNoSpace();
    let succeededWith = -1;
    for (let free = 0; free <= TABLES_NEEDED && succeededWith < 0; free++) {
      const m = boot();
      sourcePages(m);
      m.k.exports.reclaimCachePages();
      const held = exhaust(m.k, State.Anonymous, free);
      const before = entries(m, SOURCE);
      const resident = u32(m, m.space + AS.residentPages);
      const frames = frameReader(m.k);
      const counts = before.map((e) => frames(Number((e & PTE_ADDRESS) / BigInt(PAGE))));
      const moved = m.k.exports.moveRange(m.space, SOURCE, BigInt(PAGES * PAGE), TARGET, BigInt(PAGES * PAGE), 0);
      if (moved) {
        succeededWith = free;
        expect(entries(m, TARGET), "the same frames and flags, at the new addresses").toEqual(before);
        expect(entries(m, SOURCE).every((e) => e === 0n)).toBe(true);
        const after = frameReader(m.k);
        expect(before.map((e) => after(Number((e & PTE_ADDRESS) / BigInt(PAGE)))), "no frame count changed").toEqual(counts);
        expect(u32(m, m.space + AS.residentPages)).toBe(resident);
        expect(regionCount(m)).toBe(1);
        const region = m.k.exports.findRegion(regions(m), TARGET) >>> 0;
        expect(m.k.view().getBigUint64(region + REGION.end, true)).toBe(at(TARGET, PAGES));
        // The move made four tables and freed the source's four, which it left empty (nothing else is mapped).
        expect(freeCount(m.k)).toBe(free);
      } else {
        expect(freeCount(m.k), `with ${free} frames free: every frame the move took came back`).toBe(free);
        expect(entries(m, SOURCE)).toEqual(before);
        expect(entries(m, TARGET).every((e) => e === 0n)).toBe(true);
        expect(regionCount(m)).toBe(1);
        expect(m.k.exports.findRegion(regions(m), SOURCE)).not.toBe(0);
      }
      for (const page of held) m.k.exports.freePages(page);
      m.k.exports.destroyAddressSpace(m.space);
      m.k.exports.reclaimCachePages();
      expect(freeCount(m.k), "destroying the space gives back everything").toBe(baseline);
    }
    expect(succeededWith).toBe(TABLES_NEEDED);
  });

  it("keeps the old range, empty, with keepOld (MREMAP_DONTUNMAP)", () => {
    const m = boot();
    sourcePages(m);
    const before = entries(m, SOURCE);
    expect(m.k.exports.moveRange(m.space, at(SOURCE, 1), BigInt(3 * PAGE), TARGET, BigInt(3 * PAGE), 1)).toBe(1);
    expect(regionCount(m)).toBe(2);
    expect(m.k.exports.findRegion(regions(m), SOURCE)).not.toBe(0);
    expect(m.k.exports.findRegion(regions(m), at(SOURCE, 5))).not.toBe(0);
    expect(entries(m, SOURCE)).toEqual([before[0], 0n, 0n, 0n, before[4], before[5]]);
    expect([0, 1, 2].map((i) => leaf(m, at(TARGET, i)))).toEqual(before.slice(1, 4));
  });

  it("splits the source around the moved part and grows the copy", () => {
    const m = boot();
    sourcePages(m);
    const before = entries(m, SOURCE);
    expect(m.k.exports.moveRange(m.space, at(SOURCE, 2), BigInt(2 * PAGE), TARGET, BigInt(5 * PAGE), 0)).toBe(1);
    expect(regionCount(m)).toBe(3);
    expect(m.k.exports.findRegion(regions(m), at(SOURCE, 2))).toBe(0);
    expect(m.k.exports.findRegion(regions(m), at(SOURCE, 3))).toBe(0);
    const region = m.k.exports.findRegion(regions(m), at(TARGET, 4)) >>> 0;
    expect(region).not.toBe(0);
    expect(m.k.view().getBigUint64(region + REGION.start, true)).toBe(TARGET);
    expect([leaf(m, TARGET), leaf(m, at(TARGET, 1)), leaf(m, at(TARGET, 2))]).toEqual([before[2], before[3], 0n]);
  });
});

describe("punchHole", () => {
  it("unmaps the object's pages from every mapper, keeps private copies, frees the pages", () => {
    const m = boot();
    const object = m.k.exports.testObject(0) >>> 0;
    const SHARED = 0x10000000n;
    const PRIVATE = 0x20000000n;
    addRegion(m, SHARED, 4, REGION_SHARED | REGION_FILE, object);
    addRegion(m, PRIVATE, 4, REGION_FILE, object);
    for (let i = 0; i < 4; i++) fault(m, at(SHARED, i), FAULT_WRITE);
    fault(m, at(PRIVATE, 1), FAULT_WRITE); // a private copy of page 1
    fault(m, at(PRIVATE, 2), 0); // page 2 itself, read
    const cached = m.k.exports.cachedPageCount();
    const copy = leaf(m, at(PRIVATE, 1));
    const free = freeCount(m.k);
    expect(m.k.exports.punchHole(object, BigInt(PAGE), BigInt(2 * PAGE))).toBe(1);
    expect(m.k.exports.cachedPageCount()).toBe(cached - 2);
    expect(freeCount(m.k)).toBe(free + 2);
    expect([0, 1, 2, 3].map((i) => leaf(m, at(SHARED, i)) !== 0n)).toEqual([true, false, false, true]);
    expect(leaf(m, at(PRIVATE, 1))).toBe(copy);
    expect(leaf(m, at(PRIVATE, 2))).toBe(0n);
    expect(m.k.exports.findCachedPage(object, 1)).toBe(0);
    expect(m.k.exports.findCachedPage(object, 3)).not.toBe(0);
  });
});
