// futex_waitv(2) (Linux's kernel/futex/syscalls.c and waitwake.c's
// futex_wait_multiple): one wait on up to 128 futexes, ended by a wake on
// any of them, whose index it returns. Each futex has a wait node of its
// own (proc/futex_queue.ts), allocated for the call.
import { futexKey } from "../mm/futex_key";
import { kfree, kmalloc } from "../mm/slab";
import { copyFromUser } from "../mm/user_copy";
import { FUTEX_WAITER_SIZE, FutexWaiter, MATCH_ANY, futexDequeueNode, futexEnqueueNode } from "../proc/futex_queue";
import { Process, spaceOf } from "../proc/process";
import { signalPending } from "../proc/scheduler";
import { TimeBase } from "../time/clock";
import { EAGAIN, EFAULT, EINTR, EINVAL, ENOMEM, ETIMEDOUT } from "./errno";
import { deadlinePassed, futexSleep, readDeadline } from "./futex_sleep";

const FUTEX_WAITV_MAX: u32 = 128;
const WAITV_SIZE: u32 = 24; // struct futex_waitv: val (u64), uaddr (u64), flags, __reserved
const FUTEX2_SIZE_MASK: u32 = 3;
const FUTEX2_SIZE_U32: u32 = 2;
const FUTEX2_PRIVATE: u32 = 128;
const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
// Per futex, after the nodes: its address (u64), expected value, flags, and key (base at 16, offset at 24).
const ENTRY_SIZE: u32 = 32;

@inline function node(block: u32, i: u32): FutexWaiter {
  return changetype<FutexWaiter>(block + i * FUTEX_WAITER_SIZE);
}

/**
 * Reads the array into the entries and takes each futex's key, in order:
 * EFAULT (unreadable, or no key), EINVAL (flags other than FUTEX2_PRIVATE
 * and FUTEX2_SIZE_U32, or without it; __reserved set; a value wider than
 * 32 bits; a misaligned address). As Linux, every key is taken before any
 * value is compared.
 */
function readWaiters(process: Process, waiters: u64, count: u32, entries: u32): i64 {
  const space = spaceOf(process);
  const item = memory.data(24, 8);
  for (let i: u32 = 0; i < count; i++) {
    if (!copyFromUser(space, <u32>item, waiters + <u64>i * WAITV_SIZE, WAITV_SIZE)) return -EFAULT;
    const value = load<u64>(item);
    const address = load<u64>(item, 8);
    const flags = load<u32>(item, 16);
    if ((flags & ~(FUTEX2_SIZE_MASK | FUTEX2_PRIVATE)) != 0 || load<u32>(item, 20) != 0) return -EINVAL;
    if ((flags & FUTEX2_SIZE_MASK) != FUTEX2_SIZE_U32 || value > U32.MAX_VALUE) return -EINVAL;
    const entry = entries + i * ENTRY_SIZE;
    store<u64>(entry, address);
    store<u32>(entry, <u32>value, 8);
    store<u32>(entry, flags, 12);
  }
  for (let i: u32 = 0; i < count; i++) {
    const entry = entries + i * ENTRY_SIZE;
    const address = load<u64>(entry);
    if ((address & 3) != 0) return -EINVAL;
    if (!futexKey(space, address, (load<u32>(entry, 12) & FUTEX2_PRIVATE) == 0, entry + 16)) return -EFAULT;
  }
  return 0;
}

/** Takes every node still queued off its queue: the index of the last one a wake took off first, or -1. */
function unqueueAll(block: u32, count: u32): i64 {
  let woken: i64 = -1;
  for (let i: u32 = 0; i < count; i++) if (!futexDequeueNode(node(block, i))) woken = i;
  return woken;
}

/**
 * Linux's futex_wait_multiple: queues on every futex whose word holds its
 * value (EAGAIN at the first that does not, nothing left queued) and
 * sleeps until a wake (the index of a futex woken), the deadline, or a
 * signal (-EINTR, which the dispatcher restarts as Linux's -ERESTARTSYS).
 */
function waitMultiple(process: Process, block: u32, count: u32, entries: u32, deadline: u64, base: TimeBase): i64 {
  const space = spaceOf(process);
  const word = memory.data(4, 4);
  while (true) {
    for (let i: u32 = 0; i < count; i++) {
      const entry = entries + i * ENTRY_SIZE;
      const readable = copyFromUser(space, <u32>word, load<u64>(entry), 4);
      if (!readable || load<u32>(word) != load<u32>(entry, 8)) {
        unqueueAll(block, i);
        return readable ? -EAGAIN : -EFAULT;
      }
      futexEnqueueNode(node(block, i), process, load<u32>(entry, 16), load<u64>(entry, 24), MATCH_ANY, 0);
    }
    futexSleep(process, deadline, base);
    process.sleepBase = 0;
    const woken = unqueueAll(block, count);
    if (woken >= 0) return woken;
    if (deadlinePassed(deadline, base)) return -ETIMEDOUT;
    if (signalPending()) return -EINTR;
    // Woken by nothing it waits for: wait again.
  }
}

/** futex_waitv(waiters, nr_futexes, flags, timeout, clockid): Linux's checks, in its order. */
export function sysFutexWaitv(process: Process, waiters: u64, count: u32, flags: u32, timeout: u64, clockid: i32): i64 {
  if (flags != 0) return -EINVAL; // no flags are defined yet
  if (count == 0 || count > FUTEX_WAITV_MAX || waiters == 0) return -EINVAL;
  const deadline = memory.data(8, 8);
  const base = clockid == CLOCK_REALTIME ? TimeBase.Realtime : TimeBase.Monotonic;
  if (timeout != 0 && clockid != CLOCK_REALTIME && clockid != CLOCK_MONOTONIC) return -EINVAL;
  const error = readDeadline(process, timeout, false, base, deadline);
  if (error != 0) return error;
  const block = kmalloc(count * (FUTEX_WAITER_SIZE + ENTRY_SIZE));
  if (block == 0) return -ENOMEM;
  const entries = block + count * FUTEX_WAITER_SIZE;
  let result = readWaiters(process, waiters, count, entries);
  if (result == 0) result = waitMultiple(process, block, count, entries, load<u64>(deadline), base);
  kfree(block);
  return result;
}
