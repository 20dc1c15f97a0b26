// The console's terminal modes, typed on the emulated PS/2 keyboard: one
// boot with user/termios.c as init. Before each typed step the program
// prints "STEP NAME"; the test types the step's keys and compares the echo,
// the exact bytes on the serial line between that marker and the program's
// next result, while the program checks what read() returned. The
// program's untyped checks (ioctls, errnos, sessions, VMIN/VTIME without
// input) and its OPOST output, read here as raw serial bytes, come first.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { type Machine, keyFor, withMachine } from "./interactive";
import { buildOnce, failedChecks } from "./programs";

const TEST_TIMEOUT = 480_000;
const EXIT_INIT_OK = 33;

const text = (s: string): string[] => [...s].map(keyFor);
const RUBOUT = "\b \b";

interface Step {
  name: string;
  keys: string[];
  /** The echo: every serial byte from the STEP line to the program's next result. */
  echo: string;
  /** The first result the program prints after the step (default: the step's name). */
  first?: string;
  /** Runs after the keys are typed, before the result is awaited. */
  then?: (machine: Machine) => Promise<void>;
}

const rawSerial = (machine: Machine): string => readFileSync(machine.serialPath, "latin1");
const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** The raw bytes after the line "STEP name" up to the program's result `first` (the step may have turned OPOST off). */
function echoOf(machine: Machine, name: string, first: string): string {
  const raw = rawSerial(machine);
  const marker = new RegExp(`STEP ${name}\r?\n`).exec(raw);
  if (marker == null) throw new Error(`no line "STEP ${name}" on the serial line`);
  const from = marker.index + marker[0].length;
  const ends = [`ok ${first}\r`, `ok ${first}\n`, `FAIL ${first}:`].map((r) => raw.indexOf(r, from)).filter((i) => i >= 0);
  if (ends.length === 0) throw new Error(`no result for ${first} after STEP ${name}`);
  return raw.slice(from, Math.min(...ends));
}

/** Output stopped by Ctrl-S holds the program's write until Ctrl-Q; its echo still shows. */
async function holdsOutputUntilCtrlQ(machine: Machine): Promise<void> {
  const marker = "STEP ixon\r\n";
  const deadline = Date.now() + 30_000;
  while (!rawSerial(machine).includes(`${marker}go\r\n`)) {
    if (Date.now() > deadline) throw new Error("the echo of \"go\" did not come while output was stopped");
    await sleep(100);
  }
  await sleep(1500);
  expect(rawSerial(machine)).not.toContain("AFTER-STOP");
  await machine.sendKey("ctrl-q");
}

const STEPS: Step[] = [
  // Canonical mode: editing and echo.
  { name: "canon-echo", keys: [...text("hello wor"), "backspace", "backspace", "backspace", ...text("world"), "ret"],
    echo: `hello wor${RUBOUT.repeat(3)}world\r\n` },
  { name: "kill", keys: [...text("junk"), "ctrl-u", ...text("ok"), "ret"], echo: `junk${RUBOUT.repeat(4)}ok\r\n` },
  { name: "eof", keys: ["ctrl-d"], echo: "" },
  { name: "eof-mid-line", keys: [...text("ab"), "ctrl-d"], echo: "ab" },
  { name: "small-buffer", keys: [...text("abcdef"), "ret"], echo: "abcdef\r\n", first: "small-buffer-fionread" },
  { name: "werase", keys: [...text("one two"), "ctrl-w", ...text("2"), "ret"], echo: `one two${RUBOUT.repeat(3)}2\r\n` },
  { name: "lnext", keys: ["ctrl-v", "ctrl-c", "ret"], echo: "^\b^C\r\n" },
  { name: "echoctl", keys: ["ctrl-a", "ret"], echo: "^A\r\n" },
  { name: "no-echoctl", keys: ["ctrl-a", "ret"], echo: "\x01\r\n" },
  { name: "erase-control", keys: ["ctrl-a", "backspace", "z", "ret"], echo: `^A${RUBOUT}${RUBOUT}z\r\n` },
  { name: "tab-erase", keys: ["tab", "x", "backspace", "backspace", "ret"], echo: `\tx${RUBOUT}${"\b".repeat(8)}\r\n` },
  { name: "reprint", keys: [...text("abc"), "ctrl-r", "ret"], echo: "abc^R\r\nabc\r\n" },
  { name: "no-echoe", keys: [...text("ab"), "backspace", "ret"], echo: "ab^?\r\n" },
  { name: "echok", keys: [...text("zz"), "ctrl-u", "b", "ret"], echo: "zz^U\r\nb\r\n" },
  { name: "veol", keys: text("x;"), echo: "x;" },
  { name: "no-echo", keys: [...text("secret"), "ret"], echo: "" },
  { name: "echonl", keys: [...text("hid"), "ret"], echo: "\r\n" },
  { name: "echo-without-opost", keys: ["q", "ret"], echo: "q\n" },
  // The signal keys.
  { name: "intr", keys: [...text("partial"), "ctrl-c"], echo: "partial^C" },
  { name: "after-intr", keys: [...text("after"), "ret"], echo: "after\r\n" },
  { name: "quit", keys: ["ctrl-backslash"], echo: "^\\" },
  { name: "susp", keys: ["ctrl-z"], echo: "^Z" },
  { name: "noflsh", keys: [...text("keep"), "ctrl-c"], echo: "keep^C" },
  { name: "noflsh-rest", keys: ["ret"], echo: "\r\n" },
  { name: "susp-default", keys: ["ctrl-z", ...text("go"), "ret"], echo: "^Zgo\r\n" },
  { name: "intr-group", keys: ["ctrl-c"], echo: "^C" },
  { name: "intr-foreground-child", keys: ["ctrl-c"], echo: "^C" },
  // Raw mode, VMIN and VTIME, input translations, switching modes, flushing.
  { name: "raw", keys: text("xy"), echo: "xy" },
  { name: "raw-no-isig", keys: ["ctrl-c"], echo: "" },
  { name: "raw-icrnl", keys: ["ret"], echo: "\r\n" },
  { name: "raw-cr", keys: ["ret"], echo: "^M" },
  { name: "raw-inlcr", keys: ["ctrl-j"], echo: "^M" },
  { name: "raw-igncr", keys: ["ret", "k"], echo: "k" },
  { name: "vmin3", keys: text("12"), echo: "12", first: "vmin3-poll-waits-for-vmin" },
  { name: "vmin3-more", keys: ["3"], echo: "3", first: "vmin3" },
  { name: "vtime-first-byte", keys: ["t"], echo: "t" },
  { name: "vmin-vtime", keys: text("ab"), echo: "ab" },
  { name: "canon-poll", keys: text("abc"), echo: "abc", first: "canon-poll-needs-a-line" },
  { name: "raw-to-canon", keys: text("pq"), echo: "pq", first: "raw-to-canon-pushes-a-line" },
  { name: "tcsetsf", keys: text("zz"), echo: "zz", first: "tcsetsf-flushes" },
  { name: "tcflsh", keys: text("yy"), echo: "yy", first: "tcflsh-tciflush" },
  // Flow control.
  { name: "ixon", keys: ["ctrl-s", ...text("go"), "ret"], echo: "go\r\nAFTER-STOP\r\n", then: holdsOutputUntilCtrlQ },
  { name: "ixany", keys: ["ctrl-s", ...text("go"), "ret"], echo: "go\r\nAFTER-ANY\r\n" },
];

/** What output processing must make of the program's bracketed writes. */
const OUTPUT: [string, string][] = [
  ["OPOST off: nothing changes", "[raw A\nB\rC\tD]"],
  ["OPOST without ONLCR", "[nocr A\nB]"],
  ["ONLCR", "[onlcr A\r\nB]"],
  ["OCRNL", "[ocrnl A\nB]"],
  ["OLCUC", "[OLCUC ABC]"],
  ["XTABS from column 3", "\r\n[xt     X]"],
  ["ONOCR drops a CR at column 0", "\r\n[onocr]"],
  ["ONLRET: a newline returns the column to 0", "\r[ab\n        X]"],
  ["without ONLRET the column stays", "\r[cd\n     X]"],
  ["TCOON lets the write out", "[written after TCOON]\r\n"],
];

beforeAll(async () => {
  await buildOnce();
}, TEST_TIMEOUT);

describe("terminal modes on the console", () => {
  it("termios: ioctls, output processing, and typed input in canonical and raw mode, with and without echo", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ cmdline: "exit=qemu init=/bin/termios", timeoutMs: TEST_TIMEOUT - 30_000, waitMs: 60_000 }, async (machine) => {
      for (const step of STEPS) {
        await machine.expect(`STEP ${step.name}\n`);
        for (const key of step.keys) await machine.sendKey(key);
        if (step.then) await step.then(machine);
        const first = step.first ?? step.name;
        await machine.expect(new RegExp(`(ok|FAIL) ${first}[:\\n]`), 30_000);
        expect.soft(echoOf(machine, step.name, first), `the echo of step ${step.name}`).toBe(step.echo);
      }
      await machine.expect("termios: ");
      const status = await machine.waitExit();
      const serial = machine.serial();
      const raw = rawSerial(machine);
      expect(failedChecks(serial)).toEqual([]);
      expect(serial).toContain("termios: 0 failed\n");
      for (const [what, bytes] of OUTPUT) expect.soft(raw.includes(bytes), `${what}: ${JSON.stringify(bytes)}`).toBe(true);
      expect.soft(raw.includes("\r[onocr]"), "ONOCR kept a CR at column 0").toBe(false);
      // The window size is the framebuffer console's in characters (8x16 glyphs), else 24x80.
      const screen = serial.match(/framebuffer console: (\d+)x(\d+) pixels, (\d+) columns/);
      const expected = screen ? `winsize ${Number(screen[2]) / 16} ${screen[3]}` : "winsize 24 80";
      expect(serial).toContain(`${expected}\n`);
      expect(status).toBe(EXIT_INIT_OK);
    });
  });
});
