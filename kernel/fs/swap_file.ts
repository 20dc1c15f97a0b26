// What a swap area's file is to the file systems: its bytes (the memory
// object every opening of it shares, Linux's f_mapping, by which swapon
// and swapoff know an area whatever path names it) and the area holding
// them. The area's owner is the File swapon opened (Linux's swap_file):
// it keeps the file, and its name for /proc/swaps.
import { blockFileObject } from "./block_file";
import { File } from "./file";
import { Inode, S_IFBLK, fileType, isRegularInode } from "./inode";
import { MemoryObject } from "../mm/memory_object";
import { MAX_SWAP_AREAS, SWAP_WRITE_OK, swapAreaAt } from "../mm/swap_area";

/** The bytes a swap area on `inode` would be: a regular file's own, or its block device's; null for anything else. */
export function swapObjectOf(inode: Inode): MemoryObject | null {
  if (isRegularInode(inode)) return inode.object;
  return fileType(inode) == S_IFBLK ? blockFileObject(inode) : null;
}

/**
 * The index of the area in use whose file's bytes are `object`, or -1; an
 * area swapoff is emptying already is not one (as Linux's swapoff looks
 * only at areas open for writing).
 */
export function swapAreaHolding(object: MemoryObject): i32 {
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) {
    const area = swapAreaAt(i);
    if (area != null && (area.flags & SWAP_WRITE_OK) != 0 && swapObjectOf(changetype<Inode>(changetype<File>(area.owner).inode)) == object) return <i32>i;
  }
  return -1;
}
