// Core dumps (kernel/proc/core_dump.ts, core_notes.ts, core_file.ts,
// mm/core_pages.ts) of a test process holding one region of each kind the
// dump treats differently, read back from /core and parsed here: the ELF
// header, a PT_NOTE then one PT_LOAD per region with its permissions and
// the part Linux's default coredump_filter dumps (written anonymous memory
// and shared anonymous memory whole, unless MADV_DONTDUMP marks it; a
// private file mapping's first page when the file is executable or starts
// with an ELF header; nothing of untouched or only-read anonymous memory,
// of shared file mappings, or of private ones further into a file), the
// bytes of each dumped page, holes where no page was ever made, and the
// notes with the registers in user_regs_struct's order and the CPU times.
// The dump itself must map no page and allocate no anonymous frame or page
// table. RLIMIT_CORE: under a page nothing is written (an old core stays),
// two pages cut the file after its first data page. At the end every frame
// and kernel object is back.
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { PAGE, State, freeCount, stateCount } from "./mm";
import { archive, bootWithInitramfs } from "./initramfs";
import {
  ARGUMENTS, AT_FDCWD, BUFFER, BUFFER_BYTES, Fault, MAP_PRIVATE, MAP_SHARED, O_RDONLY, PROT_READ, PROT_WRITE, SYS,
  type TestProcess, exit, loadOwn, path, spawn, storeUser, sys,
} from "./process";

const S_IFREG = 0o100000;
const MAP_ANONYMOUS = 0x20;
const SEEK_END = 2;
const SEEK_DATA = 3;
const MADV_DONTDUMP = 16;
const SIGSEGV = 11;
const SEGV_MAPERR = 1;
const PT_LOAD = 1;
const PT_NOTE = 4;
const PF_R = 4;
const PF_W = 2;
const NT_PRSTATUS = 1;
const NT_PRFPREG = 2;
const NT_PRPSINFO = 3;
const NT_SIGINFO = 0x53494749;
const NT_FILE = 0x46494c45;
const TEST_PID = 1000; // harness.ts: newTestProcess
const ARGUMENT_PAGES = 16; // process.ts: the test process's argument region
// Offsets in the kernel's records (process.ts, address_space.ts).
const PROCESS_FS_BASE = 40;
const PROCESS_SYSCALL_NUMBER = 184;
const PROCESS_USER_CYCLES = 280;
const PROCESS_CHILD_USER_TIME = 304;
const PROCESS_CHILD_SYSTEM_TIME = 312;
const SPACE_RESIDENT_PAGES = 4;
const SPACE_ZERO_PAGE_MAPS = 20;
/** TrapFrame offsets of user_regs_struct's first 21 slots, in its order (null: orig_rax). */
const USER_REGS = [0, 8, 16, 24, 64, 104, 32, 40, 48, 56, 112, 96, 88, 80, 72, null, 136, 144, 152, 160, 168];
const FRAME_SLOTS = 22;
const VECTOR_SLOT = 15; // TrapFrame.vector
const VECTOR_SYSCALL = 512n;
const SYSCALL_NUMBER = 39;
const FS_BASE = 0x7000_0000_1234n;

const pageOf = (fill: (i: number) => number) => Uint8Array.from({ length: PAGE }, (_, i) => fill(i) & 0xff);
const elfStart = (seed: number, pages: number) => {
  const bytes = Uint8Array.from({ length: pages * PAGE }, (_, i) => (i * seed + 1) & 0xff);
  bytes.set([0x7f, 0x45, 0x4c, 0x46]);
  return bytes;
};
const PROG = elfStart(3, 3);
const LIB = elfStart(5, 2);
const DATA = Uint8Array.from({ length: 2 * PAGE }, (_, i) => 0x20 + (i % 90));
const FILES = [
  { name: "prog", mode: S_IFREG | 0o755, data: PROG },
  { name: "lib", mode: S_IFREG | 0o644, data: LIB },
  { name: "data", mode: S_IFREG | 0o644, data: DATA },
];

/** One region of the test process and what its core should show: per page, its bytes, or null for a hole. */
interface Expected {
  start: bigint;
  pages: number;
  flags: number;
  dumped: (Uint8Array | null)[];
  /** Its NT_FILE name, if it maps an object. */
  file?: string;
  pgoff?: number;
}

function mmap(p: TestProcess, pages: number, protection: number, flags: number, fd = -1, offset = 0): bigint {
  const start = sys(p, SYS.mmap, 0, pages * PAGE, protection, flags, fd, offset);
  expect(start, "mmap").toBeGreaterThan(0);
  return BigInt(start);
}

function store(p: TestProcess, va: bigint, bytes: Uint8Array): void {
  expect(storeUser(p, va, bytes)).toBe(Fault.Continue);
}

function open(p: TestProcess, name: string): number {
  const fd = sys(p, SYS.openat, AT_FDCWD, path(p, name), O_RDONLY, 0);
  expect(fd, `open ${name}`).toBeGreaterThanOrEqual(0);
  return fd;
}

/** The regions: one of each kind, touched as the comments say. */
function makeRegions(p: TestProcess): Expected[] {
  const holes = (n: number) => Array<Uint8Array | null>(n).fill(null);
  const regions: Expected[] = [];
  const written = mmap(p, 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const a0 = pageOf((i) => i + 0xa0);
  const a3 = pageOf((i) => i * 3);
  store(p, written, a0);
  store(p, written + 3n * BigInt(PAGE), a3);
  loadOwn(p, written + BigInt(PAGE), PAGE); // maps the zero page there: still a hole
  regions.push({ start: written, pages: 8, flags: PF_R | PF_W, dumped: [a0, null, null, a3, null, null, null, null] });
  const onlyRead = mmap(p, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  loadOwn(p, onlyRead, 2 * PAGE); // the zero page, which is nobody's
  regions.push({ start: onlyRead, pages: 4, flags: PF_R | PF_W, dumped: [] });
  regions.push({ start: mmap(p, 4, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS), pages: 4, flags: PF_R, dumped: [] });
  const leftOut = mmap(p, 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  store(p, leftOut, a0);
  expect(sys(p, SYS.madvise, leftOut, 2 * PAGE, MADV_DONTDUMP)).toBe(0);
  regions.push({ start: leftOut, pages: 2, flags: PF_R | PF_W, dumped: [] });
  const shared = mmap(p, 2, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
  const s0 = pageOf((i) => i ^ 0x55);
  store(p, shared, s0);
  regions.push({ start: shared, pages: 2, flags: PF_R | PF_W, dumped: [s0, null], file: "/dev/zero (deleted)", pgoff: 0 });
  const prog = open(p, "/prog");
  const lib = open(p, "/lib");
  const data = open(p, "/data");
  regions.push({ start: mmap(p, 3, PROT_READ, MAP_PRIVATE, prog), pages: 3, flags: PF_R, dumped: [PROG.subarray(0, PAGE)], file: "/prog", pgoff: 0 });
  regions.push({ start: mmap(p, 2, PROT_READ, MAP_PRIVATE, lib), pages: 2, flags: PF_R, dumped: [LIB.subarray(0, PAGE)], file: "/lib", pgoff: 0 });
  regions.push({ start: mmap(p, 2, PROT_READ, MAP_PRIVATE, data), pages: 2, flags: PF_R, dumped: [], file: "/data", pgoff: 0 });
  const copied = mmap(p, 2, PROT_READ | PROT_WRITE, MAP_PRIVATE, data);
  const c1 = pageOf((i) => 0xff - i);
  store(p, copied + BigInt(PAGE), c1);
  // The first page was never touched: the core reads it from the file.
  regions.push({ start: copied, pages: 2, flags: PF_R | PF_W, dumped: [DATA.subarray(0, PAGE), c1], file: "/data", pgoff: 0 });
  const sharedFile = mmap(p, 2, PROT_READ, MAP_SHARED, data);
  loadOwn(p, sharedFile, PAGE);
  regions.push({ start: sharedFile, pages: 2, flags: PF_R, dumped: [], file: "/data", pgoff: 0 });
  regions.push({ start: mmap(p, 1, PROT_READ, MAP_PRIVATE, data, PAGE), pages: 1, flags: PF_R, dumped: [], file: "/data", pgoff: 1 });
  for (const fd of [prog, lib, data]) expect(sys(p, SYS.close, fd)).toBe(0);
  // The argument region the test's calls write into: whole (its pages are known just before the dump).
  regions.push({ start: BigInt(ARGUMENTS), pages: ARGUMENT_PAGES, flags: PF_R | PF_W, dumped: [] });
  return regions.sort((x, y) => (x.start < y.start ? -1 : 1));
}

/** The argument region's pages as the core should show them now: their bytes, or holes where none was made. */
function argumentPages(p: TestProcess): (Uint8Array | null)[] {
  return Array.from({ length: ARGUMENT_PAGES }, (_, i) => {
    const va = BigInt(ARGUMENTS + i * PAGE);
    return resident(p, va) ? loadOwn(p, va, PAGE).slice() : null;
  });
}

function resident(p: TestProcess, va: bigint): boolean {
  const root = p.k.view().getUint32(p.space, true);
  return (BigInt.asUintN(64, p.k.exports.leafEntry(root, va)) & 1n) !== 0n;
}

/** mincore's answer for `r` (1 per page in memory, its object's included). */
function inMemory(p: TestProcess, r: Expected): number[] {
  expect(sys(p, SYS.mincore, r.start, r.pages * PAGE, BUFFER)).toBe(0);
  return Array.from(loadOwn(p, BUFFER, r.pages));
}

/** The offsets among `offsets` where /core has a hole (SEEK_DATA moves past them). */
function coreHoles(p: TestProcess, offsets: number[]): number[] {
  const fd = open(p, "/core");
  const holes = offsets.filter((at) => sys(p, SYS.lseek, fd, at, SEEK_DATA) !== at);
  expect(sys(p, SYS.close, fd)).toBe(0);
  return holes;
}

/** The bytes of /core, read through the test process. */
function readCore(p: TestProcess): Uint8Array {
  const fd = open(p, "/core");
  const size = sys(p, SYS.lseek, fd, 0, SEEK_END);
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; ) {
    const n = sys(p, SYS.pread64, fd, BUFFER, Math.min(BUFFER_BYTES, size - at), at);
    expect(n).toBeGreaterThan(0);
    bytes.set(loadOwn(p, BUFFER, n), at);
    at += n;
  }
  expect(sys(p, SYS.close, fd)).toBe(0);
  return bytes;
}

interface Note {
  type: number;
  name: string;
  desc: Uint8Array;
}

function parse(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phnum = view.getUint16(56, true);
  const phdrs = Array.from({ length: phnum }, (_, i) => {
    const at = Number(view.getBigUint64(32, true)) + i * 56;
    return {
      type: view.getUint32(at, true), flags: view.getUint32(at + 4, true), offset: Number(view.getBigUint64(at + 8, true)),
      vaddr: view.getBigUint64(at + 16, true), filesz: Number(view.getBigUint64(at + 32, true)),
      memsz: Number(view.getBigUint64(at + 40, true)), align: Number(view.getBigUint64(at + 48, true)),
    };
  });
  const notes: Note[] = [];
  const note = phdrs[0];
  for (let at = note.offset; at < note.offset + note.filesz; ) {
    const namesz = view.getUint32(at, true);
    const descsz = view.getUint32(at + 4, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 12, at + 12 + namesz - 1));
    const descAt = at + 12 + ((namesz + 3) & ~3);
    notes.push({ type: view.getUint32(at + 8, true), name, desc: bytes.subarray(descAt, descAt + descsz) });
    at = descAt + ((descsz + 3) & ~3);
  }
  return { view, phdrs, notes };
}

const u64 = (bytes: Uint8Array, at: number) => new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true);
const i32 = (bytes: Uint8Array, at: number) => new DataView(bytes.buffer, bytes.byteOffset).getInt32(at, true);

/** Puts distinct values in every slot of the frame the dump takes the registers from. */
function setRegisters(k: Kernel, p: TestProcess): bigint[] {
  const frame = k.exports.coreFrameAddress() >>> 0;
  const view = k.view();
  const slots = Array.from({ length: FRAME_SLOTS }, (_, i) => (i === VECTOR_SLOT ? VECTOR_SYSCALL : 0x1111_0000_0000n + BigInt(i)));
  slots.forEach((value, i) => view.setBigUint64(frame + i * 8, value, true));
  view.setUint32(p.address + PROCESS_SYSCALL_NUMBER, SYSCALL_NUMBER, true);
  view.setBigUint64(p.address + PROCESS_FS_BASE, FS_BASE, true);
  // CPU time: 1.5 s of user time in TSC ticks (the unit harness's TSC runs at about 1 GHz), the children's in nanoseconds.
  view.setBigUint64(p.address + PROCESS_USER_CYCLES, 1_500_000_000n, true);
  view.setBigUint64(p.address + PROCESS_CHILD_USER_TIME, 2_250_000_000n, true);
  view.setBigUint64(p.address + PROCESS_CHILD_SYSTEM_TIME, 3_000_001_000n, true);
  return slots;
}

describe("core dumps", () => {
  it("write what Linux's ELF core writer writes, making no page, and stop at RLIMIT_CORE", () => {
    const k = loadKernel({ memoryPages: 512 });
    expect(bootWithInitramfs(k, archive(FILES).bytes)).toBe(0);
    expect(k.exports.zeroPage()).not.toBe(0); // allocated once, for good: not a leak
    const base = { free: freeCount(k), objects: k.exports.kernelObjectsInUse() };
    const p = spawn(k);
    const regions = makeRegions(p);
    const slots = setRegisters(k, p);

    const view = k.view();
    // (Not the argument region, which mincore's answers go to.)
    const anonymous = regions.filter((r) => r.start !== BigInt(ARGUMENTS) && (r.file === undefined || r.file === "/dev/zero (deleted)"));
    const inMemoryBefore = anonymous.map((r) => inMemory(p, r));
    const argumentRegion = regions.find((r) => r.start === BigInt(ARGUMENTS));
    if (argumentRegion === undefined) throw new Error("no argument region");
    argumentRegion.dumped = argumentPages(p);
    const before = {
      anonymous: stateCount(k, State.Anonymous), tables: stateCount(k, State.PageTable),
      resident: view.getUint32(p.space + SPACE_RESIDENT_PAGES, true), zeroMaps: view.getUint32(p.space + SPACE_ZERO_PAGE_MAPS, true),
    };
    expect(k.exports.dumpTestCore(p.address, SIGSEGV, SEGV_MAPERR, 0xffff_ffff_ffff_ffffn), "dumped").toBe(1);
    expect(stateCount(k, State.Anonymous), "anonymous frames made by the dump").toBe(before.anonymous);
    expect(stateCount(k, State.PageTable), "page tables made by the dump").toBe(before.tables);
    expect(view.getUint32(p.space + SPACE_RESIDENT_PAGES, true), "pages mapped by the dump").toBe(before.resident);
    expect(view.getUint32(p.space + SPACE_ZERO_PAGE_MAPS, true), "zero pages mapped by the dump").toBe(before.zeroMaps);
    expect(anonymous.map((r) => inMemory(p, r)), "anonymous pages made by the dump").toEqual(inMemoryBefore);

    const core = readCore(p);
    const { view: cv, phdrs, notes } = parse(core);
    expect(Array.from(core.subarray(0, 8))).toEqual([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    expect([cv.getUint16(16, true), cv.getUint16(18, true), cv.getUint16(52, true), cv.getUint16(54, true)]).toEqual([4, 62, 64, 56]);
    expect(phdrs.length).toBe(regions.length + 1);
    expect(phdrs[0]).toMatchObject({ type: PT_NOTE, offset: 64 + 56 * phdrs.length, memsz: 0, align: 4 });
    let offset = Math.ceil((phdrs[0].offset + phdrs[0].filesz) / PAGE) * PAGE;
    regions.forEach((r, i) => {
      const what = `region ${i} at 0x${r.start.toString(16)}`;
      const h = phdrs[i + 1];
      expect(h, what).toMatchObject({
        type: PT_LOAD, flags: r.flags, vaddr: r.start, memsz: r.pages * PAGE, filesz: r.dumped.length * PAGE, offset, align: PAGE,
      });
      r.dumped.forEach((bytes, page) => {
        const at = h.offset + page * PAGE;
        const inFile = core.subarray(at, at + PAGE);
        if (bytes === null) expect(inFile.every((b) => b === 0), `${what}, page ${page}: a hole`).toBe(true);
        else expect(Buffer.from(inFile).equals(Buffer.from(bytes)), `${what}, page ${page}: its bytes`).toBe(true);
      });
      offset += h.filesz;
    });
    // The file ends with the last dumped page, a hole or not; the holes are holes in it, not written zeros
    expect(core.length).toBe(offset);
    // (Past the last one, which ends in the byte that gives the file its size.)
    const holes = regions.flatMap((r, i) => r.dumped.flatMap((bytes, page) => (bytes === null ? [phdrs[i + 1].offset + page * PAGE] : [])))
      .filter((at) => at + PAGE < core.length);
    expect(holes.length).toBeGreaterThan(0);
    expect(coreHoles(p, holes)).toEqual(holes);

    expect(notes.map((n) => [n.name, n.type])).toEqual(
      [["CORE", NT_PRSTATUS], ["CORE", NT_PRPSINFO], ["CORE", NT_SIGINFO], ["CORE", NT_FILE], ["CORE", NT_PRFPREG]]);
    const [prstatus, prpsinfo, siginfo, files, fpregs] = notes.map((n) => n.desc);
    expect(prstatus.length).toBe(336);
    expect([i32(prstatus, 0), new DataView(prstatus.buffer, prstatus.byteOffset).getInt16(12, true), i32(prstatus, 32)])
      .toEqual([SIGSEGV, SIGSEGV, TEST_PID]);
    const [utimeSeconds, utimeMicroseconds] = [u64(prstatus, 48), Number(u64(prstatus, 56))];
    expect(utimeSeconds, "pr_utime").toBe(1n);
    expect(Math.abs(utimeMicroseconds - 500_000), "pr_utime").toBeLessThan(1000);
    expect([u64(prstatus, 64), u64(prstatus, 72)], "pr_stime").toEqual([0n, 0n]);
    expect([u64(prstatus, 80), u64(prstatus, 88), u64(prstatus, 96), u64(prstatus, 104)], "pr_cutime, pr_cstime")
      .toEqual([2n, 250_000n, 3n, 1n]);
    const regs = Array.from({ length: 27 }, (_, i) => u64(prstatus, 112 + i * 8));
    const expected = USER_REGS.map((slot) => (slot === null ? BigInt(SYSCALL_NUMBER) : slots[slot / 8]));
    expect(regs).toEqual([...expected, FS_BASE, 0n, 0n, 0n, 0n, 0n]);
    expect(i32(prstatus, 328), "pr_fpvalid").toBe(1);
    expect(prpsinfo.length).toBe(136);
    expect([prpsinfo[1], i32(prpsinfo, 24)]).toEqual([0x52, TEST_PID]);
    expect(siginfo.length).toBe(128);
    expect([i32(siginfo, 0), i32(siginfo, 8), i32(siginfo, 16)]).toEqual([SIGSEGV, SEGV_MAPERR, TEST_PID]);
    expect(Buffer.from(fpregs).equals(Buffer.from(k.cpu.fpu)), "NT_PRFPREG: what fxsave stored").toBe(true);
    const listed = regions.filter((r) => r.file !== undefined);
    expect([u64(files, 0), u64(files, 8)]).toEqual([BigInt(listed.length), BigInt(PAGE)]);
    listed.forEach((r, i) => {
      expect([u64(files, 16 + i * 24), u64(files, 24 + i * 24), u64(files, 32 + i * 24)])
        .toEqual([r.start, r.start + BigInt(r.pages * PAGE), BigInt(r.pgoff ?? 0)]);
    });
    const names = new TextDecoder().decode(files.subarray(16 + listed.length * 24)).split("\0");
    expect(names).toEqual([...listed.map((r) => r.file), ""]);

    // Under a page of RLIMIT_CORE nothing is dumped, and the old core stays.
    expect(k.exports.dumpTestCore(p.address, SIGSEGV, SEGV_MAPERR, BigInt(PAGE - 1))).toBe(0);
    expect(readCore(p).length).toBe(core.length);
    // Two pages: the headers, the notes and the first page of data fit, and the next page does not.
    expect(k.exports.dumpTestCore(p.address, SIGSEGV, SEGV_MAPERR, BigInt(2 * PAGE))).toBe(1);
    const cut = readCore(p);
    const dataStart = phdrs[1].offset;
    expect(regions[0].dumped[0], "the first region's first page has data").not.toBeNull();
    expect(cut.length).toBe(dataStart + PAGE);
    expect(Buffer.from(cut.subarray(0, dataStart)).equals(Buffer.from(core.subarray(0, dataStart))), "the same headers").toBe(true);

    expect(sys(p, SYS.unlinkat, AT_FDCWD, path(p, "/core"), 0)).toBe(0);
    for (const r of regions) if (r.start !== BigInt(ARGUMENTS)) expect(sys(p, SYS.munmap, r.start, r.pages * PAGE)).toBe(0);
    exit(p);
    k.exports.reclaimCachePages(); // the files' pages the mappings read, clean and nobody's now
    expect(k.exports.kernelObjectsInUse(), "kernel objects").toBe(base.objects);
    expect(freeCount(k), "free frames").toBe(base.free);
  });
});
