// An epoll instance's interest list (Linux's struct eventpoll and its
// epitems), kept here below the File so that releasing a File can take
// it out of every epoll that watches it (Linux's eventpoll_release): an
// item does not hold its file, as in Linux, and is keyed by (file, fd).
// Files are named by address so this file need not import file.ts.
import { kfree, kmalloc } from "../mm/slab";

/** Item state bits beside the asked events: EPOLLONESHOT already reported. */
export const ITEM_DISABLED: u32 = 1;

/**
 * One epoll: 0 items (first Item)  4 next  8 previous (every epoll, for
 * the release of a watched file)  12 owner (its File, which other epolls'
 * items name).
 */
@unmanaged export class EpollSet {
  items: u32;
  next: u32;
  previous: u32;
  owner: u32;
}
const SET_SIZE: u32 = 16;

/**
 *   0 next  4 file  8 fd  12 events (asked, with EPOLLET/EPOLLONESHOT)
 *  16 data(u64, returned as given)  24 lastSeen (EPOLLET: the events last
 *  looked at)  28 state (ITEM_DISABLED)  32 lastStamp (EPOLLET: the file's
 *  change count then)
 */
@unmanaged export class Item {
  next: u32;
  file: u32;
  fd: i32;
  events: u32;
  data: u64;
  lastSeen: u32;
  state: u32;
  lastStamp: u32;
}
const ITEM_SIZE: u32 = 36;

let allSets: u32 = 0;

/** A new, empty epoll for File `owner`, or 0 when out of memory. */
export function newEpollSet(owner: u32): u32 {
  const address = kmalloc(SET_SIZE);
  if (address == 0) return 0;
  const set = changetype<EpollSet>(address);
  set.owner = owner;
  set.items = 0;
  set.previous = 0;
  set.next = allSets;
  if (allSets != 0) changetype<EpollSet>(allSets).previous = address;
  allSets = address;
  return address;
}

/** The epoll's last reference went: its items and record go. */
export function freeEpollSet(address: u32): void {
  const set = changetype<EpollSet>(address);
  while (set.items != 0) {
    const item = set.items;
    set.items = changetype<Item>(item).next;
    kfree(item);
  }
  if (set.previous != 0) changetype<EpollSet>(set.previous).next = set.next;
  else allSets = set.next;
  if (set.next != 0) changetype<EpollSet>(set.next).previous = set.previous;
  kfree(address);
}

/** The item for (file, fd), or 0. */
export function findItem(set: EpollSet, file: u32, fd: i32): u32 {
  for (let at = set.items; at != 0; at = changetype<Item>(at).next) {
    const item = changetype<Item>(at);
    if (item.file == file && item.fd == fd) return at;
  }
  return 0;
}

/** Adds an item at the end (reports come in the order items were added); false when out of memory. */
export function addItem(set: EpollSet, file: u32, fd: i32, events: u32, data: u64): bool {
  const address = kmalloc(ITEM_SIZE);
  if (address == 0) return false;
  const item = changetype<Item>(address);
  item.next = 0;
  item.file = file;
  item.fd = fd;
  item.events = events;
  item.data = data;
  item.lastSeen = 0;
  item.state = 0;
  item.lastStamp = 0;
  if (set.items == 0) {
    set.items = address;
  } else {
    let last = set.items;
    while (changetype<Item>(last).next != 0) last = changetype<Item>(last).next;
    changetype<Item>(last).next = address;
  }
  return true;
}

/** Takes item `address` out of `set` and frees it. */
export function removeItem(set: EpollSet, address: u32): void {
  if (set.items == address) {
    set.items = changetype<Item>(address).next;
  } else {
    let at = set.items;
    while (changetype<Item>(at).next != address) at = changetype<Item>(at).next;
    changetype<Item>(at).next = changetype<Item>(address).next;
  }
  kfree(address);
}

/**
 * How many epolls stand above the epoll File `file` on its longest chain
 * of watchers (Linux's ep_get_upwards_depth_proc), counting no further
 * than `limit`.
 */
export function upwardDepth(file: u32, limit: u32): u32 {
  if (limit == 0) return 0;
  let deepest: u32 = 0;
  for (let at = allSets; at != 0; at = changetype<EpollSet>(at).next) {
    const set = changetype<EpollSet>(at);
    for (let item = set.items; item != 0; item = changetype<Item>(item).next) {
      if (changetype<Item>(item).file != file) continue;
      deepest = max(deepest, 1 + upwardDepth(set.owner, limit - 1));
      break;
    }
  }
  return deepest;
}

/** A File's last reference went: every item that watches it, in every epoll, goes. */
export function forgetWatchedFile(file: u32): void {
  for (let at = allSets; at != 0; at = changetype<EpollSet>(at).next) {
    const set = changetype<EpollSet>(at);
    let item = set.items;
    while (item != 0) {
      const next = changetype<Item>(item).next;
      if (changetype<Item>(item).file == file) removeItem(set, item);
      item = next;
    }
  }
}
