// kernel/proc/elf.ts: checkElf, the gate every exec passes, for a program
// and for the interpreter it names. Images are built here byte by byte
// (ELF64 header, program header table, segment bytes, interpreter path)
// and placed flush against the end of the simulated RAM, so that a read
// past the image is a wasm trap rather than a silent success. Every
// ElfCheck value is reached on purpose, and random mutations of valid
// images (fixed-address and relocatable, with and without an interpreter)
// are judged by a validator written here from the ELF specification, the
// checks elf.ts documents and what Linux's load_elf_binary does.
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";

/** ElfCheck in elf.ts. */
const enum Check {
  Ok = 0,
  TooSmall,
  BadMagic,
  NotElf64,
  NotLittleEndian,
  BadVersion,
  NotExecutable,
  WrongMachine,
  BadProgramHeaders,
  TooManySegments,
  NoSegments,
  SegmentOutsideFile,
  SegmentTooLarge,
  MisalignedSegment,
  OverlappingSegments,
  EntryOutsideCode,
  BadInterpreterPath,
  InterpreterPathOutsideFile,
}
const CHECK_COUNT = 18;
const CHECK_NAMES = [
  "Ok", "TooSmall", "BadMagic", "NotElf64", "NotLittleEndian", "BadVersion", "NotExecutable", "WrongMachine",
  "BadProgramHeaders", "TooManySegments", "NoSegments", "SegmentOutsideFile", "SegmentTooLarge", "MisalignedSegment",
  "OverlappingSegments", "EntryOutsideCode", "BadInterpreterPath", "InterpreterPathOutsideFile",
];

const PT_NULL = 0;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_NOTE = 4;
const PT_PHDR = 6;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const ET_REL = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const ET_CORE = 4;
const EM_386 = 3;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

const HEADER_SIZE = 64;
const PHDR_SIZE = 56;
const PAGE = 0x1000n;
const USER_LIMIT = 0x00007f0000000000n;
const MIN_ADDRESS = 0x10000n;
const U64_MAX = 2n ** 64n - 1n;
const PATH_MAX = 4096;
const IMAGE_SEGMENTS_AT = 64; // in ElfImage

// ---- building images ----------------------------------------------------------

interface Phdr {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align?: bigint;
}

interface Image {
  /** e_ident[4..6] and the rest of the header; defaults make a valid x86-64 executable. */
  elfClass?: number;
  data?: number;
  identVersion?: number;
  type?: number;
  machine?: number;
  version?: number;
  entry: bigint;
  phoff?: bigint;
  phentsize?: number;
  /** e_phnum; the table's length unless a test lies. */
  phnum?: number;
  phdrs: Phdr[];
  /** Bytes placed at file offsets after everything else (an interpreter path). */
  blobs?: { offset: number; bytes: Uint8Array }[];
  /** The file's length; at least the header, the table, every segment's bytes and blob unless given. */
  size?: number;
}

const load = (offset: bigint, vaddr: bigint, filesz: bigint, memsz: bigint, flags = PF_R): Phdr => ({
  type: PT_LOAD, flags, offset, vaddr, filesz, memsz, align: PAGE,
});

function build(image: Image): Uint8Array {
  const phoff = image.phoff ?? BigInt(HEADER_SIZE);
  let size = HEADER_SIZE;
  if (phoff < 1n << 32n) size = Math.max(size, Number(phoff) + image.phdrs.length * PHDR_SIZE);
  for (const p of image.phdrs) {
    if (p.type === PT_LOAD && p.offset + p.filesz < 1n << 24n) size = Math.max(size, Number(p.offset + p.filesz));
  }
  for (const b of image.blobs ?? []) size = Math.max(size, b.offset + b.bytes.length);
  const length = image.size ?? size;
  const bytes = new Uint8Array(Math.max(length, size));
  // Segment bytes first (something recognisable), then the blobs and the headers over them.
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff;
  for (const b of image.blobs ?? []) bytes.set(b.bytes, b.offset);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, image.elfClass ?? 2, image.data ?? 1, image.identVersion ?? 1, 0]);
  bytes.fill(0, 8, 16);
  view.setUint16(16, image.type ?? ET_EXEC, true);
  view.setUint16(18, image.machine ?? EM_X86_64, true);
  view.setUint32(20, image.version ?? 1, true);
  view.setBigUint64(24, image.entry, true);
  view.setBigUint64(32, phoff, true);
  view.setBigUint64(40, 0n, true); // e_shoff: no sections
  view.setUint32(48, 0, true);
  view.setUint16(52, HEADER_SIZE, true);
  view.setUint16(54, image.phentsize ?? PHDR_SIZE, true);
  view.setUint16(56, image.phnum ?? image.phdrs.length, true);
  view.setUint16(58, 64, true);
  view.setUint16(60, 0, true);
  view.setUint16(62, 0, true);
  if (phoff < 1n << 32n) {
    image.phdrs.forEach((p, i) => {
      const at = Number(phoff) + i * PHDR_SIZE;
      if (at + PHDR_SIZE > bytes.length) return;
      view.setUint32(at, p.type, true);
      view.setUint32(at + 4, p.flags, true);
      view.setBigUint64(at + 8, p.offset, true);
      view.setBigUint64(at + 16, p.vaddr, true);
      view.setBigUint64(at + 24, p.vaddr, true); // p_paddr
      view.setBigUint64(at + 32, p.filesz, true);
      view.setBigUint64(at + 40, p.memsz, true);
      view.setBigUint64(at + 48, p.align ?? PAGE, true);
    });
  }
  return bytes.subarray(0, length);
}

/**
 * A small static executable the way ld lays one out: text (headers
 * included) at 0x400000, data plus .bss on the next pages, a PT_NOTE and
 * PT_GNU_STACK that are not loaded.
 */
const TEXT = load(0n, 0x400000n, 0x1200n, 0x1200n, PF_R | PF_X);
const DATA = load(0x1200n, 0x402200n, 0x100n, 0x3000n, PF_R | PF_W);
const minimal = (overrides: Partial<Image> = {}): Image => ({
  entry: 0x400100n,
  phdrs: [
    TEXT,
    DATA,
    { type: PT_NOTE, flags: PF_R, offset: 0x200n, vaddr: 0x400200n, filesz: 0x20n, memsz: 0x20n, align: 4n },
    { type: PT_GNU_STACK, flags: PF_R | PF_W, offset: 0n, vaddr: 0n, filesz: 0n, memsz: 0n, align: 16n },
  ],
  size: 0x1300,
  ...overrides,
});

// ---- an independent validator -----------------------------------------------------

interface Verdict {
  check: Check;
  type?: number;
  executableStack?: number;
  entry?: bigint;
  programHeaders?: bigint;
  programHeaderCount?: number;
  interpreter?: { offset: bigint; length: number } | null;
  alignment?: bigint;
  low?: bigint;
  high?: bigint;
  segments?: { address: bigint; memorySize: bigint; offset: bigint; fileSize: bigint; flags: number }[];
}

const pageDown = (x: bigint) => x & ~(PAGE - 1n);
const pageUp = (x: bigint) => pageDown(x + PAGE - 1n);
const isPowerOfTwo = (x: bigint) => x !== 0n && (x & (x - 1n)) === 0n;

/**
 * What checkElf should answer, from the ELF64 layout and the checks its
 * header comments promise, in the order they are listed: the file header
 * (ET_EXEC or ET_DYN), then a program's first PT_INTERP (its length, then
 * whether the file holds it: Linux reads it before anything else), then
 * each program header in table order (PT_LOAD checked for count, file
 * range, size and address range, where only a fixed-address image has a
 * lowest address, then alignment; PT_GNU_STACK noted, the last one
 * winning), then the loaded segments as a whole (overlap, then entry),
 * and last the interpreter path's terminating NUL. An interpreter's own
 * PT_INTERP and PT_GNU_STACK count for nothing.
 */
function validate(bytes: Uint8Array, asInterpreter = false): Verdict {
  const size = BigInt(bytes.length);
  if (bytes.length < HEADER_SIZE) return { check: Check.TooSmall };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return { check: Check.BadMagic };
  if (bytes[4] !== 2) return { check: Check.NotElf64 };
  if (bytes[5] !== 1) return { check: Check.NotLittleEndian };
  if (bytes[6] !== 1 || view.getUint32(20, true) !== 1) return { check: Check.BadVersion };
  const type = view.getUint16(16, true);
  if (type !== ET_EXEC && type !== ET_DYN) return { check: Check.NotExecutable };
  if (view.getUint16(18, true) !== EM_X86_64) return { check: Check.WrongMachine };
  const entry = view.getBigUint64(24, true);
  const phoff = view.getBigUint64(32, true);
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phentsize !== PHDR_SIZE || phnum === 0 || phnum * PHDR_SIZE > 4096) return { check: Check.BadProgramHeaders };
  if (phoff + BigInt(phnum * PHDR_SIZE) > size) return { check: Check.BadProgramHeaders };
  const at = (i: number) => Number(phoff) + i * PHDR_SIZE;

  let interpreter: Verdict["interpreter"] = null;
  for (let i = 0; i < phnum && !asInterpreter; i++) {
    if (view.getUint32(at(i), true) !== PT_INTERP) continue;
    const offset = view.getBigUint64(at(i) + 8, true);
    const length = view.getBigUint64(at(i) + 32, true);
    if (length < 2n || length > BigInt(PATH_MAX)) return { check: Check.BadInterpreterPath };
    if (offset + length > size) return { check: Check.InterpreterPathOutsideFile };
    interpreter = { offset, length: Number(length) };
    break;
  }
  const segments: NonNullable<Verdict["segments"]> = [];
  let programHeaders = 0n;
  let executableStack = 0;
  let alignment = 0n;
  for (let i = 0; i < phnum; i++) {
    const kind = view.getUint32(at(i), true);
    const flags = view.getUint32(at(i) + 4, true);
    if (kind === PT_GNU_STACK && !asInterpreter) executableStack = flags & PF_X ? 1 : 0;
    if (kind !== PT_LOAD) continue;
    if (segments.length === 16) return { check: Check.TooManySegments };
    const offset = view.getBigUint64(at(i) + 8, true);
    const address = view.getBigUint64(at(i) + 16, true);
    const fileSize = view.getBigUint64(at(i) + 32, true);
    const memorySize = view.getBigUint64(at(i) + 40, true);
    const align = view.getBigUint64(at(i) + 48, true);
    if (offset + fileSize > size) return { check: Check.SegmentOutsideFile };
    if (fileSize > memorySize || (type === ET_EXEC && address < MIN_ADDRESS) || address + memorySize > USER_LIMIT) {
      return { check: Check.SegmentTooLarge };
    }
    if (address % PAGE !== offset % PAGE) return { check: Check.MisalignedSegment };
    segments.push({ address, memorySize, offset, fileSize, flags });
    if (phoff >= offset && phoff < offset + fileSize) programHeaders = address + phoff - offset;
    if (isPowerOfTwo(align) && pageUp(align) > alignment) alignment = pageUp(align);
  }
  if (segments.length === 0) return { check: Check.NoSegments };
  for (let i = 0; i < segments.length; i++) {
    for (let j = i + 1; j < segments.length; j++) {
      const a = segments[i];
      const b = segments[j];
      const aPages = [pageDown(a.address), pageUp(a.address + a.memorySize)];
      const bPages = [pageDown(b.address), pageUp(b.address + b.memorySize)];
      if (aPages[0] < bPages[1] && bPages[0] < aPages[1]) return { check: Check.OverlappingSegments };
    }
  }
  const inCode = segments.some((s) => (s.flags & PF_X) !== 0 && entry >= s.address && entry < s.address + s.memorySize);
  if (!inCode) return { check: Check.EntryOutsideCode };
  if (interpreter && bytes[Number(interpreter.offset) + interpreter.length - 1] !== 0) return { check: Check.BadInterpreterPath };
  return {
    check: Check.Ok, type, executableStack, entry, programHeaders, programHeaderCount: phnum, interpreter, alignment,
    low: segments.reduce((low, s) => (pageDown(s.address) < low ? pageDown(s.address) : low), U64_MAX),
    high: segments.reduce((high, s) => (s.address + s.memorySize > high ? s.address + s.memorySize : high), 0n),
    segments,
  };
}

// ---- running checkElf -----------------------------------------------------------

let k: Kernel;
beforeEach(() => {
  k = loadKernel();
});

/** Places `bytes` so that its last byte is the last byte of memory. */
function placeFlush(bytes: Uint8Array): number {
  const at = k.memory.buffer.byteLength - bytes.length;
  k.write(at, bytes);
  return at;
}

function check(bytes: Uint8Array, asInterpreter = false): Check {
  return k.exports.checkElf(placeFlush(bytes), bytes.length, asInterpreter ? 1 : 0) >>> 0;
}

/** The ElfImage record the last successful check filled (layout in elf.ts). */
function checked(): Verdict {
  const view = k.view();
  const image = k.exports.checkedElfImage() >>> 0;
  const segments = Array.from({ length: view.getUint32(image + 4, true) }, (_, i) => {
    const at = image + IMAGE_SEGMENTS_AT + i * 40;
    return {
      address: view.getBigUint64(at, true),
      memorySize: view.getBigUint64(at + 8, true),
      offset: view.getBigUint64(at + 16, true),
      fileSize: view.getBigUint64(at + 24, true),
      flags: view.getUint32(at + 32, true),
    };
  });
  const interpreterLength = view.getUint32(image + 28, true);
  return {
    check: Check.Ok,
    type: view.getUint16(image, true),
    executableStack: view.getUint16(image + 2, true),
    entry: view.getBigUint64(image + 8, true),
    programHeaders: view.getBigUint64(image + 16, true),
    programHeaderCount: view.getUint32(image + 24, true),
    interpreter: interpreterLength === 0 ? null : { offset: view.getBigUint64(image + 32, true), length: interpreterLength },
    alignment: view.getBigUint64(image + 40, true),
    low: view.getBigUint64(image + 48, true),
    high: view.getBigUint64(image + 56, true),
    segments,
  };
}

const named = (c: number) => CHECK_NAMES[c] ?? `ElfCheck ${c}`;

function expectCheck(image: Image | Uint8Array, expected: Check, asInterpreter = false): void {
  const bytes = image instanceof Uint8Array ? image : build(image);
  expect(named(validate(bytes, asInterpreter).check), "the validator agrees with the test").toBe(named(expected));
  expect(named(check(bytes, asInterpreter))).toBe(named(expected));
}

/** The minimal image with one program header replaced. */
const withPhdr = (index: number, phdr: Partial<Phdr>, overrides: Partial<Image> = {}): Image => {
  const base = minimal(overrides);
  return { ...base, phdrs: base.phdrs.map((p, i) => (i === index ? { ...p, ...phdr } : p)) };
};

const MUSL_LOADER = "/lib/ld-musl-x86_64.so.1";
const INTERPRETER_AT = 0x1300; // after minimal()'s segments
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/**
 * The minimal image (or `image`) naming `path` as its program
 * interpreter: PT_INTERP first, as ld puts it, and the path's bytes (its
 * NUL included) after the segments.
 */
const withInterpreter = (path: string, phdr: Partial<Phdr> = {}, image: Image = minimal()): Image => {
  const bytes = ascii(`${path}\0`);
  const interp: Phdr = {
    type: PT_INTERP, flags: PF_R, offset: BigInt(INTERPRETER_AT), vaddr: 0n, filesz: BigInt(bytes.length),
    memsz: BigInt(bytes.length), align: 1n, ...phdr,
  };
  return { ...image, size: undefined, blobs: [{ offset: INTERPRETER_AT, bytes }], phdrs: [interp, ...image.phdrs] };
};

/** A position-independent program as ld lays one out: minimal()'s layout, linked at address 0. */
const pie = (overrides: Partial<Image> = {}): Image => ({
  type: ET_DYN,
  entry: 0x100n,
  phdrs: [
    load(0n, 0n, 0x1200n, 0x1200n, PF_R | PF_X),
    load(0x1200n, 0x2200n, 0x100n, 0x3000n, PF_R | PF_W),
    { type: PT_GNU_STACK, flags: PF_R | PF_W, offset: 0n, vaddr: 0n, filesz: 0n, memsz: 0n, align: 16n },
  ],
  size: 0x1300,
  ...overrides,
});

const gnuStack = (flags: number): Phdr => ({ type: PT_GNU_STACK, flags, offset: 0n, vaddr: 0n, filesz: 0n, memsz: 0n, align: 16n });

describe("checkElf on a valid static executable", () => {
  it("accepts it and records entry, program headers and the loadable segments", () => {
    const bytes = build(minimal());
    expect(check(bytes)).toBe(Check.Ok);
    const got = checked();
    expect(got).toEqual(validate(bytes));
    expect(got.entry).toBe(0x400100n);
    expect(got.programHeaders, "the table lies in the text segment, at 0x400000 + e_phoff").toBe(0x400040n);
    expect(got.programHeaderCount).toBe(4);
    expect(got.segments).toEqual([
      { address: 0x400000n, memorySize: 0x1200n, offset: 0n, fileSize: 0x1200n, flags: PF_R | PF_X },
      { address: 0x402200n, memorySize: 0x3000n, offset: 0x1200n, fileSize: 0x100n, flags: PF_R | PF_W },
    ]);
  });

  it("reports no loaded program header table when no segment holds it", () => {
    const image: Image = {
      entry: 0x401010n,
      phdrs: [load(0x1000n, 0x401000n, 0x100n, 0x100n, PF_R | PF_X)],
      size: 0x1100,
    };
    expect(check(build(image))).toBe(Check.Ok);
    expect(checked().programHeaders).toBe(0n);
    expect(checked().segments).toHaveLength(1);
  });

  it("maps the table from the segment holding its first byte, as Linux does, even when e_phnum overstates it", () => {
    // A 4-entry table announced as 7 or 17: the extra entries are whatever
    // bytes follow (PT_NULL here), and AT_PHDR must still be the table's address.
    for (const phnum of [7, 17]) {
      expectCheck(minimal({ phnum }), Check.Ok);
      expect(checked().programHeaders).toBe(0x400040n);
      expect(checked().programHeaderCount).toBe(phnum);
    }
    // The text segment's file bytes hold the start of the table but not its end.
    const phoff = 0x1000n - 2n * BigInt(PHDR_SIZE);
    const image: Image = { entry: 0x400000n, phoff, phdrs: [load(0n, 0x400000n, 0x1000n - 56n, 0x1000n, PF_R | PF_X)], size: 0x1000 };
    expectCheck(image, Check.Ok);
    expect(checked().programHeaders).toBe(0x400000n + phoff);
  });

  it("accepts a table that ends exactly at the end of the file, and a segment ending there", () => {
    const phoff = 0x1000n - BigInt(PHDR_SIZE);
    const image: Image = { entry: 0x400000n, phoff, phdrs: [load(0n, 0x400000n, 0x1000n, 0x1000n, PF_R | PF_X)], size: 0x1000 };
    expectCheck(image, Check.Ok);
    expect(checked().programHeaders).toBe(0x400000n + phoff);
  });

  it("accepts exactly 16 loadable segments, among other program headers", () => {
    const phdrs: Phdr[] = [];
    for (let i = 0; i < 16; i++) {
      phdrs.push(load(BigInt(i) * 0x1000n, 0x400000n + BigInt(i) * 0x2000n, 0x1000n, 0x1000n, i === 0 ? PF_R | PF_X : PF_R));
      phdrs.push({ type: PT_NOTE, flags: 0, offset: 0n, vaddr: 0n, filesz: 0n, memsz: 0n });
    }
    expectCheck({ entry: 0x400800n, phdrs }, Check.Ok);
    expect(checked().segments).toHaveLength(16);
  });

  it("accepts segments on neighbouring pages, a .bss-only segment and a segment ending at the user limit", () => {
    const image: Image = {
      entry: 0x400000n,
      phdrs: [
        load(0n, 0x400000n, 0x1000n, 0x1000n, PF_R | PF_X),
        load(0x1000n, 0x401000n, 0x800n, 0x800n, PF_R | PF_W),
        load(0x1800n, 0x402800n, 0n, 0x10000n, PF_R | PF_W),
        load(0x1800n, USER_LIMIT - 0x1000n + 0x800n, 0x100n, 0x800n, PF_R),
      ],
      size: 0x1900,
    };
    expectCheck(image, Check.Ok);
  });

  it("accepts the lowest allowed address, 0x10000", () => {
    expectCheck({ entry: 0x10000n, phdrs: [load(0n, MIN_ADDRESS, 0x100n, 0x100n, PF_R | PF_X)] }, Check.Ok);
  });

  it("skips program headers it does not load (PT_NULL, PT_NOTE, PT_PHDR, PT_DYNAMIC, PT_GNU_STACK)", () => {
    const base = minimal();
    const skipped = [PT_NULL, PT_NOTE, PT_PHDR, PT_DYNAMIC, PT_GNU_STACK].map((type) => ({
      type, flags: PF_R, offset: U64_MAX, vaddr: 0n, filesz: U64_MAX, memsz: 0n, // nonsense that must not matter
    }));
    expectCheck({ ...base, phdrs: [...skipped, ...base.phdrs] }, Check.Ok);
  });
});

describe("checkElf refuses", () => {
  it("files smaller than an ELF header (TooSmall)", () => {
    const bytes = build(minimal());
    for (const size of [0, 1, 4, 16, 63]) expectCheck(bytes.slice(0, size), Check.TooSmall);
  });

  it("anything without the \\x7fELF magic (BadMagic)", () => {
    for (let i = 0; i < 4; i++) {
      const bytes = build(minimal());
      bytes[i] ^= 0x20;
      expectCheck(bytes, Check.BadMagic);
    }
    expectCheck(new Uint8Array(64), Check.BadMagic);
    expectCheck(Uint8Array.from("#!/bin/sh\n# a script, not a program: long enough to be checked past the header size\nexit 0\n", (c) => c.charCodeAt(0)), Check.BadMagic);
  });

  it("32-bit ELF and unknown classes (NotElf64)", () => {
    for (const elfClass of [0, 1, 3, 0xff]) expectCheck(minimal({ elfClass }), Check.NotElf64);
  });

  it("big-endian and unknown encodings (NotLittleEndian)", () => {
    for (const data of [0, 2, 3]) expectCheck(minimal({ data }), Check.NotLittleEndian);
  });

  it("unknown versions in e_ident or e_version (BadVersion)", () => {
    for (const identVersion of [0, 2, 0xff]) expectCheck(minimal({ identVersion }), Check.BadVersion);
    for (const version of [0, 2, 0x100, 0xffffffff]) expectCheck(minimal({ version }), Check.BadVersion);
  });

  it("relocatable objects, core files and unknown types (NotExecutable)", () => {
    for (const type of [0, ET_REL, ET_CORE, 0xfe00, 0x0102]) expectCheck(minimal({ type }), Check.NotExecutable);
  });

  it("programs for other machines (WrongMachine)", () => {
    for (const machine of [0, EM_386, EM_AARCH64, 0x3e00]) expectCheck(minimal({ machine }), Check.WrongMachine);
  });

  it("a program header table with the wrong entry size, no or too many entries, or outside the file (BadProgramHeaders)", () => {
    for (const phentsize of [0, 32, 55, 57, 64]) expectCheck(minimal({ phentsize }), Check.BadProgramHeaders);
    expectCheck(minimal({ phnum: 0 }), Check.BadProgramHeaders);
    // As on Linux, the table may take at most one page: 73 entries, not 74
    // or 256, even when the file holds them.
    expectCheck(minimal({ phnum: 256, size: 64 + 256 * PHDR_SIZE }), Check.BadProgramHeaders);
    expectCheck(minimal({ phnum: 74 }), Check.BadProgramHeaders);
    expectCheck(minimal({ phnum: 73 }), Check.Ok);
    expectCheck(minimal({ phnum: 0xffff, size: 0x1300 }), Check.BadProgramHeaders);
    // The table starts or ends past the end of the file.
    expectCheck(minimal({ phoff: 0x1300n }), Check.BadProgramHeaders);
    expectCheck(minimal({ phoff: 0x1301n }), Check.BadProgramHeaders);
    expectCheck(minimal({ phoff: 0x1300n - 4n * BigInt(PHDR_SIZE) + 1n }), Check.BadProgramHeaders);
    expectCheck(minimal({ phnum: 5 }), Check.Ok); // a fifth, PT_NULL-looking entry still inside the file
    expectCheck(minimal({ phnum: Math.floor((0x1300 - 64) / PHDR_SIZE) + 1 }), Check.BadProgramHeaders);
    // Offsets that wrap around when added to the table's size.
    for (const phoff of [U64_MAX, U64_MAX - 55n, 2n ** 63n, 2n ** 32n + 64n]) expectCheck(minimal({ phoff }), Check.BadProgramHeaders);
  });

  it("more than 16 loadable segments (TooManySegments)", () => {
    const phdrs = Array.from({ length: 17 }, (_, i) =>
      load(BigInt(i) * 0x1000n, 0x400000n + BigInt(i) * 0x2000n, 0x1000n, 0x1000n, PF_R | PF_X));
    expectCheck({ entry: 0x400000n, phdrs }, Check.TooManySegments);
  });

  it("a file without loadable segments (NoSegments)", () => {
    expectCheck(
      { entry: 0x400000n, phdrs: [{ type: PT_NOTE, flags: PF_R, offset: 0n, vaddr: 0x400000n, filesz: 0x10n, memsz: 0x10n }] },
      Check.NoSegments,
    );
    expectCheck({ entry: 0x400000n, phdrs: [{ type: PT_NULL, flags: 0, offset: 0n, vaddr: 0n, filesz: 0n, memsz: 0n }] }, Check.NoSegments);
  });

  it("segment bytes outside the file (SegmentOutsideFile)", () => {
    expectCheck(withPhdr(1, { offset: 0x1301n, filesz: 0n, vaddr: 0x402301n }), Check.SegmentOutsideFile);
    expectCheck(withPhdr(1, { filesz: 0x101n }), Check.SegmentOutsideFile);
    expectCheck(withPhdr(0, { filesz: 0x1301n, memsz: 0x2000n }), Check.SegmentOutsideFile);
    // Sizes and offsets that wrap around 2^64.
    expectCheck(withPhdr(1, { filesz: U64_MAX, memsz: U64_MAX }), Check.SegmentOutsideFile);
    expectCheck(withPhdr(1, { offset: U64_MAX - 0xdffn }), Check.SegmentOutsideFile); // ...f200, in step with the address
    expectCheck(withPhdr(1, { filesz: U64_MAX - 0x100n, memsz: U64_MAX }), Check.SegmentOutsideFile); // offset + size wraps to 0xff
    expectCheck(withPhdr(1, { offset: 2n ** 63n + 0x200n }), Check.SegmentOutsideFile);
    // Up to the very end is fine.
    expectCheck(withPhdr(1, { offset: 0x1300n, filesz: 0n, vaddr: 0x402300n }), Check.Ok);
  });

  it("file size above memory size, addresses below 0x10000 or beyond user space, sizes that wrap (SegmentTooLarge)", () => {
    expectCheck(withPhdr(1, { memsz: 0xffn }), Check.SegmentTooLarge);
    expectCheck(withPhdr(0, { vaddr: 0n, offset: 0n }, { entry: 0x100n }), Check.SegmentTooLarge);
    expectCheck(withPhdr(0, { vaddr: 0xf000n }, { entry: 0xf100n }), Check.SegmentTooLarge);
    expectCheck(withPhdr(1, { vaddr: USER_LIMIT + 0x200n }), Check.SegmentTooLarge);
    expectCheck(withPhdr(1, { vaddr: 0xffffffff80000200n }), Check.SegmentTooLarge); // the kernel's half
    expectCheck(withPhdr(1, { vaddr: USER_LIMIT - 0x2e00n }), Check.SegmentTooLarge); // 0x3000 bytes reach past the limit
    expectCheck(withPhdr(1, { vaddr: USER_LIMIT - 0x2e00n, memsz: 0x2e00n }), Check.Ok); // ...0x2e00 end exactly there
    expectCheck(withPhdr(1, { memsz: U64_MAX }), Check.SegmentTooLarge);
    expectCheck(withPhdr(1, { memsz: U64_MAX - 0x402200n + 1n }), Check.SegmentTooLarge); // address + size == 2^64
    expectCheck(withPhdr(1, { memsz: USER_LIMIT }), Check.SegmentTooLarge);
  });

  it("segments whose address and offset disagree within a page (MisalignedSegment)", () => {
    expectCheck(withPhdr(1, { vaddr: 0x402201n }), Check.MisalignedSegment);
    expectCheck(withPhdr(1, { vaddr: 0x402000n }), Check.MisalignedSegment);
    expectCheck(withPhdr(0, { vaddr: 0x400800n }, { entry: 0x400900n }), Check.MisalignedSegment);
  });

  it("segments that share a page, or overlap outright (OverlappingSegments)", () => {
    // Data starting on the page where text ends.
    expectCheck(withPhdr(1, { vaddr: 0x401200n }), Check.OverlappingSegments);
    // .bss reaching into a later segment's page.
    const base = minimal();
    expectCheck({ ...base, phdrs: [...base.phdrs, load(0x1000n, 0x405000n, 0x100n, 0x100n)] }, Check.OverlappingSegments);
    expectCheck({ ...base, phdrs: [...base.phdrs, load(0x1000n, 0x405000n - 0x1000n, 0x100n, 0x100n)] }, Check.OverlappingSegments);
    expectCheck({ ...base, phdrs: [...base.phdrs, load(0x1000n, 0x405000n + 0x1000n, 0x100n, 0x100n)] }, Check.Ok);
    // The same segment twice; one segment inside another.
    expectCheck({ ...base, phdrs: [TEXT, TEXT] }, Check.OverlappingSegments);
    expectCheck({ ...base, phdrs: [DATA, load(0x1000n, 0x401000n, 0x10n, 0x10n, PF_R | PF_X), load(0n, 0x3ff000n, 0n, 0x10000n)] }, Check.OverlappingSegments);
  });

  it("an entry point outside every executable segment (EntryOutsideCode)", () => {
    expectCheck(minimal({ entry: 0x402200n }), Check.EntryOutsideCode); // in data
    expectCheck(minimal({ entry: 0x401200n }), Check.EntryOutsideCode); // one past the end of text
    expectCheck(minimal({ entry: 0x3fffffn }), Check.EntryOutsideCode);
    expectCheck(minimal({ entry: 0n }), Check.EntryOutsideCode);
    expectCheck(minimal({ entry: U64_MAX }), Check.EntryOutsideCode);
    expectCheck(withPhdr(0, { flags: PF_R | PF_W }), Check.EntryOutsideCode); // no executable segment at all
    expectCheck(minimal({ entry: 0x4011ffn }), Check.Ok); // the last byte of text
  });

  it("every ElfCheck value, one representative each", () => {
    const representatives: [Image | Uint8Array, Check][] = [
      [minimal(), Check.Ok],
      [build(minimal()).slice(0, 63), Check.TooSmall],
      [new Uint8Array(64), Check.BadMagic],
      [minimal({ elfClass: 1 }), Check.NotElf64],
      [minimal({ data: 2 }), Check.NotLittleEndian],
      [minimal({ version: 0 }), Check.BadVersion],
      [minimal({ type: ET_REL }), Check.NotExecutable],
      [minimal({ machine: EM_386 }), Check.WrongMachine],
      [minimal({ phentsize: 64 }), Check.BadProgramHeaders],
      [{ entry: 0x400000n, phdrs: Array.from({ length: 17 }, (_, i) => load(BigInt(i) * 0x1000n, 0x400000n + BigInt(i) * 0x2000n, 0x10n, 0x10n, PF_R | PF_X)) }, Check.TooManySegments],
      [{ entry: 0x400000n, phdrs: [{ type: PT_NOTE, flags: 0, offset: 0n, vaddr: 0n, filesz: 0n, memsz: 0n }] }, Check.NoSegments],
      [withPhdr(1, { filesz: 0x101n }), Check.SegmentOutsideFile],
      [withPhdr(1, { memsz: 0xffn }), Check.SegmentTooLarge],
      [withPhdr(1, { vaddr: 0x402201n }), Check.MisalignedSegment],
      [withPhdr(1, { vaddr: 0x401200n }), Check.OverlappingSegments],
      [minimal({ entry: 0x402200n }), Check.EntryOutsideCode],
      [withInterpreter(MUSL_LOADER, { filesz: 1n }), Check.BadInterpreterPath],
      [withInterpreter(MUSL_LOADER, { offset: 0x1400n }), Check.InterpreterPathOutsideFile],
    ];
    for (const [image, expected] of representatives) expectCheck(image, expected);
    expect(new Set(representatives.map(([, c]) => c)).size).toBe(CHECK_COUNT);
  });
});

describe("checkElf on relocatable images (ET_DYN: PIE, static PIE, loaders)", () => {
  it("accepts a PIE linked at 0 and records its addresses unbiased, with its span", () => {
    const bytes = build(pie());
    expect(check(bytes)).toBe(Check.Ok);
    const got = checked();
    expect(got).toEqual(validate(bytes));
    expect(got.type).toBe(ET_DYN);
    expect(got.entry).toBe(0x100n);
    expect(got.programHeaders, "the table lies in the first segment, at 0 + e_phoff").toBe(0x40n);
    expect([got.low, got.high]).toEqual([0n, 0x5200n]);
    expect(got.alignment).toBe(0x1000n);
  });

  it("places no lower bound on a relocatable image's addresses, but bounds its span by user space", () => {
    expectCheck(pie(), Check.Ok);
    expectCheck(minimal({ type: ET_DYN }), Check.Ok); // linked at 0x400000: a bias is added all the same
    expectCheck(pie({ phdrs: [load(0n, USER_LIMIT - 0x1000n, 0x100n, 0x1000n, PF_R | PF_X)], entry: USER_LIMIT - 0x1000n }), Check.Ok);
    expectCheck(pie({ phdrs: [load(0n, 0n, 0x100n, USER_LIMIT + 1n, PF_R | PF_X)] }), Check.SegmentTooLarge);
    expectCheck(pie({ phdrs: [load(0n, USER_LIMIT - 0x1000n, 0x100n, 0x1001n, PF_R | PF_X)] }), Check.SegmentTooLarge);
    expectCheck(pie({ phdrs: [load(0n, U64_MAX - 0xfffn, 0x100n, 0x100n, PF_R | PF_X)] }), Check.SegmentTooLarge);
    // The other checks hold as for a fixed-address image.
    expectCheck(pie({ entry: 0x2200n }), Check.EntryOutsideCode);
    expectCheck(pie({ phdrs: [load(0n, 0n, 0x1200n, 0x1200n, PF_R | PF_X), load(0x1200n, 0x1200n, 0x100n, 0x100n)] }), Check.OverlappingSegments);
    expectCheck(pie({ phdrs: [load(0x10n, 0x20n, 0x100n, 0x100n, PF_R | PF_X)] }), Check.MisalignedSegment);
  });

  it("records the largest power-of-two segment alignment, at least a page, as Linux aligns a PIE", () => {
    const aligned = (aligns: bigint[]) => pie({
      phdrs: [
        { ...load(0n, 0n, 0x1200n, 0x1200n, PF_R | PF_X), align: aligns[0] },
        { ...load(0x1200n, 0x202200n, 0x100n, 0x3000n, PF_R | PF_W), align: aligns[1] },
      ],
    });
    const alignment = (aligns: bigint[]) => {
      expectCheck(aligned(aligns), Check.Ok);
      return checked().alignment;
    };
    expect(alignment([0x1000n, 0x200000n])).toBe(0x200000n);
    expect(alignment([1n, 1n])).toBe(0x1000n);
    expect(alignment([0n, 0n])).toBe(0n);
    expect(alignment([0x3000n, 0x10n]), "not powers of two are ignored").toBe(0x1000n);
    expect(alignment([2n ** 63n, 0x1000n])).toBe(2n ** 63n);
  });
});

describe("checkElf and PT_INTERP", () => {
  it("records where a program's interpreter path is, wherever PT_INTERP appears", () => {
    const image = withInterpreter(MUSL_LOADER);
    expectCheck(image, Check.Ok);
    expect(checked().interpreter).toEqual({ offset: BigInt(INTERPRETER_AT), length: MUSL_LOADER.length + 1 });
    expect(checked()).toEqual(validate(build(image)));
    const last = { ...image, phdrs: [...image.phdrs.slice(1), image.phdrs[0]] };
    expectCheck(last, Check.Ok);
    expect(checked().interpreter?.length).toBe(MUSL_LOADER.length + 1);
    expectCheck(withInterpreter(MUSL_LOADER, {}, pie()), Check.Ok);
  });

  it("takes the first PT_INTERP, as Linux does, and ignores later ones however broken", () => {
    const image = withInterpreter("/lib/first");
    const broken: Phdr = { type: PT_INTERP, flags: PF_R, offset: U64_MAX, vaddr: 0n, filesz: 0n, memsz: 0n };
    expectCheck({ ...image, phdrs: [...image.phdrs, broken] }, Check.Ok);
    expect(checked().interpreter).toEqual({ offset: BigInt(INTERPRETER_AT), length: 11 });
  });

  it("refuses a path shorter than 2 bytes, longer than PATH_MAX, or not NUL-terminated (BadInterpreterPath)", () => {
    for (const filesz of [0n, 1n, 4097n, U64_MAX]) expectCheck(withInterpreter(MUSL_LOADER, { filesz }), Check.BadInterpreterPath);
    expectCheck(withInterpreter("/lib/x", { filesz: 6n }), Check.BadInterpreterPath); // the NUL is left out
    expectCheck(withInterpreter("/"), Check.Ok); // 2 bytes
    expectCheck(withInterpreter("a\0b"), Check.Ok); // exec takes the name up to the first NUL
    const longest = "/" + "x".repeat(PATH_MAX - 2);
    expectCheck(withInterpreter(longest), Check.Ok);
    expect(checked().interpreter?.length).toBe(PATH_MAX);
  });

  it("refuses a path whose bytes the file does not hold (InterpreterPathOutsideFile, EIO on Linux)", () => {
    const end = INTERPRETER_AT + MUSL_LOADER.length + 1;
    expectCheck(withInterpreter(MUSL_LOADER, { offset: BigInt(end) }), Check.InterpreterPathOutsideFile);
    expectCheck(withInterpreter(MUSL_LOADER, { offset: BigInt(INTERPRETER_AT + 1) }), Check.InterpreterPathOutsideFile);
    expectCheck(withInterpreter(MUSL_LOADER, { offset: U64_MAX - 5n }), Check.InterpreterPathOutsideFile);
    expectCheck(withInterpreter(MUSL_LOADER, { offset: 2n ** 63n }), Check.InterpreterPathOutsideFile);
  });

  it("checks PT_INTERP before the segments, and its NUL after them", () => {
    const badSegments = (image: Image): Image => ({ ...image, phdrs: [...image.phdrs, load(0n, 0n, U64_MAX, 0n)] });
    expectCheck(badSegments(withInterpreter(MUSL_LOADER, { filesz: 1n })), Check.BadInterpreterPath);
    expectCheck(badSegments(withInterpreter(MUSL_LOADER, { offset: 0x10000n })), Check.InterpreterPathOutsideFile);
    expectCheck(badSegments(withInterpreter(MUSL_LOADER)), Check.SegmentOutsideFile);
    expectCheck(withInterpreter("/lib/x", { filesz: 6n }, minimal({ entry: 0n })), Check.EntryOutsideCode);
  });

  it("means nothing in an interpreter, which is checked for its segments alone", () => {
    expectCheck(withInterpreter(MUSL_LOADER, { filesz: 1n }), Check.Ok, true);
    expectCheck(withInterpreter(MUSL_LOADER, { offset: U64_MAX }), Check.Ok, true);
    expect(checked().interpreter).toBeNull();
    expectCheck(withInterpreter(MUSL_LOADER, {}, pie()), Check.Ok, true);
    expect(checked().interpreter).toBeNull();
    expectCheck(pie({ entry: 0x2200n }), Check.EntryOutsideCode, true);
  });
});

describe("checkElf and PT_GNU_STACK", () => {
  const stacks = (...flags: number[]): Image => ({ ...pie(), phdrs: [...pie().phdrs.slice(0, 2), ...flags.map(gnuStack)] });
  const executableStack = (image: Image, asInterpreter = false) => {
    expectCheck(image, Check.Ok, asInterpreter);
    return checked().executableStack;
  };

  it("asks for an executable stack only with PF_X, and none without the header (Linux on x86-64)", () => {
    expect(executableStack(stacks())).toBe(0);
    expect(executableStack(stacks(PF_R | PF_W))).toBe(0);
    expect(executableStack(stacks(PF_R | PF_W | PF_X))).toBe(1);
    expect(executableStack(stacks(PF_X))).toBe(1);
  });

  it("lets the last PT_GNU_STACK decide, as Linux's loop does", () => {
    expect(executableStack(stacks(PF_R | PF_W | PF_X, PF_R | PF_W))).toBe(0);
    expect(executableStack(stacks(PF_R | PF_W, PF_R | PF_W | PF_X))).toBe(1);
  });

  it("ignores an interpreter's PT_GNU_STACK: the program's decides", () => {
    expect(executableStack(stacks(PF_R | PF_W | PF_X), true)).toBe(0);
  });
});

// ---- properties -------------------------------------------------------------------

/**
 * Random valid executables, fixed-address or relocatable: 1..16 loadable
 * segments on disjoint pages with consistent offsets and random
 * alignments, other program headers mixed in (PT_GNU_STACK with random
 * flags), perhaps an interpreter path after the segments, the entry in an
 * executable segment.
 */
const validImage: fc.Arbitrary<Image> = fc
  .record({
    segments: fc.array(
      fc.record({
        gapPages: fc.integer({ min: 0, max: 4 }),
        pageOffset: fc.integer({ min: 0, max: 0xfff }),
        fileBytes: fc.integer({ min: 0, max: 0x1800 }),
        extraBytes: fc.integer({ min: 0, max: 0x3000 }),
        flags: fc.constantFrom(PF_R, PF_R | PF_W, PF_R | PF_X, PF_R | PF_W | PF_X),
        align: fc.constantFrom(0n, 1n, 16n, 0x1000n, 0x3000n, 0x200000n),
      }),
      { minLength: 1, maxLength: 16 },
    ),
    others: fc.array(
      fc.record({
        type: fc.constantFrom(PT_NULL, PT_NOTE, PT_PHDR, PT_GNU_STACK, PT_DYNAMIC),
        flags: fc.constantFrom(PF_R, PF_R | PF_W, PF_R | PF_W | PF_X),
      }),
      { maxLength: 4 },
    ),
    relocatable: fc.boolean(),
    interpreter: fc.option(fc.stringMatching(/^\/[a-z0-9/._-]{0,40}$/), { nil: undefined }),
    basePage: fc.integer({ min: 0, max: 0x7f0000000 - 0x100 }),
    codeIndex: fc.nat(),
    entryFraction: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    mixSeed: fc.nat(),
  })
  .map(({ segments, others, relocatable, interpreter, basePage, codeIndex, entryFraction, mixSeed }) => {
    const code = codeIndex % segments.length;
    let address = BigInt(relocatable ? basePage : Math.max(basePage, 0x10)) * PAGE;
    const headers = segments.length + others.length + (interpreter === undefined ? 0 : 1);
    let fileEnd = BigInt(HEADER_SIZE + headers * PHDR_SIZE);
    const phdrs: Phdr[] = segments.map((s, i) => {
      const vaddr = address + BigInt(s.gapPages) * PAGE + BigInt(s.pageOffset);
      const offset = pageUp(fileEnd) + BigInt(s.pageOffset);
      const filesz = BigInt(s.fileBytes);
      const memsz = filesz + BigInt(s.extraBytes) + (i === code ? 1n : 0n);
      address = pageUp(vaddr + memsz);
      fileEnd = offset + filesz;
      return { ...load(offset, vaddr, filesz, memsz, i === code ? s.flags | PF_X : s.flags), align: s.align };
    });
    const c = phdrs[code];
    const entry = c.vaddr + BigInt(Math.floor(entryFraction * Number(c.memsz)));
    const all = [...phdrs];
    others.forEach(({ type, flags }, i) => {
      all.splice((mixSeed + i * 7) % (all.length + 1), 0, { type, flags, offset: 0n, vaddr: 0n, filesz: 0n, memsz: 0n });
    });
    const image: Image = { type: relocatable ? ET_DYN : ET_EXEC, entry, phdrs: all };
    if (interpreter === undefined) return image;
    const bytes = ascii(`${interpreter}\0`);
    const offset = Number(fileEnd);
    all.splice(mixSeed % (all.length + 1), 0, {
      type: PT_INTERP, flags: PF_R, offset: BigInt(offset), vaddr: 0n, filesz: BigInt(bytes.length), memsz: BigInt(bytes.length),
    });
    return { ...image, blobs: [{ offset, bytes }] };
  });

/** A mutation of an image: overwrite bytes in its headers, or cut it short. */
type Mutation =
  | { kind: "byte"; position: number; value: number }
  | { kind: "word"; position: number; value: bigint }
  | { kind: "truncate"; length: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("byte" as const), position: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant("word" as const),
      position: fc.nat(),
      value: fc.oneof(fc.bigInt({ min: 0n, max: U64_MAX }), fc.constantFrom(0n, 1n, 0x10000n, USER_LIMIT, U64_MAX, 2n ** 63n, 0x1000n)),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("truncate" as const), length: fc.nat() }), weight: 1 },
);

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    // Mutations aim at the header and the program header table, where every decision is made.
    const headers = Math.min(out.length, HEADER_SIZE + 20 * PHDR_SIZE);
    if (m.kind === "truncate") {
      out = out.slice(0, m.length % (out.length + 1));
    } else if (headers > 0 && m.kind === "byte") {
      out[m.position % headers] = m.value;
    } else if (headers >= 8 && m.kind === "word") {
      new DataView(out.buffer).setBigUint64(m.position % (headers - 7), m.value, true);
    }
  }
  return out;
}

describe("checkElf properties", () => {
  it("accepts random valid executables, recording exactly their loadable segments", () => {
    fc.assert(
      fc.property(validImage, (image) => {
        const bytes = build(image);
        const expected = validate(bytes);
        expect(named(expected.check)).toBe("Ok");
        expect(named(check(bytes))).toBe("Ok");
        expect(checked()).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("traps on a read past the end of memory, which is what makes placing images flush meaningful", () => {
    const end = k.memory.buffer.byteLength;
    const bytes = build(minimal()).slice(0, 64);
    k.write(end - 32, bytes.subarray(0, 32));
    expect(() => k.exports.checkElf(end - 32, 64, 0)).toThrow(WebAssembly.RuntimeError);
  });

  it("never reads past the image and agrees with the validator on mutated images (flipped header bytes, truncation)", () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(validImage, fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.boolean(), (image, mutations, asInterpreter) => {
        const bytes = mutate(build(image), mutations);
        const expected = validate(bytes, asInterpreter);
        // Flush against the end of memory: a read past the image traps and fails the property.
        const got = check(bytes, asInterpreter);
        expect(got).toBeGreaterThanOrEqual(0);
        expect(got).toBeLessThan(CHECK_COUNT);
        expect(named(got)).toBe(named(expected.check));
        if (got === Check.Ok) expect(checked()).toEqual(expected);
        seen.set(named(got), (seen.get(named(got)) ?? 0) + 1);
      }),
      { numRuns: 2000 },
    );
    // The mutations reach deep into the checks, not just the magic number.
    expect(seen.size, JSON.stringify(Object.fromEntries(seen))).toBeGreaterThanOrEqual(12);
    expect(seen.get("Ok") ?? 0).toBeGreaterThan(50);
  });

  it("never reads past arbitrary bytes that start like an ELF header", () => {
    const header = build(minimal()).slice(0, 24);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.nat({ max: 24 }), (tail, keep) => {
        const bytes = new Uint8Array(keep + tail.length);
        bytes.set(header.subarray(0, keep));
        bytes.set(tail, keep);
        expect(named(check(bytes))).toBe(named(validate(bytes).check));
      }),
      { numRuns: 1000 },
    );
  });
});
