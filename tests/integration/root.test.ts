// An ext2 root: `make disk`'s image (scripts/make-disk.sh: the initramfs's
// files on ext2, partition 1) booted with root=/dev/vda1 rw (virtio) or
// root=/dev/sda1 rw (AHCI); a script from the initramfs (at /initramfs, the
// early userland) creates, writes, renames, links and removes files and
// directories with busybox, runs a 32 MiB program from the disk twice, and
// ends; then the host checks the image: e2fsck -fn finds nothing, debugfs
// reads back what the guest wrote, byte for byte, and /proc/diskstats
// showed how little the lazy exec read.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, ROOT, boot, expectExit } from "./qemu";
import { buildOnce, compileC, initramfsWith, programOutput, scratchDir } from "./programs";

const TEST_TIMEOUT = 300_000;
const SEQ = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join("");

const SCRIPT = `
echo "mounted: $(grep ' / ' /proc/mounts)"
mkdir /work && echo hello > /work/a && mv /work/a /work/b && ln /work/b /work/c && ln -s b /work/d && rm /work/c
mkdir -p /work/x/y/z && rmdir /work/x/y/z && mv /work/x/y /work/y
seq 1 200000 > /work/seq
dd if=/dev/zero of=/work/zeros bs=4096 count=64 2>/dev/null
echo "read back: $(cat /work/d)"
cat /bin/busybox > /dev/null
grep ' vda \\| sda ' /proc/diskstats | sed 's/^/before: /'
/bin/lazy32
grep ' vda \\| sda ' /proc/diskstats | sed 's/^/after1: /'
/bin/lazy32
grep ' vda \\| sda ' /proc/diskstats | sed 's/^/after2: /'
echo done
`;

let lazy32 = "";
beforeAll(async () => {
  await buildOnce();
  lazy32 = join(scratchDir("lazy32"), "lazy32");
  await compileC(readFileSync(join(ROOT, "user/lazy.c"), "utf8"), lazy32, ["-DBLOB_SIZE=(32<<20)"]);
}, TEST_TIMEOUT);

/** Sectors read by the disk, from a diskstats line printed with a prefix. */
function sectorsRead(output: string, prefix: string): number {
  const line = output.split("\n").find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`no "${prefix}" line in:\n${output}`);
  return Number(line.slice(prefix.length).trim().split(/\s+/)[5]);
}

/** Runs a host e2fsprogs tool on partition 1 of the image (copied out: they take no offset). */
function partitionOf(image: string): string {
  const partition = `${image}.part1`;
  writeFileSync(partition, readFileSync(image).subarray(2048 * 512));
  return partition;
}

async function bootRoot(kind: "virtio" | "ahci"): Promise<void> {
  const dir = scratchDir(`root-${kind}`);
  const image = join(dir, "disk.img");
  execFileSync(join(ROOT, "scripts/make-disk.sh"), [image, "96", "/=user/rootfs", `/bin=${join(ROOT, "build/user/bin")}`,
    `/=${join(ROOT, "build/libs")}`, `/=${join(ROOT, "build/busybox")}`, `/bin/lazy32=${lazy32}`]);
  const script = join(dir, "root.sh");
  writeFileSync(script, SCRIPT);
  const initramfs = await initramfsWith([`/root.sh=${script}`]);
  const name = kind === "virtio" ? "vda" : "sda";
  const result = await boot({
    cmdline: `exit=qemu root=/dev/${name}1 rw init=/bin/sh -- /initramfs/root.sh`, initramfs,
    disks: [kind === "virtio" ? image : `${image},ahci`],
  });
  const output = programOutput(result.serial);
  expect(result.serial).toContain(`root: ${name}1: ext2 mounted as / (read-write), the initramfs at /initramfs`);
  expect(output).toContain("mounted: /dev/root / ext2 rw");
  expect(output).toContain("read back: hello");
  expect(output).toContain("lazy: blob[0] = 1 ");
  expect(output).toContain("done\n");
  expectExit(result, EXIT_SUCCESS);
  const cold = sectorsRead(output, "after1:") - sectorsRead(output, "before:");
  const warm = sectorsRead(output, "after2:") - sectorsRead(output, "after1:");
  console.log(`${kind}: the 32 MiB program read ${cold / 2} KiB from the disk cold, ${warm / 2} KiB warm`);
  expect(cold).toBeGreaterThan(0);
  expect(cold / 2).toBeLessThan(256); // a few dozen KiB, not 32 MiB
  expect(warm).toBe(0);
  const partition = partitionOf(image);
  const fsck = execFileSync("/usr/sbin/e2fsck", ["-fn", partition], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  console.log(`${kind}: e2fsck -fn: ${fsck.trim().split("\n").pop()}`);
  const cat = (path: string) =>
    execFileSync("/usr/sbin/debugfs", ["-R", `cat ${path}`, partition], { stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 << 20 });
  expect(cat("/work/b").toString()).toBe("hello\n");
  expect(cat("/work/seq").toString()).toBe(SEQ);
  expect(cat("/work/zeros").equals(Buffer.alloc(64 * 4096))).toBe(true);
  const list = execFileSync("/usr/sbin/debugfs", ["-R", "ls -l /work", partition], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  expect(list).toMatch(/\bb\n|\bb\s/);
  expect(list).not.toMatch(/\sc\s/);
  expect(list).toMatch(/\sy\s/);
  const stat = (path: string) => execFileSync("/usr/sbin/debugfs", ["-R", `stat ${path}`, partition], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  expect(stat("/work/d")).toContain('Fast link dest: "b"');
  expect(stat("/work/zeros"), stat("/work/zeros")).toMatch(/Blockcount: 520\b/); // 64 blocks and an indirect one: zeros written are data, not a hole (as on Linux)
  // init's end marks the file system clean, as an unmount would.
  expect(execFileSync("/usr/sbin/dumpe2fs", ["-h", partition], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }))
    .toMatch(/Filesystem state:\s+clean/);
}

describe.concurrent("an ext2 root", () => {
  it("virtio-blk: root=/dev/vda1 rw; busybox's file work passes e2fsck -fn and reads back on the host", () => bootRoot("virtio"), TEST_TIMEOUT);
  it("AHCI: root=/dev/sda1 rw; the same", () => bootRoot("ahci"), TEST_TIMEOUT);
  it("a machine killed after an fsync: the fsynced file is whole on the disk, and e2fsck finds only accounting to fix", async () => {
    const dir = scratchDir("root-crash");
    const image = join(dir, "disk.img");
    execFileSync(join(ROOT, "scripts/make-disk.sh"), [image, "48", "/=user/rootfs", `/bin=${join(ROOT, "build/user/bin")}`,
      `/=${join(ROOT, "build/libs")}`, `/=${join(ROOT, "build/busybox")}`]);
    const result = await boot({ cmdline: "exit=qemu root=/dev/vda1 rw init=/bin/fsynced -- /tmp/kept", disks: [image], timeoutMs: 60_000 });
    expect(result.serial).toContain("fsynced /tmp/kept");
    expect(result.timedOut).toBe(true); // killed, with no sync and no unmount
    const partition = partitionOf(image);
    let report = "";
    try {
      report = execFileSync("/usr/sbin/e2fsck", ["-fn", partition], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      report = (error as { stdout: string }).stdout; // exit 4: something left to fix; the lines say what
    }
    // Without a journal a cut leaves what ext2 leaves on Linux: free counts, and blocks or inodes
    // allocated in the bitmaps for a file not yet written. Nothing else: no damaged structure.
    const problems = report.split("\n").filter((line) => /^(Pass|e2fsck|\/|\s*$|Fix\? no|Block bitmap differences|Inode bitmap differences|Free (blocks|inodes) count wrong|Directories count wrong|Padding at end)/.test(line) === false && !/^ [-+]/.test(line));
    console.log(`e2fsck -fn after the cut:\n${report}`);
    expect(problems, report).toEqual([]);
    const kept = execFileSync("/usr/sbin/debugfs", ["-R", "cat /tmp/kept", partition], { stdio: ["ignore", "pipe", "ignore"], maxBuffer: 8 << 20 });
    expect(kept.length).toBe(256 * 4096);
    for (let i = 0; i < 256; i++) expect(kept.subarray(i * 4096, i * 4096 + 32).toString()).toContain(`block ${i} of /tmp/kept`);
  }, TEST_TIMEOUT);
});
