// The machine as a person uses it: one ISO booted by SeaBIOS and by OVMF
// (UEFI) to the shell (busybox's ash, a login shell as process 1), the
// framebuffer console checked pixel by pixel against the font, and the shell
// driven from the emulated PS/2 keyboard (QEMU's sendkey): typing, Shift,
// Ctrl-C killing a program without losing memory and interrupting the idle
// shell, Ctrl-D ending the shell, `poweroff` and `reboot`; the same from a
// USB keyboard on a UEFI machine without PS/2. Writes build/screenshot.png.
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Machine, type MachineOptions, withMachine } from "./interactive";
import { ROOT } from "./qemu";
import {
  type Image, TextColor, columns, cursorAt, describeScreen, encodePng, expectText, findText, loadFont, rowIsBlank,
  rows, rowsWithText,
} from "./screen";

const EXIT_INIT_OK = 33; // init (the shell) exited with status 0
const PROMPT = "tsk:/# "; // PS1 of user/rootfs/etc/profile, in /
const BANNER = "TSKernel 0.1: an x86-64 kernel in TypeScript (AssemblyScript -> wasm2c -> clang)";
const TEST_TIMEOUT = 240_000; // QEMU TCG on two busy cores; OVMF alone takes 5-10 s to reach GRUB
const MACHINE: MachineOptions = { cmdline: "exit=qemu", timeoutMs: 200_000, waitMs: 120_000 };

const font = loadFont();

/** Boots to the first shell prompt on the serial console. */
async function bootToPrompt(machine: Machine): Promise<void> {
  await machine.expect(BANNER);
  await machine.expect(PROMPT);
}

/** Types `exit` and expects QEMU to report that init exited with status 0. */
async function exitShell(machine: Machine): Promise<void> {
  await machine.type("exit\n");
  expect(await machine.waitExit()).toBe(EXIT_INIT_OK);
}

/**
 * The console's lines from the banner on, as the serial port got them (the
 * banner starts with "\n"), without the escape sequences the screen takes
 * and does not draw (ash's line editing asks where the cursor is: ESC [ 6 n).
 */
function consoleLines(serial: string): string[] {
  const start = serial.indexOf(`\n${BANNER}`);
  if (start < 0) throw new Error(`no banner in the serial log:\n${serial}`);
  return serial.slice(start).replace(/\x1b\[[0-9;?]*[@-~]/g, "").split("\n");
}

/** The one row, at or after `from`, where `text` is drawn at column 0 (fails with the screen's contents otherwise). */
function rowOf(image: Image, text: string, color?: number, from = 0): number {
  const found = rowsWithText(image, font, text, 0, color).filter((row) => row >= from);
  if (found.length !== 1) {
    throw new Error(`"${text}" drawn at the start of ${found.length} rows (${found.join(", ")}), expected 1\n${describeScreen(image, font)}`);
  }
  return found[0];
}

describe.concurrent("firmware: one ISO, BIOS and UEFI", () => {
  it("boots under SeaBIOS to the shell prompt and powers off with `exit`", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "bios" }, async (machine) => {
      await bootToPrompt(machine);
      expect(machine.serial()).toMatch(/bootloader: GRUB/);
      await exitShell(machine);
    });
  });

  it("boots under OVMF (UEFI) to the shell prompt and powers off with `exit`", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "uefi" }, async (machine) => {
      await bootToPrompt(machine);
      const serial = machine.serial();
      expect(serial).toMatch(/bootloader: GRUB/);
      expect(serial).not.toMatch(/KERNEL PANIC/);
      await exitShell(machine); // typed on the PS/2 keyboard: it works after UEFI too
    });
  });

  // The UEFI GRUB needs its video drivers loaded (iso/grub.cfg) to honour
  // the kernel's framebuffer request.
  it("draws the console on the screen under OVMF too", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "uefi" }, async (machine) => {
      await bootToPrompt(machine);
      expect(machine.serial()).not.toMatch(/no suitable video mode/);
      expect(machine.serial()).toMatch(/framebuffer console: 1024x768 pixels/);
      // OVMF's long memory map and the shell's greeting fill more than the
      // screen: the banner has scrolled away, the boot log's end has not.
      await machine.waitForScreen((image) => {
        expect(rowsWithText(image, font, "framebuffer console: 1024x768 pixels", 0, TextColor.Kernel)).toHaveLength(1);
        const prompt = rowOf(image, PROMPT, TextColor.Program);
        expect(rowOf(image, "Type help for what to try.", TextColor.Program)).toBe(prompt - 1);
      });
      await exitShell(machine);
    });
  });
});

describe.concurrent("a USB keyboard (xHCI), on a machine without PS/2", () => {
  // Both firmwares drive the controller themselves before the kernel takes it over.
  for (const firmware of ["uefi", "bios"] as const) {
    const name = firmware === "uefi" ? "OVMF (UEFI)" : "SeaBIOS";
    it(`under ${name}, takes typed commands with Shift, repeats a held key, and ${firmware === "uefi" ? "Ctrl-D ends the shell" : "Ctrl-Alt-Del restarts"}`, { timeout: TEST_TIMEOUT }, async () => {
      await withMachine({ ...MACHINE, firmware, usbKeyboardOnly: true }, async (machine) => {
        await bootToPrompt(machine);
        expect(machine.serial()).toMatch(/usb: keyboard on port \d+ of the xHCI controller/);
        await machine.type("echo 'Typed on USB: a-z [ok]!'\n");
        await machine.expect("\nTyped on USB: a-z [ok]!\n");
        // A held key repeats (the host's job with USB): held 2 s, it must come out many times.
        await machine.type("echo ");
        await machine.sendKey("z", 2000);
        await machine.type("!\n");
        const [line] = await machine.expect(/\n(z+)!\n/);
        expect(line.trim().length - 1, line).toBeGreaterThanOrEqual(8);
        if (firmware === "uefi") {
          // At the prompt, with ash's line editing reading keys raw: typed while the echo ran, Ctrl-D is the
          // terminal's end-of-file for a reader that is gone, as it would be on Linux.
          await machine.expect(PROMPT);
          await machine.sendKey("ctrl-d");
        } else { // restarts; with exit=qemu the restart ends the run as a success
          await machine.sendKey("ctrl-alt-delete");
          await machine.expect("kernel: Ctrl-Alt-Del: restarting\n");
        }
        expect(await machine.waitExit()).toBe(EXIT_INIT_OK);
      });
    });
  }
});

describe.concurrent("power off and restart, as on a PC without QEMU's exit port", () => {
  for (const firmware of ["bios", "uefi"] as const) {
    it(`under ${firmware === "bios" ? "SeaBIOS" : "OVMF"}: init exiting with 0 turns the machine off`, { timeout: TEST_TIMEOUT }, async () => {
      await withMachine({ ...MACHINE, firmware, cmdline: "init=/bin/hello" }, async (machine) => {
        // QEMU ends with status 0 only because the guest powered off: no
        // exit port here, and a kernel that only halted would be killed at the timeout.
        expect(await machine.waitExit()).toBe(0);
        const serial = machine.serial();
        expect(serial).toMatch(/acpi: power off through port [0-9a-f]+ \(S5 sleep type \d+\)/);
        expect(serial).toContain("init: exited with status 0\nkernel: powering off\n");
        expect(serial).not.toContain("did not power off");
      });
    });
  }

  it("Ctrl-Alt-Del on the PS/2 keyboard restarts the machine", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "bios", cmdline: "" }, async (machine) => {
      await bootToPrompt(machine);
      await machine.sendKey("ctrl-alt-delete");
      expect(await machine.waitExit()).toBe(0); // the reset, under -no-reboot; a halted kernel would time out
      expect(machine.serial()).toContain("kernel: Ctrl-Alt-Del: restarting\n");
    });
  });

  it("job control in ash: Ctrl-Z stops a job, jobs lists it, bg and fg continue it, Ctrl-C ends a pipeline", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "bios" }, async (machine) => {
      await bootToPrompt(machine);
      await machine.type("sleep 50\n");
      await machine.expect("sleep 50\n");
      await new Promise((done) => setTimeout(done, 500));
      await machine.sendKey("ctrl-z");
      await machine.expect(/\[1\]\+ +Stopped +sleep 50\n/);
      await machine.expect(PROMPT);
      await machine.type("jobs\n");
      await machine.expect(/jobs\n\[1\]\+ +Stopped +sleep 50\n/);
      await machine.type("bg\n");
      await machine.expect(/bg\n\[1\]\+? *sleep 50\n/);
      await machine.type("fg\n");
      await machine.expect("fg\nsleep 50\n");
      await new Promise((done) => setTimeout(done, 500));
      await machine.sendKey("ctrl-c");
      await machine.expect(PROMPT);
      await machine.type("sleep 50 | cat\n");
      await machine.expect("sleep 50 | cat\n");
      await new Promise((done) => setTimeout(done, 500));
      await machine.sendKey("ctrl-c");
      await machine.expect(PROMPT);
      await machine.type("jobs; echo no jobs left\n");
      await machine.expect("jobs; echo no jobs left\nno jobs left\n");
      await exitShell(machine);
    });
  });

  // busybox's applets without -f only signal process 1 (busybox init's
  // contract); /bin/shell-init, process 1, answers with reboot(2).
  it("`reboot` in the shell restarts the machine (QEMU's -no-reboot turns the reset into an exit)", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "bios", cmdline: "" }, async (machine) => {
      await bootToPrompt(machine);
      await machine.type("reboot\n");
      expect(await machine.waitExit()).toBe(0);
      const serial = machine.serial();
      expect(serial).toMatch(/kernel: restart requested by shell-init\[1\]\n/);
      expect(serial).not.toContain("powering off");
    });
  });

  it("`poweroff` in the shell turns the machine off through ACPI", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "bios", cmdline: "" }, async (machine) => {
      await bootToPrompt(machine);
      await machine.type("poweroff\n");
      expect(await machine.waitExit()).toBe(0); // no exit port: only the power-off ends QEMU
      const serial = machine.serial();
      expect(serial).toMatch(/kernel: power off requested by shell-init\[1\]\n/);
      expect(serial).not.toContain("did not power off");
    });
  });
});

describe.concurrent("screen and keyboard (SeaBIOS)", () => {
  it("shows the boot console pixel for pixel as the serial port got it; saves build/screenshot.png", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "bios" }, async (machine) => {
      await bootToPrompt(machine);
      expect(machine.serial()).toMatch(/framebuffer console: 1024x768 pixels, 128 columns/);
      const lines = consoleLines(machine.serial());
      const promptRow = lines.length - 1;
      expect(lines[promptRow]).toBe(PROMPT);
      const image = await machine.waitForScreen((screen) => {
        expect([screen.width, screen.height]).toEqual([1024, 768]);
        expectText(screen, font, PROMPT, 0, promptRow);
      });
      const png = join(ROOT, "build/screenshot.png");
      writeFileSync(`${png}.${process.pid}.tmp`, encodePng(image));
      renameSync(`${png}.${process.pid}.tmp`, png); // whole, even when two test runs race

      // The banner: the kernel prints "\n" before it, so row 0 is blank and
      // the banner fills row 1 from pixel (0, 16), in the kernel's colour.
      expect(rowIsBlank(image, 0), describeScreen(image, font)).toBe(true);
      expectText(image, font, BANNER, 0, 1, TextColor.Kernel);
      expect(rowIsBlank(image, 1, BANNER.length)).toBe(true);

      // The prompt, found by its glyphs: once, in the program colour, on the
      // row after the greeting (/etc/motd's last line), with the cursor right
      // after it and nothing below.
      expect(rowOf(image, PROMPT, TextColor.Program)).toBe(promptRow);
      expect(rowOf(image, "Type help for what to try.", TextColor.Program)).toBe(promptRow - 1);
      expect(cursorAt(image, PROMPT.length, promptRow)).toBe(true);
      for (let row = promptRow + 1; row < rows(image); row++) expect(rowIsBlank(image, row)).toBe(true);

      // Every other line of the boot console, as on the serial port (no line
      // is wider than the screen, and nothing has scrolled yet).
      expect(lines.length).toBeLessThanOrEqual(rows(image));
      for (let row = 0; row < promptRow; row++) {
        expect(lines[row].length).toBeLessThanOrEqual(columns(image));
        expectText(image, font, lines[row], 0, row);
        expect(rowIsBlank(image, row, lines[row].length), `row ${row} after its text\n${describeScreen(image, font)}`).toBe(true);
      }
      await exitShell(machine);
    });
  });

  it("takes typed commands from the PS/2 keyboard: on the serial console and on the screen", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "bios" }, async (machine) => {
      await bootToPrompt(machine);
      await machine.type("hello kbd\n");
      await machine.expect("hello kbd\n"); // the echo
      const hello = await machine.expect(/hello, world from hello \(pid (\d+)\)\n/);
      await machine.expect('argv[0]="hello"\nargv[1]="kbd"\n');
      await machine.expect("malloc'd and filled 100000 bytes: ok\n");
      await machine.expect(PROMPT);
      const greeting = hello[0].trimEnd();
      await machine.waitForScreen((image) => {
        const command = rowOf(image, `${PROMPT}hello kbd`);
        expectText(image, font, PROMPT, 0, command, TextColor.Program);
        expectText(image, font, "hello kbd", PROMPT.length, command, TextColor.Program); // keys echoed by ash's line editing
        expectText(image, font, greeting, 0, command + 1, TextColor.Program);
        expectText(image, font, "argc=2", 0, command + 2, TextColor.Program);
        expectText(image, font, 'argv[1]="kbd"', 0, command + 4, TextColor.Program);
        expect(findText(image, font, greeting)).toEqual([{ column: 0, row: command + 1 }]);
      });

      // Shift and every symbol key of the US layout (and the quote that keeps
      // the shell's hands off them), through the shell's echo.
      const symbols = "ABC xyz 0123456789 ~!@#$%^&*()_+{}|:<>? `-=[]\\;,./";
      await machine.type(`echo '${symbols}'\n`);
      await machine.expect(`echo '${symbols}'\n${symbols}\n${PROMPT}`);
      await machine.waitForScreen((image) => {
        const row = rowOf(image, symbols, TextColor.Program);
        expectText(image, font, `${PROMPT}echo '${symbols}'`, 0, row - 1);
      });
      await exitShell(machine);
    });
  });

  it("Ctrl-C kills a spinning program, interrupts the idle shell, and frees all its memory", { timeout: TEST_TIMEOUT }, async () => {
    // norandmaps: memcheck is running when it reports the free frames, and
    // a randomised stack offset can make it a page bigger or smaller.
    await withMachine({ ...MACHINE, firmware: "bios", cmdline: "exit=qemu norandmaps" }, async (machine) => {
      await bootToPrompt(machine);
      // Free frames plus the shell's resident pages: now and then the shell
      // touches one more page of its own heap, which is its memory, not a
      // leak; everything the killed program held must come back.
      const memcheck = async () => {
        await machine.type("memcheck && grep resident /proc/$$/faults\n");
        const match = await machine.expect(/problems (\d+)\nfree_frames (\d+)\n[^]*?resident_pages (\d+)\n/);
        await machine.expect(PROMPT);
        return { problems: Number(match[1]), freeOrShell: Number(match[2]) + Number(match[3]) };
      };
      // The kernel echoes "^C\n"; the shell, interrupted too, starts a fresh
      // line (busybox prints no status for a job that SIGINT ended).
      const spinAndInterrupt = async () => {
        await machine.type("spin\n");
        await machine.expect("spinning\n");
        await machine.sendKey("ctrl-c");
        await machine.expect("^C\n");
        await machine.expect(PROMPT);
      };
      // A warm-up round first: the first program run keeps one more frame
      // for good (not in any RSS, the page cache or the kernel object count;
      // the kernel's own tables or slabs). From then on the count must come
      // back exactly.
      expect((await memcheck()).problems).toBe(0);
      await spinAndInterrupt();
      const before = await memcheck();
      expect(before.problems).toBe(0);

      await spinAndInterrupt();
      const after = await memcheck();
      expect(after).toEqual({ problems: 0, freeOrShell: before.freeOrShell });

      // At the prompt, Ctrl-C drops the line being typed and the shell, as
      // process 1 catching SIGINT, prompts again and carries on.
      await machine.type("ech");
      await machine.sendKey("ctrl-c");
      await machine.expect("ech^C\n");
      await machine.expect(PROMPT);
      await machine.type("echo still here\n");
      await machine.expect(`echo still here\nstill here\n${PROMPT}`);

      await machine.waitForScreen((image) => {
        // The last round on the screen too (earlier output may have scrolled away).
        const spinning = rowsWithText(image, font, "spinning", 0, TextColor.Program);
        expect(spinning.length, describeScreen(image, font)).toBeGreaterThan(0);
        const row = spinning[spinning.length - 1];
        expectText(image, font, "^C", 0, row + 1, TextColor.Input);
        const interrupted = rowOf(image, `${PROMPT}ech^C`, undefined, row);
        const command = rowOf(image, `${PROMPT}echo still here`, undefined, interrupted);
        expectText(image, font, "still here", 0, command + 1, TextColor.Program);
      });
      await exitShell(machine);
    });
  });

  it("Ctrl-D at the prompt ends the shell, and QEMU reports success", { timeout: TEST_TIMEOUT }, async () => {
    await withMachine({ ...MACHINE, firmware: "bios" }, async (machine) => {
      await bootToPrompt(machine);
      await machine.sendKey("ctrl-d");
      await machine.expect("\n"); // the shell ends the prompt's line on end of input
      expect(await machine.waitExit()).toBe(EXIT_INIT_OK);
    });
  });
});
