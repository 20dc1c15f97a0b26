// bench.mjs [--rounds N] [--disk | --swap]
// `make bench`: the same benchmark binary (user/bench/bench.c) as init on
// TSKernel and on Debian's own Linux kernel, on the same QEMU TCG machine,
// alternating kernels for N rounds (default 3). Prints a side-by-side table,
// writes build/bench/results.json and a chart, build/bench/ratios.svg.
// Each round also boots both kernels once with user/sharing.c as init: ten
// concurrent runs of a glibc-linked program (with glibc's loader and libc
// in the initramfs), and the frames the first and each further run cost,
// and once with user/bench/disk.c as init and fresh copies of the same two
// disk images attached (virtio-blk; a raw one and an ext2 one): storage
// rows, cold after boot; and once with user/bench/swap.c as init, less
// memory (SWAP_MEMORY_MIB) and a fresh swap area made by mkswap attached: the
// swap rows.
// --disk boots only the storage ones, and writes results-disk.json,
// table-disk.txt and ratios-disk.svg instead; --swap only the swap ones
// (results-swap.json, table-swap.txt, ratios-swap.svg).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { diskArguments } from "./disk-arguments.mjs";
import { freshDisks, freshSwapDisk, makeExt2Template, unwrittenPages } from "./bench-disks.mjs";
import { linuxModules } from "./linux-modules.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build/bench");
const args = process.argv.slice(2);
const rounds = args.includes("--rounds") ? Number(args[args.indexOf("--rounds") + 1]) : Number(process.env.BENCH_ROUNDS ?? 3);
const only = args.includes("--disk") ? "disk" : args.includes("--swap") ? "swap" : undefined;
const [runMain, runDisk, runSwap] = [!only, only !== "swap", only !== "disk"];
const suffix = only ? `-${only}` : "";
const MEMORY = "1G";
// The swap boots' RAM, a power of two in MiB: user/bench/swap.c is told it and sizes its rows by it.
const SWAP_MEMORY_MIB = 128;
const QEMU = ["-accel", "tcg", "-cpu", "max", "-no-reboot", "-display", "none", "-monitor", "none"];
mkdirSync(out, { recursive: true });

const run = (cmd, argv, options = {}) => execFileSync(cmd, argv, { stdio: ["ignore", "pipe", "inherit"], ...options });

function buildPrograms() {
  const bin = join(out, "bin");
  mkdirSync(bin, { recursive: true });
  for (const [name, source] of [["bench", "bench.c"], ["bench-small", "small.c"], ["bench-big", "big.c"],
    ["bench-disk", "disk.c"], ["bench-swap", "swap.c"]]) {
    run("musl-gcc", ["-static", "-O2", "-Wall", "-o", join(bin, name), join(root, "user/bench", source)]);
  }
  const data = join(out, "data");
  mkdirSync(data, { recursive: true });
  const file = Buffer.alloc(32 << 20);
  for (let i = 0; i < file.length; i += 4) file.writeUInt32LE((i * 2654435761) >>> 0, i);
  writeFileSync(join(data, "file32m"), file);
  return { bin, data };
}

function linuxKernel() {
  const dir = join(out, "linux");
  const existing = existsSync(dir) && readdirSync(join(dir, "boot"), { withFileTypes: true }).find((e) => e.name.startsWith("vmlinuz"));
  if (existing) return join(dir, "boot", existing.name);
  mkdirSync(dir, { recursive: true });
  // linux-image-amd64 is a metapackage: download the image package it depends on.
  const depends = run("apt-cache", ["depends", "linux-image-amd64"]).toString();
  const image = depends.match(/Depends: (linux-image-[^\s]+)/)[1];
  console.log(`bench: downloading ${image} (apt-get download; nothing is installed)`);
  run("apt-get", ["download", image], { cwd: dir });
  const deb = readdirSync(dir).find((name) => name.endsWith(".deb"));
  run("dpkg-deb", ["-x", join(dir, deb), dir]);
  const vmlinuz = readdirSync(join(dir, "boot")).find((name) => name.startsWith("vmlinuz"));
  return join(dir, "boot", vmlinuz);
}

function boot(label, qemuArgs, { memory = MEMORY, timeoutMs = 900_000 } = {}) {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const qemu = spawn("qemu-system-x86_64", [...QEMU, "-m", memory, "-serial", "stdio", ...qemuArgs], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    qemu.stdout.on("data", (chunk) => (text += chunk.toString("latin1")));
    const timer = setTimeout(() => qemu.kill("SIGKILL"), timeoutMs);
    qemu.on("close", () => {
      clearTimeout(timer);
      const metrics = {};
      for (const line of text.split("\n")) {
        const m = line.match(/^BENCH (\S+) (\S+) ns=([\d.]+) ticks=([\d.]+) faults=([\d.]+) reps=(\d+)/);
        if (m) metrics[m[1]] = { unit: m[2], ns: Number(m[3]), ticks: Number(m[4]), faults: Number(m[5]), reps: Number(m[6]) };
        const disk = line.match(/^BENCH (\S+) .* requests-read=([\d.]+) sectors-read=([\d.]+) requests-written=([\d.]+) sectors-written=([\d.]+)/);
        if (disk) Object.assign(metrics[disk[1]], { disk: disk.slice(2, 6).map(Number) });
        const swap = line.match(/^BENCH (\S+) .* pswpout=([\d.]+) pswpin=([\d.]+)/);
        if (swap) Object.assign(metrics[swap[1]], { swap: swap.slice(2, 4).map(Number) });
      }
      const mm = text.match(/bench-mm (zero|copy) page: unrolled movs \(used\) +([\d.]+) ns/g) ?? [];
      for (const line of mm) {
        const [, kind, ns] = line.match(/bench-mm (zero|copy) page: unrolled movs \(used\) +([\d.]+) ns/);
        metrics[`kernel-${kind}-page`] = { unit: "page", ns: Number(ns), ticks: 0, faults: 0, reps: 2048 };
      }
      const done = text.includes("BENCH done") || mm.length > 0;
      console.log(`bench: ${label}: ${Object.keys(metrics).length} metrics in ${((Date.now() - started) / 1000).toFixed(1)} s${done ? "" : " (INCOMPLETE)"}`);
      if (!done) console.log(text.split("\n").slice(-15).join("\n"));
      resolvePromise(metrics);
    });
  });
}

/** The sharing boot's figures: frames of the first run and of each further one; kB of one run by smaps_rollup. */
function bootSharing(label, qemuArgs) {
  return new Promise((resolvePromise) => {
    const qemu = spawn("qemu-system-x86_64", [...QEMU, "-m", MEMORY, "-serial", "stdio", ...qemuArgs], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    qemu.stdout.on("data", (chunk) => (text += chunk.toString("latin1")));
    const timer = setTimeout(() => qemu.kill("SIGKILL"), 300_000);
    qemu.on("close", () => {
      clearTimeout(timer);
      const metrics = {};
      const cost = text.match(/sharing: first (\d+) frames, each further ([\d.]+) frames/);
      if (cost) {
        metrics["sharing-first-run"] = { unit: "frames", value: Number(cost[1]) };
        metrics["sharing-each-further-run"] = { unit: "frames", value: Number(cost[2]) };
      }
      // Resident kB from smaps_rollup where there is one: Linux's status counts lag behind (per-thread caches).
      const status = text.match(/resident kB \(average\): rss (\d+) .* page-tables (\d+)/);
      const smaps = text.match(/smaps_rollup kB \(average\): rss (\d+) pss (\d+) .* private_clean (\d+) private_dirty (\d+)/);
      if (status) metrics["sharing-run-page-tables"] = { unit: "kB", value: Number(status[2]) };
      if (smaps || status) metrics["sharing-run-resident"] = { unit: "kB", value: Number((smaps ?? status)[1]) };
      if (smaps) {
        metrics["sharing-run-pss"] = { unit: "kB", value: Number(smaps[2]) };
        metrics["sharing-run-private"] = { unit: "kB", value: Number(smaps[3]) + Number(smaps[4]) };
      }
      const ok = text.includes("sharing: ok");
      console.log(`bench: ${label}: ${Object.keys(metrics).length} sharing figures${ok ? "" : " (NOT OK)"}`);
      if (!ok) console.log(text.split("\n").filter((l) => l.startsWith("sharing")).join("\n") || text.split("\n").slice(-15).join("\n"));
      resolvePromise(metrics);
    });
  });
}

const median = (values) => {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

const { bin, data } = buildPrograms();
execFileSync("make", ["--no-print-directory", "-s", "-C", root, "build/kernel.elf", "build/kernel.sym", "build/font.bin"], { stdio: "inherit" });
const vmlinuz = linuxKernel();
const linuxVersion = vmlinuz.split("vmlinuz-")[1];
// Linux's side of the storage boots loads these from /lib/modules (user/bench/disk.c); ours has the drivers built in.
// crc32c: ext4 asks the crypto API for it at every mount, ext2's too, and no modprobe is there to answer.
const modules = linuxModules(join(out, "linux/lib/modules", linuxVersion, "kernel"), ["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"],
  join(out, "modules"));
// The swap boots' Linux needs only the disk: the less its initramfs holds, the more of the RAM the rows have.
const swapModules = linuxModules(join(out, "linux/lib/modules", linuxVersion, "kernel"), ["virtio_pci", "virtio_blk"], join(out, "modules-swap"));
const files = [`/bin/bench=${join(bin, "bench")}`, `/bin/bench-small=${join(bin, "bench-small")}`,
  `/bin/bench-big=${join(bin, "bench-big")}`, `/bin/bench-disk=${join(bin, "bench-disk")}`, `/data/file32m=${join(data, "file32m")}`];
run("node", [join(root, "scripts/make-initramfs.mjs"), join(out, "ours.cpio"), ...files]);
run("node", [join(root, "scripts/make-initramfs.mjs"), join(out, "linux.cpio"), ...files,
  ...modules.map((path) => `/lib/modules/${path.split("/").pop()}=${path}`), `/init=${join(bin, "bench")}`, "/dev/console=char:5:1"]);
const swapFiles = [`/bin/bench-swap=${join(bin, "bench-swap")}`];
run("node", [join(root, "scripts/make-initramfs.mjs"), join(out, "ours-swap.cpio"), ...swapFiles]);
run("node", [join(root, "scripts/make-initramfs.mjs"), join(out, "linux-swap.cpio"), ...swapFiles,
  ...swapModules.map((path) => `/lib/modules/${path.split("/").pop()}=${path}`), "/dev/console=char:5:1"]);
const isos = [];
if (runDisk) isos.push(["ours-disk.iso", "exit=qemu init=/bin/bench-disk"]);
if (runSwap) isos.push(["ours-swap.iso", `exit=qemu init=/bin/bench-swap -- ${SWAP_MEMORY_MIB}`, "ours-swap.cpio"]);
if (runMain) isos.push(["ours.iso", "exit=qemu init=/bin/bench"], ["ours-nofa.iso", "exit=qemu init=/bin/bench faultaround=0"],
  ["ours-mm.iso", "exit=qemu selftest=bench-mm"]);
for (const [iso, cmdline, cpio = "ours.cpio"] of isos) run(join(root, "scripts/make-iso.sh"), [join(out, iso), cmdline, join(out, cpio)]);
if (runMain) {
  // The sharing boots: user/sharing.c (built by make) and its glibc worker, with glibc's loader and libc.
  const userBin = join(root, "build/user/bin");
  const sharingFiles = [`/bin/sharing=${join(userBin, "sharing")}`, `/bin/sharing-glibc=${join(userBin, "sharing-glibc")}`,
    `/=${join(root, "build/libs")}`];
  run("node", [join(root, "scripts/make-initramfs.mjs"), join(out, "ours-sharing.cpio"), ...sharingFiles]);
  run("node", [join(root, "scripts/make-initramfs.mjs"), join(out, "linux-sharing.cpio"), ...sharingFiles,
    `/init=${join(userBin, "sharing")}`, "/dev/console=char:5:1"]);
  run(join(root, "scripts/make-iso.sh"), [join(out, "ours-sharing.iso"), "exit=qemu init=/bin/sharing", join(out, "ours-sharing.cpio")]);
}

const samples = { ours: [], oursNoFaultAround: [], linux: [], oursSharing: [], linuxSharing: [], oursDisk: [], linuxDisk: [],
  oursSwap: [], linuxSwap: [] };
const iso = (name) => ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-cdrom", join(out, name), "-boot", "d"];
const linuxArgs = (cpio, append = "") => ["-kernel", vmlinuz, "-initrd", join(out, cpio), "-append", `console=ttyS0 quiet panic=-1${append}`];
const ext2Template = runDisk ? makeExt2Template(out, join(bin, "bench-big")) : undefined;
/** A storage boot on fresh images; the raw one must afterwards hold every page the boot wrote. */
async function bootDisk(label, qemuArgs) {
  const [raw, ext2] = freshDisks(out, ext2Template);
  const metrics = await boot(label, [...qemuArgs, ...diskArguments([raw, ext2])]);
  const wrong = unwrittenPages(raw);
  if (wrong) console.log(`bench: ${label}: ${wrong} written pages missing from the image`);
  return metrics;
}
/** A swap boot: SWAP_MEMORY_MIB of RAM and a fresh swap area as /dev/vda. */
const bootSwap = (label, qemuArgs) => boot(label, [...qemuArgs, ...diskArguments([freshSwapDisk(out)])], { memory: `${SWAP_MEMORY_MIB}M` });
const kernelMm = runMain ? await boot("TSKernel selftest=bench-mm", iso("ours-mm.iso")) : {};
for (let round = 1; round <= rounds; round++) {
  if (runDisk) {
    samples.oursDisk.push(await bootDisk(`round ${round}: TSKernel storage`, iso("ours-disk.iso")));
    samples.linuxDisk.push(await bootDisk(`round ${round}: Linux storage`, linuxArgs("linux.cpio", " rdinit=/bin/bench-disk")));
  }
  if (runSwap) {
    samples.oursSwap.push(await bootSwap(`round ${round}: TSKernel swap`, iso("ours-swap.iso")));
    samples.linuxSwap.push(await bootSwap(`round ${round}: Linux swap`,
      linuxArgs("linux-swap.cpio", ` rdinit=/bin/bench-swap -- ${SWAP_MEMORY_MIB}`)));
  }
  if (!runMain) continue;
  samples.ours.push(await boot(`round ${round}: TSKernel`, iso("ours.iso")));
  samples.linux.push(await boot(`round ${round}: Linux ${linuxVersion}`, linuxArgs("linux.cpio")));
  samples.oursNoFaultAround.push(await boot(`round ${round}: TSKernel faultaround=0`, iso("ours-nofa.iso")));
  samples.oursSharing.push(await bootSharing(`round ${round}: TSKernel sharing`, iso("ours-sharing.iso")));
  samples.linuxSharing.push(await bootSharing(`round ${round}: Linux sharing`, linuxArgs("linux-sharing.cpio")));
}

const value = (list, name, field) => {
  const values = list.map((m) => m[name]?.[field]).filter((v) => v !== undefined);
  return values.length ? median(values) : undefined;
};
const floor = value(samples.ours, "syscall-getppid", "ns");
// Requests and sectors read, then written (disk), or pages swapped out, then in (swap), per unit: medians of the rounds.
const counts = (list, name, kind) => (list.find((m) => m[name]?.[kind])?.[name][kind] ?? []).map((_, i) => {
  const values = list.map((m) => m[name]?.[kind]?.[i]).filter((v) => v !== undefined);
  return values.length ? median(values) : undefined;
});
const rowsOf = (ours, linux) => Object.keys(ours[0] ?? {}).map((name) => ({
  name, unit: ours[0][name].unit,
  ours: value(ours, name, "ns"), linux: value(linux, name, "ns"),
  oursFaults: value(ours, name, "faults"), linuxFaults: value(linux, name, "faults"),
  ...(ours[0][name].disk === undefined ? {} : { oursDisk: counts(ours, name, "disk"), linuxDisk: counts(linux, name, "disk") }),
  ...(ours[0][name].swap === undefined ? {} : { oursSwap: counts(ours, name, "swap"), linuxSwap: counts(linux, name, "swap") }),
}));
const rows = [...rowsOf(samples.ours, samples.linux), ...rowsOf(samples.oursDisk, samples.linuxDisk),
  ...rowsOf(samples.oursSwap, samples.linuxSwap)];
const noFa = value(samples.oursNoFaultAround, "file-read-fault", "ns");
if (noFa !== undefined) {
  rows.push({ name: "file-read-fault-no-faultaround", unit: "page", ours: noFa, linux: undefined,
    oursFaults: value(samples.oursNoFaultAround, "file-read-fault", "faults"), linuxFaults: undefined });
}
for (const kind of ["zero", "copy"]) {
  const metric = kernelMm[`kernel-${kind}-page`];
  if (metric) rows.push({ name: `kernel-${kind}-page`, unit: "page", ours: metric.ns, linux: undefined });
}
if (runMain) rows.push({ name: "frame-record-bytes", unit: "frame", ours: 32, linux: 64, raw: true });
// Memory, not time: frames or kB, medians of the rounds (Linux's frame counts are MemFree's, which moves in per-CPU batches).
for (const name of ["sharing-first-run", "sharing-each-further-run", "sharing-run-resident", "sharing-run-page-tables",
  "sharing-run-pss", "sharing-run-private"]) {
  const sharing = (list) => {
    const values = list.map((m) => m[name]?.value).filter((v) => v !== undefined);
    return values.length ? median(values) : undefined;
  };
  const unit = (samples.oursSharing.find((m) => m[name]) ?? samples.linuxSharing.find((m) => m[name]))?.[name].unit;
  if (unit) rows.push({ name, unit, ours: sharing(samples.oursSharing), linux: sharing(samples.linuxSharing), raw: true, memory: true });
}

const fmt = (v) => (v === undefined ? "-" : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const count = (v) => (v === undefined ? "-" : v < 10 ? v.toFixed(2) : fmt(v)); // requests per page are fractions
const io = (c) => (c?.[0] === undefined ? "-" : `${count(c[0])} (${fmt(c[1])}), ${count(c[2])} (${fmt(c[3])})`);
const swapped = (c) => (c?.[0] === undefined ? "-" : `${count(c[0])}, ${count(c[1])}`);
const lines = [];
const machine = only === "swap" ? `-m ${SWAP_MEMORY_MIB}M, 1 GiB of swap` : `-m ${MEMORY}${runSwap ? ` (swap rows: -m ${SWAP_MEMORY_MIB}M, 1 GiB of swap)` : ""}`;
lines.push(`TSKernel vs Linux ${linuxVersion} on qemu-system-x86_64 -accel tcg -cpu max ${machine}, ${rounds} rounds (medians)`);
lines.push("metric".padEnd(32) + "unit".padEnd(7) + "ours ns".padStart(12) + "Linux ns".padStart(12) + "ours/Linux".padStart(11) + "above floor".padStart(13) + "  faults/unit ours, Linux");
for (const r of rows) {
  const ratio = r.ours !== undefined && r.linux ? r.ours / r.linux : undefined;
  r.ratio = ratio;
  const above = !r.raw && r.unit !== "MiB" && floor !== undefined && r.ours !== undefined && /fault|write|read|cow/.test(r.name) ? r.ours - floor : undefined;
  r.aboveFloor = above;
  lines.push(r.name.padEnd(32) + r.unit.padEnd(7) + fmt(r.ours).padStart(12) + fmt(r.linux).padStart(12) +
    (ratio === undefined ? "-" : ratio.toFixed(2)).padStart(11) + fmt(above).padStart(13) +
    (r.oursFaults === undefined ? "" : `  ${r.oursFaults.toFixed(3)}, ${r.linuxFaults === undefined ? "-" : r.linuxFaults.toFixed(3)}`) +
    (r.oursDisk ? `  requests (sectors) read, written per unit: ours ${io(r.oursDisk)}; Linux ${io(r.linuxDisk)}` : "") +
    (r.oursSwap ? `  pswpout, pswpin per unit: ours ${swapped(r.oursSwap)}; Linux ${swapped(r.linuxSwap)}` : ""));
}
console.log("\n" + lines.join("\n"));
writeFileSync(join(out, `results${suffix}.json`), JSON.stringify({ date: new Date().toISOString(), rounds, memory: MEMORY,
  swapMemory: `${SWAP_MEMORY_MIB}M`,
  linux: vmlinuz, rows, samples }, null, 2));
writeFileSync(join(out, `table${suffix}.txt`), lines.join("\n") + "\n");

// The chart: one bar per metric, log scale, 1.0 (parity) in the middle.
const charted = rows.filter((r) => r.ratio !== undefined && !r.memory); // the chart is of times
const width = 900, barHeight = 22, left = 260, height = charted.length * barHeight + 60;
const x = (ratio) => left + (Math.log2(ratio) + 6) / 12 * (width - left - 20);
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="12">`;
svg += `<text x="10" y="20">TSKernel time / Linux time (log scale; left of the line = TSKernel faster)</text>`;
charted.forEach((r, i) => {
  const y = 40 + i * barHeight;
  const x0 = x(1), x1 = x(Math.min(Math.max(r.ratio, 1 / 64), 64));
  svg += `<text x="10" y="${y + 15}">${r.name}</text>`;
  svg += `<rect x="${Math.min(x0, x1)}" y="${y + 4}" width="${Math.abs(x1 - x0)}" height="${barHeight - 8}" fill="${r.ratio <= 1 ? "#3a7" : "#c54"}"/>`;
  svg += `<text x="${Math.max(x0, x1) + 4}" y="${y + 15}">${r.ratio.toFixed(2)}</text>`;
});
svg += `<line x1="${x(1)}" y1="30" x2="${x(1)}" y2="${height - 10}" stroke="#000"/></svg>\n`;
writeFileSync(join(out, `ratios${suffix}.svg`), svg);
console.log(`\nbench: wrote ${["results.json", "table.txt", "ratios.svg"].map((f) => join(out, f.replace(".", `${suffix}.`))).join(", ")}`);
