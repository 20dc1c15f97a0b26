// Time since boot from the TSC, and wall-clock time from the CMOS real-time
// clock read once at boot (moved by clock_settime). Ticks become
// nanoseconds through a fixed-point factor, the same computation the vDSO
// (kernel/arch/x86_64/vdso/vdso.c) makes in user space from the parameters
// publishClock writes, so the system call and the vDSO give the same time
// for the same TSC value.
import { cpuid, inb, outb, rdtsc } from "../arch/x86_64/cpu";
import { formatInto, str } from "../lib/format";
import { tscFrequency } from "./tsc";

let bootTsc: u64 = 0; // the TSC when kmain began: time "since boot" counts from the kernel's start
let realtimeAtZero: u64 = 0; // CLOCK_REALTIME in nanoseconds when the monotonic clock read 0
let nsPerTickQ32: u64 = 0; // nanoseconds per TSC tick, 32 fraction bits

function cmos(register: u32): u32 {
  outb(0x70, register);
  return inb(0x71);
}

@inline function convert(value: u32, binary: bool): u32 {
  return binary ? value : (value & 0x0f) + (value >> 4) * 10;
}

/**
 * The hour (0..23) from the CMOS hour register and status register B,
 * which says whether values are binary or BCD (bit 2) and whether the clock
 * runs in 24-hour mode (bit 1); in 12-hour mode bit 7 means PM and 12 AM
 * is midnight.
 */
export function cmosHour(hourByte: u32, status: u32): u32 {
  const hour = convert(hourByte & 0x7f, (status & 0x04) != 0);
  if ((status & 0x02) != 0) return hour;
  return hour % 12 + ((hourByte & 0x80) != 0 ? 12 : 0);
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

/** Reads the CMOS clock and calibrates the TSC; writes the boot log's line at `report` and returns its length. */
export function initClock(report: u32, capacity: u32): u32 {
  tscFrequency();
  while (cmos(0x0a) & 0x80) {} // wait out an update in progress
  const status = cmos(0x0b);
  const binary = (status & 0x04) != 0;
  const second = convert(cmos(0x00), binary);
  const minute = convert(cmos(0x02), binary);
  const hour = cmosHour(cmos(0x04), status);
  const day = convert(cmos(0x07), binary);
  const month = convert(cmos(0x08), binary);
  const year = 2000 + convert(cmos(0x09), binary);
  const days = daysFromCivil(year, month, day);
  // The clock was read now, not at kernel start: take the difference off.
  const sinceStart = monotonicNanoseconds() / 1000000000;
  realtimeAtZero = (<u64>(days * 86400 + <i64>hour * 3600 + <i64>minute * 60 + <i64>second) - sinceStart) * 1000000000;
  const kHz = tscFrequency() / 1000;
  const n = formatInto(report, capacity, "clock: TSC at %d.%03d MHz, %s; ", kHz / 1000, kHz % 1000,
    str(tscIsInvariant() ? "invariant" : "not invariant (time may drift if the CPU changes speed)"));
  return n + formatInto(report + n, capacity - n, "CMOS clock %04d-%02d-%02d %02d:%02d:%02d\n", year, month, day, hour, minute,
    second);
}

/** Whether the TSC ticks at a constant rate in every power state (CPUID 0x80000007, EDX bit 8). */
function tscIsInvariant(): bool {
  const out = memory.data(16, 4);
  cpuid(0x80000000, 0, <u32>out);
  if (load<u32>(out) < 0x80000007) return false;
  cpuid(0x80000007, 0, <u32>out);
  return (load<u32>(out + 12) & (1 << 8)) != 0;
}

/** (a * b) >> 32, keeping the low 64 bits, from the full 128-bit product (wasm has no wide multiply). */
export function mulShift32(a: u64, b: u64): u64 {
  const aLow = a & 0xffffffff;
  const aHigh = a >> 32;
  const bLow = b & 0xffffffff;
  const bHigh = b >> 32;
  return ((aHigh * bHigh) << 32) + aHigh * bLow + aLow * bHigh + ((aLow * bLow) >> 32);
}

function tickScale(): u64 {
  if (nsPerTickQ32 == 0) nsPerTickQ32 = (<u64>1000000000 << 32) / tscFrequency();
  return nsPerTickQ32;
}

/** Nanoseconds since boot. */
export function monotonicNanoseconds(): u64 {
  return mulShift32(rdtsc() - bootTsc, tickScale());
}

/** Nanoseconds in `cycles` TSC ticks, at the monotonic clock's scale (CPU time is kept in ticks). */
export function cyclesToNanoseconds(cycles: u64): u64 {
  return mulShift32(cycles, tickScale());
}

/**
 * Writes the clock's parameters for the vDSO at `vvar` (layout in vdso.c):
 * the TSC at time zero, nanoseconds per tick, CLOCK_REALTIME at time zero.
 */
export function publishClock(vvar: usize): void {
  store<u64>(vvar, bootTsc);
  store<u64>(vvar, tickScale(), 8);
  store<u64>(vvar, realtimeAtZero, 16);
}

export function realtimeNanoseconds(): u64 {
  return realtimeAtZero + monotonicNanoseconds();
}

/**
 * clock_settime(CLOCK_REALTIME): the real-time clock reads `nanoseconds`
 * from now on. False (Linux's EINVAL) for a time before the monotonic
 * clock's zero: the real-time clock never goes below the monotonic one.
 */
export function setRealtime(nanoseconds: u64): bool {
  const now = monotonicNanoseconds();
  if (nanoseconds < now) return false;
  realtimeAtZero = nanoseconds - now;
  return true;
}

/** The clocks timers and sleeps count on: CLOCK_MONOTONIC (and BOOTTIME: no suspend here), or CLOCK_REALTIME, which clock_settime moves. */
export const enum TimeBase {
  Monotonic = 1,
  Realtime = 2,
}

export function timeOn(base: TimeBase): u64 {
  return base == TimeBase.Realtime ? realtimeNanoseconds() : monotonicNanoseconds();
}

/** The monotonic time at which `base` reads `nanoseconds` (0 if it read that before the monotonic zero). */
export function monotonicAt(base: TimeBase, nanoseconds: u64): u64 {
  if (base == TimeBase.Monotonic) return nanoseconds;
  return nanoseconds > realtimeAtZero ? nanoseconds - realtimeAtZero : 0;
}

/**
 * A TSC value at which monotonicNanoseconds() reads at least
 * `nanoseconds` (within 31 years of now, or the product overflows): a
 * sleeper woken then never finds its deadline still ahead.
 */
export function tscAt(nanoseconds: u64): u64 {
  return bootTsc + ticksReaching(nanoseconds, tscFrequency(), tickScale());
}

/**
 * Ticks from time zero until the clock, at `hz` ticks a second read
 * through `scale` (tickScale's nanoseconds per tick, 32 fraction bits),
 * reaches `nanoseconds`, or passes it by at most a nanosecond.
 */
export function ticksReaching(nanoseconds: u64, hz: u64, scale: u64): u64 {
  let ticks = (nanoseconds / 1000000000) * hz + (nanoseconds % 1000000000) * hz / 1000000000;
  // The scale is rounded down, so the estimate may read a little early: step up by the shortfall.
  while (mulShift32(ticks, scale) < nanoseconds) {
    const short = nanoseconds - mulShift32(ticks, scale);
    ticks += short / 1000000000 * hz + (short % 1000000000) * hz / 1000000000 + 1;
  }
  return ticks;
}

/** TSC value `nanoseconds` from now. */
export function tscAfter(nanoseconds: u64): u64 {
  const hz = tscFrequency();
  return rdtsc() + (nanoseconds / 1000000000) * hz + (nanoseconds % 1000000000) * hz / 1000000000;
}
