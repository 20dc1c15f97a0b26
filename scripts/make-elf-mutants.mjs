#!/usr/bin/env node
// make-elf-mutants.mjs OUTDIR SEED COUNT [PROGRAM]
//
// Writes COUNT deterministic mutants of small valid static x86-64 programs
// into OUTDIR (mode 0755, names NNN-what), for `fuzz elf=DIR` to execute
// one by one: each must give ENOEXEC, run cleanly, or be killed; never a
// panic, a hang or a lost frame. The bases are a hand-built ELF (1.2 KiB:
// write(1, "tiny: hello\n"), a check that .bss is zero, exit_group) with a
// 4-entry program header table padded with zeros up to the room of 17
// entries, and PROGRAM (default build/user/bin/hello, a musl program) when
// it exists. First come the named cases (header and program-header fields
// set to extremes, truncations, overlapping or huge segments, an entry
// outside every segment, kernel-space and non-canonical addresses,
// PT_INTERP, ET_DYN, wrong machine, bad magic, e_phnum beyond the table,
// zero-length files, ...), then random ones (byte flips, fields set to
// extremes, truncations), COUNT in all. OUTDIR.json lists every file with
// what Linux 6.18 does with it, where measured ("run", "ENOEXEC", "SIGSEGV", ...).
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [outDir, seedText = "1", countText = "300", programArg] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: make-elf-mutants.mjs OUTDIR SEED COUNT [PROGRAM]");
  process.exit(2);
}
const seed = Number(seedText);
const count = Number(countText);
const programPath = programArg ?? join(root, "build/user/bin/hello");

// ---------------------------------------------------------------- random

// splitmix64 over BigInt: the same stream on every machine.
let state = (BigInt(seed) * 0x9e3779b97f4a7c15n + 0x632be59bd9b4e019n) & 0xffffffffffffffffn;
function next64() {
  state = (state + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
  return z ^ (z >> 31n);
}
const rnd = (n) => Number(next64() % BigInt(n));
const pick = (list) => list[rnd(list.length)];

// ------------------------------------------------------------- ELF layout

const PT_NULL = 0, PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_NOTE = 4, PT_PHDR = 6, PT_TLS = 7;
const PT_GNU_STACK = 0x6474e551;
const EH = { type: [16, 2], machine: [18, 2], version: [20, 4], entry: [24, 8], phoff: [32, 8], shoff: [40, 8],
  flags: [48, 4], ehsize: [52, 2], phentsize: [54, 2], phnum: [56, 2], shentsize: [58, 2], shnum: [60, 2],
  shstrndx: [62, 2] };
const PH = { type: [0, 4], flags: [4, 4], offset: [8, 8], vaddr: [16, 8], paddr: [24, 8], filesz: [32, 8],
  memsz: [40, 8], align: [48, 8] };

function put(buffer, offset, size, value) {
  value = BigInt.asUintN(64, BigInt(value));
  if (offset < 0 || offset + size > buffer.length) return;
  if (size === 1) buffer.writeUInt8(Number(value & 0xffn), offset);
  else if (size === 2) buffer.writeUInt16LE(Number(value & 0xffffn), offset);
  else if (size === 4) buffer.writeUInt32LE(Number(value & 0xffffffffn), offset);
  else buffer.writeBigUInt64LE(value, offset);
}
function get(buffer, offset, size) {
  if (size === 1) return BigInt(buffer.readUInt8(offset));
  if (size === 2) return BigInt(buffer.readUInt16LE(offset));
  if (size === 4) return BigInt(buffer.readUInt32LE(offset));
  return buffer.readBigUInt64LE(offset);
}
const setHeader = (b, name, v) => put(b, EH[name][0], EH[name][1], v);
const header = (b, name) => get(b, EH[name][0], EH[name][1]);
function phdrAt(b, i) {
  return Number(header(b, "phoff")) + i * 56;
}
const setPh = (b, i, name, v) => put(b, phdrAt(b, i) + PH[name][0], PH[name][1], v);
const ph = (b, i, name) => get(b, phdrAt(b, i) + PH[name][0], PH[name][1]);

function elfHeader(b, { entry, phoff, phnum }) {
  b.write("\x7fELF", 0, "latin1");
  b[4] = 2; // ELFCLASS64
  b[5] = 1; // little-endian
  b[6] = 1; // EV_CURRENT
  setHeader(b, "type", 2); // ET_EXEC
  setHeader(b, "machine", 62); // EM_X86_64
  setHeader(b, "version", 1);
  setHeader(b, "entry", entry);
  setHeader(b, "phoff", phoff);
  setHeader(b, "ehsize", 64);
  setHeader(b, "phentsize", 56);
  setHeader(b, "phnum", phnum);
}

function programHeader(b, at, { type, flags = 0, offset = 0, vaddr = 0, filesz = 0, memsz = filesz, align = 0x1000 }) {
  put(b, at, 4, type);
  put(b, at + 4, 4, flags);
  put(b, at + 8, 8, offset);
  put(b, at + 16, 8, vaddr);
  put(b, at + 24, 8, vaddr);
  put(b, at + 32, 8, filesz);
  put(b, at + 40, 8, memsz);
  put(b, at + 48, 8, align);
}

// The hand-built program. Table entries: 0 PT_PHDR, 1 text, 2 data, 3 stack.
const TEXT = 0x400000n, DATA = 0x600480n, CODE_OFFSET = 0x400, DATA_OFFSET = 0x480, MESSAGE = "tiny: hello\n";
const TINY_SIZE = DATA_OFFSET + 0x40;
const TEXT_INDEX = 1, DATA_INDEX = 2, STACK_INDEX = 3;
function tiny() {
  const b = Buffer.alloc(TINY_SIZE);
  elfHeader(b, { entry: TEXT + BigInt(CODE_OFFSET), phoff: 64, phnum: 4 });
  programHeader(b, 64, { type: PT_PHDR, flags: 4, offset: 64, vaddr: TEXT + 64n, filesz: 4 * 56, align: 8 });
  programHeader(b, 64 + 56, { type: PT_LOAD, flags: 5, offset: 0, vaddr: TEXT, filesz: DATA_OFFSET });
  programHeader(b, 64 + 112, { type: PT_LOAD, flags: 6, offset: DATA_OFFSET, vaddr: DATA, filesz: 0x40,
    memsz: 0x2000 - DATA_OFFSET });
  programHeader(b, 64 + 168, { type: PT_GNU_STACK, flags: 6, align: 16 });
  const imm64 = (v) => { const x = Buffer.alloc(8); x.writeBigUInt64LE(BigInt(v)); return [...x]; };
  const imm32 = (v) => { const x = Buffer.alloc(4); x.writeUInt32LE(v); return [...x]; };
  const code = [
    0xb8, ...imm32(1), // mov eax, 1 (write)
    0xbf, ...imm32(1), // mov edi, 1
    0x48, 0xbe, ...imm64(DATA), // mov rsi, message
    0xba, ...imm32(MESSAGE.length), // mov edx, length
    0x0f, 0x05, // syscall
    0x48, 0xbb, ...imm64(0x601000), // mov rbx, a .bss page
    0x48, 0x8b, 0x3b, // mov rdi, [rbx]
    0x48, 0xbb, ...imm64(DATA + 0x40n), // mov rbx, the .bss tail of the data page
    0x48, 0x0b, 0x3b, // or rdi, [rbx]   (exit status 0 only if both read zero)
    0xc7, 0x03, ...imm32(1), // mov dword [rbx], 1
    0xb8, ...imm32(231), // mov eax, 231 (exit_group)
    0x0f, 0x05, // syscall
    0x0f, 0x0b, // ud2
  ];
  Buffer.from(code).copy(b, CODE_OFFSET);
  b.write(MESSAGE, DATA_OFFSET, "latin1");
  return b;
}

const tinyBase = tiny();
const helloBase = existsSync(programPath) ? readFileSync(programPath) : null;

// ------------------------------------------------------------- mutants

// What Linux 6.18 (this project's build host) does with each named case,
// measured with a direct execve as an unprivileged user: "run" (exit 0),
// an errno, or the signal that killed it. For information: this kernel
// need not agree, it must only end each one cleanly.
const LINUX = {
  "tiny-valid": "run",
  "phnum-5": "run",
  "phnum-7": "run",
  "phnum-17": "run",
  "phnum-18-into-code": "run",
  "phnum-256-table-past-a-page": "run",
  "phnum-74-table-just-over-a-page": "run",
  "phnum-73-table-within-a-page": "run",
  "phnum-256-past-eof": "ENOEXEC",
  "phnum-65535": "ENOEXEC",
  "phnum-0": "ENOEXEC",
  "phentsize-0": "ENOEXEC",
  "phentsize-32": "ENOEXEC",
  "phentsize-55": "ENOEXEC",
  "phentsize-57": "ENOEXEC",
  "phentsize-64": "ENOEXEC",
  "phentsize-65535": "ENOEXEC",
  "phoff-past-eof": "ENOEXEC",
  "phoff-at-eof": "ENOEXEC",
  "phoff-straddles-eof": "ENOEXEC",
  "phoff-wraps": "ENOEXEC",
  "phoff-huge": "ENOEXEC",
  "phoff-0-header-as-table": "SIGSEGV",
  "phoff-unaligned": "SIGSEGV",
  "entry-0": "SIGSEGV",
  "entry-in-data": "SIGSEGV",
  "entry-past-text": "SIGSEGV",
  "entry-last-text-byte": "SIGSEGV",
  "entry-unmapped": "SIGSEGV",
  "entry-kernel": "SIGSEGV",
  "entry-direct-map": "SIGSEGV",
  "entry-non-canonical": "SIGSEGV",
  "entry-non-canonical-high": "SIGSEGV",
  "entry-minus-1": "SIGSEGV",
  "entry-in-header": "SIGSEGV",
  "text-kernel": "SIGSEGV",
  "text-direct-map": "SIGSEGV",
  "text-non-canonical": "SIGSEGV",
  "text-last-user-page": "SIGSEGV",
  "text-stack-top": "run",
  "text-crosses-user-end": "SIGSEGV",
  "text-at-0": "SIGSEGV",
  "text-at-4k": "run",
  "text-at-64k": "run",
  "text-high-valid": "run",
  "text-wraps": "SIGSEGV",
  "data-overlaps-text-page": "SIGSEGV",
  "data-same-address-as-text": "SIGSEGV",
  "data-overlaps-text-range": "SIGSEGV",
  "data-memsz-256m": "run",
  "data-memsz-2^40": "SIGSEGV",
  "data-memsz-2^46": "SIGSEGV",
  "data-memsz-to-user-end": "SIGSEGV",
  "data-memsz-past-user-end": "SIGSEGV",
  "data-memsz-wraps": "SIGSEGV",
  "data-memsz-max": "SIGSEGV",
  "data-memsz-0": "SIGSEGV",
  "data-filesz-over-memsz": "SIGSEGV",
  "data-filesz-past-eof": "SIGSEGV",
  "data-filesz-huge": "SIGSEGV",
  "data-offset-past-eof": "SIGSEGV",
  "data-offset-wraps": "SIGSEGV",
  "data-offset-misaligned": "SIGSEGV",
  "data-kernel": "SIGSEGV",
  "data-non-canonical": "SIGSEGV",
  "data-flags-0": "SIGSEGV",
  "data-flags-all": "run",
  "text-align-0": "run",
  "text-align-3": "run",
  "text-align-200000": "run",
  "text-align-10000000000": "run",
  "text-flags-0": "SIGSEGV",
  "text-flags-write-exec": "run",
  "text-filesz-0": "SIGSEGV",
  "text-memsz-0": "SIGSEGV",
  "text-filesz-past-eof": "run",
  "no-load-segments": "SIGSEGV",
  "only-data-segment": "SIGSEGV",
  "duplicate-data-segment": "run",
  "phdr-pointing-outside": "run",
  "phdr-kernel": "run",
  "pt-dynamic-garbage": "run",
  "pt-tls-huge": "run",
  "pt-gnu-stack-exec": "run",
  "pt-unknown-type": "run",
  "interp-musl": "SIGSEGV",
  "interp-self": "ENOENT",
  "interp-not-terminated": "ENOEXEC",
  "interp-past-eof": "EIO",
  "interp-huge": "ENOEXEC",
  "interp-empty": "ENOEXEC",
  "et-dyn": "SIGSEGV",
  "et-rel": "ENOEXEC",
  "et-core": "ENOEXEC",
  "et-none": "ENOEXEC",
  "et-ffff": "ENOEXEC",
  "machine-i386": "ENOEXEC",
  "machine-none": "ENOEXEC",
  "machine-aarch64": "ENOEXEC",
  "machine-ffff": "ENOEXEC",
  "class-32": "run",
  "class-0": "run",
  "class-3": "run",
  "big-endian": "run",
  "data-encoding-0": "run",
  "ident-version-0": "run",
  "version-0": "run",
  "version-ffffffff": "run",
  "osabi-linux": "run",
  "osabi-ff-padding-junk": "run",
  "ehsize-0": "run",
  "ehsize-ffff": "run",
  "sections-garbage": "run",
  "magic-7f-E-L-G": "ENOEXEC",
  "magic-00-E-L-F": "ENOEXEC",
  "header-all-zero": "ENOEXEC",
  "header-all-ff": "ENOEXEC",
  "table-all-ff": "SIGSEGV",
  "loads-16": "run",
  "loads-17": "run",
  "truncated-0": "ENOEXEC",
  "truncated-1": "ENOEXEC",
  "truncated-4": "ENOEXEC",
  "truncated-16": "ENOEXEC",
  "truncated-52": "ENOEXEC",
  "truncated-63": "ENOEXEC",
  "truncated-64": "ENOEXEC",
  "truncated-65": "ENOEXEC",
  "truncated-100": "ENOEXEC",
  "truncated-120": "ENOEXEC",
  "truncated-176": "ENOEXEC",
  "truncated-232": "ENOEXEC",
  "truncated-287": "ENOEXEC",
  "truncated-288": "SIGSEGV",
  "truncated-1023": "SIGSEGV",
  "truncated-1024": "SIGSEGV",
  "truncated-1100": "run",
  "truncated-1215": "run",
  "script": "run",
  "text-file": "ENOEXEC",
  "zeros-4k": "ENOEXEC",
  "magic-only": "ENOEXEC",
  "tiny-padded-256k": "run",
  "hello-valid": "run",
  "hello-phnum-7": "run",
  "hello-phnum-17": "run",
  "hello-phnum-73": "run",
  "hello-phnum-74": "run",
  "hello-phnum-256": "run",
  "hello-phnum-65535": "ENOEXEC",
  "hello-truncated-64": "ENOEXEC",
  "hello-truncated-400": "SIGSEGV",
  "hello-truncated-4096": "SIGSEGV",
  "hello-truncated-4097": "SIGSEGV",
  "hello-truncated-8192": "SIGSEGV",
  "hello-truncated-21720": "SIGSEGV",
  "hello-truncated-43439": "run",
  "hello-entry-outside": "SIGSEGV",
  "hello-bss-huge": "SIGSEGV",
  "hello-bss-256m": "run",
  "hello-data-kernel": "SIGSEGV",
  "hello-text-no-exec": "SIGSEGV",
  "hello-text-overlaps-data": "run",
  "hello-et-dyn": "SIGSEGV",
  "hello-interp": "ENOEXEC",
  "hello-header-flips": "SIGSEGV",
};

const mutants = []; // { name, data, linux }
function add(name, data) {
  mutants.push({ name, data, linux: LINUX[name] ?? "" });
}
function copy(base) {
  return Buffer.from(base);
}
function withEdit(base, edit) {
  const b = copy(base);
  return edit(b) ?? b;
}
function padTo(b, size) {
  return b.length >= size ? b : Buffer.concat([b, Buffer.alloc(size - b.length)]);
}
/** The base with its program header table moved to the end of the file, `entries` long (zeros after the real ones). */
function tableAtEnd(base, entries) {
  const phnum = Number(header(base, "phnum"));
  const table = Buffer.alloc(entries * 56);
  base.copy(table, 0, Number(header(base, "phoff")), Number(header(base, "phoff")) + Math.min(phnum, entries) * 56);
  const at = (base.length + 7) & ~7;
  const b = Buffer.concat([padTo(copy(base), at), table]);
  setHeader(b, "phoff", at);
  setHeader(b, "phnum", entries);
  return b;
}

const T = tinyBase;
add("tiny-valid", T);
// e_phnum beyond the 4-entry table: the zeros after it are PT_NULL entries
add("phnum-5", withEdit(T, (b) => setHeader(b, "phnum", 5)));
add("phnum-7", withEdit(T, (b) => setHeader(b, "phnum", 7)));
add("phnum-17", withEdit(T, (b) => setHeader(b, "phnum", 17)));
add("phnum-18-into-code", withEdit(T, (b) => setHeader(b, "phnum", 18)));
add("phnum-256-table-past-a-page", tableAtEnd(T, 256));
add("phnum-74-table-just-over-a-page", tableAtEnd(T, 74));
add("phnum-73-table-within-a-page", tableAtEnd(T, 73));
add("phnum-256-past-eof", withEdit(T, (b) => setHeader(b, "phnum", 256)));
add("phnum-65535", withEdit(T, (b) => setHeader(b, "phnum", 0xffff)));
add("phnum-0", withEdit(T, (b) => setHeader(b, "phnum", 0)));
for (const size of [0, 32, 55, 57, 64, 0xffff]) {
  add(`phentsize-${size}`, withEdit(T, (b) => setHeader(b, "phentsize", size)));
}
add("phoff-past-eof", withEdit(T, (b) => setHeader(b, "phoff", TINY_SIZE + 8)));
add("phoff-at-eof", withEdit(T, (b) => setHeader(b, "phoff", TINY_SIZE)));
add("phoff-straddles-eof", withEdit(T, (b) => setHeader(b, "phoff", TINY_SIZE - 100)));
add("phoff-wraps", withEdit(T, (b) => setHeader(b, "phoff", 0xffffffffffffffc8n)));
add("phoff-huge", withEdit(T, (b) => setHeader(b, "phoff", 0x8000000000000000n)));
add("phoff-0-header-as-table", withEdit(T, (b) => setHeader(b, "phoff", 0)));
add("phoff-unaligned", (() => {
  const b = Buffer.concat([T.subarray(0, 65), T.subarray(64)]); // the table one byte later
  setHeader(b, "phoff", 65);
  return b;
})());
// entry points
const entry = (v) => withEdit(T, (b) => setHeader(b, "entry", v));
add("entry-0", entry(0));
add("entry-in-data", entry(DATA));
add("entry-past-text", entry(TEXT + BigInt(DATA_OFFSET)));
add("entry-last-text-byte", entry(TEXT + BigInt(DATA_OFFSET) - 1n));
add("entry-unmapped", entry(0x500000));
add("entry-kernel", entry(0xffffffff80000000n));
add("entry-direct-map", entry(0xffff800000000000n));
add("entry-non-canonical", entry(0x0000800000000000n));
add("entry-non-canonical-high", entry(0x8000000000000000n));
add("entry-minus-1", entry(0xffffffffffffffffn));
add("entry-in-header", entry(TEXT));
// where the text segment goes
const textAt = (vaddr, entryAt = vaddr + BigInt(CODE_OFFSET)) => withEdit(T, (b) => {
  setPh(b, TEXT_INDEX, "vaddr", vaddr);
  setPh(b, TEXT_INDEX, "paddr", vaddr);
  setHeader(b, "entry", entryAt);
});
add("text-kernel", textAt(0xffffffff80000000n));
add("text-direct-map", textAt(0xffff800000000000n));
add("text-non-canonical", textAt(0x0000800000000000n));
add("text-last-user-page", textAt(0x7ffffffff000n));
add("text-stack-top", textAt(0x7fffffffe000n));
add("text-crosses-user-end", withEdit(textAt(0x7ffffffff000n), (b) => setPh(b, TEXT_INDEX, "memsz", 0x2000)));
add("text-at-0", textAt(0n));
add("text-at-4k", textAt(0x1000n));
add("text-at-64k", textAt(0x10000n));
add("text-high-valid", textAt(0x7effffffe000n));
add("text-wraps", textAt(0xfffffffffffff000n));
// the data segment
const data = (edit) => withEdit(T, (b) => edit(b, DATA_INDEX));
add("data-overlaps-text-page", data((b, i) => { setPh(b, i, "vaddr", TEXT + BigInt(DATA_OFFSET)); }));
add("data-same-address-as-text", data((b, i) => { setPh(b, i, "vaddr", TEXT); setPh(b, i, "offset", 0); }));
add("data-overlaps-text-range", data((b, i) => { setPh(b, i, "vaddr", TEXT + 0x480n - 0x1000n); }));
add("data-memsz-256m", data((b, i) => setPh(b, i, "memsz", 256n << 20n)));
add("data-memsz-2^40", data((b, i) => setPh(b, i, "memsz", 1n << 40n)));
add("data-memsz-2^46", data((b, i) => setPh(b, i, "memsz", 1n << 46n)));
add("data-memsz-to-user-end", data((b, i) => setPh(b, i, "memsz", 0x800000000000n - DATA)));
add("data-memsz-past-user-end", data((b, i) => setPh(b, i, "memsz", 0x800000000000n - DATA + 0x1000n)));
add("data-memsz-wraps", data((b, i) => setPh(b, i, "memsz", 0xffffffffffffff00n)));
add("data-memsz-max", data((b, i) => setPh(b, i, "memsz", 0xffffffffffffffffn)));
add("data-memsz-0", data((b, i) => { setPh(b, i, "memsz", 0); setPh(b, i, "filesz", 0); }));
add("data-filesz-over-memsz", data((b, i) => setPh(b, i, "memsz", 0x20)));
add("data-filesz-past-eof", data((b, i) => { setPh(b, i, "filesz", 0x1000); setPh(b, i, "memsz", 0x2000); }));
add("data-filesz-huge", data((b, i) => { setPh(b, i, "filesz", 1n << 32n); setPh(b, i, "memsz", 1n << 33n); }));
add("data-offset-past-eof", data((b, i) => setPh(b, i, "offset", 0x10480)));
add("data-offset-wraps", data((b, i) => setPh(b, i, "offset", 0xfffffffffffff480n)));
add("data-offset-misaligned", data((b, i) => setPh(b, i, "offset", DATA_OFFSET + 1)));
add("data-kernel", data((b, i) => setPh(b, i, "vaddr", 0xffffffff80000480n)));
add("data-non-canonical", data((b, i) => setPh(b, i, "vaddr", 0x0000800000000480n)));
add("data-flags-0", data((b, i) => setPh(b, i, "flags", 0)));
add("data-flags-all", data((b, i) => setPh(b, i, "flags", 0xffffffff)));
for (const align of [0n, 3n, 0x200000n, 1n << 40n]) {
  add(`text-align-${align.toString(16)}`, withEdit(T, (b) => setPh(b, TEXT_INDEX, "align", align)));
}
add("text-flags-0", withEdit(T, (b) => setPh(b, TEXT_INDEX, "flags", 0)));
add("text-flags-write-exec", withEdit(T, (b) => setPh(b, TEXT_INDEX, "flags", 7)));
add("text-filesz-0", withEdit(T, (b) => setPh(b, TEXT_INDEX, "filesz", 0)));
add("text-memsz-0", withEdit(T, (b) => { setPh(b, TEXT_INDEX, "filesz", 0); setPh(b, TEXT_INDEX, "memsz", 0); }));
add("text-filesz-past-eof", withEdit(T, (b) => { setPh(b, TEXT_INDEX, "filesz", 0x2000); setPh(b, TEXT_INDEX, "memsz", 0x2000); }));
add("no-load-segments", withEdit(T, (b) => { setPh(b, TEXT_INDEX, "type", PT_NULL); setPh(b, DATA_INDEX, "type", PT_NULL); }));
add("only-data-segment", withEdit(T, (b) => setPh(b, TEXT_INDEX, "type", PT_NOTE)));
add("duplicate-data-segment", withEdit(T, (b) => {
  b.copy(b, phdrAt(b, STACK_INDEX), phdrAt(b, DATA_INDEX), phdrAt(b, DATA_INDEX) + 56);
}));
add("phdr-pointing-outside", withEdit(T, (b) => setPh(b, 0, "vaddr", 0x900000)));
add("phdr-kernel", withEdit(T, (b) => setPh(b, 0, "vaddr", 0xffffffff80000000n)));
add("pt-dynamic-garbage", withEdit(T, (b) => { setPh(b, STACK_INDEX, "type", PT_DYNAMIC); setPh(b, STACK_INDEX, "offset", 0xffffff); }));
add("pt-tls-huge", withEdit(T, (b) => { setPh(b, STACK_INDEX, "type", PT_TLS); setPh(b, STACK_INDEX, "memsz", 1n << 40n); }));
add("pt-gnu-stack-exec", withEdit(T, (b) => setPh(b, STACK_INDEX, "flags", 7)));
add("pt-unknown-type", withEdit(T, (b) => setPh(b, STACK_INDEX, "type", 0x7fffffff)));
// PT_INTERP
const interp = (path, size = path.length + 1, offset = TINY_SIZE) => {
  const b = padTo(copy(T), TINY_SIZE + path.length + 1);
  b.write(path, TINY_SIZE, "latin1");
  const i = STACK_INDEX;
  programHeader(b, phdrAt(b, i), { type: PT_INTERP, flags: 4, offset, filesz: size, align: 1 });
  return b;
};
add("interp-musl", interp("/lib/ld-musl-x86_64.so.1"));
add("interp-self", interp("/fuzz/elf/000-tiny-valid"));
add("interp-not-terminated", interp("/bin/hello", 10));
add("interp-past-eof", interp("/x", 0x1000));
add("interp-huge", interp("/x", 0xffffffffffffn));
add("interp-empty", interp("", 0));
// the ELF header
add("et-dyn", withEdit(T, (b) => setHeader(b, "type", 3)));
for (const [what, value] of [["rel", 1], ["core", 4], ["none", 0], ["ffff", 0xffff]]) {
  add(`et-${what}`, withEdit(T, (b) => setHeader(b, "type", value)));
}
for (const [what, value] of [["i386", 3], ["none", 0], ["aarch64", 0xb7], ["ffff", 0xffff]]) {
  add(`machine-${what}`, withEdit(T, (b) => setHeader(b, "machine", value)));
}
add("class-32", withEdit(T, (b) => { b[4] = 1; }));
add("class-0", withEdit(T, (b) => { b[4] = 0; }));
add("class-3", withEdit(T, (b) => { b[4] = 3; }));
add("big-endian", withEdit(T, (b) => { b[5] = 2; }));
add("data-encoding-0", withEdit(T, (b) => { b[5] = 0; }));
add("ident-version-0", withEdit(T, (b) => { b[6] = 0; }));
add("version-0", withEdit(T, (b) => setHeader(b, "version", 0)));
add("version-ffffffff", withEdit(T, (b) => setHeader(b, "version", 0xffffffff)));
add("osabi-linux", withEdit(T, (b) => { b[7] = 3; }));
add("osabi-ff-padding-junk", withEdit(T, (b) => { b[7] = 0xff; b.fill(0xa5, 8, 16); }));
add("ehsize-0", withEdit(T, (b) => setHeader(b, "ehsize", 0)));
add("ehsize-ffff", withEdit(T, (b) => setHeader(b, "ehsize", 0xffff)));
add("sections-garbage", withEdit(T, (b) => {
  setHeader(b, "shoff", 0xffffffffffffffffn);
  setHeader(b, "shnum", 0xffff);
  setHeader(b, "shentsize", 1);
  setHeader(b, "shstrndx", 0xfffe);
}));
add("magic-7f-E-L-G", withEdit(T, (b) => { b[3] = 0x47; }));
add("magic-00-E-L-F", withEdit(T, (b) => { b[0] = 0; }));
add("header-all-zero", withEdit(T, (b) => { b.fill(0, 0, 64); }));
add("header-all-ff", withEdit(T, (b) => { b.fill(0xff, 4, 64); }));
add("table-all-ff", withEdit(T, (b) => { b.fill(0xff, 64, 64 + 4 * 56); }));
// 16 and 17 loadable segments (this kernel takes at most 16)
function manySegments(n) {
  const b = copy(T);
  setHeader(b, "phnum", n);
  for (let i = 2; i < n; i++) {
    programHeader(b, 64 + i * 56, { type: PT_LOAD, flags: 4, offset: 0, vaddr: 0x10000000n + BigInt(i) * 0x10000n, filesz: 0x40 });
  }
  programHeader(b, 64, { type: PT_LOAD, flags: 5, offset: 0, vaddr: TEXT, filesz: DATA_OFFSET });
  programHeader(b, 64 + 56, { type: PT_LOAD, flags: 6, offset: DATA_OFFSET, vaddr: DATA, filesz: 0x40, memsz: 0x2000 - DATA_OFFSET });
  return b;
}
add("loads-16", manySegments(16));
add("loads-17", manySegments(17));
// truncations and tiny files
for (const length of [0, 1, 4, 16, 52, 63, 64, 65, 100, 120, 176, 232, 287, 288, 1023, 1024, 1100, TINY_SIZE - 1]) {
  add(`truncated-${length}`, T.subarray(0, length));
}
add("script", Buffer.from("#!/bin/sh\necho hello\n"));
add("text-file", Buffer.from("this is not a program\n"));
add("zeros-4k", Buffer.alloc(4096));
add("magic-only", Buffer.from("\x7fELF", "latin1"));
add("tiny-padded-256k", padTo(copy(T), 256 << 10));

// the musl program
if (helloBase) {
  const H = helloBase;
  const hp = Number(header(H, "phnum"));
  const hload = (() => { // index of the executable PT_LOAD and of the writable one
    let text = -1, rw = -1;
    for (let i = 0; i < hp; i++) {
      if (ph(H, i, "type") !== 1n) continue;
      const f = Number(ph(H, i, "flags"));
      if (f & 1) text = i;
      else if (f & 2) rw = i;
    }
    return { text, rw };
  })();
  add("hello-valid", H);
  add("hello-phnum-7", withEdit(H, (b) => setHeader(b, "phnum", 7)));
  add("hello-phnum-17", withEdit(H, (b) => setHeader(b, "phnum", 17)));
  add("hello-phnum-73", withEdit(H, (b) => setHeader(b, "phnum", 73)));
  add("hello-phnum-74", withEdit(H, (b) => setHeader(b, "phnum", 74)));
  add("hello-phnum-256", withEdit(H, (b) => setHeader(b, "phnum", 256)));
  add("hello-phnum-65535", withEdit(H, (b) => setHeader(b, "phnum", 0xffff)));
  for (const length of [64, 400, 4096, 4097, 8192, H.length >> 1, H.length - 1]) {
    add(`hello-truncated-${length}`, H.subarray(0, length));
  }
  add("hello-entry-outside", withEdit(H, (b) => setHeader(b, "entry", 0x300000)));
  if (hload.rw >= 0) {
    add("hello-bss-huge", withEdit(H, (b) => setPh(b, hload.rw, "memsz", 1n << 46n)));
    add("hello-bss-256m", withEdit(H, (b) => setPh(b, hload.rw, "memsz", 256n << 20n)));
    add("hello-data-kernel", withEdit(H, (b) => setPh(b, hload.rw, "vaddr", ph(b, hload.rw, "vaddr") | 0xffff800000000000n)));
  }
  if (hload.text >= 0) {
    add("hello-text-no-exec", withEdit(H, (b) => setPh(b, hload.text, "flags", 4)));
    add("hello-text-overlaps-data", withEdit(H, (b) => setPh(b, hload.text, "memsz", 0x100000)));
  }
  add("hello-et-dyn", withEdit(H, (b) => setHeader(b, "type", 3)));
  add("hello-interp", withEdit(H, (b) => {
    for (let i = 0; i < hp; i++) if (ph(b, i, "type") === BigInt(PT_GNU_STACK)) setPh(b, i, "type", PT_INTERP);
  }));
  add("hello-header-flips", withEdit(H, (b) => { b[24] ^= 0x10; b[57] ^= 1; }));
}

// random mutants, up to COUNT in all
const extremes = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x100n, 0xfffn, 0x1000n, 0x1001n, 0xffffn, 0x10000n, 0x7fffffffn,
  0x80000000n, 0xffffffffn, 0x100000000n, 0x400000n, 0x600000n, 0x7ffffffff000n, 0x7fffffffffffn, 0x800000000000n,
  0xffff800000000000n, 0xffffffff80000000n, 0xfffffffffffff000n, 0xffffffffffffffffn, 0x8000000000000000n,
  0x7fffffffffffffffn];
function randomValue() {
  return rnd(4) === 0 ? next64() : rnd(4) === 0 ? BigInt(rnd(0x10000)) : pick(extremes);
}
function mutateOnce(b) {
  if (b.length < 64) { // too short for the headers: flip or cut
    if (b.length && rnd(2)) b[rnd(b.length)] ^= 1 << rnd(8);
    return rnd(2) ? b : b.subarray(0, rnd(b.length + 1));
  }
  const phnum = Number(header(b, "phnum"));
  const phoff = Number(header(b, "phoff"));
  switch (rnd(9)) {
    case 0: case 1: { // flip bytes in the headers
      const n = 1 + rnd(4);
      const end = Math.min(b.length, Math.max(64, phoff + Math.min(phnum, 32) * 56));
      for (let i = 0; i < n; i++) b[rnd(end)] ^= 1 << rnd(8);
      return b;
    }
    case 2: { // flip bytes anywhere
      const n = 1 + rnd(8);
      for (let i = 0; i < n && b.length; i++) b[rnd(b.length)] ^= 1 << rnd(8);
      return b;
    }
    case 3: { // an ELF header field to an extreme
      const name = pick(Object.keys(EH));
      setHeader(b, name, randomValue());
      return b;
    }
    case 4: case 5: { // a program header field to an extreme
      if (phnum === 0 || phoff + 56 > b.length) return b;
      const i = rnd(Math.min(phnum, (b.length - phoff) / 56 | 0) || 1);
      const name = pick(Object.keys(PH));
      if (phdrAt(b, i) + 56 <= b.length) setPh(b, i, name, name === "type" ? pick([0, 1, 2, 3, 4, 6, 7, PT_GNU_STACK, 0x6474e550, 0x6474e552, next64()]) : randomValue());
      return b;
    }
    case 6: // truncate
      return b.subarray(0, rnd(b.length + 1));
    case 7: // e_phnum
      setHeader(b, "phnum", pick([0, 1, 2, 3, 5, 6, 7, 8, 16, 17, 18, 73, 74, 255, 256, 257, 0x7fff, 0xffff, rnd(0x10000)]));
      return b;
    default: { // a segment moved
      if (phnum === 0 || phoff + 56 > b.length) return b;
      const i = rnd(Math.min(phnum, 4));
      if (phdrAt(b, i) + 56 <= b.length) setPh(b, i, "vaddr", pick([0x400000n, 0x600000n, 0x601000n, 0x10000n, 0x7ffffffff000n, 0x800000000000n, 0xffffffff80000000n]) + BigInt(rnd(3) * 0x480));
      return b;
    }
  }
}
for (let n = 0; mutants.length < count; n++) {
  const fromHello = helloBase && rnd(100) < 15;
  let b = copy(fromHello ? helloBase : tinyBase);
  const operations = 1 + rnd(3);
  for (let i = 0; i < operations; i++) b = Buffer.from(mutateOnce(b));
  add(`random-${fromHello ? "hello" : "tiny"}-${n}`, b);
}
mutants.length = Math.min(mutants.length, count);

// --------------------------------------------------------------- output

if (existsSync(outDir)) {
  for (const old of readdirSync(outDir)) rmSync(join(outDir, old), { force: true, recursive: true });
}
mkdirSync(outDir, { recursive: true });
const manifest = [];
const width = String(Math.max(mutants.length - 1, 0)).length < 3 ? 3 : String(mutants.length - 1).length;
mutants.forEach((m, i) => {
  const name = `${String(i).padStart(width, "0")}-${m.name}`;
  const file = join(outDir, name);
  writeFileSync(file, m.data);
  chmodSync(file, 0o755);
  manifest.push({ name, size: m.data.length, linux: m.linux });
});
writeFileSync(`${outDir.replace(/\/+$/, "")}.json`, JSON.stringify(manifest, null, 1) + "\n");
console.log(`make-elf-mutants: ${mutants.length} files in ${outDir} (seed ${seed})`);
