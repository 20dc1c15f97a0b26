// futex(2) itself (user/futexops.c): wake counts and order, bitsets,
// requeue, cmp-requeue, wake-op, shared futexes over shared anonymous
// memory and a file, private ones after fork, timeouts, signals and the
// errnos; and robust futex lists (user/robustlist.c): set_robust_list and
// get_robust_list with their errnos, and the list walked at exit and at
// exec, marking the dead owner's locks and waking their waiters, which is
// what gives a process-shared robust mutex's next locker EOWNERDEAD; and
// the priority-inheritance locks, their requeue from a condition word, and
// futex_waitv between threads
// (user/futexpi.c). The same binaries run on this Linux host too and must
// pass there.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram } from "./programs";

const run = promisify(execFile);
const TEST_TIMEOUT = 240_000;
const CHECKS = [
  "set-size-23-einval", "get-self", "get-other-process", "get-reaped-pid-esrch", "fork-child-starts-with-none",
  "exit-marks-owned-lock-keeps-waiters", "exit-leaves-pending-unlocked-lock", "exit-marks-pi-lock",
  "exec-marks-owned-lock-keeps-waiters", "waiter-woken-by-owner-exit", "mutex-lock-eownerdead", "mutex-lock-again",
];

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

const OPERATION_CHECKS = [
  "wake-two-of-three", "wake-the-last-one", "wake-oldest-first", "wake-bitset-meets-one", "wake-bitset-left-other",
  "wait-bitset-0-einval", "requeue-wakes-one-moves-one", "requeued-waiter-woken-on-second-word", "cmp-requeue-eagain",
  "cmp-requeue-negative-requeue-einval", "wake-op-wakes-both", "wake-op-false-comparison-wakes-none", "wake-op-shifted-oparg",
  "file-futex-by-object-and-offset", "private-not-across-processes", "private-after-cow-own-space",
  "wait-relative-etimedout", "wait-bitset-absolute-realtime", "wait-clock-realtime-enosys", "signal-handler-eintr",
  "signal-timed-sa-restart-eintr", "signal-sa-restart-restarts-wait", "stop-and-continue-restarts-wait",
  "stop-and-continue-keeps-deadline", "killed-waiter-leaves-queue",
  "shared-wake-unmapped-efault", "private-wake-unmapped-no-waiters", "wake-op-readonly-efault", "misaligned-einval",
];

const PI_CHECKS = [
  "trylock-free-word", "lock-own-edeadlk", "trylock-own-edeadlk", "unlock-no-waiters-zero", "unlock-unowned-eperm",
  "lock-pi-free-word", "lock-dead-owner-esrch", "trylock-dead-owner-esrch", "unlock-other-owner-eperm",
  "owner-died-word-taken-over", "unlock-clears-owner-died", "lock-pi-clock-realtime-enosys", "lock-pi-misaligned-einval",
  "lock-pi-null-efault", "lock-pi-bad-timeout-einval", "first-waiter-sets-waiters", "unlock-hands-to-oldest",
  "waiters-get-lock-in-order", "second-waiter-handed-lock", "last-unlock-zero", "trylock-held-eagain",
  "lock-pi-realtime-deadline-etimedout", "lock-pi2-monotonic-deadline-etimedout", "lock-pi2-realtime-deadline-etimedout",
  "unlock-after-timeouts-zero", "wake-pi-waiter-einval", "signal-leaves-lock-wait", "lock-pi-goes-on-after-handler",
  "owner-exit-hands-lock-owner-died", "unlock-after-owner-exit", "robust-owner-exit-hands-lock-owner-died",
  "unlock-after-robust-owner-exit", "wake-requeue-pi-waiter-einval", "cmp-requeue-pi-value-differs-eagain",
  "cmp-requeue-pi-wake-2-einval", "cmp-requeue-pi-same-word-einval", "cmp-requeue-pi-takes-free-lock", "requeue-pi-owner-unlocks",
  "cmp-requeue-pi-moves-all-to-held-lock", "requeued-waiters-get-lock-in-order", "cmp-requeue-pi-no-waiters-0",
  "wait-requeue-pi-same-word-einval", "wait-requeue-pi-value-differs-eagain", "wait-requeue-pi-deadline-etimedout",
  "wait-requeue-pi-realtime-etimedout", "pthread-pi-mutex-excludes", "pthread-robust-pi-mutex-eownerdead",
  "pthread-robust-pi-mutex-unlock", "waitv-returns-woken-index", "waitv-value-differs-eagain", "waitv-128-monotonic-etimedout",
  "waitv-realtime-etimedout", "waitv-bad-clock-einval", "waitv-129-einval", "waitv-none-einval", "waitv-flags-einval",
  "waitv-null-einval", "waitv-size-u8-einval", "waitv-reserved-einval", "waitv-misaligned-einval", "waitv-wide-value-einval",
  "waitv-unmapped-efault", "waitv-unreadable-array-efault", "waitv-signal-handler-eintr",
];

describe.concurrent("futex", () => {
  it("futexops: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "futexops")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of OPERATION_CHECKS) expect(result.stdout, where).toContain(`ok ${check}\n`);
    expect(result.stdout, where).toContain("futexops: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(process.platform !== "linux")("futexops: the same checks pass on this Linux host", async () => {
    const { stdout } = await run(join(USER_BIN, "futexops"), [], { timeout: 60_000 });
    expect(failedChecks(stdout), stdout).toEqual([]);
    for (const check of OPERATION_CHECKS) expect(stdout, stdout).toContain(`ok ${check}\n`);
    expect(stdout, stdout).toContain("futexops: 0 failed\n");
  }, TEST_TIMEOUT);

  it("robustlist: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "robustlist")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of CHECKS) expect(result.stdout, where).toContain(`ok ${check}\n`);
    expect(result.stdout, where).toContain("robustlist: 0 failed\n");
    expect(result.stdout, where).not.toMatch(/robustlist\[\d+\] called unknown system call/);
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(process.platform !== "linux")("robustlist: the same checks pass on this Linux host", async () => {
    const { stdout } = await run(join(USER_BIN, "robustlist"), [], { timeout: 60_000 });
    expect(failedChecks(stdout), stdout).toEqual([]);
    for (const check of CHECKS) expect(stdout, stdout).toContain(`ok ${check}\n`);
    expect(stdout, stdout).toContain("robustlist: 0 failed\n");
  }, TEST_TIMEOUT);

  it("futexpi: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "futexpi")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of PI_CHECKS) expect(result.stdout, where).toContain(`ok ${check}\n`);
    expect(result.stdout, where).toContain("futexpi: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(process.platform !== "linux")("futexpi: the same checks pass on this Linux host", async () => {
    const { stdout } = await run(join(USER_BIN, "futexpi"), [], { timeout: 60_000 });
    expect(failedChecks(stdout), stdout).toEqual([]);
    for (const check of PI_CHECKS) expect(stdout, stdout).toContain(`ok ${check}\n`);
    expect(stdout, stdout).toContain("futexpi: 0 failed\n");
  }, TEST_TIMEOUT);
});
