// kernel/mm/page_cache.ts: file pages of a mounted initramfs (an archive
// written here, booted as the multiboot2 module), read in on a miss,
// shared on a hit, and reclaimed when nobody but the cache holds them. The
// RAM the allocator hands out is poisoned before boot, so a page that
// should be zero past the end of its file shows it if it is not. Hash
// collisions are made on purpose (the bucket function is mirrored here),
// and reclaim must unlink any member of a chain.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { PAGE, State, exhaust, frameReader, freeCount, stateCount } from "./mm";
import { ARCHIVE_ADDRESS, type Member, type Written, archive, bootWithInitramfs, contents, file, lookup } from "./initramfs";

const MEMORY_PAGES = 512; // 32 MiB
const POISON = 0xa5;

// Files are known here by their index in the archive ("inode" below); the
// page cache knows them by their memory objects, found at mount.
let inodes: number[] = [];
let objects: number[] = [];
const getPage = (k: Kernel, inode: number, index: number) => k.exports.getCachedPage(objects[inode], index);
const findPage = (k: Kernel, inode: number, index: number) => k.exports.findCachedPage(objects[inode], index);

/** The page cache's bucket for (file, index), as page_cache.ts computes it from the file's object. */
const bucketOf = (inode: number, index: number) =>
  ((Math.imul(objects[inode], 0x9e3779b1) ^ Math.imul(index, 0x85ebca6b)) >>> 0) >>> 22;

/**
 * The files: "aligned" has its data page aligned in memory (so full pages
 * are read with mm_copy_page), the rest start 4-byte aligned only.
 */
let memberCache: Member[] | undefined;
function members(): Member[] {
  memberCache ??= layoutMembers();
  return memberCache;
}

function layoutMembers(): Member[] {
  const aligned = file("aligned", contents(3 * PAGE + 100, 2));
  // Size the padding file so that "aligned"'s data starts on a page.
  for (let pad = 0; pad < PAGE; pad += 4) {
    const trial = archive([file("pad", new Uint8Array(pad)), file("aligned", new Uint8Array(1))]);
    if ((ARCHIVE_ADDRESS + trial.offsets[1].data) % PAGE === 0) {
      return [
        file("pad", contents(pad, 1)),
        aligned,
        file("small", contents(10, 3)),
        file("exact", contents(2 * PAGE, 4)),
        file("empty", new Uint8Array()),
        file("big", contents(40 * PAGE + 1, 5)),
      ];
    }
  }
  throw new Error("no padding aligns the file");
}
const INODE = { pad: 0, aligned: 1, small: 2, exact: 3, empty: 4, big: 5 };

interface Cache {
  k: Kernel;
  files: Member[];
  written: Written;
  base: { free: number; fileCache: number };
}

function mount(): Cache {
  const k = loadKernel({ memoryPages: MEMORY_PAGES });
  const files = members();
  const written = archive(files);
  expect(bootWithInitramfs(k, written.bytes, { poison: POISON })).toBe(0);
  expect(k.exports.initramfsFileCount()).toBe(files.length);
  inodes = files.map((f) => lookup(k, `/${f.name}`));
  objects = inodes.map((inode) => k.exports.inodeObject(inode));
  for (const object of objects) expect(object).not.toBe(0);
  expect(k.exports.inodeData(inodes[INODE.aligned]) % PAGE).toBe(0);
  expect(k.exports.cachedPageCount()).toBe(0);
  return { k, files, written, base: { free: freeCount(k), fileCache: stateCount(k, State.FileCache) } };
}

/** Page `index` of `inode` as it must read: the file's bytes, zeros after its end. */
function expectedPage(c: Cache, inode: number, index: number): Buffer {
  const out = Buffer.alloc(PAGE);
  const data = c.files[inode]?.data ?? new Uint8Array();
  const from = index * PAGE;
  if (from < data.length) out.set(data.subarray(from, Math.min(data.length, from + PAGE)));
  return out;
}

const counters = (k: Kernel) => ({ hits: Number(k.exports.getCacheHits()), misses: Number(k.exports.getCacheMisses()) });

/** The pages forEachCachedPage visits, in its order (bucket by bucket, each chain from its head). */
function walk(k: Kernel): number[] {
  const count = k.exports.walkCachedPages() >>> 0;
  const list = k.exports.cachedPagesList() >>> 0;
  const view = k.view();
  return Array.from({ length: count }, (_, i) => view.getUint32(list + i * 4, true));
}

/** `count` page indices of `inode` that share one bucket (most of them past the end of the file). */
function collidingIndices(inode: number, count: number, avoid: number[] = []): number[] {
  const byBucket = new Map<number, number[]>();
  for (let index = 0; index < 1 << 20; index++) {
    const bucket = bucketOf(inode, index);
    if (avoid.includes(bucket)) continue;
    const list = byBucket.get(bucket) ?? [];
    list.push(index);
    byBucket.set(bucket, list);
    if (list.length === count) return list;
  }
  throw new Error("no collisions");
}

describe("getCachedPage and findCachedPage", () => {
  it("read a page in on a miss, with the file's bytes and zeros after its end", () => {
    const c = mount();
    const { k } = c;
    const record = frameReader(k);
    let cached = 0;
    for (const [name, inode] of Object.entries(INODE)) {
      const pages = Math.ceil(c.files[inode].data.length / PAGE);
      for (let index = 0; index <= pages + 1; index++) {
        const before = counters(k);
        const copies = k.cpu.copiedPages.length;
        expect(findPage(k, inode, index), `${name} page ${index} not cached yet`).toBe(0);
        const page = getPage(k, inode, index) >>> 0;
        expect(page).not.toBe(0);
        expect(page % PAGE).toBe(0);
        cached++;
        expect(counters(k)).toEqual({ hits: before.hits, misses: before.misses + 1 });
        expect(k.exports.cachedPageCount()).toBe(cached);
        if (!Buffer.from(k.read(page, PAGE)).equals(expectedPage(c, inode, index))) expect.fail(`${name} page ${index} contents`);
        const f = record(page / PAGE);
        expect([f.state, f.refCount, f.mapCount, f.owner, f.pageIndex], `${name} page ${index} record`).toEqual([State.FileCache, 2, 0, objects[inode], index]);
        // Whole pages of page-aligned data are copied with mm_copy_page; others byte by byte.
        const source = k.exports.inodeData(inodes[inode]) + index * PAGE;
        const whole = inode === INODE.aligned && (index + 1) * PAGE <= c.files[inode].data.length;
        expect(k.cpu.copiedPages.slice(copies)).toEqual(whole ? [[page, source]] : []);
      }
    }
    expect(stateCount(k, State.FileCache) - c.base.fileCache).toBe(cached);
    expect(freeCount(k)).toBe(c.base.free - cached);
  });

  it("give the same frame on a hit, taking a reference; findCachedPage takes none", () => {
    const c = mount();
    const { k } = c;
    const record = frameReader(k);
    const page = getPage(k, INODE.big, 7) >>> 0;
    for (let n = 3; n < 8; n++) {
      const before = counters(k);
      expect(getPage(k, INODE.big, 7) >>> 0).toBe(page);
      expect(counters(k)).toEqual({ hits: before.hits + 1, misses: before.misses });
      expect(record(page / PAGE).refCount).toBe(n);
      expect(findPage(k, INODE.big, 7) >>> 0).toBe(page);
      expect(record(page / PAGE).refCount).toBe(n);
    }
    expect(k.exports.cachedPageCount()).toBe(1);
    // The same index of another file, and a neighbouring index, are other pages.
    expect(findPage(k, INODE.exact, 7)).toBe(0);
    expect(findPage(k, INODE.big, 6)).toBe(0);
    expect(findPage(k, INODE.big, 8)).toBe(0);
  });

  it("keep pages apart that share a hash bucket", () => {
    const c = mount();
    const { k } = c;
    const indices = collidingIndices(INODE.big, 6);
    const pages = indices.map((index) => getPage(k, INODE.big, index) >>> 0);
    expect(new Set(pages).size).toBe(pages.length);
    indices.forEach((index, i) => {
      expect(findPage(k, INODE.big, index) >>> 0).toBe(pages[i]);
      if (!Buffer.from(k.read(pages[i], PAGE)).equals(expectedPage(c, INODE.big, index))) expect.fail(`page ${index}`);
    });
    // One chain, newest first: the walk shows the bucket function mirrored here is the kernel's.
    expect(walk(k)).toEqual([...pages].reverse());
  });
});

describe("reclaimCachePages", () => {
  it("frees exactly the pages only the cache holds, from any place in a chain", () => {
    const c = mount();
    const { k } = c;
    const record = frameReader(k);
    const chain = collidingIndices(INODE.big, 7);
    const other = collidingIndices(INODE.exact, 3, [bucketOf(INODE.big, chain[0])]);
    const keys: [number, number][] = [...chain.map((i): [number, number] => [INODE.big, i]), ...other.map((i): [number, number] => [INODE.exact, i])];
    const pages = keys.map(([inode, index]) => getPage(k, inode, index) >>> 0);
    // Let go of the head, a middle member and the tail of the long chain, and all of the short one.
    const drop = new Set([0, 3, 6, 7, 8, 9].map((i) => pages[i]));
    for (const page of drop) k.exports.releaseUserFrame(page, 0);
    expect(k.exports.reclaimCachePages()).toBe(drop.size);
    expect(k.exports.cachedPageCount()).toBe(pages.length - drop.size);
    keys.forEach(([inode, index], i) => {
      const kept = !drop.has(pages[i]);
      expect(findPage(k, inode, index) >>> 0, `${inode}:${index}`).toBe(kept ? pages[i] : 0);
      const f = record(pages[i] / PAGE);
      expect(f.state).toBe(kept ? State.FileCache : State.Free);
      if (kept) expect(f.refCount).toBe(2);
    });
    expect(walk(k).sort()).toEqual(pages.filter((p) => !drop.has(p)).sort());
    expect(freeCount(k)).toBe(c.base.free - (pages.length - drop.size));
    // Nothing more to free; then everything once the last holders let go.
    expect(k.exports.reclaimCachePages()).toBe(0);
    for (const page of pages) if (!drop.has(page)) k.exports.releaseUserFrame(page, 0);
    expect(k.exports.reclaimCachePages()).toBe(pages.length - drop.size);
    expect(k.exports.cachedPageCount()).toBe(0);
    expect(walk(k)).toEqual([]);
    expect(freeCount(k)).toBe(c.base.free);
    // A page read in again after reclaim has its contents again.
    const again = getPage(k, INODE.big, chain[0]) >>> 0;
    if (!Buffer.from(k.read(again, PAGE)).equals(expectedPage(c, INODE.big, chain[0]))) expect.fail("page read in again");
  });

  it("runs when memory runs out, so that reading a file never fails while unmapped pages are cached", () => {
    const c = mount();
    const { k } = c;
    const unmapped = [0, 1, 2].map((index) => getPage(k, INODE.big, index) >>> 0);
    for (const page of unmapped) k.exports.releaseUserFrame(page, 0);
    const mapped = getPage(k, INODE.big, 3) >>> 0;
    exhaust(k);
    expect(getPage(k, INODE.small, 0), "no memory, and no hook yet").toBe(0);
    k.exports.installCacheReclaimHook();
    const page = getPage(k, INODE.small, 0) >>> 0;
    expect(page, "the allocation was retried after reclaiming").not.toBe(0);
    expect(unmapped).toContain(page);
    if (!Buffer.from(k.read(page, PAGE)).equals(expectedPage(c, INODE.small, 0))) expect.fail("contents");
    expect(findPage(k, INODE.big, 3) >>> 0).toBe(mapped);
    for (const index of [0, 1, 2]) expect(findPage(k, INODE.big, index)).toBe(0);
    expect(k.exports.cachedPageCount()).toBe(2);
  });
});

// ---- random sequences -----------------------------------------------------------------

type Op = { kind: "get"; key: number } | { kind: "release"; key: number } | { kind: "reclaim" };

describe("the page cache under random use", () => {
  it("matches a model of its pages, references and counters", () => {
    // One mount for every run (booting is the slow part): each run must leave the cache empty.
    const c = mount();
    const { k } = c;
    // Keys: two crowded buckets, and ordinary pages of every file.
    const keys: [number, number][] = [
      ...collidingIndices(INODE.big, 5).map((i): [number, number] => [INODE.big, i]),
      ...collidingIndices(INODE.aligned, 4).map((i): [number, number] => [INODE.aligned, i]),
      ...[0, 1, 2, 3].map((i): [number, number] => [INODE.aligned, i]),
      [INODE.small, 0], [INODE.empty, 0], [INODE.exact, 1], [INODE.pad, 0],
    ];
    const op: fc.Arbitrary<Op> = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant("get" as const), key: fc.nat({ max: keys.length - 1 }) }), weight: 5 },
      { arbitrary: fc.record({ kind: fc.constant("release" as const), key: fc.nat({ max: keys.length - 1 }) }), weight: 4 },
      { arbitrary: fc.record({ kind: fc.constant("reclaim" as const) }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 100, size: "max" }), (ops) => {
        expect(k.exports.cachedPageCount(), "the cache is empty at the start of a run").toBe(0);
        const model = new Map<number, { page: number; holders: number }>();
        const start = counters(k);
        let hits = 0;
        let misses = 0;
        const record = frameReader(k);
        for (const o of ops) {
          if (o.kind === "get") {
            const [inode, index] = keys[o.key];
            const page = getPage(k, inode, index) >>> 0;
            expect(page).not.toBe(0);
            const known = model.get(o.key);
            if (known) {
              expect(page).toBe(known.page);
              known.holders++;
              hits++;
            } else {
              model.set(o.key, { page, holders: 1 });
              misses++;
            }
          } else if (o.kind === "release") {
            const known = model.get(o.key);
            if (!known || known.holders === 0) continue;
            k.exports.releaseUserFrame(known.page, 0);
            known.holders--;
          } else {
            const idle = [...model].filter(([, v]) => v.holders === 0);
            expect(k.exports.reclaimCachePages()).toBe(idle.length);
            for (const [key] of idle) model.delete(key);
          }
          expect(k.exports.cachedPageCount()).toBe(model.size);
          expect(counters(k)).toEqual({ hits: start.hits + hits, misses: start.misses + misses });
          keys.forEach(([inode, index], key) => {
            const known = model.get(key);
            expect(findPage(k, inode, index) >>> 0).toBe(known?.page ?? 0);
            if (!known) return;
            const f = record(known.page / PAGE);
            if (f.state !== State.FileCache || f.refCount !== 1 + known.holders || f.owner !== objects[inode] || f.pageIndex !== index) {
              expect.fail(`${inode}:${index}: state ${f.state}, refCount ${f.refCount}, owner ${f.owner}, pageIndex ${f.pageIndex}`);
            }
            if (!Buffer.from(k.read(known.page, PAGE)).equals(expectedPage(c, inode, index))) expect.fail(`${inode}:${index} contents`);
          });
          const pages = [...model.values()].map((v) => v.page);
          expect(walk(k).sort()).toEqual(pages.sort());
          expect(stateCount(k, State.FileCache) - c.base.fileCache).toBe(model.size);
          expect(freeCount(k)).toBe(c.base.free - model.size);
        }
        for (const v of model.values()) while (v.holders-- > 0) k.exports.releaseUserFrame(v.page, 0);
        expect(k.exports.reclaimCachePages()).toBe(model.size);
        expect(k.exports.cachedPageCount()).toBe(0);
        expect(freeCount(k)).toBe(c.base.free);
      }),
      { numRuns: 200 },
    );
  });
});
