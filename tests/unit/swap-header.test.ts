// swapon's header checks (kernel/mm/swap_area.ts's checkSwapHeader and
// enableSwapArea, reached through swapon(2) in fs/swap_on.ts) at their
// edges, on headers Debian's mkswap wrote to a RAM disk and then changed
// here: the last page the device holds and one past it, 637 bad pages and
// 638, bad page 0, the last page and one past it, every page bad, the
// version in either byte order, the old magic; the priority flags at their
// limit, discards taken, unknown flags refused; /proc/swaps after each.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootDisk, readFile } from "./ext2-disk";
import { path, sys } from "./process";

const PAGE = 4096;
const EINVAL = -22;
const SWAPON = 167;
const SWAPOFF = 168;
const SWAP_FLAG_PREFER = 0x8000;
const HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

/** A device of `pages` pages holding what mkswap writes on it. */
function mkswap(pages: number): Uint8Array {
  const work = mkdtempSync(join(tmpdir(), "swap-header-"));
  try {
    const file = join(work, "area");
    execFileSync("truncate", ["-s", String(pages * PAGE), file]);
    execFileSync("/usr/sbin/mkswap", [file], { stdio: "pipe" });
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `image` with little-endian words written at `at` (from the start of the header page). */
function withWords(image: Uint8Array, at: number, words: number[], bigEndian = false): Uint8Array {
  const copy = new Uint8Array(image);
  const view = new DataView(copy.buffer);
  words.forEach((word, i) => view.setUint32(at + i * 4, word, !bigEndian));
  return copy;
}

const VERSION = 1024;
const LAST_PAGE = 1028;
const BAD_PAGES = 1032;
const BAD_LIST = 1536;
const withBadPages = (image: Uint8Array, pages: number[]) => withWords(withWords(image, BAD_PAGES, [pages.length]), BAD_LIST, pages);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** swapon of /dev/vda holding `image` with `flags`: its result, and /proc/swaps after it. */
function swapon(image: Uint8Array, flags = 0): { result: number; swaps: string } {
  const d = bootDisk(image);
  const result = sys(d.p, SWAPON, path(d.p, "/dev/vda"), flags);
  const swaps = readFile(d.p, "/proc/swaps");
  return { result, swaps: typeof swaps === "number" ? `error ${swaps}` : Buffer.from(swaps).toString("latin1") };
}

const line = (kib: number, priority: number) => `/dev/vda${" ".repeat(32)}partition\t${kib}\t\t0\t\t${priority}\n`;

describe("swap headers", () => {
  const small = mkswap(256);
  const large = mkswap(1024);
  const cases: [string, Uint8Array, number, string][] = [
    ["mkswap's header, its last page the device's last", small, 0, line(1020, -2)],
    ["a last page one past the device's end (a truncated area)", withWords(small, LAST_PAGE, [256]), EINVAL, ""],
    ["a last page of 0 (no page after the header)", withWords(small, LAST_PAGE, [0]), EINVAL, ""],
    ["version 2", withWords(small, VERSION, [2]), EINVAL, ""],
    ["the other byte order", withWords(withWords(small, VERSION, [1], true), LAST_PAGE, [255], true), 0, line(1020, -2)],
    ["version 1 in the other byte order over a last page in this one", withWords(small, VERSION, [1], true), EINVAL, ""],
    ["the old SWAP-SPACE magic", (() => { const c = new Uint8Array(small); c.set(Buffer.from("SWAP-SPACE"), PAGE - 10); return c; })(), EINVAL, ""],
    ["637 bad pages, the most a header lists", withBadPages(large, range(1, 637)), 0, line((1023 - 637) * 4, -2)],
    ["638 bad pages", withBadPages(large, range(1, 638)), EINVAL, ""],
    ["bad page 0 (the header)", withBadPages(small, [0]), EINVAL, ""],
    ["the last page bad", withBadPages(small, [255]), 0, line(1016, -2)],
    ["a bad page past the last", withBadPages(small, [256]), EINVAL, ""],
    ["every page bad", withBadPages(small, range(1, 255)), EINVAL, ""],
  ];
  for (const [name, image, expected, swapsLine] of cases) {
    it(name, () => {
      const { result, swaps } = swapon(image);
      expect(result).toBe(expected);
      expect(swaps).toBe(HEADER + swapsLine);
    });
  }

  it("priorities: SWAP_FLAG_PREFER up to 32767; discards taken; unknown flags refused", () => {
    expect(swapon(small, SWAP_FLAG_PREFER | 0x7fff).swaps).toBe(HEADER + line(1020, 32767));
    expect(swapon(small, SWAP_FLAG_PREFER).swaps).toBe(HEADER + line(1020, 0));
    expect(swapon(small, 0x7fff).swaps).toBe(HEADER + line(1020, -2)); // a priority without PREFER is not one
    expect(swapon(small, 0x70000).result).toBe(0); // SWAP_FLAG_DISCARD, _ONCE, _PAGES
    expect(swapon(small, 0x80000).result).toBe(EINVAL);
  });

  it("swapoff takes the area out; a second swapoff and a swapoff of what is no area are EINVAL", () => {
    const d = bootDisk(small);
    expect(sys(d.p, SWAPOFF, path(d.p, "/dev/vda"))).toBe(EINVAL);
    expect(sys(d.p, SWAPON, path(d.p, "/dev/vda"), 0)).toBe(0);
    expect(sys(d.p, SWAPOFF, path(d.p, "/dev/vda"))).toBe(0);
    expect(Buffer.from(readFile(d.p, "/proc/swaps") as Uint8Array).toString()).toBe(HEADER);
    expect(sys(d.p, SWAPOFF, path(d.p, "/dev/vda"))).toBe(EINVAL);
    expect(sys(d.p, SWAPON, path(d.p, "/dev/vda"), 0)).toBe(0); // and in use again
  });
});
