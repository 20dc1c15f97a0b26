// The kernel's output: everything printed goes to every console device,
// the serial port and the framebuffer. Nothing here allocates.
import { serialWrite } from "./serial";
import { framebufferPut } from "./framebuffer";
import { formatInto } from "../lib/format";

const SCRATCH_SIZE: u32 = 512;
const scratch = memory.data(SCRATCH_SIZE);

/** One byte exactly as given, to the serial port and the screen (the terminal's output processing is done). */
export function putRawByte(byte: u32): void {
  serialWrite(byte);
  framebufferPut(byte);
}

/** One byte of the kernel's own output: a newline starts the next line at its first column. */
export function putByte(byte: u32): void {
  if (byte == 0x0a) putRawByte(0x0d);
  putRawByte(byte);
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
