// A page of an address space as Linux's /proc/PID/pagemap describes it
// (Documentation/admin-guide/mm/pagemap.rst): one u64 per virtual page,
//   bits 0-54  the frame number (0 when the reader may not see it)
//   bit  55    soft-dirty (not tracked here: always 0)
//   bit  56    the page is mapped exclusively (its frame's map count is 1)
//   bit  61    a file page or shared anonymous memory
//   bit  62    swapped: bits 0-4 then hold the swap area, bits 5-54 the slot
//   bit  63    present
// The zero page shows as present with its frame number and neither bit 56
// nor 61, as on Linux, where vm_normal_page gives no page for it.
import { AddressSpace } from "./address_space";
import { FrameState, FRAMES_PER_SECTION, SECTION_COUNT, frame, sectionRecords } from "./frame";
import { PTE_ADDRESS, isSwapPte, leafEntry, rawEntry, swapEntryOfPte } from "./page_table";
import { entryArea, entrySlot } from "./swap_area";

export const PM_PFN_MASK: u64 = (<u64>1 << 55) - 1;
export const PM_MMAP_EXCLUSIVE: u64 = <u64>1 << 56;
export const PM_FILE: u64 = <u64>1 << 61;
export const PM_SWAP: u64 = <u64>1 << 62;
export const PM_PRESENT: u64 = <u64>1 << 63;

/** The pagemap entry of the page at `address` in `space`; `showFrame`: the reader may see frame numbers. */
export function pagemapEntry(space: AddressSpace, address: u64, showFrame: bool): u64 {
  const entry = leafEntry(space.root, address);
  if (entry == 0) {
    const pte = rawEntry(space.root, address);
    if (!isSwapPte(pte)) return 0;
    const swap = swapEntryOfPte(pte);
    // Linux hides the slot from readers who may not see frame numbers either.
    return PM_SWAP | (showFrame ? (<u64>entryArea(swap) | (<u64>entrySlot(swap) << 5)) & PM_PFN_MASK : 0);
  }
  const pfn = (entry & PTE_ADDRESS) >> 12; // user space has no 2 MiB pages
  let result = PM_PRESENT | (showFrame ? pfn & PM_PFN_MASK : 0);
  // A frame the database does not record (none is mapped today) says no more.
  if (pfn >= <u64>(SECTION_COUNT * FRAMES_PER_SECTION) || sectionRecords(<u32>pfn / FRAMES_PER_SECTION) == 0) return result;
  const f = frame(<u32>pfn);
  if (f.state == FrameState.FileCache) result |= PM_FILE;
  else if (f.state != FrameState.Anonymous) return result;
  return f.mapCount == 1 ? result | PM_MMAP_EXCLUSIVE : result;
}
