// kernel/time/clock.ts: mulShift32, the fixed-point step that turns TSC
// ticks into nanoseconds (the vDSO computes the same thing with a 128-bit
// multiply; the two must agree bit for bit, or a clock read through the
// vDSO could disagree with the system call); its inverse, ticksReaching,
// which sleeps and timers wake by (never early, at most 1 ns late);
// and the CMOS hour in every format a PC's real-time clock may use.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";

const U64 = (1n << 64n) - 1n;
const reference = (a: bigint, b: bigint) => ((a * b) >> 32n) & U64;
const asUnsigned = (v: bigint) => BigInt.asUintN(64, v);

let k: Kernel;
beforeAll(() => {
  k = loadKernel();
});

describe("mulShift32", () => {
  it("equals the low 64 bits of the full 128-bit product shifted right by 32", () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: U64 }), fc.bigInt({ min: 0n, max: U64 }), (a, b) => {
      expect(asUnsigned(k.exports.mulShift32(a, b))).toBe(reference(a, b));
    }), { numRuns: 20000 });
  });

  it("is exact at the edges: zero, one, all ones, and carries out of the low half", () => {
    const edges = [0n, 1n, 0xffffffffn, 0x100000000n, 0xffffffff_ffffffffn, 0x80000000_00000000n, 0xffffffff_00000000n];
    for (const a of edges) for (const b of edges) expect(asUnsigned(k.exports.mulShift32(a, b))).toBe(reference(a, b));
  });

  it("turns a day of ticks at 3 GHz into a day of nanoseconds to within a nanosecond per second", () => {
    const hz = 3_000_000_000n;
    const scale = (1_000_000_000n << 32n) / hz;
    const day = 86_400n;
    const ns = asUnsigned(k.exports.mulShift32(day * hz, scale));
    expect(day * 1_000_000_000n - ns).toBeGreaterThanOrEqual(0n);
    expect(day * 1_000_000_000n - ns).toBeLessThanOrEqual(day);
  });
});

describe("ticksReaching", () => {
  const read = (ticks: bigint, scale: bigint) => (ticks * scale) >> 32n;
  it("finds a tick at which the clock reads the time asked, or at most a nanosecond more", () => {
    const hzs = fc.bigInt({ min: 1_000_000_000n, max: 6_000_000_000n });
    const times = fc.oneof(fc.bigInt({ min: 0n, max: 10_000_000_000n }), fc.bigInt({ min: 0n, max: 1_000_000_000_000_000_000n }));
    fc.assert(fc.property(hzs, times, (hz, ns) => {
      const scale = (1_000_000_000n << 32n) / hz;
      const ticks = asUnsigned(k.exports.ticksReaching(ns, hz, scale));
      expect(read(ticks, scale)).toBeGreaterThanOrEqual(ns);
      expect(read(ticks, scale)).toBeLessThanOrEqual(ns + 1n);
    }), { numRuns: 20000 });
  });
});

describe("cmosHour", () => {
  const BINARY = 0x04;
  const HOURS_24 = 0x02;
  const bcd = (n: number) => ((n / 10) << 4) | n % 10;

  it("reads every hour of the day in the four formats", () => {
    for (let hour = 0; hour < 24; hour++) {
      const twelve = hour % 12 === 0 ? 12 : hour % 12;
      const pm = hour >= 12 ? 0x80 : 0;
      expect(k.exports.cmosHour(bcd(hour), HOURS_24), `24-hour BCD ${hour}`).toBe(hour);
      expect(k.exports.cmosHour(hour, HOURS_24 | BINARY), `24-hour binary ${hour}`).toBe(hour);
      expect(k.exports.cmosHour(bcd(twelve) | pm, 0), `12-hour BCD ${hour}`).toBe(hour);
      expect(k.exports.cmosHour(twelve | pm, BINARY), `12-hour binary ${hour}`).toBe(hour);
    }
  });
});
