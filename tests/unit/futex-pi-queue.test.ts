// The futex wait queues' PI and multi-key parts (kernel/proc/futex_queue.ts,
// kernel/proc/pi_owner.ts): PI waiters refuse a plain wake (EINVAL) and
// leave nobody woken; an owner's exit (releasePiLocks) hands each lock to
// its oldest waiter, which stays queued as the owner while the others wait
// for it; futex_waitv's own nodes, several for one thread, are woken one
// key at a time; FUTEX_CMP_REQUEUE_PI's move takes only requeue-PI waiters
// bound for that lock. Every kernel object is given back at the end.
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { MIB, bootMemory, pcMemoryMap } from "./mm";

const PID = 0; // Process.pid (process.ts)
const STATE = 8; // Process.state
const NODE = 384; // Process.futexBase: the record's own FutexWaiter
const REQUEUE_PI_BASE = 504; // Process.requeuePiBase
const REQUEUE_PI_OFFSET = 512; // Process.requeuePiOffset
const BASE = 0; // FutexWaiter.base
const OFFSET = 8; // FutexWaiter.offset
const LOCK_OWNER = 28; // FutexWaiter.lockOwner
const NODE_SIZE = 32;
const SLEEPING = 2;
const RUNNABLE = 0;
const MATCH_ANY = 0xffffffff;
const REQUEUE_PI_WAITING = 0xffffffff;
const EINVAL = -22;

let k: Kernel;
const view = () => new DataView(k.memory.buffer);

function boot(): void {
  k = loadKernel({ memoryPages: 512 });
  expect(bootMemory(k, pcMemoryMap(32 * MIB))).toBe(true);
  k.exports.resetSlab();
}

function thread(pid: number): number {
  const record = k.exports.processRecord();
  expect(record).not.toBe(0);
  view().setUint32(record + PID, pid, true);
  view().setUint32(record + STATE, SLEEPING, true);
  return record;
}

describe("futex PI and multi-key queues", () => {
  it("hand a dead owner's locks to their oldest waiters, refuse plain wakes, wake waitv nodes per key, requeue to a PI lock", () => {
    boot();
    const e = k.exports;
    const before = e.kernelObjectsInUse();
    const space = e.kmalloc(64);
    const [a, b, c] = [0x1000n, 0x2000n, 0x3000n];
    const owner = thread(100);
    const waiters = [thread(101), thread(102), thread(103)];
    for (const w of waiters) e.futexEnqueueNode(w + NODE, w, space, a, MATCH_ANY, 100);
    // Another lock of the same owner, and a plain waiter elsewhere, are not in the way.
    const other = thread(104);
    e.futexEnqueueNode(other + NODE, other, space, b, MATCH_ANY, 100);
    expect(e.futexWake(space, a, MATCH_ANY, 3)).toBe(EINVAL);
    for (const w of waiters) expect(view().getUint32(w + STATE, true)).toBe(SLEEPING);
    expect(e.futexTopWaiter(space, a)).toBe(waiters[0] + NODE);

    e.releasePiLocks(owner);
    expect(e.futexFirstLockOwnedBy(100)).toBe(0);
    // The heir of each lock is runnable and still queued, named as the owner; the rest wait for it.
    expect(view().getUint32(waiters[0] + STATE, true)).toBe(RUNNABLE);
    expect(view().getUint32(waiters[0] + NODE + BASE, true)).toBe(space);
    expect(view().getUint32(waiters[0] + NODE + LOCK_OWNER, true)).toBe(101);
    for (const w of waiters.slice(1)) {
      expect(view().getUint32(w + STATE, true)).toBe(SLEEPING);
      expect(view().getUint32(w + NODE + LOCK_OWNER, true)).toBe(101);
    }
    expect(view().getUint32(other + STATE, true)).toBe(RUNNABLE);
    expect(view().getUint32(other + NODE + LOCK_OWNER, true)).toBe(104);
    for (const w of [...waiters, other]) expect(e.futexDequeue(w)).toBe(1);

    // futex_waitv: one thread, a node of its own on each of two keys.
    const multi = thread(105);
    const nodes = e.kmalloc(2 * NODE_SIZE);
    e.futexEnqueueNode(nodes, multi, space, b, MATCH_ANY, 0);
    e.futexEnqueueNode(nodes + NODE_SIZE, multi, space, c, MATCH_ANY, 0);
    expect(e.futexWake(space, c, MATCH_ANY, 5)).toBe(1);
    expect(view().getUint32(multi + STATE, true)).toBe(RUNNABLE);
    expect(view().getUint32(nodes + NODE_SIZE + BASE, true)).toBe(0);
    expect(e.futexDequeueNode(nodes + NODE_SIZE)).toBe(0);
    expect(e.futexDequeueNode(nodes)).toBe(1);
    expect(e.futexWake(space, b, MATCH_ANY, 5)).toBe(0);
    e.kfree(nodes);

    // FUTEX_CMP_REQUEUE_PI: requeue-PI waiters bound for lock c move to it, for its owner.
    const condition = [thread(106), thread(107)];
    for (const w of condition) {
      view().setUint32(w + REQUEUE_PI_BASE, space, true);
      view().setBigUint64(w + REQUEUE_PI_OFFSET, c, true);
      e.futexEnqueueNode(w + NODE, w, space, a, MATCH_ANY, REQUEUE_PI_WAITING);
    }
    expect(e.futexWake(space, a, MATCH_ANY, 1)).toBe(EINVAL);
    expect(e.futexRequeuePi(space, a, space, b, 2n, 77)).toBe(BigInt(EINVAL)); // bound for another lock
    expect(e.futexRequeuePi(space, a, space, c, 1n, 77)).toBe(1n);
    expect(view().getBigUint64(condition[0] + NODE + OFFSET, true)).toBe(c);
    expect(view().getUint32(condition[0] + NODE + LOCK_OWNER, true)).toBe(77);
    expect(view().getBigUint64(condition[1] + NODE + OFFSET, true)).toBe(a);
    expect(e.futexRequeuePi(space, a, space, c, 5n, 77)).toBe(1n);
    expect(e.futexTopWaiter(space, c)).toBe(condition[0] + NODE);
    for (const w of condition) expect(e.futexDequeue(w)).toBe(1);

    for (const record of [owner, ...waiters, other, multi, ...condition]) e.kfree(record);
    e.kfree(space);
    expect(e.kernelObjectsInUse()).toBe(before);
  });
});
