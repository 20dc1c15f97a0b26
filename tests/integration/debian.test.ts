// scripts/add-debian-program (its refusals; a package laid in with every
// library its programs need), run-program --with-debian, and Debian's own dynamically linked
// programs, put in the initramfs with the libraries ldd names by it, in
// one boot: Debian's coreutils (cat, sort, sha256sum, head, tail, wc,
// uniq, tr, ls) running
// tests/integration/debian-coreutils.sh, every section of which must print
// what the same binaries print on this host for the same input; `ls -l /`;
// then the sharing measurement (user/sharing.c): ten concurrent runs of a
// glibc-linked program, what each costs in frames beyond the first, and
// every frame back after they end.
import { execFile } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX, bootInit, buildOnce, initramfsWith, programOutput, runProgram, scratchDir, sections } from "./programs";
import { BootResult, ROOT, expectExit } from "./qemu";

const run = promisify(execFile);
const EXIT_INIT_OK = 33;
const TEST_TIMEOUT = 300_000;
const SCRIPT = join(ROOT, "tests/integration/debian-coreutils.sh");
const PROGRAMS = ["ls", "cat", "sort", "sha256sum", "head", "tail", "wc", "uniq", "tr"].map((p) => `/usr/bin/${p}`);

/** The input files: words with repeats (for sort and uniq), numbers, a table, and 1 MiB of lines, all from a fixed seed. */
function writeInput(dir: string): void {
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const vocabulary = Array.from({ length: 300 }, () =>
    Array.from({ length: 3 + (next() % 8) }, () => letters[next() % 26]).join(""));
  const word = () => vocabulary[next() % vocabulary.length];
  writeFileSync(join(dir, "words.txt"), Array.from({ length: 3000 }, word).join("\n") + "\n");
  writeFileSync(join(dir, "numbers.txt"), Array.from({ length: 500 }, () => (next() % 20001) - 10000).join("\n") + "\n");
  writeFileSync(join(dir, "table.csv"), Array.from({ length: 200 }, () => `${word()},${next() % 50}`).join("\n") + "\n");
  const big: string[] = [];
  for (let size = 0; size < 1 << 20;) {
    const line = `${word()} ${word()} ${next() % 100000}`;
    big.push(line);
    size += line.length + 1;
  }
  writeFileSync(join(dir, "big.txt"), big.join("\n") + "\n");
}

let booted: Promise<{ result: BootResult; input: string }> | undefined;

/** The one boot both tests read: the coreutils script, `ls -l /`, then the sharing measurement. */
function bootOnce() {
  booted ??= (async () => {
    const debian = join(scratchDir("debian-programs"), "tree");
    await run(join(ROOT, "scripts/add-debian-program"), [debian, ...PROGRAMS]);
    const input = scratchDir("debian-input");
    writeInput(input);
    const wrapper = join(scratchDir("debian-run"), "run-all.sh");
    writeFileSync(wrapper, [
      "sh /coreutils.sh /data /tmp",
      "echo '=== ls-root'",
      "/usr/bin/ls -l / 2>/tmp/ls-errors; echo \"status $?\"",
      "echo '=== ls-root-errors'",
      "/usr/bin/cat /tmp/ls-errors",
      "echo '=== sharing'",
      "/bin/sharing 10; echo \"status $?\"",
      "",
    ].join("\n"));
    const initramfs = await initramfsWith([`/=${debian}`, `/data=${input}`, `/coreutils.sh=${SCRIPT}`, `/run-all.sh=${wrapper}`]);
    const result = await bootInit({ program: "sh", args: ["/run-all.sh"], initramfs, memory: "256M", timeoutMs: 240_000 });
    return { result, input };
  })();
  return booted;
}

/** The program's sections, without the kernel's own lines ("unknown system call"). */
function ours(result: BootResult): Map<string, string> {
  return sections(programOutput(result.serial).split("\n").filter((l) => !/^(kernel|init): /.test(l)).join("\n"));
}

beforeAll(async () => {
  await buildOnce();
}, 600_000);

describe("scripts/add-debian-program", () => {
  const addDebian = (dir: string, names: string[]) =>
    run(join(ROOT, "scripts/add-debian-program"), [dir, ...names]).then(
      () => ({ status: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => ({ status: e.code, stderr: e.stderr }),
    );

  it("refuses a relative path, a missing program, a file that is not ELF and a directory with files", async () => {
    const dir = join(scratchDir("debian-refused"), "tree");
    expect(await addDebian(dir, ["usr/bin/sort"])).toEqual({ status: 1, stderr: expect.stringContaining("absolute path") });
    expect(await addDebian(dir, ["/usr/bin/no-such-program"])).toEqual({ status: 1, stderr: expect.stringContaining("no such file") });
    expect(await addDebian(dir, ["/etc/passwd"])).toEqual({ status: 1, stderr: expect.stringContaining("not an ELF program") });
    // It never empties a directory: a mistyped one could be anything.
    writeFileSync(join(dir, "keep"), "");
    expect(await addDebian(dir, ["/usr/bin/cat"])).toEqual({ status: 1, stderr: expect.stringContaining("not an empty directory") });
  });

  it("lays in a package whole, without its documentation, with every library its programs need", async () => {
    const dir = join(scratchDir("debian-package"), "tree");
    expect(await addDebian(dir, ["coreutils"])).toEqual({ status: 0, stderr: "" });
    expect(statSync(join(dir, "usr/bin/sha256sum")).isFile()).toBe(true);
    expect(existsSync(join(dir, "usr/share/doc"))).toBe(false);
    const programs = readdirSync(join(dir, "usr/bin")).map((name) => join(dir, "usr/bin", name));
    for (const program of programs.filter((p) => lstatSync(p).isFile())) {
      const { stdout } = await run("ldd", [program]).catch((e: { stdout: string }) => e);
      for (const library of [...stdout.matchAll(/=> (\/\S+)/g)].map((m) => m[1])) {
        expect(existsSync(join(dir, library)), `${program} needs ${library}`).toBe(true);
      }
    }
  }, TEST_TIMEOUT);
});

describe("run-program --with-debian", () => {
  it("runs Debian's sort at its own path, with its libraries, on the arguments given", async () => {
    const result = await runProgram(["--with-debian", "/usr/bin/sort", "/usr/bin/sort", "-t:", "-k3,3nr", "/etc/passwd"]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    // user/rootfs/etc/passwd by user id, highest first: not the file's own order.
    const passwd = readFileSync(join(ROOT, "user/rootfs/etc/passwd"), "utf8").trimEnd().split("\n");
    const byId = [...passwd].sort((a, b) => Number(b.split(":")[2]) - Number(a.split(":")[2]));
    expect(byId).not.toEqual(passwd);
    expect(programOutput(result.stdout).split("\n").filter((l) => l.includes(":x:")), where).toEqual(byId);
    expect(result.stdout, where).toContain("command line: exit=qemu init=/usr/bin/sort\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);
});

describe("Debian's dynamically linked programs", () => {
  it("coreutils print what they print on this host", async () => {
    const { result, input } = await bootOnce();
    expectExit(result, EXIT_INIT_OK);
    const got = ours(result);
    const scratch = scratchDir("debian-host");
    mkdirSync(scratch, { recursive: true });
    const host = sections((await run(BUSYBOX, ["sh", SCRIPT, input, scratch], { env: { PATH: "/usr/bin:/bin" } })).stdout);
    expect([...got.keys()].filter((k) => host.has(k)), result.serial).toEqual([...host.keys()]);
    // "end" only marks that the script ran to its end (here the wrapper's sections follow it).
    for (const [name, text] of host) if (name !== "end") expect(got.get(name), `section ${name}`).toBe(text);
    // What the comparison stands on.
    expect(host.get("sha256sum")).toMatch(/^[0-9a-f]{64} {2}words\.txt\n/);
    expect(host.get("sha256sum")).toContain("words.txt: OK\nbig.txt: OK\nstatus 0\n");
    expect(host.get("sort")).toContain("status 1\n");
    expect(host.get("cat")).toContain("/usr/bin/cat: missing: No such file or directory\nstatus 1\n");

    // ls -l /: one line per entry of the root, owned by root, as Linux's ls shows a directory.
    const lines = got.get("ls-root")!.trimEnd().split("\n");
    expect(lines.shift(), result.serial).toMatch(/^total \d+$/);
    expect(lines.pop()).toBe("status 0");
    for (const line of lines) {
      expect(line).toMatch(/^[dl-]([r-][w-][xsStT-]){3} +\d+ root +root +\d+ [A-Z][a-z]{2} [ \d]\d +(\d\d:\d\d|\d{4}) \S+( -> \S+)?$/);
    }
    expect(lines.map((l) => l.split(" ").pop())).toEqual(expect.arrayContaining(["bin", "data", "dev", "etc", "lib", "lib64",
      "proc", "tmp", "usr", "coreutils.sh"]));
    // ls asks each file system for a file's ACL and security label (getxattr, lgetxattr): EOPNOTSUPP, as
    // from a Linux file system without extended attributes, which ls takes as "none" and says nothing of.
    expect(got.get("ls-root-errors"), result.serial).toBe("");
  }, TEST_TIMEOUT);

  it("ten runs of a glibc program share libc: each beyond the first costs a few frames, all come back", async () => {
    const { result } = await bootOnce();
    expectExit(result, EXIT_INIT_OK);
    const text = ours(result).get("sharing") ?? "";
    const where = `sharing section:\n${text}\nserial:\n${result.serial}`;
    expect(text.split("\n").filter((l) => l.includes("FAIL")), where).toEqual([]);
    expect(text, where).toContain("sharing: ok\nstatus 0\n");
    const pages = Number(text.match(/each touching (\d+) pages of libc's code/)![1]);
    const [, first, further] = text.match(/first (\d+) frames, each further ([\d.]+) frames/)!.map(Number);
    const resident = Number(text.match(/resident kB \(average\): rss (\d+)/)![1]) / 4;
    console.log(`sharing: ${text.split("\n").filter((l) => l.startsWith("sharing:")).join("\n  ")}`);
    expect(pages, where).toBeGreaterThan(200); // glibc's code is over 1 MiB
    // Were libc's code copied per process, each run would cost at least those pages.
    expect(further, where).toBeLessThan(pages / 4);
    expect(further, where).toBeLessThan(resident / 4);
    // The first brings libc's pages into the page cache; the others find them there.
    expect(first - further, where).toBeGreaterThan(pages);
    // /proc/PID/smaps_rollup: libc's code is shared by all ten, so a run's proportional share is a fraction of its pages.
    const [, rss, pss, sharedClean, sharedDirty, privateClean, privateDirty] = text.match(
      /smaps_rollup kB \(average\): rss (\d+) pss (\d+) shared_clean (\d+) shared_dirty (\d+) private_clean (\d+) private_dirty (\d+)/,
    )!.map(Number);
    expect(sharedClean + sharedDirty + privateClean + privateDirty, where).toBe(rss);
    expect(sharedClean + sharedDirty, where).toBeGreaterThanOrEqual(pages * 4);
    expect(rss / 4, where).toBe(resident);
    expect(pss, where).toBeLessThan(rss / 3);
    expect(pss, where).toBeGreaterThan(privateClean + privateDirty);
  }, TEST_TIMEOUT);
});
