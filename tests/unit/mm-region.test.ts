// kernel/mm/region.ts: the sorted set of an address space's regions.
// Random sequences of inserts, munmap-like removals (which trim and split
// regions), splits, lookups and gap searches run against a model: a sorted
// list of intervals with their protection, flags and file window. After
// every step the set is read back through memory (the RegionSet and Region
// layouts drawn in region.ts) and compared region by region, and the kernel
// objects it holds are counted, so that clearRegions must give back every
// one.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { MIB, PAGE, bootMemory, exhaust, expectAssertion, freeCount, pcMemoryMap } from "./mm";

const MEMORY_PAGES = 512; // 32 MiB
const REGION = "kernel/mm/region.ts";
const P = BigInt(PAGE);

const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const REGION_SHARED = 1;
const REGION_FILE = 2;
const REGION_STACK = 4;
const REGION_HEAP = 8;

interface R {
  start: bigint;
  end: bigint;
  protection: number;
  flags: number;
  /** The memory object mapped (a test object's address), 0 for anonymous memory. */
  object: number;
  fileOffset: bigint;
  fileBytes: bigint;
}

interface Fixture {
  k: Kernel;
  set: number;
  objects: () => number;
  /** Kernel objects, slab pages and free frames before the set existed. */
  base: { objects: number; slabPages: number; free: number };
}

function fixture(): Fixture {
  const k = loadKernel({ memoryPages: MEMORY_PAGES });
  expect(bootMemory(k, pcMemoryMap(32 * MIB))).toBe(true);
  k.exports.resetSlab();
  const objects = () => k.exports.kernelObjectsInUse() >>> 0;
  const base = { objects: objects(), slabPages: k.exports.slabPageCount() >>> 0, free: freeCount(k) };
  const set = k.exports.newRegionSet() >>> 0;
  expect(set).not.toBe(0);
  return { k, set, objects, base };
}

/** RegionSet: 0 items  4 count  8 capacity. */
function readSet(k: Kernel, set: number) {
  const view = k.view();
  return { items: view.getUint32(set, true), count: view.getUint32(set + 4, true), capacity: view.getUint32(set + 8, true) };
}

/** Region: 0 start  8 end  16 protection  20 flags  24 object  32 fileOffset  40 fileBytes. */
function readRegion(k: Kernel, at: number): R {
  const view = k.view();
  return {
    start: view.getBigUint64(at, true),
    end: view.getBigUint64(at + 8, true),
    protection: view.getUint32(at + 16, true),
    flags: view.getUint32(at + 20, true),
    object: view.getUint32(at + 24, true),
    fileOffset: view.getBigUint64(at + 32, true),
    fileBytes: view.getBigUint64(at + 40, true),
  };
}

/** The set's region addresses, in order, read through its items array. */
function regionAddresses(k: Kernel, set: number): number[] {
  const { items, count } = readSet(k, set);
  const view = k.view();
  return Array.from({ length: count }, (_, i) => view.getUint32(items + i * 4, true));
}

/** newRegion and the file fields a file mapping would set, then insertRegion. */
function insert(f: Fixture, r: R): boolean {
  const at = f.k.exports.newRegion(r.start, r.end, r.protection, r.flags) >>> 0;
  expect(at).not.toBe(0);
  const fresh = readRegion(f.k, at);
  expect(fresh).toEqual({ ...r, object: 0, fileOffset: 0n, fileBytes: 0n });
  const view = f.k.view();
  if (r.object !== 0) f.k.exports.attachObject(at, r.object, 0);
  view.setBigUint64(at + 32, r.fileOffset, true);
  view.setBigUint64(at + 40, r.fileBytes, true);
  return f.k.exports.insertRegion(f.set, at) !== 0;
}

// ---- the model --------------------------------------------------------------------

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** [r.start, at): the file window keeps its offset and loses what lies above `at`. */
const lowerPart = (r: R, at: bigint): R => ({ ...r, end: at, fileBytes: min(r.fileBytes, at - r.start) });

/** [at, r.end): the file window moves up by the bytes cut off. */
function upperPart(r: R, at: bigint): R {
  const cut = at - r.start;
  return { ...r, start: at, fileOffset: r.fileOffset + cut, fileBytes: r.fileBytes > cut ? r.fileBytes - cut : 0n };
}

const overlaps = (model: R[], start: bigint, end: bigint) => model.some((r) => r.start < end && start < r.end);

function modelRemove(model: R[], start: bigint, end: bigint): R[] {
  const out: R[] = [];
  for (const r of model) {
    if (r.end <= start || r.start >= end) {
      out.push(r);
      continue;
    }
    if (r.start < start) out.push(lowerPart(r, start));
    if (r.end > end) out.push(upperPart(r, end));
  }
  return out;
}

function modelSplit(model: R[], at: bigint): R[] {
  return model.flatMap((r) => (r.start < at && at < r.end ? [lowerPart(r, at), upperPart(r, at)] : [r]));
}

const modelFind = (model: R[], address: bigint) => model.findIndex((r) => r.start <= address && address < r.end);

/** The highest start of `size` free bytes inside [low, high): it ends at `high` or at some region's start. */
function modelGap(model: R[], size: bigint, low: bigint, high: bigint): bigint {
  const tops = [high, ...model.map((r) => r.start).filter((s) => s <= high)].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  for (const top of tops) {
    const start = top - size;
    if (start < low) return 0n;
    if (!overlaps(model, start, top)) return start;
  }
  return 0n;
}

// ---- checking the set against the model -----------------------------------------------

function check(f: Fixture, model: R[], probes: bigint[] = []): void {
  const { k, set } = f;
  const { items, count, capacity } = readSet(k, set);
  expect(count).toBe(model.length);
  expect(capacity >= count).toBe(true);
  expect(capacity === 0 || (capacity >= 16 && (capacity & (capacity - 1)) === 0), `capacity ${capacity}`).toBe(true);
  expect(items !== 0).toBe(capacity !== 0);
  const addresses = regionAddresses(k, set);
  expect(new Set(addresses).size).toBe(addresses.length);
  addresses.forEach((at, i) => {
    expect(k.exports.regionAt(set, i) >>> 0).toBe(at);
    const got = readRegion(k, at);
    if (JSON.stringify(got, bigintText) !== JSON.stringify(model[i], bigintText)) {
      expect.fail(`region ${i}: ${JSON.stringify(got, bigintText)}, model ${JSON.stringify(model[i], bigintText)}`);
    }
  });
  // Each region a kernel object, and the items array one more (the set itself too).
  expect(f.objects()).toBe(f.base.objects + 1 + count + (items !== 0 ? 1 : 0));
  const lookups = [...probes];
  for (const r of model) lookups.push(r.start, r.end, r.end - 1n, r.start - 1n, (r.start + r.end) / 2n);
  for (const address of lookups) {
    const i = modelFind(model, address);
    const found = k.exports.findRegion(set, address) >>> 0;
    if (found !== (i < 0 ? 0 : addresses[i])) expect.fail(`findRegion(0x${address.toString(16)}): 0x${found.toString(16)}, model index ${i}`);
  }
}

const bigintText = (_: string, value: unknown) => (typeof value === "bigint" ? `0x${value.toString(16)}` : value);

// ---- random operations ------------------------------------------------------------

/** Pages FIRST_PAGE.. FIRST_PAGE + SPAN: small enough that operations collide often. */
const FIRST_PAGE = 0x10;
const SPAN = 400;

type Op =
  | { kind: "insert"; page: number; pages: number; protection: number; flags: number; inode: number; offsetPages: number; fileFraction: number }
  | { kind: "remove"; page: number; pages: number }
  | { kind: "split"; page: number }
  | { kind: "gap"; pages: number; lowPage: number; highPage: number };

const page = fc.integer({ min: FIRST_PAGE - 2, max: FIRST_PAGE + SPAN + 2 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      page,
      pages: fc.integer({ min: 1, max: 40 }),
      protection: fc.integer({ min: 0, max: 7 }),
      flags: fc.constantFrom(0, REGION_SHARED, REGION_FILE, REGION_FILE | REGION_SHARED, REGION_STACK, REGION_HEAP),
      inode: fc.integer({ min: 0, max: 30 }),
      offsetPages: fc.integer({ min: 0, max: 1000 }),
      fileFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ kind: fc.constant("remove" as const), page, pages: fc.integer({ min: 0, max: 60 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("split" as const), page }), weight: 2 },
  {
    arbitrary: fc.record({ kind: fc.constant("gap" as const), pages: fc.integer({ min: 1, max: 80 }), lowPage: page, highPage: page }),
    weight: 2,
  },
);

function run(f: Fixture, ops: Op[], extraProbes: bigint[]): R[] {
  let model: R[] = [];
  for (const o of ops) {
    if (o.kind === "insert") {
      const start = BigInt(o.page) * P;
      const end = start + BigInt(o.pages) * P;
      if (overlaps(model, start, end)) continue;
      const file = (o.flags & REGION_FILE) !== 0;
      // A file window as mmap and exec make them: up to the region's size, any byte count.
      const fileBytes = file ? BigInt(Math.floor(o.fileFraction * Number(end - start))) : 0n;
      const r: R = {
        start, end, protection: o.protection, flags: o.flags, object: file ? f.k.exports.testObject(o.inode) : 0,
        fileOffset: file ? BigInt(o.offsetPages) * P : 0n, fileBytes,
      };
      expect(insert(f, r)).toBe(true);
      model = [...model, r].sort((a, b) => (a.start < b.start ? -1 : 1));
    } else if (o.kind === "remove") {
      const start = BigInt(o.page) * P;
      const end = start + BigInt(o.pages) * P;
      expect(f.k.exports.removeRange(f.set, start, end)).toBe(1);
      model = modelRemove(model, start, end);
    } else if (o.kind === "split") {
      const at = BigInt(o.page) * P;
      expect(f.k.exports.splitAt(f.set, at)).toBe(1);
      model = modelSplit(model, at);
    } else {
      const size = BigInt(o.pages) * P;
      const low = BigInt(Math.min(o.lowPage, o.highPage)) * P;
      const high = BigInt(Math.max(o.lowPage, o.highPage)) * P;
      const got = BigInt.asUintN(64, f.k.exports.findGapBelow(f.set, size, low, high));
      const expected = modelGap(model, size, low, high);
      if (got !== expected) {
        expect.fail(`findGapBelow(0x${size.toString(16)}, 0x${low.toString(16)}, 0x${high.toString(16)}): 0x${got.toString(16)}, model 0x${expected.toString(16)}`);
      }
    }
    check(f, model, extraProbes);
  }
  return model;
}

/** Gives everything back and requires the set's objects, and their slab pages, to be gone. */
function clear(f: Fixture): void {
  f.k.exports.clearRegions(f.set);
  expect(readSet(f.k, f.set)).toEqual({ items: 0, count: 0, capacity: 0 });
  expect(f.objects()).toBe(f.base.objects + 1);
  f.k.exports.kfree(f.set);
  expect(f.objects()).toBe(f.base.objects);
  expect(f.k.exports.slabPageCount() >>> 0).toBe(f.base.slabPages);
  expect(freeCount(f.k)).toBe(f.base.free);
}

describe("the region set", () => {
  it("matches the model under random inserts, removals, splits and gap searches, and frees everything", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 80, size: "max" }), fc.array(page, { maxLength: 5 }), (ops, probePages) => {
        const f = fixture();
        run(f, ops, probePages.map((p) => BigInt(p) * P + 123n));
        clear(f);
      }),
      { numRuns: 100 },
    );
  });

  it("keeps file windows in step when a munmap cuts a region in three", () => {
    const f = fixture();
    const r: R = { start: 0x400000n, end: 0x40a000n, protection: PROT_READ | PROT_EXEC, flags: REGION_FILE, object: f.k.exports.testObject(7), fileOffset: 0x3000n, fileBytes: 0x6800n };
    expect(insert(f, r)).toBe(true);
    expect(f.k.exports.removeRange(f.set, 0x402000n, 0x404000n)).toBe(1);
    const expected: R[] = [
      { ...r, end: 0x402000n, fileBytes: 0x2000n },
      { ...r, start: 0x404000n, fileOffset: 0x7000n, fileBytes: 0x2800n },
    ];
    check(f, expected);
    // Cut above the file bytes: the upper part has none left.
    expect(f.k.exports.removeRange(f.set, 0x406000n, 0x407000n)).toBe(1);
    check(f, [expected[0], { ...expected[1], end: 0x406000n, fileBytes: 0x2000n }, { ...expected[1], start: 0x407000n, fileOffset: 0xa000n, fileBytes: 0n }]);
    clear(f);
  });

  it("treats region ends as exclusive and starts as inclusive", () => {
    const f = fixture();
    const a: R = { start: 0x10000n, end: 0x12000n, protection: PROT_READ, flags: 0, object: 0, fileOffset: 0n, fileBytes: 0n };
    const b: R = { ...a, start: 0x12000n, end: 0x13000n, protection: PROT_WRITE };
    expect(insert(f, b)).toBe(true);
    expect(insert(f, a)).toBe(true);
    check(f, [a, b], [0n, 0xffffn, 0x10000n, 0x11fffn, 0x12000n, 0x12fffn, 0x13000n, 2n ** 64n - 1n]);
    // Splitting at a boundary, or where no region is, changes nothing.
    for (const at of [0x10000n, 0x12000n, 0x13000n, 0x20000n]) expect(f.k.exports.splitAt(f.set, at)).toBe(1);
    check(f, [a, b]);
    clear(f);
  });

  it("grows its array by doubling, keeping order, for many regions", () => {
    const f = fixture();
    const order = fc.sample(fc.shuffledSubarray(Array.from({ length: 300 }, (_, i) => i), { minLength: 300 }), { numRuns: 1, seed: 42 })[0];
    const model: R[] = [];
    for (const i of order) {
      const r: R = { start: BigInt(0x100 + 2 * i) * P, end: BigInt(0x101 + 2 * i) * P, protection: i % 8, flags: 0, object: 0, fileOffset: 0n, fileBytes: 0n };
      expect(insert(f, r)).toBe(true);
      model.push(r);
    }
    model.sort((a, b) => (a.start < b.start ? -1 : 1));
    check(f, model);
    expect(readSet(f.k, f.set).capacity).toBe(512);
    expect(f.k.exports.findGapBelow(f.set, P, 0x100n * P, 0x800n * P)).toBe(0x7ffn * P);
    expect(f.k.exports.findGapBelow(f.set, 2n * P, 0x100n * P, 0x357n * P)).toBe(0n);
    clear(f);
  });

  it("finds gaps below `high` only, and never below `low`", () => {
    const f = fixture();
    const r = (s: number, e: number): R => ({ start: BigInt(s) * P, end: BigInt(e) * P, protection: PROT_READ, flags: 0, object: 0, fileOffset: 0n, fileBytes: 0n });
    const model = [r(0x20, 0x30), r(0x32, 0x40), r(0x48, 0x50)];
    for (const m of model) expect(insert(f, m)).toBe(true);
    const gap = (pages: number, low: number, high: number) => BigInt.asUintN(64, f.k.exports.findGapBelow(f.set, BigInt(pages) * P, BigInt(low) * P, BigInt(high) * P)) / P;
    const cases: [number, number, number, number][] = [
      [8, 0x10, 0x100, 0xf8], [8, 0x10, 0x50, 0x40], [9, 0x10, 0x50, 0x17], [2, 0x10, 0x4c, 0x46], [3, 0x10, 0x4c, 0x45], [9, 0x10, 0x4c, 0x17],
      [2, 0x30, 0x32, 0x30], [3, 0x30, 0x32, 0], [1, 0x48, 0x50, 0], [0x10, 0x10, 0x20, 0x10], [0x11, 0x10, 0x20, 0],
      [4, 0x2c, 0x44, 0x40], [1, 0x49, 0x4a, 0],
    ];
    for (const [pages, low, high, expected] of cases) {
      expect(modelGap(model, BigInt(pages) * P, BigInt(low) * P, BigInt(high) * P) / P, `model ${pages} in [${low}, ${high})`).toBe(BigInt(expected));
      expect(gap(pages, low, high), `${pages} pages in [0x${low.toString(16)}, 0x${high.toString(16)})`).toBe(BigInt(expected));
    }
    clear(f);
  });

  it("asserts when asked to insert an overlapping region", () => {
    const f = fixture();
    const a: R = { start: 0x10000n, end: 0x14000n, protection: PROT_READ, flags: 0, object: 0, fileOffset: 0n, fileBytes: 0n };
    expect(insert(f, a)).toBe(true);
    const b = f.k.exports.newRegion(0x13000n, 0x15000n, PROT_READ, 0) >>> 0;
    expectAssertion(() => f.k.exports.insertRegion(f.set, b), REGION, "insertRegion: overlapping region");
  });
});

describe("the region set out of memory", () => {
  /** A set of exactly 16 regions (a full array), then every free frame taken. */
  function fullAndExhausted(): { f: Fixture; model: R[] } {
    const f = fixture();
    const model = Array.from({ length: 16 }, (_, i): R => ({
      start: BigInt(0x100 + 0x10 * i) * P, end: BigInt(0x108 + 0x10 * i) * P, protection: PROT_READ | PROT_WRITE,
      flags: REGION_FILE, object: f.k.exports.testObject(i), fileOffset: BigInt(i) * 0x10000n, fileBytes: 0x5000n,
    }));
    for (const r of model) expect(insert(f, r)).toBe(true);
    expect(readSet(f.k, f.set)).toMatchObject({ count: 16, capacity: 16 });
    exhaust(f.k);
    return { f, model };
  }

  it("still removes whole regions, which needs no memory", () => {
    const { f, model } = fullAndExhausted();
    expect(f.k.exports.removeRange(f.set, model[3].start, model[5].end)).toBe(1);
    check(f, modelRemove(model, model[3].start, model[5].end));
  });

  it("fails a split cleanly when there is no memory for the new region", () => {
    const { f, model } = fullAndExhausted();
    // Fill the slab page the 48-byte regions come from, so newRegion fails too.
    while (f.k.exports.kmalloc(48) !== 0);
    const objects = f.objects();
    expect(f.k.exports.splitAt(f.set, model[4].start + 2n * P)).toBe(0);
    expect(f.k.exports.removeRange(f.set, model[4].start + 2n * P, model[4].end + P)).toBe(0);
    expect(f.objects()).toBe(objects);
    expect(readSet(f.k, f.set).count).toBe(16);
    regionAddresses(f.k, f.set).forEach((at, i) => expect(readRegion(f.k, at)).toEqual(model[i]));
  });

  /** splitAt at `pages` pages into region 4 (0x5000 file bytes) must fail and leave everything as it was. */
  function failedSplitLeavesSet(pages: number): void {
    const { f, model } = fullAndExhausted();
    const objects = f.objects();
    const at = model[4].start + BigInt(pages) * P;
    expect(f.k.exports.splitAt(f.set, at)).toBe(0);
    expect(f.objects(), "no object leaked").toBe(objects);
    expect(readSet(f.k, f.set).count).toBe(16);
    regionAddresses(f.k, f.set).forEach((address, i) => {
      expect(readRegion(f.k, address), `region ${i} after splitAt(0x${at.toString(16)})`).toEqual(model[i]);
    });
    expect(f.k.exports.removeRange(f.set, at, model[4].end)).toBe(0);
    regionAddresses(f.k, f.set).forEach((address, i) => expect(readRegion(f.k, address)).toEqual(model[i]));
  }

  it("leaves the set as it was when the array cannot grow for a split inside the file bytes", () => {
    // The items array is full (16 of 16) and every frame is taken, so
    // insertRegion cannot grow it: newRegion succeeds, the insert fails.
    for (const pages of [1, 2, 3, 4]) failedSplitLeavesSet(pages);
  });

  it("leaves the set as it was when the array cannot grow for a split beyond the file bytes", () => {
    for (const pages of [5, 6, 7]) failedSplitLeavesSet(pages);
  });
});
