// What a futex is known by (Linux's union futex_key), so that a waiter and
// a waker meet whichever addresses and frames they reach the word through:
//  - a private futex, or a shared one in memory no other address space can
//    see (a MAP_PRIVATE region): the address space and the virtual address.
//    Nothing beyond the address is looked up, so the key outlives a
//    copy-on-write of the page, and threads (one address space) will meet
//    on it as they are.
//  - a shared futex in a MAP_SHARED region (a file, or shared anonymous
//    memory, which is a memory object too): the memory object and the
//    byte offset of the word in it. Neither depends on which frame holds
//    the page, so the key survives the page being dropped and read again,
//    and every process mapping the object meets on it at any address.
// The low bits of `offset` say which (as Linux's FUT_OFF_INODE and
// FUT_OFF_MMSHARED): a private and a shared operation on the same word of
// private memory do not meet, as in Linux.
import { AddressSpace, USER_END, regionsOf } from "./address_space";
import { REGION_SHARED, findRegion } from "./region";
import { userPage } from "./user_copy";

/** Key offset bit: `base` is a memory object (held by every waiter queued on it). */
export const KEY_OBJECT: u64 = 1;
/** Key offset bit: a shared operation on private memory (`base` is the address space). */
const KEY_SPACE_SHARED: u64 = 2;

/** The base of a key futexKey stored at `key`. */
@inline export function futexKeyBase(key: usize): u32 {
  return load<u32>(key);
}

/** The offset of a key futexKey stored at `key`. */
@inline export function futexKeyOffset(key: usize): u64 {
  return load<u64>(key, 8);
}

/**
 * The key of the aligned futex word at `address`, stored at `into` as
 * base (u32 at 0) and offset (u64 at 8). False: EFAULT (outside user
 * space; for a shared futex, not mapped readable).
 */
export function futexKey(space: AddressSpace, address: u64, shared: bool, into: usize): bool {
  if (address >= USER_END) return false;
  if (!shared) {
    store<u32>(into, changetype<u32>(space));
    store<u64>(into, address, 8);
    return true;
  }
  // As Linux's get_user_pages for a shared key: the page is faulted in, so
  // an address nothing maps is EFAULT.
  if (userPage(space, address, false) == 0) return false;
  const region = findRegion(regionsOf(space), address);
  if (region == null) return false;
  const object = region.object;
  if ((region.flags & REGION_SHARED) != 0 && object != null) {
    store<u32>(into, changetype<u32>(object));
    store<u64>(into, (region.fileOffset + (address - region.start)) | KEY_OBJECT, 8);
  } else {
    store<u32>(into, changetype<u32>(space));
    store<u64>(into, address | KEY_SPACE_SHARED, 8);
  }
  return true;
}
