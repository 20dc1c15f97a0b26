#!/usr/bin/env node
// fuzz.mjs: boots TSKernel with the fuzzer (user/fuzz.c) as init.
//
//   node scripts/fuzz.mjs [--seed N] [--calls N] [--memory SIZE] [--squeeze KIB]
//                         [--elf COUNT] [--timeout SECONDS] [--no-build] [-- FUZZ-ARGS...]
//   node scripts/fuzz.mjs --ci [--jobs N]
//
// One run (`make fuzz`): builds what is missing, an initramfs (user/rootfs,
// the programs of user/, the dynamic loaders of build/libs, which mutants
// naming an interpreter find, and with --elf COUNT that many ELF mutants from
// scripts/make-elf-mutants.mjs under /fuzz/elf), an ISO whose kernel
// command line is `exit=qemu init=/bin/fuzz -- seed=... calls=...`, boots
// it under QEMU (TCG) and streams the console. It passes only if QEMU
// exits with status 33 (init exited 0), the console has no KERNEL PANIC,
// and the fuzzer's closing line ends in ": ok" (free frames back exactly,
// no memcheck problem, no hang). A boot still running after the timeout
// is killed and reported as a hang. Exit status 0 on a pass, 1 otherwise.
//
// --ci: the bounded pass (`make fuzz-ci`): several boots, --jobs at a time
// (default 2), each with its own seed: system calls at 512 MiB and at
// 64 MiB with memory squeezed, and the ELF mutants. Prints one line per
// boot and a summary; consoles are kept in build/fuzz/ci/NAME.log.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const build = join(root, "build");

const argv = process.argv.slice(2);
const options = { seed: 1, calls: 100000, memory: "512M", squeeze: 0, elf: 0, timeout: 0, build: true, ci: false, jobs: 2, extra: [] };
while (argv.length) {
  const a = argv.shift();
  if (a === "--") {
    options.extra.push(...argv.splice(0).filter((w) => w !== ""));
  } else if (a === "--seed") options.seed = Number(argv.shift());
  else if (a === "--calls") options.calls = Number(argv.shift());
  else if (a === "--memory") options.memory = argv.shift();
  else if (a === "--squeeze") options.squeeze = Number(argv.shift());
  else if (a === "--elf") options.elf = Number(argv.shift());
  else if (a === "--timeout") options.timeout = Number(argv.shift());
  else if (a === "--jobs") options.jobs = Number(argv.shift());
  else if (a === "--no-build") options.build = false;
  else if (a === "--ci") options.ci = true;
  else {
    console.error(`fuzz.mjs: unknown option ${a}`);
    process.exit(2);
  }
}
for (const [name, value] of Object.entries({ seed: options.seed, calls: options.calls, squeeze: options.squeeze, elf: options.elf })) {
  if (!Number.isInteger(value) || value < 0) {
    console.error(`fuzz.mjs: --${name} wants a whole number, not ${value}`);
    process.exit(2);
  }
}

if (options.build) {
  execFileSync("make", ["--no-print-directory", "-s", "-C", root, "build/kernel.elf", "build/kernel.sym",
    "build/initramfs.cpio", "build/font.bin"], { stdio: "inherit" });
}

/** Builds the ISO for one boot in `dir`; returns its path. */
function prepare(dir, run) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const mappings = [`/=${join(root, "user/rootfs")}`, `/bin=${join(build, "user/bin")}`, `/=${join(build, "libs")}`];
  const words = [`seed=${run.seed}`, `calls=${run.calls}`];
  if (run.squeeze) words.push(`squeeze=${run.squeeze}`);
  if (run.elf) {
    const elfDir = join(dir, "elf");
    execFileSync("node", [join(root, "scripts/make-elf-mutants.mjs"), elfDir, String(run.seed), String(run.elf)], { stdio: "ignore" });
    mappings.push(`/fuzz/elf=${elfDir}`);
    words.push("elf=/fuzz/elf");
  }
  words.push(...run.extra);
  for (const w of words) if (/\s/.test(w) || w === "") throw new Error(`fuzz argument "${w}": no spaces allowed`);
  const cpio = join(dir, "initramfs.cpio");
  execFileSync("node", [join(root, "scripts/make-initramfs.mjs"), cpio, ...mappings]);
  const iso = join(dir, "os.iso");
  const cmdline = `exit=qemu init=/bin/fuzz -- ${words.join(" ")}`;
  execFileSync(join(root, "scripts/make-iso.sh"), [iso, cmdline, cpio]);
  return { iso, cmdline };
}

/** Boots one run; resolves with what happened. `stream` echoes the console as it comes. */
function boot(run, dir, stream) {
  const { iso, cmdline } = prepare(dir, run);
  const log = join(dir, "serial.log");
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const qemu = spawn("qemu-system-x86_64", [
      "-accel", "tcg", "-cpu", "max", "-m", run.memory, "-no-reboot", "-display", "none",
      "-serial", `file:${log}`, "-monitor", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
      "-cdrom", iso, "-boot", "d",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let messages = "";
    qemu.stdout.on("data", (c) => (messages += c));
    qemu.stderr.on("data", (c) => (messages += c));
    let shown = 0;
    const show = () => {
      if (!stream || !existsSync(log)) return;
      const size = statSync(log).size;
      if (size <= shown) return;
      const text = readFileSync(log).subarray(shown, size);
      shown = size;
      process.stdout.write(text);
    };
    const ticker = setInterval(show, 250);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill("SIGKILL");
    }, run.timeout * 1000);
    qemu.on("close", (status) => {
      clearTimeout(timer);
      clearInterval(ticker);
      show();
      const serial = (existsSync(log) ? readFileSync(log, "latin1") : "").replace(/\r\n/g, "\n") + messages;
      const seconds = (Date.now() - started) / 1000;
      const closing = serial.match(/^fuzz: seed \d+: .*$/m)?.[0] ?? null;
      const problems = [];
      if (timedOut) problems.push(`no end after ${run.timeout} s: QEMU killed (a hang)`);
      if (serial.includes("KERNEL PANIC")) problems.push("kernel panic");
      if (!timedOut && status !== 33) problems.push(`QEMU exit status ${status} (33 wanted)`);
      if (!closing) problems.push("no closing line from the fuzzer");
      else if (!closing.endsWith(": ok")) problems.push("the fuzzer reports a failure");
      const calls = Number(closing?.match(/: (\d+) calls in/)?.[1] ?? 0);
      const batches = Number(closing?.match(/calls in (\d+) batches/)?.[1] ?? 0);
      const elf = serial.match(/^fuzz: elf: (\d+) files: .*$/m)?.[0] ?? null;
      resolvePromise({ run, status, timedOut, serial, seconds, closing, problems, calls, batches, elf, cmdline, log });
    });
  });
}

/** What the mutants did against what Linux does with them (information, never a failure). */
function compareElf(dir, serial) {
  const manifestFile = join(dir, "elf.json");
  if (!existsSync(manifestFile)) return null;
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
  const outcomes = new Map([...serial.matchAll(/^fuzz: elf ([^:\s]+): ([^;\n]*)/gm)].map((m) => [m[1], m[2].trim()]));
  const normal = (o) => (o === "exit 0" ? "run" : o.startsWith("signal 11") ? "SIGSEGV" : o.startsWith("signal 9") ? "SIGKILL"
    : o.startsWith("signal 7") ? "SIGBUS" : o.startsWith("signal 4") ? "SIGILL" : o);
  const lines = [];
  let compared = 0;
  for (const m of manifest) {
    const got = outcomes.get(m.name);
    if (!m.linux || got === undefined) continue;
    compared++;
    if (normal(got) !== m.linux) lines.push(`${m.name}: Linux ${m.linux}, here ${got}`);
  }
  const file = join(dir, "elf-vs-linux.txt");
  writeFileSync(file, lines.join("\n") + (lines.length ? "\n" : ""));
  return { compared, differ: lines.length, file };
}

function summaryLine(r) {
  const what = r.run.name.padEnd(22);
  const verdict = r.problems.length ? `FAILED: ${r.problems.join("; ")}` : "ok";
  const calls = r.run.calls ? `${r.calls} calls in ${r.batches} batches` : r.elf ? r.elf.replace(/^fuzz: elf: /, "") : "";
  return `${what} ${r.run.memory.padStart(5)} ${r.seconds.toFixed(1).padStart(6)} s  ${calls}  ${verdict}`;
}

if (!options.ci) {
  const run = {
    name: "fuzz", seed: options.seed, calls: options.calls, memory: options.memory, squeeze: options.squeeze,
    elf: options.elf, extra: options.extra,
    timeout: options.timeout || Math.max(300, Math.ceil(options.calls / 500) + 120 + options.elf),
  };
  const dir = join(build, "fuzz", `seed-${run.seed}-${run.memory}${run.squeeze ? "-squeeze" : ""}${run.elf ? "-elf" : ""}`);
  console.log(`fuzz.mjs: seed ${run.seed}, ${run.calls} calls, ${run.memory}${run.squeeze ? `, squeeze ${run.squeeze}` : ""}` +
    `${run.elf ? `, ${run.elf} ELF mutants` : ""}; timeout ${run.timeout} s; console in ${join(dir, "serial.log")}`);
  const r = await boot(run, dir, true);
  const elf = run.elf ? compareElf(dir, r.serial) : null;
  if (elf) console.log(`fuzz.mjs: ${elf.differ} of ${elf.compared} named ELF cases end differently from Linux 6.18 (see ${elf.file})`);
  console.log(`fuzz.mjs: ${summaryLine(r)}`);
  process.exit(r.problems.length ? 1 : 0);
}

// The CI pass: system calls at 512 MiB and squeezed 64 MiB, and the ELF
// mutants. bigpopulate=0 keeps out huge MAP_POPULATE mappings, each of
// which can hold the kernel for seconds (see the README).
const ci = [
  { name: "calls-512M-seed-101", seed: 101, calls: 250000, memory: "512M", squeeze: 0, elf: 0, extra: ["bigpopulate=0"] },
  { name: "calls-64M-squeeze-102", seed: 102, calls: 250000, memory: "64M", squeeze: 1, elf: 0, extra: ["bigpopulate=0"] },
  { name: "calls-512M-seed-103", seed: 103, calls: 250000, memory: "512M", squeeze: 0, elf: 0, extra: ["bigpopulate=0"] },
  { name: "calls-64M-squeeze-104", seed: 104, calls: 250000, memory: "64M", squeeze: 1, elf: 0, extra: ["bigpopulate=0"] },
  { name: "elf-mutants-128M", seed: 105, calls: 0, memory: "128M", squeeze: 0, elf: 400, extra: [] },
].map((run) => ({ ...run, timeout: 300 }));
const ciDir = join(build, "fuzz", "ci");
mkdirSync(ciDir, { recursive: true });
const started = Date.now();
const results = [];
let next = 0;
async function worker() {
  while (next < ci.length) {
    const run = ci[next++];
    const dir = join(ciDir, run.name);
    const r = await boot(run, dir, false);
    writeFileSync(join(ciDir, `${run.name}.log`), r.serial);
    if (run.elf) {
      const elf = compareElf(dir, r.serial);
      if (elf) r.note = `${elf.differ} of ${elf.compared} named cases end differently from Linux 6.18 (${elf.file})`;
    }
    results.push(r);
    console.log(`fuzz-ci: ${summaryLine(r)}`);
    if (r.note) console.log(`fuzz-ci:   ${r.note}`);
    if (r.problems.length) {
      console.log(`fuzz-ci:   console in ${join(ciDir, `${run.name}.log`)}; its last lines:`);
      for (const line of r.serial.trimEnd().split("\n").slice(-15)) console.log(`fuzz-ci:   | ${line}`);
    }
  }
}
await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
const failedRuns = results.filter((r) => r.problems.length);
const calls = results.reduce((n, r) => n + r.calls, 0);
console.log(`fuzz-ci: ${results.length} boots, ${calls} system calls, ${failedRuns.length} failed, ` +
  `${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failedRuns.length ? 1 : 0);
