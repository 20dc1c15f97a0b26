// Boots the kernel in QEMU (TCG) with a given command line and memory size,
// collects the serial console, and reports how QEMU ended. A boot that
// does not end by itself is killed after a timeout.
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

// @ts-expect-error: a plain JavaScript module, shared with scripts/run-program
import { diskArguments } from "../../scripts/disk-arguments.mjs";

const run = promisify(execFile);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ISO_DIR = join(ROOT, "build/test-isos");

/** isa-debug-exit statuses (kernel/arch/x86_64/qemu_exit.ts). */
export const EXIT_SUCCESS = 33;
export const EXIT_FAILURE = 35;
export const EXIT_PANIC = 37;

export interface BootResult {
  status: number | null; // QEMU's exit status; null when killed
  timedOut: boolean;
  serial: string;
  milliseconds: number;
}

export interface BootOptions {
  cmdline: string;
  memory?: string;
  timeoutMs?: number;
  /** Initramfs to boot; default build/initramfs.cpio. */
  initramfs?: string;
  /** Disk images to attach, in order (scripts/disk-arguments.mjs: IMAGE for virtio-blk, IMAGE,ahci for SATA). */
  disks?: string[];
}

/** What an ISO is made of, besides the command line and the initramfs. */
function buildStamp(): string {
  const inputs = ["build/kernel.elf", "build/kernel.sym", "build/font.bin", "iso/grub.cfg", "scripts/make-iso.sh"]
    .map((f) => join(ROOT, f));
  for (const f of inputs) if (!existsSync(f)) throw new Error(`${f} is missing: run \`make test\`, not vitest alone`);
  const hash = createHash("sha256");
  for (const f of inputs) hash.update(`${f}:${statSync(f).size}:${statSync(f).mtimeMs}\n`);
  return hash.digest("hex").slice(0, 12);
}

const isoBuilds = new Map<string, Promise<string>>();

/**
 * An ISO for this command line and initramfs (by contents), made once per
 * build; ISOs of older builds are deleted. Concurrent tests asking for the
 * same ISO share one build.
 */
export function isoFor(cmdline: string, initramfs = join(ROOT, "build/initramfs.cpio")): Promise<string> {
  const stamp = buildStamp();
  if (!existsSync(initramfs)) throw new Error(`${initramfs} is missing: run \`make test\`, not vitest alone`);
  const key = createHash("sha256").update(cmdline).update("\0").update(readFileSync(initramfs)).digest("hex").slice(0, 16);
  const iso = join(ISO_DIR, `${stamp}-${key}.iso`);
  let build = isoBuilds.get(iso);
  if (!build) {
    build = (async () => {
      if (existsSync(iso)) return iso;
      mkdirSync(ISO_DIR, { recursive: true });
      for (const old of readdirSync(ISO_DIR)) if (!old.startsWith(stamp)) rmSync(join(ISO_DIR, old), { recursive: true, force: true });
      // Vitest's workers are threads of one process: the pid alone would not tell their builds apart.
      const temporary = `${iso}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      await run(join(ROOT, "scripts/make-iso.sh"), [temporary, cmdline, initramfs]);
      renameSync(temporary, iso);
      return iso;
    })();
    isoBuilds.set(iso, build);
  }
  return build;
}

/**
 * How long a boot may take before it counts as hung. GRUB reads the
 * initramfs through the BIOS before the kernel prints anything: with
 * several boots at once on two cores under TCG, the 9 MiB one alone has
 * taken over 60 s with the console still empty when other QEMUs ran
 * beside the tests', and one with a 32 MiB program in it longer. So the
 * time grows with the initramfs: 90 s, and 2 s for each MiB beyond 10.
 */
function defaultTimeout(initramfs: string): number {
  const mebibytes = statSync(initramfs).size / (1 << 20);
  return 90_000 + Math.max(0, Math.ceil(mebibytes - 10)) * 2_000;
}

export async function boot(options: BootOptions): Promise<BootResult> {
  const iso = await isoFor(options.cmdline, options.initramfs);
  // A file, not a pipe: QEMU may drop serial output a busy reader has not
  // taken yet when it exits.
  const logDir = mkdtempSync(join(tmpdir(), "tskernel-serial-"));
  const log = join(logDir, "serial.log");
  const args = [
    "-accel", "tcg", "-cpu", "max", "-m", options.memory ?? "128M",
    "-no-reboot", "-display", "none", "-serial", `file:${log}`, "-monitor", "none",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    "-cdrom", iso, "-boot", "d", ...diskArguments(options.disks ?? []),
  ];
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
    let messages = "";
    let timedOut = false;
    qemu.stdout.on("data", (chunk) => (messages += chunk.toString("latin1")));
    qemu.stderr.on("data", (chunk) => (messages += chunk.toString("latin1")));
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill("SIGKILL");
    }, options.timeoutMs ?? defaultTimeout(options.initramfs ?? join(ROOT, "build/initramfs.cpio")));
    qemu.on("error", reject);
    qemu.on("close", (status) => {
      clearTimeout(timer);
      const serial = existsSync(log) ? readFileSync(log, "latin1") : "";
      rmSync(logDir, { recursive: true, force: true });
      resolvePromise({
        status, timedOut, serial: (serial + messages).replace(/\r\n/g, "\n"), milliseconds: Date.now() - started,
      });
    });
  });
}

/** Fails with the whole serial log unless QEMU exited with exactly `status`. */
export function expectExit(result: BootResult, status: number): void {
  if (result.status === status && !result.timedOut) return;
  const how = result.timedOut ? "was killed after the timeout" : `exited with status ${result.status}`;
  throw new Error(`QEMU ${how}, expected status ${status}; serial log:\n${result.serial}`);
}
