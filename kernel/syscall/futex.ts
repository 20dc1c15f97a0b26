// futex(2) as Linux's kernel/futex: FUTEX_WAIT, FUTEX_WAKE and their
// _BITSET forms, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE and FUTEX_WAKE_OP, private
// or shared, with FUTEX_CLOCK_REALTIME for FUTEX_WAIT_BITSET and
// FUTEX_LOCK_PI2 and FUTEX_WAIT_REQUEUE_PI; the PI locks themselves are
// futex_pi.ts's, their condition variables futex_requeue_pi.ts's. Keys
// are mm/futex_key.ts's, the queues proc/futex_queue.ts's.
import { AddressSpace } from "../mm/address_space";
import { futexKey, futexKeyBase, futexKeyOffset } from "../mm/futex_key";
import { copyFromUser } from "../mm/user_copy";
import { MATCH_ANY, futexDequeue, futexEnqueue, futexRequeue, futexWake } from "../proc/futex_queue";
import { Process, spaceOf } from "../proc/process";
import { signalPending } from "../proc/scheduler";
import { TimeBase } from "../time/clock";
import { EAGAIN, EFAULT, EINTR, EINVAL, ENOSYS, ERESTART_RESTARTBLOCK, ETIMEDOUT } from "./errno";
import { futexAtomicOp } from "./futex_op";
import { lockPi, unlockPi } from "./futex_pi";
import { cmpRequeuePi, waitRequeuePi } from "./futex_requeue_pi";
import { NO_DEADLINE, deadlinePassed, futexSleep, readDeadline } from "./futex_sleep";

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_LOCK_PI: u32 = 6;
const FUTEX_UNLOCK_PI: u32 = 7;
const FUTEX_TRYLOCK_PI: u32 = 8;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
const FUTEX_CMP_REQUEUE_PI: u32 = 12;
const FUTEX_LOCK_PI2: u32 = 13;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
/**
 * Linux's futex_wait: sleeps while the word at `address` holds `expected`
 * until a wake whose bitset meets `bitset`, the deadline, or a signal.
 * An untimed wait a signal ends says -EINTR, which the dispatcher turns
 * into a restart of the call (Linux's -ERESTARTSYS) unless a handler
 * without SA_RESTART runs. A timed one says -ERESTART_RESTARTBLOCK: EINTR
 * if any handler runs, else restart_syscall waits again to the same
 * deadline (Linux's futex_wait_restart), which sleepBase and sleepDeadline
 * keep, so that a deadline on CLOCK_REALTIME also moves with clock_settime.
 */
function wait(process: Process, address: u64, shared: bool, expected: u32, deadline: u64, base: TimeBase, bitset: u32): i64 {
  if (bitset == 0) return -EINVAL;
  const timed = deadline != NO_DEADLINE;
  const result = sleepOnWord(process, address, shared, expected, deadline, base, bitset);
  if (result == -EINTR && timed) {
    process.sleepBase = base;
    process.sleepDeadline = deadline;
    process.restartFutex = address | (shared ? 1 : 0);
    process.restartValue = expected;
    process.restartBitset = bitset;
    return -ERESTART_RESTARTBLOCK;
  }
  process.sleepBase = 0;
  return result;
}

function sleepOnWord(process: Process, address: u64, shared: bool, expected: u32, deadline: u64, base: TimeBase, bitset: u32): i64 {
  const space = spaceOf(process);
  const key = memory.data(16, 8);
  const word = memory.data(4, 4);
  while (true) {
    // The key is taken out of the scratch buffer before anything that may fault.
    if (!futexKey(space, address, shared, key)) return -EFAULT;
    const keyBase = futexKeyBase(key);
    const keyOffset = futexKeyOffset(key);
    if (!copyFromUser(space, <u32>word, address, 4)) return -EFAULT;
    if (load<u32>(word) != expected) return -EAGAIN;
    if (deadlinePassed(deadline, base)) return -ETIMEDOUT;
    futexEnqueue(process, keyBase, keyOffset, bitset);
    futexSleep(process, deadline, base);
    if (!futexDequeue(process)) return 0; // a wake took it off the queue
    if (deadlinePassed(deadline, base)) return -ETIMEDOUT;
    if (signalPending()) return -EINTR;
    // Woken by nothing it waits for: wait on.
  }
}

/** restart_syscall after a timed wait a signal with no handler to run interrupted (a stop and continue): the same wait. */
export function futexWaitRestart(process: Process): i64 {
  const word = process.restartFutex;
  process.restartFutex = 0;
  return wait(process, word & ~(<u64>1), (word & 1) != 0, process.restartValue, process.sleepDeadline, <TimeBase>process.sleepBase, process.restartBitset);
}

/** The keys of `first` and `second`, into key1 and key2; false: EFAULT. */
function twoKeys(space: AddressSpace, first: u64, second: u64, shared: bool, key1: usize, key2: usize): bool {
  return futexKey(space, first, shared, key1) && futexKey(space, second, shared, key2);
}

/** FUTEX_REQUEUE and FUTEX_CMP_REQUEUE (with `compare`: EAGAIN unless the word at `address` holds `expected`). */
function requeue(process: Process, address: u64, shared: bool, wakeCount: i32, moveCount: i32, second: u64, compare: bool, expected: u32): i64 {
  if (wakeCount < 0 || moveCount < 0 || (second & 3) != 0) return -EINVAL;
  const space = spaceOf(process);
  const key1 = memory.data(16, 8);
  const key2 = memory.data(16, 8);
  if (!twoKeys(space, address, second, shared, key1, key2)) return -EFAULT;
  if (compare) {
    const word = memory.data(4, 4);
    if (!copyFromUser(space, <u32>word, address, 4)) return -EFAULT;
    if (load<u32>(word) != expected) return -EAGAIN;
  }
  return futexRequeue(futexKeyBase(key1), futexKeyOffset(key1), futexKeyBase(key2), futexKeyOffset(key2), wakeCount, moveCount);
}

/** FUTEX_WAKE_OP: modify the word at `second`, wake on `address`, and on `second` too if the old value compares true. */
function wakeOp(process: Process, address: u64, shared: bool, wakeCount: i32, wakeCount2: i32, second: u64, encoded: u32): i64 {
  const space = spaceOf(process);
  const key1 = memory.data(16, 8);
  const key2 = memory.data(16, 8);
  if (!twoKeys(space, address, second, shared, key1, key2)) return -EFAULT;
  const condition = futexAtomicOp(space, second, encoded);
  if (condition < 0) return condition;
  const woken = futexWake(futexKeyBase(key1), futexKeyOffset(key1), MATCH_ANY, wakeCount);
  if (woken < 0 || condition == 0) return woken;
  const woken2 = futexWake(futexKeyBase(key2), futexKeyOffset(key2), MATCH_ANY, wakeCount2);
  return woken2 < 0 ? woken2 : woken + woken2;
}

function wake(process: Process, address: u64, shared: bool, count: i32, bitset: u32): i64 {
  if (bitset == 0) return -EINVAL;
  const key = memory.data(16, 8);
  if (!futexKey(spaceOf(process), address, shared, key)) return -EFAULT;
  return futexWake(futexKeyBase(key), futexKeyOffset(key), bitset, count);
}

/** futex(uaddr, op, val, timeout or val2, uaddr2, val3): the checks in Linux's order. */
export function sysFutex(process: Process, address: u64, operation: u64, value: u64, timeout: u64, second: u64, third: u64): i64 {
  const op = <u32>operation;
  const command = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const shared = (op & FUTEX_PRIVATE_FLAG) == 0;
  // FUTEX_LOCK_PI's deadline is always on CLOCK_REALTIME, as Linux's.
  const base = (op & FUTEX_CLOCK_REALTIME) != 0 || command == FUTEX_LOCK_PI ? TimeBase.Realtime : TimeBase.Monotonic;
  if ((op & FUTEX_CLOCK_REALTIME) != 0 && command != FUTEX_WAIT_BITSET && command != FUTEX_LOCK_PI2 && command != FUTEX_WAIT_REQUEUE_PI) return -ENOSYS; // as Linux
  const deadline = memory.data(8, 8);
  if (command == FUTEX_WAIT || command == FUTEX_WAIT_BITSET || command == FUTEX_LOCK_PI || command == FUTEX_LOCK_PI2 || command == FUTEX_WAIT_REQUEUE_PI) {
    const error = readDeadline(process, timeout, command == FUTEX_WAIT, base, deadline);
    if (error != 0) return error;
  }
  if ((address & 3) != 0) return -EINVAL;
  const count = <i32>value; // an int in Linux: a value of 2^31 or more is negative
  const count2 = <i32>timeout; // val2 travels in the timeout argument
  switch (command) {
    case FUTEX_WAIT: return wait(process, address, shared, <u32>value, load<u64>(deadline), base, MATCH_ANY);
    case FUTEX_WAIT_BITSET: return wait(process, address, shared, <u32>value, load<u64>(deadline), base, <u32>third);
    case FUTEX_WAKE: return wake(process, address, shared, count, MATCH_ANY);
    case FUTEX_WAKE_BITSET: return wake(process, address, shared, count, <u32>third);
    case FUTEX_REQUEUE: return requeue(process, address, shared, count, count2, second, false, 0);
    case FUTEX_CMP_REQUEUE: return requeue(process, address, shared, count, count2, second, true, <u32>third);
    case FUTEX_WAKE_OP: return (second & 3) != 0 ? -EINVAL : wakeOp(process, address, shared, count, count2, second, <u32>third);
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2: return lockPi(process, address, shared, load<u64>(deadline), base, false);
    case FUTEX_TRYLOCK_PI: return lockPi(process, address, shared, NO_DEADLINE, base, true);
    case FUTEX_UNLOCK_PI: return unlockPi(process, address, shared);
    case FUTEX_WAIT_REQUEUE_PI: return waitRequeuePi(process, address, shared, <u32>value, load<u64>(deadline), base, second);
    case FUTEX_CMP_REQUEUE_PI: return cmpRequeuePi(process, address, shared, count, count2, second, <u32>third);
  }
  return -ENOSYS;
}
