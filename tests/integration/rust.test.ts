// A Rust program (user/rust_threads.rs, built by `make test` with rustc for
// glibc): a dynamically linked PIE whose std threads are glibc's pthreads,
// with Mutex, Condvar, mpsc channels, scoped threads, thread-locals, a panic
// unwound through libgcc_s to join, thread names, files and a child process.
// The same binary passes on this Linux host.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { buildOnce, failedChecks, runProgram } from "./programs";
import { ROOT } from "./qemu";

const run = promisify(execFile);
const TEST_TIMEOUT = 240_000;
const PROGRAM = join(ROOT, "build/user/rust/rust_threads");
const CHECKS = [
  "spawn-join-64", "mutex-count", "condvar", "channel-many-senders", "scoped-threads", "thread-local",
  "panic-reaches-join", "thread-name", "file-round-trip", "child-process",
];

beforeAll(async () => {
  await buildOnce();
  if (!existsSync(PROGRAM)) throw new Error(`${PROGRAM} is missing: run \`make test\`, which builds it`);
}, TEST_TIMEOUT);

describe.concurrent("rust", () => {
  it("rust_threads: every check passes, as on Linux", async () => {
    const result = await runProgram([PROGRAM]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of CHECKS) expect(result.stdout, where).toContain(`ok ${check}\n`);
    expect(result.stdout, where).toContain("rust_threads: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(process.platform !== "linux")("rust_threads: the same checks pass on this Linux host", async () => {
    // A failing run still shows what it printed.
    const { stdout } = await run(PROGRAM, [], { timeout: 60_000 }).catch((error) => ({ stdout: String(error.stdout ?? error) }));
    expect(failedChecks(stdout), stdout).toEqual([]);
    for (const check of CHECKS) expect(stdout, stdout).toContain(`ok ${check}\n`);
    expect(stdout, stdout).toContain("rust_threads: 0 failed\n");
  }, TEST_TIMEOUT);
});
