// The file system as Linux behaves (user/files.c): files, directories,
// renames, links, symlinks, getdents64, the working directory, attributes
// and times, truncation, unlinked-but-open files, shared and private file
// mappings across fork (and SIGBUS past the end of a file), /dev, /proc,
// statfs, close-on-exec across exec, exec errnos, and, as init, no frame
// lost to a batch of file work or to a file made in a removed directory
// (/proc/memcheck before and after a child).
//
// The same binary must pass on Linux: the second test runs it on this host
// when the host is Linux and we are root (its expectations are root's).
//
// File work driven from busybox's shell and applets is
// tests/integration/busybox.test.ts.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram, scratchDir } from "./programs";

const TEST_TIMEOUT = 240_000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);


function checkCount(out: string): number {
  const m = out.match(/^files: (\d+) checks$/m);
  return m ? Number(m[1]) : 0;
}

const rootOnLinux = process.platform === "linux" && process.getuid?.() === 0;

describe.concurrent("files", () => {
  it("files: every check passes, as on Linux", async () => {
    const result = await runProgram(["--memory", "256M", "--timeout", "150", join(USER_BIN, "files"), "/tmp/files-test"], 180_000);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    // The checks that exist only as init on TSKernel ran, and the SIGBUS
    // children died the way the kernel reports it.
    for (const check of [
      "statfs-tmp-is-tmpfs", "leak-batch", "leak-memcheck-problems-0", "leak-free-frames-unchanged", "leak-batch-held-frames",
      "leak-removed-dir-free-frames-unchanged",
      "mmap-shared-read-past-eof-sigbus", "mmap-private-write-past-eof-sigbus", "exec-closes-cloexec-keeps-others",
      "exec-copy-in-scratch-dir",
    ]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(result.stdout, where).toMatch(/files\[\d+\]: bus error at [0-9a-f]+ .*past the end of the mapped file/);
    expect(checkCount(result.stdout), where).toBeGreaterThanOrEqual(520);
    expect(result.stdout, where).toContain("files: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(!rootOnLinux)("files: the same checks pass on this Linux host", async () => {
    const dir = scratchDir("files");
    const { stdout, status } = await new Promise<{ stdout: string; status: number | null }>((resolveRun) => {
      execFile(join(USER_BIN, "files"), [join(dir, "work")], { cwd: dir, timeout: 60_000, maxBuffer: 1 << 24 },
        (error, out) => resolveRun({ stdout: out, status: error ? (typeof error.code === "number" ? error.code : null) : 0 }));
    });
    expect(failedChecks(stdout), stdout).toEqual([]);
    expect(checkCount(stdout), stdout).toBeGreaterThanOrEqual(500);
    expect(stdout, stdout).toContain("files: 0 failed\n");
    expect(status, stdout).toBe(0);
  }, TEST_TIMEOUT);
});
