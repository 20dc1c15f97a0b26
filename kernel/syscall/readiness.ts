// What an open file is ready for now, in poll's bits (epoll's are the
// same): the one answer poll, select and epoll share. Files and devices
// are always ready, as on Linux; the terminal is readable as its line
// discipline says (a whole line in canonical mode); an epoll is readable
// while one of its items would be reported.
import { ttyReadable } from "../drivers/tty_queue";
import { EpollSet, ITEM_DISABLED, Item } from "../fs/epoll_set";
import { File, FileKind, O_ACCMODE, O_RDONLY, O_WRONLY, fileAt, isPipeFile } from "../fs/file";
import { POLLERR, POLLHUP, POLLIN, POLLOUT, Pipe, pipePollEvents } from "../fs/pipe";
import { Process } from "../proc/process";
import { pendingSignalsOf } from "../proc/signal_queue";
import { isTerminalFile } from "./devices";
import { eventfdChanges, eventfdEvents } from "./eventfd";
import { signalfdReadable } from "./signalfd";

export const POLLNVAL: u32 = 0x20;
export const POLLPRI: u32 = 0x2;
export const POLLRDNORM: u32 = 0x40;
export const POLLWRNORM: u32 = 0x100;
export const EPOLLONESHOT: u32 = 1 << 30;
export const EPOLLET: u32 = 1 << 31;
/** Linux's EP_MAX_NESTS: how deep epolls may watch epolls (deeper is ELOOP at EPOLL_CTL_ADD). */
export const EPOLL_MAX_NESTS: u32 = 4;

/** The events descriptor `fd` has now (POLLNVAL for a closed one), before masking by what was asked. */
export function eventsOf(process: Process, fd: i64): u32 {
  const file = fileAt(process.files, fd);
  return file == null ? POLLNVAL : eventsOfFile(process, file, 0);
}

/** The events of an open file; `depth` counts the epolls above it. */
export function eventsOfFile(process: Process, file: File, depth: u32): u32 {
  if (isPipeFile(file)) {
    // What each end it holds sees: a FIFO opened O_RDWR holds both.
    const mode = file.flags & O_ACCMODE;
    const pipe = changetype<Pipe>(file.data);
    const events = (mode != O_WRONLY ? pipePollEvents(pipe, false) : 0) | (mode != O_RDONLY ? pipePollEvents(pipe, true) : 0);
    return events | ((events & POLLIN) != 0 ? POLLRDNORM : 0) | ((events & POLLOUT) != 0 ? POLLWRNORM : 0);
  }
  if (isTerminalFile(file)) return (ttyReadable() ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM;
  if (file.kind == FileKind.SignalFd) return signalfdReadable(process, file) ? POLLIN | POLLRDNORM : 0;
  if (file.kind == FileKind.EventFd) return eventfdEvents(file);
  if (file.kind == FileKind.Epoll) {
    // EPOLL_CTL_ADD keeps every chain within this depth; the bound is for safety only.
    if (depth > EPOLL_MAX_NESTS) return 0;
    const set = changetype<EpollSet>(file.data);
    for (let at = set.items; at != 0; at = changetype<Item>(at).next) {
      if (reportable(process, changetype<Item>(at), depth + 1) != 0) return POLLIN | POLLRDNORM;
    }
    return 0;
  }
  return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
}

/** The asked events (always EPOLLERR and EPOLLHUP) an epoll item's file has now; 0 once a one-shot item has reported. */
export function itemEvents(process: Process, item: Item, depth: u32): u32 {
  if ((item.state & ITEM_DISABLED) != 0) return 0;
  return eventsOfFile(process, changetype<File>(item.file), depth) & (item.events | POLLERR | POLLHUP) & ~(EPOLLET | EPOLLONESHOT);
}

/**
 * A count that moves whenever the file wakes its waiters (Linux queues an
 * edge-triggered item at each such wake-up, not only when readiness
 * rises): data in or out of a pipe or eventfd, the signals pending for a
 * signalfd. Other files report only rises.
 */
export function changeStamp(process: Process, file: File): u32 {
  if (isPipeFile(file)) return changetype<Pipe>(file.data).changes;
  if (file.kind == FileKind.EventFd) return eventfdChanges(file);
  if (file.kind == FileKind.SignalFd) {
    const pending = pendingSignalsOf(process) & load<u64>(file.data);
    return <u32>pending ^ <u32>(pending >> 32);
  }
  return 0;
}

/** What epoll_wait would report for the item: edge-triggered, only after a rise or a change since the last look. */
export function reportable(process: Process, item: Item, depth: u32): u32 {
  const events = itemEvents(process, item, depth);
  if ((item.events & EPOLLET) == 0 || events == 0) return events;
  const fresh = (events & ~item.lastSeen) != 0 || changeStamp(process, changetype<File>(item.file)) != item.lastStamp;
  return fresh ? events : 0;
}
