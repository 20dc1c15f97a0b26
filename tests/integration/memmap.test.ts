// memmap (user/memmap.c), the text picture of physical memory from
// /proc/framestates: every frame is in the legend once, the kernel and
// free memory are where the boot report says, and the dump scripts/memmap
// reads off the console decodes to one state per frame.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, runProgram } from "./programs";

const TEST_TIMEOUT = 240_000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

describe.concurrent("memmap", () => {
  it("memmap: a character per group of frames and a legend that counts every frame", async () => {
    const result = await runProgram(["--memory", "128M", join(USER_BIN, "memmap"), "-c", "64"], 150_000);
    const where = `status ${result.status}; console:\n${result.stdout}`;
    expect(result.status, where).toBe(0);
    const header = result.stdout.match(/^memmap: (\d+) frames of 4 KiB, (\d+) frames \(\d+ KiB\) a character, 64 a line$/m);
    expect(header, where).not.toBeNull();
    const [frames, group] = [Number(header![1]), Number(header![2])];
    expect(frames).toBe(32768); // 128 MiB
    const rows = result.stdout.split("\n").filter((line) => /^[0-9a-f]{8} /.test(line));
    expect(rows.length).toBe(Math.ceil(frames / group / 64));
    expect(rows[0]).toMatch(/^00000000 r/); // frame 0 and the first MiB stay with the firmware
    expect(rows.join("")).toContain("K"); // the kernel image
    const legend = [...result.stdout.matchAll(/^ {2}'(.)' .+? +(\d+) frames +(\d+) KiB$/gm)];
    expect(legend.reduce((sum, m) => sum + Number(m[2]), 0), where).toBe(frames);
    expect(legend.map((m) => m[1])).toEqual(expect.arrayContaining([".", "K", "d", "p", "k", "z"]));
  }, TEST_TIMEOUT);

  it("memmap -d: the states, run-length coded, one per frame", async () => {
    const result = await runProgram(["--memory", "128M", join(USER_BIN, "memmap"), "-d", "boot"], 150_000);
    const where = `status ${result.status}; console:\n${result.stdout}`;
    const dump = result.stdout.match(/^memmap-dump boot (\d+)\n([\s\S]*?)memmap-end boot$/m);
    expect(dump, where).not.toBeNull();
    const runs = dump![2].trim().split(/\s+/).map((token) => token.split("*").map((hex) => parseInt(hex, 16)));
    expect(runs.reduce((sum, [, count]) => sum + count, 0)).toBe(Number(dump![1]));
    expect(runs.every(([state]) => (state & 0x7f) <= 10)).toBe(true);
    expect(runs[0][0]).toBe(2); // frame 0: reserved by firmware
  }, TEST_TIMEOUT);
});
