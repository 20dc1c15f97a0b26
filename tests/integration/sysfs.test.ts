// /sys (kernel/sysfs/): the block devices as Linux's sysfs shows them, a
// directory per disk with one per partition inside, their numbers, sizes
// and I/O counts: a write to the partition is counted there and on its disk.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_SUCCESS, expectExit } from "./qemu";
import { bootInit, buildOnce, initramfsWith, programOutput, scratchDir, sections } from "./programs";
// @ts-expect-error: a plain JavaScript module, shared with the scripts
import { makePatternDisk } from "../../scripts/disk-image.mjs";

const TEST_TIMEOUT = 240_000;

const SCRIPT = `echo === list; ls -1 /sys /sys/block /sys/block/vda /sys/block/vda/vda1
echo === disk; for f in dev size ro removable; do echo "$f $(cat /sys/block/vda/$f)"; done
echo === partition; for f in dev size ro start partition; do echo "$f $(cat /sys/block/vda/vda1/$f)"; done
echo === before; cat /sys/block/vda/stat /sys/block/vda/vda1/stat
dd if=/dev/zero of=/dev/vda1 bs=4096 count=16 conv=fsync 2>/dev/null
echo === after; cat /sys/block/vda/stat /sys/block/vda/vda1/stat
echo === write; echo 1 > /sys/block/vda/ro || echo refused
echo === mounts; grep sysfs /proc/mounts; stat -f -c %T /sys
`;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

/** Sectors written, the seventh of a stat line's 17 numbers. */
function sectorsWritten(line: string): number {
  const fields = line.trim().split(/\s+/).map(Number);
  expect(fields, line).toHaveLength(17);
  return fields[6];
}

describe("sysfs", () => {
  it("/sys/block lists vda and vda1 with Linux's files; a partition's writes count on it and on its disk", async () => {
    const dir = scratchDir("sysfs");
    const disk = join(dir, "vda.img");
    makePatternDisk(disk, 16, [[2048, 8192]]);
    writeFileSync(join(dir, "sys.sh"), SCRIPT);
    const initramfs = await initramfsWith([`/etc/sys.sh=${join(dir, "sys.sh")}`]);
    const result = await bootInit({ program: "sh", args: ["/etc/sys.sh"], initramfs, disks: [disk] });
    expectExit(result, EXIT_SUCCESS);
    const parts = sections(programOutput(result.serial));
    expect(parts.get("list"), result.serial).toBe(
      "/sys:\nblock\n\n/sys/block:\nvda\n\n/sys/block/vda:\ndev\nremovable\nro\nsize\nstat\nvda1\n\n" +
      "/sys/block/vda/vda1:\ndev\npartition\nro\nsize\nstart\nstat\n");
    expect(parts.get("disk")).toBe("dev 254:0\nsize 32768\nro 0\nremovable 0\n");
    expect(parts.get("partition")).toBe("dev 254:1\nsize 8192\nro 0\nstart 2048\npartition 1\n");
    const [diskBefore, partBefore] = (parts.get("before") ?? "").trim().split("\n").map(sectorsWritten);
    const [diskAfter, partAfter] = (parts.get("after") ?? "").trim().split("\n").map(sectorsWritten);
    expect(partAfter - partBefore).toBe(128);
    expect(diskAfter - diskBefore).toBe(128);
    expect(parts.get("write")).toContain("refused\n");
    expect(parts.get("mounts")).toMatch(/^sysfs \/sys sysfs rw 0 0\nsysfs\n/);
  }, TEST_TIMEOUT);
});
