// The disk I/O of swap areas: mm's swap_area.ts knows an area's device
// only as the word its creator gave it and calls this back with it, so
// that mm never reaches into the block layer.
import { BlockDevice, SECTOR_SHIFT } from "../block/block_device";
import { BLOCK_READ, BLOCK_WRITE, blockIo } from "../block/request";
import { PAGE_SIZE } from "../mm/frame";

/** SwapIo: `pages` pages at `sector` (counted from the start of the partition) of BlockDevice `device`. */
export function swapBlockIo(device: u32, write: bool, sector: u64, pages: u32, buffer: u32): i32 {
  return blockIo(changetype<BlockDevice>(device), write ? BLOCK_WRITE : BLOCK_READ, sector, pages * (PAGE_SIZE >> SECTOR_SHIFT), buffer);
}
