// Priority-inheritance futexes (Linux's kernel/futex/pi.c): FUTEX_LOCK_PI,
// FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI and FUTEX_UNLOCK_PI. The lock word holds
// the owner's TID, FUTEX_WAITERS once someone sleeps on it, and
// FUTEX_OWNER_DIED when an owner died holding it. An uncontended lock and
// unlock never enter the kernel; these calls are the contended paths.
//
// Linux queues the waiters on an rt_mutex whose owner runs at the highest
// waiter's priority. Here there is one CPU and every thread has the same
// priority, so there is nothing to boost: "inheritance" is the FIFO queue
// of waiters, ownership tracked for each of them (lockOwner in their wait
// node, Linux's pi_state->owner) and the direct handoff at unlock, the
// lock passing to the oldest waiter without a race for it.
import { AddressSpace } from "../mm/address_space";
import { futexKey, futexKeyBase, futexKeyOffset } from "../mm/futex_key";
import { copyFromUser, putUser32 } from "../mm/user_copy";
import { MATCH_ANY, REQUEUE_PI_WAITING, futexDequeue, futexEnqueueNode, futexPassLockOwner, futexTopWaiter, futexWakeNode, ownNode } from "../proc/futex_queue";
import { FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS } from "../proc/pi_owner";
import { Process, ProcessState, findProcess, spaceOf } from "../proc/process";
import { signalPending } from "../proc/scheduler";
import { TimeBase } from "../time/clock";
import { EAGAIN, EDEADLK, EFAULT, EINVAL, EPERM, ERESTARTNOINTR, ESRCH, ETIMEDOUT } from "./errno";
import { deadlinePassed, futexSleep } from "./futex_sleep";

/** Whether `tid` names a thread that has not exited (Linux's attach_to_pi_owner finding a task not FUTEX_STATE_DEAD). */
function liveThread(tid: u32): bool {
  const thread = findProcess(tid);
  return thread != null && thread.state != ProcessState.Zombie && thread.state != ProcessState.Dead;
}

let attachedOwner: u32 = 0;

/** The TID piLockAtomic's caller now waits for (when it answered 0). */
export function piLockOwner(): u32 {
  return attachedOwner;
}

/**
 * Linux's futex_lock_pi_atomic, for thread `tid`, on the word at `address`
 * of `space` with key (keyBase, keyOffset): 1 when the word was free (0,
 * or FUTEX_OWNER_DIED alone: the dead owner's lock is taken over, the bit
 * kept for the new owner to see) and is now `tid`'s (with FUTEX_WAITERS
 * if `setWaiters`); 0 when held, the owner in piLockOwner() and
 * FUTEX_WAITERS set so that its unlock comes to the kernel. EDEADLK: `tid`
 * owns it; ESRCH: the word names no live thread; EINVAL: plain waiters on
 * the word; EFAULT.
 */
export function piLockAtomic(space: AddressSpace, address: u64, keyBase: u32, keyOffset: u64, tid: u32, setWaiters: bool): i64 {
  const word = memory.data(4, 4);
  if (!copyFromUser(space, <u32>word, address, 4)) return -EFAULT;
  const value = load<u32>(word);
  if ((value & FUTEX_TID_MASK) == tid) return -EDEADLK;
  const top = futexTopWaiter(keyBase, keyOffset);
  if (top != null) {
    // Waiters already: the owner is the one they wait for (Linux's attach_to_pi_state).
    if (top.lockOwner == 0 || top.lockOwner == REQUEUE_PI_WAITING) return -EINVAL;
    attachedOwner = top.lockOwner;
    return 0;
  }
  if ((value & FUTEX_TID_MASK) == 0) {
    return putUser32(space, address, (value & FUTEX_OWNER_DIED) | tid | (setWaiters ? FUTEX_WAITERS : 0)) ? 1 : -EFAULT;
  }
  // The first waiter (Linux sets FUTEX_WAITERS even for a trylock).
  const owner = value & FUTEX_TID_MASK;
  if (!liveThread(owner)) return -ESRCH;
  if (!putUser32(space, address, value | FUTEX_WAITERS)) return -EFAULT;
  attachedOwner = owner;
  return 0;
}

/**
 * FUTEX_LOCK_PI, FUTEX_LOCK_PI2 and FUTEX_TRYLOCK_PI: piLockAtomic, and if
 * the lock is held the caller queues behind the other waiters until it is
 * handed the lock. A signal restarts the call after any handler
 * (-ERESTARTNOINTR, as Linux: the deadline is absolute); FUTEX_TRYLOCK_PI
 * says EAGAIN rather than wait.
 */
export function lockPi(process: Process, address: u64, shared: bool, deadline: u64, base: TimeBase, trylock: bool): i64 {
  const space = spaceOf(process);
  const key = memory.data(16, 8);
  if (!futexKey(space, address, shared, key)) return -EFAULT;
  const keyBase = futexKeyBase(key);
  const keyOffset = futexKeyOffset(key);
  const taken = piLockAtomic(space, address, keyBase, keyOffset, process.pid, false);
  if (taken != 0) return taken < 0 ? taken : 0;
  if (trylock) return -EAGAIN;
  if (deadlinePassed(deadline, base)) return -ETIMEDOUT;
  futexEnqueueNode(ownNode(process), process, keyBase, keyOffset, MATCH_ANY, attachedOwner);
  return awaitPiLock(process, address, deadline, base, true);
}

/**
 * Sleeps (at once if `sleepFirst`), queued as a PI waiter, until handed the
 * lock (0), the deadline (ETIMEDOUT) or a signal (-ERESTARTNOINTR), and
 * leaves the queue. A wake by nothing it waits for sleeps on in its place.
 * `address` is the lock word's, in its own space.
 */
export function awaitPiLock(process: Process, address: u64, deadline: u64, base: TimeBase, sleepFirst: bool): i64 {
  const node = ownNode(process);
  let sleep = sleepFirst;
  while (true) {
    if (sleep) {
      futexSleep(process, deadline, base);
      process.sleepBase = 0;
    }
    sleep = true;
    if (node.base == 0) return 0; // FUTEX_UNLOCK_PI or a requeue handed it over, the word already the caller's
    if (node.lockOwner == process.pid) {
      futexDequeue(process);
      return takeDeadOwnersLock(process, address);
    }
    if (deadlinePassed(deadline, base)) {
      futexDequeue(process);
      return -ETIMEDOUT;
    }
    if (signalPending()) {
      futexDequeue(process);
      return -ERESTARTNOINTR;
    }
  }
}

/**
 * The caller was handed the lock of an owner that exited (exit_pi_state_list,
 * proc/pi_owner.ts) and now writes itself into the word with
 * FUTEX_OWNER_DIED, as Linux's fixup_pi_state_owner for an owner gone:
 * until then the word named no live thread, and its node kept other
 * lockers waiting for it.
 */
function takeDeadOwnersLock(process: Process, address: u64): i64 {
  return putUser32(spaceOf(process), address, FUTEX_OWNER_DIED | FUTEX_WAITERS | process.pid) ? 0 : -EFAULT;
}

/**
 * Linux's futex_unlock_pi: EPERM unless the word names the caller; the
 * oldest waiter becomes the owner (FUTEX_WAITERS | its TID, as Linux: its
 * own unlock comes here again and finds whether others wait), else the
 * word becomes 0.
 */
export function unlockPi(process: Process, address: u64, shared: bool): i64 {
  const space = spaceOf(process);
  const key = memory.data(16, 8);
  const word = memory.data(4, 4);
  if (!futexKey(space, address, shared, key)) return -EFAULT;
  if (!copyFromUser(space, <u32>word, address, 4)) return -EFAULT;
  if ((load<u32>(word) & FUTEX_TID_MASK) != process.pid) return -EPERM;
  const top = futexTopWaiter(futexKeyBase(key), futexKeyOffset(key));
  if (top == null) return putUser32(space, address, 0) ? 0 : -EFAULT;
  if (top.lockOwner == 0 || top.lockOwner == REQUEUE_PI_WAITING) return -EINVAL;
  const next = changetype<Process>(top.owner).pid;
  if (!putUser32(space, address, FUTEX_WAITERS | next)) return -EFAULT;
  futexPassLockOwner(top, process.pid, next);
  futexWakeNode(top);
  return 0;
}
