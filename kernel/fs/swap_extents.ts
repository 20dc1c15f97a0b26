// Where a swap file's slots are on its disk, asked of its file system
// through bmap as Linux's generic_swapfile_activate asks: swap reads and
// writes slots straight to the disk, under the page cache and the file
// system, so it must know each page's sectors before the area is used.
import { SECTOR_SHIFT } from "../block/block_device";
import { printf } from "../console/console";
import { PAGE_SIZE } from "../mm/frame";
import { SwapArea, addSwapExtent } from "../mm/swap_area";
import { Inode, blockSizeOf, bmapOf } from "./inode";

const EINVAL: i32 = 22;
const ENOMEM: i32 = 12;

/**
 * The disk block of file block `block`, or -errno: a hole is EINVAL, as is
 * a file system with no block map (tmpfs), both Linux's "swapfile has holes".
 */
function mappedBlock(inode: Inode, block: u64): i64 {
  const got = bmapOf(inode, block);
  if (got > 0) return got;
  if (got == 0 || got == -EINVAL) {
    printf("swapon: swapfile has holes\n");
    return -EINVAL;
  }
  return got;
}

/**
 * Covers each slot of `area` (page 1 on of the file) whose blocks follow
 * each other on the disk with an extent (neighbours joining into one). A
 * page whose blocks do not lie in order cannot be read in one request, so
 * it is left uncovered, never a slot, as Linux skips such pages; unlike
 * Linux we need no page alignment on the disk, as an extent counts in
 * sectors, not pages. 0, or -errno: EINVAL for a hole anywhere in the area.
 */
export function mapSwapFile(area: SwapArea, inode: Inode): i32 {
  const blockSize = blockSizeOf(inode);
  const perPage = PAGE_SIZE / blockSize;
  for (let page: u32 = 1; page < area.pages; page++) {
    const base = <u64>page * perPage;
    const first = mappedBlock(inode, base);
    if (first < 0) return <i32>first;
    let inOrder = true;
    for (let k: u32 = 1; k < perPage; k++) {
      const block = mappedBlock(inode, base + k);
      if (block < 0) return <i32>block;
      if (block != first + k) inOrder = false;
    }
    if (inOrder && !addSwapExtent(area, page, 1, <u64>first * (blockSize >> SECTOR_SHIFT))) return -ENOMEM;
  }
  return 0;
}
