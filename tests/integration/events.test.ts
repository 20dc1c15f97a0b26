// Event waiting (user/epoll.c, which passes on Linux too): one epoll over
// a pipe, an eventfd, a signalfd and a nested epoll; level-triggered,
// edge-triggered and one-shot items; the EPOLL_CTL errnos; the last close
// of a watched file removes its item; epoll_pwait's signal mask; eventfd's
// counter, semaphore mode, overflow and a blocking read woken by a child;
// and no kernel object left behind by epolls and eventfds.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram } from "./programs";

const TEST_TIMEOUT = 240_000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

describe("events", () => {
  it("epoll: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "epoll")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of ["all-four-readable", "nested-epoll-reports-inner", "edge-reports-once", "edge-reports-new-data",
      "oneshot-reports-once", "oneshot-rearmed-by-mod", "regular-file-eperm", "loop-eloop", "last-close-removes",
      "pwait-mask-eintr", "pwait-mask-restored", "semaphore-counts-down", "overflow-eagain",
      "blocking-read-woken-by-child", "blocking-write-woken-by-read", "blocking-read-eintr",
      "pwait2-reports", "depth-above-counts-eloop", "proc-fd-eventpoll", "leak-kernel-objects-unchanged"]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(result.stdout, where).toContain("epoll: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);
});
