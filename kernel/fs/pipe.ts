// Pipes: a one-page ring buffer between a read end and a write end.
// Readers sleep while it is empty (end of file once no writer is left),
// writers while it is full (EPIPE once no reader is left). Data moves
// straight between the ring and user memory, so a read into a
// copy-on-write page faults it like any other kernel write.
import { allocPage, freePages } from "../mm/buddy";
import { AddressSpace } from "../mm/address_space";
import { FrameState, PAGE_SIZE } from "../mm/frame";
import { kfree, kmalloc } from "../mm/slab";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { signalPending, sleepOn, wakeUp } from "../proc/scheduler";

/**
 *   0 buffer (one frame)  4 head (next byte to read)  8 count  12 readers  16 writers
 */
@unmanaged export class Pipe {
  buffer: u32;
  head: u32;
  count: u32;
  readers: u32;
  writers: u32;
}
const PIPE_SIZE: u32 = 20;
export const PIPE_EOF: i64 = 0;
export const PIPE_FAULT: i64 = -1; // EFAULT
export const PIPE_BROKEN: i64 = -2; // EPIPE
export const PIPE_INTERRUPTED: i64 = -3; // EINTR

export function newPipe(): Pipe | null {
  const address = kmalloc(PIPE_SIZE);
  if (address == 0) return null;
  const buffer = allocPage(FrameState.KernelObject, false);
  if (buffer == 0) {
    kfree(address);
    return null;
  }
  const pipe = changetype<Pipe>(address);
  pipe.buffer = buffer;
  pipe.readers = 1;
  pipe.writers = 1;
  return pipe;
}

/** One end closed for good (its File freed); the pipe goes when both have. */
export function closePipeEnd(pipe: Pipe, writer: bool): void {
  if (writer) pipe.writers--;
  else pipe.readers--;
  wakeUp(changetype<u32>(pipe));
  if (pipe.readers == 0 && pipe.writers == 0) {
    freePages(pipe.buffer);
    kfree(changetype<u32>(pipe));
  }
}

export function readPipe(pipe: Pipe, space: AddressSpace, to: u64, count: u64): i64 {
  if (count == 0) return 0;
  while (pipe.count == 0) {
    if (pipe.writers == 0) return PIPE_EOF;
    if (signalPending()) return PIPE_INTERRUPTED;
    sleepOn(changetype<u32>(pipe));
  }
  const n = <u32>min(count, <u64>pipe.count);
  const first = min(n, PAGE_SIZE - pipe.head);
  if (!copyToUser(space, to, pipe.buffer + pipe.head, first)) return PIPE_FAULT;
  if (n > first && !copyToUser(space, to + first, pipe.buffer, n - first)) return PIPE_FAULT;
  pipe.head = (pipe.head + n) % PAGE_SIZE;
  pipe.count -= n;
  wakeUp(changetype<u32>(pipe));
  return n;
}

export function writePipe(pipe: Pipe, space: AddressSpace, from: u64, count: u64): i64 {
  let done: u64 = 0;
  while (done < count) {
    if (pipe.readers == 0) return done > 0 ? <i64>done : PIPE_BROKEN;
    if (pipe.count == PAGE_SIZE) {
      if (signalPending()) return done > 0 ? <i64>done : PIPE_INTERRUPTED;
      sleepOn(changetype<u32>(pipe));
      continue;
    }
    const tail = (pipe.head + pipe.count) % PAGE_SIZE;
    const n = <u32>min(count - done, <u64>min(PAGE_SIZE - pipe.count, PAGE_SIZE - tail));
    if (!copyFromUser(space, pipe.buffer + tail, from + done, n)) return done > 0 ? <i64>done : PIPE_FAULT;
    pipe.count += n;
    done += n;
    wakeUp(changetype<u32>(pipe));
  }
  return <i64>done;
}
