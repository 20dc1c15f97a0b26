// Copy-on-write: kernel/mm/fault.ts (shouldReuse, handleUserFault) with
// address spaces made by kernel/mm/address_space.ts and copied for fork by
// kernel/mm/fork_copy.ts. Random sequences of fork, write, read and exit
// run on simulated memory with the CPU played here: a write the page table
// forbids (or a touch of an unmapped page) becomes a page fault, then the
// byte goes to the physical address translate() gives. After every step
// each address space must read exactly its own contents (a model per
// space), and the page tables of all live spaces are walked from JS to
// check every anonymous frame's reference and map counts against the
// mappings of it, that a shared frame is never writable, and that no frame
// or page table leaks; destroying every space must give back every frame.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { MIB, PAGE, STATE_COUNT, State, bootMemory, frameReader, freeCount, pcMemoryMap, stateCount } from "./mm";

const MEMORY_PAGES = 512; // 32 MiB

const PTE_PRESENT = 1n;
const PTE_WRITABLE = 2n;
const PTE_USER = 4n;
const PTE_HUGE = 1n << 7n;
const PTE_NO_EXECUTE = 1n << 63n;
const PTE_ADDRESS = 0x000ffffffffff000n;
const NOT_MAPPED = 2n ** 64n - 1n;

const PROT_READ = 1;
const PROT_WRITE = 2;

const FAULT_WRITE = 2;
const FAULT_USER = 4;

/** FaultResponse in fault.ts. */
const enum Fault {
  Continue = 0,
  Kill = 1,
  OutOfMemory = 2,
  BusError = 3,
  Forbidden = 4,
}

/** AddressSpace in address_space.ts: the fields these tests read. */
const AS = { root: 0, residentPages: 4, zeroPageMaps: 20, demandZeroFaults: 24, cowCopies: 32, cowReuses: 36, sharedAtFork: 56 };

interface RegionSpec {
  start: bigint;
  pages: number;
  protection: number;
  flags?: number;
}

/**
 * Every new (non-forked) space gets these: anonymous private memory in
 * different page tables (across a 1 GiB boundary, at the top of user
 * space), and a read-only region.
 */
const REGIONS: RegionSpec[] = [
  { start: 0x400000n, pages: 6, protection: PROT_READ | PROT_WRITE },
  { start: 0x40000000n - 0x2000n, pages: 4, protection: PROT_READ | PROT_WRITE },
  { start: 0x800000000000n - 0x5000n, pages: 4, protection: PROT_READ | PROT_WRITE },
  { start: 0x500000n, pages: 2, protection: PROT_READ },
];

interface Page {
  va: bigint;
  writable: boolean;
}
const PAGES: Page[] = REGIONS.flatMap((r) =>
  Array.from({ length: r.pages }, (_, i) => ({ va: r.start + BigInt(i * PAGE), writable: (r.protection & PROT_WRITE) !== 0 })));

// ---- the machine ------------------------------------------------------------------

interface Space {
  address: number;
  /** What the program has written, by page; absent pages read as zeros. */
  pages: Map<bigint, Uint8Array>;
  id: number;
}

interface Machine {
  k: Kernel;
  zero: number;
  base: { free: number; objects: number; counts: number[] };
  live: Space[];
  nextId: number;
}

function boot(): Machine {
  const k = loadKernel({ memoryPages: MEMORY_PAGES });
  expect(bootMemory(k, pcMemoryMap(32 * MIB))).toBe(true);
  k.exports.resetSlab();
  // The zero page exists from the first read fault on, and stays: take it now.
  const zero = k.exports.zeroPage() >>> 0;
  expect(zero).not.toBe(0);
  expect(k.exports.zeroPage() >>> 0).toBe(zero);
  return {
    k,
    zero,
    base: {
      free: freeCount(k),
      objects: k.exports.kernelObjectsInUse() >>> 0,
      counts: Array.from({ length: STATE_COUNT }, (_, s) => stateCount(k, s)),
    },
    live: [],
    nextId: 0,
  };
}

const field = (m: Machine, space: Space, offset: number) => m.k.view().getUint32(space.address + offset, true);
const rootOf = (m: Machine, space: Space) => field(m, space, AS.root);
const leaf = (m: Machine, space: Space, va: bigint) => BigInt.asUintN(64, m.k.exports.leafEntry(rootOf(m, space), va));

function spawn(m: Machine): Space {
  const address = m.k.exports.createAddressSpace() >>> 0;
  expect(address).not.toBe(0);
  const regions = m.k.exports.addressSpaceRegions(address) >>> 0;
  for (const r of REGIONS) {
    const region = m.k.exports.newRegion(r.start, r.start + BigInt(r.pages * PAGE), r.protection, r.flags ?? 0) >>> 0;
    expect(region).not.toBe(0);
    expect(m.k.exports.insertRegion(regions, region)).toBe(1);
  }
  const space = { address, pages: new Map<bigint, Uint8Array>(), id: m.nextId++ };
  m.live.push(space);
  return space;
}

function fork(m: Machine, parent: Space): Space {
  const { cpu } = m.k;
  const address = m.k.exports.createAddressSpace() >>> 0;
  expect(address).not.toBe(0);
  const sharedBefore = mappings(m, parent).filter((p) => p !== m.zero).length;
  const writableBefore = PAGES.filter(({ va }) => (leaf(m, parent, va) & (PTE_PRESENT | PTE_WRITABLE)) === (PTE_PRESENT | PTE_WRITABLE));
  // The parent is the one running fork: its root is the active one.
  cpu.cr3 = BigInt(rootOf(m, parent));
  const flushes = { invlpg: cpu.invlpg.length, cr3: cpu.cr3Writes.length };
  expect(m.k.exports.copyAddressSpace(parent.address, address)).toBe(1);
  // Private pages lost their write permission in the parent, which the TLB must learn.
  for (const { va } of writableBefore) {
    expect(leaf(m, parent, va) & PTE_WRITABLE, `parent page 0x${va.toString(16)} read-only after fork`).toBe(0n);
    const flushed = cpu.cr3Writes.length > flushes.cr3 || cpu.invlpg.slice(flushes.invlpg).includes(va);
    expect(flushed, `TLB flushed for 0x${va.toString(16)}`).toBe(true);
  }
  cpu.cr3 = 0n;
  const child: Space = { address, pages: new Map([...parent.pages].map(([va, bytes]) => [va, bytes.slice()])), id: m.nextId++ };
  m.live.push(child);
  expect(field(m, child, AS.sharedAtFork), "sharedAtFork").toBe(sharedBefore);
  return child;
}

function exit(m: Machine, space: Space): void {
  m.k.exports.destroyAddressSpace(space.address);
  m.live.splice(m.live.indexOf(space), 1);
}

/** The physical frames `space` maps at PAGES (one entry per mapped page). */
function mappings(m: Machine, space: Space): number[] {
  return PAGES.flatMap(({ va }) => {
    const entry = leaf(m, space, va);
    return entry & PTE_PRESENT ? [Number(entry & PTE_ADDRESS)] : [];
  });
}

interface Touch {
  /** What the fault did: "none" when the CPU needed no fault. */
  fault: "none" | "demand-zero" | "zero-page" | "zero-page-write" | "reuse" | "copy" | "kill" | "resolved";
}

/** The CPU writing `value` at `va + offset` for the program in `space`. */
function write(m: Machine, space: Space, page: Page, offset: number, value: number): Touch {
  const { k } = m;
  const va = page.va + BigInt(offset);
  const before = leaf(m, space, page.va);
  if ((before & PTE_PRESENT) !== 0n && (before & PTE_WRITABLE) !== 0n) {
    poke(m, space, page, offset, value);
    return { fault: "none" };
  }
  const read = frameReader(k);
  const old = Number(before & PTE_ADDRESS);
  const oldRecord = before & PTE_PRESENT ? read(old / PAGE) : undefined;
  const counters = { copies: field(m, space, AS.cowCopies), reuses: field(m, space, AS.cowReuses), zero: field(m, space, AS.demandZeroFaults) };
  const copied = k.cpu.copiedPages.length;
  const result = k.exports.handleUserFault(space.address, va, FAULT_WRITE | FAULT_USER);
  if (!page.writable) {
    expect(result, "a region that forbids the write").toBe(Fault.Forbidden);
    expect(leaf(m, space, page.va)).toBe(before);
    return { fault: "kill" };
  }
  expect(result).toBe(Fault.Continue);
  const after = leaf(m, space, page.va);
  expect(after & (PTE_PRESENT | PTE_WRITABLE | PTE_USER)).toBe(PTE_PRESENT | PTE_WRITABLE | PTE_USER);
  expect(after & PTE_NO_EXECUTE, "anonymous data is not executable").toBe(PTE_NO_EXECUTE);
  const now = Number(after & PTE_ADDRESS);
  let fault: Touch["fault"];
  if (oldRecord === undefined) {
    fault = "demand-zero";
    expect(field(m, space, AS.demandZeroFaults)).toBe(counters.zero + 1);
  } else if (old === m.zero) {
    fault = "zero-page-write";
    expect(now).not.toBe(m.zero);
    expect(field(m, space, AS.demandZeroFaults)).toBe(counters.zero + 1);
  } else if (oldRecord.refCount === 1) {
    // The one holder: made writable in place, nothing copied.
    fault = "reuse";
    expect(now).toBe(old);
    expect(k.cpu.copiedPages.length).toBe(copied);
    expect(field(m, space, AS.cowReuses)).toBe(counters.reuses + 1);
  } else {
    fault = "copy";
    expect(now).not.toBe(old);
    expect(k.cpu.copiedPages.slice(copied)).toEqual([[now, old]]);
    expect(field(m, space, AS.cowCopies)).toBe(counters.copies + 1);
    const left = read(old / PAGE);
    expect(left.refCount).toBe(oldRecord.refCount - 1);
    expect(left.mapCount).toBe(oldRecord.mapCount - 1);
  }
  if (fault !== "reuse") {
    const fresh = read(now / PAGE);
    expect(fresh.state).toBe(State.Anonymous);
    expect([fresh.refCount, fresh.mapCount]).toEqual([1, 1]);
  }
  poke(m, space, page, offset, value);
  return { fault };
}

function poke(m: Machine, space: Space, page: Page, offset: number, value: number): void {
  const physical = BigInt.asUintN(64, m.k.exports.translate(rootOf(m, space), page.va + BigInt(offset)));
  expect(physical).not.toBe(NOT_MAPPED);
  m.k.write(Number(physical), new Uint8Array([value]));
  let bytes = space.pages.get(page.va);
  if (!bytes) space.pages.set(page.va, (bytes = new Uint8Array(PAGE)));
  bytes[offset] = value;
}

/** The CPU reading the byte at `va + offset` for the program in `space`. */
function read(m: Machine, space: Space, page: Page, offset: number): Touch {
  const va = page.va + BigInt(offset);
  let fault: Touch["fault"] = "none";
  if ((leaf(m, space, page.va) & PTE_PRESENT) === 0n) {
    const maps = field(m, space, AS.zeroPageMaps);
    expect(m.k.exports.handleUserFault(space.address, va, FAULT_USER)).toBe(Fault.Continue);
    const entry = leaf(m, space, page.va);
    // Never written here: the shared zero page, read-only.
    expect(space.pages.has(page.va)).toBe(false);
    expect(Number(entry & PTE_ADDRESS)).toBe(m.zero);
    expect(entry & (PTE_PRESENT | PTE_WRITABLE | PTE_USER)).toBe(PTE_PRESENT | PTE_USER);
    expect(field(m, space, AS.zeroPageMaps)).toBe(maps + 1);
    fault = "zero-page";
  }
  const physical = BigInt.asUintN(64, m.k.exports.translate(rootOf(m, space), va));
  expect(m.k.read(Number(physical), 1)[0]).toBe(space.pages.get(page.va)?.[offset] ?? 0);
  return { fault };
}

/** Every table frame and every user leaf reachable from `root`, walked with the x86-64 layout. */
function walkTables(m: Machine, root: number): { tables: number[]; leaves: Map<bigint, bigint> } {
  const view = m.k.view();
  const tables: number[] = [];
  const leaves = new Map<bigint, bigint>();
  const visit = (table: number, level: number, base: bigint) => {
    tables.push(table);
    for (let i = 0; i < 512; i++) {
      const entry = view.getBigUint64(table + i * 8, true);
      if ((entry & PTE_PRESENT) === 0n) continue;
      const va = base | (BigInt(i) << BigInt(12 + 9 * (level - 1)));
      expect(entry & PTE_HUGE, "no huge pages in user space").toBe(0n);
      if (level === 1) leaves.set(va, entry);
      else visit(Number(entry & PTE_ADDRESS), level - 1, va);
    }
  };
  visit(root, 4, 0n);
  return { tables, leaves };
}

/** Everything that must hold between steps. */
function check(m: Machine): void {
  const { k } = m;
  const record = frameReader(k);
  const holders = new Map<number, { count: number; writable: number }>();
  let tables = 0;
  for (const space of m.live) {
    const walked = walkTables(m, rootOf(m, space));
    tables += walked.tables.length;
    let resident = 0;
    const expectedPages = new Set(PAGES.map((p) => p.va));
    for (const [va, entry] of walked.leaves) {
      if (!expectedPages.has(va)) expect.fail(`space ${space.id} maps 0x${va.toString(16)}, outside its regions`);
      const physical = Number(entry & PTE_ADDRESS);
      const h = holders.get(physical) ?? { count: 0, writable: 0 };
      h.count++;
      if (entry & PTE_WRITABLE) h.writable++;
      holders.set(physical, h);
      if (physical !== m.zero) resident++;
      // The page reads as this space's own contents.
      const model = space.pages.get(va);
      const actual = Buffer.from(k.memory.buffer, physical, PAGE);
      if (!actual.equals(model ? Buffer.from(model) : Buffer.alloc(PAGE))) {
        expect.fail(`space ${space.id} page 0x${va.toString(16)} (frame 0x${physical.toString(16)}) differs from its model`);
      }
    }
    for (const va of space.pages.keys()) {
      if (!walked.leaves.has(va)) expect.fail(`space ${space.id} lost written page 0x${va.toString(16)}`);
    }
    expect(field(m, space, AS.residentPages), `space ${space.id} residentPages`).toBe(resident);
  }
  let anonymous = 0;
  for (const [physical, h] of holders) {
    const f = record(physical / PAGE);
    if (physical === m.zero) {
      expect(f.state).toBe(State.ZeroPage);
      expect(h.writable, "the zero page is never writable").toBe(0);
      continue;
    }
    anonymous++;
    if (f.state !== State.Anonymous || f.refCount !== h.count || f.mapCount !== h.count) {
      expect.fail(`frame 0x${physical.toString(16)}: state ${f.state}, refCount ${f.refCount}, mapCount ${f.mapCount}; mapped ${h.count} times`);
    }
    if (h.count > 1 && h.writable > 0) expect.fail(`frame 0x${physical.toString(16)} is shared by ${h.count} mappings but writable in ${h.writable}`);
  }
  const zero = record(m.zero / PAGE);
  expect([zero.state, zero.refCount, zero.mapCount], "the zero page is never counted").toEqual([State.ZeroPage, 1, 0]);
  expect(k.read(m.zero, PAGE).every((b) => b === 0), "the zero page stays zero").toBe(true);
  // No frame is held without a mapping: every anonymous frame and page table is accounted for.
  expect(stateCount(k, State.Anonymous) - m.base.counts[State.Anonymous]).toBe(anonymous);
  expect(stateCount(k, State.PageTable) - m.base.counts[State.PageTable]).toBe(tables);
}

/** Destroys what is left and requires memory to be exactly as after boot. */
function finish(m: Machine): void {
  while (m.live.length > 0) exit(m, m.live[m.live.length - 1]);
  check(m);
  const { k } = m;
  expect(freeCount(k)).toBe(m.base.free);
  expect(k.exports.kernelObjectsInUse() >>> 0).toBe(m.base.objects);
  for (let s = 0; s < STATE_COUNT; s++) expect(stateCount(k, s), `frames in state ${s}`).toBe(m.base.counts[s]);
  expect(k.exports.zeroPage() >>> 0).toBe(m.zero);
}

// ---- the decision -------------------------------------------------------------------

describe("shouldReuse", () => {
  it("reuses only an anonymous frame with one reference", () => {
    const k = loadKernel();
    for (let state = 0; state < STATE_COUNT + 2; state++) {
      for (const refCount of [0, 1, 2, 3, 0x7fffffff, 0xffffffff]) {
        const expected = state === State.Anonymous && refCount === 1;
        expect(k.exports.shouldReuse(state, refCount) !== 0, `state ${state}, refCount ${refCount}`).toBe(expected);
      }
    }
    // Named: the page cache's frames and the zero page never, whatever the count.
    for (const refCount of [0, 1, 2]) {
      expect(k.exports.shouldReuse(State.FileCache, refCount)).toBe(0);
      expect(k.exports.shouldReuse(State.ZeroPage, refCount)).toBe(0);
    }
  });
});

// ---- scenarios ---------------------------------------------------------------------

const [A0, A1, A2] = PAGES;
const RO = PAGES.find((p) => !p.writable)!;

describe("copy-on-write scenarios", () => {
  it("maps the zero page for reads, and a zeroed frame for the first write", () => {
    const m = boot();
    const s = spawn(m);
    expect(read(m, s, A0, 5).fault).toBe("zero-page");
    expect(read(m, s, A0, 6).fault).toBe("none");
    check(m);
    expect(write(m, s, A0, 7, 0x42).fault).toBe("zero-page-write");
    // A1 neighbours A0: zero-page fault-around mapped it on A0's read fault.
    expect(write(m, s, A1, 0, 0x43).fault).toBe("zero-page-write");
    expect(write(m, s, A1, 1, 0x44).fault).toBe("none");
    check(m);
    expect(read(m, s, RO, 0).fault).toBe("zero-page");
    expect(write(m, s, RO, 0, 1).fault).toBe("kill");
    check(m);
    finish(m);
  });

  it("copies for the first writer after fork, and lets the last holder reuse its frame", () => {
    const m = boot();
    const parent = spawn(m);
    write(m, parent, A0, 0, 0x11);
    const child = fork(m, parent);
    check(m);
    // Both now map the frame read-only.
    expect(leaf(m, parent, A0.va) & PTE_WRITABLE).toBe(0n);
    expect(write(m, child, A0, 1, 0x22).fault).toBe("copy");
    check(m);
    // The parent is the frame's only holder now: no copy.
    expect(write(m, parent, A0, 2, 0x33).fault).toBe("reuse");
    check(m);
    expect(read(m, child, A0, 0).fault).toBe("none");
    finish(m);
  });

  it("lets a child reuse its frames once the parent has exited", () => {
    const m = boot();
    const parent = spawn(m);
    write(m, parent, A0, 0, 1);
    write(m, parent, A2, 0, 2);
    read(m, parent, A1, 0);
    const child = fork(m, parent);
    exit(m, parent);
    check(m);
    expect(write(m, child, A0, 9, 3).fault).toBe("reuse");
    expect(write(m, child, A1, 9, 4).fault).toBe("zero-page-write");
    check(m);
    finish(m);
  });

  it("shares one frame among three generations and copies for each writer but the last", () => {
    const m = boot();
    const a = spawn(m);
    write(m, a, A0, 0, 1);
    const b = fork(m, a);
    const c = fork(m, b);
    expect(frameReader(m.k)(mappings(m, a)[0] / PAGE).refCount).toBe(3);
    check(m);
    expect(write(m, b, A0, 1, 2).fault).toBe("copy");
    expect(write(m, a, A0, 1, 3).fault).toBe("copy");
    expect(write(m, c, A0, 1, 4).fault).toBe("reuse");
    check(m);
    finish(m);
  });

  it("refuses faults outside every region", () => {
    const m = boot();
    const s = spawn(m);
    for (const va of [0n, 0xfff0n, 0x3ff000n, 0x406000n, 0x4fffffn, 0x502000n, 0x7fffffffa000n, 0x7ffffffff000n, 0x800000000000n]) {
      expect(m.k.exports.handleUserFault(s.address, va, FAULT_USER)).toBe(Fault.Kill);
      expect(m.k.exports.handleUserFault(s.address, va, FAULT_WRITE | FAULT_USER)).toBe(Fault.Kill);
    }
    check(m);
    finish(m);
  });
});

// ---- random sequences -----------------------------------------------------------------

type Op =
  | { kind: "fork"; pick: number }
  | { kind: "write"; pick: number; page: number; offset: number; value: number }
  | { kind: "read"; pick: number; page: number; offset: number }
  | { kind: "exit"; pick: number };

/** Mostly a few pages, so that the spaces' histories collide often; sometimes any. */
const pageIndex = fc.oneof({ arbitrary: fc.nat({ max: 2 }), weight: 3 }, { arbitrary: fc.nat({ max: PAGES.length - 1 }), weight: 2 });
const offset = fc.oneof(fc.constantFrom(0, 1, PAGE - 1), fc.integer({ min: 0, max: PAGE - 1 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("fork" as const), pick: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({ kind: fc.constant("write" as const), pick: fc.nat(), page: pageIndex, offset, value: fc.integer({ min: 1, max: 255 }) }),
    weight: 6,
  },
  { arbitrary: fc.record({ kind: fc.constant("read" as const), pick: fc.nat(), page: pageIndex, offset }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("exit" as const), pick: fc.nat() }), weight: 1 },
);

const MAX_SPACES = 6;

describe("copy-on-write under random fork, write, read and exit", () => {
  it("keeps every space's contents, counts every reference, and leaks nothing", () => {
    const seen = new Map<string, number>();
    const note = (touch: Touch) => seen.set(touch.fault, (seen.get(touch.fault) ?? 0) + 1);
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 80 }), (ops) => {
        const m = boot();
        for (const o of ops) {
          if (m.live.length === 0) spawn(m);
          const space = m.live[o.pick % m.live.length];
          if (o.kind === "fork") {
            if (m.live.length < MAX_SPACES) fork(m, space);
          } else if (o.kind === "write") {
            note(write(m, space, PAGES[o.page], o.offset, o.value));
          } else if (o.kind === "read") {
            note(read(m, space, PAGES[o.page], o.offset));
          } else {
            exit(m, space);
          }
          check(m);
        }
        finish(m);
      }),
      { numRuns: 100 },
    );
    // Every path through the fault handler was taken, many times over.
    for (const fault of ["none", "demand-zero", "zero-page", "zero-page-write", "reuse", "copy", "kill"]) {
      expect(seen.get(fault) ?? 0, `${fault}: ${JSON.stringify(Object.fromEntries(seen))}`).toBeGreaterThan(10);
    }
  });
});
