// The PI futex lock word's bits, and what becomes of the PI locks a thread
// owns when it exits or execs (Linux's exit_pi_state_list): each lock that
// has waiters passes to its oldest waiter, so none of them sleeps forever
// on a dead owner, and the new owner finds FUTEX_OWNER_DIED in the word
// it writes its TID in (syscall/futex_pi.ts), as Linux's, robust lock or
// not. A robust lock's word got the bit from the robust list walk just
// before (robust_list.ts) already.
import { futexFirstLockOwnedBy, futexPassLockOwner, rouse } from "./futex_queue";
import { Process } from "./process";

export const FUTEX_WAITERS: u32 = 0x80000000;
export const FUTEX_OWNER_DIED: u32 = 0x40000000;
export const FUTEX_TID_MASK: u32 = 0x3fffffff;

/**
 * Hands each PI lock `process` owns with waiters to the oldest of them.
 * The heir stays queued, named as the owner (its lockOwner its own TID),
 * until it runs and writes itself into the word: the dead thread's address
 * space may not be the one to write it through.
 */
export function releasePiLocks(process: Process): void {
  const pid = process.pid;
  for (let n = futexFirstLockOwnedBy(pid); n != null; n = futexFirstLockOwnedBy(pid)) {
    const heir = changetype<Process>(n.owner).pid;
    n.lockOwner = heir;
    futexPassLockOwner(n, pid, heir);
    rouse(n);
  }
}
