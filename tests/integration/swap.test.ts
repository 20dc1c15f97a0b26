// Anonymous memory larger than RAM through swap (user/swapstress.c), on a
// swap partition made by Debian's mkswap: a working set of twice RAM
// written and read back three times, a fork tree over swapped memory,
// swapoff refused while the pages cannot fit and then bringing them all
// in, file and anonymous pressure together, locked memory staying in, and
// the out-of-memory kill only once RAM and swap are both full.
// Each scenario ends with the kernel's leak audit, which counts every
// slot's holders in the page tables and the swap cache.
import { execFileSync } from "node:child_process";
import { closeSync, openSync, ftruncateSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, expectExit } from "./qemu";
import { bootInit, buildOnce, programOutput, scratchDir } from "./programs";
// @ts-expect-error: a plain JavaScript module, shared with the scripts
import { makePatternDisk } from "../../scripts/disk-image.mjs";

const TEST_TIMEOUT = 300_000;
const MKSWAP = "/usr/sbin/mkswap";

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

/** A whole disk of `mib` MiB made a swap area by mkswap. */
function swapDisk(name: string, mib: number): string {
  const image = join(scratchDir(name), "swap.img");
  const fd = openSync(image, "w", 0o600);
  ftruncateSync(fd, mib << 20);
  closeSync(fd);
  execFileSync(MKSWAP, [image], { stdio: "ignore" });
  return image;
}

/** swapstress's failed checks ("swapstress NAME: FAIL ...") and any panic. */
function failedChecks(output: string): string[] {
  return output.split("\n").filter((line) => / FAIL /.test(line) || line.includes("KERNEL PANIC"));
}

function expectLine(output: string, pattern: RegExp): RegExpMatchArray {
  const match = output.match(pattern);
  expect(match, `no line matching ${pattern} in:\n${output}`).not.toBeNull();
  return match as RegExpMatchArray;
}

/** The pswpout and pswpin counts the program printed on its line for `when`. */
function swapCounts(output: string, when: string): [number, number] {
  const match = expectLine(output, new RegExp(`: ${when} at \\d+ ms: pswpout (\\d+) pswpin (\\d+)`));
  return [Number(match[1]), Number(match[2])];
}

describe.concurrent("swap", () => {
  it("pattern: 256 MiB written and read back three times on a 128 MiB machine", async () => {
    const result = await bootInit({ program: "swapstress", args: ["pattern", "256"], memory: "128M", options: "swap=/dev/vda",
      disks: [swapDisk("swap-pattern", 512)], timeoutMs: TEST_TIMEOUT - 10_000 });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    const [outWritten] = swapCounts(output, "written");
    const [outRead, inRead] = swapCounts(output, "read three times");
    expect(outWritten).toBeGreaterThan(32768); // more than 128 MiB of the 256 went out while written
    expect(inRead).toBeGreaterThan(3 * 32768); // and came back in each of the three passes
    expect(outRead).toBeGreaterThan(outWritten);
    expectLine(output, /swapstress pattern: memcheck problems 0;/);
    expect(output).toContain("swapstress pattern: ok");
    expect(output).not.toContain("Out of memory");
    expectExit(result, EXIT_SUCCESS);
  }, TEST_TIMEOUT);

  it("forks: three children rewrite their quarters of swapped memory; each sees its own writes and the shared rest", async () => {
    const result = await bootInit({ program: "swapstress", args: ["forks", "96"], memory: "64M", options: "swap=/dev/vda",
      disks: [swapDisk("swap-forks", 512)], timeoutMs: TEST_TIMEOUT - 10_000 });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    for (const child of [1, 2, 3]) expectLine(output, new RegExp(`child ${child} rewrote words \\d+\\.\\.\\d+, 0 bad`));
    const [outWritten] = swapCounts(output, "parent wrote");
    expect(outWritten).toBeGreaterThan(8192);
    // Once all are gone the slots are free again but for this process's own few pages.
    expectLine(output, /swapstress forks: memcheck problems 0;/);
    expect(output).toContain("swapstress forks: ok");
    expectExit(result, EXIT_SUCCESS);
  }, TEST_TIMEOUT);

  it("swapoff: refused with ENOMEM while the pages cannot fit, then every page back in, the data intact", async () => {
    const result = await bootInit({ program: "swapstress", args: ["swapoff", "80", "/dev/vda"], memory: "64M",
      options: "swap=/dev/vda", disks: [swapDisk("swap-off", 256)], timeoutMs: TEST_TIMEOUT - 10_000 });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    expectLine(output, /after swapoff at \d+ ms: pswpout \d+ pswpin \d+, SwapTotal 0 kB SwapFree 0 kB, VmSwap 0 kB/);
    expect(output).toContain("swapstress swapoff: ok");
    expectExit(result, EXIT_SUCCESS);
  }, TEST_TIMEOUT);
  it("mixed: a disk twice read through the page cache while swapped memory is checked, nothing lost or killed", async () => {
    const pattern = join(scratchDir("swap-mixed"), "pattern.img");
    makePatternDisk(pattern, 96, []);
    const result = await bootInit({ program: "swapstress", args: ["mixed", "64", "/dev/vdb"], memory: "64M",
      options: "swap=/dev/vda", disks: [swapDisk("swap-mixed", 256), pattern], timeoutMs: TEST_TIMEOUT - 10_000 });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    expectLine(output, /pass 2 read 96 MiB of \/dev\/vdb/);
    expect(output).not.toContain("Out of memory");
    expect(output).toContain("swapstress mixed: ok");
    expectExit(result, EXIT_SUCCESS);
  }, TEST_TIMEOUT);

  it("locked: mlock and MAP_LOCKED pages stay in memory while 80 MiB more go out and back", async () => {
    const result = await bootInit({ program: "swapstress", args: ["locked", "80"], memory: "64M", options: "swap=/dev/vda",
      disks: [swapDisk("swap-locked", 256)], timeoutMs: TEST_TIMEOUT - 10_000 });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    expectLine(output, /resident pages: mlocked 2048 of 2048, MAP_LOCKED 2048 of 2048, the rest \d+ of 20480/);
    expect(output).toContain("swapstress locked: ok");
    expectExit(result, EXIT_SUCCESS);
  }, TEST_TIMEOUT);

  it("oom: a child writing without end is killed only once RAM and 64 MiB of swap are full", async () => {
    const result = await bootInit({ program: "swapstress", args: ["oom"], memory: "64M", options: "swap=/dev/vda",
      disks: [swapDisk("swap-oom", 64)], timeoutMs: TEST_TIMEOUT - 10_000 });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    const kill = expectLine(result.serial, /^Out of memory: killed process \d+ \(swapstress\), (\d+) KiB resident, (\d+) KiB swapped,/m);
    expect(Number(kill[2])).toBeGreaterThan(60 * 1024); // the 64 MiB area all but full
    expectLine(output, /the child ended by signal 9; SwapTotal 65532 kB/);
    expect(output).toContain("swapstress oom: ok");
    expectExit(result, EXIT_SUCCESS);
  }, TEST_TIMEOUT);
});
