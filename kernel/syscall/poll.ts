// poll, ppoll, select and pselect6 over pipes, the console, files and
// devices. Readiness is asked of each descriptor (readiness.ts); when none
// is ready the caller sleeps until something may have made one ready (a
// pipe, an eventfd, terminal input), a signal (EINTR), its timeout, or
// 10 ms at most, and asks again.
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from "../fs/pipe";
import { kfree, kmalloc } from "../mm/slab";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { sleepAsPoller } from "../lib/wait";
import { Process, spaceOf } from "../proc/process";
import { signalPending } from "../proc/scheduler";
import { restoreTemporaryMask, setTemporaryMask } from "../proc/signal";
import { monotonicNanoseconds, tscAfter } from "../time/clock";
import { EBADF, EFAULT, EINTR, EINVAL, ENOMEM } from "./errno";
import { descriptorLimit } from "../proc/resource_limits";
import { POLLNVAL, POLLPRI, eventsOf } from "./readiness";

const POLL_STEP: u64 = 10000000; // 10 ms
export const FOREVER: u64 = U64.MAX_VALUE;

/**
 * Sleeps until a file may have become ready (lib/wait.ts's wakePollers),
 * `deadline` (monotonic ns) or at most one step, for what wakes no poller
 * (a blocked signal for a signalfd); false once the deadline has passed.
 */
export function waitStep(deadline: u64): bool {
  const now = monotonicNanoseconds();
  if (deadline != FOREVER && now >= deadline) return false;
  const step = deadline == FOREVER ? POLL_STEP : min(POLL_STEP, deadline - now);
  sleepAsPoller(tscAfter(step));
  return true;
}

/**
 * A relative timespec (a timeval when `micro`) as an absolute deadline in
 * monotonic nanoseconds, FOREVER for none; a bad one sets badTimeout to
 * -EFAULT or -EINVAL.
 */
export let badTimeout: i64 = 0;
export function deadlineOf(process: Process, timeout: u64, micro: bool): u64 {
  badTimeout = 0;
  if (timeout == 0) return FOREVER;
  const value = memory.data(16, 8);
  if (!copyFromUser(spaceOf(process), <u32>value, timeout, 16)) {
    badTimeout = -EFAULT;
    return 0;
  }
  const seconds = load<i64>(value);
  const fraction = load<i64>(value + 8);
  if (seconds < 0 || fraction < 0 || fraction >= (micro ? 1000000 : 1000000000)) {
    badTimeout = -EINVAL;
    return 0;
  }
  return monotonicNanoseconds() + <u64>seconds * 1000000000 + <u64>fraction * (micro ? 1000 : 1);
}

/** Restores the mask unless a handler is about to run (then rt_sigreturn restores it). */
export function restoreMask(process: Process, interrupted: bool): void {
  if (!interrupted) restoreTemporaryMask(process);
}

function pollFds(process: Process, fds: u64, count: u64, deadline: u64): i64 {
  if (count > <u64>descriptorLimit(process)) return -EINVAL; // as Linux: more than RLIMIT_NOFILE
  const bytes = <u32>count * 8;
  // The request's own copy: the call sleeps, so no shared buffer.
  const table = count == 0 ? 0 : kmalloc(bytes);
  if (count != 0 && table == 0) return -ENOMEM;
  if (count != 0 && !copyFromUser(spaceOf(process), table, fds, bytes)) {
    kfree(table);
    return -EFAULT;
  }
  let ready: i64 = 0;
  while (true) {
    ready = 0;
    for (let i: u32 = 0; i < <u32>count; i++) {
      const entry = table + i * 8;
      const fd = load<i32>(entry);
      let revents: u32 = 0;
      if (fd >= 0) {
        const events = eventsOf(process, fd);
        revents = events & (<u32>load<u16>(entry + 4) | POLLERR | POLLHUP | POLLNVAL);
      }
      store<u16>(entry + 6, <u16>revents);
      if (revents != 0) ready++;
    }
    if (ready != 0) break;
    if (signalPending()) {
      ready = -EINTR;
      break;
    }
    if (!waitStep(deadline)) break;
  }
  if (count != 0) {
    const ok = copyToUser(spaceOf(process), fds, table, bytes);
    kfree(table);
    if (!ok) return -EFAULT;
  }
  return ready;
}

export function sysPoll(process: Process, fds: u64, count: u64, timeoutMs: i64): i64 {
  const deadline = timeoutMs < 0 ? FOREVER : monotonicNanoseconds() + <u64>timeoutMs * 1000000;
  return pollFds(process, fds, count, deadline);
}

export function sysPpoll(process: Process, fds: u64, count: u64, timeout: u64, mask: u64, maskSize: u64): i64 {
  const deadline = deadlineOf(process, timeout, false);
  if (badTimeout != 0) return badTimeout;
  if (mask != 0) {
    if (maskSize != 8) return -EINVAL;
    if (!setTemporaryMask(process, mask)) return -EFAULT;
  }
  const result = pollFds(process, fds, count, deadline);
  restoreMask(process, result == -EINTR);
  return result;
}

const FD_SET_BYTES: u32 = 128; // 1024 descriptors

/** select's three sets, each copied in whole before anything is looked at. */
function selectSets(process: Process, count: i64, sets: u32, read: u64, write: u64, except: u64, deadline: u64): i64 {
  if (count < 0 || count > 1024) return -EINVAL;
  const bytes = <u32>((count + 63) / 64) * 8;
  const pointers = memory.data(24, 8);
  store<u64>(pointers, read);
  store<u64>(pointers + 8, write);
  store<u64>(pointers + 16, except);
  for (let s: u32 = 0; s < 3; s++) {
    memory.fill(sets + s * FD_SET_BYTES, 0, FD_SET_BYTES);
    const user = load<u64>(pointers + s * 8);
    if (user != 0 && !copyFromUser(spaceOf(process), sets + s * FD_SET_BYTES, user, bytes)) return -EFAULT;
  }
  const results = sets + 3 * FD_SET_BYTES;
  let ready: i64 = 0;
  while (true) {
    memory.fill(results, 0, 3 * FD_SET_BYTES);
    ready = 0;
    for (let fd: u32 = 0; fd < <u32>count; fd++) {
      const byte = fd / 8;
      const bit = <u8>(<u32>1 << (fd & 7));
      const wanted = (load<u8>(sets + byte) | load<u8>(sets + FD_SET_BYTES + byte) | load<u8>(sets + 2 * FD_SET_BYTES + byte)) & bit;
      if (wanted == 0) continue;
      const events = eventsOf(process, fd);
      if ((events & POLLNVAL) != 0) return -EBADF;
      const readable = (load<u8>(sets + byte) & bit) != 0 && (events & (POLLIN | POLLHUP | POLLERR)) != 0;
      const writable = (load<u8>(sets + FD_SET_BYTES + byte) & bit) != 0 && (events & (POLLOUT | POLLERR)) != 0;
      const exceptional = (load<u8>(sets + 2 * FD_SET_BYTES + byte) & bit) != 0 && (events & POLLPRI) != 0;
      if (readable) store<u8>(results + byte, load<u8>(results + byte) | bit);
      if (writable) store<u8>(results + FD_SET_BYTES + byte, load<u8>(results + FD_SET_BYTES + byte) | bit);
      if (exceptional) store<u8>(results + 2 * FD_SET_BYTES + byte, load<u8>(results + 2 * FD_SET_BYTES + byte) | bit);
      ready += (readable ? 1 : 0) + (writable ? 1 : 0) + (exceptional ? 1 : 0);
    }
    if (ready != 0) break;
    if (signalPending()) return -EINTR;
    if (!waitStep(deadline)) break;
  }
  for (let s: u32 = 0; s < 3; s++) {
    const user = load<u64>(pointers + s * 8);
    if (user != 0 && !copyToUser(spaceOf(process), user, results + s * FD_SET_BYTES, bytes)) return -EFAULT;
  }
  return ready;
}

function select(process: Process, count: i64, read: u64, write: u64, except: u64, deadline: u64): i64 {
  const sets = kmalloc(6 * FD_SET_BYTES); // the call sleeps: its own buffers
  if (sets == 0) return -ENOMEM;
  const result = selectSets(process, count, sets, read, write, except, deadline);
  kfree(sets);
  return result;
}

/** Writes back how much of a select timeout is left, as Linux does. */
function putRemaining(process: Process, timeout: u64, deadline: u64, micro: bool): void {
  if (timeout == 0 || deadline == FOREVER) return;
  const now = monotonicNanoseconds();
  const left = deadline > now ? deadline - now : 0;
  const value = memory.data(16, 8);
  store<u64>(value, left / 1000000000);
  store<u64>(value + 8, micro ? (left % 1000000000) / 1000 : left % 1000000000);
  copyToUser(spaceOf(process), timeout, <u32>value, 16);
}

export function sysSelect(process: Process, count: i64, read: u64, write: u64, except: u64, timeout: u64): i64 {
  const deadline = deadlineOf(process, timeout, true);
  if (badTimeout != 0) return badTimeout;
  const result = select(process, count, read, write, except, deadline);
  putRemaining(process, timeout, deadline, true);
  return result;
}

/** pselect6: a timespec, and the mask as { pointer, size }. */
export function sysPselect6(process: Process, count: i64, read: u64, write: u64, except: u64, timeout: u64, mask: u64): i64 {
  const deadline = deadlineOf(process, timeout, false);
  if (badTimeout != 0) return badTimeout;
  if (mask != 0) {
    const pair = memory.data(16, 8);
    if (!copyFromUser(spaceOf(process), <u32>pair, mask, 16)) return -EFAULT;
    if (load<u64>(pair) != 0) {
      if (load<u64>(pair + 8) != 8) return -EINVAL;
      if (!setTemporaryMask(process, load<u64>(pair))) return -EFAULT;
    }
  }
  const result = select(process, count, read, write, except, deadline);
  restoreMask(process, result == -EINTR);
  putRemaining(process, timeout, deadline, false);
  return result;
}
