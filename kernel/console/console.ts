// The kernel's output: everything printed goes to every console device,
// the serial port and the framebuffer. Nothing here allocates.
import { serialWrite } from "./serial";
import { TextColor, framebufferPut, setTextColor } from "./framebuffer";
import { formatInto } from "../lib/format";

const SCRATCH_SIZE: u32 = 512;
const scratch = memory.data(SCRATCH_SIZE);

export function putByte(byte: u32): void {
  if (byte == 0x0a) serialWrite(0x0d);
  serialWrite(byte);
  framebufferPut(byte);
}

/** Output from a program (shown in its own colour on the screen). */
export function printProgramBytes(address: usize, count: u32): void {
  setTextColor(TextColor.Program);
  printBytes(address, count);
  setTextColor(TextColor.Kernel);
}

export function printBytes(address: usize, count: u32): void {
  for (let i: u32 = 0; i < count; i++) putByte(load<u8>(address + i));
}

export function print(s: string): void {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = <u32>s.charCodeAt(i);
    putByte(c < 0x80 ? c : 0x3f);
  }
}

/** printf-style output; see lib/format.ts for the directives. */
export function printf(
  format: string,
  a: u64 = 0, b: u64 = 0, c: u64 = 0, d: u64 = 0, e: u64 = 0, f: u64 = 0,
): void {
  const needed = formatInto(scratch, SCRATCH_SIZE, format, a, b, c, d, e, f);
  printBytes(scratch, min(needed, SCRATCH_SIZE));
}
