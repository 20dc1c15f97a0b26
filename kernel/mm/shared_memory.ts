// Shared anonymous memory (mmap MAP_SHARED|MAP_ANONYMOUS): one memory object
// whose pages start zeroed and live in the page cache, so parent and
// children after fork, whenever they first touch a page, find the same
// frame. Its pages are the only copy of their bytes: the cache keeps them
// until the last region mapping the object goes.
import { MemoryObject, OBJECT_NO_SOURCE, newMemoryObject, readZeroes } from "./memory_object";
import { dropCachedPages } from "./page_cache";

function releaseSharedMemory(object: MemoryObject): void {
  dropCachedPages(object, 0);
}

/** A new object of `size` bytes, held by the caller (the region that maps it); null when out of memory. */
export function newSharedMemory(size: u64): MemoryObject | null {
  return newMemoryObject(readZeroes, releaseSharedMemory, size, OBJECT_NO_SOURCE);
}
