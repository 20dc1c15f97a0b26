// Threads (user/threads.c), with musl's pthreads (static) and glibc's
// (dynamically linked): create and join, a mutex and condition variable
// under contention, thread-local storage, one pid and many tids, per-thread
// masks, signals to one thread and to the process, a fault handled in a
// thread, exit_group from a thread, the main thread leaving first, fork and
// execve from a thread, a robust mutex whose owner dies, a stopped and
// continued process of several threads, clone's EINVAL cases, descriptor
// tables shared or not (CLONE_FILES) and outliving their maker, a process
// sharing descriptors and signal actions and its execve's copies, and no
// kernel object or frame left behind. The same binaries run on this Linux
// host too and must pass there (all but the leak check, which needs our
// /proc/memcheck).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram } from "./programs";

const run = promisify(execFile);
const TEST_TIMEOUT = 240_000;
const CHECKS = [
  "create-join-100", "one-pid", "own-tid", "main-tid-is-pid", "mutex-count", "condvar-turns", "tls-own-copy",
  "pthread-kill-that-thread", "process-signal-to-unblocked-thread", "mask-is-per-thread", "fault-handled-in-thread",
  "exit-group-from-thread", "leader-exited-not-reaped-early", "main-pthread-exit-others-go-on", "fork-from-thread-copies-one",
  "exec-from-thread-ends-others", "robust-owner-died", "threads-counted", "stop-reported", "continue-reported",
  "kill-ends-all-threads", "stopped-state-gone", "clone-thread-needs-sighand", "clone-sighand-needs-vm",
  "clone-without-files-made", "thread-files-shared-outlive-maker", "thread-without-files-own-table",
  "clone-sighand-process-shares-handler", "exec-leaves-sharer-cloexec-fd",
];
const LEAK_CHECKS = ["leak-batch", "leak-kernel-objects-unchanged", "leak-free-frames-unchanged", "leak-memcheck-problems-0"];

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

describe.concurrent("threads", () => {
  for (const program of ["threads", "threads-glibc"]) {
    it(`${program}: every check passes, as on Linux, and nothing leaks`, async () => {
      const result = await runProgram([join(USER_BIN, program)]);
      const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
      expect(failedChecks(result.stdout), where).toEqual([]);
      for (const check of [...CHECKS, ...LEAK_CHECKS]) expect(result.stdout, where).toContain(`ok ${check}\n`);
      expect(result.stdout, where).toContain("threads: 0 failed\n");
      expect(result.status, where).toBe(0);
    }, TEST_TIMEOUT);

    it.skipIf(process.platform !== "linux")(`${program}: the same checks pass on this Linux host`, async () => {
      const { stdout } = await run(join(USER_BIN, program), [], { timeout: 60_000 });
      expect(failedChecks(stdout), stdout).toEqual([]);
      for (const check of CHECKS) expect(stdout, stdout).toContain(`ok ${check}\n`);
      expect(stdout, stdout).toContain("threads: 0 failed\n");
    }, TEST_TIMEOUT);
  }
});
