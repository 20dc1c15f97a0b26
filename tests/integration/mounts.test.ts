// mount and umount2 of tmpfs and procfs (user/mounts.c, which passes on Linux as root too).
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram } from "./programs";

const TEST_TIMEOUT = 240_000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

describe.concurrent("mounts", () => {
  it("mounts: a tmpfs and a procfs mounted and unmounted, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "mounts")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    expect(result.stdout, where).toContain("ok umount-busy (");
    expect(result.stdout, where).toContain("mounts: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);
});
