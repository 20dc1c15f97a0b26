// Debian's busybox as the system's user space (scripts/fetch-busybox.sh):
// no program of ours hides an applet; and in one boot, busybox's shell
// makes, lists, renames and removes files, runs a script with functions,
// $(...), here-documents, redirections, traps and pipes, and tours the
// applets (sort, uniq, sed, awk, grep, find, tar, gzip, md5sum, xargs),
// each section of which must print exactly what the same busybox prints
// on this host (tests/integration/busybox-tour.sh).
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX, bootInit, buildOnce, initramfsWith, programOutput, scratchDir, sections } from "./programs";
import { ROOT, expectExit } from "./qemu";

const run = promisify(execFile);
const EXIT_INIT_OK = 33;
const TEST_TIMEOUT = 240_000;
const TOUR = join(ROOT, "tests/integration/busybox-tour.sh");

beforeAll(async () => {
  await buildOnce();
}, 600_000);

describe("busybox", () => {
  it("no program of user/ has the name of an applet (PATH would pick one of the two)", async () => {
    const { stdout } = await run(BUSYBOX, ["--list"]);
    const applets = new Set(stdout.split("\n"));
    const ours = readdirSync(join(ROOT, "user")).filter((f) => f.endsWith(".c")).map((f) => f.slice(0, -2));
    expect(ours.filter((name) => applets.has(name))).toEqual([]);
  });

  it("does file work, runs a script and tours the applets as on this host", async () => {
    const initramfs = await initramfsWith([`/tour.sh=${TOUR}`]);
    const result = await bootInit({ program: "sh", args: ["/tour.sh", "/tmp"], initramfs, timeoutMs: 120_000 });
    expectExit(result, EXIT_INIT_OK);
    // The console has the kernel's own lines too ("unknown system call").
    const console_ = programOutput(result.serial).split("\n").filter((l) => !/^(kernel|init): /.test(l)).join("\n");
    const ours = sections(console_);

    const dir = scratchDir("busybox-tour");
    const host = sections((await run(BUSYBOX, ["sh", TOUR, dir], { env: { PATH: "/usr/bin:/bin" } })).stdout);
    expect([...ours.keys()], result.serial).toEqual([...host.keys()]);
    expect(ours.has("end"), result.serial).toBe(true);
    for (const [name, text] of host) expect(ours.get(name), `section ${name}`).toBe(text);

    // What the comparison stands on, in the shell's sections.
    expect(ours.get("files")).toContain("d:\na\ne\n\nd/e:\nc\none\ntwo\nthree\n");
    for (const line of ["f got a b and 2", "status 3", "here 10", "literal $n", "errors 1, out out", "caught USR1",
      "exit trap", "child 7", "cba", "slept", "timeout 143"]) {
      expect(ours.get("script")).toContain(`${line}\n`);
    }
  }, TEST_TIMEOUT);
});
