// Sleeping and waking for the layers below the scheduler (fs, console): a
// pipe or the terminal waits on a channel (the address of what it waits
// for) and wakes its sleepers through these, and the process layer
// registers the scheduler's own functions at boot (as Linux's wait queues
// let drivers sleep without knowing the scheduler).
let sleeper: ((channel: u32) => void) | null = null;
let timedSleeper: ((channel: u32, tscDeadline: u64) => void) | null = null;
let waker: ((channel: u32) => void) | null = null;
let pendingCheck: (() => bool) | null = null;
let diskSleeper: ((channel: u32) => void) | null = null;
let sleepPossible: (() => bool) | null = null;

export function registerWaiting(
  sleep: (channel: u32) => void, sleepUntil: (channel: u32, tscDeadline: u64) => void, wake: (channel: u32) => void,
  pending: () => bool, sleepForIo: (channel: u32) => void, canSleepNow: () => bool,
): void {
  sleeper = sleep;
  timedSleeper = sleepUntil;
  waker = wake;
  pendingCheck = pending;
  diskSleeper = sleepForIo;
  sleepPossible = canSleepNow;
}

/** Whether the caller runs as a process that can sleep (at boot, before the first, nothing can). */
export function canSleep(): bool {
  const possible = sleepPossible;
  return possible != null && possible();
}

/**
 * Sleeps until wakeUp(channel), deaf to signals (a disk request in flight
 * cannot be abandoned: Linux's TASK_UNINTERRUPTIBLE, state D).
 */
export function sleepUninterruptible(channel: u32): void {
  const sleep = diskSleeper;
  assert(sleep != null, "sleepUninterruptible: no scheduler registered");
  sleep!(channel);
}

/** Sleeps until wakeUp(channel); the caller checks its condition again after. */
export function sleepOn(channel: u32): void {
  const sleep = sleeper;
  assert(sleep != null, "sleepOn: no scheduler registered");
  sleep!(channel);
}

/** Sleeps until wakeUp(channel) or until the TSC reaches `tscDeadline`, whichever is first. */
export function sleepOnUntil(channel: u32, tscDeadline: u64): void {
  const sleep = timedSleeper;
  assert(sleep != null, "sleepOnUntil: no scheduler registered");
  sleep!(channel, tscDeadline);
}

export function wakeUp(channel: u32): void {
  const wake = waker;
  if (wake != null) wake(channel);
}

// poll, select and epoll waiters sleep here, each for at most a step:
// what can make a file ready (data through a pipe, an eventfd's count,
// terminal input) wakes them all to look again at once.
const pollChannel = memory.data(4, 4);

/** A poll, select or epoll waiter sleeps until some file may have become ready, or until `tscDeadline`. */
export function sleepAsPoller(tscDeadline: u64): void {
  sleepOnUntil(<u32>pollChannel, tscDeadline);
}

/** Some file's readiness may have changed: every poll, select and epoll waiter looks again. */
export function wakePollers(): void {
  wakeUp(<u32>pollChannel);
}

/** Whether the caller has a signal to act on: a blocking call then gives up (EINTR). */
export function signalPending(): bool {
  const pending = pendingCheck;
  return pending != null && pending();
}
