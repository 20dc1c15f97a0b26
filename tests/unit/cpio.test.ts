// kernel/fs/cpio.ts: parseCpio on newc archives written here (as
// scripts/make-initramfs.mjs writes them), whole, spoiled and cut short.
// Archives sit flush against the end of the simulated RAM, so that any
// read past the archive traps. Then kernel/fs/initramfs.ts: an archive
// handed over as the multiboot2 module "initramfs", unpacked into the root
// tmpfs, and its paths walked (kernel/fs/path.ts) against a model of Linux's
// rules.
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
  S_IFDIR, S_IFREG, type Written, archive, bootWithInitramfs, contents, directory, expectedEntries,
  PATH_SCRATCH, file, lookup, readEntries,
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

// ---- the initramfs unpacked into tmpfs, and the path walk ------------------------

const S_IFLNK = 0o120000;
const ENOENT = -2;
const ENOTDIR = -20;
const ENAMETOOLONG = -36;
const ELOOP = -40;

const symlink = (name: string, target: string): Member => ({ name, mode: S_IFLNK | 0o777, data: bytesOf(target) });

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
  symlink("lib", "bin"), // relative
  symlink("a/b/up", "../../etc"), // relative, through ".."
  symlink("abs", "/a/b/c"), // absolute
  symlink("loop", "loop"),
  symlink("dangling", "nowhere"),
];

/**
 * What the walk must find, by Linux's rules: "." stays, ".." goes up (not
 * above the root), links are followed (40 at most: ELOOP), every component
 * but the last must be a directory (ENOTDIR), a trailing slash asks for a
 * directory, a component over 255 bytes is ENAMETOOLONG. The answer is a
 * member's name ("" for the root) or an errno.
 */
function expectedWalk(path: string, members: Member[], follow = true): string | number {
  if (path.length === 0) return ENOENT;
  if (path.length >= 4096) return ENAMETOOLONG;
  const byName = new Map(members.map((m) => [m.name, m]));
  const isDir = (at: string) => at === "" || (byName.get(at)?.mode ?? 0) >> 12 === 0o04;
  let at: string[] = [];
  let pending = path.split("/");
  const trailing = path.endsWith("/");
  let links = 0;
  if (path.startsWith("/")) pending = pending.slice(1);
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === "") continue;
    if (name.length > 255) return ENAMETOOLONG;
    if (!isDir(at.join("/"))) return ENOTDIR;
    const last = pending.every((p) => p === "");
    if (name === ".") continue;
    if (name === "..") {
      at.pop();
      continue;
    }
    const next = [...at, name].join("/");
    const member = byName.get(next);
    if (!member) return ENOENT;
    if (member.mode >> 12 === 0o12 && (!last || follow || trailing)) {
      if (++links > 40) return ELOOP;
      const target = latin1(member.data);
      if (target.startsWith("/")) at = [];
      pending = [...target.split("/"), ...pending];
      continue;
    }
    at = next.split("/");
  }
  const result = at.join("/");
  if (trailing && !isDir(result)) return ENOTDIR;
  return result;
}

describe("the initramfs, unpacked into the root tmpfs, and the path walk", () => {
  function mountTree(members = TREE): Written {
    k = loadKernel({ memoryPages: 512 });
    const written = archive(members);
    expect(statusName(bootWithInitramfs(k, written.bytes))).toBe("Ok");
    return written;
  }

  /** The member name a lookup found, "" for the root, or the errno. */
  function walked(path: string, follow = true): string | number {
    const inode = lookup(k, path, follow);
    if (inode < 0) return inode;
    if (inode === k.exports.rootInode()) return "";
    const index = inodeIndex.get(inode);
    return index === undefined ? `unknown inode ${inode}` : index;
  }

  let inodeIndex = new Map<number, string>();
  function indexTree(members: Member[]): void {
    inodeIndex = new Map(members.map((m) => [lookup(k, `/${m.name}`, false), m.name]));
  }

  it("unpacks every member, without copying file bytes: a file reads its pages from the archive", () => {
    const written = mountTree();
    expect(k.exports.initramfsFileCount() >>> 0).toBe(TREE.length);
    TREE.forEach((m, index) => {
      const inode = lookup(k, `/${m.name}`, false);
      expect(inode, m.name).toBeGreaterThan(0);
      expect(k.exports.inodeMode(inode) >>> 0, m.name).toBe(m.mode);
      expect(Number(k.exports.inodeSize(inode)), m.name).toBe(m.mode >> 12 === 0o04 ? Number(k.exports.inodeSize(inode)) : m.data.length);
      if (m.mode >> 12 === 0o10) {
        expect(k.exports.inodeData(inode) >>> 0, m.name).toBe(ARCHIVE_ADDRESS + written.offsets[index].data);
        expect(k.exports.inodeLinks(inode), m.name).toBe(1);
      }
    });
    const root = k.exports.rootInode();
    expect(k.exports.inodeMode(root) >>> 0).toBe(S_IFDIR | 0o755);
    // "." and ".." of the root, bin, etc, a, and the mount points proc, sys, dev and the directory tmp.
    expect(k.exports.inodeLinks(root)).toBe(2 + 7);
    expect(k.exports.inodeLinks(lookup(k, "/a"))).toBe(3);
    expect(k.exports.cachedPageCount(), "nothing read yet").toBe(0);
  });

  it("adds /proc, /sys, /dev (with its devices and its links into /proc/self/fd) and /tmp", () => {
    mountTree();
    for (const path of ["/proc", "/sys", "/dev", "/tmp", "/dev/shm"]) expect(k.exports.inodeMode(lookup(k, path)) >> 12, path).toBe(0o04);
    expect(k.exports.inodeMode(lookup(k, "/tmp")) & 0o7777).toBe(0o1777);
    for (const device of ["null", "zero", "full", "random", "urandom", "tty", "console"]) {
      expect(k.exports.inodeMode(lookup(k, `/dev/${device}`)) >> 12, device).toBe(0o02);
    }
    expect(lookup(k, "/proc/meminfo")).toBeGreaterThan(0);
    expect(lookup(k, "/proc/nonexistent")).toBe(ENOENT);
    const links = { fd: "/proc/self/fd", stdin: "/proc/self/fd/0", stdout: "/proc/self/fd/1", stderr: "/proc/self/fd/2" };
    for (const [name, target] of Object.entries(links)) {
      const link = lookup(k, `/dev/${name}`, false);
      expect(k.exports.inodeMode(link) >>> 0, name).toBe(0o120777);
      const length = Number(k.exports.readLink(link, PATH_SCRATCH));
      expect(latin1(k.read(PATH_SCRATCH, length)), name).toBe(target);
    }
  });

  it("is not there without a module of that name", () => {
    k = loadKernel({ memoryPages: 512 });
    expect(statusName(bootWithInitramfs(k, archive(TREE).bytes, { cmdline: "initrd" }))).toBe("Truncated");
    expect(k.exports.initramfsFileCount()).toBe(0);
    expect(lookup(k, "/bin")).toBe(ENOENT);
    k = loadKernel({ memoryPages: 512 });
    expect(statusName(bootWithInitramfs(k, archive(TREE).bytes, { cmdline: "initramfs2" }))).toBe("Truncated");
  });

  it("keeps what it could parse of a damaged archive", () => {
    k = loadKernel({ memoryPages: 512 });
    const written = archive(TREE, { spoil: (i) => (i === 4 ? { magic: "070707" } : undefined) });
    expect(statusName(bootWithInitramfs(k, written.bytes))).toBe("BadMagic");
    expect(k.exports.initramfsFileCount() >>> 0).toBe(4);
    expect(lookup(k, "/bin/sh")).toBeGreaterThan(0);
    expect(lookup(k, "/etc/motd")).toBe(ENOENT);
  });

  it("walks dots, repeated slashes, links and trailing slashes as Linux does", () => {
    mountTree();
    indexTree(TREE);
    const cases: [string, string | number][] = [
      ["/", ""], ["", ENOENT], [".", ""], ["..", ""], ["/../..", ""], ["//./", ""],
      ["bin/hello", "bin/hello"], ["//bin///hello", "bin/hello"], ["/bin/./hello", "bin/hello"], ["/etc/../bin/hello", "bin/hello"],
      ["/../../bin/hello", "bin/hello"], ["bin/hello/", ENOTDIR], ["bin/hello/.", ENOTDIR], ["bin/hello/..", ENOTDIR],
      ["/a/b/c/../../b/c/d.txt", "a/b/c/d.txt"], ["a/b/c/d.txt/", ENOTDIR], ["/...", "..."], ["/with space", "with space"],
      ["/nonexistent", ENOENT], ["/bin/hell", ENOENT], ["/BIN/hello", ENOENT], ["/bin/hello/x", ENOTDIR], ["/a/b/c/d", ENOENT],
      ["/lib/sh", "bin/sh"], ["/lib", "bin"], ["/lib/", "bin"], ["/a/b/up/motd", "etc/motd"], ["/abs/d.txt", "a/b/c/d.txt"],
      ["/abs/../c/d.txt", "a/b/c/d.txt"], ["/loop", ELOOP], ["/loop/x", ELOOP], ["/dangling", ENOENT], ["/dangling/", ENOENT],
      [`/${"x".repeat(256)}`, ENAMETOOLONG], [`/${"x".repeat(255)}`, ENOENT], [`/${"a/".repeat(2048)}`, ENAMETOOLONG],
    ];
    for (const [path, expected] of cases) {
      expect(expectedWalk(path, TREE), `model: ${JSON.stringify(path)}`).toBe(expected);
      expect(walked(path), JSON.stringify(path)).toBe(expected);
    }
    // Without following the last component, a link is itself.
    expect(walked("/lib", false)).toBe("lib");
    expect(walked("/loop", false)).toBe("loop");
    expect(walked("/lib/", false), "a trailing slash follows it anyway").toBe("bin");
  });

  it("agrees with the model on random paths", () => {
    mountTree();
    indexTree(TREE);
    const component = fc.constantFrom("bin", "hello", "sh", "etc", "motd", "a", "b", "c", "d.txt", ".", "..", "", "...", "x",
      "lib", "up", "abs", "loop", "dangling");
    fc.assert(
      fc.property(fc.array(component, { maxLength: 10 }), fc.boolean(), fc.boolean(), (components, absolute, follow) => {
        const path = (absolute ? "/" : "") + components.join("/");
        expect(walked(path, follow), JSON.stringify(path)).toBe(expectedWalk(path, TREE, follow));
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
