// The time-stamp counter's frequency, measured against the PIT (1.193182
// MHz on every PC) through channel 2, whose output the CPU can read at
// port 0x61 without any interrupt.
import { inb, outb, rdtsc } from "../arch/x86_64/cpu";

const PIT_HZ: u64 = 1193182;
const PIT_CHANNEL2: u32 = 0x42;
const PIT_COMMAND: u32 = 0x43;
const SPEAKER_PORT: u32 = 0x61;
const CALIBRATION_DIVISOR: u64 = 50; // measure for 1/50 s

let tscHz: u64 = 0;

/** Measures (once) and returns TSC ticks per second. */
export function tscFrequency(): u64 {
  if (tscHz != 0) return tscHz;
  const count = <u32>(PIT_HZ / CALIBRATION_DIVISOR);
  outb(SPEAKER_PORT, (inb(SPEAKER_PORT) & ~0x02) | 0x01); // gate on, speaker off
  outb(PIT_COMMAND, 0xb0); // channel 2, low then high byte, mode 0: output rises at zero
  outb(PIT_CHANNEL2, count & 0xff);
  outb(PIT_CHANNEL2, count >> 8);
  const start = rdtsc();
  while ((inb(SPEAKER_PORT) & 0x20) == 0) {}
  tscHz = (rdtsc() - start) * CALIBRATION_DIVISOR;
  return tscHz;
}

/** Nanoseconds in `ticks` TSC ticks, in tenths (for one decimal place). */
export function ticksToTenthsOfNs(ticks: u64): u64 {
  return ticks * 10000 / (tscFrequency() / 1000000);
}
