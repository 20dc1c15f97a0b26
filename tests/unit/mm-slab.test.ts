// kernel/mm/slab.ts: kmalloc and kfree. Random sequences of mixed sizes
// are checked against a model of the live objects: no two overlap, each is
// aligned to its size class and zero-filled, none is disturbed while live,
// and slab pages go back to the buddy allocator as soon as they are empty.
import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, UNIT_WASM, loadKernel } from "./kernel-wasm";
import {
  MAX_ORDER, MIB, PAGE, State, allBytes, bootMemory, exhaust, expectAssertion, fill, frameRecord, freeBlocks, freeCount,
  pcMemoryMap, stateCount,
} from "./mm";

const MEMORY_PAGES = 512; // 32 MiB
const SLAB = "kernel/mm/slab.ts";
const MAX_SMALL = 2048;
const MAX_LARGE = PAGE << MAX_ORDER; // 4 MiB

let k: Kernel;
let initialFree: number;

function freshKernel(): void {
  k = loadKernel({ memoryPages: MEMORY_PAGES });
  expect(bootMemory(k, pcMemoryMap(32 * MIB))).toBe(true);
  k.exports.resetSlab();
  initialFree = freeCount(k);
}

beforeEach(freshKernel);

const kmalloc = (size: number) => k.exports.kmalloc(size) >>> 0;
const kfree = (object: number) => k.exports.kfree(object);
const objectsInUse = () => k.exports.kernelObjectsInUse() >>> 0;
const slabPages = () => k.exports.slabPageCount() >>> 0;

/** What an object of `size` bytes really occupies: its size class (16..2048), or whole pages in a power of two. */
function span(size: number): number {
  if (size <= MAX_SMALL) {
    let c = 16;
    while (c < size) c *= 2;
    return c;
  }
  let bytes = PAGE;
  while (bytes < size) bytes *= 2;
  return bytes;
}

interface Live {
  address: number;
  size: number;
  span: number;
  byte: number;
}

// ---- random sequences --------------------------------------------------------------

type Op = { kind: "alloc"; size: number } | { kind: "free"; pick: number };

/** Mostly small sizes, some whole-page ones, and the edges between classes. */
const size = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: MAX_SMALL }), weight: 8 },
  { arbitrary: fc.integer({ min: MAX_SMALL + 1, max: 40000 }), weight: 1 },
  { arbitrary: fc.constantFrom(0, 1, 15, 16, 17, 32, 33, 1024, 1025, 2047, 2048, 2049, 4096, 4097, 8192), weight: 1 },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("alloc" as const), size }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }), weight: 2 },
);

function replay(ops: Op[]): void {
  const initialBlocks = freeBlocks(k);
  const live: Live[] = [];
  let nextByte = 1;

  const check = () => {
    expect(objectsInUse()).toBe(live.length);
    // Every page holding a live small object is a slab page, and no other page is.
    const pages = new Set(live.filter((o) => o.span <= MAX_SMALL).map((o) => Math.floor(o.address / PAGE)));
    expect(slabPages()).toBe(pages.size);
    const largeFrames = live.filter((o) => o.span > MAX_SMALL).reduce((sum, o) => sum + o.span / PAGE, 0);
    expect(freeCount(k)).toBe(initialFree - pages.size - largeFrames);
    expect(stateCount(k, State.KernelObject)).toBe(pages.size + largeFrames);
  };

  const release = (object: Live) => {
    // Nothing the allocator did since kmalloc may have touched a live object.
    expect(allBytes(k, object.address, object.span, object.byte), `object at 0x${object.address.toString(16)} intact`).toBe(true);
    kfree(object.address);
  };

  for (const o of ops) {
    if (o.kind === "free") {
      if (live.length === 0) continue;
      release(live.splice(o.pick % live.length, 1)[0]);
    } else {
      const address = kmalloc(o.size);
      expect(address, `kmalloc(${o.size})`).not.toBe(0);
      const object: Live = { address, size: o.size, span: span(Math.max(o.size, 1)), byte: nextByte };
      nextByte = (nextByte % 250) + 1;
      expect(address % object.span, `kmalloc(${o.size}) aligned to ${object.span}`).toBe(0);
      for (const other of live) {
        if (address < other.address + other.span && other.address < address + object.span) {
          expect.fail(`kmalloc(${o.size}) = 0x${address.toString(16)} overlaps the object at 0x${other.address.toString(16)}`);
        }
      }
      expect(allBytes(k, address, object.span, 0), `kmalloc(${o.size}) zero-filled`).toBe(true);
      for (let page = address; page < address + object.span; page += PAGE) {
        expect(frameRecord(k, Math.floor(page / PAGE)).state).toBe(State.KernelObject);
      }
      fill(k, address, object.span, object.byte); // the caller uses all of it
      live.push(object);
    }
    check();
  }
  while (live.length > 0) {
    release(live.pop()!);
    check();
  }
  expect(slabPages()).toBe(0);
  expect(freeCount(k)).toBe(initialFree);
  expect(k.exports.checkFreeLists()).toBe(1);
  expect(freeBlocks(k)).toEqual(initialBlocks);
}

describe("kmalloc and kfree under random sequences", () => {
  it("hand out disjoint, aligned, zeroed objects and give every slab page back", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 150 }), (ops) => {
        freshKernel();
        replay(ops);
      }),
      { numRuns: 80 },
    );
  });

  it("reuse freed objects, which come back zeroed", () => {
    // Many frees and allocations of one class on few pages: objects are reused constantly.
    const churn = fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant("alloc" as const), size: fc.integer({ min: 33, max: 64 }) }),
        fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
      ),
      { minLength: 50, maxLength: 400 },
    );
    fc.assert(
      fc.property(churn, (ops) => {
        freshKernel();
        replay(ops);
      }),
      { numRuns: 20 },
    );
  });
});

// ---- hand-picked cases -----------------------------------------------------------------

describe("kmalloc and kfree", () => {
  it("packs a slab page full before starting another", () => {
    for (const [objectSize, perPage] of [[16, 256], [48, 64], [2048, 2]]) {
      freshKernel();
      const objects = Array.from({ length: perPage }, () => kmalloc(objectSize));
      expect(slabPages()).toBe(1);
      expect(new Set(objects.map((o) => Math.floor(o / PAGE))).size).toBe(1);
      objects.push(kmalloc(objectSize));
      expect(slabPages()).toBe(2);
      for (const object of objects) kfree(object);
      expect(slabPages()).toBe(0);
      expect(freeCount(k)).toBe(initialFree);
    }
  });

  it("serves 0 and 1 bytes from the smallest class, and sizes above 2048 from whole pages", () => {
    const a = kmalloc(0);
    const b = kmalloc(1);
    expect(Math.floor(a / PAGE)).toBe(Math.floor(b / PAGE));
    expect(Math.abs(a - b)).toBe(16);
    const big = kmalloc(MAX_SMALL + 1);
    expect(big % PAGE).toBe(0);
    expect(frameRecord(k, big / PAGE).order).toBe(0);
    const bigger = kmalloc(3 * PAGE);
    expect(bigger % (4 * PAGE)).toBe(0);
    expect(frameRecord(k, bigger / PAGE).order).toBe(2);
    expect(slabPages()).toBe(1);
    expect(objectsInUse()).toBe(4);
  });

  it("allocates up to 4 MiB and refuses more, changing nothing", () => {
    const largest = kmalloc(MAX_LARGE);
    expect(largest).not.toBe(0);
    expect(allBytes(k, largest, MAX_LARGE, 0)).toBe(true);
    const before = freeCount(k);
    expect(kmalloc(MAX_LARGE + 1)).toBe(0);
    expect(kmalloc(0x7fffffff)).toBe(0);
    expect(freeCount(k)).toBe(before);
    expect(objectsInUse()).toBe(1);
    kfree(largest);
    expect(freeCount(k)).toBe(initialFree);
  });

  it("returns 0 when memory is exhausted, and still serves from a partly used slab page", () => {
    const first = kmalloc(64);
    exhaust(k);
    const second = kmalloc(64);
    expect(second).not.toBe(0);
    expect(Math.floor(second / PAGE)).toBe(Math.floor(first / PAGE));
    expect(kmalloc(128)).toBe(0); // a new class needs a new page
    expect(kmalloc(3000)).toBe(0);
    expect(objectsInUse()).toBe(2);
    expect(slabPages()).toBe(1);
  });

  it("rejects kfree of memory that is not a kernel object", () => {
    const text = "kfree: not a kernel object";
    const free = k.exports.allocPages(0, State.Anonymous, 0) >>> 0;
    k.exports.freePages(free);
    expectAssertion(() => kfree(free), SLAB, text); // a free frame
    const table = k.exports.allocTable() >>> 0;
    expectAssertion(() => kfree(table), SLAB, text); // a page table
    expectAssertion(() => kfree(MIB + 64), SLAB, text); // the kernel image
  });

  it("rejects kfree of a pointer inside an object", () => {
    const object = kmalloc(64);
    expectAssertion(() => kfree(object + 8), SLAB, "kfree: pointer inside an object");
  });

  it("rejects kfree of an object whose slab page went back to the buddy allocator", () => {
    const object = kmalloc(64);
    kfree(object);
    expectAssertion(() => kfree(object), SLAB, "kfree: not a kernel object");
  });

  it("rejects kfree of the second page of a multi-page object", () => {
    const block = kmalloc(2 * PAGE);
    expect(() => kfree(block + PAGE)).toThrow("arch_raise");
  });

  it("rejects a double kfree while the slab page is still in use", () => {
    const a = kmalloc(32);
    const b = kmalloc(32);
    expect(Math.floor(a / PAGE)).toBe(Math.floor(b / PAGE));
    kfree(a);
    expect(() => kfree(a)).toThrow("arch_raise");
    expect(frameRecord(k, Math.floor(b / PAGE)).state).toBe(State.KernelObject);
  });

  it("runs kmalloc in a worker thread (the harness of the next test)", async () => {
    const object = await kmallocInWorker(100, 10000);
    expect(object).not.toBe(0);
    expect(object % 128).toBe(0);
  });

  // Run in a worker thread, which can be stopped: this once looped forever
  // (a 32-bit shift that wrapped for sizes above 2 GiB).
  it("returns 0 for sizes above 2 GiB instead of hanging", async () => {
    await expect(kmallocInWorker(0x80000001, 3000)).resolves.toBe(0);
  });
});

/**
 * kmalloc(size) on a fresh kernel (32 MiB of RAM from 2 MiB up) in a worker
 * thread; rejects if it has not returned within `ms`. The worker repeats
 * the loader's setup in plain JS, since it cannot load TypeScript.
 */
function kmallocInWorker(size: number, ms: number): Promise<number> {
  const source = `
    const { parentPort, workerData } = require("node:worker_threads");
    const module = new WebAssembly.Module(require("node:fs").readFileSync(workerData.wasm));
    const memory = new WebAssembly.Memory({ initial: 512 });
    const env = {};
    for (const { name, kind } of WebAssembly.Module.imports(module)) {
      env[name] = kind === "memory" ? memory : (...args) => {
        if (name === "mm_zero_page") new Uint8Array(memory.buffer, args[0] >>> 0, 4096).fill(0);
        else if (name === "cpu_read_cr3") return 0n;
        else if (name === "cpu_inb") return 0x20;
        else if (name !== "cpu_outb" && name !== "cpu_invlpg") throw new Error(name + " called");
      };
    }
    const e = new WebAssembly.Instance(module, { env }).exports;
    const view = new DataView(memory.buffer);
    view.setUint32(e.bootInfoAddress() + 24, 1, true);
    const region = e.memoryRegionAddress(0);
    view.setBigUint64(region, 2n << 20n, true);
    view.setBigUint64(region + 8, 30n << 20n, true);
    view.setUint32(region + 16, 1, true);
    e.clearReservedRanges();
    if (!e.initFrameDatabase()) throw new Error("no frame database");
    e.resetSlab();
    parentPort.postMessage(e.kmalloc(workerData.size) >>> 0);
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { wasm: UNIT_WASM, size } });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`kmalloc(${size}) still running after ${ms} ms`));
    }, ms);
    worker.once("message", (value: number) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(value);
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
