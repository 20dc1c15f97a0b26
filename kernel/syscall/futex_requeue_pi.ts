// FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI (Linux's
// kernel/futex/requeue.c): a condition variable whose mutex is a PI lock.
// A waiter sleeps on the condition word naming the lock it will need; a
// signal or broadcast moves the waiters onto that lock, giving it at once
// to the oldest when it is free, so that none of them wakes only to
// block on the mutex again.
import { futexKey, futexKeyBase, futexKeyOffset } from "../mm/futex_key";
import { copyFromUser } from "../mm/user_copy";
import { MATCH_ANY, REQUEUE_PI_WAITING, futexDequeue, futexEnqueueNode, futexRequeuePi, futexTopWaiter, futexWakeNode, ownNode } from "../proc/futex_queue";
import { Process, spaceOf } from "../proc/process";
import { signalPending } from "../proc/scheduler";
import { TimeBase } from "../time/clock";
import { EAGAIN, EFAULT, EINVAL, ERESTARTNOINTR, ETIMEDOUT } from "./errno";
import { awaitPiLock, piLockAtomic, piLockOwner } from "./futex_pi";
import { deadlinePassed, futexSleep } from "./futex_sleep";

/**
 * Linux's futex_wait_requeue_pi: waits on the word at `address` while it
 * holds `expected` (EAGAIN if not), until FUTEX_CMP_REQUEUE_PI gives it
 * the PI lock at `second` (0, the lock the caller's) or moves it to wait
 * for that lock. Before the move, a timeout is ETIMEDOUT and a signal
 * restarts the call after any handler (-ERESTARTNOINTR), a wake by
 * anything else EAGAIN; after it, a signal is EAGAIN (the restart would
 * find the word changed), as Linux.
 */
export function waitRequeuePi(process: Process, address: u64, shared: bool, expected: u32, deadline: u64, base: TimeBase, second: u64): i64 {
  if (address == second || (second & 3) != 0) return -EINVAL;
  const space = spaceOf(process);
  const key = memory.data(16, 8);
  // The lock's key is compared, never followed: it holds no reference.
  if (!futexKey(space, second, shared, key)) return -EFAULT;
  const lockBase = futexKeyBase(key);
  const lockOffset = futexKeyOffset(key);
  if (!futexKey(space, address, shared, key)) return -EFAULT;
  const keyBase = futexKeyBase(key);
  const keyOffset = futexKeyOffset(key);
  const word = memory.data(4, 4);
  if (!copyFromUser(space, <u32>word, address, 4)) return -EFAULT;
  if (load<u32>(word) != expected) return -EAGAIN;
  if (keyBase == lockBase && keyOffset == lockOffset) return -EINVAL;
  process.requeuePiBase = lockBase;
  process.requeuePiOffset = lockOffset;
  const node = ownNode(process);
  futexEnqueueNode(node, process, keyBase, keyOffset, MATCH_ANY, REQUEUE_PI_WAITING);
  futexSleep(process, deadline, base);
  process.sleepBase = 0;
  if (node.lockOwner == REQUEUE_PI_WAITING) { // still on the condition word
    futexDequeue(process);
    if (deadlinePassed(deadline, base)) return -ETIMEDOUT;
    return signalPending() ? -ERESTARTNOINTR : -EAGAIN;
  }
  // Moved to wait for the lock (or handed it): a signal now is EAGAIN.
  const result = awaitPiLock(process, second, deadline, base, false);
  return result == -ERESTARTNOINTR ? -EAGAIN : result;
}

/**
 * Linux's futex_requeue with requeue_pi: with the word at `address`
 * holding `expected` (EAGAIN if not), the lock at `second` is taken for
 * the oldest FUTEX_WAIT_REQUEUE_PI waiter if free (it wakes owning it),
 * and `moveCount` more waiters (one more if the lock was held) move to
 * wait for the lock. Returns how many were woken or moved. EINVAL: a wake
 * count but 1, a negative move count, one word for both, a waiter of
 * another kind or for another lock.
 */
export function cmpRequeuePi(process: Process, address: u64, shared: bool, wakeCount: i32, moveCount: i32, second: u64, expected: u32): i64 {
  if (wakeCount != 1 || moveCount < 0 || (second & 3) != 0) return -EINVAL;
  const space = spaceOf(process);
  const key = memory.data(16, 8);
  if (!futexKey(space, address, shared, key)) return -EFAULT;
  const keyBase = futexKeyBase(key);
  const keyOffset = futexKeyOffset(key);
  if (!futexKey(space, second, shared, key)) return -EFAULT;
  const lockBase = futexKeyBase(key);
  const lockOffset = futexKeyOffset(key);
  if (keyBase == lockBase && keyOffset == lockOffset) return -EINVAL;
  const word = memory.data(4, 4);
  if (!copyFromUser(space, <u32>word, address, 4)) return -EFAULT;
  if (load<u32>(word) != expected) return -EAGAIN;
  const top = futexTopWaiter(keyBase, keyOffset);
  if (top == null) return 0;
  const waiter = changetype<Process>(top.owner);
  if (top.lockOwner != REQUEUE_PI_WAITING || waiter.requeuePiBase != lockBase || waiter.requeuePiOffset != lockOffset) return -EINVAL;
  // Linux's futex_proxy_trylock_atomic: the lock taken on the top waiter's
  // behalf, with FUTEX_WAITERS when others may be moved behind it.
  const taken = piLockAtomic(space, second, lockBase, lockOffset, waiter.pid, moveCount > 0);
  if (taken < 0) return taken;
  if (taken == 1) {
    top.lockOwner = waiter.pid;
    futexWakeNode(top);
    const moved = futexRequeuePi(keyBase, keyOffset, lockBase, lockOffset, <i64>moveCount, waiter.pid);
    return moved < 0 ? moved : moved + 1;
  }
  return futexRequeuePi(keyBase, keyOffset, lockBase, lockOffset, <i64>moveCount + 1, piLockOwner());
}
