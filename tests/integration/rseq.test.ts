// rseq(2), restartable sequences (user/rseq.c): registration and its
// errnos (EINVAL, EBUSY, EPERM, EFAULT, unregistering), the ids the
// kernel writes, AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN, critical sections
// preempted by another thread and interrupted by a signal handler that
// restart at their abort handler (no update lost, aborts seen), bad
// descriptors ending the process with SIGSEGV, and the registration kept
// by fork, dropped by execve and absent in a new thread. The same binary
// runs on this Linux host too and must pass there.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram } from "./programs";

const run = promisify(execFile);
const TEST_TIMEOUT = 240_000;
const CHECKS = [
  "auxv", "unregister-none", "short-length", "misaligned", "misaligned-long", "unknown-flag", "unregister-extra-flag",
  "kernel-address", "register", "again-same", "again-other-sig", "again-other-area", "again-other-length",
  "unregister-other-sig", "unregister-other-length", "unregister-other-area", "unregister", "long-area", "reregister",
  "thread-starts-unregistered", "threads-consistent", "threads-aborted", "signals-ran", "signals-consistent",
  "signals-aborted", "outside-cleared", "bad-signature", "bad-version", "abort-inside", "overflow", "fork-keeps",
  "exec-clears",
];

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

describe.concurrent("rseq", () => {
  it("rseq: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "rseq")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of CHECKS) expect(result.stdout, where).toContain(`ok ${check}\n`);
    expect(result.stdout, where).toContain("rseq: 0 failed\n");
    expect(result.stdout, where).not.toContain("unknown system call");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(process.platform !== "linux")("rseq: the same checks pass on this Linux host", async () => {
    const { stdout } = await run(join(USER_BIN, "rseq"), [], { timeout: 60_000 });
    expect(failedChecks(stdout), stdout).toEqual([]);
    for (const check of CHECKS) expect(stdout, stdout).toContain(`ok ${check}\n`);
    expect(stdout, stdout).toContain("rseq: 0 failed\n");
  }, TEST_TIMEOUT);
});
