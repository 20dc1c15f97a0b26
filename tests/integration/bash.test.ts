// Debian's bash-static as /bin/bash (scripts/fetch-bash.sh): no busybox
// applet or program of ours takes its name; bash runs a script of real bash
// (arrays, associative arrays, [[ ]], arithmetic, functions with local,
// here-strings and here-documents, process substitution through /dev/fd,
// coprocesses, pipes, redirections, traps on EXIT, ERR, RETURN and on
// signals sent with kill, background jobs and wait, set -e, -u and
// pipefail, string operations, printf), each section of which must print
// exactly what the same bash prints on this host with the same busybox
// applets as its commands (tests/integration/bash-script.sh); and bash as
// the console's login shell has job control.
import { execFile } from "node:child_process";
import { existsSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { withMachine } from "./interactive";
import { BASH, BUSYBOX, bootInit, buildOnce, initramfsWith, programOutput, scratchDir, sections } from "./programs";
import { ROOT, expectExit } from "./qemu";

const run = promisify(execFile);
const EXIT_INIT_OK = 33;
const TEST_TIMEOUT = 240_000;
const SCRIPT = join(ROOT, "tests/integration/bash-script.sh");
const PROMPT = "tsk:/# "; // PS1 of user/rootfs/etc/profile, in /

beforeAll(async () => {
  await buildOnce();
}, 600_000);

/** A directory of links to busybox named after its applets: the host's PATH for the script, so that both sides run the same commands. */
async function appletDirectory(): Promise<string> {
  const dir = scratchDir("applets");
  const { stdout } = await run(BUSYBOX, ["--list"]);
  for (const applet of stdout.split("\n").filter(Boolean)) symlinkSync(BUSYBOX, join(dir, applet));
  return dir;
}

describe("bash", () => {
  it("takes no name of a busybox applet or of a program of ours", async () => {
    const { stdout } = await run(BUSYBOX, ["--list"]);
    expect(stdout.split("\n")).not.toContain("bash");
    expect(existsSync(join(ROOT, "user/bash.c"))).toBe(false);
  });

  it("runs the script as on this host", async () => {
    const initramfs = await initramfsWith([`/script.sh=${SCRIPT}`]);
    const result = await bootInit({ program: "bash", args: ["/script.sh", "/tmp"], initramfs, timeoutMs: 180_000 });
    expectExit(result, EXIT_INIT_OK);
    // The console has the kernel's own lines too ("unknown system call").
    const console_ = programOutput(result.serial).split("\n").filter((l) => !/^(kernel|init): /.test(l)).join("\n");
    const ours = sections(console_);

    const dir = scratchDir("bash-script");
    const host = sections((await run(BASH, [SCRIPT, dir], { env: { PATH: await appletDirectory() } })).stdout);
    expect([...ours.keys()], result.serial).toEqual([...host.keys()]);
    expect(ours.has("end"), result.serial).toBe(true);
    for (const [name, text] of host) expect(ours.get(name), `section ${name}`).toBe(text);

    // What the comparison stands on.
    expect(ours.get("version")).toMatch(/^5\.\d+ 5\.\d+\.\d+\(\d+\)-release\n$/);
    const expected: [string, string[]][] = [
      ["arrays", ["3 yellow none", "3 l2", "nameref dark red"]],
      ["tests", ["regex hello tar.gz", "42 1024 2 28 10", "1 2 3 4 5 ac bc 03 02 01"]],
      ["functions", ["inner 99", "outer 5", "after changed", "3628800", "status 42"]],
      ["strings", ["bonono bonana ana a bana ba 6", "   ab|cd   |00042|ff|10|abc|x|%", "zyx"]],
      ["heredocs", ["alpha|beta|gamma delta", "two -> $2", "here string", "SHOUT"]],
      ["redirections", ["err lines 1", "via three", "auto fd 1", "noclobber", "piped"]],
      ["pipes", ["cba", "pipestatus 0 3 0"]],
      ["procsub", ["from procsub", "same", "got y", "3\t6", "DATA", "TO COPROC", "coproc status 6"]],
      ["traps", ["caught USR1", "subshell exit trap, status 4", "child got TERM", "child status 5", "ERR trap", "RETURN trap"]],
      ["jobs", ["bg status 3", "job 3", "killed 137", "self-killed 137", "all waited 0"]],
      ["errexit", ["set -e status 1", "pipefail 1", "no pipefail 0", "pipefail -e status 1", "set -u status 1"]],
      ["end", ["exit trap, status 3"]],
    ];
    for (const [section, lines] of expected) for (const line of lines) expect(ours.get(section), section).toContain(`${line}\n`);
  }, TEST_TIMEOUT);

  it("as the console's login shell has job control: Ctrl-Z stops a job, bg and fg continue it, Ctrl-C ends it", async () => {
    const cmdline = "exit=qemu init=/bin/shell-init -- /bin/bash";
    await withMachine({ cmdline, timeoutMs: 200_000, waitMs: 120_000 }, async (machine) => {
      await machine.expect(PROMPT);
      await machine.type("echo \"flags $-\"\n");
      await machine.expect(/\nflags [a-zA-Z]*m[a-zA-Z]*\n/); // m: job control is on
      await machine.type("sleep 50\n");
      await machine.expect("sleep 50\n");
      await new Promise((done) => setTimeout(done, 500));
      await machine.sendKey("ctrl-z");
      await machine.expect(/\[1\]\+ +Stopped +sleep 50\n/);
      await machine.expect(PROMPT);
      await machine.type("bg\n");
      await machine.expect(/bg\n\[1\]\+ sleep 50 &\n/);
      await machine.type("jobs\n");
      await machine.expect(/jobs\n\[1\]\+ +Running +sleep 50 &\n/);
      await machine.type("fg\n");
      await machine.expect("fg\nsleep 50\n");
      await new Promise((done) => setTimeout(done, 500));
      await machine.sendKey("ctrl-c");
      await machine.expect(PROMPT);
      await machine.type("jobs; echo no jobs left\n");
      await machine.expect("jobs; echo no jobs left\nno jobs left\n");
      await machine.type("exit\n");
      expect(await machine.waitExit()).toBe(EXIT_INIT_OK);
      const serial = machine.serial();
      expect(serial).not.toContain("cannot set terminal process group");
      expect(serial).not.toContain("no job control in this shell");
    });
  }, TEST_TIMEOUT);
});
