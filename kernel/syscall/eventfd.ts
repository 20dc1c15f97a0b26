// eventfd and eventfd2: a descriptor over a 64-bit counter. A read takes
// the whole count and resets it (EFD_SEMAPHORE: takes 1), waiting while it
// is 0; a write adds, waiting while the sum would pass 0xfffffffffffffffe.
// Readers and writers sleep on the counter's record and wake each other.
import { FD_CLOEXEC, File, FileKind, O_NONBLOCK, O_RDWR, installFile, newFile, releaseFile } from "../fs/file";
import { POLLIN, POLLOUT } from "../fs/pipe";
import { kmalloc } from "../mm/slab";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { descriptorLimit } from "../proc/resource_limits";
import { wakePollers } from "../lib/wait";
import { signalPending, sleepOn, wakeUp } from "../proc/scheduler";
import { EAGAIN, EFAULT, EINTR, EINVAL, ENOMEM } from "./errno";

const EFD_SEMAPHORE: u32 = 1;
const EFD_NONBLOCK: u32 = O_NONBLOCK;
const EFD_CLOEXEC: u32 = 0o2000000;
/** The counter never holds more (Linux's ULLONG_MAX - 1): a write that would pass it waits. */
const COUNT_MAX: u64 = 0xfffffffffffffffe;

/** The record in a File's `data`: 0 count(u64)  8 semaphore (EFD_SEMAPHORE mode)  12 changes (each read and write: for EPOLLET) */
@unmanaged class Counter {
  count: u64;
  semaphore: u32;
  changes: u32;
}
const COUNTER_SIZE: u32 = 16;

const value = memory.data(8, 8);

export function sysEventfd2(process: Process, initial: u32, flags: u32): i64 {
  if ((flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)) != 0) return -EINVAL;
  const file = newFile(FileKind.EventFd, null, O_RDWR | (flags & EFD_NONBLOCK));
  if (file == null) return -ENOMEM;
  file.data = kmalloc(COUNTER_SIZE);
  if (file.data == 0) {
    releaseFile(file);
    return -ENOMEM;
  }
  const counter = changetype<Counter>(file.data);
  counter.count = <u64>initial;
  counter.semaphore = flags & EFD_SEMAPHORE;
  const fd = installFile(process.files, file, descriptorLimit(process), (flags & EFD_CLOEXEC) != 0 ? FD_CLOEXEC : 0);
  if (fd < 0) releaseFile(file);
  return fd;
}

/** poll: readable while the count is not 0, writable while 1 more fits. */
export function eventfdEvents(file: File): u32 {
  const count = changetype<Counter>(file.data).count;
  return (count != 0 ? POLLIN : 0) | (count < COUNT_MAX ? POLLOUT : 0);
}

/** How many reads and writes the counter has had: a change an edge-triggered epoll item reports. */
export function eventfdChanges(file: File): u32 {
  return changetype<Counter>(file.data).changes;
}

/** Sleeps on the counter until woken; false (EINTR) if a signal came or is pending. */
function waitForChange(file: File): bool {
  if (signalPending()) return false;
  sleepOn(file.data);
  return !signalPending();
}

export function readEventfd(process: Process, file: File, buffer: u64, count: u64, nonBlocking: bool): i64 {
  if (count < 8) return -EINVAL;
  const counter = changetype<Counter>(file.data);
  while (counter.count == 0) {
    if (nonBlocking) return -EAGAIN;
    if (!waitForChange(file)) return -EINTR;
  }
  const taken = counter.semaphore != 0 ? 1 : counter.count;
  counter.count -= taken;
  counter.changes++;
  wakeUp(file.data); // writers waiting for room
  wakePollers();
  store<u64>(value, taken);
  return copyToUser(spaceOf(process), buffer, <u32>value, 8) ? 8 : -EFAULT;
}

export function writeEventfd(process: Process, file: File, buffer: u64, count: u64, nonBlocking: bool): i64 {
  if (count < 8) return -EINVAL;
  if (!copyFromUser(spaceOf(process), <u32>value, buffer, 8)) return -EFAULT;
  const added = load<u64>(value);
  if (added == U64.MAX_VALUE) return -EINVAL;
  const counter = changetype<Counter>(file.data);
  while (added > COUNT_MAX - counter.count) {
    if (nonBlocking) return -EAGAIN;
    if (!waitForChange(file)) return -EINTR;
  }
  counter.count += added;
  counter.changes++;
  wakeUp(file.data); // readers waiting for a count
  wakePollers();
  return 8;
}
