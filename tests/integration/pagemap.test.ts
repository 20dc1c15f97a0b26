// /proc/self/pagemap, /proc/kpageflags and /proc/kpagecount around a fork
// and a write (user/pagemap.c): the child's page is the parent's frame,
// mapped twice, until the child writes it, then a frame of its own,
// anonymous and exclusive, and the parent's is exclusive again. The same
// binary must pass on Linux: the second test runs it on this host when the
// host is Linux and we are root (frame numbers are hidden from others).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram } from "./programs";

const TEST_TIMEOUT = 240_000;
const CHECKS = [
  "untouched-page-absent", "read-maps-zero-page", "own-frame-exclusive", "own-frame-anonymous-mapped",
  "inherited-pagemap-is-parents", "child-shares-parents-frame", "shared-frame-mapped-twice",
  "child-write-moves-to-new-frame", "child-copy-exclusive", "child-copy-anonymous-mapped", "parent-exclusive-again",
  "file-page-present-file", "file-page-lru-not-anonymous", "unmapped-page-zero", "read-of-part-entry-einval",
];

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

function expectAllPassed(stdout: string, where: string): void {
  expect(failedChecks(stdout), where).toEqual([]);
  for (const check of CHECKS) expect(stdout, where).toContain(`ok ${check}\n`);
  expect(stdout, where).toContain("pagemap: 0 failed\n");
}

const rootOnLinux = process.platform === "linux" && process.getuid?.() === 0;

describe.concurrent("pagemap", () => {
  it("pagemap: a fork shares the frame, the child's write copies it", async () => {
    const result = await runProgram(["--memory", "128M", "--timeout", "120", join(USER_BIN, "pagemap")], 150_000);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expectAllPassed(result.stdout, where);
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(!rootOnLinux)("pagemap: the same checks pass on this Linux host", async () => {
    const { stdout, status } = await new Promise<{ stdout: string; status: number | null }>((resolveRun) => {
      execFile(join(USER_BIN, "pagemap"), [], { timeout: 60_000 },
        (error, out) => resolveRun({ stdout: out, status: error ? (typeof error.code === "number" ? error.code : null) : 0 }));
    });
    expectAllPassed(stdout, stdout);
    expect(status, stdout).toBe(0);
  }, TEST_TIMEOUT);
});
