// ext2 on a virtio-blk disk (user/ext2.c): an image mke2fs made on the
// host is mounted by a program running as init, read, changed, unmounted,
// mounted read-only and read back; then e2fsck -fn must find the image
// clean and debugfs must read the program's bytes. Remounts (user/readonly.c)
// between read-write and read-only, on ext2 as on tmpfs: EBUSY while a file
// is open for writing, EROFS for every change, the file system clean on disk
// after the remount read-only. FIFOs (user/fifo.c) on ext2 and tmpfs; both
// programs pass on this Linux host too.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, expectExit } from "./qemu";
import { USER_BIN, bootInit, buildOnce, failedChecks, initramfsWith, programOutput, scratchDir } from "./programs";

const TEST_TIMEOUT = 240_000;
const PATTERN_BYTES = 100000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

const pattern = (length: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff));

describe.concurrent("ext2", () => {
  it("ext2: a disk's ext2 file system mounted, changed and unmounted; e2fsck finds it clean", async () => {
    const dir = scratchDir("ext2");
    const root = join(dir, "root");
    mkdirSync(root);
    writeFileSync(join(root, "hello"), "hello from the host\n");
    writeFileSync(join(root, "old"), Buffer.alloc(30000, 1));
    const image = join(dir, "ext2.img");
    execFileSync("mke2fs", ["-q", "-F", "-t", "ext2", "-b", "1024", "-E", "root_owner=0:0", "-d", root, image, "8m"]);
    const result = await bootInit({ program: "ext2", args: ["vda"], disks: [image] });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    expect(output).toContain("ext2: 0 failed");
    expectExit(result, EXIT_SUCCESS);
    const check = spawnSync("e2fsck", ["-fn", image], { encoding: "utf8" });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    const cat = (file: string) => execFileSync("debugfs", ["-R", `cat ${file}`, image], { stdio: ["ignore", "pipe", "pipe"] });
    expect(Buffer.compare(cat("/dir/renamed"), pattern(PATTERN_BYTES))).toBe(0);
    expect(Buffer.compare(cat("/linked"), pattern(PATTERN_BYTES))).toBe(0);
    expect(Buffer.compare(cat("/dir/cut"), pattern(4097))).toBe(0);
    expect(execFileSync("debugfs", ["-R", "ls /", image], { stdio: ["ignore", "pipe", "pipe"] }).toString()).not.toMatch(/\bold\b/);
  }, TEST_TIMEOUT);

  it("remounts: read-only refuses every change with EROFS, on ext2 and on tmpfs; the disk is clean after it", async () => {
    const image = join(scratchDir("ext2-remount"), "remount.img");
    execFileSync("mke2fs", ["-q", "-F", "-t", "ext2", "-b", "4096", "-E", "root_owner=0:0", image, "8m"]);
    const script = join(scratchDir("ext2-remount"), "remount.sh");
    writeFileSync(script, "mkdir -p /mnt && /bin/readonly /mnt ext2 /dev/vda && /bin/readonly /tmp/readonly-tmpfs\n");
    const initramfs = await initramfsWith([`/etc/remount.sh=${script}`]);
    const result = await bootInit({ program: "sh", args: ["/etc/remount.sh"], disks: [image], initramfs });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    expect(output.match(/^readonly: 0 failed$/gm), output).toHaveLength(2);
    expectExit(result, EXIT_SUCCESS);
    const check = spawnSync("e2fsck", ["-fn", image], { encoding: "utf8" });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    const cat = execFileSync("debugfs", ["-R", "cat /file", image], { stdio: ["ignore", "pipe", "pipe"] });
    expect(cat.toString()).toBe("hello");
  }, TEST_TIMEOUT);

  it("FIFOs (user/fifo.c) on ext2 and on tmpfs; the FIFO's inode left on the disk is one e2fsck accepts", async () => {
    const dir = scratchDir("ext2-fifo");
    const image = join(dir, "fifo.img");
    execFileSync("mke2fs", ["-q", "-F", "-t", "ext2", "-b", "1024", "-E", "root_owner=0:0", image, "8m"]);
    const script = join(dir, "fifo.sh");
    writeFileSync(script, "mkdir -p /mnt && mount -t ext2 /dev/vda /mnt && /bin/fifo /mnt && /bin/fifo /tmp &&\n" +
      "  mkfifo /mnt/kept && umount /mnt\n");
    const initramfs = await initramfsWith([`/etc/fifo.sh=${script}`]);
    const result = await bootInit({ program: "sh", args: ["/etc/fifo.sh"], disks: [image], initramfs });
    const output = programOutput(result.serial);
    expect(failedChecks(output), output).toEqual([]);
    expect(output.match(/^fifo: 0 failed$/gm), output).toHaveLength(2);
    expectExit(result, EXIT_SUCCESS);
    const check = spawnSync("e2fsck", ["-fn", image], { encoding: "utf8" });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    const stat = execFileSync("debugfs", ["-R", "stat /kept", image], { stdio: ["ignore", "pipe", "pipe"] }).toString();
    expect(stat).toMatch(/Type: FIFO/);
  }, TEST_TIMEOUT);

  it("fifo and readonly: the same checks pass on this Linux host (readonly as root: it mounts)", () => {
    const dir = scratchDir("ext2-host");
    const run = (program: string, args: string[]) => spawnSync(join(USER_BIN, program), args, { encoding: "utf8", timeout: 60_000 });
    const fifo = run("fifo", [dir]);
    expect(failedChecks(fifo.stdout), fifo.stdout).toEqual([]);
    expect(fifo.stdout).toContain("fifo: 0 failed\n");
    if (process.getuid?.() !== 0) return;
    const readonly = run("readonly", [join(dir, "ro")]);
    expect(failedChecks(readonly.stdout), readonly.stdout).toEqual([]);
    expect(readonly.stdout).toContain("readonly: 0 failed\n");
  }, TEST_TIMEOUT);
});
