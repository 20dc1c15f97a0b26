// Where a swap file's slots are on its disk, asked of its file system
// through bmap as Linux's generic_swapfile_activate asks: swap reads and
// writes slots straight to the disk, under the page cache and the file
// system, so it must know each page's sectors before the area is used.
import { SECTOR_SHIFT } from "../block/block_device";
import { printf } from "../console/console";
import { PAGE_SIZE } from "../mm/frame";
import { SwapArea, addSwapExtent } from "../mm/swap_area";
import { Inode, blockSizeOf, bmapOf, inodeSize } from "./inode";

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
 * Gives `area`'s slots, from slot 1 on, the runs of a page's worth of file
 * blocks (from the file's page 1 on) that lie in order on the disk, each
 * an extent (neighbours join into one). As Linux's
 * generic_swapfile_activate does, a run broken on the disk (an indirect
 * block between two blocks of a page, a block group's metadata) is not
 * skipped a whole page at a time but probed again one block on, so a file
 * of small blocks loses only the blocks before its next run in order;
 * slots no run reached stay unusable. Unlike Linux, a run need not start
 * at a page-aligned disk block: an extent counts in sectors, not pages.
 * 0, or -errno: EINVAL for a hole anywhere probed.
 */
export function mapSwapFile(area: SwapArea, inode: Inode): i32 {
  const blockSize = blockSizeOf(inode);
  const perPage = PAGE_SIZE / blockSize;
  const blocks = inodeSize(inode) / blockSize;
  let slot: u32 = 1;
  let probe = <u64>perPage; // the header's page is no slot
  while (slot < area.pages && probe + perPage <= blocks) {
    const first = mappedBlock(inode, probe);
    if (first < 0) return <i32>first;
    let run: u32 = 1;
    for (; run < perPage; run++) {
      const block = mappedBlock(inode, probe + run);
      if (block < 0) return <i32>block;
      if (block != first + run) break;
    }
    if (run < perPage) {
      probe++;
      continue;
    }
    if (!addSwapExtent(area, slot++, 1, <u64>first * (blockSize >> SECTOR_SHIFT))) return -ENOMEM;
    probe += perPage;
  }
  return 0;
}
