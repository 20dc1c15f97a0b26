// Pending signals and what each one carries (its siginfo), in arrival
// order. A standard signal (1-31) is pending at most once: a second one
// while the first waits is merged into it, keeping the first's siginfo. A
// real-time signal (32-64) is queued once per sending, so none is lost,
// up to RLIMIT_SIGPENDING per process (Linux counts them per user, and
// every process here is root's; then sigqueue says EAGAIN; kill of a
// real-time signal still makes it pending, without its siginfo, as Linux).
// A POSIX timer queues an entry of its own, never merged: when it is taken
// or thrown away the timer hears of it, to count overruns (posix_timer.ts).
// Each thread has a set of its own (tgkill, its faults) and its group
// one more, in the leader, for signals sent to the process as a whole:
// whichever thread takes one first has it, as Linux's shared_pending.
import { kfree, kmalloc } from "../mm/slab";
import { PosixTimer, timerSignalDropped, timerSignalQueued, timerSignalTaken } from "./posix_timer";
import { Process, ProcessState, leaderOf, processListHead } from "./process";
import { RLIMIT_SIGPENDING, softLimit } from "./resource_limits";
import { SIGRTMIN, SI_KERNEL, SI_USER, bitOf } from "./signal_action";
import { SIGNAL_INFO_SIZE, SignalInfo } from "./signal_info";

/**
 * Pending signals with their siginfo entries, embedded in a process
 * record (Process.pendingSignals, Process.sharedPendingSignals):
 *
 *   0 signals(u64): bit n-1 for signal n  8 queue: the first entry  12 count: entries queued
 */
@unmanaged export class PendingSet {
  signals: u64;
  queue: u32;
  count: u32;
}

/** The signals sent to this thread alone. */
@inline export function threadPending(thread: Process): PendingSet {
  return changetype<PendingSet>(changetype<usize>(thread) + offsetof<Process>("pendingSignals"));
}

/** The signals sent to the thread's process, for any of its threads. */
@inline export function groupPending(thread: Process): PendingSet {
  return changetype<PendingSet>(thread.leader + offsetof<Process>("sharedPendingSignals"));
}

/** Every signal `thread` could take: its own and its process's. */
@inline export function pendingSignalsOf(thread: Process): u64 {
  return thread.pendingSignals | leaderOf(thread).sharedPendingSignals;
}

/** Queues `signal` with its siginfo in `set`; false only for a real-time signal the queue has no room for (EAGAIN). */
export function enqueueSignal(process: Process, set: PendingSet, signal: u32, code: i32, first: u64, second: u64): bool {
  const bit = bitOf(signal);
  if (signal < SIGRTMIN && (set.signals & bit) != 0) return true; // merged with the one already waiting
  const entry = <u64>set.count < softLimit(process, RLIMIT_SIGPENDING) ? kmalloc(SIGNAL_INFO_SIZE) : 0;
  if (entry == 0) {
    if (signal >= SIGRTMIN && code != SI_USER) return false;
    set.signals |= bit; // pending, its siginfo lost
    return true;
  }
  const info = changetype<SignalInfo>(entry);
  info.signal = signal;
  info.code = code;
  info.first = first;
  info.second = second;
  append(set, info);
  return true;
}

/** A POSIX timer's own entry joins the queue (its room was taken when the timer was made). */
export function queueTimerSignal(set: PendingSet, timer: PosixTimer): void {
  append(set, timerSignalQueued(timer));
}

function append(set: PendingSet, entry: SignalInfo): void {
  let link = changetype<usize>(set) + offsetof<PendingSet>("queue");
  while (load<u32>(link) != 0) link = load<u32>(link); // `next` is each entry's first field
  entry.next = 0;
  store<u32>(link, changetype<u32>(entry));
  set.count++;
  set.signals |= bitOf(entry.signal);
}

/** An entry leaves the queue: a timer's goes back to its timer, any other is freed. */
function release(info: SignalInfo, taken: SignalInfo | null): void {
  if (info.timer == 0) kfree(changetype<u32>(info));
  else if (taken != null) timerSignalTaken(changetype<PosixTimer>(info.timer), taken);
  else timerSignalDropped(changetype<PosixTimer>(info.timer));
}

/**
 * Takes the oldest pending `signal` off the thread's queue, or else its
 * process's, into `into` (a signal pending without an entry reads as sent
 * by the kernel); its pending bit goes when none is left.
 */
export function dequeueSignal(thread: Process, signal: u32, into: SignalInfo): void {
  into.signal = signal;
  into.code = SI_KERNEL;
  into.first = 0;
  into.second = 0;
  const set = (thread.pendingSignals & bitOf(signal)) != 0 ? threadPending(thread) : groupPending(thread);
  let link = changetype<usize>(set) + offsetof<PendingSet>("queue");
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
    set.count--;
  }
  if (!more) set.signals &= ~bitOf(signal);
}

/** Throws away every signal in `mask` pending in `set`. */
export function discardSignals(set: PendingSet, mask: u64): void {
  let link = changetype<usize>(set) + offsetof<PendingSet>("queue");
  while (load<u32>(link) != 0) {
    const info = changetype<SignalInfo>(load<u32>(link));
    if ((bitOf(info.signal) & mask) == 0) {
      link = changetype<usize>(info);
      continue;
    }
    store<u32>(link, info.next);
    release(info, null);
    set.count--;
  }
  set.signals &= ~mask;
}

/** Throws away the signals in `mask` pending for the process or any of its threads (SIGCONT and the stop signals cancel each other; SIG_IGN set). */
export function discardGroupSignals(thread: Process, mask: u64): void {
  discardSignals(groupPending(thread), mask);
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const other = changetype<Process>(at);
    if (other.tgid == thread.tgid && other.state != ProcessState.Dead) discardSignals(threadPending(other), mask);
  }
}
