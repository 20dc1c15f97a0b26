// ltp-libs.mjs: LTP tests that need one of LTP's own helper libraries
// (their directory's Makefile says `LTPLIBS = NAME`, LTP's libs/NAME),
// which the team's build.sh does not build and the LTP sources we use do
// not carry: where tests/ltp/libNAME.c is our implementation of its header,
// they are compiled and linked with it, as build.sh builds the others.
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** Our implementations of LTP libraries: tests/ltp/libNAME.c for NAME. */
export const ourLibrary = (root, name) => join(root, "tests/ltp", `lib${name}.c`);

/** The libraries a test directory's Makefile asks for (LTPLIBS). */
export function librariesOf(dir) {
  const makefile = join(dir, "Makefile");
  if (!existsSync(makefile)) return [];
  const m = readFileSync(makefile, "utf8").match(/^LTPLIBS\s*[:+]?=\s*(.*)$/m);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

/**
 * Builds each of `names` (programs build.sh left unbuilt; `dirOf` gives
 * their directory under testcases/kernel/syscalls) whose libraries are all
 * ours, in build.sh's working copy `out`/src with its flags, against its
 * libltp.a. Returns the names built; failures go to `out`/build.log.
 */
export function buildWithOurLibraries(root, out, names, dirOf) {
  const src = join(out, "src");
  // build.sh's CF, in its directory, so that the tests see the same headers and config.h.
  const flags = ["-O2", "-g0", "-std=gnu99", "-Iinclude", "-Iinclude/old", "-isystem", join(out, "kh"), "-w"];
  const log = join(out, "build.log");
  const built = [];
  for (const name of names) {
    const dir = join("testcases/kernel/syscalls", dirOf(name));
    const libraries = librariesOf(join(src, dir));
    if (libraries.length === 0 || !libraries.every((l) => existsSync(ourLibrary(root, l)))) continue;
    try {
      execFileSync("musl-gcc", [...flags, `-I${dir}`, "-static", "-no-pie", "-s", join(dir, `${name}.c`),
        ...libraries.map((l) => resolve(ourLibrary(root, l))), join(out, "libltp.a"), "-lpthread", "-o", join(out, "bin", name)],
      { cwd: src, stdio: ["ignore", "pipe", "pipe"] });
      built.push(name);
    } catch (error) {
      appendFileSync(log, `${name} with ${libraries.map((l) => `tests/ltp/lib${l}.c`).join(" ")}:\n${error.stderr ?? error.message}\n`);
    }
  }
  return built;
}
