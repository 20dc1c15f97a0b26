// The record of one pending signal, apart from the queue that holds it
// (signal_queue.ts) so that POSIX timers, which keep one of their own
// (posix_timer.ts), and the queue, which tells them when it is taken, need
// not import each other.

/**
 * One pending signal: the siginfo fields a handler or sigwaitinfo sees.
 *
 *   0 next  4 signal  8 code (si_code)
 *  12 timer: the POSIX timer this entry belongs to (taking it is news to the timer, and frees nothing), or 0
 *  16 first(u64): siginfo bytes 16-23 (si_pid and si_uid; si_addr; a timer's id and overrun)
 *  24 second(u64): siginfo bytes 24-31 (si_value; a child's si_status)
 */
@unmanaged export class SignalInfo {
  next: u32;
  signal: u32;
  code: i32;
  timer: u32;
  first: u64;
  second: u64;
}
export const SIGNAL_INFO_SIZE: u32 = 32;

/** Writes the siginfo `info` stands for at `into` (a zeroed 128-byte siginfo_t): si_signo, si_code and the union's first 16 bytes. */
export function storeSiginfo(into: u32, info: SignalInfo): void {
  store<i32>(into, <i32>info.signal);
  store<i32>(into + 8, info.code);
  store<u64>(into + 16, info.first);
  store<u64>(into + 24, info.second);
}
