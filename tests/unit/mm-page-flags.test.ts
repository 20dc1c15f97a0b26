// What /proc/kpageflags, /proc/kpagecount (kernel/mm/page_flags.ts) and
// /proc/PID/pagemap (kernel/mm/pagemap.ts) say, against the frame database
// of a simulated memory: Linux's flag bits for a frame in each state, and
// the pagemap entries of a page that is unmapped, untouched, the zero
// page, present and exclusive, shared copy-on-write after a fork and
// copied by a write, and a page of a file; and /proc/framestates' byte
// (kernel/mm/frame_states.ts) for a frame shared by a fork.
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { KERNEL_STATICS, MIB, PAGE, State, bootMemory, freeBlocks, pcMemoryMap, recordAddress } from "./mm";
import { archive, bootWithInitramfs, contents, file } from "./initramfs";

const MEMORY_PAGES = 512; // 32 MiB

// include/uapi/linux/kernel-page-flags.h, and KPF_RESERVED of include/linux/kernel-page-flags.h
const KPF = {
  LOCKED: 0, REFERENCED: 2, UPTODATE: 3, DIRTY: 4, LRU: 5, ACTIVE: 6, SLAB: 7, WRITEBACK: 8, BUDDY: 10, MMAP: 11,
  ANON: 12, SWAPBACKED: 14, NOPAGE: 20, ZERO_PAGE: 24, PGTABLE: 26, RESERVED: 32,
} as const;
type Flag = keyof typeof KPF;
const bits = (...flags: Flag[]) => flags.reduce((sum, f) => sum | (1n << BigInt(KPF[f])), 0n);

/** Frame.flags in frame.ts. */
const FRAME = { DIRTY: 4, LOCKED: 8, WRITEBACK: 16, REFERENCED: 32, ACTIVE: 64 };

// Documentation/admin-guide/mm/pagemap.rst
const PM_PRESENT = 1n << 63n;
const PM_FILE = 1n << 61n;
const PM_EXCLUSIVE = 1n << 56n;
const PM_PFN = (1n << 55n) - 1n;

const flagsOf = (k: Kernel, pfn: number) => BigInt.asUintN(64, k.exports.kpageFlags(pfn));
const countOf = (k: Kernel, pfn: number) => Number(k.exports.kpageCount(pfn));
const pfnOf = (address: number) => address / PAGE;

function setRecord(k: Kernel, pfn: number, fields: { flags?: number; mapCount?: number }): void {
  const at = recordAddress(k, pfn);
  if (fields.flags !== undefined) k.view().setUint16(at + 2, fields.flags, true);
  if (fields.mapCount !== undefined) k.view().setUint32(at + 8, fields.mapCount, true);
}

describe("kpageflags and kpagecount", () => {
  function boot(): Kernel {
    const k = loadKernel({ memoryPages: MEMORY_PAGES });
    expect(bootMemory(k, pcMemoryMap(32 * MIB), [KERNEL_STATICS])).toBe(true);
    k.exports.resetSlab();
    return k;
  }

  it("holes and frames past the end of RAM have no page", () => {
    const k = boot();
    expect(k.exports.getFrameLimit() >>> 0).toBe(32 * MIB / PAGE);
    expect(flagsOf(k, 0xa0)).toBe(bits("NOPAGE")); // the gap between the EBDA and the BIOS area
    expect(flagsOf(k, 32 * MIB / PAGE)).toBe(bits("NOPAGE")); // a section without records
    expect(flagsOf(k, 0xfffff)).toBe(bits("NOPAGE"));
    expect(countOf(k, 0xa0)).toBe(0);
  });

  it("memory the allocator never had is reserved", () => {
    const k = boot();
    expect(flagsOf(k, 0)).toBe(bits("RESERVED")); // frame 0
    expect(flagsOf(k, 0x9f)).toBe(bits("RESERVED")); // the EBDA
    expect(flagsOf(k, pfnOf(MIB))).toBe(bits("RESERVED")); // the kernel's statics
    expect(flagsOf(k, pfnOf(k.exports.getDatabaseStart() >>> 0))).toBe(bits("RESERVED"));
  });

  it("a free block flags its first frame alone as the buddy allocator's", () => {
    const k = boot();
    const [order, first] = freeBlocks(k).map((b) => b.split(":").map(Number)).find(([o]) => o > 0)!;
    expect(flagsOf(k, first)).toBe(bits("BUDDY"));
    expect(flagsOf(k, first + 2 ** order - 1)).toBe(0n);
    expect(countOf(k, first)).toBe(0);
  });

  it("page tables, slab pages and other kernel allocations", () => {
    const k = boot();
    expect(flagsOf(k, pfnOf(k.exports.allocPages(0, State.PageTable, 0) >>> 0))).toBe(bits("PGTABLE"));
    const stack = k.exports.allocPages(1, State.KernelObject, 0) >>> 0;
    expect(flagsOf(k, pfnOf(stack))).toBe(0n); // Linux has no flag for a plain allocation
    const object = k.exports.kmalloc(64) >>> 0;
    const slab = pfnOf(object & ~(PAGE - 1));
    expect(flagsOf(k, slab)).toBe(bits("SLAB"));
    expect(countOf(k, slab)).toBe(0);
    k.exports.kfree(object); // the last object: the page goes back
    expect(flagsOf(k, slab) & bits("SLAB")).toBe(0n);
    const large = k.exports.kmalloc(3 * PAGE) >>> 0; // a whole block, not a slab page
    expect(flagsOf(k, pfnOf(large))).toBe(0n);
  });

  it("anonymous memory: mapped or not, never on an LRU list or dirty", () => {
    const k = boot();
    const pfn = pfnOf(k.exports.allocPages(0, State.Anonymous, 0) >>> 0);
    expect(flagsOf(k, pfn)).toBe(bits("ANON", "SWAPBACKED", "UPTODATE"));
    setRecord(k, pfn, { mapCount: 3 });
    expect(flagsOf(k, pfn)).toBe(bits("ANON", "SWAPBACKED", "UPTODATE", "MMAP"));
    expect(countOf(k, pfn)).toBe(3);
  });

  it("cache pages: on an LRU list, with the cache's own flags", () => {
    const k = boot();
    const pfn = pfnOf(k.exports.allocPages(0, State.FileCache, 0) >>> 0);
    setRecord(k, pfn, { flags: FRAME.LOCKED });
    expect(flagsOf(k, pfn)).toBe(bits("LRU", "LOCKED")); // being read in: not up to date yet
    setRecord(k, pfn, { flags: FRAME.DIRTY | FRAME.WRITEBACK | FRAME.REFERENCED | FRAME.ACTIVE, mapCount: 1 });
    expect(flagsOf(k, pfn)).toBe(bits("LRU", "UPTODATE", "DIRTY", "WRITEBACK", "REFERENCED", "ACTIVE", "MMAP"));
    expect(countOf(k, pfn)).toBe(1);
  });

  it("the zero page, never counted", () => {
    const k = boot();
    const zero = pfnOf(k.exports.zeroPage() >>> 0);
    expect(flagsOf(k, zero)).toBe(bits("ZERO_PAGE", "UPTODATE"));
    expect(countOf(k, zero)).toBe(0);
  });
});

describe("pagemap", () => {
  const PROT_READ = 1;
  const PROT_WRITE = 2;
  const REGION_FILE = 2;
  const FAULT_WRITE = 2;
  const FAULT_USER = 4;
  const REGION_FILE_BYTES = 40; // Region.fileBytes in region.ts
  const ANON = 0x400000n;
  const FILE = 0x600000n;
  const page = (base: bigint, i: number) => base + BigInt(i * PAGE);

  function boot() {
    const k = loadKernel({ memoryPages: MEMORY_PAGES });
    expect(bootWithInitramfs(k, archive([file("data", contents(PAGE, 1))]).bytes)).toBe(0);
    const zero = pfnOf(k.exports.zeroPage() >>> 0);
    const space = newSpace(k);
    const object = k.exports.testObject(0);
    for (const [start, flags] of [[ANON, 0], [FILE, REGION_FILE]] as const) {
      const region = k.exports.newRegion(start, page(start, 4), PROT_READ | PROT_WRITE, flags) >>> 0;
      if (flags === REGION_FILE) {
        k.exports.attachObject(region, object, space);
        k.view().setBigUint64(region + REGION_FILE_BYTES, BigInt(4 * PAGE), true);
      }
      expect(k.exports.insertRegion(k.exports.addressSpaceRegions(space) >>> 0, region)).toBe(1);
    }
    return { k, zero, space };
  }

  function newSpace(k: Kernel): number {
    const space = k.exports.createAddressSpace() >>> 0;
    expect(space).not.toBe(0);
    return space;
  }

  const entry = (k: Kernel, space: number, va: bigint, showFrame = true) =>
    BigInt.asUintN(64, k.exports.pagemapEntry(space, va, showFrame ? 1 : 0));
  const fault = (k: Kernel, space: number, va: bigint, write: boolean) =>
    expect(k.exports.handleUserFault(space, va, (write ? FAULT_WRITE : 0) | FAULT_USER)).toBe(0);

  it("unmapped and untouched pages read as 0", () => {
    const { k, space } = boot();
    expect(entry(k, space, 0x1000n)).toBe(0n);
    expect(entry(k, space, page(ANON, 1))).toBe(0n);
    expect(entry(k, space, 0x7ffffffff000n)).toBe(0n);
  });

  it("a read maps the zero page: present, its frame, neither exclusive nor a file page", () => {
    const { k, zero, space } = boot();
    fault(k, space, ANON, false);
    expect(entry(k, space, ANON)).toBe(PM_PRESENT | BigInt(zero));
  });

  it("a written page is present and exclusive; the frame is hidden when the reader may not see it", () => {
    const { k, zero, space } = boot();
    fault(k, space, ANON, true);
    const e = entry(k, space, ANON);
    expect(e & ~PM_PFN).toBe(PM_PRESENT | PM_EXCLUSIVE);
    expect(Number(e & PM_PFN)).not.toBe(zero);
    expect(flagsOf(k, Number(e & PM_PFN)) & bits("ANON", "MMAP")).toBe(bits("ANON", "MMAP"));
    expect(entry(k, space, ANON, false)).toBe(PM_PRESENT | PM_EXCLUSIVE);
  });

  it("a fork shares the frame copy-on-write; a write gives the writer a frame of its own", () => {
    const { k, space: parent } = boot();
    fault(k, parent, ANON, true);
    const shared = entry(k, parent, ANON) & PM_PFN;
    const child = newSpace(k);
    expect(k.exports.copyAddressSpace(parent, child)).toBe(1);
    for (const space of [parent, child]) expect(entry(k, space, ANON)).toBe(PM_PRESENT | shared);
    expect(countOf(k, Number(shared))).toBe(2);
    expect(k.exports.frameStateByte(Number(shared))).toBe(State.Anonymous | 0x80);
    fault(k, child, ANON, true);
    const copy = entry(k, child, ANON);
    expect(copy & ~PM_PFN).toBe(PM_PRESENT | PM_EXCLUSIVE);
    expect(copy & PM_PFN).not.toBe(shared);
    expect(flagsOf(k, Number(copy & PM_PFN)) & bits("ANON")).toBe(bits("ANON"));
    expect(entry(k, parent, ANON)).toBe(PM_PRESENT | PM_EXCLUSIVE | shared);
    expect(countOf(k, Number(shared))).toBe(1);
    expect(k.exports.frameStateByte(Number(shared))).toBe(State.Anonymous);
    expect(k.exports.frameStateByte(0xfffff)).toBe(State.Hole);
  });

  it("a file page is a file page, until a private write copies it", () => {
    const { k, space } = boot();
    fault(k, space, FILE, false);
    const e = entry(k, space, FILE);
    expect(e & ~PM_PFN).toBe(PM_PRESENT | PM_FILE | PM_EXCLUSIVE);
    expect(flagsOf(k, Number(e & PM_PFN)) & bits("LRU", "MMAP", "ANON")).toBe(bits("LRU", "MMAP"));
    fault(k, space, FILE, true);
    const copied = entry(k, space, FILE);
    expect(copied & ~PM_PFN).toBe(PM_PRESENT | PM_EXCLUSIVE);
    expect(copied & PM_PFN).not.toBe(e & PM_PFN);
  });
});
