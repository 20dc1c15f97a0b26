// mremap, mincore and madvise's MADV_REMOVE and MADV_FREE (user/remap.c):
// shrinking, growing in place, moving with MREMAP_MAYMOVE, MREMAP_FIXED
// and MREMAP_DONTUNMAP (page-table entries move, pages are not faulted
// again), duplicating a shared mapping, SIGBUS past the end of a file a
// mapping grew over, residency per page, holes punched through a shared
// mapping; as init, the whole run made again in a child gives back every
// frame (/proc/memcheck).
//
// The same binary must pass on Linux: the second test runs it on this host
// when the host is Linux and we are root.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram, scratchDir } from "./programs";

const TEST_TIMEOUT = 240_000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);


function checkCount(out: string): number {
  const m = out.match(/^remap: (\d+) checks, 0 failed$/m);
  return m ? Number(m[1]) : 0;
}

const rootOnLinux = process.platform === "linux" && process.getuid?.() === 0;

describe.concurrent("remap", () => {
  it("remap: every check passes, and no frame is lost", async () => {
    const result = await runProgram([join(USER_BIN, "remap"), "/tmp/remap-test"]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    // What only TSKernel's init checks ran.
    for (const check of [
      "mremap-moved-pages-not-faulted-again", "mremap-moved-pages-stay-resident", "madvise-remove-frees-cache-pages",
      "leak-memcheck-problems-0", "leak-free-frames-unchanged",
    ]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(result.stdout, where).toMatch(/remap\[\d+\]: bus error at [0-9a-f]+ .*past the end of the mapped file/);
    expect(checkCount(result.stdout), where).toBeGreaterThanOrEqual(100);
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(!rootOnLinux)("remap: the same checks pass on this Linux host", async () => {
    const dir = scratchDir("remap");
    const { stdout, status } = await new Promise<{ stdout: string; status: number | null }>((resolveRun) => {
      execFile(join(USER_BIN, "remap"), [join(dir, "work")], { cwd: dir, timeout: 60_000, maxBuffer: 1 << 24 },
        (error, out) => resolveRun({ stdout: out, status: error ? (typeof error.code === "number" ? error.code : null) : 0 }));
    });
    expect(failedChecks(stdout), stdout).toEqual([]);
    expect(checkCount(stdout), stdout).toBeGreaterThanOrEqual(90);
    expect(status, stdout).toBe(0);
  }, TEST_TIMEOUT);
});
