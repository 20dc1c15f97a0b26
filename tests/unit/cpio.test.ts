// kernel/fs/cpio.ts: parseCpio on newc archives written here (as
// scripts/make-initramfs.mjs writes them), whole, spoiled and cut short.
// Archives sit flush against the end of the simulated RAM, so that any
// read past the archive traps. Then kernel/fs/initramfs.ts: an archive
// handed over as the multiboot2 module "initramfs", mounted, and its paths
// looked up against a model of the normalization lookupPath promises.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, bytesOf, latin1, loadKernel } from "./kernel-wasm";
import {
  ARCHIVE_ADDRESS, CPIO_ENTRY_SIZE, CPIO_HEADER_SIZE, CPIO_STATUS_NAMES, type Entry, type Member,
  NOT_FOUND, ROOT_INODE, S_IFDIR, S_IFREG, type Written, archive, bootWithInitramfs, contents, directory, expectedEntries,
  file, lookup, readEntries,
} from "./initramfs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Where parseCpio writes entries: low memory nothing else uses in these tests. */
const TABLE = 0x20000;
const TABLE_CAPACITY = 1024;

let k: Kernel;
beforeEach(() => {
  k = loadKernel();
});

const statusName = (s: number) => CPIO_STATUS_NAMES[s] ?? `CpioStatus ${s}`;
const memoryEnd = () => k.memory.buffer.byteLength;

/** Puts `bytes` at `start` and parses them; returns the status and the entries stored. */
function parseAt(bytes: Uint8Array, start: number, capacity = TABLE_CAPACITY, table = TABLE): { status: string; entries: Entry[] } {
  k.write(start, bytes);
  new Uint8Array(k.memory.buffer, TABLE, TABLE_CAPACITY * CPIO_ENTRY_SIZE).fill(0xcc);
  const status = k.exports.parseCpio(start, bytes.length, table, capacity) >>> 0;
  const count = k.exports.cpioEntryCount() >>> 0;
  return { status: statusName(status), entries: table === 0 ? [] : readEntries(k, table, count) };
}

/** parseAt with the archive's last byte the last byte of memory. */
const parseFlush = (bytes: Uint8Array, capacity = TABLE_CAPACITY, table = TABLE) =>
  parseAt(bytes, memoryEnd() - bytes.length, capacity, table);

/** An aligned start for `length` bytes as close to the end of memory as alignment allows. */
const alignedNearEnd = (length: number) => (memoryEnd() - length) & ~3;

/** Names and contents that cover every padding case for the name (header + name) and the data. */
const SAMPLE: Member[] = [
  directory("bin"),
  file("bin/hello", contents(5000, 1), S_IFREG | 0o755),
  file("bin/x", contents(1, 2)),
  file("bin/xy", contents(2, 3)),
  file("bin/xyz", contents(3, 4)),
  file("bin/wxyz", contents(4, 5)),
  file("empty", new Uint8Array()),
  directory("etc"),
  file("etc/motd", bytesOf("hello from the initramfs\n")),
  file("..", contents(7, 6)), // only "." itself is skipped
  file(".profile", contents(9, 7)),
  file(`deep/${"d".repeat(200)}/file`, contents(4096, 8)),
  file("name with spaces", contents(13, 9)),
];

function expectParsed(got: { status: string; entries: Entry[] }, written: Written, members: Member[], start: number): void {
  expect(got.status).toBe("Ok");
  expect(got.entries).toEqual(expectedEntries(written, members, start));
  // And through memory: the names and contents are what was written.
  for (const [i, entry] of got.entries.entries()) {
    expect(latin1(k.read(entry.name, entry.nameLength))).toBe(members[i].name);
    expect(Buffer.from(k.read(entry.data, entry.size)).equals(Buffer.from(members[i].data)), members[i].name).toBe(true);
  }
}

describe("parseCpio on well-formed archives", () => {
  it("stores every member but \".\" and the trailer, pointing at names and data in place", () => {
    const written = archive(SAMPLE);
    const start = memoryEnd() - written.bytes.length;
    expect(start % 4).toBe(0);
    expectParsed(parseFlush(written.bytes), written, SAMPLE, start);
    expect(k.exports.cpioEntryCount() >>> 0).toBe(SAMPLE.length);
  });

  it("parses the same archive anywhere 4-byte aligned", () => {
    const written = archive(SAMPLE);
    for (const start of [0x100000 - 0x20000, 0x300004, 0x400008, 0x50000c]) {
      expectParsed(parseAt(written.bytes, start), written, SAMPLE, start);
    }
  });

  it("only counts with a null table", () => {
    const written = archive(SAMPLE);
    const got = parseFlush(written.bytes, 0, 0);
    expect(got.status).toBe("Ok");
    expect(k.exports.cpioEntryCount() >>> 0).toBe(SAMPLE.length);
  });

  it("accepts an archive of nothing but the trailer, with or without \".\"", () => {
    expect(parseFlush(archive([]).bytes).status).toBe("Ok");
    expect(k.exports.cpioEntryCount() >>> 0).toBe(0);
    expect(parseFlush(archive([], { dot: false }).bytes).status).toBe("Ok");
    expect(k.exports.cpioEntryCount() >>> 0).toBe(0);
  });

  it("stops at the trailer: padding and further records after it are ignored", () => {
    const members = SAMPLE.slice(0, 3);
    const tail = archive(SAMPLE.slice(3), { dot: false }).bytes;
    for (const extra of [new Uint8Array(512), tail, bytesOf("junk that is no header at all, not even close")]) {
      const written = archive(members, { tail: extra });
      const start = alignedNearEnd(written.bytes.length);
      expectParsed(parseAt(written.bytes, start), written, members, start);
    }
  });

  it("accepts \"070702\" (newc with checksums) and upper-case hex digits", () => {
    const crc = archive(SAMPLE, { spoil: () => ({ magic: "070702", fields: { check: "0badf00d" } }) });
    const start = memoryEnd() - crc.bytes.length;
    expectParsed(parseFlush(crc.bytes), crc, SAMPLE, start);
    const upper = archive(SAMPLE, { spoil: () => ({ upperCase: true }) });
    expectParsed(parseFlush(upper.bytes), upper, SAMPLE, memoryEnd() - upper.bytes.length);
  });

  it("ignores the fields it does not use, whatever they hold", () => {
    const spoilt = archive(SAMPLE, { spoil: () => ({ fields: { ino: "zzzzzzzz", uid: "-1", mtime: "        ", check: "xyzzy!!!" } }) });
    expectParsed(parseFlush(spoilt.bytes), spoilt, SAMPLE, memoryEnd() - spoilt.bytes.length);
  });

  it("fills the table to capacity, then says TooManyEntries", () => {
    const written = archive(SAMPLE);
    expectParsed(parseFlush(written.bytes, SAMPLE.length), written, SAMPLE, memoryEnd() - written.bytes.length);
    for (const capacity of [0, 1, SAMPLE.length - 1]) {
      const got = parseFlush(written.bytes, capacity);
      expect(got.status).toBe("TooManyEntries");
      expect(got.entries).toEqual(expectedEntries(written, SAMPLE, memoryEnd() - written.bytes.length).slice(0, capacity));
    }
    // "." takes no slot.
    expect(parseFlush(archive([]).bytes, 0).status).toBe("Ok");
  });
});

describe("parseCpio on spoiled archives", () => {
  /** Parses an archive whose member `bad` is spoiled; entries before it must be stored. */
  function expectFailure(spoil: Parameters<typeof archive>[1], bad: number, status: string): void {
    const written = archive(SAMPLE, spoil);
    const got = parseFlush(written.bytes);
    expect(got.status).toBe(status);
    expect(got.entries).toEqual(expectedEntries(written, SAMPLE, memoryEnd() - written.bytes.length).slice(0, bad));
  }

  it("refuses other magic numbers, first record or later (BadMagic)", () => {
    for (const magic of ["070700", "070703", "070707", "707070", "0707O1", "\xc7\x71\0\0\0\0", "      "]) {
      for (const bad of [0, 5, SAMPLE.length - 1]) expectFailure({ spoil: (i) => (i === bad ? { magic } : undefined) }, bad, "BadMagic");
    }
    // A first record that is not one at all.
    expect(parseFlush(new Uint8Array(200)).status).toBe("BadMagic");
    expect(parseFlush(archive([], { dot: false }).bytes.map((b, i) => (i === 0 ? 0x31 : b))).status).toBe("BadMagic");
  });

  it("refuses non-hex digits in the mode, file size and name size (BadNumber)", () => {
    for (const field of ["mode", "filesize", "namesize"] as const) {
      for (const text of ["0000000g", "g0000000", "0000 001", "-0000001", "0x000010", "0000000:", "0000000@", "0000000G", "0000000`"]) {
        for (const bad of [0, 7]) expectFailure({ spoil: (i) => (i === bad ? { fields: { [field]: text } } : undefined) }, bad, "BadNumber");
      }
    }
  });

  it("refuses a zero name size and a name without its NUL (BadName)", () => {
    for (const bad of [0, 4, SAMPLE.length - 1]) {
      expectFailure({ spoil: (i) => (i === bad ? { fields: { namesize: "00000000" } } : undefined) }, bad, "BadName");
      expectFailure({ spoil: (i) => (i === bad ? { noNul: true } : undefined) }, bad, "BadName");
    }
    // A trailer without its NUL is no trailer either.
    const written = archive([file("a", contents(3, 1))], { trailer: false });
    const trailer = archive([{ name: "TRAILER!!!", mode: 0, data: new Uint8Array() }], { dot: false, trailer: false, spoil: () => ({ noNul: true }) });
    const bytes = new Uint8Array([...written.bytes, ...trailer.bytes, ...new Uint8Array(64)]);
    expect(parseAt(bytes, alignedNearEnd(bytes.length)).status).toBe("BadName");
  });

  it("says Truncated for an archive that ends without a trailer", () => {
    const written = archive(SAMPLE, { trailer: false });
    const got = parseFlush(written.bytes);
    expect(got.status).toBe("Truncated");
    expect(got.entries).toEqual(expectedEntries(written, SAMPLE, memoryEnd() - written.bytes.length));
  });

  it("says Truncated for sizes that reach past the archive, however large", () => {
    for (const filesize of ["ffffffff", "80000000", "00100000"]) {
      expectFailure({ spoil: (i) => (i === 3 ? { fields: { filesize } } : undefined) }, 3, "Truncated");
    }
    for (const namesize of ["ffffffff", "80000000", "00100000"]) {
      expectFailure({ spoil: (i) => (i === 3 ? { fields: { namesize } } : undefined) }, 3, "Truncated");
    }
  });

  it("says Truncated for every proper prefix of an archive, never reading past it", () => {
    const members = [file("a", contents(1, 1)), directory("dir"), file("dir/file", contents(11, 2)), file("e", new Uint8Array())];
    const written = archive(members);
    const full = written.bytes;
    for (let length = 0; length < full.length; length++) {
      const prefix = full.subarray(0, length);
      // Flush against the end of memory: a read past the prefix traps. The
      // start is aligned only when the length is a multiple of 4 (padding is
      // relative to the archive's start, see the unaligned test below).
      const flush = parseFlush(prefix);
      if (length % 4 === 0) expect(flush.status, `length ${length}`).toBe("Truncated");
      else expect(CPIO_STATUS_NAMES).toContain(flush.status);
      // Aligned, with the rest of the real archive right after the prefix:
      // the parse must stop at the prefix all the same.
      const start = alignedNearEnd(full.length) - 4;
      k.write(start, full);
      const status = k.exports.parseCpio(start, length, TABLE, TABLE_CAPACITY) >>> 0;
      expect(statusName(status), `length ${length}`).toBe("Truncated");
      const complete = written.offsets.filter((o, i) => o.data + members[i].data.length <= length).length;
      expect(k.exports.cpioEntryCount() >>> 0, `entries within ${length} bytes`).toBe(complete);
    }
    expect(parseFlush(full).status).toBe("Ok");
  });

  it("parses an archive that starts at an address that is not 4-byte aligned", () => {
    const written = archive(SAMPLE);
    for (const misalignment of [1, 2, 3]) {
      const start = alignedNearEnd(written.bytes.length) - 4 + misalignment;
      expectParsed(parseAt(written.bytes, start), written, SAMPLE, start);
    }
  });
});

describe("parseCpio properties", () => {
  const memberArb: fc.Arbitrary<Member> = fc.record({
    name: fc.stringMatching(/^[a-z0-9_.\/-]{1,40}$/).filter((n) => n !== "." && n !== "TRAILER!!!"),
    mode: fc.constantFrom(S_IFREG | 0o644, S_IFREG | 0o755, S_IFDIR | 0o755, 0o120777),
    data: fc.uint8Array({ maxLength: 300 }),
  });

  it("round-trips random archives placed flush at the end of memory", () => {
    fc.assert(
      fc.property(fc.array(memberArb, { maxLength: 20 }), fc.boolean(), (members, dot) => {
        const written = archive(members, { dot });
        const start = memoryEnd() - written.bytes.length;
        expectParsed(parseFlush(written.bytes), written, members, start);
      }),
      { numRuns: 200 },
    );
  });

  it("never traps on corrupted or cut archives, and stores only entries that lie inside", () => {
    fc.assert(
      fc.property(
        fc.array(memberArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.record({ position: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x30, 0x37, 0x66, 0x00, 0x2f)) }), { maxLength: 8 }),
        fc.nat(),
        (members, flips, cut) => {
          const written = archive(members);
          let bytes = written.bytes.slice();
          for (const f of flips) bytes[f.position % bytes.length] = f.value;
          bytes = bytes.subarray(0, bytes.length - (cut % 16 === 0 ? 0 : cut % bytes.length));
          const start = memoryEnd() - bytes.length;
          const got = parseFlush(bytes);
          expect(CPIO_STATUS_NAMES).toContain(got.status);
          for (const e of got.entries) {
            expect(e.name).toBeGreaterThanOrEqual(start + CPIO_HEADER_SIZE);
            expect(e.name + e.nameLength).toBeLessThan(start + bytes.length);
            expect(e.data + e.size).toBeLessThanOrEqual(start + bytes.length);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

// ---- the mounted initramfs -------------------------------------------------------

const TREE: Member[] = [
  directory("bin"),
  file("bin/hello", contents(5000, 1), S_IFREG | 0o755),
  file("bin/sh", contents(300, 2), S_IFREG | 0o755),
  directory("etc"),
  file("etc/motd", bytesOf("hello\n")),
  directory("a"),
  directory("a/b"),
  directory("a/b/c"),
  file("a/b/c/d.txt", contents(17, 3)),
  file("...", contents(3, 4)),
  file("with space", contents(5, 5)),
  file("empty", new Uint8Array()),
];

/** The entry index lookupPath must give, from the normalization it documents. */
function expectedLookup(path: string, members: Member[]): number {
  const parts: string[] = [];
  let length = 0;
  for (const component of path.split("/")) {
    if (component === "" || component === ".") continue;
    if (component === "..") {
      const dropped = parts.pop();
      if (dropped !== undefined) length -= dropped.length + (parts.length > 0 ? 1 : 0);
      continue;
    }
    if (length + component.length + 1 > 4096) return NOT_FOUND; // the scratch buffer's limit
    length += component.length + (parts.length > 0 ? 1 : 0);
    parts.push(component);
  }
  if (parts.length === 0) return ROOT_INODE;
  return members.findIndex((m) => m.name === parts.join("/"));
}

describe("the initramfs", () => {
  function mountTree(members = TREE): Written {
    k = loadKernel({ memoryPages: 512 });
    const written = archive(members);
    expect(statusName(bootWithInitramfs(k, written.bytes))).toBe("Ok");
    return written;
  }

  it("mounts the module named \"initramfs\", with every member an inode", () => {
    const written = mountTree();
    expect(k.exports.initramfsFileCount() >>> 0).toBe(TREE.length);
    TREE.forEach((m, inode) => {
      expect(k.exports.inodeMode(inode) >>> 0, m.name).toBe(m.mode);
      expect(k.exports.inodeSize(inode) >>> 0, m.name).toBe(m.data.length);
      expect(k.exports.inodeData(inode) >>> 0, m.name).toBe(ARCHIVE_ADDRESS + written.offsets[inode].data);
      expect(lookup(k, `/${m.name}`), m.name).toBe(inode);
    });
    expect(k.exports.inodeMode(ROOT_INODE) >>> 0).toBe(S_IFDIR | 0o755);
    expect(k.exports.inodeSize(ROOT_INODE)).toBe(0);
  });

  it("is not there without a module of that name", () => {
    k = loadKernel({ memoryPages: 512 });
    expect(statusName(bootWithInitramfs(k, archive(TREE).bytes, { cmdline: "initrd" }))).toBe("Truncated");
    expect(k.exports.initramfsFileCount()).toBe(0);
    k = loadKernel({ memoryPages: 512 });
    expect(statusName(bootWithInitramfs(k, archive(TREE).bytes, { cmdline: "initramfs2" }))).toBe("Truncated");
  });

  it("keeps what it could parse of a damaged archive", () => {
    k = loadKernel({ memoryPages: 512 });
    const written = archive(TREE, { spoil: (i) => (i === 4 ? { magic: "070707" } : undefined) });
    expect(statusName(bootWithInitramfs(k, written.bytes))).toBe("BadMagic");
    expect(k.exports.initramfsFileCount() >>> 0).toBe(4);
    expect(lookup(k, "/bin/sh")).toBe(2);
    expect(lookup(k, "/etc/motd")).toBe(NOT_FOUND);
  });

  it("normalizes paths: slashes, \".\", \"..\" (which stops at the root)", () => {
    mountTree();
    const cases: [string, number][] = [
      ["/", ROOT_INODE], ["", ROOT_INODE], [".", ROOT_INODE], ["..", ROOT_INODE], ["/../..", ROOT_INODE], ["//./", ROOT_INODE],
      ["bin/hello", 1], ["/bin/hello", 1], ["//bin///hello/", 1], ["/bin/./hello", 1], ["/etc/../bin/hello", 1],
      ["/../../bin/hello", 1], ["bin/hello/.", 1], ["bin/hello/..", 0], ["/a/b/c/../../b/c/d.txt", 8], ["a/b/c/d.txt/", 8],
      ["/a/./b/../b/./c/d.txt", 8], ["/...", 9], ["/with space", 10], ["/empty", 11], ["/etc", 3],
      ["/nonexistent", NOT_FOUND], ["/bin/hell", NOT_FOUND], ["/bin/hello2", NOT_FOUND], ["/BIN/hello", NOT_FOUND],
      ["/bin/hello/x", NOT_FOUND], ["bin\0/hello", NOT_FOUND], ["/a/b/c/d", NOT_FOUND], ["./.../", 9], ["/..../", NOT_FOUND],
    ];
    for (const [path, inode] of cases) {
      expect(expectedLookup(path, TREE), `model: ${JSON.stringify(path)}`).toBe(inode);
      expect(lookup(k, path), JSON.stringify(path)).toBe(inode);
    }
  });

  it("refuses paths whose normal form exceeds its 4096-byte buffer, but not long paths that normalize short", () => {
    const long = "x".repeat(3000);
    const names = [
      `${long}/${"y".repeat(1095)}`, // 4096 bytes: fills the buffer exactly
      `${long}/${"z".repeat(1096)}`, // 4097
      "s".repeat(4095),
      "t".repeat(4096), // one component is checked with room for a separator after it
      long,
    ];
    const members = [...TREE, ...names.map((name, i) => file(name, contents(1, i)))];
    mountTree(members);
    const expected = [TREE.length, NOT_FOUND, TREE.length + 2, NOT_FOUND, TREE.length + 4];
    names.forEach((name, i) => {
      expect(expectedLookup(`/${name}`, members), `model: name ${i}`).toBe(expected[i]);
      expect(lookup(k, `/${name}`), `name ${i}`).toBe(expected[i]);
    });
    expect(lookup(k, `/${"y".repeat(5000)}`)).toBe(NOT_FOUND);
    expect(lookup(k, `${"up/../".repeat(2000)}bin/hello`)).toBe(1);
    expect(lookup(k, `/${long}/../${long}/../bin/./sh`)).toBe(2);
    expect(lookup(k, `/${long}/${long}/../../${long}`)).toBe(NOT_FOUND); // 6001 bytes on the way
    expect(expectedLookup(`/${long}/${long}/../../${long}`, members)).toBe(NOT_FOUND);
  });

  it("agrees with the model on random paths", () => {
    mountTree();
    const component = fc.constantFrom("bin", "hello", "sh", "etc", "motd", "a", "b", "c", "d.txt", ".", "..", "", "...", "x");
    fc.assert(
      fc.property(fc.array(component, { maxLength: 10 }), fc.boolean(), (components, absolute) => {
        const path = (absolute ? "/" : "") + components.join("/");
        expect(lookup(k, path), JSON.stringify(path)).toBe(expectedLookup(path, TREE));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("archives from scripts/make-initramfs.mjs", () => {
  it("are what the writer here makes, and parse to their files", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpio-test-"));
    try {
      const hello = contents(777, 1);
      const motd = bytesOf("welcome\n");
      mkdirSync(join(dir, "root/bin"), { recursive: true });
      mkdirSync(join(dir, "root/etc"), { recursive: true });
      writeFileSync(join(dir, "root/bin/hello"), hello, { mode: 0o755 });
      writeFileSync(join(dir, "root/etc/motd"), motd, { mode: 0o644 });
      writeFileSync(join(dir, "extra"), contents(5, 2));
      const out = join(dir, "out.cpio");
      execFileSync(process.execPath, [join(ROOT, "scripts/make-initramfs.mjs"), out, `/=${join(dir, "root")}`, `/usr/share/x=${join(dir, "extra")}`]);
      const script = new Uint8Array(readFileSync(out));
      const members = [
        directory("bin"), file("bin/hello", hello, S_IFREG | 0o755), directory("etc"), file("etc/motd", motd, S_IFREG | 0o644),
        directory("usr"), directory("usr/share"), file("usr/share/x", contents(5, 2), S_IFREG | 0o644),
      ];
      const written = archive(members);
      expect(Buffer.from(script).equals(Buffer.from(written.bytes)), "byte for byte").toBe(true);
      expectParsed(parseFlush(script), written, members, memoryEnd() - script.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
