// Out of memory in the middle of a fault (kernel/mm/fault.ts): each kind
// of fault may need several frames (a data frame or a page-cache page, a
// private copy, and up to three new page tables), and whichever allocation
// fails, the fault must answer OutOfMemory holding nothing, as if it had
// never started. For every kind the fault runs with exactly 0, 1, 2, ...
// frames free until it succeeds; after each failure every frame but the
// reclaimable page cache must still be free, the page tables must be as
// before, and the space's counters unchanged.
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { PAGE, State, exhaust, freeCount } from "./mm";
import { archive, bootWithInitramfs, contents, file, lookup } from "./initramfs";

const MEMORY_PAGES = 512; // 32 MiB
const PROT_READ = 1;
const PROT_WRITE = 2;
const REGION_FILE = 2;
const FAULT_WRITE = 2;
const FAULT_USER = 4;
const enum Fault {
  Continue = 0,
  Kill = 1,
  OutOfMemory = 2,
}
/** Region fields (region.ts) that file regions need set. */
const REGION = { fileOffset: 32, fileBytes: 40 };
/** AddressSpace counters (address_space.ts). */
const AS = { root: 0, residentPages: 4, zeroPageMaps: 20, demandZeroFaults: 24, fileFaults: 28, cowCopies: 32 };

// Far apart: a fault at `far` needs a new page-directory-pointer table,
// page directory and page table (nothing else of the space is near it).
const NEAR = 0x400000n;
const FAR = 0x500000000000n;

interface Machine {
  k: Kernel;
  space: number;
}

function boot(): Machine {
  const k = loadKernel({ memoryPages: MEMORY_PAGES });
  expect(bootWithInitramfs(k, archive([file("data", contents(8 * PAGE, 7))]).bytes)).toBe(0);
  k.exports.installCacheReclaimHook();
  expect(k.exports.zeroPage()).not.toBe(0); // allocated at boot in the kernel
  const space = k.exports.createAddressSpace() >>> 0;
  expect(space).not.toBe(0);
  return { k, space };
}

/** A region of `pages` pages at `start`; `file`: mapping /data from its start. */
function addRegion(m: Machine, start: bigint, pages: number, protection: number, file = false): void {
  const { k } = m;
  const region = k.exports.newRegion(start, start + BigInt(pages * PAGE), protection, file ? REGION_FILE : 0) >>> 0;
  expect(region).not.toBe(0);
  if (file) {
    const inode = lookup(k, "/data");
    expect(inode).toBeGreaterThan(0);
    k.exports.attachObject(region, k.exports.inodeObject(inode), m.space);
    const view = k.view();
    view.setBigUint64(region + REGION.fileOffset, 0n, true);
    view.setBigUint64(region + REGION.fileBytes, BigInt(pages * PAGE), true);
  }
  expect(k.exports.insertRegion(k.exports.addressSpaceRegions(m.space) >>> 0, region)).toBe(1);
}

const counters = (m: Machine) => {
  const view = m.k.view();
  return Object.fromEntries(Object.entries(AS).filter(([name]) => name !== "root")
    .map(([name, offset]) => [name, view.getUint32(m.space + offset, true)]));
};
const leaf = (m: Machine, va: bigint) =>
  BigInt.asUintN(64, m.k.exports.leafEntry(m.k.view().getUint32(m.space + AS.root, true), va));

interface Scenario {
  name: string;
  /** Builds the space the fault runs in (any allocations here happen with memory to spare). */
  setup(m: Machine): void;
  address: bigint;
  access: number;
  /** Frames the fault needs at most: it must succeed with this many free. */
  needs: number;
}

const SCENARIOS: Scenario[] = [
  {
    name: "demand-zero write: data frame + 3 tables",
    setup: (m) => addRegion(m, FAR, 1, PROT_READ | PROT_WRITE),
    address: FAR, access: FAULT_WRITE | FAULT_USER, needs: 4,
  },
  {
    name: "zero-page read: 3 tables (the zero page exists)",
    setup: (m) => addRegion(m, FAR, 1, PROT_READ | PROT_WRITE),
    address: FAR, access: FAULT_USER, needs: 3,
  },
  {
    name: "file read: page-cache page + 3 tables",
    setup: (m) => addRegion(m, FAR, 4, PROT_READ, true),
    address: FAR + BigInt(PAGE), access: FAULT_USER, needs: 4,
  },
  {
    name: "private file write: page-cache page + copy + 3 tables",
    setup: (m) => addRegion(m, FAR, 4, PROT_READ | PROT_WRITE, true),
    address: FAR + 2n * BigInt(PAGE), access: FAULT_WRITE | FAULT_USER, needs: 5,
  },
  {
    name: "write to the zero page: data frame (tables exist)",
    setup: (m) => {
      addRegion(m, NEAR, 1, PROT_READ | PROT_WRITE);
      expect(m.k.exports.handleUserFault(m.space, NEAR, FAULT_USER)).toBe(Fault.Continue);
    },
    address: NEAR, access: FAULT_WRITE | FAULT_USER, needs: 1,
  },
  {
    name: "copy-on-write after fork: the copy (tables exist)",
    setup: (m) => {
      addRegion(m, NEAR, 1, PROT_READ | PROT_WRITE);
      expect(m.k.exports.handleUserFault(m.space, NEAR, FAULT_WRITE | FAULT_USER)).toBe(Fault.Continue);
      const parent = m.k.exports.createAddressSpace() >>> 0;
      // The space under test becomes the child: the frame is now shared.
      expect(m.k.exports.copyAddressSpace(m.space, parent)).toBe(1);
    },
    address: NEAR, access: FAULT_WRITE | FAULT_USER, needs: 1,
  },
];

describe("a fault that runs out of memory half-way holds nothing", () => {
  for (const s of SCENARIOS) {
    it(s.name, () => {
      let succeededWith = -1;
      for (let free = 0; free <= s.needs && succeededWith < 0; free++) {
        const m = boot();
        s.setup(m);
        // Cached pages nobody maps go first, so the count below is exact.
        m.k.exports.reclaimCachePages();
        const held = exhaust(m.k, State.Anonymous, free);
        const before = { entry: leaf(m, s.address), counts: counters(m) };
        const result = m.k.exports.handleUserFault(m.space, s.address, s.access);
        if (result === Fault.Continue) {
          succeededWith = free;
          continue;
        }
        expect(result, `with ${free} frames free`).toBe(Fault.OutOfMemory);
        m.k.exports.reclaimCachePages();
        expect(freeCount(m.k), `with ${free} frames free: every frame the fault took came back`).toBe(free);
        expect(leaf(m, s.address)).toBe(before.entry);
        expect(counters(m), "no fault was counted").toEqual(before.counts);
        for (const page of held) m.k.exports.freePages(page);
      }
      expect(succeededWith, "the fault succeeds once it has the frames it needs").toBeGreaterThanOrEqual(0);
      expect(succeededWith).toBeLessThanOrEqual(s.needs);
    });
  }
});
