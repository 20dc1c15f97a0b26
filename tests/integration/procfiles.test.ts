// The per-process files of /proc and the descriptor limit as Linux has
// them (user/procfiles.c): /proc/PID/status, smaps_rollup, cmdline and environ (read from
// another process's memory), exe (execve through it, a deleted program),
// cwd, root, fd/ (reopening files and pipe ends), and RLIMIT_NOFILE with
// its errnos, a grown table, fork and exec; as init, no frame or kernel
// object lost to a child doing all of it (/proc/memcheck).
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
  const m = out.match(/^procfiles: (\d+) checks$/m);
  return m ? Number(m[1]) : 0;
}

const rootOnLinux = process.platform === "linux" && process.getuid?.() === 0;

describe.concurrent("procfiles", () => {
  it("procfiles: every check passes, as on Linux", async () => {
    const result = await runProgram(["--memory", "256M", "--timeout", "150", join(USER_BIN, "procfiles")], 180_000);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    // The checks that exist only on TSKernel ran, and smaps_rollup's accounting.
    for (const check of [
      "nofile-defaults", "fd-link-console", "leak-memcheck-problems-0", "leak-free-frames-unchanged",
      "leak-kernel-objects-unchanged", "execve-proc-self-exe", "cmdline-of-other-process", "fd-reopen-pipe-writer",
      "smaps-rollup-header", "smaps-rollup-fields-in-order", "smaps-rollup-shared-after-fork", "smaps-rollup-private-after-copy",
    ]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(checkCount(result.stdout), where).toBeGreaterThanOrEqual(146);
    expect(result.stdout, where).toContain("procfiles: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(!rootOnLinux)("procfiles: the same checks pass on this Linux host", async () => {
    const dir = scratchDir("procfiles");
    const { stdout, status } = await new Promise<{ stdout: string; status: number | null }>((resolveRun) => {
      execFile(join(USER_BIN, "procfiles"), [join(dir, "work")], { cwd: dir, timeout: 60_000, maxBuffer: 1 << 24 },
        (error, out) => resolveRun({ stdout: out, status: error ? (typeof error.code === "number" ? error.code : null) : 0 }));
    });
    expect(failedChecks(stdout), stdout).toEqual([]);
    expect(checkCount(stdout), stdout).toBeGreaterThanOrEqual(140);
    expect(stdout, stdout).toContain("procfiles: 0 failed\n");
    expect(status, stdout).toBe(0);
  }, TEST_TIMEOUT);
});
