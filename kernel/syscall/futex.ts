// futex: FUTEX_WAIT and FUTEX_WAKE (and their _BITSET forms with the
// match-any bitset), private or shared. A futex is known by the physical
// address of its word, so processes sharing a page (MAP_SHARED) meet on
// it; with one thread per process a private futex is the same thing.
// Waits end on a wake, a signal (EINTR) or the timeout (ETIMEDOUT).
import { PAGE_SIZE } from "../mm/frame";
import { copyFromUser, userPage } from "../mm/user_copy";
import { Process, ProcessState, spaceOf } from "../proc/process";
import { signalPending, wakeUpSome, yieldToScheduler } from "../proc/scheduler";
import { monotonicNanoseconds, realtimeNanoseconds, tscAfter } from "../time/clock";
import { EAGAIN, EFAULT, EINTR, EINVAL, ENOSYS, ETIMEDOUT } from "./errno";

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const MATCH_ANY: u32 = 0xffffffff;

/** The physical address of the futex word (0: EFAULT). */
function keyOf(process: Process, address: u64): u32 {
  const page = userPage(spaceOf(process), address, false);
  return page == 0 ? 0 : page + <u32>(address & (PAGE_SIZE - 1));
}

/**
 * How long to wait, in nanoseconds from now (FOREVER without a timeout): a
 * relative timespec for FUTEX_WAIT, an absolute one on the chosen clock for
 * FUTEX_WAIT_BITSET. Negative: an errno.
 */
const FOREVER: i64 = I64.MAX_VALUE;

function timeoutOf(process: Process, timeout: u64, absolute: bool, realtime: bool): i64 {
  if (timeout == 0) return FOREVER;
  const spec = memory.data(16, 8);
  if (!copyFromUser(spaceOf(process), <u32>spec, timeout, 16)) return -EFAULT;
  const seconds = load<i64>(spec);
  const nanoseconds = load<i64>(spec + 8);
  if (seconds < 0 || nanoseconds < 0 || nanoseconds >= 1000000000) return -EINVAL;
  const total = <u64>seconds * 1000000000 + <u64>nanoseconds;
  if (!absolute) return <i64>min(total, <u64>FOREVER - 1);
  const now = realtime ? realtimeNanoseconds() : monotonicNanoseconds();
  return total > now ? <i64>(total - now) : 0;
}

function wait(process: Process, address: u64, expected: u32, timeout: u64, absolute: bool, realtime: bool): i64 {
  const word = memory.data(4, 4);
  if (!copyFromUser(spaceOf(process), <u32>word, address, 4)) return -EFAULT;
  const wait = timeoutOf(process, timeout, absolute, realtime);
  if (wait < 0) return wait;
  if (load<u32>(word) != expected) return -EAGAIN;
  const key = keyOf(process, address);
  if (key == 0) return -EFAULT;
  if (wait == 0) return -ETIMEDOUT;
  if (signalPending()) return -EINTR;
  process.state = ProcessState.Sleeping;
  process.waitChannel = key;
  process.wakeAt = wait != FOREVER ? tscAfter(<u64>wait) : 0;
  yieldToScheduler();
  const wokenByWake = process.waitChannel == 0;
  process.waitChannel = 0;
  process.wakeAt = 0;
  if (wokenByWake) return 0;
  return signalPending() ? -EINTR : -ETIMEDOUT;
}

export function sysFutex(process: Process, address: u64, operation: u64, value: u64, timeout: u64, bitset: u64): i64 {
  const command = <u32>operation & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const realtime = (<u32>operation & FUTEX_CLOCK_REALTIME) != 0;
  if ((address & 3) != 0) return -EINVAL;
  if (realtime && command != FUTEX_WAIT_BITSET) return -ENOSYS; // as Linux: the clock choice is for the bitset wait only
  if (command == FUTEX_WAIT) return wait(process, address, <u32>value, timeout, false, false);
  if (command == FUTEX_WAIT_BITSET || command == FUTEX_WAKE_BITSET) {
    if (<u32>bitset == 0) return -EINVAL;
    if (<u32>bitset != MATCH_ANY) return -ENOSYS; // waking only some waiters by bitset is not supported yet
    if (command == FUTEX_WAIT_BITSET) return wait(process, address, <u32>value, timeout, true, realtime);
  }
  if (command == FUTEX_WAKE || command == FUTEX_WAKE_BITSET) {
    const key = keyOf(process, address);
    if (key == 0) return -EFAULT;
    return wakeUpSome(key, <u32>min(value, <u64>0x7fffffff));
  }
  return -ENOSYS; // requeue, wake-op and the priority-inheritance operations are not supported yet
}
