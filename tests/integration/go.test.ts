// A Go program (user/goroutines.go, built by `make test` with Debian's Go):
// the Go runtime runs goroutines on threads of its own (clone with
// CLONE_THREAD), parks them on futexes, preempts a spinning one with
// SIGURG sent by tgkill, keeps its signal handlers on sigaltstack stacks,
// sleeps with nanosleep and waits in epoll, and maps its heap arenas as
// large sparse mappings. Channels, select with timers, a contended mutex,
// the garbage collector under memory pressure (on a 64 MiB machine too),
// os/signal, and threads held by blocking calls. The same binary passes
// on this Linux host.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { buildOnce, failedChecks, runProgram } from "./programs";
import { ROOT } from "./qemu";

const run = promisify(execFile);
const TEST_TIMEOUT = 240_000;
const PROGRAM = join(ROOT, "build/user/go/goroutines");
const CHECKS = [
  "channels-fan-out", "mutex-count", "ticker-and-timeout", "sleep", "gc-under-pressure", "async-preemption",
  "os-signal-notify", "threads-in-blocking-calls",
];

beforeAll(async () => {
  await buildOnce();
  if (!existsSync(PROGRAM)) throw new Error(`${PROGRAM} is missing: run \`make test\`, which builds it`);
}, TEST_TIMEOUT);

describe.concurrent("go", () => {
  for (const memory of ["128M", "64M"]) {
    it(`goroutines: every check passes on ${memory}, as on Linux, and the process exits`, async () => {
      const result = await runProgram(["--memory", memory, PROGRAM]);
      const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
      expect(failedChecks(result.stdout), where).toEqual([]);
      for (const check of CHECKS) expect(result.stdout, where).toContain(`ok ${check}\n`);
      expect(result.stdout, where).toContain("goroutines: 0 failed\n");
      expect(result.stdout, where).not.toMatch(/called unknown system call/);
      expect(result.status, where).toBe(0);
    }, TEST_TIMEOUT);
  }

  it.skipIf(process.platform !== "linux")("goroutines: the same checks pass on this Linux host", async () => {
    const { stdout } = await run(PROGRAM, [], { timeout: 60_000 });
    expect(failedChecks(stdout), stdout).toEqual([]);
    for (const check of CHECKS) expect(stdout, stdout).toContain(`ok ${check}\n`);
    expect(stdout, stdout).toContain("goroutines: 0 failed\n");
  }, TEST_TIMEOUT);
});
