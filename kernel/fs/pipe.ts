// Pipes: a 64 KiB ring buffer (Linux's default capacity) between a read
// end and a write end, in pages taken as data arrives and given back when
// the pipe drains. Readers sleep while it is empty (end of file once no
// writer is left), writers while it is full (EPIPE once no reader is left);
// a non-blocking end gets EAGAIN instead of sleeping. A write of at most
// PIPE_BUF bytes goes in whole or waits, never interleaved with another.
// Data moves straight between the ring and user memory, so a read into a
// copy-on-write page faults it like any other kernel write.
import { allocPage, freePages } from "../mm/buddy";
import { AddressSpace } from "../mm/address_space";
import { FrameState, PAGE_SIZE } from "../mm/frame";
import { kfree, kmalloc } from "../mm/slab";
import { copyFromSource, copyToUser } from "../mm/user_copy";
import { signalPending, sleepOn, wakePollers, wakeUp } from "../lib/wait";

const PIPE_PAGES: u32 = 16;
export const PIPE_CAPACITY: u32 = PIPE_PAGES * PAGE_SIZE;
export const PIPE_BUF: u64 = 4096; // writes up to this size are atomic (POSIX)

/**
 *   0 head (ring offset of the next byte to read)  4 count (bytes held)
 *   8 readers  12 writers  16 changes (bumped at every wake-up: what an
 *  edge-triggered epoll item compares)  20 readerOpens  24 writerOpens
 *  (FIFOs: every open counted, so that an open waiting for its partner sees
 *  one that came and went)  28 pages: PIPE_PAGES frame addresses, 0 where
 *  none is held
 */
@unmanaged export class Pipe {
  head: u32;
  count: u32;
  readers: u32;
  writers: u32;
  changes: u32;
  readerOpens: u32;
  writerOpens: u32;
}
const PAGES_OFFSET: u32 = 28;
const PIPE_SIZE: u32 = PAGES_OFFSET + PIPE_PAGES * 4;

export const PIPE_EOF: i64 = 0;
export const PIPE_FAULT: i64 = -1; // EFAULT
export const PIPE_BROKEN: i64 = -2; // EPIPE
export const PIPE_INTERRUPTED: i64 = -3; // EINTR
export const PIPE_WOULD_BLOCK: i64 = -4; // EAGAIN
export const PIPE_NO_MEMORY: i64 = -5; // ENOMEM: no page for the data

@inline function pageSlot(pipe: Pipe, index: u32): u32 {
  return changetype<u32>(pipe) + PAGES_OFFSET + index * 4;
}

/** What stat and /proc/PID/fd say a pipe is: both ends are one inode of pipefs's anonymous device, as on Linux. */
export const PIPE_DEVICE: u32 = 12;

@inline export function pipeInodeNumber(pipe: Pipe): u64 {
  return changetype<u32>(pipe);
}

/** A pipe with one reader and one writer (pipe(2)'s), or with none (a FIFO's, before its first open counts). */
export function newPipe(ends: u32 = 1): Pipe | null {
  const address = kmalloc(PIPE_SIZE);
  if (address == 0) return null;
  memory.fill(address, 0, PIPE_SIZE);
  const pipe = changetype<Pipe>(address);
  pipe.readers = ends;
  pipe.writers = ends;
  return pipe;
}

/** Gives back every page of an empty pipe: an idle pipe holds no memory. */
function releasePages(pipe: Pipe): void {
  for (let i: u32 = 0; i < PIPE_PAGES; i++) {
    const page = load<u32>(pageSlot(pipe, i));
    if (page != 0) freePages(page);
    store<u32>(pageSlot(pipe, i), 0);
  }
  pipe.head = 0;
}

/** Data moved or an end opened or closed: sleepers wake, and edge-triggered watchers see a new event. */
export function changed(pipe: Pipe): void {
  pipe.changes++;
  wakeUp(changetype<u32>(pipe));
  wakePollers();
}

/**
 * A File on the pipe closed for good: its reading end, its writing end, or
 * both (a FIFO opened O_RDWR). The pipe goes when no end is left: true then.
 */
export function closePipeEnds(pipe: Pipe, reading: bool, writing: bool): bool {
  if (reading) pipe.readers--;
  if (writing) pipe.writers--;
  changed(pipe);
  if (pipe.readers != 0 || pipe.writers != 0) return false;
  releasePages(pipe);
  kfree(changetype<u32>(pipe));
  return true;
}

export const POLLIN: u32 = 0x1;
export const POLLOUT: u32 = 0x4;
export const POLLERR: u32 = 0x8;
export const POLLHUP: u32 = 0x10;

/** What poll sees on one end of the pipe: data or end of file to read, room to write, no reader left. */
export function pipePollEvents(pipe: Pipe, writer: bool): u32 {
  if (writer) return pipe.readers == 0 ? POLLOUT | POLLERR : pipe.count < PIPE_CAPACITY ? POLLOUT : 0;
  return (pipe.count > 0 ? POLLIN : 0) | (pipe.writers == 0 ? POLLHUP : 0);
}

/** Reads what the pipe holds, up to `count` bytes, sleeping (unless `nonblocking`) while it is empty. */
export function readPipe(pipe: Pipe, space: AddressSpace, to: u64, count: u64, nonblocking: bool): i64 {
  if (count == 0) return 0;
  while (pipe.count == 0) {
    if (pipe.writers == 0) return PIPE_EOF;
    if (nonblocking) return PIPE_WOULD_BLOCK;
    if (signalPending()) return PIPE_INTERRUPTED;
    sleepOn(changetype<u32>(pipe));
  }
  const n = <u32>min(count, <u64>pipe.count);
  let done: u32 = 0;
  while (done < n) {
    const at = (pipe.head + done) % PIPE_CAPACITY;
    const inPage = at % PAGE_SIZE;
    const chunk = min(n - done, PAGE_SIZE - inPage);
    if (!copyToUser(space, to + done, load<u32>(pageSlot(pipe, at / PAGE_SIZE)) + inPage, chunk)) break;
    done += chunk;
  }
  if (done == 0) return PIPE_FAULT;
  pipe.head = (pipe.head + done) % PIPE_CAPACITY;
  pipe.count -= done;
  if (pipe.count == 0) releasePages(pipe);
  changed(pipe);
  return done;
}

/** The page holding ring offset `at`, taken now if the pipe has none there; 0 when out of memory. */
function pageFor(pipe: Pipe, at: u32): u32 {
  const slot = pageSlot(pipe, at / PAGE_SIZE);
  let page = load<u32>(slot);
  if (page == 0) {
    page = allocPage(FrameState.KernelObject, false);
    store<u32>(slot, page);
  }
  return page;
}

/** Writes `count` bytes (at `from` in `space`, or in kernel memory when it is null), sleeping (unless `nonblocking`) while the pipe is full. */
export function writePipe(pipe: Pipe, space: AddressSpace | null, from: u64, count: u64, nonblocking: bool): i64 {
  if (count == 0) return 0;
  const atomic = count <= PIPE_BUF;
  let done: u64 = 0;
  while (done < count) {
    if (pipe.readers == 0) return done > 0 ? <i64>done : PIPE_BROKEN;
    const room = PIPE_CAPACITY - pipe.count;
    if (room == 0 || (atomic && <u64>room < count)) {
      if (nonblocking) return done > 0 ? <i64>done : PIPE_WOULD_BLOCK;
      if (signalPending()) return done > 0 ? <i64>done : PIPE_INTERRUPTED;
      sleepOn(changetype<u32>(pipe));
      continue;
    }
    const at = (pipe.head + pipe.count) % PIPE_CAPACITY;
    const chunk = <u32>min(count - done, <u64>min(room, PAGE_SIZE - at % PAGE_SIZE));
    const page = pageFor(pipe, at);
    if (page == 0) return done > 0 ? <i64>done : PIPE_NO_MEMORY;
    if (!copyFromSource(space, page + at % PAGE_SIZE, from + done, chunk)) {
      if (pipe.count == 0) releasePages(pipe);
      return done > 0 ? <i64>done : PIPE_FAULT;
    }
    pipe.count += chunk;
    done += chunk;
    changed(pipe);
  }
  return <i64>done;
}
