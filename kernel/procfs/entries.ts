// The /proc files that are tables of u64 entries rather than text, made
// at each read from where the reader stands, as Linux's are: an entry per
// frame in /proc/kpageflags and /proc/kpagecount (at offset pfn * 8, up to
// the highest frame of RAM), an entry per virtual page in /proc/PID/pagemap
// (at offset address / 4096 * 8, up to the top of user space). Reads and
// their offsets must be whole entries (EINVAL otherwise).
import { AddressSpace, USER_MAP_END } from "../mm/address_space";
import { PAGE_SHIFT } from "../mm/frame";
import { frameLimit } from "../mm/frame_database";
import { kpageCount, kpageFlags } from "../mm/page_flags";
import { pagemapEntry } from "../mm/pagemap";
import { kfree, kmalloc } from "../mm/slab";
import { copyToUser } from "../mm/user_copy";
import { Inode } from "../fs/inode";
import { findProcess, spaceOf } from "../proc/process";
import { Node } from "./nodes";

const EFAULT: i64 = 14;
const EINVAL: i64 = 22;
const ENOMEM: i64 = 12;
const ENTRY_SIZE: u64 = 8;
const CHUNK_ENTRIES: u32 = 256; // made, then copied out, a kmalloc'd 2 KiB at a time

export function isEntriesNode(node: u32): bool {
  return node == Node.KpageFlags || node == Node.KpageCount || node == Node.Pagemap;
}

/** How many entries the file has. */
function entryCount(inode: Inode): u64 {
  return inode.kind == Node.Pagemap ? USER_MAP_END >> PAGE_SHIFT : <u64>frameLimit;
}

/**
 * Writes `count` entries from entry `first` at `into`; false when the
 * process a pagemap shows is gone. The process is looked up again for
 * every chunk: copying the last one out may have slept.
 */
function makeEntries(inode: Inode, first: u64, count: u32, into: u32): bool {
  if (inode.kind == Node.Pagemap) {
    const process = findProcess(inode.data);
    if (process == null || process.space == 0) return false;
    const space: AddressSpace = spaceOf(process);
    // Linux shows frame numbers to CAP_SYS_ADMIN alone; every process holds it here (syscall/identity.ts).
    for (let i: u32 = 0; i < count; i++) store<u64>(into + i * 8, pagemapEntry(space, (first + i) << PAGE_SHIFT, true));
  } else {
    const flags = inode.kind == Node.KpageFlags;
    for (let i: u32 = 0; i < count; i++) {
      const pfn = <u32>(first + i);
      store<u64>(into + i * 8, flags ? kpageFlags(pfn) : kpageCount(pfn));
    }
  }
  return true;
}

/** read(2) of an entries file at byte `at`: the bytes moved, 0 at the end, or -errno. */
export function readEntries(inode: Inode, space: AddressSpace, buffer: u64, count: u64, at: u64): i64 {
  if (at % ENTRY_SIZE != 0 || count % ENTRY_SIZE != 0) return -EINVAL;
  const end = entryCount(inode);
  let next = at / ENTRY_SIZE;
  if (next >= end) return 0;
  const last = min(end, next + count / ENTRY_SIZE);
  const chunk = kmalloc(CHUNK_ENTRIES * <u32>ENTRY_SIZE);
  if (chunk == 0) return -ENOMEM;
  let moved: i64 = 0;
  while (next < last) {
    const n = <u32>min(<u64>CHUNK_ENTRIES, last - next);
    if (!makeEntries(inode, next, n, chunk)) break;
    if (!copyToUser(space, buffer + <u64>moved, chunk, <u64>n * ENTRY_SIZE)) {
      if (moved == 0) moved = -EFAULT;
      break;
    }
    moved += <i64>n * <i64>ENTRY_SIZE;
    next += n;
  }
  kfree(chunk);
  return moved;
}
