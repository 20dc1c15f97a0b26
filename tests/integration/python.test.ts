// Debian's Python (python3.11-minimal and libpython3.11-minimal, fetched
// with apt-get download through run-program --with-debian): the
// interpreter, dynamically linked with glibc, starts, imports its modules
// from the initramfs, runs code given with -c on a thread of its own as
// well as the main one, and exits with the status the code asks for.
import { describe, expect, it } from "vitest";
import { runProgram } from "./programs";

const TEST_TIMEOUT = 300_000;
const PACKAGES = ["--with-debian", "python3.11-minimal", "--with-debian", "libpython3.11-minimal"];
const CODE = [
  "import os, sys, threading",
  "seen = []",
  "t = threading.Thread(target=lambda: seen.append(threading.get_native_id()))",
  "t.start(); t.join()",
  "print('sum', sum(range(10**6)))",
  "print('thread', seen[0] != threading.get_native_id() and os.getpid() == threading.get_native_id())",
  "print('version', sys.version_info[:2])",
  "sys.exit(5)",
].join("\n");

describe("python", () => {
  it("python3.11 runs code with a thread and exits with its status", async () => {
    const result = await runProgram(["--timeout", "240", "--memory", "256M", ...PACKAGES, "/usr/bin/python3.11", "-c", CODE], 280_000);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(result.stdout, where).toContain("sum 499999500000\n");
    expect(result.stdout, where).toContain("thread True\n");
    expect(result.stdout, where).toContain("version (3, 11)\n");
    expect(result.status, where).toBe(5);
  }, TEST_TIMEOUT);
});
