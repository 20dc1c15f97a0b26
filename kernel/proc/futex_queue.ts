// The futex wait queues (Linux's futex_hash_bucket): sleeping waiters
// hashed by their key (mm/futex_key.ts) into buckets, each a FIFO list
// linked through the waiters' Process records, so that a wake looks only
// at waiters whose keys hash alike and wakes them oldest first. A waiter
// on a memory object's key holds the object while queued, so the key
// cannot be reused by another object while anyone waits on it.
import { AddressSpace } from "../mm/address_space";
import { KEY_OBJECT, futexKey } from "../mm/futex_key";
import { MemoryObject, releaseObject, retainObject } from "../mm/memory_object";
import { Process, ProcessState } from "./process";
import { makeRunnable } from "./scheduler";

const BUCKETS: u32 = 256;
const buckets = memory.data(256 * 8, 8); // per bucket: head, tail (Process addresses)

/** FUTEX_BITSET_MATCH_ANY: what FUTEX_WAIT and FUTEX_WAKE use. */
export const MATCH_ANY: u32 = 0xffffffff;

function bucketOf(base: u32, offset: u64): usize {
  const mixed = (<u64>base * 0x9e3779b97f4a7c15) ^ (offset * 0xc2b2ae3d27d4eb4f);
  return buckets + <usize>(<u32>(mixed >> 56) & (BUCKETS - 1)) * 8;
}

@inline function matches(p: Process, base: u32, offset: u64): bool {
  return p.futexBase == base && p.futexOffset == offset;
}

function append(p: Process, bucket: usize): void {
  const tail = load<u32>(bucket, 4);
  p.futexNext = 0;
  p.futexPrevious = tail;
  if (tail == 0) store<u32>(bucket, changetype<u32>(p));
  else changetype<Process>(tail).futexNext = changetype<u32>(p);
  store<u32>(bucket, changetype<u32>(p), 4);
}

function unlink(p: Process, bucket: usize): void {
  if (p.futexPrevious == 0) store<u32>(bucket, p.futexNext);
  else changetype<Process>(p.futexPrevious).futexNext = p.futexNext;
  if (p.futexNext == 0) store<u32>(bucket, p.futexPrevious, 4);
  else changetype<Process>(p.futexNext).futexPrevious = p.futexPrevious;
  p.futexNext = 0;
  p.futexPrevious = 0;
}

function setKey(p: Process, base: u32, offset: u64): void {
  if ((offset & KEY_OBJECT) != 0) retainObject(changetype<MemoryObject>(base));
  p.futexBase = base;
  p.futexOffset = offset;
}

function clearKey(p: Process): void {
  const base = p.futexBase;
  const offset = p.futexOffset;
  p.futexBase = 0;
  p.futexOffset = 0;
  if ((offset & KEY_OBJECT) != 0) releaseObject(changetype<MemoryObject>(base));
}

/** Queues `p` (about to sleep) last among the waiters on the key. */
export function futexEnqueue(p: Process, base: u32, offset: u64, bitset: u32): void {
  setKey(p, base, offset);
  p.futexBitset = bitset;
  append(p, bucketOf(base, offset));
}

/**
 * Takes `p` off its queue after its sleep. True: it was still queued (a
 * signal or the timeout ended the sleep); false: a wake took it off first.
 */
export function futexDequeue(p: Process): bool {
  if (p.futexBase == 0) return false;
  unlink(p, bucketOf(p.futexBase, p.futexOffset));
  clearKey(p);
  return true;
}

function wakeWaiter(p: Process, bucket: usize): void {
  unlink(p, bucket);
  clearKey(p);
  // A waiter a signal or its timeout already made runnable is woken all
  // the same (its futex call then returns 0, as in Linux), but it is on
  // the run queue once only.
  if (p.state == ProcessState.Sleeping) {
    p.wakeAt = 0;
    makeRunnable(p);
  }
}

/**
 * Wakes waiters on the key whose bitset meets `bitset`, oldest first, and
 * returns how many. As Linux's futex_wake, a count below 1 still wakes one.
 */
export function futexWake(base: u32, offset: u64, bitset: u32, count: i32): i32 {
  const bucket = bucketOf(base, offset);
  let woken: i32 = 0;
  let at = load<u32>(bucket);
  while (at != 0) {
    const p = changetype<Process>(at);
    at = p.futexNext;
    if (!matches(p, base, offset) || (p.futexBitset & bitset) == 0) continue;
    wakeWaiter(p, bucket);
    if (++woken >= count) break;
  }
  return woken;
}

/**
 * Linux's futex_requeue for plain futexes: the first `wakeCount` waiters on
 * key 1 are woken, the next `moveCount` move to key 2, behind its own
 * waiters (in place when it is key 1 again), keeping their bitsets.
 * Returns how many were woken or moved.
 */
export function futexRequeue(base: u32, offset: u64, base2: u32, offset2: u64, wakeCount: i32, moveCount: i32): i32 {
  const bucket = bucketOf(base, offset);
  const bucket2 = bucketOf(base2, offset2);
  const last = load<u32>(bucket, 4); // waiters moved in behind it (bucket 2 may be bucket 1) are not looked at again
  let count: i32 = 0;
  let at = load<u32>(bucket);
  while (at != 0 && count - wakeCount < moveCount) {
    const p = changetype<Process>(at);
    at = at == last ? 0 : p.futexNext;
    if (!matches(p, base, offset)) continue;
    if (++count <= wakeCount) {
      wakeWaiter(p, bucket);
      continue;
    }
    if (base2 == base && offset2 == offset) continue;
    unlink(p, bucket);
    append(p, bucket2);
    // The new key is held before the old one is let go: they may be the same object.
    const old = p.futexBase;
    const oldOffset = p.futexOffset;
    setKey(p, base2, offset2);
    if ((oldOffset & KEY_OBJECT) != 0) releaseObject(changetype<MemoryObject>(old));
  }
  return count;
}

/**
 * The kernel's own wake of one waiter on the word at `address` (a
 * thread-id word cleared at exit, a dying owner's robust lock): a shared
 * FUTEX_WAKE, as Linux's.
 */
export function futexWakeOne(space: AddressSpace, address: u64): void {
  const key = memory.data(16, 8);
  if (futexKey(space, address, true, key)) futexWake(load<u32>(key), load<u64>(key, 8), MATCH_ANY, 1);
}
