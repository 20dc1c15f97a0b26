// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and
// epoll_pwait2. An epoll is a File whose record is its interest list
// (fs/epoll_set.ts); epoll_wait asks each item's file what it is ready for
// (readiness.ts), as poll does, and sleeps a step at a time until one is
// or the timeout ends. Level-triggered by default; EPOLLET reports events
// not seen at the item's last look, EPOLLONESHOT disables the item after
// one report until EPOLL_CTL_MOD.
import { EpollSet, ITEM_DISABLED, Item, addItem, findItem, newEpollSet, removeItem, upwardDepth } from "../fs/epoll_set";
import { FD_CLOEXEC, File, FileKind, O_RDWR, fileAt, installFile, isPipeFile, newFile, releaseFile } from "../fs/file";
import { POLLERR, POLLHUP } from "../fs/pipe";
import { USER_MAP_END } from "../mm/address_space";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { descriptorLimit } from "../proc/resource_limits";
import { signalPending } from "../proc/scheduler";
import { setTemporaryMask } from "../proc/signal";
import { monotonicNanoseconds } from "../time/clock";
import { isTerminalFile } from "./devices";
import { EBADF, EEXIST, EFAULT, EINTR, EINVAL, ELOOP, ENOENT, ENOMEM, EPERM } from "./errno";
import { FOREVER, badTimeout, deadlineOf, restoreMask, waitStep } from "./poll";
import { EPOLLET, EPOLLONESHOT, EPOLL_MAX_NESTS, changeStamp, itemEvents, reportable } from "./readiness";

const EPOLL_CLOEXEC: u32 = 0o2000000;
const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLL_CTL_MOD: i32 = 3;
const EPOLLEXCLUSIVE: u32 = 1 << 28;
const EPOLLWAKEUP: u32 = 1 << 29;
/** What EPOLLEXCLUSIVE may come with (Linux's EPOLLEXCLUSIVE_OK_BITS): in, out, their kinds, err, hup, wakeup, ET. */
const EXCLUSIVE_OK: u32 = 0x1 | 0x4 | 0x40 | 0x100 | POLLERR | POLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/** struct epoll_event is packed on x86-64: u32 events, u64 data. */
const EVENT_SIZE: u32 = 12;
/** Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event). */
const MAX_EVENTS: i64 = 0x7fffffff / EVENT_SIZE;

const event = memory.data(EVENT_SIZE, 8);

export function sysEpollCreate1(process: Process, flags: u32): i64 {
  if ((flags & ~EPOLL_CLOEXEC) != 0) return -EINVAL;
  const file = newFile(FileKind.Epoll, null, O_RDWR);
  if (file == null) return -ENOMEM;
  file.data = newEpollSet(changetype<u32>(file));
  if (file.data == 0) {
    releaseFile(file);
    return -ENOMEM;
  }
  const fd = installFile(process.files, file, descriptorLimit(process), (flags & EPOLL_CLOEXEC) != 0 ? FD_CLOEXEC : 0);
  if (fd < 0) releaseFile(file);
  return fd;
}

/** epoll_create: the size is only a hint, but must be positive. */
export function sysEpollCreate(process: Process, size: i32): i64 {
  return size <= 0 ? -EINVAL : sysEpollCreate1(process, 0);
}

/** Files whose readiness can change (Linux's file_can_poll): regular files, directories and plain devices cannot be watched. */
function canPoll(file: File): bool {
  const kind = file.kind;
  return isPipeFile(file) || kind == FileKind.SignalFd ||
    kind == FileKind.EventFd || kind == FileKind.Epoll || isTerminalFile(file);
}

/**
 * Whether `from` (`depth` epolls below the top of the longest chain it
 * would join) watches `target`, or has epolls deeper than Linux allows:
 * adding would make ELOOP. A chain of 5 epolls is allowed, a sixth is not.
 */
function wouldLoop(from: EpollSet, target: u32, depth: u32): bool {
  if (depth > EPOLL_MAX_NESTS) return true;
  for (let at = from.items; at != 0; at = changetype<Item>(at).next) {
    const watched = changetype<File>(changetype<Item>(at).file);
    if (watched.kind != FileKind.Epoll) continue;
    if (changetype<u32>(watched) == target || wouldLoop(changetype<EpollSet>(watched.data), target, depth + 1)) return true;
  }
  return false;
}

export function sysEpollCtl(process: Process, epfd: i64, op: i32, fd: i64, eventAddress: u64): i64 {
  const hasEvent = op != EPOLL_CTL_DEL;
  if (hasEvent && !copyFromUser(spaceOf(process), <u32>event, eventAddress, EVENT_SIZE)) return -EFAULT;
  const epoll = fileAt(process.files, epfd);
  const target = fileAt(process.files, fd);
  if (epoll == null || target == null || epoll.kind == FileKind.PathOnly || target.kind == FileKind.PathOnly) return -EBADF;
  if (!canPoll(target)) return -EPERM;
  let events = load<u32>(event);
  if (hasEvent && (events & EPOLLEXCLUSIVE) != 0) {
    if (op == EPOLL_CTL_MOD) return -EINVAL;
    if (op == EPOLL_CTL_ADD && (target.kind == FileKind.Epoll || (events & ~EXCLUSIVE_OK) != 0)) return -EINVAL;
  }
  if (epoll == target || epoll.kind != FileKind.Epoll) return -EINVAL;
  const set = changetype<EpollSet>(epoll.data);
  const key = changetype<u32>(target);
  const existing = findItem(set, key, <i32>fd);
  events |= POLLERR | POLLHUP; // always reported, as Linux
  if (op == EPOLL_CTL_ADD) {
    if (existing != 0) return -EEXIST;
    if (target.kind == FileKind.Epoll) {
      // Nothing above `epoll` may come below `target`, and the longest chain
      // through both, counting the epolls above `epoll` too, stays within Linux's depth.
      const above = upwardDepth(changetype<u32>(epoll), EPOLL_MAX_NESTS + 1);
      if (wouldLoop(changetype<EpollSet>(target.data), changetype<u32>(epoll), above + 1)) return -ELOOP;
    }
    return addItem(set, key, <i32>fd, events, load<u64>(event + 4)) ? 0 : -ENOMEM;
  }
  if (op == EPOLL_CTL_DEL) {
    if (existing == 0) return -ENOENT;
    removeItem(set, existing);
    return 0;
  }
  if (op == EPOLL_CTL_MOD) {
    if (existing == 0) return -ENOENT;
    const item = changetype<Item>(existing);
    if ((item.events & EPOLLEXCLUSIVE) != 0) return -EINVAL;
    item.events = events;
    item.data = load<u64>(event + 4);
    item.lastSeen = 0; // as Linux re-polls at MOD: events already there count as new
    item.lastStamp = changeStamp(process, target);
    item.state = 0;
    return 0;
  }
  return -EINVAL;
}

/**
 * One look at every item: reports up to `max` ready ones into user memory
 * at `events`, marking edge-triggered ones seen and disabling one-shot
 * ones. Returns how many, or -EFAULT.
 */
function collect(process: Process, set: EpollSet, events: u64, max: i32): i64 {
  let count: i32 = 0;
  for (let at = set.items; at != 0 && count < max; at = changetype<Item>(at).next) {
    const item = changetype<Item>(at);
    const ready = reportable(process, item, 1);
    if ((item.events & EPOLLET) != 0) {
      item.lastSeen = itemEvents(process, item, 1);
      item.lastStamp = changeStamp(process, changetype<File>(item.file));
    }
    if (ready == 0) continue;
    store<u32>(event, ready);
    store<u64>(event + 4, item.data);
    if (!copyToUser(spaceOf(process), events + <u64>count * EVENT_SIZE, <u32>event, EVENT_SIZE)) return count != 0 ? count : -EFAULT;
    if ((item.events & EPOLLONESHOT) != 0) item.state |= ITEM_DISABLED;
    count++;
  }
  return count;
}

function epollWait(process: Process, epfd: i64, events: u64, max: i32, deadline: u64): i64 {
  if (max <= 0 || <i64>max > MAX_EVENTS) return -EINVAL;
  const bytes = <u64>max * EVENT_SIZE;
  if (events > USER_MAP_END || bytes > USER_MAP_END - events) return -EFAULT;
  const file = fileAt(process.files, epfd);
  if (file == null) return -EBADF;
  if (file.kind != FileKind.Epoll) return -EINVAL;
  while (true) {
    const count = collect(process, changetype<EpollSet>(file.data), events, max);
    if (count != 0) return count;
    if (signalPending()) return -EINTR;
    if (!waitStep(deadline)) return 0;
  }
}

function deadlineAfter(timeoutMs: i32): u64 {
  return timeoutMs < 0 ? FOREVER : monotonicNanoseconds() + <u64>timeoutMs * 1000000;
}

export function sysEpollWait(process: Process, epfd: i64, events: u64, max: i32, timeoutMs: i32): i64 {
  return epollWait(process, epfd, events, max, deadlineAfter(timeoutMs));
}

/** The wait with `mask` in place (as pselect's), when one is given. */
function maskedWait(process: Process, epfd: i64, events: u64, max: i32, deadline: u64, mask: u64, maskSize: u64): i64 {
  if (mask != 0) {
    if (maskSize != 8) return -EINVAL;
    if (!setTemporaryMask(process, mask)) return -EFAULT;
  }
  const result = epollWait(process, epfd, events, max, deadline);
  restoreMask(process, result == -EINTR);
  return result;
}

export function sysEpollPwait(process: Process, epfd: i64, events: u64, max: i32, timeoutMs: i32, mask: u64, maskSize: u64): i64 {
  return maskedWait(process, epfd, events, max, deadlineAfter(timeoutMs), mask, maskSize);
}

/** epoll_pwait2: the timeout is a timespec, none for forever. */
export function sysEpollPwait2(process: Process, epfd: i64, events: u64, max: i32, timeout: u64, mask: u64, maskSize: u64): i64 {
  const deadline = deadlineOf(process, timeout, false);
  if (badTimeout != 0) return badTimeout;
  return maskedWait(process, epfd, events, max, deadline, mask, maskSize);
}
