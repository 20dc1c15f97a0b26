// The futex wait queues (kernel/proc/futex_queue.ts) against a model: random
// sequences of waits, wakes (with bitsets and counts, below 1 too), requeues
// (onto the same key as well, so within one bucket), dequeues after a
// signal or a timeout, and waiters a signal made runnable before a wake
// found them, over keys of two address spaces and of two memory objects.
// After every step each waiter's record must say whether it is queued and
// on which key, each wake and requeue must return the model's count and
// take the model's waiters (the oldest first), every woken waiter must be
// runnable, and each object must be held once by its creator and once per
// waiter queued on it; at the end every kernel object is given back.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { MIB, bootMemory, pcMemoryMap } from "./mm";

const STATE = 8; // Process.state (process.ts)
const FUTEX_BASE = 384; // Process.futexBase
const FUTEX_OFFSET = 392; // Process.futexOffset
const SLEEPING = 2;
const RUNNABLE = 0;
const KEY_OBJECT = 1n; // mm/futex_key.ts: the offset bit of an object's key
const WAITERS = 8;

interface Key {
  base: number;
  offset: bigint;
}

interface Waiter {
  record: number;
  key: Key | null;
  bitset: number;
}

type Step =
  | { kind: "wait"; waiter: number; key: number; bitset: number }
  | { kind: "wake"; key: number; bitset: number; count: number }
  | { kind: "requeue"; key: number; key2: number; wake: number; move: number }
  | { kind: "leave"; waiter: number }
  | { kind: "signal"; waiter: number };

const BITSETS = [1, 2, 3, 0xffffffff];
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("wait" as const), waiter: fc.nat(WAITERS - 1), key: fc.nat(5), bitset: fc.constantFrom(...BITSETS) }),
  fc.record({ kind: fc.constant("wake" as const), key: fc.nat(5), bitset: fc.constantFrom(...BITSETS), count: fc.integer({ min: -1, max: 4 }) }),
  fc.record({ kind: fc.constant("requeue" as const), key: fc.nat(5), key2: fc.nat(5), wake: fc.nat(3), move: fc.nat(3) }),
  fc.record({ kind: fc.constant("leave" as const), waiter: fc.nat(WAITERS - 1) }),
  fc.record({ kind: fc.constant("signal" as const), waiter: fc.nat(WAITERS - 1) }),
);

let k: Kernel;

function boot(): void {
  k = loadKernel({ memoryPages: 512 });
  expect(bootMemory(k, pcMemoryMap(32 * MIB))).toBe(true);
  k.exports.resetSlab();
}

const sameKey = (a: Key | null, b: Key): boolean => a !== null && a.base === b.base && a.offset === b.offset;

describe("futex wait queues", () => {
  it("wake, requeue and leave as the model, oldest first, holding objects while queued", () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 1, maxLength: 150, size: "max" }), (steps) => {
        boot();
        const e = k.exports;
        const objectsBefore = e.kernelObjectsInUse();
        const view = () => new DataView(k.memory.buffer);
        const spaces = [e.kmalloc(64), e.kmalloc(64)];
        const objects = [e.testObject(1), e.testObject(2)];
        // Two private keys per space, and one object key each (offsets with KEY_OBJECT, as futexKey makes them).
        const keys: Key[] = [
          { base: spaces[0], offset: 0x10000n }, { base: spaces[0], offset: 0x10004n }, { base: spaces[1], offset: 0x10000n },
          { base: spaces[1], offset: 0x20000n }, { base: objects[0], offset: 0x40n | KEY_OBJECT }, { base: objects[1], offset: 0x40n | KEY_OBJECT },
        ];
        const waiters: Waiter[] = Array.from({ length: WAITERS }, () => ({ record: e.processRecord(), key: null, bitset: 0 }));
        for (const address of [...spaces, ...waiters.map((w) => w.record)]) expect(address).not.toBe(0);
        const queue: Waiter[] = []; // every queued waiter, oldest first (FIFO per key follows)
        const unqueue = (w: Waiter) => {
          queue.splice(queue.indexOf(w), 1);
          w.key = null;
        };
        for (const step of steps) {
          if (step.kind === "wait") {
            const w = waiters[step.waiter];
            if (w.key !== null) continue; // a queued waiter is asleep: it makes no call
            view().setUint32(w.record + STATE, SLEEPING, true);
            e.futexEnqueue(w.record, keys[step.key].base, keys[step.key].offset, step.bitset);
            w.key = keys[step.key];
            w.bitset = step.bitset;
            queue.push(w);
          } else if (step.kind === "wake") {
            const key = keys[step.key];
            const limit = Math.max(step.count, 1);
            const expected = queue.filter((w) => sameKey(w.key, key) && (w.bitset & step.bitset) !== 0).slice(0, limit);
            expect(e.futexWake(key.base, key.offset, step.bitset, step.count)).toBe(expected.length);
            for (const w of expected) {
              unqueue(w);
              expect(view().getUint32(w.record + STATE, true)).toBe(RUNNABLE);
            }
          } else if (step.kind === "requeue") {
            const key = keys[step.key];
            const key2 = keys[step.key2];
            const matching = queue.filter((w) => sameKey(w.key, key)).slice(0, step.wake + step.move);
            expect(e.futexRequeue(key.base, key.offset, key2.base, key2.offset, step.wake, step.move)).toBe(matching.length);
            matching.forEach((w, i) => {
              if (i < step.wake) unqueue(w);
              else if (step.key !== step.key2) {
                // Moved behind key 2's waiters (a key's order is the queue's order among its waiters).
                queue.splice(queue.indexOf(w), 1);
                queue.push(w);
                w.key = key2;
              }
            });
          } else if (step.kind === "leave") {
            const w = waiters[step.waiter];
            expect(e.futexDequeue(w.record)).toBe(w.key !== null ? 1 : 0);
            if (w.key !== null) unqueue(w);
          } else {
            const w = waiters[step.waiter];
            if (w.key !== null) view().setUint32(w.record + STATE, RUNNABLE, true); // a signal woke it; it is still queued
          }
          for (const w of waiters) {
            const base = view().getUint32(w.record + FUTEX_BASE, true);
            if (w.key === null) expect(base).toBe(0);
            else {
              expect(base).toBe(w.key.base);
              expect(view().getBigUint64(w.record + FUTEX_OFFSET, true)).toBe(w.key.offset);
            }
          }
          for (const object of objects) {
            expect(e.objectHolders(object)).toBe(1 + waiters.filter((w) => w.key !== null && w.key.base === object).length);
          }
        }
        // The queues allocate nothing: leaving them and freeing the records gives every kernel object back.
        for (const w of waiters) {
          e.futexDequeue(w.record);
          e.kfree(w.record);
        }
        for (const space of spaces) e.kfree(space);
        expect(e.kernelObjectsInUse()).toBe(objectsBefore);
        for (const object of objects) expect(e.objectHolders(object)).toBe(1);
      }),
      { numRuns: 100 },
    );
  });
});
