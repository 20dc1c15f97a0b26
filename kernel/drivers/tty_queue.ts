// The console's input queue, as Linux's n_tty keeps it: one ring of what
// the line discipline (tty.ts) has received, the end of the complete lines
// (canonical mode reads only those), and a mark on each line's last byte.
// read() takes at most one line in canonical mode (a VEOF at a line's
// start reads as end of file), and follows VMIN and VTIME otherwise; poll
// and FIONREAD see the queue the same way.
import { AddressSpace } from "../mm/address_space";
import { copyToUser } from "../mm/user_copy";
import { signalPending, sleepOn, sleepOnUntil, wakePollers, wakeUp } from "../lib/wait";
import { monotonicNanoseconds, tscAfter } from "../time/clock";
import { ICANON, VMIN, VTIME, controlCharacter, localFlag } from "./termios";

const BUFFER_SIZE: u32 = 4096; // n_tty's N_TTY_BUF_SIZE
const MASK: u32 = BUFFER_SIZE - 1;
const ring = <u32>memory.data(BUFFER_SIZE);
// A bit per ring slot: the last byte of a line. A marked NUL is a VEOF,
// which ends the line but is never read (NUL is never a control character).
const lineEnds = <u32>memory.data(BUFFER_SIZE / 8);
// Free-running counters; a slot is counter & MASK.
let readTail: u32 = 0; // the next byte read() takes
let canonHead: u32 = 0; // the end of the complete lines (canonical mode)
let readHead: u32 = 0; // the end of what has been received
let lineStart: u32 = 0; // where the line read() is partway through began
const channel = memory.data(4, 4); // what readers sleep on

export const TTY_INTERRUPTED: i64 = -1;
export const TTY_FAULT: i64 = -2;
export const TTY_WOULD_BLOCK: i64 = -3; // EAGAIN: no input yet, and the reader does not wait
const EOF_PUSHED: i64 = -4; // a VEOF ended a line already partly read: read on

@inline function byteAt(counter: u32): u32 {
  return <u32>load<u8>(ring + (counter & MASK));
}

@inline function endsLine(counter: u32): bool {
  const at = counter & MASK;
  return (<u32>load<u8>(lineEnds + at / 8) & (<u32>1 << (at & 7))) != 0;
}

function markLineEnd(counter: u32, end: bool): void {
  const at = counter & MASK;
  const cell = lineEnds + at / 8;
  const bit = <u8>(<u32>1 << (at & 7));
  store<u8>(cell, end ? load<u8>(cell) | bit : load<u8>(cell) & ~bit);
}

/** Whether one more byte fits; in canonical mode an `ordinary` one leaves room for the byte that ends the line. */
export function roomFor(ordinary: bool): bool {
  return readHead - readTail < (ordinary && localFlag(ICANON) ? BUFFER_SIZE - 1 : BUFFER_SIZE);
}

/** Appends a byte (the caller made sure of the room); raw-mode readers look at once. */
export function queueByte(c: u32): void {
  store<u8>(ring + (readHead & MASK), <u8>c);
  markLineEnd(readHead, false);
  readHead++;
  if (!localFlag(ICANON)) wakeReaders();
}

/** Ends a line with `c` (0 for VEOF): it becomes readable in canonical mode. */
export function endLine(c: u32): void {
  if (!roomFor(false)) return;
  queueByte(c);
  markLineEnd(readHead - 1, true);
  canonHead = readHead;
  wakeReaders();
}

/** The bytes of the line being typed (after the complete lines). */
export function lineLength(): u32 {
  return readHead - canonHead;
}

/** Byte `index` of the line being typed. */
export function lineByte(index: u32): u32 {
  return byteAt(canonHead + index);
}

/** Erasing: the line being typed keeps its first `length` bytes. */
export function truncateLine(length: u32): void {
  readHead = canonHead + length;
}

/** Throws away all pending input (TCIFLUSH, TCSETSF, a signal key without NOFLSH). */
export function flushInput(): void {
  readTail = canonHead = readHead = lineStart = 0;
  memory.fill(lineEnds, 0, BUFFER_SIZE / 8);
}

/**
 * ICANON was switched. On, it makes what is pending one readable line, as
 * Linux does; off, everything pending is readable anyway.
 */
export function canonicalSwitched(): void {
  memory.fill(lineEnds, 0, BUFFER_SIZE / 8);
  lineStart = readTail;
  if (!localFlag(ICANON) || readHead == readTail) {
    canonHead = readTail;
  } else {
    markLineEnd(readHead - 1, true);
    canonHead = readHead;
  }
}

/** Readers, and poll's waiters, look again (input came, or the settings changed). */
export function wakeReaders(): void {
  wakeUp(<u32>channel);
  wakePollers();
}

/** Bytes read() can take now (FIONREAD): complete lines without their VEOFs in canonical mode, all of it otherwise. */
export function ttyPendingBytes(): u32 {
  if (!localFlag(ICANON)) return readHead - readTail;
  let count: u32 = 0;
  for (let at = readTail; at != canonHead; at++) if (!endsLine(at) || byteAt(at) != 0) count++;
  return count;
}

/** Whether a read would not wait (poll): a whole line (or VEOF) in canonical mode, VMIN bytes otherwise. */
export function ttyReadable(): bool {
  if (localFlag(ICANON)) return canonHead != readTail;
  const needed: u32 = controlCharacter(VTIME) != 0 ? 1 : max(controlCharacter(VMIN), 1);
  return readHead - readTail >= needed;
}

/** Copies `n` ring bytes from readTail to user memory (in two pieces where the ring wraps). */
function copyOut(space: AddressSpace, to: u64, n: u32): bool {
  const at = readTail & MASK;
  const first = min(n, BUFFER_SIZE - at);
  if (!copyToUser(space, to, ring + at, first)) return false;
  return n == first || copyToUser(space, to + first, ring, n - first);
}

/** Canonical read: the rest of the first line, or `count` bytes of it; its VEOF is consumed, never copied. */
function readLine(space: AddressSpace, to: u64, count: u64): i64 {
  const n = <u32>min(count, <u64>(canonHead - readTail));
  let length: u32 = 0;
  let found = false;
  while (length < n && !found) found = endsLine(readTail + length++);
  let copied = length;
  let pushed = false;
  if (found && byteAt(readTail + length - 1) == 0) {
    copied--;
    pushed = copied == 0 && readTail != lineStart;
  }
  if (copied > 0 && !copyOut(space, to, copied)) return TTY_FAULT;
  if (found) markLineEnd(readTail + length - 1, false);
  readTail += length;
  if (found) lineStart = readTail;
  return pushed ? EOF_PUSHED : <i64>copied;
}

/** Raw read: what is pending, up to `count` bytes. */
function readPending(space: AddressSpace, to: u64, count: u64): i64 {
  const n = <u32>min(count, <u64>(readHead - readTail));
  if (!copyOut(space, to, n)) return TTY_FAULT;
  readTail += n;
  return n;
}

const FOREVER: u64 = U64.MAX_VALUE;
const TENTH_OF_A_SECOND: u64 = 100000000; // ns: VTIME's unit

/**
 * read() on the console. Canonical mode: one line (0 at end of input).
 * Otherwise VMIN and VTIME as on Linux: VMIN > 0 waits for VMIN bytes
 * (or `count`), and with VTIME > 0 for at most VTIME tenths of a second
 * after each byte once one has come; VMIN 0 returns what is there,
 * waiting up to VTIME for a first byte (not at all with VTIME 0). Bytes
 * already copied are returned when a wait is cut short.
 */
export function ttyRead(space: AddressSpace, to: u64, count: u64, nonblocking: bool): i64 {
  if (count == 0) return 0;
  let minimum: u64 = 0;
  let interval: u64 = 0; // VMIN > 0: VTIME's inter-byte timer
  let deadline = FOREVER; // monotonic ns
  if (!localFlag(ICANON)) {
    const time = <u64>controlCharacter(VTIME) * TENTH_OF_A_SECOND;
    minimum = <u64>controlCharacter(VMIN);
    if (minimum != 0) {
      interval = time;
    } else {
      minimum = 1;
      deadline = monotonicNanoseconds() + time;
    }
  }
  let done: u64 = 0;
  let result: i64 = 0;
  while (done < count) {
    const canonical = localFlag(ICANON);
    if ((canonical ? canonHead : readHead) == readTail) {
      const now = monotonicNanoseconds();
      if (deadline != FOREVER && now >= deadline) break;
      if (nonblocking) {
        result = TTY_WOULD_BLOCK;
        break;
      }
      if (signalPending()) {
        result = TTY_INTERRUPTED;
        break;
      }
      if (deadline == FOREVER) sleepOn(<u32>channel);
      else sleepOnUntil(<u32>channel, tscAfter(deadline - now));
      continue;
    }
    const n = canonical ? readLine(space, to + done, count - done) : readPending(space, to + done, count - done);
    if (n == EOF_PUSHED) continue;
    if (n < 0) {
      result = n;
      break;
    }
    done += <u64>n;
    if (canonical || done >= minimum) break;
    if (interval != 0) deadline = monotonicNanoseconds() + interval;
  }
  return done > 0 ? <i64>done : result;
}
