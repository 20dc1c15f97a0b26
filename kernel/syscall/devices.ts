// Character devices, by Linux's numbers: the memory devices (null, zero,
// full, random, urandom: major 1) and the terminal (tty 5:0, console 5:1,
// ttyS0 4:64), which is the console's line discipline.
import { TTY_FAULT, TTY_INTERRUPTED, TTY_WOULD_BLOCK, ttyRead } from "../drivers/tty_queue";
import { OutputWait, ttyWriteBytes, waitForOutput } from "../drivers/tty_output";
import { deviceNumber } from "../fs/cpio";
import { randomU64 } from "../lib/random";
import { File, FileKind } from "../fs/file";
import { Inode } from "../fs/inode";
import { AddressSpace } from "../mm/address_space";
import { copyFromSource, copyToUser } from "../mm/user_copy";
import { EAGAIN, EFAULT, EINTR, EINVAL, ENOSPC, ENXIO } from "./errno";

export const DEV_NULL: u32 = deviceNumber(1, 3);
export const DEV_ZERO: u32 = deviceNumber(1, 5);
const DEV_FULL: u32 = deviceNumber(1, 7);
const DEV_RANDOM: u32 = deviceNumber(1, 8);
const DEV_URANDOM: u32 = deviceNumber(1, 9);
const DEV_TTY: u32 = deviceNumber(5, 0);
const DEV_CONSOLE: u32 = deviceNumber(5, 1);
/** The serial console, which the console File stands for. */
export const DEV_TTYS0: u32 = deviceNumber(4, 64);

export function isKnownDevice(rdev: u32): bool {
  return rdev == DEV_NULL || rdev == DEV_ZERO || rdev == DEV_FULL || rdev == DEV_RANDOM || rdev == DEV_URANDOM ||
    isTerminal(rdev);
}

@inline export function isTerminal(rdev: u32): bool {
  return rdev == DEV_TTY || rdev == DEV_CONSOLE || rdev == DEV_TTYS0;
}

/** The console File, or a terminal device node opened for it. */
export function isTerminalFile(file: File): bool {
  return file.kind == FileKind.Console || (file.kind == FileKind.Device && isTerminal(changetype<Inode>(file.inode).rdev));
}

const chunk = memory.data(512, 8);

/** Fills user memory with zeros or random bytes, 512 at a time. */
function fillUser(space: AddressSpace, to: u64, count: u64, random: bool): i64 {
  let done: u64 = 0;
  if (!random) memory.fill(chunk, 0, 512);
  while (done < count) {
    const n = <u32>min(count - done, <u64>512);
    if (random) for (let i: u32 = 0; i < 512; i += 8) store<u64>(chunk + i, randomU64());
    if (!copyToUser(space, to + done, <u32>chunk, n)) return done > 0 ? <i64>done : -EFAULT;
    done += n;
  }
  return <i64>done;
}

const GRND_NONBLOCK: u64 = 1;
const GRND_RANDOM: u64 = 2;
const GRND_INSECURE: u64 = 4;

/**
 * getrandom: bytes from the same generator as /dev/urandom (lib/random.ts:
 * RDRAND, or a TSC-seeded generator without it); it never blocks,
 * so GRND_NONBLOCK changes nothing. GRND_RANDOM with GRND_INSECURE is
 * EINVAL, as on Linux.
 */
export function getRandom(space: AddressSpace, to: u64, count: u64, flags: u64): i64 {
  if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) != 0) return -EINVAL;
  if ((flags & (GRND_RANDOM | GRND_INSECURE)) == (GRND_RANDOM | GRND_INSECURE)) return -EINVAL;
  return fillUser(space, to, min(count, <u64>0x1ffffff), true);
}

export function readDevice(rdev: u32, space: AddressSpace, to: u64, count: u64, nonblocking: bool): i64 {
  if (rdev == DEV_NULL) return 0;
  if (rdev == DEV_ZERO || rdev == DEV_FULL) return fillUser(space, to, count, false);
  if (rdev == DEV_RANDOM || rdev == DEV_URANDOM) return fillUser(space, to, count, true);
  if (isTerminal(rdev)) {
    const result = ttyRead(space, to, count, nonblocking);
    return result == TTY_FAULT ? -EFAULT : result == TTY_INTERRUPTED ? -EINTR : result == TTY_WOULD_BLOCK ? -EAGAIN : result;
  }
  return -ENXIO;
}

/**
 * Writes to the console through the terminal's output processing, 512
 * bytes at a time, waiting while output is stopped (Ctrl-S); the count so
 * far if a page turns out bad or the wait is cut short.
 */
export function writeConsole(space: AddressSpace | null, from: u64, count: u64, nonblocking: bool): i64 {
  let done: u64 = 0;
  while (done < count) {
    const wait = waitForOutput(nonblocking); // before `chunk` is filled: it is shared, and waiting sleeps
    if (wait != OutputWait.Ready) return done > 0 ? <i64>done : wait == OutputWait.Interrupted ? -EINTR : -EAGAIN;
    const n = <u32>min(count - done, <u64>512);
    if (!copyFromSource(space, <u32>chunk, from + done, n)) return done > 0 ? <i64>done : -EFAULT;
    ttyWriteBytes(<u32>chunk, n);
    done += n;
  }
  return <i64>done;
}

/** Writes to a character device; `space` null: the bytes are in kernel memory. */
export function writeDevice(rdev: u32, space: AddressSpace | null, from: u64, count: u64, nonblocking: bool): i64 {
  if (rdev == DEV_FULL) return -ENOSPC;
  if (isTerminal(rdev)) return writeConsole(space, from, count, nonblocking);
  if (isKnownDevice(rdev)) return <i64>count; // null, zero, random, urandom take anything
  return -ENXIO;
}
