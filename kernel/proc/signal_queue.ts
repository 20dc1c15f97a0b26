// Pending signals and what each one carries (its siginfo), in arrival
// order. A standard signal (1-31) is pending at most once: a second one
// while the first waits is merged into it, keeping the first's siginfo. A
// real-time signal (32-64) is queued once per sending, so none is lost,
// up to RLIMIT_SIGPENDING per process (Linux counts them per user, and
// every process here is root's; then sigqueue says EAGAIN; kill of a
// real-time signal still makes it pending, without its siginfo, as Linux).
// A POSIX timer queues an entry of its own, never merged: when it is taken
// or thrown away the timer hears of it, to count overruns (posix_timer.ts).
import { kfree, kmalloc } from "../mm/slab";
import { PosixTimer, timerSignalDropped, timerSignalQueued, timerSignalTaken } from "./posix_timer";
import { Process } from "./process";
import { RLIMIT_SIGPENDING, softLimit } from "./resource_limits";
import { SIGRTMIN, SI_KERNEL, SI_USER, bitOf } from "./signal_action";
import { SIGNAL_INFO_SIZE, SignalInfo } from "./signal_info";

/** Queues `signal` with its siginfo; false only for a real-time signal the queue has no room for (EAGAIN). */
export function enqueueSignal(process: Process, signal: u32, code: i32, first: u64, second: u64): bool {
  const bit = bitOf(signal);
  if (signal < SIGRTMIN && (process.pendingSignals & bit) != 0) return true; // merged with the one already waiting
  const entry = <u64>process.queuedSignals < softLimit(process, RLIMIT_SIGPENDING) ? kmalloc(SIGNAL_INFO_SIZE) : 0;
  if (entry == 0) {
    if (signal >= SIGRTMIN && code != SI_USER) return false;
    process.pendingSignals |= bit; // pending, its siginfo lost
    return true;
  }
  const info = changetype<SignalInfo>(entry);
  info.signal = signal;
  info.code = code;
  info.first = first;
  info.second = second;
  append(process, info);
  return true;
}

/** A POSIX timer's own entry joins the queue (its room was taken when the timer was made). */
export function queueTimerSignal(process: Process, timer: PosixTimer): void {
  append(process, timerSignalQueued(timer));
}

function append(process: Process, entry: SignalInfo): void {
  let link = changetype<usize>(process) + offsetof<Process>("signalQueue");
  while (load<u32>(link) != 0) link = load<u32>(link); // `next` is each entry's first field
  entry.next = 0;
  store<u32>(link, changetype<u32>(entry));
  process.queuedSignals++;
  process.pendingSignals |= bitOf(entry.signal);
}

/** An entry leaves the queue: a timer's goes back to its timer, any other is freed. */
function release(info: SignalInfo, taken: SignalInfo | null): void {
  if (info.timer == 0) kfree(changetype<u32>(info));
  else if (taken != null) timerSignalTaken(changetype<PosixTimer>(info.timer), taken);
  else timerSignalDropped(changetype<PosixTimer>(info.timer));
}

/**
 * Takes the oldest pending `signal` off the queue into `into` (a signal
 * pending without an entry reads as sent by the kernel); its pending bit
 * goes when none is left.
 */
export function dequeueSignal(process: Process, signal: u32, into: SignalInfo): void {
  into.signal = signal;
  into.code = SI_KERNEL;
  into.first = 0;
  into.second = 0;
  let link = changetype<usize>(process) + offsetof<Process>("signalQueue");
  let found = false;
  let more = false;
  while (load<u32>(link) != 0) {
    const info = changetype<SignalInfo>(load<u32>(link));
    if (info.signal != signal) {
      link = changetype<usize>(info);
      continue;
    }
    if (found) {
      more = true;
      break;
    }
    found = true;
    into.code = info.code;
    into.first = info.first;
    into.second = info.second;
    store<u32>(link, info.next);
    release(info, into);
    process.queuedSignals--;
  }
  if (!more) process.pendingSignals &= ~bitOf(signal);
}

/** Throws away every pending signal in `mask` (SIGCONT and the stop signals cancel each other; SIG_IGN set). */
export function discardSignals(process: Process, mask: u64): void {
  let link = changetype<usize>(process) + offsetof<Process>("signalQueue");
  while (load<u32>(link) != 0) {
    const info = changetype<SignalInfo>(load<u32>(link));
    if ((bitOf(info.signal) & mask) == 0) {
      link = changetype<usize>(info);
      continue;
    }
    store<u32>(link, info.next);
    release(info, null);
    process.queuedSignals--;
  }
  process.pendingSignals &= ~mask;
}
