// Executables of every kind (user/loader.c, which passes on Linux too): a
// static program, a static PIE, a PIE with musl's dynamic loader, glibc's
// default PIE and a program asking for an executable stack, each checking
// its auxiliary vector, where it was placed, its stack's permissions and
// that two more runs are placed differently, or, booted with norandmaps,
// identically; the dynamic ones also the errors of bad interpreters and
// their interpreter run as a program. Then Debian's own dynamically linked
// ls, and a 32 MiB static PIE paged in as lazily as a 16 KiB one.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  USER_BIN, bootInit, buildOnce, compileC, failedChecks, faultCounts, initramfsWith, programOutput, runProgram, scratchDir,
} from "./programs";
import { ROOT, expectExit } from "./qemu";

const TEST_TIMEOUT = 240_000;
const EXIT_INIT_OK = 33;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

const COMMON = [
  "auxv-phdr", "auxv-entry", "auxv-base", "auxv-execfn", "auxv-random", "auxv-hwcap", "auxv-hwcap2", "auxv-minsigstksz",
  "auxv-pagesz-clktck", "auxv-ids", "auxv-platform", "auxv-sysinfo-ehdr", "stack-executable-as-pt-gnu-stack-says",
  "bss-zero", "runs-report", "runs-execfn", "runs-random-bytes-differ",
];
const DYNAMIC = [
  "pie-near-elf-et-dyn-base", "heap-after-program", "interpreter-missing-enoent", "interpreter-not-executable-eacces",
  "interpreter-directory-eacces", "interpreter-not-elf-elibbad", "interpreter-shorter-than-elf-header-eio",
  "interpreter-wrong-machine-elibbad", "interpreter-runs-as-program",
];
const VARIANTS: Record<string, string[]> = {
  loader: ["placed-at-link-address", "heap-after-program"],
  "loader-static-pie": ["static-pie-in-mmap-area", "heap-at-elf-et-dyn-base"],
  "loader-pie": DYNAMIC,
  "loader-glibc": DYNAMIC,
  "loader-execstack": ["placed-at-link-address", "stack-runs-code"],
};
/** What moves between two runs, randomised, by variant (the rest stays: runs-NAME-stays). */
const MOVES: Record<string, string[]> = {
  loader: ["stack", "heap", "mmap", "vdso"],
  "loader-static-pie": ["program", "stack", "heap", "mmap", "vdso"],
  "loader-pie": ["program", "interpreter", "stack", "heap", "mmap", "vdso"],
  "loader-glibc": ["program", "interpreter", "stack", "heap", "mmap", "vdso"],
  "loader-execstack": ["stack", "heap", "mmap", "vdso"],
};
const PLACES = ["program", "interpreter", "stack", "heap", "mmap", "vdso"];

async function runLoader(variant: string, randomised: boolean) {
  const args = randomised ? [] : ["--kernel", "norandmaps"];
  const result = await runProgram([...args, join(USER_BIN, variant), randomised ? "random" : "fixed"]);
  const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
  expect(failedChecks(result.stdout), where).toEqual([]);
  const moves = randomised ? MOVES[variant] : [];
  const places = PLACES.map((p) => `runs-${p}-${moves.includes(p) ? "moves" : "stays"}`);
  for (const check of [...COMMON, ...VARIANTS[variant], ...places]) expect(result.stdout, where).toContain(`ok ${check}\n`);
  expect(result.stdout, where).toContain("loader: 0 failed\n");
  expect(result.status, where).toBe(0);
}

describe.concurrent("executables of every kind, randomised", () => {
  for (const variant of Object.keys(VARIANTS)) {
    it(`${variant}: every check passes, as on Linux`, () => runLoader(variant, true), TEST_TIMEOUT);
  }
});

describe.concurrent("executables of every kind, with norandmaps", () => {
  for (const variant of ["loader-static-pie", "loader-pie", "loader-glibc"]) {
    it(`${variant}: placed the same way every run`, () => runLoader(variant, false), TEST_TIMEOUT);
  }
});

describe.concurrent("programs from elsewhere", () => {
  it("Debian's dynamically linked ls runs with its libraries", async () => {
    const dir = scratchDir("debian-ls");
    // The libraries ldd names, at their paths (the loader and libc come with build/libs).
    for (const line of execFileSync("ldd", ["/bin/ls"], { encoding: "utf8" }).split("\n")) {
      const library = line.match(/=> (\/\S+)/)?.[1];
      if (!library) continue;
      mkdirSync(join(dir, dirname(library)), { recursive: true });
      copyFileSync(library, join(dir, library));
    }
    const ls = join(scratchDir("debian-ls-program"), "ls-debian");
    copyFileSync("/bin/ls", ls);
    const result = await runProgram(["--with", dir, ls, "-a", "/", "/lib64"]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    const out = programOutput(result.stdout);
    expect(out, where).toMatch(/^\/:\n\.\s+\.\.\s+bin\s+dev\s+etc\s+lib\s+lib64\s+proc\s+sbin\s+sys\s+tmp\s+usr\n/m);
    expect(out, where).toMatch(/^\/lib64:\n\.\s+\.\.\s+ld-linux-x86-64\.so\.2\n/m);
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it("lazy: a 32 MiB static PIE is paged in on demand, exactly like a 16 KiB one", async () => {
    const dir = scratchDir("lazy-pie");
    const source = readFileSync(join(ROOT, "user/lazy.c"), "utf8");
    const small = join(dir, "lazypie");
    const big = join(dir, "lazypie32");
    await Promise.all([compileC(source, small, [], true), compileC(source, big, ["-DBLOB_SIZE=(32<<20)"], true)]);
    expect(statSync(big).size).toBeGreaterThan(32 * 1024 * 1024);
    const initramfs = await initramfsWith([`/bin/lazypie=${small}`, `/bin/lazypie32=${big}`]);
    // At fixed addresses: where the randomised stack's contents fall across pages changes its fault count.
    const [a, b] = await Promise.all([
      bootInit({ program: "lazypie", options: "loglevel=debug norandmaps", initramfs }),
      bootInit({ program: "lazypie32", options: "loglevel=debug norandmaps", initramfs }),
    ]);
    for (const r of [a, b]) {
      expectExit(r, EXIT_INIT_OK);
      expect(r.serial).toContain("lazy: ok\n");
    }
    const counts = { small: faultCounts(a.serial, "lazypie"), big: faultCounts(b.serial, "lazypie32") };
    console.log(`lazy static PIE: ${JSON.stringify(counts)}`);
    // The same code touches the same pages: 8192 more pages in the file change nothing.
    expect(counts.big, `${JSON.stringify(counts)}\n${b.serial}`).toEqual(counts.small);
    expect(counts.big.resident, b.serial).toBeLessThan(40);
  }, TEST_TIMEOUT);
});
