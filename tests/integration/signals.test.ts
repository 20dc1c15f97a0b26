// Signal delivery (user/signals.c, which passes on Linux too): handlers with
// siginfo and ucontext, masks, SA_* flags, faults as signals, alarm and
// setitimer, restarts, process groups, and handlers reset by execve. Job
// control and clone (user/jobs.c, which passes on Linux too): stops and
// continues seen by wait4, waitid and SIGCHLD, no zombies for a parent that
// ignores SIGCHLD, and clone's flags for fork, vfork and posix_spawn.
// Timers and sleeps (user/timers.c, which passes on Linux too): POSIX
// timers with their siginfo and overruns, clock_nanosleep and nanosleep
// with EINTR, the time left and restarts after a stop, clock_getres and
// clock_settime, and no kernel object left behind.
// CPU time and resource limits (user/cputime.c, which passes on Linux
// too): times, getrusage and wait4's rusage, CPU clocks and timers on
// them, ITIMER_VIRTUAL and ITIMER_PROF, RLIMIT_CPU, RLIMIT_FSIZE and
// RLIMIT_STACK.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_BIN, buildOnce, failedChecks, runProgram } from "./programs";

const TEST_TIMEOUT = 240_000;

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

describe.concurrent("signals", () => {
  it("signals: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "signals")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of ["segv-handler-fixes-and-retries", "sigbus-past-end-of-file", "read-restarted-sa-restart",
      "sigsuspend-restores-mask", "exec-resets-handlers-keeps-ignored"]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(result.stdout, where).toContain("signals: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it("jobs: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "jobs")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of ["wuntraced-reports-stop", "sigchld-cld-continued", "waitid-wstopped-wnowait", "sigkill-ends-stopped",
      "sigcont-discards-pending-stop", "read-restarted-after-stop", "sigchld-ignored-no-zombie", "background-read-sigttin",
      "orphaned-group-not-stopped-by-sigtstp", "orphaned-stopped-group-gets-sighup", "pdeathsig-sent-when-parent-exits",
      "clone-vm-vfork-child-wrote-parent-memory", "clone-child-cleartid-in-shared-memory", "clone3-fork"]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(result.stdout, where).toContain("jobs: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it("timers: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "timers")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of ["one-shot-fires", "siginfo-si-timer", "periodic-one-signal-with-overruns", "overrun-capped-int-max",
      "deleted-timer-signal-kept", "exec-deletes-timers-keeps-their-signal", "nanosleep-writes-time-left",
      "nanosleep-stopped-and-continued-keeps-deadline", "absolute-realtime-sleep-follows-settime",
      "exit-frees-timers-and-their-signals"]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(result.stdout, where).toContain("timers: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);

  it("cputime: every check passes, as on Linux", async () => {
    const result = await runProgram([join(USER_BIN, "cputime")]);
    const where = `run-program exited with ${result.status}; stderr: ${result.stderr}\nconsole:\n${result.stdout}`;
    expect(failedChecks(result.stdout), where).toEqual([]);
    for (const check of ["times-system-time-grows", "getcpu-in-affinity-mask", "rusage-matches-cpu-clock", "wait4-rusage-child-times",
      "cpu-timer-fires-after-cpu-time", "itimer-virtual-periodic", "itimer-prof-periodic", "rlimit-cpu-sigxcpu-then-sigkill",
      "rlimit-fsize-efbig-short-write-sigxfsz", "rlimit-stack-64m-holds-32m", "rlimit-stack-1m-overflows-at-4m"]) {
      expect(result.stdout, where).toContain(`ok ${check}\n`);
    }
    expect(result.stdout, where).toContain("cputime: 0 failed\n");
    expect(result.status, where).toBe(0);
  }, TEST_TIMEOUT);
});
