// The /proc files that are tables of entries rather than text, made at
// each read from where the reader stands, as Linux's are: a u64 per frame
// in /proc/kpageflags and /proc/kpagecount (at offset pfn * 8, up to the
// highest frame of RAM), a u64 per virtual page in /proc/PID/pagemap (at
// offset address / 4096 * 8, up to the top of user space), and, ours, a
// byte per frame in /proc/framestates (frame_states.ts). Reads and their
// offsets must be whole entries (EINVAL otherwise).
import { AddressSpace, USER_MAP_END } from "../mm/address_space";
import { PAGE_SHIFT } from "../mm/frame";
import { frameStateByte } from "../mm/frame_states";
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
const CHUNK_BYTES: u32 = 2048; // made, then copied out, a kmalloc'd chunk at a time

export function isEntriesNode(node: u32): bool {
  return node == Node.KpageFlags || node == Node.KpageCount || node == Node.Pagemap || node == Node.FrameStates;
}

@inline function entrySize(inode: Inode): u32 {
  return inode.kind == Node.FrameStates ? 1 : 8;
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
  } else if (inode.kind == Node.FrameStates) {
    for (let i: u32 = 0; i < count; i++) store<u8>(into + i, frameStateByte(<u32>(first + i)));
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
  const size = <u64>entrySize(inode);
  if (at % size != 0 || count % size != 0) return -EINVAL;
  const end = entryCount(inode);
  let next = at / size;
  if (next >= end) return 0;
  const last = min(end, next + count / size);
  const chunk = kmalloc(CHUNK_BYTES);
  if (chunk == 0) return -ENOMEM;
  let moved: i64 = 0;
  while (next < last) {
    const n = <u32>min(<u64>CHUNK_BYTES / size, last - next);
    if (!makeEntries(inode, next, n, chunk)) break;
    if (!copyToUser(space, buffer + <u64>moved, chunk, <u64>n * size)) {
      if (moved == 0) moved = -EFAULT;
      break;
    }
    moved += <i64>n * <i64>size;
    next += n;
  }
  kfree(chunk);
  return moved;
}
