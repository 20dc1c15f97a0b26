// mincore: which pages of a range are resident, a byte per page (bit 0).
// A page this process maps is, and one out in swap whose copy the swap
// cache still holds (as Linux's mincore_swap); so, in a file or shared-memory mapping, is
// a page of its object that the page cache holds (the next touch maps it
// without reading anything). As on Linux the range must be mapped (ENOMEM
// at the first gap, after the answers before it are written).
import { AddressSpace, USER_MAP_END, regionsOf } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { MemoryObject } from "../mm/memory_object";
import { findCachedPage } from "../mm/page_cache";
import { PTE_PRESENT, isSwapPte, rawEntry, swapEntryOfPte } from "../mm/page_table";
import { findSwapCachePage } from "../mm/swap_cache";
import { Region, findRegion } from "../mm/region";
import { copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { EFAULT, EINVAL, ENOMEM } from "./errno";

// Answers are gathered a page of them at a time and copied out, as Linux does.
const BATCH: u32 = 4096;
const answers = memory.data(BATCH, 8);

function resident(space: AddressSpace, region: Region, page: u64): bool {
  const entry = rawEntry(space.root, page); // user space has no 2 MiB pages
  if ((entry & PTE_PRESENT) != 0) return true;
  if (isSwapPte(entry)) return findSwapCachePage(swapEntryOfPte(entry)) != 0; // out, unless its copy is still in memory
  const object = region.object;
  const inRegion = page - region.start;
  if (object == null || inRegion >= region.fileBytes) return false;
  const offset = region.fileOffset + inRegion;
  return offset < object.size && findCachedPage(changetype<MemoryObject>(object), <u32>(offset / PAGE_SIZE)) != 0;
}

export function sysMincore(process: Process, start: u64, length: u64, vector: u64): i64 {
  if ((start & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  if (length > USER_MAP_END || start > USER_MAP_END - length) return -ENOMEM;
  const pages = (length + PAGE_SIZE - 1) / PAGE_SIZE;
  if (vector > USER_MAP_END || pages > USER_MAP_END - vector) return -EFAULT;
  const space = spaceOf(process);
  let at = start;
  let done: u64 = 0;
  while (done < pages) {
    const region = findRegion(regionsOf(space), at);
    if (region == null) return -ENOMEM;
    const n = <u32>min(min(pages - done, (region.end - at) / PAGE_SIZE), <u64>BATCH);
    for (let i: u32 = 0; i < n; i++) store<u8>(<u32>answers + i, resident(space, region, at + <u64>i * PAGE_SIZE) ? 1 : 0);
    if (!copyToUser(space, vector + done, <u32>answers, n)) return -EFAULT;
    done += n;
    at += <u64>n * PAGE_SIZE;
  }
  return 0;
}
