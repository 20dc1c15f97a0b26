// Robust futex lists (set_robust_list): the locks a process holds, kept by
// its libc in its own memory. When the process exits or execs, the kernel
// walks the list as Linux's exit_robust_list does, so that a process-shared
// robust mutex whose owner died says so (FUTEX_OWNER_DIED) and one waiter
// wakes to take it (pthread_mutex_lock's EOWNERDEAD). Priority-inheritance
// entries (the low bit of a link) are marked but not woken, as Linux's:
// releasePiLocks (pi_owner.ts), called next, hands each to its oldest
// waiter, who keeps the mark.
import { AddressSpace } from "../mm/address_space";
import { copyFromUser, putUser32 } from "../mm/user_copy";
import { Process, spaceOf } from "./process";
import { futexWakeOne } from "./futex_queue";
import { FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS } from "./pi_owner";

/** struct robust_list_head: the list's first link, futex_offset, list_op_pending. */
export const ROBUST_LIST_HEAD_SIZE: u64 = 24;
const ROBUST_LIST_LIMIT: u32 = 2048; // Linux's bound: a circular list ends too
const PI_BIT: u64 = 1;

/**
 * Linux's handle_futex_death for the lock word at `address`: a word the
 * process owns gets FUTEX_OWNER_DIED (keeping FUTEX_WAITERS) and wakes a
 * waiter; a pending lock still 0 (its unlock got that far) wakes one too.
 * False when the word is misaligned or cannot be read or written: the
 * walk stops.
 */
function handleDeath(process: Process, space: AddressSpace, address: u64, pi: bool, pending: bool): bool {
  if ((address & 3) != 0) return false;
  const word = memory.data(4, 4);
  if (!copyFromUser(space, <u32>word, address, 4)) return false;
  const value = load<u32>(word);
  if (pending && !pi && value == 0) {
    futexWakeOne(space, address);
    return true;
  }
  if ((value & FUTEX_TID_MASK) != process.pid) return true; // held by another thread
  if (!putUser32(space, address, (value & FUTEX_WAITERS) | FUTEX_OWNER_DIED)) return false;
  if (!pi && (value & FUTEX_WAITERS) != 0) futexWakeOne(space, address);
  return true;
}

/** Walks and forgets `process`'s robust list (at exit and exec, while its address space is still its own). */
export function releaseRobustList(process: Process): void {
  const head = process.robustList;
  process.robustList = 0;
  if (head == 0 || process.space == 0) return;
  const space = spaceOf(process);
  const fields = memory.data(<i32>ROBUST_LIST_HEAD_SIZE, 8);
  if (!copyFromUser(space, <u32>fields, head, ROBUST_LIST_HEAD_SIZE)) return;
  let link = load<u64>(fields);
  const offset = load<i64>(fields + 8);
  const pendingLink = load<u64>(fields + 16);
  const pending = pendingLink & ~PI_BIT;
  const next = memory.data(8, 8);
  for (let limit = ROBUST_LIST_LIMIT; (link & ~PI_BIT) != head && limit > 0; limit--) {
    const entry = link & ~PI_BIT;
    const linked = copyFromUser(space, <u32>next, entry, 8);
    if (entry != pending && !handleDeath(process, space, entry + <u64>offset, (link & PI_BIT) != 0, false)) return;
    if (!linked) return;
    link = load<u64>(next);
  }
  if (pending != 0) handleDeath(process, space, pending + <u64>offset, (pendingLink & PI_BIT) != 0, true);
}
