// User space: static musl programs (user/*.c) run as init. Checks what a
// program sees at start (argv, envp, auxv), that bad memory accesses kill
// it with the right report and signal, that ELF segments and anonymous
// memory are paged in lazily (fault counts from loglevel=debug), that
// system calls refuse bad input with the right errno (malformed ELF files
// included), and that scripts/run-program runs a binary built anywhere.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FaultCounts, MALFORMED_ELF_NAMES, USER_BIN, bootInit, buildOnce, compileC, faultCounts, initramfsWith, programOutput,
  runProgram, scratchDir, writeMalformedElfs,
} from "./programs";
import { BootResult, EXIT_FAILURE, ROOT, expectExit } from "./qemu";

const EXIT_INIT_OK = 33; // init exited with status 0
const EXIT_INIT_FAILED = 39; // init exited non-zero, or was killed
const MIB = 1n << 20n;
const STACK_TOP = 0x7ffffffff000n; // kernel/mm/address_space.ts, where norandmaps leaves it
const STACK_BOTTOM = STACK_TOP - 8n * MIB;
const GUARD_BOTTOM = STACK_BOTTOM - MIB; // the never-mapped gap below the stack
const TEST_TIMEOUT = 180_000; // a boot may wait for a free core; each QEMU run is limited to 60 s

/** Fails with the serial log unless `pattern` occurs in it. */
function expectLog(result: BootResult | string, pattern: RegExp | string): RegExpMatchArray {
  const log = typeof result === "string" ? result : result.serial;
  const match = typeof pattern === "string" ? (log.includes(pattern) ? [pattern] as RegExpMatchArray : null) : log.match(pattern);
  if (!match) throw new Error(`${pattern} not found in the console output:\n${log}`);
  return match;
}

function expectNoPanic(log: string): void {
  if (log.includes("KERNEL PANIC")) throw new Error(`kernel panic:\n${log}`);
}

/** ELF facts a program can be checked against. */
function elfInfo(path: string) {
  const elf = readFileSync(path);
  const phoff = elf.readBigUInt64LE(32);
  const count = elf.readUInt16LE(56);
  const loads = [];
  for (let i = 0; i < count; i++) {
    const at = Number(phoff) + i * 56;
    if (elf.readUInt32LE(at) !== 1) continue;
    loads.push({
      flags: elf.readUInt32LE(at + 4), offset: elf.readBigUInt64LE(at + 8),
      vaddr: elf.readBigUInt64LE(at + 16), filesz: elf.readBigUInt64LE(at + 32), memsz: elf.readBigUInt64LE(at + 40),
    });
  }
  const code = loads.find((l) => l.flags & 1)!;
  const headers = loads.find((l) => phoff >= l.offset && phoff < l.offset + l.filesz)!;
  return {
    entry: elf.readBigUInt64LE(24), phnum: count, phdr: headers.vaddr + (phoff - headers.offset),
    codeStart: code.vaddr, codeEnd: code.vaddr + code.memsz,
  };
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

beforeAll(async () => {
  await buildOnce(); // user programs and the initramfs are up to date before any boot
}, 600_000);

describe.concurrent("user programs: what init sees at start", () => {
  it("hello gets argv, envp and an auxiliary vector that match its ELF file", async () => {
    const result = await bootInit({ program: "hello", args: ["one", "two=2", "--three"] });
    expectExit(result, EXIT_INIT_OK);
    const out = programOutput(result.serial);
    const elf = elfInfo(join(USER_BIN, "hello"));
    expect(out, result.serial).toContain("hello, world from /bin/hello (pid 1)\n");
    expect(out, result.serial).toContain(
      'argc=4\nargv[0]="/bin/hello"\nargv[1]="one"\nargv[2]="two=2"\nargv[3]="--three"\n');
    // Exactly the environment init gets, in order, and nothing else.
    expect(out.split("\n").filter((l) => l.startsWith("env: ")), result.serial)
      .toEqual(["env: HOME=/", "env: PATH=/sbin:/usr/sbin:/bin:/usr/bin", "env: TERM=linux", "env: SHELL=/bin/sh"]);
    expect(out, result.serial).toContain(
      `auxv: AT_PAGESZ=4096 AT_PHNUM=${elf.phnum} AT_ENTRY=${hex(elf.entry)} AT_PHDR=${hex(elf.phdr)} random=yes\n`);
    expect(out, result.serial).toContain("malloc'd and filled 100000 bytes: ok");
    expect(out, result.serial).toContain("init: exited with status 0");
  }, TEST_TIMEOUT);

  it("hello's exit status reaches the console and QEMU's status", async () => {
    const result = await bootInit({ program: "hello", args: ["fail"] });
    expectExit(result, EXIT_INIT_FAILED);
    expectLog(result, 'argv[1]="fail"');
    expectLog(result, "init: exited with status 3\n");
  }, TEST_TIMEOUT);

  it("a missing init program is reported and fails the boot", async () => {
    const result = await bootInit({ program: "no-such-program" });
    expectExit(result, EXIT_FAILURE);
    expectLog(result, "init: /bin/no-such-program: no such file in the initramfs");
  }, TEST_TIMEOUT);
});

interface CrashCase {
  kind: string;
  errors: number[]; // acceptable page-fault error codes
  address: "announced" | bigint | [bigint, bigint]; // exact, or a range [low, high)
  ipIsAddress?: boolean; // an instruction fetch: the faulting address is the instruction pointer
  before?: string; // a line the program prints before the bad access
}

const CRASHES: CrashCase[] = [
  { kind: "null", errors: [0x4], address: 0n },
  { kind: "write-text", errors: [0x7], address: "announced" },
  // The data page may or may not be present yet: either way a user fetch.
  { kind: "exec-data", errors: [0x14, 0x15], address: "announced", ipIsAddress: true },
  { kind: "exec-stack", errors: [0x15], address: "announced", ipIsAddress: true },
  // Kernel memory is either not mapped or supervisor-only: a user read.
  { kind: "kernel-read", errors: [0x4, 0x5], address: 0xffffffff80000000n },
  { kind: "stack-overflow", errors: [0x6], address: [GUARD_BOTTOM, STACK_BOTTOM] },
  { kind: "use-after-munmap", errors: [0x4], address: "announced" },
  {
    kind: "write-after-mprotect", errors: [0x7], address: "announced",
    before: "crash: still readable after mprotect: yes",
  },
  {
    kind: "exec-after-mprotect", errors: [0x15], address: "announced", ipIsAddress: true,
    before: "crash: executed the page while PROT_EXEC",
  },
  { kind: "prot-none", errors: [0x4, 0x5], address: "announced" },
];

describe.concurrent("user programs: bad memory accesses are killed with SIGSEGV and reported", () => {
  const crashElf = () => elfInfo(join(USER_BIN, "crash"));
  for (const c of CRASHES) {
    it(`crash ${c.kind}`, async () => {
      const crash = crashElf();
      // At fixed addresses, so that the stack is where these checks expect it.
      const result = await bootInit({ program: "crash", args: [c.kind], options: "norandmaps" });
      expectExit(result, EXIT_INIT_FAILED);
      const log = result.serial;
      expectNoPanic(log);
      if (c.before) expectLog(log, c.before);
      const announced = BigInt(expectLog(log, new RegExp(`crash: ${c.kind} at (0x[0-9a-f]+|0)\\n`))[1]);
      const m = expectLog(log, /crash\[1\]: segfault at ([0-9a-f]+) ip ([0-9a-f]+) sp ([0-9a-f]+) error ([0-9a-f]+)\n/);
      const [address, ip, sp] = [m[1], m[2], m[3]].map((x) => BigInt(`0x${x}`));
      const error = Number.parseInt(m[4], 16);
      const where = `report: ${m[0]}\nserial log:\n${log}`;
      expect(c.errors, `error code ${error.toString(16)}; ${where}`).toContain(error);
      if (c.address === "announced") expect(hex(address), where).toBe(hex(announced));
      else if (typeof c.address === "bigint") expect(hex(address), where).toBe(hex(c.address));
      else {
        expect(address >= c.address[0] && address < c.address[1], `address ${hex(address)} outside ` +
          `[${hex(c.address[0])}, ${hex(c.address[1])}); ${where}`).toBe(true);
      }
      if (c.ipIsAddress) expect(hex(ip), where).toBe(hex(address));
      else expect(ip >= crash.codeStart && ip < crash.codeEnd, `ip outside the code segment; ${where}`).toBe(true);
      if (c.kind === "stack-overflow") {
        // The push or store that overflowed: the stack pointer is in the gap too, near the address.
        expect(sp >= GUARD_BOTTOM && sp < STACK_BOTTOM && address - sp < 0x10000n, where).toBe(true);
      } else {
        expect(sp >= STACK_BOTTOM && sp < STACK_TOP, `sp outside the stack; ${where}`).toBe(true);
      }
      expectLog(log, "init: killed by signal 11 (SIGSEGV)\n");
      expect(log, where).not.toContain("survived the bad access");
    }, TEST_TIMEOUT);
  }

  it("crash noncanonical: a non-canonical address is a general-protection fault, SIGSEGV", async () => {
    const result = await bootInit({ program: "crash", args: ["noncanonical"] });
    expectExit(result, EXIT_INIT_FAILED);
    expectNoPanic(result.serial);
    const m = expectLog(result, /traps: crash\[1\] general protection ip:([0-9a-f]+) sp:([0-9a-f]+) error:0\n/);
    const ip = BigInt(`0x${m[1]}`);
    const crash = crashElf();
    expect(ip >= crash.codeStart && ip < crash.codeEnd, result.serial).toBe(true);
    expectLog(result, "init: killed by signal 11 (SIGSEGV)\n");
  }, TEST_TIMEOUT);

  it("crash ud2: an invalid opcode is SIGILL", async () => {
    const result = await bootInit({ program: "crash", args: ["ud2"] });
    expectExit(result, EXIT_INIT_FAILED);
    expectNoPanic(result.serial);
    expectLog(result, /traps: crash\[1\] invalid opcode ip:[0-9a-f]+ sp:[0-9a-f]+ error:0\n/);
    expectLog(result, "init: killed by signal 4 (SIGILL)\n");
  }, TEST_TIMEOUT);
});

describe.concurrent("user programs: memory arrives on first touch", () => {
  it("demandzero: sparse touches of 80 MiB of anonymous memory cost only the touched pages", async () => {
    const result = await bootInit({ program: "demandzero", options: "loglevel=debug" });
    expectExit(result, EXIT_INIT_OK);
    const out = programOutput(result.serial);
    expect(out.match(/^FAIL .*/gm), result.serial).toBeNull();
    expect(out.match(/^ok /gm)?.length, result.serial).toBe(8);
    const faults = faultCounts(result.serial, "demandzero");
    console.log(`demandzero: ${JSON.stringify(faults)}`);
    const where = `${JSON.stringify(faults)}\n${result.serial}`;
    // 64 + 16 pages written, 4 zero-page pages written later; hello, the
    // smallest program, takes 1 demand-zero fault (its stack).
    expect(faults.demandZero, where).toBeGreaterThanOrEqual(84);
    expect(faults.demandZero, where).toBeLessThanOrEqual(84 + 8);
    // 64 + 16 pages only read: the shared zero page, no frame each.
    expect(faults.zeroPage, where).toBeGreaterThanOrEqual(80);
    expect(faults.zeroPage, where).toBeLessThanOrEqual(80 + 8);
    // 20480 pages of address space; the written ones and the program's own.
    expect(faults.resident, where).toBeLessThan(84 + 40);
  }, TEST_TIMEOUT);

  it("lazy: a 32 MiB executable is paged in on demand, exactly like a 16 KiB one", async () => {
    const dir = scratchDir("lazy");
    const big = join(dir, "lazy32");
    await compileC(readFileSync(join(ROOT, "user/lazy.c"), "utf8"), big, ["-DBLOB_SIZE=(32<<20)"]);
    expect(statSync(big).size).toBeGreaterThan(32 * 1024 * 1024);
    const initramfs = await initramfsWith([`/bin/lazy32=${big}`]);
    // At fixed addresses: where the randomised stack's contents fall across pages changes its fault count.
    const [small, large, hello] = await Promise.all([
      bootInit({ program: "lazy", options: "loglevel=debug norandmaps" }),
      bootInit({ program: "lazy32", options: "loglevel=debug norandmaps", initramfs }),
      bootInit({ program: "hello", options: "loglevel=debug norandmaps" }),
    ]);
    for (const r of [small, large, hello]) expectExit(r, EXIT_INIT_OK);
    expectLog(small, "lazy: blob of 16384 bytes");
    expectLog(large, "lazy: blob of 33554432 bytes");
    for (const r of [small, large]) {
      expectLog(r, "lazy: blob[0] = 1 ");
      expectLog(r, /lazy: blob\[\d+\] = 2 /);
      expectLog(r, /lazy: blob\[\d+\] = 3 /);
      expectLog(r, "lazy: ok\n");
    }
    const counts: Record<string, FaultCounts> = {
      lazy: faultCounts(small.serial, "lazy"), lazy32: faultCounts(large.serial, "lazy32"), hello: faultCounts(hello.serial, "hello"),
    };
    const reached = (r: BootResult) => r.serial.match(/main reached (\d+) us/)?.[1];
    console.log(`lazy loading: ${JSON.stringify(counts)}; main reached after ${reached(small)} us (16 KiB) and ` +
      `${reached(large)} us (32 MiB) of kernel clock; QEMU wall time ${small.milliseconds} ms and ${large.milliseconds} ms`);
    const where = `${JSON.stringify(counts)}\n${large.serial}`;
    // The same code touches the same pages: 8192 more pages in the file change nothing.
    expect(counts.lazy32, where).toEqual(counts.lazy);
    // Three blob pages more than hello, give or take a few of its own code and data.
    expect(counts.lazy32.file, where).toBeLessThanOrEqual(counts.hello.file + 3 + 8);
    expect(counts.lazy32.resident, where).toBeLessThan(40);
    // Each blob read was one minor fault, no more (one more page may be the stack's).
    expectLog(large, /lazy: [34] minor faults while reading the blob/);
  }, TEST_TIMEOUT);
});

describe.concurrent("user programs: the vDSO", () => {
  it("vdso: clock reads through the kernel's shared object agree with the system call and make none", async () => {
    const result = await bootInit({ program: "vdso" });
    expectExit(result, EXIT_INIT_OK);
    const out = programOutput(result.serial);
    expect(out.match(/^FAIL .*/gm), result.serial).toBeNull();
    for (const check of [
      "auxv-sysinfo-ehdr", "elf-header", "symbols", "monotonic", "realtime", "boottime", "cputime-falls-back",
      "bad-clock-einval", "gettimeofday", "time", "libc-uses-vdso", "vvar-read-only", "text-read-only", "maps-vvar-vdso",
      "maps-stack-and-text", "child-after-fork",
    ]) expect(out, result.serial).toContain(`ok ${check}\n`);
    expect(out, result.serial).toContain("vdso: 0 failed\n");
    // The two writes are killed with the usual report: a write (error 7:
    // present, write, user) to the page below the ELF header and into it.
    const faults = [...out.matchAll(/vdso\[\d+\]: segfault at ([0-9a-f]+) ip [0-9a-f]+ sp [0-9a-f]+ error 7\n/g)]
      .map((m) => BigInt(`0x${m[1]}`));
    expect(faults.length, out).toBe(2);
    expect(faults[1] - faults[0], out).toBe(0x1100n);
    expect(faults[0] % 4096n, out).toBe(0n);
  }, TEST_TIMEOUT);
});

describe.concurrent("user programs: system calls with bad input", () => {
  // One run serves every test here: the malformed ELFs (made from hello)
  // go into the initramfs under /badelf/, their names on badinput's
  // command line.
  const names = MALFORMED_ELF_NAMES;
  let run: ReturnType<typeof runProgram> | undefined;
  const badinput = () => (run ??= (async () => {
    const dir = scratchDir("badelf");
    writeMalformedElfs(readFileSync(join(USER_BIN, "hello")), dir);
    return runProgram(["--with", dir, join(USER_BIN, "badinput"), ...names]);
  })());

  it("badinput: every check passes, then exec of the unmodified ELF works", async () => {
    const result = await badinput();
    const out = result.stdout;
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${out}`;
    expectNoPanic(out);
    expect(out.match(/^FAIL .*/gm), where).toBeNull();
    expect(out, where).toContain("badinput: 0 failed\n");
    // The control: exec of the base the variants were made from, after all the failed execs.
    expect(out, where).toContain("hello, world from badinput-control (pid 1)\n");
    expect(out, where).toContain('argv[3]="execs"\nenv: BADINPUT=done\n');
    expect(out, where).toContain("init: exited with status 0\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it("badinput: a write running into an unmapped page returns the readable part or EFAULT", async () => {
    const result = await badinput();
    const m = expectLog(result.stdout, /write of 8192 bytes with 1024 readable returned (-?\d+)/);
    expect([1024, -14]).toContain(Number(m[1]));
  }, TEST_TIMEOUT);

  it("badinput: an unknown system call is reported on the console and returns ENOSYS", async () => {
    const result = await badinput();
    expectLog(result.stdout, "ok syscall-400");
    expectLog(result.stdout, /called unknown system call 400; returning ENOSYS/);
  }, TEST_TIMEOUT);

  for (const name of names) {
    it(`execve of a malformed ELF: ${name} gives ENOEXEC`, async () => {
      const result = await badinput();
      if (!result.stdout.includes(`ok execve-${name}\n`)) {
        const line = result.stdout.split("\n").find((l) => l.includes(`execve-${name}:`));
        throw new Error(`execve of /badelf/${name}: ${line ?? "no result line"}\nconsole:\n${result.stdout}`);
      }
    }, TEST_TIMEOUT);
  }
});

describe.concurrent("user programs: errno where this kernel differs from Linux", () => {
  let run: Promise<BootResult> | undefined;
  const linuxErrno = () => (run ??= bootInit({ program: "badinput", args: ["--linux-errno"] }));
  const expectOk = async (check: string) => {
    const result = await linuxErrno();
    expectNoPanic(result.serial);
    if (!result.serial.includes(`ok ${check}\n`)) {
      const line = result.serial.split("\n").find((l) => l.startsWith(`FAIL ${check}:`));
      throw new Error(`${line ?? `no result for ${check}`}\nserial log:\n${result.serial}`);
    }
  };

  // Differences from Linux once, now fixed in the kernel.
  it("execve of a directory gives EACCES", () => expectOk("execve-directory"), TEST_TIMEOUT);
  it("execve of a file without execute permission gives EACCES",
    () => expectOk("execve-without-execute-permission"), TEST_TIMEOUT);
  it("arch_prctl(ARCH_SET_FS) with a kernel address gives EPERM",
    () => expectOk("arch_prctl-set-fs-kernel"), TEST_TIMEOUT);
  // The last page below the canonical boundary stays out of user space: a
  // `syscall` in its last bytes would return to a non-canonical address.
  it("mmap of the last page below the canonical boundary gives ENOMEM",
    () => expectOk("mmap-last-user-page"), TEST_TIMEOUT);
});

describe.concurrent("scripts/run-program", () => {
  const dir = scratchDir("outside");
  const programs = (async () => {
    const greet = join(dir, "greet");
    const segv = join(dir, "segv");
    await Promise.all([
      compileC(`#include <stdio.h>
int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) printf("greet: argv[%d]=<%s>\\n", i, argv[i]);
    return 7;
}
`, greet),
      compileC(`#include <stdio.h>
int main(void) {
    puts("segv: about to write through a null pointer");
    fflush(stdout);
    *(volatile int *)0 = 1;
    return 0;
}
`, segv),
    ]);
    return { greet, segv };
  })();

  it("runs a static binary built outside the repository, with its arguments byte for byte and its exit status", async () => {
    const { greet } = await programs;
    const result = await runProgram([greet, "plain", "with space", "", "tab\there"]);
    const where = `status ${result.status}; stderr: ${result.stderr}\nstdout:\n${result.stdout}`;
    expect(result.stdout, where).toContain(
      "greet: argv[0]=</bin/greet>\ngreet: argv[1]=<plain>\ngreet: argv[2]=<with space>\n" +
      "greet: argv[3]=<>\ngreet: argv[4]=<tab\there>\n");
    expect(result.stdout, where).toContain("init: exited with status 7\n");
    expect(result.status, where).toBe(7);
  }, TEST_TIMEOUT);

  it("exits with 128+11 when the program is killed by SIGSEGV", async () => {
    const { segv } = await programs;
    const result = await runProgram([segv]);
    const where = `status ${result.status}; stderr: ${result.stderr}\nstdout:\n${result.stdout}`;
    expect(result.stdout, where).toContain("segv: about to write through a null pointer\n");
    expect(result.stdout, where).toMatch(/segv\[1\]: segfault at 0 ip [0-9a-f]+ sp [0-9a-f]+ error 6\n/);
    expect(result.stdout, where).toContain("init: killed by signal 11 (SIGSEGV)\n");
    expect(result.status, where).toBe(139);
  }, TEST_TIMEOUT);
});
