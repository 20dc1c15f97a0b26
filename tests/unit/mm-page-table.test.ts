// kernel/mm/page_table.ts: four-level page tables in simulated RAM. Random
// map/unmap/protect sequences run against a model of the mappings; after
// every step the tables are walked from JS (the x86-64 layout, not the
// kernel's code) to check every entry, every table's count of entries in
// use, how many table frames exist, and the TLB invalidations issued.
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import {
  MIB, PAGE, State, bootMemory, exhaust, expectAssertion, frameRecord, freeCount, pcMemoryMap, stateCount,
} from "./mm";

const MEMORY_PAGES = 512; // 32 MiB
const PAGE_TABLE = "kernel/mm/page_table.ts";

const PTE_PRESENT = 1n << 0n;
const PTE_WRITABLE = 1n << 1n;
const PTE_USER = 1n << 2n;
const PTE_WRITE_THROUGH = 1n << 3n;
const PTE_CACHE_DISABLE = 1n << 4n;
const PTE_ACCESSED = 1n << 5n;
const PTE_DIRTY = 1n << 6n;
const PTE_HUGE = 1n << 7n;
const PTE_GLOBAL = 1n << 8n;
const PTE_NO_EXECUTE = 1n << 63n;
const PTE_ADDRESS = 0x000ffffffffff000n;
const FLAG_BITS = PTE_NO_EXECUTE | 0xfffn;
const NOT_MAPPED = 2n ** 64n - 1n;
const HUGE = 2n * BigInt(MIB);

/** MapResult in page_table.ts. */
const enum MapResult {
  Ok = 0,
  OutOfMemory = 1,
  AlreadyMapped = 2,
}

/** Another address space's root, for "this root is not the active one". */
const OTHER_CR3 = 0x7000n;

/** The canonical virtual address with these table indices (level 4 first). */
function va(l4: number, l3: number, l2: number, l1: number, offset = 0): bigint {
  const raw = (BigInt(l4) << 39n) | (BigInt(l3) << 30n) | (BigInt(l2) << 21n) | (BigInt(l1) << 12n) | BigInt(offset);
  return l4 >= 256 ? raw | 0xffff000000000000n : raw;
}

const isKernel = (address: bigint) => address >= 0xffff800000000000n;
const indexAt = (address: bigint, level: number) => Number((address >> BigInt(12 + 9 * (level - 1))) & 511n);

let k: Kernel;
let root: number;
/** Free frames with only the root allocated. */
let baseline: number;

/** A fresh kernel and an empty root, not the active one (huge pages cannot be unmapped, so nothing is reused). */
function freshAddressSpace(): void {
  k = loadKernel({ memoryPages: MEMORY_PAGES });
  expect(bootMemory(k, pcMemoryMap(32 * MIB))).toBe(true);
  root = k.exports.allocTable() >>> 0;
  expect(root).not.toBe(0);
  baseline = freeCount(k);
  k.cpu.cr3 = OTHER_CR3;
}

beforeEach(freshAddressSpace);

const map = (address: bigint, physical: bigint, flags: bigint, table = root) => k.exports.mapPage(table, address, physical, flags);
const mapHuge = (address: bigint, physical: bigint, flags: bigint) => k.exports.mapHugePage(root, address, physical, flags);
const unmap = (address: bigint) => BigInt.asUintN(64, k.exports.unmapPage(root, address));
const protect = (address: bigint, flags: bigint) => k.exports.protectPage(root, address, flags) !== 0;
const translate = (address: bigint, table = root) => BigInt.asUintN(64, k.exports.translate(table, address));
const leaf = (address: bigint, table = root) => BigInt.asUintN(64, k.exports.leafEntry(table, address));
const tables = () => stateCount(k, State.PageTable);
const entriesInUse = (table: number) => k.exports.tableEntriesInUse(table) >>> 0;

/** The entry mapPage must write. */
const leafFor = (physical: bigint, flags: bigint) => (physical & PTE_ADDRESS) | (flags & FLAG_BITS) | PTE_PRESENT;

// ---- walking the tables from JS ----------------------------------------------------

interface Walked {
  /** Every table reached, root first, with its level. */
  tables: { address: number; level: number }[];
  /** Leaf entries by the virtual address they map (4 KiB or 2 MiB). */
  leaves: Map<bigint, bigint>;
}

/**
 * Walks the tree under `table`, checking as it goes that every table is a
 * PageTable frame whose count of entries in use matches its present
 * entries, and that intermediate entries allow everything (user access only
 * in the user half), as walk() promises.
 */
function walkTables(table: number): Walked {
  const view = k.view();
  const out: Walked = { tables: [], leaves: new Map() };
  const problems: string[] = []; // plain checks: an expect per entry would be slow
  const visit = (address: number, level: number, prefix: bigint) => {
    out.tables.push({ address, level });
    const where = `level-${level} table at 0x${address.toString(16)}`;
    if (address % PAGE !== 0 || frameRecord(k, address / PAGE).state !== State.PageTable) problems.push(`${where}: not a page-table frame`);
    let present = 0;
    for (let i = 0; i < 512; i++) {
      const entry = view.getBigUint64(address + i * 8, true);
      if ((entry & PTE_PRESENT) === 0n) {
        if (entry !== 0n) problems.push(`${where}: entry ${i} not present but not zero`);
        continue;
      }
      present++;
      let at = prefix | (BigInt(i) << BigInt(12 + 9 * (level - 1)));
      if (level === 4 && i >= 256) at |= 0xffff000000000000n;
      if (level === 1 || (level === 2 && (entry & PTE_HUGE) !== 0n)) {
        out.leaves.set(at, entry);
      } else {
        const expected = PTE_PRESENT | PTE_WRITABLE | (isKernel(at) ? 0n : PTE_USER);
        if ((entry & FLAG_BITS) !== expected) problems.push(`${where}: entry ${i} has flags 0x${(entry & FLAG_BITS).toString(16)}`);
        visit(Number(entry & PTE_ADDRESS), level - 1, at);
      }
    }
    if (entriesInUse(address) !== present) problems.push(`${where}: ${entriesInUse(address)} entries in use, ${present} present`);
  };
  visit(table, 4, 0n);
  const addresses = out.tables.map((t) => t.address);
  if (new Set(addresses).size !== addresses.length) problems.push("a table is linked twice");
  expect(problems).toEqual([]);
  return out;
}

// ---- the model ----------------------------------------------------------------------

/** What the address space should hold: leaves by virtual address, and the kernel-half tops ever used. */
class Model {
  small = new Map<bigint, bigint>(); // 4 KiB page -> entry
  huge = new Map<bigint, bigint>(); // 2 MiB page -> entry
  kernelTops = new Set<number>(); // level-4 indices in the kernel half whose level-3 table is kept forever

  hugeCovering(address: bigint): bigint | undefined {
    return this.huge.get(address & ~(HUGE - 1n));
  }

  /** Whether a 2 MiB range has a level-1 table: some 4 KiB page in it is mapped. */
  hasPageTable(address2M: bigint): boolean {
    for (const page of this.small.keys()) if ((page & ~(HUGE - 1n)) === address2M) return true;
    return false;
  }

  /** Table frames the mappings need: root, then one per distinct path prefix, plus the kept kernel-half level-3 tables. */
  tableCount(): number {
    const level3 = new Set<number>(this.kernelTops);
    const level2 = new Set<string>();
    const level1 = new Set<string>();
    for (const address of [...this.small.keys(), ...this.huge.keys()]) {
      level3.add(indexAt(address, 4));
      level2.add(`${indexAt(address, 4)}/${indexAt(address, 3)}`);
    }
    for (const address of this.small.keys()) level1.add(`${indexAt(address, 4)}/${indexAt(address, 3)}/${indexAt(address, 2)}`);
    return 1 + level3.size + level2.size + level1.size;
  }

  noteKernelTop(address: bigint): void {
    if (isKernel(address)) this.kernelTops.add(indexAt(address, 4));
  }
}

function checkAgainst(m: Model): void {
  const walked = walkTables(root);
  const expected = new Map<bigint, bigint>([...m.small, ...m.huge]);
  expect(walked.leaves).toEqual(expected);
  expect(walked.tables.length).toBe(m.tableCount());
  expect(tables()).toBe(m.tableCount());
  expect(freeCount(k)).toBe(baseline - (m.tableCount() - 1));
  expect(k.exports.checkFreeLists()).toBe(1);
}

// ---- random operations ----------------------------------------------------------------

/**
 * Addresses from a small pool of indices, so operations collide and share
 * tables: both halves, the first and last entries of every level.
 */
const level4 = fc.constantFrom(0, 1, 255, 256, 257, 511);
const index = fc.constantFrom(0, 1, 511);
const smallPage = fc.tuple(level4, index, index, fc.constantFrom(0, 1, 2, 511)).map(([a, b, c, d]) => va(a, b, c, d));
const hugePage = fc.tuple(level4, index, index).map(([a, b, c]) => va(a, b, c, 0));
const physical = fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }).map((p) => p << 12n); // up to 52 address bits
const physicalHuge = fc.bigInt({ min: 0n, max: (1n << 31n) - 1n }).map((p) => p << 21n);
/** Leaf flags: any mix of the PTE_* bits meant for a 4 KiB leaf, and the three bits left to the OS. */
const flags = fc.subarray([PTE_WRITABLE, PTE_USER, PTE_WRITE_THROUGH, PTE_CACHE_DISABLE, PTE_ACCESSED, PTE_DIRTY, PTE_GLOBAL, PTE_NO_EXECUTE, 1n << 9n, 1n << 11n])
  .map((bits) => bits.reduce((a, b) => a | b, 0n));

type Op =
  | { kind: "map"; at: bigint; physical: bigint; flags: bigint }
  | { kind: "mapHuge"; at: bigint; physical: bigint; flags: bigint }
  | { kind: "unmap"; at: bigint }
  | { kind: "protect"; at: bigint; flags: bigint }
  | { kind: "probe"; at: bigint; offset: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("map" as const), at: smallPage, physical, flags }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant("mapHuge" as const), at: hugePage, physical: physicalHuge, flags }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("unmap" as const), at: fc.oneof(smallPage, hugePage) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("protect" as const), at: smallPage, flags }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("probe" as const), at: fc.oneof(smallPage, hugePage), offset: fc.nat({ max: 2 * MIB - 1 }) }), weight: 2 },
);

/** Applies `o` to the kernel and the model, checking its result and the invalidations it issued. */
function apply(m: Model, o: Op, active: boolean): void {
  k.cpu.invlpg.length = 0;
  const mustFlush = active || isKernel(o.at);
  let changedPresentEntry = false;
  switch (o.kind) {
    case "map": {
      const blocked = m.small.has(o.at) || m.hugeCovering(o.at) !== undefined;
      const before = tables();
      expect(map(o.at, o.physical, o.flags)).toBe(blocked ? MapResult.AlreadyMapped : MapResult.Ok);
      if (blocked) {
        expect(tables(), "a refused map makes no table").toBe(before); // every table on the way exists
      } else {
        m.small.set(o.at, leafFor(o.physical, o.flags));
        m.noteKernelTop(o.at);
      }
      break;
    }
    case "mapHuge": {
      const blocked = m.huge.has(o.at) || m.hasPageTable(o.at);
      const before = tables();
      expect(mapHuge(o.at, o.physical, o.flags)).toBe(blocked ? MapResult.AlreadyMapped : MapResult.Ok);
      if (blocked) {
        expect(tables(), "a refused map makes no table").toBe(before);
      } else {
        m.huge.set(o.at, leafFor(o.physical, o.flags) | PTE_HUGE);
        m.noteKernelTop(o.at);
      }
      break;
    }
    case "unmap": {
      // A huge page is not unmapped by unmapPage: its 4 KiB pages are not mapped as such.
      const old = m.small.get(o.at);
      expect(unmap(o.at)).toBe(old ?? 0n);
      if (old !== undefined) {
        m.small.delete(o.at);
        changedPresentEntry = true;
      }
      break;
    }
    case "protect": {
      const old = m.small.get(o.at);
      expect(protect(o.at, o.flags)).toBe(old !== undefined);
      if (old !== undefined) {
        m.small.set(o.at, leafFor(old & PTE_ADDRESS, o.flags));
        changedPresentEntry = true;
      }
      break;
    }
    case "probe": {
      const before = freeCount(k);
      const page = m.small.get(o.at);
      const huge = m.hugeCovering(o.at + BigInt(o.offset));
      const address = o.at + BigInt(o.offset % PAGE);
      if (page !== undefined) {
        expect(translate(address)).toBe((page & PTE_ADDRESS) + BigInt(o.offset % PAGE));
        expect(leaf(address)).toBe(page);
      }
      const hugeAddress = o.at + BigInt(o.offset);
      if (huge !== undefined) {
        expect(translate(hugeAddress)).toBe((huge & PTE_ADDRESS & ~(HUGE - 1n)) + (hugeAddress & (HUGE - 1n)));
        expect(leaf(hugeAddress)).toBe(huge);
      } else if (!m.small.has(hugeAddress & ~0xfffn)) {
        expect(translate(hugeAddress)).toBe(NOT_MAPPED);
        expect(leaf(hugeAddress)).toBe(0n);
      }
      expect(freeCount(k)).toBe(before); // never allocates
      break;
    }
  }
  for (const flushed of k.cpu.invlpg) expect(flushed, "invlpg of another address").toBe(o.at);
  if (!mustFlush) expect(k.cpu.invlpg, "invlpg for an inactive user address space").toEqual([]);
  else if (changedPresentEntry) expect(k.cpu.invlpg.length, `invlpg after ${o.kind} of a present entry`).toBeGreaterThan(0);
}

describe("page tables under random operations", () => {
  it("match a model of the mappings, table by table, with the right TLB invalidations", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.boolean(), (ops, active) => {
        freshAddressSpace();
        const m = new Model();
        k.cpu.cr3 = active ? BigInt(root) | 0x18n : OTHER_CR3; // low bits (PWT/PCD) must be ignored
        for (const o of ops) {
          apply(m, o, active);
          checkAgainst(m);
        }
        // Unmapping every 4 KiB page leaves only what huge pages need and the kept kernel-half level-3 tables.
        for (const at of [...m.small.keys()]) apply(m, { kind: "unmap", at }, active);
        checkAgainst(m);
      }),
      { numRuns: 300 },
    );
  });
});

// ---- hand-picked cases ------------------------------------------------------------------

describe("page tables", () => {
  const USER = va(0, 0, 1, 3);
  const KERNEL = va(511, 510, 0, 7); // where the kernel image lives: 0xffffffff80007000

  it("creates one table per level and frees every one when the last page goes", () => {
    expect(tables()).toBe(1);
    expect(map(USER, 0x123000n, PTE_WRITABLE | PTE_USER)).toBe(MapResult.Ok);
    expect(tables()).toBe(4);
    expect(freeCount(k)).toBe(baseline - 3);
    expect(translate(USER + 0xabcn)).toBe(0x123abcn);
    expect(unmap(USER)).toBe(0x123000n | PTE_WRITABLE | PTE_USER | PTE_PRESENT);
    expect(tables()).toBe(1);
    expect(freeCount(k)).toBe(baseline);
    expect(entriesInUse(root)).toBe(0);
    expect(translate(USER)).toBe(NOT_MAPPED);
  });

  it("keeps a table while another page still uses it", () => {
    expect(map(USER, 0x1000n, 0n)).toBe(MapResult.Ok);
    expect(map(USER + 0x1000n, 0x2000n, 0n)).toBe(MapResult.Ok);
    expect(tables()).toBe(4);
    expect(unmap(USER)).not.toBe(0n);
    expect(tables()).toBe(4);
    expect(translate(USER + 0x1000n)).toBe(0x2000n);
    expect(unmap(USER + 0x1000n)).not.toBe(0n);
    expect(freeCount(k)).toBe(baseline);
  });

  it("keeps the kernel half's level-3 tables, which every address space shares, and reuses them", () => {
    expect(map(KERNEL, 0x7000n, PTE_GLOBAL)).toBe(MapResult.Ok);
    expect(tables()).toBe(4);
    expect(unmap(KERNEL)).not.toBe(0n);
    expect(tables()).toBe(2); // root and the level-3 table
    expect(entriesInUse(root)).toBe(1);
    const [, level3] = walkTables(root).tables;
    expect(level3.level).toBe(3);
    expect(entriesInUse(level3.address)).toBe(0);
    expect(map(va(511, 0, 5, 5), 0x9000n, 0n)).toBe(MapResult.Ok);
    expect(tables()).toBe(4); // the kept level-3 table serves again
    expect(walkTables(root).tables[1].address).toBe(level3.address);
  });

  it("refuses to map a page twice and leaves the first mapping alone", () => {
    expect(map(USER, 0x5000n, PTE_WRITABLE)).toBe(MapResult.Ok);
    const before = freeCount(k);
    expect(map(USER, 0x6000n, 0n)).toBe(MapResult.AlreadyMapped);
    expect(freeCount(k)).toBe(before);
    expect(leaf(USER)).toBe(0x5000n | PTE_WRITABLE | PTE_PRESENT);
  });

  it("maps 2 MiB pages, translating every offset inside them", () => {
    const at = va(0, 3, 7, 0);
    expect(mapHuge(at, 0x40000000n, PTE_WRITABLE | PTE_NO_EXECUTE)).toBe(MapResult.Ok);
    expect(tables()).toBe(3); // no level-1 table
    expect(leaf(at + 0x12345n)).toBe(0x40000000n | PTE_WRITABLE | PTE_NO_EXECUTE | PTE_HUGE | PTE_PRESENT);
    for (const offset of [0n, 1n, 0xfffn, 0x1000n, 0x12345n, HUGE - 1n]) expect(translate(at + offset)).toBe(0x40000000n + offset);
    expect(translate(at + HUGE)).toBe(NOT_MAPPED);
    expect(translate(at - 1n)).toBe(NOT_MAPPED);
    const [, , level2] = walkTables(root).tables;
    expect(entriesInUse(level2.address)).toBe(1);
  });

  it("refuses a 4 KiB page inside a 2 MiB page without making a table, and a 2 MiB page over 4 KiB ones", () => {
    const at = va(0, 3, 7, 0);
    expect(mapHuge(at, 0x40000000n, 0n)).toBe(MapResult.Ok);
    const before = freeCount(k);
    expect(map(at + 0x5000n, 0x5000n, 0n)).toBe(MapResult.AlreadyMapped);
    expect(mapHuge(at, 0x80000000n, 0n)).toBe(MapResult.AlreadyMapped);
    expect(freeCount(k)).toBe(before);
    expect(unmap(at + 0x5000n)).toBe(0n); // unmapPage does not take pieces out of a huge page
    expect(protect(at, PTE_WRITABLE)).toBe(false);
    expect(translate(at + 0x5000n)).toBe(0x40005000n);

    const next = va(0, 3, 8, 0);
    expect(map(next + 0x3000n, 0x3000n, 0n)).toBe(MapResult.Ok);
    expect(mapHuge(next, 0xc0000000n, 0n)).toBe(MapResult.AlreadyMapped);
    expect(translate(next + 0x3000n)).toBe(0x3000n);
    // Once the 4 KiB page is gone, so is its table, and the 2 MiB page fits.
    expect(unmap(next + 0x3000n)).not.toBe(0n);
    expect(mapHuge(next, 0xc0000000n, 0n)).toBe(MapResult.Ok);
  });

  it("rejects a 2 MiB page at an unaligned address", () => {
    const text = "mapHugePage: unaligned address";
    expectAssertion(() => mapHuge(va(0, 0, 1, 1), 0n, 0n), PAGE_TABLE, text);
    expectAssertion(() => mapHuge(va(0, 0, 1, 0), 0x1000n, 0n), PAGE_TABLE, text);
  });

  it("replaces flags with protectPage, keeping the address", () => {
    expect(protect(USER, PTE_WRITABLE)).toBe(false); // nothing there: and no table made for asking
    expect(tables()).toBe(1);
    expect(map(USER, 0xabc000n, PTE_WRITABLE | PTE_USER | PTE_NO_EXECUTE)).toBe(MapResult.Ok);
    expect(protect(USER, PTE_USER | PTE_DIRTY)).toBe(true);
    expect(leaf(USER)).toBe(0xabc000n | PTE_USER | PTE_DIRTY | PTE_PRESENT);
    expect(protect(USER + 0x1000n, 0n)).toBe(false); // same table, entry not present
  });

  it("drops the no-execute bit when the CPU lacks NX, and keeps it when it has it", () => {
    k.exports.setNoExecuteSupported(0);
    expect(map(USER, 0x1000n, PTE_NO_EXECUTE | PTE_WRITABLE)).toBe(MapResult.Ok);
    expect(leaf(USER)).toBe(0x1000n | PTE_WRITABLE | PTE_PRESENT);
    expect(map(USER + 0x1000n, 0x2000n, 0n)).toBe(MapResult.Ok);
    expect(protect(USER + 0x1000n, PTE_NO_EXECUTE)).toBe(true);
    expect(leaf(USER + 0x1000n)).toBe(0x2000n | PTE_PRESENT);
    k.exports.setNoExecuteSupported(1);
    expect(protect(USER + 0x1000n, PTE_NO_EXECUTE)).toBe(true);
    expect(leaf(USER + 0x1000n)).toBe(0x2000n | PTE_NO_EXECUTE | PTE_PRESENT);
  });

  it("translates and reads leaves without allocating, anywhere", () => {
    expect(map(USER, 0x1000n, 0n)).toBe(MapResult.Ok);
    expect(mapHuge(va(300, 2, 2, 0), 0x200000n, 0n)).toBe(MapResult.Ok);
    k.cpu.invlpg.length = 0;
    const anyAddress = fc.bigInt({ min: 0n, max: 2n ** 48n - 1n }).map((a) => (a >= 2n ** 47n ? a | 0xffff000000000000n : a));
    const before = freeCount(k);
    const tablesBefore = tables();
    fc.assert(
      fc.property(fc.oneof(anyAddress, fc.constantFrom(USER, USER + 0x1000n, va(300, 2, 2, 9, 5), va(300, 2, 3, 0))), (address) => {
        translate(address);
        leaf(address);
        expect(freeCount(k)).toBe(before);
        expect(tables()).toBe(tablesBefore);
      }),
      { numRuns: 500 },
    );
    expect(k.cpu.invlpg).toEqual([]);
  });

  it("fails with OutOfMemory when no frame is left for a table, changing nothing", () => {
    expect(map(USER, 0x1000n, 0n)).toBe(MapResult.Ok);
    exhaust(k);
    expect(k.exports.allocTable()).toBe(0);
    expect(map(va(7, 7, 7, 7), 0x1000n, 0n)).toBe(MapResult.OutOfMemory);
    expect(mapHuge(va(7, 7, 8, 0), 0x200000n, 0n)).toBe(MapResult.OutOfMemory);
    // A page whose tables all exist needs no frame.
    expect(map(USER + 0x1000n, 0x2000n, 0n)).toBe(MapResult.Ok);
    expect(freeCount(k)).toBe(0);
    expect(translate(va(7, 7, 7, 7))).toBe(NOT_MAPPED);
    expect(walkTables(root).leaves.size).toBe(2);
  });

  it("maps again once memory is back after running out halfway down, and unmaps back to the start", () => {
    const held = exhaust(k, State.Anonymous, 1); // room for the level-3 table only
    const at = va(7, 7, 7, 7);
    expect(map(at, 0x1000n, 0n)).toBe(MapResult.OutOfMemory);
    expect(translate(at)).toBe(NOT_MAPPED);
    walkTables(root); // consistent counts, whatever was left behind
    for (const address of held) k.exports.freePages(address);
    expect(map(at, 0x1000n, 0n)).toBe(MapResult.Ok);
    expect(translate(at)).toBe(0x1000n);
    expect(unmap(at)).not.toBe(0n);
    expect(freeCount(k)).toBe(baseline);
    expect(tables()).toBe(1);
  });

  it("gives back the tables a failed map made", () => {
    exhaust(k, State.Anonymous, 1);
    expect(map(va(7, 7, 7, 7), 0x1000n, 0n)).toBe(MapResult.OutOfMemory);
    expect(freeCount(k)).toBe(1);
    expect(entriesInUse(root)).toBe(0);
  });
});

describe("TLB invalidation", () => {
  const USER = va(1, 2, 3, 4);
  const KERNEL = va(256, 0, 0, 9); // the direct map

  it("invalidates a changed user page when its address space is active", () => {
    k.cpu.cr3 = BigInt(root);
    expect(map(USER, 0x1000n, 0n)).toBe(MapResult.Ok);
    k.cpu.invlpg.length = 0;
    expect(protect(USER, PTE_WRITABLE)).toBe(true);
    expect(k.cpu.invlpg).toContain(USER);
    k.cpu.invlpg.length = 0;
    expect(unmap(USER)).not.toBe(0n);
    expect(k.cpu.invlpg).toContain(USER);
  });

  it("leaves the TLB alone for an address space that is not active", () => {
    k.cpu.cr3 = OTHER_CR3;
    expect(map(USER, 0x1000n, 0n)).toBe(MapResult.Ok);
    expect(protect(USER, PTE_WRITABLE)).toBe(true);
    expect(unmap(USER)).not.toBe(0n);
    expect(k.cpu.invlpg).toEqual([]);
  });

  it("always invalidates kernel-half changes: every address space shares them", () => {
    k.cpu.cr3 = OTHER_CR3;
    expect(map(KERNEL, 0x1000n, PTE_GLOBAL)).toBe(MapResult.Ok);
    k.cpu.invlpg.length = 0;
    expect(protect(KERNEL, PTE_GLOBAL | PTE_WRITABLE)).toBe(true);
    expect(k.cpu.invlpg).toContain(KERNEL);
    k.cpu.invlpg.length = 0;
    expect(unmap(KERNEL)).not.toBe(0n);
    expect(k.cpu.invlpg).toContain(KERNEL);
  });
});
