// Regressions for what a system-call fuzzer found (user/robust.c,
// user/oomedge.c): readv/writev check before they act, O_NONBLOCK pipes,
// kill of other processes, close-on-exec, madvise, O_PATH, program-header
// counts that overstate the table, and no frame lost when a fault runs out
// of memory half-way, for every kind of fault.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, bootInit, buildOnce, failedChecks, runProgram, scratchDir, writeOddElfs } from "./programs";
import { expectExit } from "./qemu";

const EXIT_INIT_OK = 33;
const TEST_TIMEOUT = 240_000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);


describe.concurrent("robustness", () => {
  it("robust: every check passes, as on Linux", async () => {
    const dir = scratchDir("oddelf");
    writeOddElfs(readFileSync(join(USER_BIN, "hello")), dir);
    // 512 MiB, so that its 300 MiB heap (past the old 256 MiB cap) is within what overcommit grants.
    const result = await runProgram(["--with", dir, "--memory", "512M", join(USER_BIN, "robust"), "--odd-elf", "/oddelf"]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    // The checks that exist only as init, and the odd ELF files, ran.
    for (const check of ["kill-minus-one-ends-sibling", "kill-init-ignored", "exec-phnum-7-runs", "exec-phnum-17-runs"]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(result.stdout, where).toContain("robust: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it("oomedge: a fault that runs out of memory half-way holds nothing afterwards, for every kind of fault", async () => {
    const result = await bootInit({ program: "oomedge", memory: "64M", timeoutMs: 180_000 });
    expectExit(result, EXIT_INIT_OK);
    expect(failedChecks(result.serial), result.serial).toEqual([]);
    const ok = result.serial.match(/^ok oomedge /gm) ?? [];
    expect(ok.length, result.serial).toBe(40);
    // The kinds that kill with SIGKILL did run out of memory: at a fault
    // (the kill), or at the mmap before it (ENOMEM, user/oomedge.c's exit 7).
    const kills = result.serial.match(/^Out of memory: killed process/gm)?.length ?? 0;
    const refusals = result.serial.match(/child exited with 7;/gm)?.length ?? 0;
    expect(kills + refusals, result.serial).toBeGreaterThanOrEqual(28);
    expect(result.serial).toContain("oomedge: 0 failed\n");
  }, TEST_TIMEOUT);
});
