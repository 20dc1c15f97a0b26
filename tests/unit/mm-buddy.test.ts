// kernel/mm/buddy.ts: the buddy allocator, driven by random sequences of
// allocations and frees on random memory maps and checked against a model
// of who holds which frames, after every single operation.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import {
  FRAME_BLOCK_HEAD, MAX_ORDER, MIB, MemoryType, PAGE, type Region, STATE_COUNT, State, allBytes,
  available, blockFrames, blockKey, bootMemory, exhaust, expectAssertion, fill, frameReader, frameRecord, frameStates, freeBlocks,
  freeCount, pcMemoryMap, reservedRegion, stateCount,
} from "./mm";

/** 48 MiB of simulated RAM; the random maps keep their RAM inside it. */
const MEMORY_PAGES = 768;
const MEMORY_END = 48 * MIB;
const BUDDY = "kernel/mm/buddy.ts";

function boot(regions: Region[]): Kernel {
  const k = loadKernel({ memoryPages: MEMORY_PAGES });
  expect(bootMemory(k, regions)).toBe(true);
  return k;
}

const alloc = (k: Kernel, order: number, state = State.Anonymous, zeroed = false) =>
  k.exports.allocPages(order, state, zeroed ? 1 : 0) >>> 0;

/** Whether any free list of `order` or above is non-empty: exactly when allocPages(order) must succeed. */
const hasBlockFor = (k: Kernel, order: number) => {
  for (let o = order; o <= MAX_ORDER; o++) if (k.exports.freeListLength(o) !== 0) return true;
  return false;
};

const ALLOCATED_STATES = [State.Anonymous, State.PageTable, State.KernelObject, State.FileCache, State.ZeroPage];

// ---- random maps and operations -------------------------------------------------

/**
 * 1..4 available entries between the kernel's statics (below 2 MiB) and
 * 48 MiB, with ragged edges, and a few reserved entries punching holes, so
 * the free runs have odd lengths and alignments. Small enough that large
 * orders run out.
 */
const ragged = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.oneof(fc.constant(0), fc.integer({ min: 1, max: PAGE - 1 })))
    .map(([pages, bytes]) => pages * PAGE + bytes);
const availableEntry = fc.tuple(ragged(512, 10 * 256), ragged(4, 8 * 256))
  .map(([base, length]) => available(base, Math.min(length, MEMORY_END - base)));
const reservedEntry = fc.tuple(ragged(512, 12 * 256), ragged(0, 64), fc.constantFrom(MemoryType.Reserved, MemoryType.AcpiNvs))
  .map(([base, length, type]) => reservedRegion(base, length, type));
const buddyMap = fc.tuple(
  fc.tuple(ragged(8 * 256, 11 * 256), ragged(256, 12 * 256)) // one region with room for the records
    .map(([base, length]) => available(base, Math.min(length, MEMORY_END - base))),
  fc.array(availableEntry, { maxLength: 3 }),
  fc.array(reservedEntry, { maxLength: 3 }),
).map(([first, more, holes]) => [first, ...more, ...holes]);

type Op =
  | { kind: "alloc"; order: number; state: State; zeroed: boolean }
  | { kind: "free"; pick: number };

/** Orders 0..10, mostly small, as a kernel asks for them. */
const order = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 2 }), weight: 6 },
  { arbitrary: fc.integer({ min: 3, max: 6 }), weight: 3 },
  { arbitrary: fc.integer({ min: 7, max: MAX_ORDER }), weight: 2 },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant("alloc" as const), order, state: fc.constantFrom(...ALLOCATED_STATES), zeroed: fc.boolean() }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }), weight: 2 },
);

interface Held {
  address: number;
  pfn: number;
  order: number;
  state: State;
}

/**
 * Replays `ops`, checking after each one everything the allocator promises;
 * then frees what is left and requires the free lists to be exactly those
 * boot built.
 */
function replay(k: Kernel, ops: Op[], freeOrder: number[]): void {
  const initialBlocks = freeBlocks(k);
  const initialFree = freeCount(k);
  const initialCounts = Array.from({ length: STATE_COUNT }, (_, s) => stateCount(k, s));
  expect(blockFrames(initialBlocks)).toBe(initialFree);

  // What every page holds, 0 (fresh memory) unless written here: free
  // memory is never written by the allocator (its lists live in the frame
  // records), so a block handed out without zeroing must hold exactly what
  // its last owner left in it.
  const contents = new Map<number, number>();
  let nextByte = 1;
  const scribble = (pfn: number, frames: number) => {
    const byte = nextByte;
    nextByte = (nextByte % 250) + 1;
    fill(k, pfn * PAGE, frames * PAGE, byte);
    for (let i = 0; i < frames; i++) contents.set(pfn + i, byte);
  };

  const record = frameReader(k);
  const held: Held[] = [];
  const owner = new Map<number, Held>(); // frame -> the block holding it
  const heldByState = new Array<number>(STATE_COUNT).fill(0);
  let heldFrames = 0;

  const free = (block: Held) => {
    scribble(block.pfn, 2 ** block.order); // the owner's last data
    k.exports.freePages(block.address);
    for (let i = 0; i < 2 ** block.order; i++) {
      owner.delete(block.pfn + i);
      const { state, refCount } = record(block.pfn + i);
      if (state !== State.Free || refCount !== 0) expect.fail(`freed frame ${block.pfn + i}: state ${state}, refCount ${refCount}`);
    }
    heldFrames -= 2 ** block.order;
    heldByState[block.state] -= 2 ** block.order;
  };

  const checkCounts = () => {
    expect(freeCount(k)).toBe(initialFree - heldFrames);
    expect(stateCount(k, State.Free)).toBe(freeCount(k));
    for (const state of ALLOCATED_STATES) expect(stateCount(k, state)).toBe(initialCounts[state] + heldByState[state]);
  };

  ops.forEach((o, step) => {
    if (o.kind === "free") {
      if (held.length === 0) return;
      const [block] = held.splice(o.pick % held.length, 1);
      free(block);
    } else {
      const possible = hasBlockFor(k, o.order);
      k.cpu.zeroedPages.length = 0;
      const address = alloc(k, o.order, o.state, o.zeroed);
      expect(address !== 0, `allocPages(${o.order}) at step ${step}`).toBe(possible);
      if (address === 0) {
        expect(k.cpu.zeroedPages).toEqual([]);
      } else {
        const frames = 2 ** o.order;
        expect(address % (frames * PAGE), "naturally aligned").toBe(0);
        const block: Held = { address, pfn: address / PAGE, order: o.order, state: o.state };
        for (let i = 0; i < frames; i++) {
          const other = owner.get(block.pfn + i);
          if (other) expect.fail(`frame ${block.pfn + i} handed out twice (held by block at 0x${other.address.toString(16)})`);
          owner.set(block.pfn + i, block);
          const { state, refCount, mapCount } = record(block.pfn + i);
          if (state !== o.state || refCount !== 1 || mapCount !== 0) {
            expect.fail(`allocated frame ${block.pfn + i}: state ${state}, refCount ${refCount}, mapCount ${mapCount}`);
          }
        }
        const head = record(block.pfn);
        expect(head.flags & FRAME_BLOCK_HEAD).not.toBe(0);
        expect(head.order).toBe(o.order);
        if (o.zeroed) {
          expect(allBytes(k, address, frames * PAGE, 0), "zeroed block").toBe(true);
          expect(k.cpu.zeroedPages).toEqual(Array.from({ length: frames }, (_, i) => address + i * PAGE));
        } else {
          for (let i = 0; i < frames; i++) {
            const expected = contents.get(block.pfn + i) ?? 0;
            expect(allBytes(k, address + i * PAGE, PAGE, expected), `page ${block.pfn + i} untouched while free`).toBe(true);
          }
          expect(k.cpu.zeroedPages).toEqual([]);
        }
        scribble(block.pfn, frames);
        held.push(block);
        heldFrames += frames;
        heldByState[o.state] += frames;
      }
    }
    checkCounts();
    if (step % 8 === 0) expect(k.exports.checkFreeLists()).toBe(1);
  });

  // Free the rest in a random order: the lists must be exactly as boot left them.
  const rest = held.map((block, i) => ({ block, key: freeOrder[i % Math.max(1, freeOrder.length)] ?? i }));
  rest.sort((a, b) => a.key - b.key);
  for (const { block } of rest) {
    free(block);
    checkCounts();
  }
  expect(k.exports.checkFreeLists()).toBe(1);
  expect(freeBlocks(k)).toEqual(initialBlocks);
  for (let s = 0; s < STATE_COUNT; s++) expect(stateCount(k, s)).toBe(initialCounts[s]);
}

describe("buddy allocator under random operations", () => {
  it("never hands a frame out twice, fails only when no block is large enough, and merges back to the boot lists", () => {
    fc.assert(
      fc.property(
        buddyMap,
        fc.array(op, { minLength: 10, maxLength: 80 }),
        fc.array(fc.nat(), { maxLength: 80 }),
        (regions, ops, freeOrder) => {
          const k = loadKernel({ memoryPages: MEMORY_PAGES });
          const booted = bootMemory(k, regions);
          fc.pre(booted); // the reserved entries may leave no room for the records
          replay(k, ops, freeOrder);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("survives running out and coming back, many times over, on a PC-like map", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 200, maxLength: 400 }), fc.array(fc.nat(), { maxLength: 50 }), (ops, freeOrder) => {
        // 8 MiB: order-10 blocks are few, so large requests fail often.
        const k = boot(pcMemoryMap(8 * MIB));
        replay(k, ops, freeOrder);
      }),
      { numRuns: 15 },
    );
  });
});

/** Allocates every free frame as its own block; their addresses in ascending order. */
function allSingleFrames(k: Kernel): number[] {
  const held: number[] = [];
  for (let address = alloc(k, 0); address !== 0; address = alloc(k, 0)) held.push(address);
  return held.sort((a, b) => a - b);
}

describe("freeFrameRun: freeing runs of single frames at once", () => {
  it("leaves the free lists exactly as freeing the same frames one by one, in any order", () => {
    // Every frame held as a single-frame block; a random subset is given
    // back, as runs of consecutive frames (cut at random) on one kernel and
    // frame by frame in a random order on its twin.
    const scenario = fc.record({
      picks: fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
      cuts: fc.array(fc.nat({ max: 40 }), { maxLength: 8 }),
      seed: fc.nat(),
    });
    fc.assert(fc.property(scenario, ({ picks, cuts, seed }) => {
      const runs = boot(pcMemoryMap(8 * MIB));
      const single = boot(pcMemoryMap(8 * MIB));
      const held = allSingleFrames(runs);
      expect(allSingleFrames(single)).toEqual(held);
      // Frames come back in stretches where `picks` (repeated) says so.
      const chosen = held.map((address) => address / PAGE).filter((pfn, i) => picks[i % picks.length] || i % 97 === 0);
      const cutAt = new Set(cuts.map((c) => c * 17));
      let start = 0;
      for (let i = 1; i <= chosen.length; i++) {
        if (i < chosen.length && chosen[i] === chosen[i - 1] + 1 && !cutAt.has(i)) continue;
        runs.exports.freeFrameRun(chosen[start], i - start);
        start = i;
      }
      const shuffled = [...chosen];
      for (let i = shuffled.length - 1, r = seed; i > 0; i--, r = (r * 1103515245 + 12345) >>> 0) {
        const j = r % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      for (const pfn of shuffled) single.exports.freePages(pfn * PAGE);
      expect(runs.exports.checkFreeLists()).toBe(1);
      expect(freeCount(runs)).toBe(chosen.length);
      expect(freeBlocks(runs).sort()).toEqual(freeBlocks(single).sort());
      for (const pfn of chosen) expect(frameRecord(runs, pfn).state).toBe(State.Free);
    }), { numRuns: 60 });
  });

  it("rejects a run that holds a free frame, a frame of a larger block, or frames of two states", () => {
    const k = boot(pcMemoryMap(16 * MIB));
    const a = alloc(k, 0) / PAGE;
    k.exports.freePages(a * PAGE);
    expectAssertion(() => k.exports.freeFrameRun(a, 1), BUDDY, "freeFrameRun: not a single-frame allocated block of the run's state");
    const block = alloc(k, 1) / PAGE;
    expectAssertion(() => k.exports.freeFrameRun(block, 2), BUDDY, "freeFrameRun: not a single-frame allocated block of the run's state");
    const held = allSingleFrames(k);
    const pair = held.findIndex((address, i) => held[i + 1] === address + PAGE);
    const first = held[pair] / PAGE;
    k.exports.freePages((first + 1) * PAGE);
    expect(alloc(k, 0, State.PageTable)).toBe((first + 1) * PAGE); // the same frame again, in another state
    expectAssertion(() => k.exports.freeFrameRun(first, 2), BUDDY, "freeFrameRun: not a single-frame allocated block of the run's state");
  });
});

// ---- hand-picked cases ------------------------------------------------------------

describe("buddy allocator", () => {
  /** One free 4 MiB block at 8 MiB: the RAM at 2 MiB is just enough for the records. */
  const oneBlock = () => boot([available(8 * MIB, 4 * MIB), available(2 * MIB, 128 * 1024)]);

  it("splits a block into one buddy per order and merges them back", () => {
    const k = oneBlock();
    const before = freeBlocks(k);
    const pfn = (8 * MIB) / PAGE;
    expect(before).toContain(blockKey(10, pfn));
    const address = alloc(k, 0);
    expect(address).toBe(8 * MIB); // the head of the only order-10 block: there are no smaller ones
    for (let order = 0; order < MAX_ORDER; order++) expect(freeBlocks(k)).toContain(blockKey(order, pfn + 2 ** order));
    expect(k.exports.checkFreeLists()).toBe(1);
    k.exports.freePages(address);
    expect(freeBlocks(k)).toEqual(before);
  });

  it("hands out every free frame exactly once before failing", () => {
    const k = boot(pcMemoryMap(16 * MIB));
    const free = freeCount(k);
    const seen = new Set<number>();
    for (;;) {
      const address = alloc(k, 0);
      if (address === 0) break;
      expect(seen.has(address)).toBe(false);
      seen.add(address);
    }
    expect(seen.size).toBe(free);
    expect(freeCount(k)).toBe(0);
    for (let order = 0; order <= MAX_ORDER; order++) expect(alloc(k, order)).toBe(0);
    expect(seen.has(0)).toBe(false); // frame 0 is never handed out
  });

  it("fails a large request while smaller blocks remain, and serves the small ones", () => {
    const k = boot(pcMemoryMap(16 * MIB));
    const held = exhaust(k, State.Anonymous, 3); // leaves three single frames
    expect(alloc(k, 2)).toBe(0);
    const possible = hasBlockFor(k, 1); // the three are one order-1 block and a frame, or three frames
    expect(alloc(k, 1) !== 0).toBe(possible);
    while (freeCount(k) > 0) expect(alloc(k, 0)).not.toBe(0);
    expect(alloc(k, 0)).toBe(0);
    expect(held.length).toBeGreaterThan(0);
  });

  it("zeroes a zeroed block, and only that block", () => {
    const k = boot(pcMemoryMap(16 * MIB));
    for (const [pfn, state] of frameStates(k)) if (state === State.Free) fill(k, pfn * PAGE, PAGE, 0xff);
    const address = alloc(k, 4, State.Anonymous, true);
    expect(allBytes(k, address, 16 * PAGE, 0)).toBe(true);
    expect(k.cpu.zeroedPages).toHaveLength(16);
    const neighbour = alloc(k, 4, State.Anonymous, false);
    expect(allBytes(k, neighbour, 16 * PAGE, 0xff)).toBe(true);
  });

  it("rejects a double free", () => {
    const k = boot(pcMemoryMap(16 * MIB));
    const address = alloc(k, 3);
    k.exports.freePages(address);
    expectAssertion(() => k.exports.freePages(address), BUDDY, "freePages: not the start of an allocated block");
  });

  it("rejects a double free after the block merged with its buddy", () => {
    const k = oneBlock();
    const a = alloc(k, 0);
    const b = alloc(k, 0);
    expect(a ^ b).toBe(PAGE); // buddies, split from the same block
    k.exports.freePages(a);
    k.exports.freePages(b); // merges all the way back to order 10, headed by a
    const text = "freePages: not the start of an allocated block";
    expectAssertion(() => k.exports.freePages(b), BUDDY, text);
    expectAssertion(() => k.exports.freePages(a), BUDDY, text);
  });

  it("rejects freeing what was never allocated: a free frame, a frame inside a block, a reserved frame", () => {
    const k = boot(pcMemoryMap(16 * MIB));
    const block = alloc(k, 2);
    const text = "freePages: not the start of an allocated block";
    expectAssertion(() => k.exports.freePages(block + PAGE), BUDDY, text);
    const freeFrame = alloc(k, 0);
    k.exports.freePages(freeFrame);
    expect(frameRecord(k, freeFrame / PAGE).state).toBe(State.Free);
    expectAssertion(() => k.exports.freePages(freeFrame), BUDDY, text);
    expectAssertion(() => k.exports.freePages(MIB), BUDDY, text); // the kernel image
    expectAssertion(() => k.exports.freePages(0), BUDDY, text); // frame 0
  });

  it("rejects an order above MAX_ORDER and allocating into a free state", () => {
    const k = boot(pcMemoryMap(16 * MIB));
    expectAssertion(() => alloc(k, MAX_ORDER + 1), BUDDY, "allocPages: order above MAX_ORDER");
    expectAssertion(() => alloc(k, 0, State.Free), BUDDY, "allocPages: allocating into a free state");
    expectAssertion(() => alloc(k, 0, State.Hole), BUDDY, "allocPages: allocating into a free state");
  });
});
