// One tmpfs file through the page cache (kernel/fs/file_io.ts, tmpfs.ts,
// mm/page_cache.ts, fault.ts, address_space.ts), under random pwrite (at
// any offset, past the end too, leaving holes), pread, ftruncate (shrinking
// and growing), mmap (MAP_SHARED and MAP_PRIVATE, read-write or read-only,
// at any page of the file, reaching past its end), munmap of any part of a
// mapping, and loads and stores through the mappings, made by a test
// process as its CPU would (page-table walk, page faults), held against a
// byte-array model of the file and of each private mapping's copied pages.
// After every operation: what pread and loads return is the model's bytes
// (zeros in holes and past the end of the last page); touching a page
// wholly past the end is a bus error; a store to a read-only mapping is
// refused; the page cache holds exactly the pages the model says were
// touched (truncation frees the pages past the new end, and the private
// copies of them); and frames are counted: the file's cached pages, and
// the private copies, which are anonymous memory. At the end everything
// is unmapped, closed and unlinked, and every frame and kernel object must
// be back.
//
// Stores through a shared mapping stay below the end of the file: what a
// store past the end, in the last page, leaves for a later extension to
// show is not something POSIX or Linux promise.
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { PAGE, State, frameReader, freeCount, stateCount } from "./mm";
import { archive, bootWithInitramfs, lookup } from "./initramfs";
import { Random } from "./random";
import {
  ARGUMENTS, AT_FDCWD, BUFFER, BUFFER_BYTES, Fault, MAP_PRIVATE, MAP_SHARED, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE, SYS, type TestProcess,
  exit, loadOwn, loadUser, path, spawn, storeUser, sys,
} from "./process";

const SEEDS = [1, 2, 3];
const OPERATIONS = 3000;
/** The file stays within this many pages; mappings may reach a few pages further. */
const FILE_PAGES = 12;
const MAX_MAPPINGS = 6;
/** Every so many operations, the whole file and every page of every mapping are read back. */
const FULL_CHECK_EVERY = 100;
const SEEK_END = 2;
const MEMORY_OBJECT_PAGES = 40; // MemoryObject.pages (memory_object.ts)

interface Mapping {
  start: bigint;
  pages: number;
  /** The file page mapped at `start`. */
  first: number;
  shared: boolean;
  writable: boolean;
  /** A private mapping's own copies of file pages, by file page index. */
  copies: Map<number, Uint8Array>;
}

/** The file as it must read: its bytes (zeros past the end), and the page indices the page cache must hold. */
class FileModel {
  size = 0;
  readonly bytes = new Uint8Array((FILE_PAGES + 1) * PAGE);
  readonly cached = new Set<number>();

  write(offset: number, data: Uint8Array): void {
    this.bytes.set(data, offset);
    this.size = Math.max(this.size, offset + data.length);
    for (let page = Math.floor(offset / PAGE); page * PAGE < offset + data.length; page++) this.cached.add(page);
  }

  truncate(size: number, mappings: Mapping[]): void {
    if (size < this.size) {
      this.bytes.fill(0, size, this.size);
      const kept = Math.ceil(size / PAGE);
      for (const page of this.cached) if (page >= kept) this.cached.delete(page);
      for (const m of mappings) for (const page of m.copies.keys()) if (page >= kept) m.copies.delete(page);
    }
    this.size = size;
  }

  page(index: number): Uint8Array {
    return this.bytes.slice(index * PAGE, (index + 1) * PAGE);
  }
}

interface Run {
  k: Kernel;
  p: TestProcess;
  fd: number;
  object: number;
  file: FileModel;
  mappings: Mapping[];
  rng: Random;
  base: { free: number; objects: number; fileCache: number; anonymous: number };
}

/** What a load of `length` bytes at `offset` into mapping `m` must give; the pages it faults in join the cache. */
function expectedLoad(run: Run, m: Mapping, offset: number, length: number): Uint8Array | Fault {
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const inMapping = Math.floor((offset + done) / PAGE);
    const index = m.first + inMapping;
    if (index * PAGE >= run.file.size) return Fault.BusError;
    const inPage = (offset + done) % PAGE;
    const chunk = Math.min(PAGE - inPage, length - done);
    const page = m.copies.get(index) ?? run.file.page(index);
    out.set(page.subarray(inPage, inPage + chunk), done);
    run.file.cached.add(index); // a fault reads the page into the cache
    done += chunk;
  }
  return out;
}

function load(run: Run, m: Mapping, offset: number, length: number, what: string): void {
  const got = loadUser(run.p, m.start + BigInt(offset), length);
  const expected = expectedLoad(run, m, offset, length);
  if (typeof expected === "number" || typeof got === "number") {
    expect(got, `${what}: the fault`).toBe(expected);
  } else if (!Buffer.from(got).equals(Buffer.from(expected))) {
    expect.fail(`${what}: the bytes differ from the model's`);
  }
}

/** A store within one page of mapping `m`. */
function store(run: Run, m: Mapping, what: string): void {
  const { file, rng } = run;
  const inMapping = rng.below(m.pages);
  const index = m.first + inMapping;
  let inPage = rng.below(PAGE);
  let length = rng.between(1, PAGE - inPage);
  if (m.shared && index * PAGE < file.size) { // below the end of the file (see the top)
    inPage = Math.min(inPage, file.size - index * PAGE - 1);
    length = Math.min(length, file.size - index * PAGE - inPage);
  }
  const data = rng.bytes(length);
  const got = storeUser(run.p, m.start + BigInt(inMapping * PAGE + inPage), data);
  const expected = !m.writable ? Fault.Forbidden : index * PAGE >= file.size ? Fault.BusError : Fault.Continue;
  expect(got, what).toBe(expected);
  if (expected !== Fault.Continue) return;
  file.cached.add(index);
  if (m.shared) {
    file.write(index * PAGE + inPage, data);
  } else {
    const copy = m.copies.get(index) ?? file.page(index);
    copy.set(data, inPage);
    m.copies.set(index, copy);
  }
}

function map(run: Run, what: string): void {
  const { rng } = run;
  const m: Mapping = {
    start: 0n, pages: rng.between(1, 6), first: rng.below(FILE_PAGES), shared: rng.chance(0.6), writable: rng.chance(0.8),
    copies: new Map(),
  };
  const protection = PROT_READ | (m.writable ? PROT_WRITE : 0);
  const start = sys(run.p, SYS.mmap, 0, m.pages * PAGE, protection, m.shared ? MAP_SHARED : MAP_PRIVATE, run.fd, m.first * PAGE);
  expect(start, what).toBeGreaterThan(0);
  m.start = BigInt(start);
  run.mappings.push(m);
}

/** Unmaps pages [from, to) of a mapping; an access there is then a segmentation fault. */
function unmap(run: Run, m: Mapping, from: number, to: number, what: string): void {
  expect(sys(run.p, SYS.munmap, m.start + BigInt(from * PAGE), (to - from) * PAGE), what).toBe(0);
  expect(loadUser(run.p, m.start + BigInt(from * PAGE), 1), `${what}: a load where it was`).toBe(Fault.Kill);
  run.mappings.splice(run.mappings.indexOf(m), 1);
  const part = (first: number, last: number): Mapping => ({
    ...m, start: m.start + BigInt(first * PAGE), pages: last - first, first: m.first + first,
    copies: new Map([...m.copies].filter(([index]) => index >= m.first + first && index < m.first + last)),
  });
  if (from > 0) run.mappings.push(part(0, from));
  if (to < m.pages) run.mappings.push(part(to, m.pages));
}

/** One random operation. */
function step(run: Run, what: string): void {
  const { p, fd, file, mappings, rng } = run;
  const any = () => rng.pick(mappings);
  switch (rng.weighted({ write: 14, read: 10, truncate: 7, map: mappings.length < MAX_MAPPINGS ? 6 : 0, unmap: mappings.length > 0 ? 4 : 0,
    store: mappings.length > 0 ? 20 : 0, load: mappings.length > 0 ? 20 : 0 })) {
    case "write": {
      const offset = rng.chance(0.3) ? Math.min(file.size, FILE_PAGES * PAGE - 1) : rng.below(FILE_PAGES * PAGE);
      const data = rng.bytes(rng.between(1, Math.min(2 * PAGE, FILE_PAGES * PAGE - offset)));
      expect(storeUser(p, BUFFER, data)).toBe(Fault.Continue);
      expect(sys(p, SYS.pwrite64, fd, BUFFER, data.length, offset), what).toBe(data.length);
      file.write(offset, data);
      break;
    }
    case "read": {
      const offset = rng.below((FILE_PAGES + 1) * PAGE);
      const length = rng.between(1, 3 * PAGE);
      const n = sys(p, SYS.pread64, fd, BUFFER, length, offset);
      expect(n, what).toBe(Math.max(0, Math.min(length, file.size - offset)));
      if (!Buffer.from(loadOwn(p, BUFFER, n)).equals(Buffer.from(file.bytes.subarray(offset, offset + n)))) {
        expect.fail(`${what}: pread's bytes differ from the model's`);
      }
      break;
    }
    case "truncate": {
      const size = rng.chance(0.3) ? rng.below(file.size + 1) : rng.below(FILE_PAGES * PAGE + 1);
      expect(sys(p, SYS.ftruncate, fd, size), what).toBe(0);
      file.truncate(size, mappings);
      break;
    }
    case "map":
      map(run, what);
      break;
    case "unmap": {
      const m = any();
      const from = rng.below(m.pages);
      unmap(run, m, from, rng.between(from + 1, m.pages), what);
      break;
    }
    case "store":
      store(run, any(), what);
      break;
    case "load": {
      const m = any();
      const offset = rng.below(m.pages * PAGE);
      load(run, m, offset, rng.between(1, Math.min(2 * PAGE, m.pages * PAGE - offset)), what);
      break;
    }
  }
}

/** The page indices of the file the page cache's chains hold, read from the frame records. */
function cachedIndices(run: Run): number[] {
  const { k } = run;
  const count = k.exports.walkCachedPages() >>> 0;
  const list = k.exports.cachedPagesList() >>> 0;
  const record = frameReader(k);
  const view = k.view();
  return Array.from({ length: count }, (_, i) => {
    const f = record(view.getUint32(list + i * 4, true) / PAGE);
    expect(f.owner, "a cached page of another object").toBe(run.object);
    return f.pageIndex;
  }).sort((a, b) => a - b);
}

function check(run: Run, what: string, full: boolean): void {
  const { k, p, fd, file, mappings } = run;
  expect(sys(p, SYS.lseek, fd, 0, SEEK_END), `${what}: size`).toBe(file.size);
  expect(cachedIndices(run), `${what}: cached pages`).toEqual([...file.cached].sort((a, b) => a - b));
  expect(k.view().getUint32(run.object + MEMORY_OBJECT_PAGES, true), `${what}: the object's page count`).toBe(file.cached.size);
  const copies = mappings.reduce((sum, m) => sum + m.copies.size, 0);
  expect(stateCount(k, State.FileCache) - run.base.fileCache, `${what}: page-cache frames`).toBe(file.cached.size);
  expect(stateCount(k, State.Anonymous) - run.base.anonymous, `${what}: private copies`).toBe(copies);
  if (!full) return;
  const n = sys(p, SYS.pread64, fd, BUFFER, FILE_PAGES * PAGE, 0);
  expect(n).toBe(file.size);
  if (!Buffer.from(loadOwn(p, BUFFER, n)).equals(Buffer.from(file.bytes.subarray(0, n)))) expect.fail(`${what}: the file's bytes`);
  for (const m of mappings) for (let page = 0; page < m.pages; page++) load(run, m, page * PAGE, PAGE, `${what}: mapping page ${page}`);
}

function start(seed: number): Run {
  const k = loadKernel({ memoryPages: 512 });
  expect(bootWithInitramfs(k, archive([]).bytes)).toBe(0);
  expect(k.exports.zeroPage()).not.toBe(0); // allocated once, for good: not a leak
  const before = { free: freeCount(k), objects: k.exports.kernelObjectsInUse() };
  const p = spawn(k);
  // Every argument page written once, so that the process's own anonymous memory stays the same from here on.
  for (let at = ARGUMENTS; at < Number(BUFFER) + BUFFER_BYTES; at += PAGE) expect(storeUser(p, BigInt(at), new Uint8Array(1))).toBe(Fault.Continue);
  const fd = sys(p, SYS.openat, AT_FDCWD, path(p, "/file"), O_CREAT | O_RDWR, 0o644);
  expect(fd).toBeGreaterThanOrEqual(0);
  const object = k.exports.inodeObject(lookup(k, "/file")) >>> 0;
  const base = { ...before, fileCache: stateCount(k, State.FileCache), anonymous: stateCount(k, State.Anonymous) };
  return { k, p, fd, object, file: new FileModel(), mappings: [], rng: new Random(seed), base };
}

describe("a tmpfs file through read, write, truncate and shared and private mappings, against a model", () => {
  for (const seed of SEEDS) {
    it(`agrees with the model for ${OPERATIONS} operations (seed ${seed}), and gives back everything`, () => {
      const run = start(seed);
      for (let i = 0; i < OPERATIONS; i++) {
        const what = `seed ${seed}, operation ${i}`;
        step(run, what);
        check(run, what, i % FULL_CHECK_EVERY === FULL_CHECK_EVERY - 1);
      }
      const { k, p } = run;
      for (const m of [...run.mappings]) unmap(run, m, 0, m.pages, "unmapping everything");
      check(run, "unmapped", true);
      expect(sys(p, SYS.close, run.fd)).toBe(0);
      expect(sys(p, SYS.unlinkat, AT_FDCWD, path(p, "/file"), 0)).toBe(0);
      expect(stateCount(k, State.FileCache), "the file's pages went with it").toBe(run.base.fileCache);
      exit(p);
      expect(k.exports.kernelObjectsInUse(), "kernel objects").toBe(run.base.objects);
      expect(freeCount(k), "free frames").toBe(run.base.free);
    });
  }
});
