// Shared anonymous memory (mmap MAP_SHARED|MAP_ANONYMOUS): one object whose
// pages live in the page cache under a pseudo-inode number, so parent and
// children after fork, whenever they first touch a page, find the same
// frame. The object counts the regions that map it; its pages go when the
// last region does (the page cache never reclaims them before that, since
// nothing could read them back).

/** Pseudo-inodes at and above this number are shared anonymous objects. */
export const SHARED_INODE_BASE: i32 = 0x40000000;
const MAX_OBJECTS: u32 = 1024;

// Regions mapping each object; 0 = slot free.
const regionCounts = memory.data(MAX_OBJECTS * 4, 4);

@inline export function isSharedObject(inode: i32): bool {
  return inode >= SHARED_INODE_BASE;
}

/** A new object mapped by one region; -1 if the table is full. */
export function newSharedObject(): i32 {
  for (let i: u32 = 0; i < MAX_OBJECTS; i++) {
    if (load<u32>(regionCounts + i * 4) != 0) continue;
    store<u32>(regionCounts + i * 4, 1);
    return SHARED_INODE_BASE + <i32>i;
  }
  return -1;
}

/** One more region maps `inode` (fork, region split). */
export function retainSharedObject(inode: i32): void {
  if (!isSharedObject(inode)) return;
  const at = regionCounts + <u32>(inode - SHARED_INODE_BASE) * 4;
  store<u32>(at, load<u32>(at) + 1);
}

/**
 * One region less maps `inode`. True when that was the last (the caller
 * then drops the object's pages from the page cache).
 */
export function releaseSharedObject(inode: i32): bool {
  if (!isSharedObject(inode)) return false;
  const at = regionCounts + <u32>(inode - SHARED_INODE_BASE) * 4;
  assert(load<u32>(at) > 0, "releaseSharedObject: object not in use");
  store<u32>(at, load<u32>(at) - 1);
  return load<u32>(at) == 0;
}
