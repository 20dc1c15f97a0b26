// kernel/boot/multiboot2.ts: the boot information block. Blocks are built
// here the way GRUB lays them out: a header (total_size, reserved), then
// tags (type, size, body) each starting 8-byte aligned, ending with tag 0.
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, bytesOf, latin1, loadKernel } from "./kernel-wasm";

/** BootInfoStatus in multiboot2.ts. */
const enum Status {
  Ok = 0,
  Misaligned = 1,
  BadTotalSize = 2,
  TagOutOfBounds = 3,
  TagTooSmall = 4,
  MissingEndTag = 5,
  TooManyEntries = 6,
}
const MAX_REGIONS = 128;
const MAX_MODULES = 16;
const MIB = 1 << 20;

const INFO = 0x10000; // below the kernel's data at 1 MiB
const HIGH = 8 * MIB; // room for a 1 MiB block above the kernel's data and heap

let k: Kernel;
beforeEach(() => {
  k = loadKernel();
});

// ---- building blocks ------------------------------------------------------

interface Tag {
  type: number;
  body: Uint8Array;
  /** The size field; 8 + body length unless a test lies about it. */
  size?: number;
}

interface Region {
  base: bigint;
  length: bigint;
  type: number;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((value, i) => new DataView(out.buffer).setUint32(i * 4, value, true));
  return out;
}

function u64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

const cString = (text: string) => concat(bytesOf(text), new Uint8Array([0]));

const END: Tag = { type: 0, body: new Uint8Array() };
const cmdlineTag = (text: string): Tag => ({ type: 1, body: cString(text) });
const loaderNameTag = (text: string): Tag => ({ type: 2, body: cString(text) });
const moduleTag = (start: number, end: number, text: string): Tag => ({
  type: 3,
  body: concat(u32s(start, end), cString(text)),
});
const meminfoTag = (lowerKiB: number, upperKiB: number): Tag => ({ type: 4, body: u32s(lowerKiB, upperKiB) });

function memoryMapTag(regions: Region[], entrySize = 24): Tag {
  const entries = regions.map((r) => {
    const entry = new Uint8Array(entrySize).fill(0xee); // padding the parser must skip
    entry.set(concat(u64(r.base), u64(r.length), u32s(r.type, 0)).subarray(0, entrySize));
    return entry;
  });
  return { type: 6, body: concat(u32s(entrySize, 0), ...entries) };
}

interface Framebuffer {
  address: bigint;
  pitch: number;
  width: number;
  height: number;
  bpp: number;
  type: number;
}
const framebufferTag = (fb: Framebuffer): Tag => ({
  type: 8,
  body: concat(u64(fb.address), u32s(fb.pitch, fb.width, fb.height), new Uint8Array([fb.bpp, fb.type, 0])),
});
const rawTag = (type: number, body: Uint8Array, size?: number): Tag => ({ type, body, size });

/** A tag with this size field and a body of zeros filling it. */
const sizedTag = (type: number, size: number): Tag => ({ type, body: new Uint8Array(Math.max(0, size - 8)), size });

const align8 = (n: number) => (n + 7) & ~7;

/** The block's bytes; total_size is the byte count unless given. */
function block(tags: Tag[], totalSize?: number): Uint8Array {
  const parts = tags.map((tag) => {
    const bytes = new Uint8Array(align8(8 + tag.body.length));
    bytes.set(u32s(tag.type, tag.size ?? 8 + tag.body.length));
    bytes.set(tag.body, 8);
    return bytes;
  });
  const out = concat(new Uint8Array(8), ...parts);
  new DataView(out.buffer).setUint32(0, totalSize ?? out.length, true);
  return out;
}

// ---- parsing and reading the results --------------------------------------

function parseAt(address: number, bytes: Uint8Array): Status {
  k.write(address, bytes);
  const status = k.exports.parseBootInfo(address);
  expect(info().status).toBe(status);
  return status;
}

const parse = (bytes: Uint8Array) => parseAt(INFO, bytes);

/** Places the block flush against the end of memory, so any read past it traps. */
function parseAtEnd(bytes: Uint8Array): Status {
  return parseAt(k.memory.buffer.byteLength - bytes.length, bytes);
}

const text = (address: number, length: number) => (address === 0 ? null : latin1(k.read(address, length)));

/** BootInfo, read with the layout drawn in multiboot2.ts. */
function info() {
  const view = k.view();
  const base = k.exports.bootInfoAddress() >>> 0;
  const u32 = (offset: number) => view.getUint32(base + offset, true);
  return {
    status: u32(0),
    totalSize: u32(4),
    cmdlineAddress: u32(8),
    cmdline: text(u32(8), u32(12)),
    loaderName: text(u32(16), u32(20)),
    regionCount: u32(24),
    moduleCount: u32(28),
    lowerKiB: u32(32),
    upperKiB: u32(36),
    framebuffer: {
      address: view.getBigUint64(base + 40, true),
      pitch: u32(48),
      width: u32(52),
      height: u32(56),
      bpp: u32(60),
      type: u32(64),
    },
    rsdpAddress: u32(68),
    rsdpLength: u32(72),
    tagCount: u32(76),
  };
}

function region(index: number): Region {
  const view = k.view();
  const base = k.exports.memoryRegionAddress(index) >>> 0;
  return {
    base: view.getBigUint64(base, true),
    length: view.getBigUint64(base + 8, true),
    type: view.getUint32(base + 16, true),
  };
}

function bootModule(index: number) {
  const view = k.view();
  const base = k.exports.bootModuleAddress(index) >>> 0;
  const u32 = (offset: number) => view.getUint32(base + offset, true);
  return { start: u32(0), end: u32(4), cmdline: text(u32(8), u32(12)) };
}

const regions = () => Array.from({ length: info().regionCount }, (_, i) => region(i));
const modules = () => Array.from({ length: info().moduleCount }, (_, i) => bootModule(i));

/**
 * Parses the block flush against the end of memory twice, with different
 * bytes in the 4 KiB before it: a read past its end traps, and a read
 * before its start shows up as two different results.
 */
function parseIsolated(bytes: Uint8Array): Status {
  const address = k.memory.buffer.byteLength - bytes.length;
  const [first, second] = [0x00, 0xa5].map((fill) => {
    k.write(address - 4096, new Uint8Array(4096).fill(fill));
    const status = parseAt(address, bytes);
    return { status, info: info(), regions: regions(), modules: modules() };
  });
  expect(second).toEqual(first);
  return first.status;
}

// ---- well-formed blocks ---------------------------------------------------

const QEMU_MAP: Region[] = [
  { base: 0n, length: 0x9fc00n, type: 1 },
  { base: 0x9fc00n, length: 0x400n, type: 2 },
  { base: 0xf0000n, length: 0x10000n, type: 2 },
  { base: 0x100000n, length: 0x7ee0000n, type: 1 },
  { base: 0xfffc0000n, length: 0x40000n, type: 2 },
  { base: 0xfd00000000n, length: 0x300000000n, type: 5 },
];
const FRAMEBUFFER: Framebuffer = { address: 0xfd000000n, pitch: 4096, width: 1024, height: 768, bpp: 32, type: 1 };
const RSDP = bytesOf("RSD PTR \x12\x34\x56\x78\x9a\xbc\xde\xf0\x00\x0e\x00\x0f\x00\x00");

describe("well-formed boot information", () => {
  it("parses a block laid out like GRUB's", () => {
    const bytes = block([
      cmdlineTag("exit=qemu console=serial"),
      loaderNameTag("GRUB 2.12"),
      moduleTag(0x200000, 0x2012ab, "/boot/init.elf arg"),
      meminfoTag(639, 130048),
      rawTag(5, u32s(0xe0, 0xffffffff, 0xffffffff)), // BIOS boot device: unused
      memoryMapTag(QEMU_MAP),
      framebufferTag(FRAMEBUFFER),
      rawTag(14, RSDP),
      rawTag(21, u32s(0x100000)), // image load base: unused
      rawTag(0x1234, bytesOf("from the future")),
      END,
    ]);
    expect(parse(bytes)).toBe(Status.Ok);
    const result = info();
    expect(result).toMatchObject({
      totalSize: bytes.length,
      cmdlineAddress: INFO + 16,
      cmdline: "exit=qemu console=serial",
      loaderName: "GRUB 2.12",
      regionCount: QEMU_MAP.length,
      moduleCount: 1,
      lowerKiB: 639,
      upperKiB: 130048,
      framebuffer: FRAMEBUFFER,
      rsdpLength: RSDP.length,
      tagCount: 11,
    });
    expect(latin1(k.read(result.rsdpAddress, result.rsdpLength))).toBe(latin1(RSDP));
    expect(regions()).toEqual(QEMU_MAP);
    expect(bootModule(0)).toEqual({ start: 0x200000, end: 0x2012ab, cmdline: "/boot/init.elf arg" });
  });

  it("accepts the smallest block, a header and an end tag, and reports nothing in it", () => {
    expect(parse(block([END]))).toBe(Status.Ok);
    expect(info()).toEqual({
      status: Status.Ok,
      totalSize: 16,
      cmdlineAddress: 0,
      cmdline: null,
      loaderName: null,
      regionCount: 0,
      moduleCount: 0,
      lowerKiB: 0,
      upperKiB: 0,
      framebuffer: { address: 0n, pitch: 0, width: 0, height: 0, bpp: 0, type: 0 },
      rsdpAddress: 0,
      rsdpLength: 0,
      tagCount: 1,
    });
  });

  it("forgets the previous block", () => {
    parse(block([cmdlineTag("a"), memoryMapTag(QEMU_MAP), meminfoTag(1, 2), END]));
    expect(parse(block([END]))).toBe(Status.Ok);
    expect(info()).toMatchObject({ cmdline: null, regionCount: 0, lowerKiB: 0, upperKiB: 0, tagCount: 1 });
  });

  it("stops strings at their NUL or, without one, at the end of their tag", () => {
    parse(block([rawTag(1, bytesOf("ab\0cd\0")), rawTag(2, bytesOf("no-nul")), rawTag(3, concat(u32s(1, 2), bytesOf("mod"))), END]));
    expect(info()).toMatchObject({ cmdline: "ab", loaderName: "no-nul" });
    expect(bootModule(0).cmdline).toBe("mod");
  });

  it("skips unknown tags of any size, each next tag starting 8-byte aligned", () => {
    const unknown = [8, 9, 13, 16, 100].map((size, i) => rawTag(0x100 + i, new Uint8Array(size - 8).fill(0xff)));
    expect(parse(block([...unknown, cmdlineTag("found"), END]))).toBe(Status.Ok);
    expect(info()).toMatchObject({ cmdline: "found", tagCount: 7 });
  });

  it("takes the last of repeated tags and stops at the end tag", () => {
    const bytes = concat(block([cmdlineTag("first"), cmdlineTag("second"), END]), block([cmdlineTag("after end")]));
    new DataView(bytes.buffer).setUint32(0, bytes.length, true);
    expect(parse(bytes)).toBe(Status.Ok);
    expect(info()).toMatchObject({ cmdline: "second", tagCount: 3 });
  });

  it("steps memory-map entries by entry_size and ignores a partial last entry", () => {
    const tag = memoryMapTag(QEMU_MAP.slice(0, 3), 40);
    tag.body = concat(tag.body, new Uint8Array(39)); // not a whole entry
    expect(parse(block([tag, END]))).toBe(Status.Ok);
    expect(regions()).toEqual(QEMU_MAP.slice(0, 3));
  });

  it("accepts the smallest tags that hold their fixed fields", () => {
    const tags = [sizedTag(3, 16), sizedTag(4, 16), sizedTag(6, 16), sizedTag(8, 31), sizedTag(1, 8), sizedTag(2, 8)];
    tags[2].body.set(u32s(24));
    expect(parse(block([...tags, END]))).toBe(Status.Ok);
    expect(info()).toMatchObject({ moduleCount: 1, regionCount: 0, cmdline: "", loaderName: "", tagCount: 7 });
    expect(bootModule(0).cmdline).toBe("");
  });

  it("accepts a block of exactly 1 MiB", () => {
    const bytes = new Uint8Array(MIB);
    bytes.set(block([meminfoTag(639, 1), END]));
    new DataView(bytes.buffer).setUint32(0, MIB, true);
    expect(parseAt(HIGH, bytes)).toBe(Status.Ok);
    expect(info()).toMatchObject({ totalSize: MIB, lowerKiB: 639 });
  });
});

// ---- malformed blocks -----------------------------------------------------

describe("malformed boot information", () => {
  it("rejects a block that is not 8-byte aligned", () => {
    const bytes = block([cmdlineTag("x"), END]);
    for (let offset = 1; offset < 8; offset++) {
      expect(parseAt(INFO + offset, bytes), `offset ${offset}`).toBe(Status.Misaligned);
      expect(info().tagCount).toBe(0);
    }
  });

  it("rejects a total size below a header and an end tag", () => {
    for (const total of [0, 8, 15]) {
      expect(parse(block([END], total)), `total ${total}`).toBe(Status.BadTotalSize);
      expect(info()).toMatchObject({ totalSize: total, tagCount: 0 });
    }
  });

  it("rejects a total size over 1 MiB", () => {
    const bytes = new Uint8Array(MIB + 8);
    bytes.set(block([END]));
    new DataView(bytes.buffer).setUint32(0, MIB + 8, true);
    expect(parseAt(HIGH, bytes)).toBe(Status.BadTotalSize);
    expect(info()).toMatchObject({ totalSize: MIB + 8, tagCount: 0 });
  });

  it("rejects a tag reaching past the end of the block", () => {
    expect(parse(block([rawTag(1, cString("x"), 100), END]))).toBe(Status.TagOutOfBounds);
    // The end tag itself, one byte too long for the block.
    expect(parse(block([cmdlineTag("x"), rawTag(0, new Uint8Array(), 9)]))).toBe(Status.TagOutOfBounds);
    expect(info().cmdline).toBe("x");
  });

  it("rejects a tag smaller than its own header", () => {
    for (const size of [0, 1, 7]) {
      expect(parse(block([rawTag(0x1234, new Uint8Array(8), size), END])), `size ${size}`).toBe(Status.TagTooSmall);
      expect(parse(block([rawTag(0, new Uint8Array(8), size)])), `end tag size ${size}`).toBe(Status.TagTooSmall);
    }
  });

  it("rejects tags too small for their fixed fields", () => {
    for (const [type, size] of [[3, 15], [4, 15], [6, 15], [8, 30]]) {
      expect(parse(block([sizedTag(type, size), END])), `type ${type} size ${size}`).toBe(Status.TagTooSmall);
    }
  });

  it("rejects memory-map entries smaller than 24 bytes", () => {
    for (const entrySize of [0, 1, 16, 23]) {
      const tag = rawTag(6, concat(u32s(entrySize, 0), new Uint8Array(48)));
      expect(parse(block([tag, END])), `entry_size ${entrySize}`).toBe(Status.TagTooSmall);
      expect(info().regionCount).toBe(0);
    }
  });

  it("reports a block without an end tag", () => {
    expect(parse(block([cmdlineTag("x")]))).toBe(Status.MissingEndTag);
    // A 12-byte tag, padded to 16, leaves no room in 20 bytes for an end tag.
    expect(parse(block([rawTag(0x1234, new Uint8Array(4))], 20))).toBe(Status.MissingEndTag);
  });

  it("keeps what it parsed before the error", () => {
    const bytes = block([cmdlineTag("keep me"), memoryMapTag(QEMU_MAP), rawTag(4, new Uint8Array(4)), END]);
    expect(parse(bytes)).toBe(Status.TagTooSmall);
    expect(info()).toMatchObject({ cmdline: "keep me", regionCount: QEMU_MAP.length, tagCount: 3 });
  });

  it("keeps the first 128 memory regions and goes on parsing", () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ base: BigInt(i) << 20n, length: 0x1000n, type: 1 + (i % 5) }));
    const bytes = block([memoryMapTag(many.slice(0, 100)), memoryMapTag(many.slice(100)), cmdlineTag("later"), END]);
    expect(parse(bytes)).toBe(Status.TooManyEntries);
    expect(info()).toMatchObject({ regionCount: MAX_REGIONS, cmdline: "later", tagCount: 4 });
    expect(regions()).toEqual(many.slice(0, MAX_REGIONS));
  });

  it("accepts exactly 128 memory regions", () => {
    const many = Array.from({ length: MAX_REGIONS }, (_, i) => ({ base: BigInt(i) << 12n, length: 0x1000n, type: 1 }));
    expect(parse(block([memoryMapTag(many), END]))).toBe(Status.Ok);
    expect(info().regionCount).toBe(MAX_REGIONS);
  });

  it("keeps the first 16 modules and goes on parsing", () => {
    const moduleTags = Array.from({ length: 20 }, (_, i) => moduleTag(i * 0x1000, i * 0x1000 + 0x800, `m${i}`));
    expect(parse(block([...moduleTags, meminfoTag(1, 2), END]))).toBe(Status.TooManyEntries);
    expect(info()).toMatchObject({ moduleCount: MAX_MODULES, upperKiB: 2, tagCount: 22 });
    expect(bootModule(MAX_MODULES - 1)).toEqual({ start: 0xf000, end: 0xf800, cmdline: "m15" });
  });

  // A huge entry_size once wrapped the entry loop's 32-bit arithmetic.
  it("reads no memory-map entry whose entry_size runs past the tag", () => {
    const hugeEntries = rawTag(6, u32s(0xfffffff8, 0));
    parse(block([hugeEntries, END]));
    expect(info().regionCount).toBe(0);
    parseAtEnd(block([hugeEntries]));
    expect(info().regionCount).toBe(0);
  });
});

// ---- properties -----------------------------------------------------------

describe("boot information properties", () => {
  // Garbage made of u32 words, half of them small, so that types and sizes
  // are often plausible and the parser gets past the first tag.
  const garbage = fc
    .array(fc.oneof(fc.integer({ min: 0, max: 48 }), fc.integer({ min: 0, max: 0xffffffff })), {
      minLength: 2,
      maxLength: 128,
      size: "max",
    })
    .map((words) => u32s(...(words.length % 2 ? [...words, 0] : words)));

  it("reads only inside a block of random words, and names what is wrong", () => {
    fc.assert(
      fc.property(garbage, (bytes) => {
        new DataView(bytes.buffer).setUint32(0, bytes.length, true);
        const status = parseIsolated(bytes);
        expect(status).toBeGreaterThanOrEqual(Status.Ok);
        expect(status).toBeLessThanOrEqual(Status.TooManyEntries);
      }),
    );
  });

  const anyTag = fc
    .record({
      type: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 8, 14, 15, 21, 0x1234), fc.integer({ min: 0, max: 0xffffffff })),
      body: fc.uint8Array({ maxLength: 96 }),
      // Mostly the true size, so that later tags are reached too.
      size: fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 8 },
        { arbitrary: fc.integer({ min: 0, max: 128 }), weight: 1 },
        { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 },
      ),
    });

  it("reads only inside a block of random tags, and names what is wrong", () => {
    fc.assert(
      fc.property(fc.array(anyTag, { maxLength: 16, size: "max" }), fc.boolean(), (tags, endTag) => {
        const status = parseIsolated(block(endTag ? [...tags, END] : tags));
        expect(status).toBeGreaterThanOrEqual(Status.Ok);
        expect(status).toBeLessThanOrEqual(Status.TooManyEntries);
      }),
    );
  });

  /** A valid tag and what it adds to the parse. */
  interface Valid {
    tag: Tag;
    cmdline?: string;
    regions?: Region[];
    module?: { start: number; end: number; cmdline: string };
  }
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const printable = fc.stringMatching(/^[ -~]{0,40}$/);
  const anyRegion = fc.record({
    base: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    length: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    type: u32,
  });
  const validTag: fc.Arbitrary<Valid> = fc.oneof(
    printable.map((s) => ({ tag: cmdlineTag(s), cmdline: s })),
    printable.map((s) => ({ tag: loaderNameTag(s) })),
    {
      // Weighted so that some blocks hold more modules than are kept.
      arbitrary: fc
        .record({ start: u32, end: u32, cmdline: printable })
        .map((m) => ({ tag: moduleTag(m.start, m.end, m.cmdline), module: m })),
      weight: 4,
    },
    fc.tuple(u32, u32).map(([lower, upper]) => ({ tag: meminfoTag(lower, upper) })),
    fc
      .tuple(fc.array(anyRegion, { maxLength: 48, size: "max" }), fc.constantFrom(24, 32, 40))
      .map(([list, entrySize]) => ({ tag: memoryMapTag(list, entrySize), regions: list })),
    fc.uint8Array({ maxLength: 64 }).map((body) => ({ tag: rawTag(14, body) })),
    fc
      .tuple(fc.constantFrom(5, 7, 9, 10, 21, 0x1234, 0xffffffff), fc.uint8Array({ maxLength: 64 }))
      .map(([type, body]) => ({ tag: rawTag(type, body) })),
  );

  it("parses any well-formed block, keeping the first 128 regions and 16 modules", () => {
    fc.assert(
      fc.property(fc.array(validTag, { maxLength: 48, size: "max" }), (valid) => {
        const allRegions = valid.flatMap((v) => v.regions ?? []);
        const allModules = valid.flatMap((v) => (v.module ? [v.module] : []));
        const cmdlines = valid.flatMap((v) => (v.cmdline === undefined ? [] : [v.cmdline]));
        const overflow = allRegions.length > MAX_REGIONS || allModules.length > MAX_MODULES;

        expect(parseIsolated(block([...valid.map((v) => v.tag), END]))).toBe(overflow ? Status.TooManyEntries : Status.Ok);
        expect(info()).toMatchObject({
          tagCount: valid.length + 1,
          regionCount: Math.min(allRegions.length, MAX_REGIONS),
          moduleCount: Math.min(allModules.length, MAX_MODULES),
          cmdline: cmdlines.at(-1) ?? null,
        });
        expect(regions()).toEqual(allRegions.slice(0, MAX_REGIONS));
        expect(modules()).toEqual(allModules.slice(0, MAX_MODULES));
      }),
    );
  });
});
