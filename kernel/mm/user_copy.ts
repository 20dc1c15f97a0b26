// Moving bytes between the kernel and user memory. The kernel never
// dereferences a user address: each user page is translated through the
// process's page tables, faulted in first exactly as a user access would
// be (demand-zero, file, zero-page write), and then touched through the
// direct map. A bad pointer therefore gives EFAULT, not a kernel fault,
// and SMAP can stay on.
import { AddressSpace } from "./address_space";
import { FAULT_WRITE, FaultResponse, handleUserFault } from "./fault";
import { PAGE_SIZE } from "./frame";
import { PTE_ADDRESS, PTE_PRESENT, PTE_USER, PTE_WRITABLE, leafEntry } from "./page_table";
import { USER_END } from "./address_space";

/** Physical address of the user page holding `address`, resolved for reading or writing; 0 = EFAULT. */
export function userPage(space: AddressSpace, address: u64, write: bool): u32 {
  if (address >= USER_END) return 0;
  const page = address & ~(<u64>PAGE_SIZE - 1);
  const needed = PTE_PRESENT | PTE_USER | (write ? PTE_WRITABLE : 0);
  let entry = leafEntry(space.root, page);
  while ((entry & needed) != needed) {
    const response = handleUserFault(space, page, write ? FAULT_WRITE : 0);
    if (response != FaultResponse.Continue && response != FaultResponse.Retry) return 0;
    entry = leafEntry(space.root, page);
    if (response == FaultResponse.Continue && (entry & needed) != needed) return 0;
  }
  return <u32>(entry & PTE_ADDRESS);
}

/** Copies `length` bytes from linear `from` to user `to`. False (EFAULT) if any page is bad. */
export function copyToUser(space: AddressSpace, to: u64, from: u32, length: u64): bool {
  let done: u64 = 0;
  while (done < length) {
    const at = to + done;
    if (at < to) return false; // wrapped around
    const page = userPage(space, at, true);
    if (page == 0) return false;
    const offset = <u32>(at & (PAGE_SIZE - 1));
    const chunk = <u32>min(<u64>(PAGE_SIZE - offset), length - done);
    memory.copy(page + offset, from + <u32>done, chunk);
    done += chunk;
  }
  return true;
}

/**
 * Copies up to `length` bytes of `space`, which need not be the current
 * one, from `from` to linear `to`, faulting pages in as a read by its
 * program would (Linux's access_remote_vm). Returns how many bytes came
 * before the first page that could not be had.
 */
export function readSpace(space: AddressSpace, to: u32, from: u64, length: u64): u64 {
  let done: u64 = 0;
  while (done < length) {
    const at = from + done;
    if (at < from) break; // wrapped around
    const page = userPage(space, at, false);
    if (page == 0) break;
    const offset = <u32>(at & (PAGE_SIZE - 1));
    const chunk = <u32>min(<u64>(PAGE_SIZE - offset), length - done);
    memory.copy(to + <u32>done, page + offset, chunk);
    done += chunk;
  }
  return done;
}

/** Copies `length` bytes from user `from` to linear `to`. False (EFAULT) if any page is bad. */
export function copyFromUser(space: AddressSpace, to: u32, from: u64, length: u64): bool {
  return readSpace(space, to, from, length) == length;
}

/**
 * copyFromUser, or a plain copy from kernel memory (linear) when `space` is
 * null: the writes a kernel buffer feeds (sendfile, core dumps) go down the
 * paths user writes take.
 */
export function copyFromSource(space: AddressSpace | null, to: u32, from: u64, length: u64): bool {
  if (space != null) return copyFromUser(space, to, from, length);
  memory.copy(to, <u32>from, <u32>length);
  return true;
}

@inline export function putUser32(space: AddressSpace, to: u64, value: u32): bool {
  const scratch = memory.data(4, 4);
  store<u32>(scratch, value);
  return copyToUser(space, to, <u32>scratch, 4);
}

@inline export function putUser64(space: AddressSpace, to: u64, value: u64): bool {
  const scratch = memory.data(8, 8);
  store<u64>(scratch, value);
  return copyToUser(space, to, <u32>scratch, 8);
}

/** Copies a u64 from user memory to linear `into`; false (EFAULT) if the address is bad. */
export function getUser64(space: AddressSpace, from: u64, into: u32): bool {
  return copyFromUser(space, into, from, 8);
}

/**
 * Copies a NUL-terminated user string of at most `capacity - 1` bytes to
 * `to` (NUL-terminated there too). Returns its length, -1 for a bad
 * pointer, -2 if it does not fit.
 */
export function copyStringFromUser(space: AddressSpace, to: u32, from: u64, capacity: u32): i32 {
  let length: u32 = 0;
  while (length < capacity) {
    const at = from + length;
    const page = userPage(space, at, false);
    if (page == 0) return -1;
    const offset = <u32>(at & (PAGE_SIZE - 1));
    const available = min(PAGE_SIZE - offset, capacity - length);
    for (let i: u32 = 0; i < available; i++) {
      const c = load<u8>(page + offset + i);
      store<u8>(to + length, c);
      if (c == 0) return <i32>length;
      length++;
    }
  }
  return -2;
}
