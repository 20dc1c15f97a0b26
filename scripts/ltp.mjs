// ltp.mjs: `make ltp`, the Linux Test Project's system-call tests on TSKernel.
//
// Builds the tests (LTP's sources in LTP_SRC, with the team's build.sh, into
// build/ltp; only what is missing or out of date), boots the kernel under
// QEMU with a batch of tests in the initramfs (with busybox, as the
// commands some tests run, and Debian's mkfs.ext2) and user/ltp-run.c as
// init, a scratch disk attached,
// two boots at a time, and prints one line per test and
//   ltp: N passed, M failed, K skipped
// Writes build/ltp/results.json, the console of every boot
// (build/ltp/boots/) and of every test (build/ltp/logs/TAG.log).
//
// A test's verdict is ltp-run's, from its exit status (PASS, FAIL, BROK,
// WARN, CONF = skipped), except that an exit status 0 with a TFAIL or TBROK
// line in the test's output is a FAIL (some old tests exit 0 regardless).
// A boot that panics, triple-faults or hangs (QEMU killed: no end in time,
// or a silent console) fails the test that was running; the tests of the
// batch that had not started yet boot again (up to three times), so one
// bad test costs no others.
//
// Environment:
//   LTP_SRC       LTP sources (include/, lib/, testcases/kernel/syscalls/,
//                 runtest/syscalls); none or missing: say so and exit 0
//   LTP_BUILD_SH  the build script (default: build.sh next to LTP_SRC, else
//                 ../shared/ltp/build.sh); it brings config.h along
//   LTP_TESTS     unset: the starter set plus every test in LTP_CHECK;
//                 "all": every runtest/syscalls entry whose program builds;
//                 "a,b,c": those tags (a program name selects all its entries)
//   LTP_CHECK     a list of tests that must pass (tests/ltp/expected-pass.txt):
//                 exit 1 naming any that did not
//   LTP_BATCH     tests per boot (default 15)     LTP_JOBS  boots at a time (2)
//   LTP_TIMEOUT   seconds per test (default 60)   LTP_TIMEOUT_MUL  passed to LTP
//   QEMU_MEM      guest memory (default 512M)
import { execFile, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { diskArguments } from "./disk-arguments.mjs";
import { buildWithOurLibraries, librariesOf, ourLibrary } from "./ltp-libs.mjs";

const execFileAsync = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build/ltp");
const env = process.env;

// The starter set of ../shared/ltp/README.md: these pass on Linux 6.18 with
// only /proc/meminfo present and /dev empty.
const STARTER = `brk01 brk02 mmap01 mmap02 mmap03 mmap05 mmap06 mmap08 mmap09 mmap13 mmap15
  mmap17 mmap19 mmap20 munmap01 munmap03 munmap04 mprotect02 mprotect03
  mprotect05 mremap01 mremap02 mremap03 mremap05 madvise01 madvise02
  madvise10 msync01 msync02 fork01 fork03 fork04 fork07 fork08 fork09 fork10
  vfork01 vfork02 execve01 execve03 pipe01 pipe02 pipe03 pipe08 pipe10 pipe11
  waitpid01 waitpid03 waitid01 clone01 clone02 clone03 exit01 exit02
  exit_group01`.split(/\s+/).filter(Boolean);
const LINUX_STARTER_PASS = "55 of 55 on Linux 6.18";

const perTest = Number(env.LTP_TIMEOUT ?? 60);
const batchSize = Math.max(1, Number(env.LTP_BATCH ?? 15));
const jobs = Math.max(1, Number(env.LTP_JOBS ?? 2));
const memory = env.QEMU_MEM || "512M";
const started = Date.now();
const seconds = (ms) => (ms / 1000).toFixed(1);

// ---------------------------------------------------------------- sources

const srcDir = env.LTP_SRC ? resolve(root, env.LTP_SRC) : "";
if (!srcDir || !existsSync(join(srcDir, "runtest/syscalls"))) {
  console.log(srcDir
    ? `ltp: no LTP sources at ${srcDir} (runtest/syscalls missing); skipped`
    : "ltp: no LTP sources (set LTP_SRC to an LTP checkout, or provide ../shared/ltp/src); skipped");
  process.exit(0);
}
const buildSh = env.LTP_BUILD_SH ? resolve(root, env.LTP_BUILD_SH)
  : [join(dirname(srcDir), "build.sh"), resolve(root, "../shared/ltp/build.sh")].find((f) => existsSync(f));
if (!buildSh || !existsSync(buildSh) || !existsSync(join(dirname(buildSh), "config.h"))) {
  console.error(`ltp: no build script (build.sh with config.h beside it) found; set LTP_BUILD_SH`);
  process.exit(2);
}

/** runtest/syscalls: [{ tag, program, args }]. */
const entries = readFileSync(join(srcDir, "runtest/syscalls"), "utf8").split("\n")
  .map((line) => line.trim()).filter((line) => line && !line.startsWith("#"))
  .map((line) => line.split(/\s+/)).filter((words) => words.length >= 2)
  .map(([tag, program, ...args]) => ({ tag, program, args }));
const byTag = new Map(entries.map((e) => [e.tag, e]));
const programs = new Set(entries.map((e) => e.program));

/** Test sources: program name -> its directory under testcases/kernel/syscalls. */
const syscallsDir = join(srcDir, "testcases/kernel/syscalls");
const sourceDir = new Map();
for (const dir of readdirSync(syscallsDir, { withFileTypes: true })) {
  if (!dir.isDirectory()) continue;
  for (const file of readdirSync(join(syscallsDir, dir.name))) {
    if (file.endsWith(".c") && !sourceDir.has(file.slice(0, -2))) sourceDir.set(file.slice(0, -2), dir.name);
  }
}
/** Helpers (execve01_child, ...): sources of a test's directory that no runtest entry runs. */
const helpersOf = (program) => [...sourceDir].filter(([name, dir]) => dir === sourceDir.get(program) && !programs.has(name)).map(([name]) => name);

function readList(file) {
  return readFileSync(file, "utf8").split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean)
    .flatMap((line) => line.split(/\s+/));
}

const checkFile = env.LTP_CHECK ? resolve(root, env.LTP_CHECK) : "";
const mustPass = checkFile && existsSync(checkFile) ? readList(checkFile) : [];
if (checkFile && !existsSync(checkFile)) console.log(`ltp: ${checkFile} does not exist; nothing to check`);

// ---------------------------------------------------------------- building

/** A stamp of everything the binaries are made from (paths, sizes, times). */
function sourceStamp() {
  const hash = createHash("sha256");
  const walk = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
    else hash.update(`${relative(srcDir, path)}:${stat.size}:${stat.mtimeMs}\n`);
  };
  for (const part of ["include", "lib", "testcases/kernel/include", "testcases/kernel/syscalls", "VERSION"]) {
    if (existsSync(join(srcDir, part))) walk(join(srcDir, part));
  }
  hash.update(readFileSync(buildSh)).update(readFileSync(join(dirname(buildSh), "config.h")));
  const libraries = new Set([...new Set(sourceDir.values())].flatMap((dir) => librariesOf(join(syscallsDir, dir))));
  for (const name of [...libraries].sort()) if (existsSync(ourLibrary(root, name))) hash.update(readFileSync(ourLibrary(root, name)));
  return hash.digest("hex").slice(0, 16);
}

/** build.sh takes its sources from the src/ beside it: for other sources, a copy of the parts it reads. */
function buildTool() {
  if (resolve(dirname(buildSh), "src") === srcDir) return buildSh;
  const tool = join(out, "tool");
  rmSync(tool, { recursive: true, force: true });
  mkdirSync(join(tool, "src/testcases/kernel"), { recursive: true });
  mkdirSync(join(tool, "src/runtest"), { recursive: true });
  cpSync(buildSh, join(tool, "build.sh"));
  cpSync(join(dirname(buildSh), "config.h"), join(tool, "config.h"));
  for (const part of ["include", "lib", "testcases/kernel/include", "testcases/kernel/syscalls", "runtest/syscalls", "VERSION"]) {
    if (existsSync(join(srcDir, part))) cpSync(join(srcDir, part), join(tool, "src", part), { recursive: true });
  }
  return join(tool, "build.sh");
}

/** Builds what `wanted` (program names; "all" for every source) needs; returns the set of built programs. */
function build(wanted) {
  mkdirSync(out, { recursive: true });
  const recordFile = join(out, "built.json");
  const stamp = sourceStamp();
  let record = existsSync(recordFile) ? JSON.parse(readFileSync(recordFile, "utf8")) : null;
  if (!record || record.stamp !== stamp) {
    rmSync(join(out, "bin"), { recursive: true, force: true });
    record = { stamp, programs: {} };
  }
  const names = wanted === "all" ? [...sourceDir.keys()] : [...new Set(wanted.flatMap((p) => [p, ...helpersOf(p)]))];
  const missing = names.filter((name) => record.programs[name] === undefined
    || (record.programs[name] && !existsSync(join(out, "bin", name))));
  if (missing.length > 0) {
    const tool = buildTool();
    const all = wanted === "all" && missing.length === names.length;
    console.log(`ltp: building ${all ? "every test" : `${missing.length} test programs`} from ${srcDir} (${basename(tool)} into ${relative(root, out)})`);
    const t = Date.now();
    let output = "";
    try {
      output = execFileSync("sh", [tool, out, ...(all ? [] : missing)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    } catch (error) {
      console.error(`ltp: ${tool} failed:\n${error.stdout ?? ""}`);
      process.exit(2);
    }
    const last = output.trim().split("\n").pop();
    const unbuilt = missing.filter((name) => !existsSync(join(out, "bin", name)));
    const withOurs = buildWithOurLibraries(root, out, unbuilt, (name) => sourceDir.get(name));
    console.log(`${last}${withOurs.length ? `, ${withOurs.length} of them then built with our LTP libraries (tests/ltp/lib*.c)` : ""} in ${seconds(Date.now() - t)} s (failures: ${relative(root, join(out, "failed.txt"))}, log: ${relative(root, join(out, "build.log"))})`);
    for (const name of missing) record.programs[name] = existsSync(join(out, "bin", name));
    writeFileSync(recordFile, JSON.stringify(record, null, 1));
    if (tool !== buildSh) rmSync(dirname(tool), { recursive: true, force: true });
  }
  return new Set(Object.entries(record.programs).filter(([, ok]) => ok).map(([name]) => name));
}

// ---------------------------------------------------------------- choosing

let selected;
const request = (env.LTP_TESTS ?? "").trim();
if (request === "all") {
  selected = entries;
} else {
  const names = request ? request.split(/[\s,]+/).filter(Boolean) : [...new Set([...STARTER, ...mustPass])];
  selected = [];
  for (const name of names) {
    if (byTag.has(name)) selected.push(byTag.get(name));
    else if (programs.has(name)) selected.push(...entries.filter((e) => e.program === name));
    else selected.push({ tag: name, program: name, args: [], unknown: true });
  }
}
const built = build(request === "all" ? "all" : [...new Set(selected.filter((e) => !e.unknown).map((e) => e.program))]);

const results = new Map(); // tag -> { tag, status, seconds, exit, signal, reason, ... }
const notBuilt = [];
const runnable = [];
for (const e of selected) {
  if (e.unknown) results.set(e.tag, { tag: e.tag, status: "FAIL", seconds: 0, reason: "no such test in runtest/syscalls" });
  else if (!built.has(e.program)) {
    notBuilt.push(e.tag);
    // Under "all", a test that does not build is not ours to count; asked for by name, it fails.
    if (request !== "all") results.set(e.tag, { tag: e.tag, status: "FAIL", seconds: 0, reason: `${e.program} did not build` });
  } else runnable.push(e);
}

// ---------------------------------------------------------------- booting

const SYSCALL_NAMES = (() => {
  const names = new Map();
  try {
    const header = readFileSync("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "utf8");
    for (const m of header.matchAll(/#define __NR_(\w+) (\d+)/g)) names.set(Number(m[2]), m[1]);
  } catch {}
  return names;
})();

try {
  execFileSync("make", ["--no-print-directory", "-s", "-C", root,
    "build/kernel.elf", "build/kernel.sym", "build/font.bin", "build/user/bin/ltp-run", "build/busybox/bin/busybox"],
    { stdio: "inherit" });
} catch {
  console.error("ltp: the kernel or ltp-run did not build (above)");
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "ltp-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
for (const dir of ["boots", "logs"]) {
  rmSync(join(out, dir), { recursive: true, force: true });
  mkdirSync(join(out, dir), { recursive: true });
}
const empty = join(work, "empty");
mkdirSync(empty);

// The tests that format and mount a device (.needs_device, .mount_device)
// get a scratch disk per boot, LTP_DEV=/dev/vda (ltp-run), 320 MiB as their
// 300 MiB minimum asks (sparse on the host), and Debian's mkfs.ext2 with its
// libraries, which runs on TSKernel as on Linux. A boot with a test that
// asks for more (.dev_min_size: swapoff01's 350) gets that, as LTP sizes
// its loop devices, up to SCRATCH_MAX_MIB: from 512 MiB on mkfs.ext2 takes
// 4 KiB blocks, which would change every other test of the boot
// (fallocate06 asks for 1 GiB).
const SCRATCH_MIB = 320;
const SCRATCH_MAX_MIB = 511;

/** The scratch disk a batch needs: the largest .dev_min_size of its tests that fits, else the default. */
function scratchMib(batch) {
  const asked = batch.map((e) => {
    const source = join(syscallsDir, sourceDir.get(e.program) ?? "", `${e.program}.c`);
    const m = existsSync(source) ? readFileSync(source, "utf8").match(/\.dev_min_size\s*=\s*(\d+)/) : null;
    return m && Number(m[1]) <= SCRATCH_MAX_MIB ? Number(m[1]) : 0;
  });
  return Math.max(SCRATCH_MIB, ...asked);
}
const debianTree = join(out, "debian-e2fsprogs");
if (!existsSync(join(debianTree, "usr/sbin/mkfs.ext2"))) {
  rmSync(debianTree, { recursive: true, force: true });
  execFileSync(join(root, "scripts/add-debian-program"), [debianTree, "/usr/sbin/mkfs.ext2"], { stdio: ["ignore", "inherit", "inherit"] });
}

async function makeIso(index, batch) {
  const dir = join(work, `batch${index}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "batch"), batch.map((e) => [e.tag, e.program, ...e.args].join(" ") + "\n").join(""));
  const binaries = [...new Set(batch.flatMap((e) => [e.program, ...helpersOf(e.program)]))].filter((p) => built.has(p));
  const cpio = join(dir, "initramfs.cpio");
  await execFileAsync("node", [
    join(root, "scripts/make-initramfs.mjs"), cpio,
    `/=${join(root, "user/rootfs")}`, `/bin=${join(root, "build/user/bin")}`, `/=${join(root, "build/busybox")}`,
    `/tmp=${empty}`, `/dev=${empty}`, `/=${debianTree}`,
    ...binaries.map((p) => `/ltp/bin/${p}=${join(out, "bin", p)}`), `/ltp/batch=${join(dir, "batch")}`,
  ]);
  const args = ["-t", String(perTest), ...(env.LTP_TIMEOUT_MUL ? ["-m", env.LTP_TIMEOUT_MUL] : []), "/ltp/batch"];
  const iso = join(dir, "os.iso");
  writeFileSync(join(dir, "scratch.img"), "");
  truncateSync(join(dir, "scratch.img"), scratchMib(batch) << 20);
  await execFileAsync(join(root, "scripts/make-iso.sh"), [iso, `exit=qemu${process.env.LTP_KERNEL ? ` ${process.env.LTP_KERNEL}` : ""} init=/bin/ltp-run -- ${args.join(" ")}`, cpio]);
  return iso;
}

/** Boots one ISO; the console in a file (QEMU may drop what a busy pipe reader has not taken). */
function bootIso(iso, log, limitMs) {
  const stallMs = (perTest + 60) * 1000; // ltp-run says something at least once per test
  return new Promise((resolvePromise) => {
    const t = Date.now();
    const qemu = spawn("qemu-system-x86_64", [
      "-accel", "tcg", "-cpu", "max", "-m", memory, "-no-reboot", "-display", "none",
      "-serial", `file:${log}`, "-monitor", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
      "-cdrom", iso, "-boot", "d", ...diskArguments([join(dirname(iso), "scratch.img")]),
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let messages = "", killed = "", lastSize = -1, lastChange = Date.now();
    qemu.stderr.on("data", (chunk) => (messages += chunk));
    const watch = setInterval(() => {
      const size = existsSync(log) ? statSync(log).size : 0;
      if (size !== lastSize) [lastSize, lastChange] = [size, Date.now()];
      const why = Date.now() - t > limitMs ? `no end after ${seconds(limitMs)} s`
        : Date.now() - lastChange > stallMs ? `console silent for ${seconds(stallMs)} s` : "";
      if (why && !killed) {
        killed = why;
        qemu.kill("SIGKILL");
      }
    }, 1000);
    qemu.on("close", (status) => {
      clearInterval(watch);
      const serial = (existsSync(log) ? readFileSync(log, "latin1") : "").replace(/\r\n/g, "\n");
      resolvePromise({ status, killed, serial, messages, ms: Date.now() - t });
    });
  });
}

/** The line of a test's output that says why it did not pass. */
function reasonOf(result, lines) {
  if (result.timeout) return `timed out after ${perTest} s; killed`;
  const want = result.status === "CONF" ? /\bTCONF\b/ : result.status === "WARN" ? /\bTWARN\b/ : /\b(TFAIL|TBROK)\b/;
  const line = lines.find((l) => want.test(l)) ?? lines.find((l) => /\b(TFAIL|TBROK|TWARN)\b/.test(l));
  if (line) return line.trim();
  if (result.signal) return `killed by signal ${result.signal}`;
  return lines.filter((l) => l.trim() && !l.startsWith("kernel:")).pop()?.trim() ?? `exit status ${result.exit}`;
}

const enosys = new Map(); // number -> { name, boots, firstTests: Set }
const boots = [];

async function runBatch(index, batch, attempt) {
  const t = Date.now();
  const iso = await makeIso(`${index}${attempt ? `r${attempt}` : ""}`, batch);
  const log = join(out, "boots", `${index}${attempt ? `-retry${attempt}` : ""}.log`);
  const limitMs = (batch.length * (perTest + 15) + 60) * 1000;
  const boot = await bootIso(iso, log, limitMs);
  const lines = boot.serial.split("\n");
  const mine = new Map(batch.map((e) => [e.tag, e]));
  const reported = new Set();
  let current = null, segment = [], done = false;
  for (const line of lines) {
    const m = line.match(/called unknown system call (\d+); returning ENOSYS/);
    if (m) {
      const nr = Number(m[1]);
      const who = line.match(/^kernel: ([^\s[]+)\[/)?.[1] ?? "?";
      const entry = enosys.get(nr) ?? { name: SYSCALL_NAMES.get(nr) ?? "?", boots: 0, firstTests: new Set() };
      entry.boots++;
      entry.firstTests.add(current ?? who);
      enosys.set(nr, entry);
    }
    let s;
    if ((s = line.match(/^LTP-START tag=(\S+)/))) {
      current = s[1];
      segment = [];
    } else if ((s = line.match(/^LTP-RESULT tag=(\S+) status=(\S+) exit=(-?\d+) signal=(\d+) seconds=([\d.]+)(.*)/))) {
      const [, tag, status, exit, signal, secs, rest] = s;
      const result = { tag, status, exit: Number(exit), signal: Number(signal), seconds: Number(secs), timeout: /timeout=1/.test(rest), leftovers: /leftovers=1/.test(rest), boot: index };
      // A few old tests report TFAIL and still exit 0 (set_robust_list01, setsid01): not a pass.
      const failLine = segment.find((l) => /\b(TFAIL|TBROK)\b/.test(l));
      if (status === "PASS" && failLine) Object.assign(result, { status: "FAIL", exitZeroDespite: failLine.trim() });
      result.reason = result.status === "PASS" ? "" : reasonOf(result, segment) + (result.exitZeroDespite ? " (yet exit status 0)" : "");
      writeFileSync(join(out, "logs", `${tag}.log`), segment.join("\n") + "\n");
      if (mine.has(tag)) {
        results.set(tag, result);
        reported.add(tag);
      }
      current = null;
    } else if (line.startsWith("LTP-DONE")) {
      done = true;
    } else if (current) {
      segment.push(line);
    }
  }
  const how = boot.killed ? `QEMU killed: ${boot.killed}`
    : boot.status === 33 ? "" : boot.status === 37 ? "kernel panic"
    : boot.status === 0 ? "triple fault" : boot.status === 39 ? "ltp-run (init) failed"
    : `QEMU exited with status ${boot.status}`;
  const problem = how || (done ? "" : "the batch did not finish");
  const retry = [];
  if (problem) {
    if (current && mine.has(current)) {
      writeFileSync(join(out, "logs", `${current}.log`), segment.join("\n") + "\n");
      const tail = segment.filter((l) => l.trim()).slice(-1)[0]?.trim() ?? "";
      results.set(current, { tag: current, status: "FAIL", seconds: 0, boot: index, reason: `boot ended while it ran: ${problem}${tail ? `; last line: ${tail}` : ""}` });
      reported.add(current);
    }
    for (const e of batch) {
      if (reported.has(e.tag)) continue;
      // Tests that never started get one more boot when the boot died under another test.
      if (current && attempt < 3) retry.push(e);
      else results.set(e.tag, { tag: e.tag, status: "FAIL", seconds: 0, boot: index, reason: `not run: ${problem}` });
    }
  }
  boots.push({ boot: `${index}${attempt ? `-retry${attempt}` : ""}`, tests: batch.map((e) => e.tag), status: boot.status, problem, seconds: Number(seconds(Date.now() - t)), log: relative(root, log) });
  const summary = batch.filter((e) => reported.has(e.tag)).map((e) => results.get(e.tag));
  for (const r of summary) console.log(line(r));
  console.log(`ltp: boot ${index}${attempt ? ` (retry ${attempt})` : ""}: ${summary.length} of ${batch.length} tests in ${seconds(Date.now() - t)} s${problem ? `; ${problem} (console: ${relative(root, log)})` : ""}${retry.length ? `; ${retry.length} not started, booting them again` : ""}`);
  if (retry.length) await runBatch(index, retry, attempt + 1);
}

function line(r) {
  const reason = r.status === "PASS" ? "" : `  ${r.reason.length > 110 ? r.reason.slice(0, 107) + "..." : r.reason}`;
  return `${r.status} ${r.tag} ${r.seconds.toFixed(2)}s${reason}`;
}

const batches = [];
for (let i = 0; i < runnable.length; i += batchSize) batches.push(runnable.slice(i, i + batchSize));
console.log(`ltp: ${runnable.length} tests in ${batches.length} boots, ${Math.min(jobs, batches.length)} at a time, ${perTest} s per test${notBuilt.length ? ` (${notBuilt.length} entries whose program did not build are left out)` : ""}`);
let next = 0;
await Promise.all(Array.from({ length: Math.min(jobs, batches.length) }, async () => {
  while (next < batches.length) {
    const index = next++;
    await runBatch(index + 1, batches[index], 0);
  }
}));

// ---------------------------------------------------------------- report

for (const r of results.values()) if (r.boot === undefined) console.log(line(r));
const all = selected.map((e) => results.get(e.tag)).filter(Boolean);
const passed = all.filter((r) => r.status === "PASS");
const skipped = all.filter((r) => r.status === "CONF");
const failed = all.filter((r) => r.status !== "PASS" && r.status !== "CONF");
const byStatus = {};
for (const r of all) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;

// What stops the tests: the failing lines, with file positions and names made general.
const reasons = new Map();
for (const r of failed.concat(skipped)) {
  reasons.set(generalReason(r), (reasons.get(generalReason(r)) ?? 0) + 1);
}
/** A test's reason with what is particular to it taken out, so that tests stopped by the same thing count together. */
function generalReason(r) {
  return r.reason.replace(/\s+/g, " ")
    .replace(/^\S+ \d+ (T[A-Z]+) : /, "$1: ") // the old library's "mmap01 1 TBROK : "
    .replace(/(^|\s)[\w./-]+\.[ch]:\d+: /g, "$1")
    .replace(/errno=(E[A-Z0-9]+)\((\d+)\): [^:]*$/, "$1 ($2)")
    .replace(/\/tmp\/[^\s):]*/g, "/tmp/...")
    .replace(new RegExp(`\\b${r.tag}\\b`, "g"), "TEST");
}
const topReasons = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 10);
const enosysList = [...enosys].sort((a, b) => a[0] - b[0])
  .map(([nr, e]) => ({ nr, name: e.name, boots: e.boots, firstTests: [...e.firstTests] }));

if (topReasons.length) {
  console.log("ltp: most common reasons a test did not pass:");
  for (const [reason, n] of topReasons) console.log(`  ${String(n).padStart(4)}  ${reason}`);
}
if (enosysList.length) {
  console.log(`ltp: system calls that returned ENOSYS (boots that hit each, of ${boots.length}):`);
  for (const e of enosysList) console.log(`  ${String(e.nr).padStart(3)} ${e.name.padEnd(20)} ${e.boots}`);
}
const newlyPassing = mustPass.length || checkFile ? passed.map((r) => r.tag).filter((t) => !mustPass.includes(t)) : [];
const regressions = mustPass.filter((tag) => selected.some((e) => e.tag === tag) && results.get(tag)?.status !== "PASS");

const elapsed = seconds(Date.now() - started);
writeFileSync(join(out, "results.json"), JSON.stringify({
  date: new Date().toISOString(),
  commit: (() => { try { return execFileSync("git", ["-C", root, "rev-parse", "HEAD"], { encoding: "utf8" }).trim(); } catch { return null; } })(),
  ltpSource: srcDir, tests: request || "default", perTestSeconds: perTest, batchSize, jobs, seconds: Number(elapsed),
  summary: { passed: passed.length, failed: failed.length, skipped: skipped.length, byStatus, notBuilt: notBuilt.length },
  results: all, notBuilt, reasons: topReasons.map(([reason, count]) => ({ reason, count })), enosys: enosysList, boots,
  check: checkFile ? { file: relative(root, checkFile), regressions, newlyPassing } : null,
}, null, 1));

console.log(`ltp: ${passed.length} passed, ${failed.length} failed, ${skipped.length} skipped (${Object.entries(byStatus).map(([s, n]) => `${n} ${s}`).join(", ")}) in ${elapsed} s; results: ${relative(root, join(out, "results.json"))}`);
if (!request) console.log(`ltp: starter set: ${STARTER.filter((t) => results.get(t)?.status === "PASS").length} of ${STARTER.length} pass (${LINUX_STARTER_PASS})`);
if (newlyPassing.length) console.log(`ltp: passing but not in ${relative(root, checkFile)} (add them: the list only grows): ${newlyPassing.join(" ")}`);
if (regressions.length) {
  console.log(`ltp: FAILED: listed in ${relative(root, checkFile)} but did not pass: ${regressions.join(" ")}`);
  process.exit(1);
}
if (checkFile && mustPass.length) console.log(`ltp: all ${mustPass.filter((t) => selected.some((e) => e.tag === t)).length} tests of ${relative(root, checkFile)} passed`);
