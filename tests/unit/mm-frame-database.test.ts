// kernel/mm/frame_database.ts: building the frame database from the
// multiboot2 memory map. A JS model states the rules (available RAM is used
// in whole pages only, anything else the map says wins over "available" and
// is widened to whole pages, frame 0 and the reserved ranges are kept out,
// sections exist only where RAM is) and the kernel's records must match it
// frame by frame, for hand-written maps and random ones: holes, overlaps,
// unsorted entries, ragged edges, RAM above 4 GiB.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import {
  FRAMES_PER_SECTION, GIB, KERNEL_STATICS, MAX_ORDER, MIB, MemoryType, PAGE, type Region, type Reserved,
  SECTION_BYTES, SECTION_RECORDS_SIZE, STATE_COUNT, State, available, blockKey, bootMemory, frameStates, freeBlocks,
  freeCount, pcMemoryMap, reservedRegion, sectionsWithRecords, stateCount,
} from "./mm";

/** 64 MiB of simulated RAM: every map below keeps what the kernel may touch inside it. */
const MEMORY_PAGES = 1024;
const MEMORY_END = 64 * MIB;
const FOUR_GIB = 1n << 32n;
const PAGE_N = BigInt(PAGE);
const FRAMES_BELOW_4G = 1 << 20;

const newKernel = () => loadKernel({ memoryPages: MEMORY_PAGES });

const pageUp = (x: bigint) => ((x + PAGE_N - 1n) / PAGE_N) * PAGE_N;
const pageDown = (x: bigint) => (x / PAGE_N) * PAGE_N;
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);

// ---- the model ----------------------------------------------------------------

interface Model {
  /** Sections that must have records: those holding a whole available page below 4 GiB. */
  sections: Set<number>;
  /** State of every frame below 4 GiB (only frames in `sections` are compared). */
  states: Uint8Array;
  /** Whole available pages above 4 GiB, each counted once. */
  above4G: bigint;
}

/** Whole available pages [start, end) of a region (rounded inward; empty when start >= end). */
const availablePages = (r: Region) => ({ start: pageUp(r.base), end: pageDown(r.base + r.length) });

/** Sections holding available RAM, computed without a database. */
function modelSections(regions: Region[]): Set<number> {
  const sections = new Set<number>();
  for (const r of regions.filter((r) => r.type === MemoryType.Available)) {
    const { start, end } = availablePages(r);
    const limit = minBig(end, FOUR_GIB);
    if (start >= limit) continue;
    const first = Number(start / BigInt(SECTION_BYTES));
    const last = Number((limit - 1n) / BigInt(SECTION_BYTES));
    for (let s = first; s <= last; s++) sections.add(s);
  }
  return sections;
}

/**
 * The states the database must hold. `reserved` are the ranges in the order
 * given to reserveRange, the database's own range last (initFrameDatabase
 * adds it); the first range to claim a free frame wins.
 */
function model(regions: Region[], reserved: Reserved[]): Model {
  const states = new Uint8Array(FRAMES_BELOW_4G); // Hole
  const mark = (start: bigint, end: bigint, state: State, from: State[]) => {
    const last = Number(minBig(end, FOUR_GIB) / PAGE_N);
    for (let pfn = Number(start / PAGE_N); pfn < last; pfn++) {
      if (from.includes(states[pfn])) states[pfn] = state;
    }
  };
  for (const r of regions.filter((r) => r.type === MemoryType.Available)) {
    const { start, end } = availablePages(r);
    mark(start, end, State.Free, [State.Hole]);
  }
  for (const r of regions.filter((r) => r.type !== MemoryType.Available)) {
    mark(pageDown(r.base), pageUp(r.base + r.length), State.FirmwareReserved, [State.Hole, State.Free]);
  }
  mark(0n, PAGE_N, State.FirmwareReserved, [State.Free]);
  for (const r of reserved) mark(pageDown(r.start), pageUp(r.end), r.state, [State.Free]);

  // Above 4 GiB: whole available pages, each once, less the pages another
  // entry touches (as below 4 GiB, where such an entry wins).
  const clip = ({ start, end }: { start: bigint; end: bigint }) => ({ start: maxBig(start, FOUR_GIB), end });
  const ram = union(regions.filter((r) => r.type === MemoryType.Available).map(availablePages).map(clip));
  const claimed = union(regions.filter((r) => r.type !== MemoryType.Available)
    .map((r) => ({ start: pageDown(r.base), end: pageUp(r.base + r.length) })).map(clip));
  let above4G = 0n;
  for (const a of ram) {
    let pages = (a.end - a.start) / PAGE_N;
    for (const c of claimed) {
      const overlap = minBig(a.end, c.end) - maxBig(a.start, c.start);
      if (overlap > 0n) pages -= overlap / PAGE_N;
    }
    above4G += pages;
  }
  return { sections: modelSections(regions), states, above4G };
}

/** The union of spans as sorted, disjoint spans (empty ones dropped). */
function union(spans: { start: bigint; end: bigint }[]): { start: bigint; end: bigint }[] {
  const sorted = spans.filter(({ start, end }) => start < end)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: { start: bigint; end: bigint }[] = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last && span.start <= last.end) last.end = maxBig(last.end, span.end);
    else out.push({ ...span });
  }
  return out;
}

/** The buddy free lists boot must produce: each maximal run of free frames cut into the largest aligned blocks. */
function expectedFreeBlocks(m: Model): string[] {
  const blocks: string[] = [];
  const sections = [...m.sections].sort((a, b) => a - b);
  let runStart = -1;
  const endRun = (end: number) => {
    for (let pfn = runStart; pfn < end; ) {
      let order = MAX_ORDER;
      while (order > 0 && (pfn % 2 ** order !== 0 || pfn + 2 ** order > end)) order--;
      blocks.push(blockKey(order, pfn));
      pfn += 2 ** order;
    }
    runStart = -1;
  };
  let previous = -2;
  for (const s of sections) {
    if (s !== previous + 1 && runStart >= 0) endRun(previous * FRAMES_PER_SECTION + FRAMES_PER_SECTION);
    previous = s;
    for (let pfn = s * FRAMES_PER_SECTION; pfn < (s + 1) * FRAMES_PER_SECTION; pfn++) {
      if (m.states[pfn] === State.Free) {
        if (runStart < 0) runStart = pfn;
      } else if (runStart >= 0) {
        endRun(pfn);
      }
    }
  }
  if (runStart >= 0) endRun((previous + 1) * FRAMES_PER_SECTION);
  return blocks.sort();
}

/** The database's own range, as initFrameDatabase reserves it. */
function databaseRange(k: Kernel): Reserved {
  const start = BigInt(k.exports.getDatabaseStart() >>> 0);
  return { start, end: start + BigInt(k.exports.getDatabaseBytes() >>> 0), state: State.FrameDatabase };
}

/** Whether [start, end) lies inside one available region and touches no other region. */
function isUsableRam(regions: Region[], start: bigint, end: bigint): boolean {
  let inside = false;
  for (const r of regions) {
    if (r.type === MemoryType.Available) {
      if (r.base <= start && end <= r.base + r.length) inside = true;
    } else if (start < r.base + r.length && r.base < end) {
      return false;
    }
  }
  return inside;
}

const overlaps = (a: { start: bigint; end: bigint }, b: { start: bigint; end: bigint }) =>
  a.start < b.end && b.start < a.end;

/**
 * Everything the database must satisfy after booting on `regions` with
 * `reserved`: placement, sections, per-frame states, counts, free lists.
 */
function checkDatabase(k: Kernel, regions: Region[], reserved: Reserved[]): Model {
  // Placement: page aligned, at or above 1 MiB, in usable RAM, clear of every reserved range.
  const db = databaseRange(k);
  expect(db.start % PAGE_N).toBe(0n);
  expect(db.start).toBeGreaterThanOrEqual(BigInt(MIB));
  expect(isUsableRam(regions, db.start, db.end), "database in usable RAM").toBe(true);
  for (const r of reserved) expect(overlaps(db, r), `database overlaps reserved ${r.start}..${r.end}`).toBe(false);

  // Sections: exactly where RAM is, each with its own 128 KiB of records inside the database.
  const m = model(regions, [...reserved, db]);
  const sections = sectionsWithRecords(k);
  expect(sections).toEqual([...m.sections].sort((a, b) => a - b));
  expect(k.exports.getDatabaseBytes() >>> 0).toBe(sections.length * SECTION_RECORDS_SIZE);
  const records = sections.map((s) => k.exports.sectionRecordsAddress(s) >>> 0).sort((a, b) => a - b);
  records.forEach((address, i) => {
    expect(BigInt(address)).toBeGreaterThanOrEqual(db.start);
    expect(BigInt(address + SECTION_RECORDS_SIZE)).toBeLessThanOrEqual(db.end);
    if (i > 0) expect(address - records[i - 1]).toBeGreaterThanOrEqual(SECTION_RECORDS_SIZE);
  });

  // States, frame by frame, and the counts kept for them.
  const states = frameStates(k);
  const counts = new Array<number>(STATE_COUNT).fill(0);
  const wrong: string[] = []; // collected in plain JS: an expect per frame would be slow
  for (const [pfn, state] of states) {
    if (state !== m.states[pfn]) wrong.push(`frame 0x${pfn.toString(16)}: state ${state}, model says ${m.states[pfn]}`);
    if ((k.exports.frameExists(pfn) !== 0) !== (state !== State.Hole)) wrong.push(`frameExists(0x${pfn.toString(16)})`);
    counts[state]++;
  }
  expect(wrong.slice(0, 5)).toEqual([]);
  // Frames in sections without records do not exist.
  for (let pfn = 0; pfn < FRAMES_BELOW_4G; pfn += 1021) {
    if (!states.has(pfn)) expect(k.exports.frameExists(pfn), `frameExists(0x${pfn.toString(16)})`).toBe(0);
  }
  for (let state = 0; state < STATE_COUNT; state++) expect(stateCount(k, state), `state ${state}`).toBe(counts[state]);
  expect(k.exports.getManagedFrames() >>> 0).toBe(states.size - counts[State.Hole]);
  expect(counts[State.FrameDatabase] * PAGE).toBe(k.exports.getDatabaseBytes() >>> 0);
  expect(BigInt.asUintN(64, k.exports.getFramesAbove4G())).toBe(m.above4G);

  // The buddy allocator holds exactly the free frames.
  expect(freeCount(k)).toBe(counts[State.Free]);
  expect(k.exports.checkFreeLists()).toBe(1);
  expect(freeBlocks(k)).toEqual(expectedFreeBlocks(m));
  return m;
}

function boot(regions: Region[], reserved: Reserved[] = [KERNEL_STATICS]): Kernel {
  const k = newKernel();
  expect(bootMemory(k, regions, reserved)).toBe(true);
  return k;
}

// ---- hand-written maps ----------------------------------------------------------

describe("frame database on hand-written memory maps", () => {
  it("builds a PC-like map exactly: frame 0, the BIOS area, the kernel, the database itself", () => {
    const regions = pcMemoryMap(MEMORY_END);
    const k = boot(regions);
    checkDatabase(k, regions, [KERNEL_STATICS]);
    // Worked out by hand, so the model itself is checked once:
    // frame 0 and 0x9f (EBDA's partial page) and 0xf0..0xff are firmware's,
    // 0xa0..0xef a hole, the database (4 sections, 512 KiB) right after the kernel.
    expect(k.exports.getDatabaseStart() >>> 0).toBe(2 * MIB);
    expect(k.exports.getDatabaseBytes() >>> 0).toBe(4 * SECTION_RECORDS_SIZE);
    expect(stateCount(k, State.FirmwareReserved)).toBe(1 + 1 + 16);
    expect(stateCount(k, State.Hole)).toBe(0xf0 - 0xa0);
    expect(stateCount(k, State.KernelImage)).toBe(256);
    expect(stateCount(k, State.FrameDatabase)).toBe(128);
    expect(freeCount(k)).toBe(0x9f - 1 + (MEMORY_END / PAGE - 0x280));
    expect(k.exports.getManagedFrames() >>> 0).toBe(MEMORY_END / PAGE - (0xf0 - 0xa0));
  });

  it("uses only whole pages of available RAM and widens everything else to whole pages", () => {
    const regions = [
      available(2 * MIB + 0x800, MIB - 0x400), // [0x200800, 0x300400): frames 0x201..0x2ff
      available(4 * MIB, 4 * MIB),
      reservedRegion(5 * MIB + 0x800, 0x400, MemoryType.AcpiNvs), // inside one page: frame 0x500 lost
      reservedRegion(6 * MIB - 1, 2), // straddles a page boundary: frames 0x5ff and 0x600 lost
      available(32 * MIB, 16 * MIB),
    ];
    const k = boot(regions);
    checkDatabase(k, regions, [KERNEL_STATICS]);
    // The records (2 sections, 64 frames) go at the first whole page of the ragged region.
    expect(k.exports.getDatabaseStart() >>> 0).toBe(0x201000);
    const states = frameStates(k);
    expect(states.get(0x200)).toBe(State.Hole);
    expect(states.get(0x201)).toBe(State.FrameDatabase);
    expect(states.get(0x241)).toBe(State.Free);
    expect(states.get(0x2ff)).toBe(State.Free);
    expect(states.get(0x300)).toBe(State.Hole);
    expect(states.get(0x500)).toBe(State.FirmwareReserved);
    expect(states.get(0x4ff)).toBe(State.Free);
    expect(states.get(0x501)).toBe(State.Free);
    expect(states.get(0x5ff)).toBe(State.FirmwareReserved);
    expect(states.get(0x600)).toBe(State.FirmwareReserved);
  });

  it("lets every non-available entry win over an overlapping available one, whatever the order", () => {
    const regions = [
      reservedRegion(6 * MIB, MIB, MemoryType.BadRam), // listed before the RAM it punches a hole in
      available(4 * MIB, 12 * MIB),
      available(8 * MIB, 4 * MIB), // a duplicate inside the first
      reservedRegion(10 * MIB, 0x3000, MemoryType.AcpiReclaimable),
      reservedRegion(15 * MIB, 2 * MIB), // runs past the end of RAM into nothing
      available(32 * MIB, 16 * MIB),
    ];
    const k = boot(regions);
    const m = checkDatabase(k, regions, [KERNEL_STATICS]);
    expect(m.states[(6 * MIB) / PAGE]).toBe(State.FirmwareReserved);
    expect(m.states[(10 * MIB) / PAGE + 2]).toBe(State.FirmwareReserved);
    expect(m.states[(10 * MIB) / PAGE + 3]).toBe(State.Free);
    // 15..16 MiB lost; 16..17 MiB lies in a section without RAM, so no records.
    expect(stateCount(k, State.FirmwareReserved)).toBe(256 + 3 + 256);
  });

  it("gives the same database for any order of the entries", () => {
    const regions = [
      ...pcMemoryMap(24 * MIB),
      reservedRegion(3 * MIB, 0x1800, MemoryType.AcpiNvs),
      available(40 * MIB, 8 * MIB),
      available(40 * MIB + 0x123, 9 * MIB),
      reservedRegion(44 * MIB, PAGE),
      available(5n * BigInt(GIB), 2n * BigInt(GIB)),
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(regions, { minLength: regions.length }), (shuffled) => {
        const k = boot(shuffled);
        checkDatabase(k, shuffled, [KERNEL_STATICS]);
        expect(k.exports.getDatabaseStart() >>> 0).toBe(2 * MIB);
      }),
      { numRuns: 25 },
    );
  });

  it("creates records only for sections with RAM, so holes cost nothing", () => {
    const regions = [
      available(0, 0x9fc00),
      available(MIB, 31 * MIB), // sections 0 and 1
      reservedRegion(32 * MIB, 2n * BigInt(GIB) - 32n * BigInt(MIB)), // a huge hole: no records
      available(2n * BigInt(GIB) + 0x1000n, 16 * MIB), // section 128, and one page of section 129
      reservedRegion(3n * BigInt(GIB), BigInt(GIB)), // the PCI window
      available(3n * BigInt(GIB) + BigInt(SECTION_BYTES) * 10n, 0x1000), // one page inside it: reserved wins, section exists
    ];
    const k = boot(regions);
    checkDatabase(k, regions, [KERNEL_STATICS]);
    expect(sectionsWithRecords(k)).toEqual([0, 1, 128, 129, 202]);
    expect(k.exports.getDatabaseBytes() >>> 0).toBe(5 * SECTION_RECORDS_SIZE);
    // Low memory without frame 0, 1..32 MiB without the kernel and the database, the RAM at 2 GiB.
    expect(stateCount(k, State.Free)).toBe(0x9e + (31 * MIB) / PAGE - 256 - 5 * 32 + 4096);
  });

  it("counts RAM above 4 GiB without managing it, splitting an entry that straddles 4 GiB", () => {
    const regions = [
      ...pcMemoryMap(MEMORY_END),
      available(FOUR_GIB - 16n * BigInt(MIB), 32 * MIB), // 16 MiB below 4 GiB, 16 MiB above
      available(8n * BigInt(GIB) + 0x800n, 4n * BigInt(GIB)), // ragged ends: one page short
      reservedRegion(16n * BigInt(GIB), BigInt(GIB)), // reserved above 4 GiB: not counted
    ];
    const k = boot(regions);
    const m = checkDatabase(k, regions, [KERNEL_STATICS]);
    expect(m.above4G).toBe((16n * BigInt(MIB) + 4n * BigInt(GIB)) / PAGE_N - 1n);
    expect(sectionsWithRecords(k)).toEqual([0, 1, 2, 3, 255]);
  });

  it("keeps reserved ranges out of the free lists, rounded outward, first range winning", () => {
    const reserved: Reserved[] = [
      KERNEL_STATICS,
      { start: BigInt(5 * MIB + 0x10), end: BigInt(5 * MIB + 0x2010), state: State.BootData }, // three pages
      { start: BigInt(5 * MIB), end: BigInt(6 * MIB), state: State.ZeroPage }, // overlaps: only the rest
      { start: BigInt(0x9f000), end: BigInt(0x100000), state: State.BootData }, // over firmware and a hole: no change
      { start: 0n, end: 1n, state: State.KernelImage }, // frame 0 stays firmware's
    ];
    const regions = pcMemoryMap(MEMORY_END);
    const k = boot(regions, reserved);
    const m = checkDatabase(k, regions, reserved);
    expect(stateCount(k, State.BootData)).toBe(3);
    expect(stateCount(k, State.ZeroPage)).toBe(256 - 3);
    expect(m.states[0]).toBe(State.FirmwareReserved);
    expect(m.states[0xa0]).toBe(State.Hole);
    expect(k.exports.getDatabaseStart() >>> 0).toBe(2 * MIB);
  });

  it("places the database past reserved ranges that block lower room", () => {
    const reserved: Reserved[] = [
      KERNEL_STATICS,
      { start: BigInt(2 * MIB + 0x10), end: BigInt(2 * MIB + 0x20), state: State.BootData }, // the boot info
      { start: BigInt(2 * MIB + 0x300000), end: BigInt(2 * MIB + 0x300001), state: State.BootData }, // a module
    ];
    const regions = pcMemoryMap(MEMORY_END);
    const k = boot(regions, reserved);
    checkDatabase(k, regions, reserved);
    // 2 MiB + 1 page leaves room for the 512 KiB database below the module.
    expect(k.exports.getDatabaseStart() >>> 0).toBe(2 * MIB + PAGE);
  });

  it("reports failure when no available region has room for the records", () => {
    const k = newKernel();
    // 64 KiB of RAM above 1 MiB cannot hold one section's 128 KiB of records.
    expect(bootMemory(k, [available(0, 0x9fc00), available(3 * MIB, 64 * 1024)])).toBe(false);
    // Room below 1 MiB does not count either.
    expect(bootMemory(newKernel(), [available(0, 0x9f000)], [])).toBe(false);
  });

  it("finds room after a reserved entry that overlaps available RAM", () => {
    const regions = [available(0, 0x9fc00), available(MIB, MEMORY_END - MIB), reservedRegion(2 * MIB, MIB)];
    const k = newKernel();
    expect(bootMemory(k, regions)).toBe(true);
    expect(k.exports.getDatabaseStart() >>> 0).toBe(3 * MIB);
    checkDatabase(k, regions, [KERNEL_STATICS]);
  });

  it("counts no frames for an available sliver above 4 GiB", () => {
    const regions = [...pcMemoryMap(MEMORY_END), available(FOUR_GIB + 0x1800n, 0x400)];
    const k = boot(regions);
    expect(BigInt.asUintN(64, k.exports.getFramesAbove4G())).toBe(0n);
  });

  it("counts RAM above 4 GiB once when entries overlap, and not where a reserved entry claims it", () => {
    const regions = [
      ...pcMemoryMap(MEMORY_END),
      available(8n * BigInt(GIB), 2n * BigInt(GIB)),
      available(8n * BigInt(GIB), 2n * BigInt(GIB)),
    ];
    const k = boot(regions);
    expect(BigInt.asUintN(64, k.exports.getFramesAbove4G())).toBe((2n * BigInt(GIB)) / PAGE_N);
    const claimed = boot([...regions, reservedRegion(9n * BigInt(GIB), BigInt(MIB) + 1n)]);
    expect(BigInt.asUintN(64, claimed.exports.getFramesAbove4G())).toBe((2n * BigInt(GIB) - BigInt(MIB)) / PAGE_N - 1n);
  });
});

// ---- random maps ----------------------------------------------------------------

/**
 * Random memory maps, shuffled. A clean available region at 32..48 MiB
 * guarantees room for the records (never more than a few sections' worth);
 * random entries of every type, with ragged edges, overlap each other below
 * and above it inside the simulated RAM, far below 4 GiB (records only:
 * nothing there is touched), straddling 4 GiB, and above 4 GiB.
 */
const CLEAN = available(32 * MIB, 16 * MIB);

const regionType = fc.constantFrom(
  MemoryType.Available, MemoryType.Available, MemoryType.Available,
  MemoryType.Reserved, MemoryType.AcpiReclaimable, MemoryType.AcpiNvs, MemoryType.BadRam,
);

/** A byte offset that is often page aligned and sometimes not. */
const ragged = (maxPages: number) =>
  fc.tuple(fc.integer({ min: 0, max: maxPages }), fc.oneof(fc.constant(0), fc.integer({ min: 1, max: PAGE - 1 })))
    .map(([pages, bytes]) => BigInt(pages) * PAGE_N + BigInt(bytes));

/** An entry inside [windowStart, windowEnd). */
const regionIn = (windowStart: bigint, windowEnd: bigint) =>
  fc.tuple(ragged(Number((windowEnd - windowStart) / PAGE_N) - 1), ragged(2048), regionType).map(([offset, length, type]) => {
    const base = windowStart + offset;
    return { base, length: minBig(length, windowEnd - base), type };
  });

const nearRegion = fc.oneof(regionIn(0n, 32n * BigInt(MIB)), regionIn(48n * BigInt(MIB), BigInt(MEMORY_END)));
const farRegion = regionIn(BigInt(MEMORY_END), FOUR_GIB);
const straddling = fc.tuple(ragged(8192), ragged(8192), regionType)
  .map(([below, above, type]) => ({ base: FOUR_GIB - below - 1n, length: below + 1n + above, type }));
/** Entries above 4 GiB, clear of the straddling one, overlapping each other at will. */
const highRegions = fc.array(fc.tuple(ragged(1 << 20), ragged(1 << 20), regionType), { maxLength: 4 })
  .map((entries) => entries.map(([offset, length, type]) => ({
    base: 8n * BigInt(GIB) + offset,
    length: length + 2n * PAGE_N,
    type,
  })));

const reservedState = fc.constantFrom(State.BootData, State.KernelImage, State.ZeroPage, State.FileCache);
const reservedNear = fc.tuple(nearRegion, reservedState)
  .map(([r, state]): Reserved => ({ start: r.base, end: r.base + r.length, state }));

const randomMap = fc.record({
  near: fc.array(nearRegion, { maxLength: 8 }),
  far: fc.array(farRegion, { maxLength: 3 }),
  straddling: fc.option(straddling),
  high: highRegions,
  reserved: fc.array(reservedNear, { maxLength: 4 }),
}).chain((parts) => {
  const regions: Region[] = [CLEAN, ...parts.near, ...parts.far, ...parts.high];
  if (parts.straddling) regions.push(parts.straddling);
  return fc.shuffledSubarray(regions, { minLength: regions.length })
    .map((shuffled) => ({ regions: shuffled, reserved: [KERNEL_STATICS, ...parts.reserved] }));
});

describe("frame database on random memory maps", () => {
  it("matches the model frame by frame", () => {
    fc.assert(
      fc.property(randomMap, ({ regions, reserved }) => {
        const k = boot(regions, reserved);
        checkDatabase(k, regions, reserved);
        // Lowest room: nothing the model finds usable lies below the database.
        // (Candidates as the kernel's doc comment says: region starts, reserved ends.)
        const db = databaseRange(k);
        const size = db.end - db.start;
        const candidates = [
          ...regions.filter((r) => r.type === MemoryType.Available).map((r) => r.base),
          ...reserved.map((r) => r.end),
        ].map((c) => pageUp(maxBig(c, BigInt(MIB))));
        for (const c of candidates) {
          if (c >= db.start || c + size > FOUR_GIB) continue;
          const blocked = !isUsableRam(regions, c, c + size) || reserved.some((r) => overlaps(r, { start: c, end: c + size }));
          expect(blocked, `room at 0x${c.toString(16)} below the database`).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});
