// Sleeping and waking for the layers below the scheduler (fs, console): a
// pipe or the terminal waits on a channel (the address of what it waits
// for) and wakes its sleepers through these, and the process layer
// registers the scheduler's own functions at boot (as Linux's wait queues
// let drivers sleep without knowing the scheduler).
let sleeper: ((channel: u32) => void) | null = null;
let timedSleeper: ((channel: u32, tscDeadline: u64) => void) | null = null;
let waker: ((channel: u32) => void) | null = null;
let pendingCheck: (() => bool) | null = null;

export function registerWaiting(
  sleep: (channel: u32) => void, sleepUntil: (channel: u32, tscDeadline: u64) => void, wake: (channel: u32) => void,
  pending: () => bool,
): void {
  sleeper = sleep;
  timedSleeper = sleepUntil;
  waker = wake;
  pendingCheck = pending;
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

/** Whether the caller has a signal to act on: a blocking call then gives up (EINTR). */
export function signalPending(): bool {
  const pending = pendingCheck;
  return pending != null && pending();
}
