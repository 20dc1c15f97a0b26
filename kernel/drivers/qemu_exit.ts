// How the kernel ends a run. Under QEMU with
//   -device isa-debug-exit,iobase=0xf4,iosize=0x04
// writing v to port 0xf4 exits QEMU with status (v << 1) | 1:
//
//   Success 0x10 -> 33   the kernel finished what it was asked to do
//   Failure 0x11 -> 35   a check failed (e.g. a selftest did not fault)
//   Panic   0x12 -> 37   a kernel panic was reported
//   InitFailed 0x13 -> 39 init exited with a non-zero status or was killed
//                        (the console says which: "init: exited with status N")
//
// A triple fault under -no-reboot exits 0 and a hang is killed by the test
// harness, so neither can be mistaken for one of these. Only the kernel
// command line `exit=qemu` enables the port: on a real PC, port 0xf4 may
// belong to something else. There a successful end powers the machine off
// through ACPI, and anything else halts with its report on the screen.
import { acpiPowerOff, acpiReset } from "./acpi";
import { disableInterrupts, halt, inb, outb } from "../arch/x86_64/cpu";

export const enum ExitStatus {
  Success = 0x10,
  Failure = 0x11,
  Panic = 0x12,
  InitFailed = 0x13,
}

const DEBUG_EXIT_PORT: u32 = 0xf4;
let exitPortEnabled = false;

export function enableQemuExit(): void {
  exitPortEnabled = true;
}

const KEYBOARD_CONTROLLER: u32 = 0x64;
const INPUT_BUFFER_FULL: u32 = 1 << 1;
const PULSE_RESET_LINE: u32 = 0xfe;
const RESET_CONTROL: u32 = 0xcf9; // PIIX and ICH chipsets
const FULL_RESET: u32 = 0x06;

/**
 * Restarts the machine: the FADT's reset register, else the keyboard
 * controller's reset line, else the chipset's reset control register
 * (with exit=qemu: the exit port, as a success).
 */
export function restart(): void {
  endRun(ExitStatus.Success);
  acpiReset();
  for (let tries = 0; tries < 100000 && (inb(KEYBOARD_CONTROLLER) & INPUT_BUFFER_FULL) != 0; tries++) {}
  outb(KEYBOARD_CONTROLLER, PULSE_RESET_LINE);
  for (let tries = 0; tries < 1000000; tries++) inb(KEYBOARD_CONTROLLER); // give the line time to act
  outb(RESET_CONTROL, FULL_RESET);
  while (true) halt();
}

/** Stops the machine without powering it off (with exit=qemu: ends the run as a success). */
export function stop(): void {
  endRun(ExitStatus.Success);
  while (true) halt();
}

export function shutdown(status: ExitStatus): void {
  endRun(status);
  if (status == ExitStatus.Success) acpiPowerOff();
  while (true) halt();
}

/** The common start of every ending: no more interrupts, and under QEMU with exit=qemu, the exit itself. */
function endRun(status: ExitStatus): void {
  disableInterrupts();
  if (exitPortEnabled) outb(DEBUG_EXIT_PORT, status);
}
