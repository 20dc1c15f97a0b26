// Core dumps (user/coredump.c): a child killed by a "core" signal with
// RLIMIT_CORE raised writes `core` in its working directory, an ELF core
// whose notes and PT_LOADs the parent reads back (the signal, the
// registers of the faulting instruction, the FPU state, the siginfo, the
// auxiliary vector, the mapped files, the bytes it wrote and holes for the
// pages it never touched, none for those MADV_DONTDUMP marked); WCOREDUMP
// and CLD_DUMPED only when one was written; RLIMIT_CORE 0 or under a page
// writes none, a small one cuts it short; an old core is replaced without
// following a link; a directory named core or a directory where nothing
// can be made means none. The kernel's segfault report says "(core
// dumped)" when it did.
//
// The same binary must pass on Linux: the second test runs it on this host
// when the host writes cores as the default core_pattern says (else the
// program would check nothing).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram, scratchDir } from "./programs";

const TEST_TIMEOUT = 240_000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

function hostFile(path: string): string {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return "";
  }
}

const hostWritesCoreFiles = process.platform === "linux" && process.getuid?.() === 0 &&
  hostFile("/proc/sys/kernel/core_pattern") === "core\n" && ["", "0\n"].includes(hostFile("/proc/sys/kernel/core_uses_pid"));

const CHECKS = [
  "segv-killed-with-core-bit", "core-is-elf-et-core", "prstatus-rip-is-faulting-instruction", "prstatus-rbx-r12-r15-in-order",
  "prfpreg-holds-xmm15", "pt-load-holds-written-pattern", "untouched-pages-are-holes", "waitid-cld-dumped",
  "abort-orig-rax-is-the-system-call", "nt-auxv-holds-pagesz-entry-null", "nt-file-lists-the-program",
  "program-elf-header-page-dumped", "program-text-not-dumped", "limit-0-no-core-file", "limit-one-page-file-cut-short",
  "limit-bounds-bytes-written", "sigquit-prstatus-and-siginfo", "sigchld-cld-dumped", "symlink-core-replaced-by-file",
  "directory-named-core-no-dump", "cwd-where-nothing-can-be-made-no-dump", "dontdump-pages-left-out-dodump-kept",
];

describe.concurrent("core dumps", () => {
  it("coredump: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "coredump")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of CHECKS) expect(result.stdout, where).toContain(`ok ${check}\n`);
    // The kernel's report of a fault ends the way a shell reports the death.
    expect(result.stdout, where).toMatch(/coredump\[\d+\]: segfault at 0 ip [0-9a-f]+ sp [0-9a-f]+ error 4 \(core dumped\)\n/);
    expect(result.stdout, where).toMatch(/coredump\[\d+\]: segfault at 0 ip [0-9a-f]+ sp [0-9a-f]+ error 4\n/);
    expect(result.stdout, where).toContain("coredump: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it.skipIf(!hostWritesCoreFiles)("coredump: the same checks pass on this Linux host", async () => {
    const dir = scratchDir("coredump");
    const { stdout, status } = await new Promise<{ stdout: string; status: number | null }>((resolveRun) => {
      execFile(join(USER_BIN, "coredump"), [], { cwd: dir, timeout: 60_000, maxBuffer: 1 << 24 },
        (error, out) => resolveRun({ stdout: out, status: error ? (typeof error.code === "number" ? error.code : null) : 0 }));
    });
    expect(failedChecks(stdout), stdout).toEqual([]);
    for (const check of CHECKS) expect(stdout, stdout).toContain(`ok ${check}\n`);
    expect(stdout, stdout).toContain("coredump: 0 failed\n");
    expect(status, stdout).toBe(0);
  }, TEST_TIMEOUT);
});
