// The futex wait queues (Linux's futex_hash_bucket): wait nodes hashed by
// their key (mm/futex_key.ts) into buckets, each a FIFO list, so that a
// wake looks only at waiters whose keys hash alike and wakes them oldest
// first. A node is Linux's futex_q: a thread waiting on one key uses the
// node embedded in its Process record (FUTEX_WAIT, FUTEX_LOCK_PI), so those
// waits allocate nothing; futex_waitv, on several keys at once, queues a
// node of its own per key (futexWaitvNodes), each naming the thread. A
// waiter on a memory object's key holds the object while queued, so the
// key cannot be reused by another object while anyone waits on it.
import { AddressSpace } from "../mm/address_space";
import { KEY_OBJECT, futexKey, futexKeyBase, futexKeyOffset } from "../mm/futex_key";
import { MemoryObject, releaseObject, retainObject } from "../mm/memory_object";
import { Process, ProcessState } from "./process";
import { makeRunnable } from "./scheduler";

const BUCKETS: u32 = 256;
const buckets = memory.data(256 * 8, 8); // per bucket: head, tail (FutexWaiter addresses)

/** FUTEX_BITSET_MATCH_ANY: what FUTEX_WAIT and FUTEX_WAKE use. */
export const MATCH_ANY: u32 = 0xffffffff;
const EINVAL: i32 = 22;

/**
 * One waiter on one key. Its first six fields are also the Process
 * record's futexBase..futexLockOwner (process.ts), the node of a thread's
 * single-key wait.
 */
@unmanaged export class FutexWaiter {
  base: u32; // 0: not queued
  bitset: u32;
  offset: u64;
  next: u32;
  previous: u32;
  owner: u32; // the waiting thread
  lockOwner: u32; // a PI waiter: the lock's owner (its TID); its own TID once handed the lock; REQUEUE_PI_WAITING; 0: neither
}
/** lockOwner of a FUTEX_WAIT_REQUEUE_PI waiter not yet moved to its PI lock (no TID is this large). */
export const REQUEUE_PI_WAITING: u32 = 0xffffffff;
export const FUTEX_WAITER_SIZE: u32 = offsetof<FutexWaiter>();

/** The node embedded in `p`'s record. */
@inline export function ownNode(p: Process): FutexWaiter {
  return changetype<FutexWaiter>(changetype<usize>(p) + offsetof<Process>("futexBase"));
}

function bucketOf(base: u32, offset: u64): usize {
  const mixed = (<u64>base * 0x9e3779b97f4a7c15) ^ (offset * 0xc2b2ae3d27d4eb4f);
  return buckets + <usize>(<u32>(mixed >> 56) & (BUCKETS - 1)) * 8;
}

@inline function matches(n: FutexWaiter, base: u32, offset: u64): bool {
  return n.base == base && n.offset == offset;
}

function append(n: FutexWaiter, bucket: usize): void {
  const tail = load<u32>(bucket, 4);
  n.next = 0;
  n.previous = tail;
  if (tail == 0) store<u32>(bucket, changetype<u32>(n));
  else changetype<FutexWaiter>(tail).next = changetype<u32>(n);
  store<u32>(bucket, changetype<u32>(n), 4);
}

function unlink(n: FutexWaiter, bucket: usize): void {
  if (n.previous == 0) store<u32>(bucket, n.next);
  else changetype<FutexWaiter>(n.previous).next = n.next;
  if (n.next == 0) store<u32>(bucket, n.previous, 4);
  else changetype<FutexWaiter>(n.next).previous = n.previous;
  n.next = 0;
  n.previous = 0;
}

function setKey(n: FutexWaiter, base: u32, offset: u64): void {
  if ((offset & KEY_OBJECT) != 0) retainObject(changetype<MemoryObject>(base));
  n.base = base;
  n.offset = offset;
}

function clearKey(n: FutexWaiter): void {
  const base = n.base;
  const offset = n.offset;
  n.base = 0;
  n.offset = 0;
  if ((offset & KEY_OBJECT) != 0) releaseObject(changetype<MemoryObject>(base));
}

/** Queues node `n` of thread `owner` last among the waiters on the key. */
export function futexEnqueueNode(n: FutexWaiter, owner: Process, base: u32, offset: u64, bitset: u32, lockOwner: u32): void {
  setKey(n, base, offset);
  n.bitset = bitset;
  n.owner = changetype<u32>(owner);
  n.lockOwner = lockOwner;
  append(n, bucketOf(base, offset));
}

/** Queues `p` (about to sleep) last among the waiters on the key, through its own node. */
export function futexEnqueue(p: Process, base: u32, offset: u64, bitset: u32): void {
  futexEnqueueNode(ownNode(p), p, base, offset, bitset, 0);
}

/**
 * Takes node `n` off its queue after its sleep. True: it was still queued
 * (a signal or the timeout ended the sleep); false: a wake took it off first.
 */
export function futexDequeueNode(n: FutexWaiter): bool {
  if (n.base == 0) return false;
  unlink(n, bucketOf(n.base, n.offset));
  clearKey(n);
  return true;
}

/** futexDequeueNode for `p`'s own node. */
export function futexDequeue(p: Process): bool {
  return futexDequeueNode(ownNode(p));
}

/** Makes the sleeping owner of `n` runnable, leaving `n` where it is. */
export function rouse(n: FutexWaiter): void {
  const p = changetype<Process>(n.owner);
  // A waiter a signal or its timeout already made runnable is woken all
  // the same (its call then returns as woken, as in Linux), but it is on
  // the run queue once only.
  if (p.state == ProcessState.Sleeping) {
    p.wakeAt = 0;
    makeRunnable(p);
  }
}

function wakeWaiter(n: FutexWaiter, bucket: usize): void {
  unlink(n, bucket);
  clearKey(n);
  rouse(n);
}

/**
 * Wakes waiters on the key whose bitset meets `bitset`, oldest first, and
 * returns how many. As Linux's futex_wake, a count below 1 still wakes one,
 * and a FUTEX_LOCK_PI waiter met on the way is -EINVAL (a PI lock is
 * released with FUTEX_UNLOCK_PI only).
 */
export function futexWake(base: u32, offset: u64, bitset: u32, count: i32): i32 {
  const bucket = bucketOf(base, offset);
  let woken: i32 = 0;
  let at = load<u32>(bucket);
  while (at != 0) {
    const n = changetype<FutexWaiter>(at);
    at = n.next;
    if (!matches(n, base, offset)) continue;
    if (n.lockOwner != 0) return -EINVAL;
    if ((n.bitset & bitset) == 0) continue;
    wakeWaiter(n, bucket);
    if (++woken >= count) break;
  }
  return woken;
}

/**
 * Linux's futex_requeue for plain futexes: the first `wakeCount` waiters on
 * key 1 are woken, the next `moveCount` move to key 2, behind its own
 * waiters (in place when it is key 1 again), keeping their bitsets.
 * Returns how many were woken or moved; a PI waiter on key 1 is -EINVAL.
 */
export function futexRequeue(base: u32, offset: u64, base2: u32, offset2: u64, wakeCount: i32, moveCount: i32): i32 {
  const bucket = bucketOf(base, offset);
  const last = load<u32>(bucket, 4); // waiters moved in behind it (bucket 2 may be bucket 1) are not looked at again
  let count: i32 = 0;
  let at = load<u32>(bucket);
  while (at != 0 && count - wakeCount < moveCount) {
    const n = changetype<FutexWaiter>(at);
    at = at == last ? 0 : n.next;
    if (!matches(n, base, offset)) continue;
    if (n.lockOwner != 0) return -EINVAL;
    if (++count <= wakeCount) {
      wakeWaiter(n, bucket);
      continue;
    }
    if (base2 != base || offset2 != offset) moveNode(n, bucket, base2, offset2, 0);
  }
  return count;
}

/** Moves `n` behind the waiters on key 2, as a PI waiter for `lockOwner`. */
function moveNode(n: FutexWaiter, bucket: usize, base2: u32, offset2: u64, lockOwner: u32): void {
  unlink(n, bucket);
  append(n, bucketOf(base2, offset2));
  // The new key is held before the old one is let go: they may be the same object.
  const old = n.base;
  const oldOffset = n.offset;
  setKey(n, base2, offset2);
  if ((oldOffset & KEY_OBJECT) != 0) releaseObject(changetype<MemoryObject>(old));
  n.lockOwner = lockOwner;
}

/**
 * FUTEX_CMP_REQUEUE_PI's requeue (Linux's futex_requeue with requeue_pi):
 * the oldest FUTEX_WAIT_REQUEUE_PI waiters on key 1, `count` at most,
 * become PI waiters on key 2 for `lockOwner`. Returns how many moved, or
 * -EINVAL at a waiter of another kind or waiting to move elsewhere.
 */
export function futexRequeuePi(base: u32, offset: u64, base2: u32, offset2: u64, count: i64, lockOwner: u32): i64 {
  const bucket = bucketOf(base, offset);
  const last = load<u32>(bucket, 4); // waiters moved in behind it (bucket 2 may be bucket 1) are not looked at again
  let moved: i64 = 0;
  let at = load<u32>(bucket);
  while (at != 0 && moved < count) {
    const n = changetype<FutexWaiter>(at);
    at = at == last ? 0 : n.next;
    if (!matches(n, base, offset)) continue;
    const waiter = changetype<Process>(n.owner);
    if (n.lockOwner != REQUEUE_PI_WAITING || waiter.requeuePiBase != base2 || waiter.requeuePiOffset != offset2) return -EINVAL;
    moveNode(n, bucket, base2, offset2, lockOwner);
    moved++;
  }
  return moved;
}

/** The oldest waiter on the key (Linux's futex_top_waiter), or null. */
export function futexTopWaiter(base: u32, offset: u64): FutexWaiter | null {
  for (let at = load<u32>(bucketOf(base, offset)); at != 0; at = changetype<FutexWaiter>(at).next) {
    if (matches(changetype<FutexWaiter>(at), base, offset)) return changetype<FutexWaiter>(at);
  }
  return null;
}

/** Every PI waiter on `n`'s key queued behind `n` that waits for `from` waits for `to` now. */
export function futexPassLockOwner(n: FutexWaiter, from: u32, to: u32): void {
  for (let at = n.next; at != 0; at = changetype<FutexWaiter>(at).next) {
    const other = changetype<FutexWaiter>(at);
    if (matches(other, n.base, n.offset) && other.lockOwner == from) other.lockOwner = to;
  }
}

/**
 * Takes `n` off its queue and wakes its thread (FUTEX_UNLOCK_PI's
 * handoff: the lock is already the thread's).
 */
export function futexWakeNode(n: FutexWaiter): void {
  wakeWaiter(n, bucketOf(n.base, n.offset));
}

/**
 * The oldest PI waiter, on the first key found, waiting for a lock `pid`
 * owns (for exit_pi_state_list), or null.
 */
export function futexFirstLockOwnedBy(pid: u32): FutexWaiter | null {
  for (let bucket = buckets; bucket < buckets + BUCKETS * 8; bucket += 8) {
    for (let at = load<u32>(bucket); at != 0; at = changetype<FutexWaiter>(at).next) {
      if (changetype<FutexWaiter>(at).lockOwner == pid) return changetype<FutexWaiter>(at);
    }
  }
  return null;
}

/**
 * The kernel's own wake of one waiter on the word at `address` (a
 * thread-id word cleared at exit, a dying owner's robust lock): a shared
 * FUTEX_WAKE, as Linux's.
 */
export function futexWakeOne(space: AddressSpace, address: u64): void {
  const key = memory.data(16, 8);
  if (futexKey(space, address, true, key)) futexWake(futexKeyBase(key), futexKeyOffset(key), MATCH_ANY, 1);
}
