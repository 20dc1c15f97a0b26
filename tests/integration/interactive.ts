// Interactive boots: QEMU (TCG) with a monitor socket, so a test can wait
// for text on the serial console, type on the emulated PS/2 keyboard
// (`sendkey`), take screenshots (`screendump`) and end the machine, under
// SeaBIOS (QEMU's default) or OVMF (UEFI). Every wait has a timeout; a
// machine that overruns is killed and the test fails with the serial log.
//
// The serial console goes to a file, not a socket or pipe: QEMU drops
// serial output nobody is reading (a socket not yet connected) or that a
// busy reader has not taken yet when it exits. Input is typed with
// sendkey, which is what the tests are about anyway.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { isoFor } from "./qemu";
import { type Image, isCompletePpm, readPpm } from "./screen";

const run = promisify(execFile);
export const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd";
export const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd";

export type Firmware = "bios" | "uefi";

export interface MachineOptions {
  /** Kernel command line; default "exit=qemu" (the shell as init). */
  cmdline?: string;
  /** "bios": SeaBIOS, QEMU's default; "uefi": OVMF from /usr/share/OVMF. */
  firmware?: Firmware;
  memory?: string;
  /** The keyboard is a USB one on an xHCI controller, and the machine has no PS/2 controller at all. */
  usbKeyboardOnly?: boolean;
  /** The whole run: QEMU is killed after this long. Default 120 s. */
  timeoutMs?: number;
  /** Each wait (for serial text, a screen, the exit) unless told otherwise. Default 60 s. */
  waitMs?: number;
}

// ------------------------------------------------------------- sendkey

const KEY_NAMES: Record<string, string> = {
  " ": "spc", "\n": "ret", "\t": "tab", "-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right",
  ";": "semicolon", "'": "apostrophe", "`": "grave_accent", "\\": "backslash", ",": "comma", ".": "dot", "/": "slash",
};
const SHIFTED: Record<string, string> = {
  "!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8", "(": "9", ")": "0",
  "_": "minus", "+": "equal", "{": "bracket_left", "}": "bracket_right", ":": "semicolon", "\"": "apostrophe",
  "~": "grave_accent", "|": "backslash", "<": "comma", ">": "dot", "?": "slash",
};

/** The `sendkey` name of the key (with shift- when needed) that types `c` on a US keyboard. */
export function keyFor(c: string): string {
  if (/^[a-z0-9]$/.test(c)) return c;
  if (/^[A-Z]$/.test(c)) return `shift-${c.toLowerCase()}`;
  if (c in KEY_NAMES) return KEY_NAMES[c];
  if (c in SHIFTED) return `shift-${SHIFTED[c]}`;
  throw new Error(`no key types ${JSON.stringify(c)}`);
}

// ------------------------------------------------------------- machine

const POLL_MS = 100;
const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

export class TimeoutError extends Error {}

export class Machine {
  private qemu!: ChildProcess;
  private monitor?: Socket;
  private monitorText = "";
  private monitorQueue: Promise<unknown> = Promise.resolve();
  private messages = ""; // QEMU's own stdout and stderr
  private exitStatus: number | null | undefined = undefined; // undefined while running
  private exited!: Promise<number | null>;
  private deadline!: NodeJS.Timeout;
  private killedAfterTimeout = false;
  private screenshots = 0;
  /** Where the next `expect` starts looking in the serial log. */
  cursor = 0;
  readonly dir: string;
  readonly serialPath: string;
  readonly monitorPath: string;
  readonly waitMs: number;

  private constructor(readonly options: MachineOptions) {
    this.dir = mkdtempSync(join(tmpdir(), "tskernel-hw-"));
    this.serialPath = join(this.dir, "serial.log");
    this.monitorPath = join(this.dir, "monitor.sock");
    this.waitMs = options.waitMs ?? 60_000;
  }

  /** Starts QEMU and connects to its monitor. */
  static async start(options: MachineOptions = {}): Promise<Machine> {
    const machine = new Machine(options);
    try {
      await machine.launch();
    } catch (error) {
      machine.kill();
      if (machine.exited) await machine.ended();
      machine.cleanUp();
      throw machine.annotate(error);
    }
    return machine;
  }

  private async launch(): Promise<void> {
    const iso = await isoFor(this.options.cmdline ?? "exit=qemu");
    const args = [
      "-accel", "tcg", "-cpu", "max", "-m", this.options.memory ?? "128M", "-no-reboot",
      "-display", "none", "-serial", `file:${this.serialPath}`, "-monitor", `unix:${this.monitorPath},server,nowait`,
      "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-cdrom", iso, "-boot", "d",
    ];
    if (this.options.usbKeyboardOnly) args.push("-machine", "pc,i8042=off", "-device", "qemu-xhci", "-device", "usb-kbd");
    if (this.options.firmware === "uefi") {
      for (const f of [OVMF_CODE, OVMF_VARS]) if (!existsSync(f)) throw new Error(`${f} is missing (Debian package ovmf)`);
      const vars = join(this.dir, "OVMF_VARS.fd"); // OVMF writes its variables: a private copy
      copyFileSync(OVMF_VARS, vars);
      args.push(
        "-drive", `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
        "-drive", `if=pflash,format=raw,file=${vars}`,
      );
    }
    this.qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.qemu.stdout!.on("data", (chunk) => (this.messages += chunk.toString("latin1")));
    this.qemu.stderr!.on("data", (chunk) => (this.messages += chunk.toString("latin1")));
    this.exited = new Promise((resolveExit, rejectExit) => {
      this.qemu.on("error", rejectExit);
      this.qemu.on("close", (status) => {
        this.exitStatus = status;
        clearTimeout(this.deadline);
        this.monitor?.destroy();
        resolveExit(status);
      });
    });
    this.exited.catch(() => null); // observed by whoever waits
    this.deadline = setTimeout(() => {
      this.killedAfterTimeout = true;
      this.kill();
    }, this.options.timeoutMs ?? 120_000);

    // The monitor socket appears once QEMU has parsed its options.
    const started = Date.now();
    for (;;) {
      if (this.exitStatus !== undefined) throw new Error(`QEMU exited with status ${this.exitStatus} before its monitor was up`);
      try {
        this.monitor = await new Promise<Socket>((resolveSocket, rejectSocket) => {
          const socket = connect(this.monitorPath, () => resolveSocket(socket));
          socket.once("error", rejectSocket);
        });
        break;
      } catch (error) {
        if (Date.now() - started > 15_000) throw new Error(`no QEMU monitor at ${this.monitorPath}: ${error}`);
        await sleep(POLL_MS);
      }
    }
    this.monitor.on("data", (chunk) => (this.monitorText += chunk.toString("latin1")));
    this.monitor.on("error", () => {}); // QEMU quitting closes it
    await this.until(() => this.monitorText.includes("(qemu) "), 15_000, "the QEMU monitor prompt");
  }

  /** The serial console so far (CRLF as LF). */
  serial(): string {
    return existsSync(this.serialPath) ? readFileSync(this.serialPath, "latin1").replace(/\r\n/g, "\n") : "";
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** Polls `condition` until it returns a value other than undefined/false, QEMU exits, or the time is up. */
  private async until<T>(condition: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    const started = Date.now();
    for (;;) {
      const value = condition();
      if (value !== undefined && value !== false) return value;
      if (!this.running) {
        const last = condition(); // what QEMU wrote just before it ended
        if (last !== undefined && last !== false) return last;
        throw new Error(`QEMU ${this.killedAfterTimeout ? `was killed after ${this.options.timeoutMs ?? 120_000} ms` : `exited with status ${this.exitStatus}`} while waiting for ${what}`);
      }
      if (Date.now() - started > timeoutMs) throw new TimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(POLL_MS);
    }
  }

  /**
   * Waits until `pattern` appears in the serial log after the cursor, then
   * moves the cursor past it (like expect(1)). Returns the match.
   */
  async expect(pattern: string | RegExp, timeoutMs = this.waitMs): Promise<RegExpExecArray> {
    const regex = typeof pattern === "string" ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : pattern;
    const from = this.cursor;
    const match = await this.until(() => {
      const found = regex.exec(this.serial().slice(from));
      return found ?? undefined;
    }, timeoutMs, `${pattern} on the serial console (after offset ${from})`);
    match.index += from;
    this.cursor = match.index + match[0].length;
    return match;
  }

  /** Sends one monitor command and returns what it printed (errors throw). */
  command(line: string, timeoutMs = 30_000): Promise<string> {
    const result = this.monitorQueue.then(async () => {
      if (!this.running || !this.monitor) throw new Error(`QEMU is not running (monitor command "${line}")`);
      const start = this.monitorText.length;
      this.monitor.write(`${line}\n`);
      // HMP echoes the line (with terminal redraws), runs it, prints its output and a new prompt.
      let output: string;
      try {
        output = await this.until(() => {
          const text = this.monitorText.slice(start);
          const prompt = text.indexOf("(qemu) ");
          if (prompt < 0) return undefined;
          const echoEnd = text.indexOf("\r\n");
          return text.slice(echoEnd + 2, prompt);
        }, timeoutMs, `the monitor to finish "${line}"`);
      } catch (error) {
        // The last key of "exit\n" may end the machine before the monitor answers.
        if (!this.running && !this.killedAfterTimeout) return "";
        throw error;
      }
      return output.replace(/\r\n/g, "\n").trim();
    });
    this.monitorQueue = result.catch(() => null);
    return result;
  }

  /** Presses and releases one key: a sendkey name such as "h", "ret", "shift-a", "ctrl-c"; held for `holdMs` if given. */
  async sendKey(name: string, holdMs?: number): Promise<void> {
    const output = await this.command(`sendkey ${name}${holdMs === undefined ? "" : ` ${holdMs}`}`);
    if (output) throw new Error(`sendkey ${name}: ${output}`);
  }

  /** Types `text` on the keyboard, one key at a time. */
  async type(text: string): Promise<void> {
    for (const c of text) await this.sendKey(keyFor(c));
  }

  /** A screenshot of the display, as QEMU's screendump makes it. */
  async screendump(): Promise<Image> {
    const file = join(this.dir, `screen-${this.screenshots++}.ppm`);
    const output = await this.command(`screendump ${file}`);
    if (output) throw new Error(`screendump: ${output}`);
    const data = await this.until(() => {
      const bytes = existsSync(file) ? readFileSync(file) : undefined;
      return bytes && isCompletePpm(bytes) ? bytes : undefined;
    }, 10_000, `the screendump in ${file}`);
    rmSync(file, { force: true });
    return readPpm(data);
  }

  /**
   * Takes screenshots until `check` accepts one (returns nothing) or the time
   * is up; then fails with the last complaint `check` threw. The screen
   * lags the serial console by a little: the kernel writes a byte to the
   * serial port before drawing it.
   */
  async waitForScreen(check: (image: Image) => void, timeoutMs = 15_000): Promise<Image> {
    const started = Date.now();
    for (;;) {
      const image = await this.screendump();
      try {
        check(image);
        return image;
      } catch (error) {
        if (Date.now() - started > timeoutMs) throw error;
      }
      await sleep(500);
    }
  }

  /** Waits for QEMU to exit by itself; returns its status. */
  async waitExit(timeoutMs = this.waitMs): Promise<number | null> {
    await this.until(() => !this.running, timeoutMs, "QEMU to exit");
    if (this.killedAfterTimeout) throw new Error(`QEMU was killed after ${this.options.timeoutMs ?? 120_000} ms`);
    return this.exited;
  }

  /** Ends QEMU through the monitor (status 0) or, failing that, kills it. */
  async quit(): Promise<void> {
    if (!this.running) return;
    this.monitor?.write("quit\n");
    const ended = await Promise.race([this.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!ended) {
      this.kill();
      await this.exited;
    }
  }

  /** Resolves with QEMU's status once it has ended (null when killed). */
  ended(): Promise<number | null> {
    return this.exited.catch(() => null);
  }

  kill(): void {
    if (this.qemu && this.running) this.qemu.kill("SIGKILL");
  }

  cleanUp(): void {
    clearTimeout(this.deadline);
    this.monitor?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The error with the serial log (and QEMU's own messages) added. */
  annotate(error: unknown): Error {
    const e = error instanceof Error ? error : new Error(String(error));
    const messages = this.messages.trim() ? `\nQEMU said:\n${this.messages.trim()}` : "";
    e.message += `\nserial log (${this.options.firmware ?? "bios"}):\n${this.serial()}${messages}`;
    return e;
  }
}

/**
 * Boots a machine, runs `body` with it, and always ends QEMU afterwards.
 * Any failure (a timeout included) kills QEMU and is reported with the
 * serial log.
 */
export async function withMachine<T>(options: MachineOptions, body: (machine: Machine) => Promise<T>): Promise<T> {
  const machine = await Machine.start(options);
  try {
    return await body(machine);
  } catch (error) {
    machine.kill();
    await machine.ended();
    throw machine.annotate(error);
  } finally {
    await machine.quit();
    machine.cleanUp();
  }
}
