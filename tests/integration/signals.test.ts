// Signal delivery (user/signals.c, which passes on Linux too): handlers with
// siginfo and ucontext, masks, SA_* flags, faults as signals, alarm and
// setitimer, restarts, process groups, and handlers reset by execve.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, runProgram } from "./programs";

const TEST_TIMEOUT = 240_000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

describe.concurrent("signals", () => {
  it("signals: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "signals")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(result.stdout.split("\n").filter((l) => l.startsWith("FAIL ") || l.includes("KERNEL PANIC")), where).toEqual([]);
    for (const check of ["segv-handler-fixes-and-retries", "sigbus-past-end-of-file", "read-restarted-sa-restart",
      "sigsuspend-restores-mask", "exec-resets-handlers-keeps-ignored"]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(result.stdout, where).toContain("signals: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);
});
