// Helpers for the user-space tests: boot a program of user/ (or any static
// binary) as init with a chosen kernel command line and initramfs, run
// scripts/run-program, compile C with musl-gcc, and make malformed ELF
// files from a valid one.
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BootResult, ROOT, boot } from "./qemu";

const run = promisify(execFile);
export const USER_BIN = join(ROOT, "build/user/bin");

/** The lines of a test program's output that report a failed check ("FAIL ...") or a kernel panic. */
export function failedChecks(output: string): string[] {
  return output.split("\n").filter((line) => line.startsWith("FAIL ") || line.includes("KERNEL PANIC"));
}

/** The build this test run boots: kernel, symbols, default initramfs (with every user/*.c program). */
export async function buildOnce(): Promise<void> {
  await run("make", ["--no-print-directory", "-s", "-C", ROOT, "build/kernel.elf", "build/kernel.sym", "build/initramfs.cpio"]);
}

/** A temporary directory, removed when the test process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tskernel-${prefix}-`));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Debian's busybox (scripts/fetch-busybox.sh), which runs on the host too. */
export const BUSYBOX = join(ROOT, "build/busybox/bin/busybox");

/** Debian's bash-static (scripts/fetch-bash.sh), /bin/bash on TSKernel; it runs on the host too. */
export const BASH = join(ROOT, "build/bash/bin/bash");

/**
 * An initramfs like the default one (user/rootfs, every program of user/ in
 * /bin, the libraries of build/libs, busybox and its applet links, bash) plus `extra` mappings such as
 * "/bin/lazy32=/tmp/x/lazy".
 */
export async function initramfsWith(extra: string[]): Promise<string> {
  const out = join(scratchDir("initramfs"), "initramfs.cpio");
  await run("node", [
    join(ROOT, "scripts/make-initramfs.mjs"), out, `/=${join(ROOT, "user/rootfs")}`, `/bin=${USER_BIN}`,
    `/=${join(ROOT, "build/libs")}`, `/=${join(ROOT, "build/busybox")}`, `/=${join(ROOT, "build/bash")}`, ...extra,
  ]);
  return out;
}

export interface InitOptions {
  /** Program name: runs /bin/NAME as init. */
  program: string;
  /** argv[1..] on the kernel command line (after "--": no spaces inside). */
  args?: string[];
  /** More kernel command-line words, e.g. "loglevel=debug". */
  options?: string;
  /** Initramfs to boot; default build/initramfs.cpio. */
  initramfs?: string;
  memory?: string;
  timeoutMs?: number;
  /** Disk images to attach (IMAGE for virtio-blk, IMAGE,ahci for SATA), in order. */
  disks?: string[];
}

/** The kernel command line that runs a program as init. */
export function initCommandLine(o: InitOptions): string {
  const args = o.args ?? [];
  for (const a of args) if (/\s/.test(a) || a === "") throw new Error(`argument "${a}" cannot go on the command line`);
  return `exit=qemu ${o.options ? `${o.options} ` : ""}init=/bin/${o.program}${args.length ? ` -- ${args.join(" ")}` : ""}`;
}

/** Boots with `/bin/PROGRAM` as init; resolves when QEMU ends (or is killed after the timeout). */
export function bootInit(o: InitOptions): Promise<BootResult> {
  return boot({ cmdline: initCommandLine(o), memory: o.memory, timeoutMs: o.timeoutMs, initramfs: o.initramfs, disks: o.disks });
}

/** What the program printed: the console after "boot complete". */
export function programOutput(serial: string): string {
  const at = serial.indexOf("boot complete\n");
  return at < 0 ? serial : serial.slice(at + "boot complete\n".length);
}

/** A script's output by section ("=== NAME" lines start one), as the busybox tour and the bash script print it. */
export function sections(output: string): Map<string, string> {
  const found = new Map<string, string>();
  let name = "";
  for (const line of output.split("\n")) {
    const start = line.match(/^=== (\S+)$/);
    if (start) found.set((name = start[1]), "");
    else if (name) found.set(name, `${found.get(name)}${line}\n`);
  }
  return found;
}

export interface FaultCounts {
  zeroPage: number;
  demandZero: number;
  file: number;
  resident: number;
}

/** The loglevel=debug exit line "NAME[PID] faults: Z zero-page, D demand-zero, F file; R pages resident". */
export function faultCounts(serial: string, name: string): FaultCounts {
  const m = serial.match(new RegExp(
    `${name}\\[\\d+\\] faults: (\\d+) zero-page, (\\d+) demand-zero, (\\d+) file; (\\d+) pages resident`));
  if (!m) throw new Error(`no fault counts for ${name} in the serial log:\n${serial}`);
  return { zeroPage: Number(m[1]), demandZero: Number(m[2]), file: Number(m[3]), resident: Number(m[4]) };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs scripts/run-program with these arguments. */
export function runProgram(args: string[], timeoutMs = 90_000): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(ROOT, "scripts/run-program"), args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk.toString("latin1")));
    child.stderr.on("data", (chunk) => (stderr += chunk.toString("latin1")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout: stdout.replace(/\r\n/g, "\n"), stderr });
    });
  });
}

/** Compiles C source text into a static musl binary at `out` (a static PIE with `staticPie`). */
export async function compileC(source: string, out: string, flags: string[] = [], staticPie = false): Promise<void> {
  const file = `${out}.c`;
  writeFileSync(file, source);
  if (staticPie) await run(join(ROOT, "scripts/musl-static-pie"), ["-O2", "-Wall", ...flags, "-o", out, file]);
  else await run("musl-gcc", ["-static", "-O2", "-Wall", ...flags, "-o", out, file]);
}

// ---- Malformed ELF files -------------------------------------------------

const PT_LOAD = 1;
const PT_INTERP = 3;
const PF_X = 1;
const PF_W = 2;

interface ProgramHeader {
  index: number;
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

function programHeaders(elf: Buffer): ProgramHeader[] {
  const phoff = Number(elf.readBigUInt64LE(32));
  const count = elf.readUInt16LE(56);
  return Array.from({ length: count }, (_, index) => {
    const at = phoff + index * 56;
    return {
      index, type: elf.readUInt32LE(at), flags: elf.readUInt32LE(at + 4), offset: elf.readBigUInt64LE(at + 8),
      vaddr: elf.readBigUInt64LE(at + 16), filesz: elf.readBigUInt64LE(at + 32), memsz: elf.readBigUInt64LE(at + 40),
    };
  });
}

interface Layout {
  size: bigint;
  phoff: number;
  loads: ProgramHeader[];
  code: ProgramHeader;
  writable: ProgramHeader;
  rodata: ProgramHeader;
  other: ProgramHeader;
}

/**
 * The layout GNU ld gives a static musl program: a read-only first segment
 * holding the headers, a code segment, a read-only data segment, a
 * writable data segment, and a non-LOAD header (GNU_STACK).
 */
function layoutOf(base: Buffer): Layout {
  const headers = programHeaders(base);
  const loads = headers.filter((h) => h.type === PT_LOAD);
  const code = loads.find((h) => h.flags & PF_X);
  const writable = loads.find((h) => h.flags & PF_W);
  const rodata = loads.find((h) => h !== loads[0] && !(h.flags & (PF_X | PF_W)));
  const other = headers.find((h) => h.type !== PT_LOAD);
  if (!code || !writable || !rodata || !other || loads.length !== 4) throw new Error("base ELF has an unexpected layout");
  return { size: BigInt(base.length), phoff: Number(base.readBigUInt64LE(32)), loads, code, writable, rodata, other };
}

type Field = "type" | "offset" | "vaddr" | "filesz" | "memsz";

/** Makes the non-LOAD header a PT_INTERP naming `filesz` bytes at `offset`. */
function setInterpreter(elf: Buffer, l: Layout, offset: bigint, filesz: bigint): void {
  setField(elf, l, l.other, "type", BigInt(PT_INTERP));
  setField(elf, l, l.other, "offset", offset);
  setField(elf, l, l.other, "filesz", filesz);
}

function setField(elf: Buffer, l: Layout, h: ProgramHeader, field: Field, value: bigint): void {
  const at = l.phoff + h.index * 56;
  if (field === "type") elf.writeUInt32LE(Number(value), at);
  else elf.writeBigUInt64LE(value, at + { offset: 8, vaddr: 16, filesz: 32, memsz: 40 }[field]);
  if (field === "vaddr") elf.writeBigUInt64LE(value, at + 24); // p_paddr alike
}

type Patch = (elf: Buffer, l: Layout) => Buffer | void;

/**
 * Variants of a valid static x86-64 executable, each broken in one way
 * that the kernel must refuse with ENOEXEC (kernel/proc/elf.ts names the
 * checks). Each patches a copy of the base.
 */
const MALFORMED: [string, Patch][] = [
  // The file header.
  ["empty", () => Buffer.alloc(0)],
  ["truncated-header", (e) => e.subarray(0, 52)],
  ["bad-magic", (e) => void (e[1] = 0x58)], // "\x7fXLF"
  ["class-32", (e) => void (e[4] = 1)], // ELFCLASS32
  ["big-endian", (e) => void (e[5] = 2)], // ELFDATA2MSB
  ["bad-version", (e) => void e.writeUInt32LE(0, 20)], // e_version 0 (Linux does not check it)
  ["type-rel", (e) => void e.writeUInt16LE(1, 16)], // ET_REL: an object file
  ["machine-i386", (e) => void e.writeUInt16LE(3, 18)],
  ["machine-aarch64", (e) => void e.writeUInt16LE(183, 18)],
  // The program header table.
  ["phentsize-32", (e) => void e.writeUInt16LE(32, 54)],
  ["phnum-0", (e) => void e.writeUInt16LE(0, 56)],
  ["phnum-65535", (e) => void e.writeUInt16LE(0xffff, 56)],
  ["phoff-past-end", (e, l) => void e.writeBigUInt64LE(l.size - 56n, 32)], // one header fits, not six
  ["phoff-wraps", (e) => void e.writeBigUInt64LE(0xfffffffffffffff0n, 32)],
  // 256 entries fit in the file but not in one page, which is all Linux reads.
  ["phnum-256", (e) => void e.writeUInt16LE(256, 56)],
  // Segment file ranges.
  ["segment-offset-past-end", (e, l) => setField(e, l, l.code, "offset", ((l.size + 0xfffn) & ~0xfffn) | (l.code.vaddr & 0xfffn))],
  ["segment-filesz-past-end", (e, l) => {
    setField(e, l, l.code, "filesz", l.size - l.code.offset + 1n);
    setField(e, l, l.code, "memsz", l.size - l.code.offset + 1n);
  }],
  ["segment-offset-wraps", (e, l) => setField(e, l, l.code, "offset", 0xfffffffffffff000n | (l.code.vaddr & 0xfffn))],
  ["filesz-above-memsz", (e, l) => {
    if (l.writable.offset + l.writable.memsz + 1n > l.size) throw new Error("base ELF: writable segment too near the end");
    setField(e, l, l.writable, "filesz", l.writable.memsz + 1n);
  }],
  // Segment addresses.
  ["misaligned-segment", (e, l) => setField(e, l, l.code, "vaddr", l.code.vaddr + 0x800n)], // vaddr and offset disagree mod 4096
  ["overlapping-segments", (e, l) => setField(e, l, l.rodata, "vaddr", l.code.vaddr + 0x1000n + (l.rodata.vaddr & 0xfffn))],
  ["segment-in-kernel-space", (e, l) => setField(e, l, l.writable, "vaddr", 0xffff800000000000n | (l.writable.vaddr & 0xfffn))],
  ["segment-above-user-space", (e, l) => setField(e, l, l.writable, "vaddr", 0x0000800000000000n | (l.writable.vaddr & 0xfffn))],
  ["segment-end-wraps", (e, l) => setField(e, l, l.writable, "memsz", 0xffffffffffff0000n)],
  ["segment-in-null-page", (e, l) => setField(e, l, l.loads[0], "vaddr", 0n)],
  ["entry-in-data", (e, l) => void e.writeBigUInt64LE(l.rodata.vaddr, 24)], // readable, not executable
  ["entry-unmapped", (e) => void e.writeBigUInt64LE(0x300000n, 24)],
  ["entry-past-code", (e, l) => void e.writeBigUInt64LE(l.code.vaddr + l.code.memsz, 24)], // one byte past the end
  // Segment kinds and counts.
  // Interpreter paths (Linux's checks before it looks for the file).
  ["interp-empty", (e, l) => setField(e, l, l.other, "type", BigInt(PT_INTERP))], // GNU_STACK's size 0: under 2 bytes
  ["interp-one-byte", (e, l) => setInterpreter(e, l, 9n, 1n)], // a lone NUL from e_ident's padding
  ["interp-too-long", (e, l) => setInterpreter(e, l, 0n, 4097n)], // beyond PATH_MAX
  ["interp-unterminated", (e, l) => setInterpreter(e, l, 1n, 4n)], // "ELF\x02": no NUL at its end
  ["no-load-segment", (e, l) => {
    for (const h of l.loads) setField(e, l, h, "type", 0n); // PT_NULL
  }],
  ["too-many-segments", (e, l) => {
    // 17 copies of the writable segment's header (one more than the kernel
    // takes) from the table's start into the padding before the code.
    const count = 17;
    if (l.phoff + count * 56 > Number(l.code.offset)) throw new Error("base ELF: no room for 17 program headers");
    const row = Buffer.from(e.subarray(l.phoff + l.writable.index * 56, l.phoff + l.writable.index * 56 + 56));
    for (let i = 0; i < count; i++) row.copy(e, l.phoff + i * 56);
    e.writeUInt16LE(count, 56);
  }],
];

export const MALFORMED_ELF_NAMES = MALFORMED.map(([name]) => name);

/** The malformed variants of `base`, by name. */
export function malformedElfs(base: Buffer): Map<string, Buffer> {
  const layout = layoutOf(base);
  return new Map(MALFORMED.map(([name, patch]) => {
    const copy = Buffer.from(base);
    return [name, patch(copy, layout) ?? copy];
  }));
}

/**
 * Writes the variants of `base` into DIR/badelf/ (executable files), with
 * the unmodified base as DIR/badelf/valid.
 */
export function writeMalformedElfs(base: Buffer, dir: string): void {
  mkdirSync(join(dir, "badelf"), { recursive: true });
  for (const [name, data] of malformedElfs(base)) writeFileSync(join(dir, "badelf", name), data, { mode: 0o755 });
  writeFileSync(join(dir, "badelf", "valid"), base, { mode: 0o755 });
}

/**
 * Odd but valid variants that Linux runs: e_phnum larger than the real
 * table (the extra "entries" are the bytes after it), written into
 * DIR/oddelf/phnum-N. AT_PHDR must still point at the table.
 */
export function writeOddElfs(base: Buffer, dir: string): void {
  mkdirSync(join(dir, "oddelf"), { recursive: true });
  for (const count of [7, 17]) {
    const copy = Buffer.from(base);
    copy.writeUInt16LE(count, 56);
    writeFileSync(join(dir, "oddelf", `phnum-${count}`), copy, { mode: 0o755 });
  }
}
