// Time since boot from the TSC, and wall-clock time from the CMOS real-time
// clock read once at boot.
import { inb, outb, rdtsc } from "../arch/x86_64/cpu";
import { tscFrequency } from "./tsc";

let bootTsc: u64 = 0; // the TSC when kmain began: time "since boot" counts from the kernel's start
let bootEpochSeconds: u64 = 0;

function cmos(register: u32): u32 {
  outb(0x70, register);
  return inb(0x71);
}

@inline function convert(value: u32, binary: bool): u32 {
  return binary ? value : (value & 0x0f) + (value >> 4) * 10;
}

/** Days from 1970-01-01 to year-month-day (proleptic Gregorian). */
function daysFromCivil(year: i64, month: i64, day: i64): i64 {
  const y = month <= 2 ? year - 1 : year;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yearOfEra = y - era * 400;
  const dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

export function markKernelStart(): void {
  bootTsc = rdtsc();
}

export function initClock(): void {
  tscFrequency();
  while (cmos(0x0a) & 0x80) {} // wait out an update in progress
  const binary = (cmos(0x0b) & 0x04) != 0;
  const second = convert(cmos(0x00), binary);
  const minute = convert(cmos(0x02), binary);
  const hour = convert(cmos(0x04) & 0x7f, binary);
  const day = convert(cmos(0x07), binary);
  const month = convert(cmos(0x08), binary);
  const year = 2000 + convert(cmos(0x09), binary);
  const days = daysFromCivil(year, month, day);
  // The clock was read now, not at kernel start: take the difference off.
  const sinceStart = monotonicNanoseconds() / 1000000000;
  bootEpochSeconds = <u64>(days * 86400 + <i64>hour * 3600 + <i64>minute * 60 + <i64>second) - sinceStart;
}

/** Nanoseconds since boot. */
export function monotonicNanoseconds(): u64 {
  const ticks = rdtsc() - bootTsc;
  const hz = tscFrequency();
  return (ticks / hz) * 1000000000 + (ticks % hz) * 1000000000 / hz;
}

export function realtimeNanoseconds(): u64 {
  return bootEpochSeconds * 1000000000 + monotonicNanoseconds();
}

/** TSC value `nanoseconds` from now. */
export function tscAfter(nanoseconds: u64): u64 {
  const hz = tscFrequency();
  return rdtsc() + (nanoseconds / 1000000000) * hz + (nanoseconds % 1000000000) * hz / 1000000000;
}
