// Fork and copy-on-write, demand paging, the heap, text sharing through the
// page cache, out of memory and the leak check, on a real boot: each
// scenario of user/cowtest.c runs as init (one boot each, then all of them
// in one boot with /proc/memcheck before and after each). The program
// checks itself and prints what it measured; these tests demand the exact
// QEMU status, check the key console lines, and print the numbers.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BootResult, ROOT, boot, expectExit } from "./qemu";

const EXIT_INIT_OK = 33; // init exited with status 0
const BOOT_TIMEOUT = 240_000; // TCG on a 2-core machine, up to three boots at once
const TEST_TIMEOUT = 300_000;

/**
 * qemu.ts caches one ISO per command line and kernel build, not per
 * initramfs: after user/cowtest.c changes, the same command line would boot
 * the old program. A word naming the initramfs contents (the kernel ignores
 * unknown words) makes the command line, and so the ISO, follow it.
 */
let initramfsStamp = "";

function runCowtest(scenario: string, memory: string, debug = false): Promise<BootResult> {
  const options = debug ? " loglevel=debug" : "";
  return boot({
    cmdline: `exit=qemu${options} init=/bin/cowtest -- ${scenario}`,
    memory,
    timeoutMs: BOOT_TIMEOUT,
  });
}

/** Fails with the whole console output unless `pattern` occurs in it. */
function expectLine(result: BootResult, pattern: RegExp): RegExpMatchArray {
  const match = result.serial.match(pattern);
  if (!match) throw new Error(`${pattern} not found in the console output:\n${result.serial}`);
  return match;
}

function lines(result: BootResult, pattern: RegExp): string[] {
  return result.serial.split("\n").filter((line) => pattern.test(line));
}

/** The program's own verdict, and nothing the leak check or a failed check printed. */
function expectPassed(result: BootResult, scenario: string): void {
  expectExit(result, EXIT_INIT_OK);
  expectLine(result, new RegExp(`^cowtest ${scenario}: ok$`, "m"));
  expect(lines(result, /FAIL|^memcheck: |KERNEL PANIC/), result.serial).toEqual([]);
  expectLine(result, /^init: exited with status 0$/m);
}

/** Prints the measured lines into the test output. */
function show(title: string, result: BootResult, pattern: RegExp): void {
  console.log(`${title} (${(result.milliseconds / 1000).toFixed(1)} s)\n  ${lines(result, pattern).join("\n  ")}`);
}

// The kernel's per-process exit lines with loglevel=debug.
const KERNEL_COW = /^cowtest\[\d+\] (copy-on-write|faults): /;

describe.concurrent("copy-on-write and paging (user/cowtest.c)", () => {
  it("twothirds: fork of a process holding 2/3 of memory copies nothing; exit frees everything (twice)", async () => {
    const result = await runCowtest("twothirds", "128M", true);
    expectPassed(result, "twothirds");
    show("twothirds", result, /^twothirds |^cowtest\[\d+\] copy-on-write: /);
    for (const round of [1, 2]) {
      const m = expectLine(result, new RegExp(
        `^twothirds round ${round}: MemFree (\\d+) kB; wrote (\\d+) pages .*free_frames: start (\\d+), after writing (\\d+), ` +
        `in the child after fork (\\d+) \\(fork cost (\\d+) frames\\), after child exit \\+ parent rewrite (\\d+), after munmap (\\d+)$`,
        "m"));
      const [freeKb, pages, start, written, , forkCost, rewritten, end] = m.slice(1).map(Number);
      expect(pages).toBeGreaterThanOrEqual(Math.floor((freeKb / 4) * 2 / 3) - 1);
      expect(start - written).toBeGreaterThanOrEqual(pages);
      expect(forkCost).toBeLessThan(pages / 50); // page tables and a kernel stack, not the pages
      expect(rewritten).toBe(written); // the parent's writes after the child's exit reused every frame
      expect(end).toBe(start);
      const child = expectLine(result, new RegExp(
        `^twothirds round ${round} child: cow_copies (\\d+) cow_reuses (\\d+) shared_at_fork (\\d+);`, "m"));
      expect(Number(child[3])).toBeGreaterThanOrEqual(pages);
      expect(Number(child[1])).toBeLessThan(64);
      const parent = expectLine(result, new RegExp(`^twothirds round ${round} parent: cow_copies (\\d+) cow_reuses (\\d+)`, "m"));
      expect(Number(parent[2])).toBeGreaterThanOrEqual(pages);
    }
    expect(lines(result, KERNEL_COW).length).toBeGreaterThanOrEqual(6); // two children and init, two lines each
  }, TEST_TIMEOUT);

  it("generations: three nested forks writing overlapping parts each see only their own and earlier writes", async () => {
    const result = await runCowtest("generations", "128M", true);
    expectPassed(result, "generations");
    show("generations", result, /^generations |^cowtest\[\d+\] copy-on-write: /);
    for (const depth of [0, 1, 2, 3]) expectLine(result, new RegExp(`^generations depth ${depth} \\(pid \\d+\\): cow_copies \\d+`, "m"));
    expectLine(result, /^generations: free_frames (\d+) before, \1 after; 4 processes/m);
  }, TEST_TIMEOUT);

  it("pipe: read() into memory shared copy-on-write changes only the reader's copy", async () => {
    const result = await runCowtest("pipe", "128M", true);
    expectPassed(result, "pipe");
    show("pipe", result, /^pipe |^cowtest\[\d+\] copy-on-write: /);
    const child = expectLine(result, /^pipe child: read\(\) into .*: (\d+) copies, (\d+) reuses, (\d+) demand-zero$/m);
    expect(Number(child[1])).toBeGreaterThanOrEqual(6); // 3 anonymous + 3 page-cache pages copied by kernel writes
    expectLine(result, /^pipe: free_frames (\d+) before, \1 after$/m);
  }, TEST_TIMEOUT);

  it("rounds: 100 rounds of three children doing fork(); fork(); leave the parent's memory intact", async () => {
    const result = await runCowtest("rounds", "128M");
    expectPassed(result, "rounds");
    show("rounds", result, /^rounds/);
    expectLine(result, /^rounds: 100 rounds, 300 children \(1200 processes\), \d+ ms; checksum [0-9a-f]{16} intact: yes$/m);
    expectLine(result, /^rounds: free_frames (\d+) before, \1 after; kernel_objects (\d+) before, \2 after$/m);
  }, TEST_TIMEOUT);

  it("sparse: 1 GiB reserved, every 64th page touched; touching an unmapped part is SIGSEGV", async () => {
    const result = await runCowtest("sparse", "128M");
    expectPassed(result, "sparse");
    show("sparse", result, /^sparse|^cowtest\[\d+\]: segfault/);
    const touched = expectLine(result, /^sparse: 1 GiB reserved, every 64th page written \((\d+) pages\): resident_pages \+(\d+), free frames -(\d+)/m);
    expect(Number(touched[1])).toBe(4096);
    expect(Number(touched[2])).toBeGreaterThanOrEqual(4096);
    expect(Number(touched[2])).toBeLessThanOrEqual(4096 + 16);
    expect(Number(touched[3])).toBeLessThanOrEqual(4096 + 512 + 16); // the pages and their page tables
    expect(lines(result, /^cowtest\[\d+\]: segfault at [0-9a-f]+ ip [0-9a-f]+ sp [0-9a-f]+ error [46]$/)).toHaveLength(3);
    expect(lines(result, /^sparse: child touching munmapped offset .*: killed by signal 11 \(SIGSEGV\)$/)).toHaveLength(3);
    expectLine(result, /^sparse: free_frames (\d+) before, \d+ with the pages written, \1 after munmap$/m);
  }, TEST_TIMEOUT);

  it("oom: a child allocating without end is killed with SIGKILL; the system goes on and nothing leaks", async () => {
    const result = await runCowtest("oom", "128M");
    expectPassed(result, "oom");
    const report = expectLine(result,
      /^Out of memory: killed process (\d+) \(cowtest\), (\d+) KiB resident, 0 KiB swapped, faulting at [0-9a-fx]+; no frame left after reclaiming the page cache and swapping$/m);
    console.log(`oom: the kernel's report, as printed:\n  ${report[0]}`);
    show("oom", result, /^oom|^Out of memory/);
    expectLine(result, new RegExp(`^oom: child ${report[1]} killed by signal 9 \\(MemFree was (\\d+) kB\\)$`, "m"));
    const free = Number(expectLine(result, /MemFree was (\d+) kB/)[1]);
    expect(Number(report[2])).toBeGreaterThan(free * 0.9); // it had (nearly) all the memory when it died
    expectLine(result, /^oom: after the kill, 4 MiB allocated, written, freed; free_frames (\d+) before, \1 after;/m);
    // Then out of memory in the middle of copy-on-write: the child copying its parent's pages is the one killed.
    expect(lines(result, /^Out of memory: killed process \d+ \(cowtest\)/)).toHaveLength(2);
    expectLine(result,
      /^oom cow: parent wrote \d+ pages, its child rewriting them killed by signal 9; parent's pages intact: yes; then rewritten in place: \d+ reuses, \d+ copies; free_frames (\d+) before, \1 after$/m);
  }, TEST_TIMEOUT);

  it("heap: 100 MiB of brk heap written, shrunk and regrown reads as zero; .bss starts zeroed", async () => {
    const result = await runCowtest("heap", "192M");
    expectPassed(result, "heap");
    show("heap", result, /^heap/);
    expectLine(result, /^heap: a 256 KiB static \.bss array started zeroed: yes$/m);
    expectLine(result, /^heap: grew by 100 MiB at 0x[0-9a-f]+ and wrote every page: (\d+) demand-zero faults/m);
    expectLine(result, /^heap: shrank back \(free frames (\d+), start \1\) and regrew 100 MiB: all 25600 pages read as zero: yes/m);
  }, TEST_TIMEOUT);

  it("sharing: a second run of a program adds no page-cache pages; MAP_PRIVATE file writes stay private", async () => {
    const result = await runCowtest("sharing", "128M", true);
    expectPassed(result, "sharing");
    show("sharing", result, /^sharing|^textread/);
    const readers = expectLine(result,
      /^sharing: reader A \(pid \d+\) read (\d+) pages .* added (\d+) cache pages; reader B \(pid \d+\) read (\d+) pages .* added (\d+) cache pages$/m);
    expect(Number(readers[1])).toBeGreaterThan(0);
    expect(Number(readers[3])).toBe(Number(readers[1]));
    expect(Number(readers[4])).toBe(0);
    expectLine(result, /^sharing: text: CachedPages \d+ at start .*, (\d+) with reader A alive, \1 with readers A and B alive; FilePages \d+, (\d+), \2 kB$/m);
    expectLine(result,
      /^sharing: MAP_PRIVATE file mapping written by a child: parent's mapping original: yes, new private mapping: yes, MAP_SHARED mapping: yes, read\(\): yes$/m);
  }, TEST_TIMEOUT);

  it("all: every scenario back to back, /proc/memcheck unchanged around each", async () => {
    const result = await runCowtest("all", "256M");
    expectPassed(result, "all");
    show("all", result, /^all: |^Out of memory: /);
    const names = ["twothirds", "generations", "pipe", "rounds", "sparse", "oom", "heap", "sharing"];
    for (const name of names) {
      const row = expectLine(result, new RegExp(`^all: ${name} +(\\S+) +exited 0 +\\d+ +0 +(\\d+) -> (\\d+) +(\\d+) -> (\\d+)$`, "m"));
      expect(row[1]).toBe("ok");
      expect(row[3]).toBe(row[2]);
      expect(row[5]).toBe(row[4]);
      expectLine(result, new RegExp(`^cowtest ${name}: ok$`, "m"));
    }
    expectLine(result, /^all: 8 of 8 scenarios passed$/m);
  }, TEST_TIMEOUT);

  it("forkfail (extra): fork with almost no memory left fails with ENOMEM and leaves nothing behind", async () => {
    const result = await runCowtest("forkfail", "128M");
    expectPassed(result, "forkfail");
    show("forkfail", result, /^forkfail/);
    expectLine(result, /^forkfail: \d+ pages written, (\d+) frames left: fork failed 4 times \(errno 12\), free frames after the failures \1; .*free_frames (\d+) before, \2 after$/m);
  }, TEST_TIMEOUT);

  it("sharedanon (extra): MAP_SHARED|MAP_ANONYMOUS memory is shared with a child, touched before fork or not", async () => {
    const result = await runCowtest("sharedanon", "128M");
    show("sharedanon", result, /^sharedanon|^cowtest sharedanon/);
    expectPassed(result, "sharedanon");
  }, TEST_TIMEOUT);

  it("mprotect (extra): making a copy-on-write or page-cache page writable again keeps it private", async () => {
    const result = await runCowtest("mprotect", "128M");
    show("mprotect", result, /^mprotect|^cowtest mprotect/);
    expectPassed(result, "mprotect");
  }, TEST_TIMEOUT);
});
