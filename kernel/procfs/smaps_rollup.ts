// /proc/PID/smaps_rollup, as Linux 6.1 shows it (fs/proc/task_mmu.c,
// show_smaps_rollup): one header line spanning the regions, then the totals
// of every present page of every region. A page mapped by two or more
// page tables (the frame's mapCount) is shared, else private; its
// proportional share (Pss) is its size divided by that count, summed in
// 1/4096ths of a byte as Linux does (PSS_SHIFT). An anonymous page is
// always dirty: it has nothing to be clean against, and Linux's are dirty
// from the write that made them (the kernel's writes, through the direct
// map, leave no dirty bit in the user's page table here, where Linux's go
// through the user's mapping and do). A cache page is dirty when its page
// table entry is, or when it holds the only copy of its bytes
// (FRAME_DIRTY: tmpfs data, written shared pages). The zero page is
// nobody's, as Linux's vm_normal_page says. A swap entry counts in Swap,
// and in SwapPss its size divided by the page tables holding its slot.
// There is no huge page, and MADV_FREE drops pages at once, so LazyFree is 0.
import { formatInto } from "../lib/format";
import { AddressSpace, regionsOf } from "../mm/address_space";
import { FRAME_DIRTY, FrameState, PAGE_SIZE, frame, frameNumber } from "../mm/frame";
import { MemoryObject } from "../mm/memory_object";
import { PTE_ACCESSED, PTE_ADDRESS, PTE_DIRTY, PTE_HUGE, PTE_PRESENT, isSwapPte, swapEntryOfPte } from "../mm/page_table";
import { swapCount } from "../mm/swap_area";
import { REGION_LOCKED, regionAt } from "../mm/region";
import { isVdsoObject } from "../mm/vdso";

const PSS_SHIFT: u32 = 12;

// The totals, in bytes (the Pss ones shifted by PSS_SHIFT).
let resident: u64 = 0;
let pss: u64 = 0;
let pssDirty: u64 = 0;
let pssAnon: u64 = 0;
let pssFile: u64 = 0;
let pssShmem: u64 = 0;
let sharedClean: u64 = 0;
let sharedDirty: u64 = 0;
let privateClean: u64 = 0;
let privateDirty: u64 = 0;
let referenced: u64 = 0;
let anonymous: u64 = 0;
let pssLocked: u64 = 0;
let swap: u64 = 0;
let swapPss: u64 = 0;

/** Linux's smaps_pte_entry for a swap entry. */
function accountSwap(entry: u64): void {
  const holders = swapCount(swapEntryOfPte(entry));
  swap += PAGE_SIZE;
  swapPss += holders > 1 ? (<u64>PAGE_SIZE << PSS_SHIFT) / <u64>holders : <u64>PAGE_SIZE << PSS_SHIFT;
}

/** Linux's smaps_account and smaps_page_accumulate for one present page. */
function account(entry: u64, locked: bool): void {
  const f = frame(frameNumber(<u32>(entry & PTE_ADDRESS)));
  if (f.state != FrameState.Anonymous && f.state != FrameState.FileCache) return; // the zero page
  const size = <u64>PAGE_SIZE;
  const isAnonymous = f.state == FrameState.Anonymous;
  if (isAnonymous) anonymous += size;
  resident += size;
  if ((entry & PTE_ACCESSED) != 0) referenced += size;
  const shared = f.mapCount >= 2;
  const share = shared ? (size << PSS_SHIFT) / <u64>f.mapCount : size << PSS_SHIFT;
  pss += share;
  if (isAnonymous) pssAnon += share;
  else {
    // An object with no file behind it, other than the vDSO, is shared anonymous memory (Linux's shmem).
    const object = changetype<MemoryObject>(f.owner);
    if (object.owner == 0 && !isVdsoObject(object)) pssShmem += share;
    else pssFile += share;
  }
  if (locked) pssLocked += share;
  if (isAnonymous || (entry & PTE_DIRTY) != 0 || (f.flags & FRAME_DIRTY) != 0) {
    pssDirty += share;
    if (shared) sharedDirty += size;
    else privateDirty += size;
  } else if (shared) sharedClean += size;
  else privateClean += size;
}

/** The present pages of [start, end) under `table` (of `level`, covering from `base`). */
function walk(table: u32, level: u32, base: u64, start: u64, end: u64, locked: bool): void {
  const span = <u64>PAGE_SIZE << (9 * (level - 1));
  const first = <u32>((max(start, base) - base) / span);
  for (let i = first; i < 512; i++) {
    const at = base + <u64>i * span;
    if (at >= end) return;
    const entry = load<u64>(table + i * 8);
    if ((entry & PTE_PRESENT) == 0) {
      if (level == 1 && isSwapPte(entry)) accountSwap(entry);
      continue;
    }
    if (level == 1) account(entry, locked);
    else if ((entry & PTE_HUGE) == 0) walk(<u32>(entry & PTE_ADDRESS), level - 1, at, start, end, locked); // user space has no 2 MiB pages
  }
}

@inline function kib(bytes: u64): u64 {
  return bytes >> 10;
}

/** Writes smaps_rollup of `space` at `into` (at most `capacity` bytes); returns the length. */
export function formatSmapsRollup(space: AddressSpace, into: u32, capacity: u32): u32 {
  resident = pss = pssDirty = pssAnon = pssFile = pssShmem = 0;
  sharedClean = sharedDirty = privateClean = privateDirty = referenced = anonymous = pssLocked = 0;
  swap = swapPss = 0;
  const regions = regionsOf(space);
  if (regions.count == 0) return 0; // Linux: nothing at all for an empty address space
  for (let i: u32 = 0; i < regions.count; i++) {
    const region = regionAt(regions, i);
    walk(space.root, 4, 0, region.start, region.end, (region.flags & REGION_LOCKED) != 0);
  }
  const low = regionAt(regions, 0).start;
  const high = regionAt(regions, regions.count - 1).end;
  // Linux pads the header to the column where maps shows names (seq_pad: 25 + 6 * sizeof(void *) - 1).
  let n = formatInto(into, capacity, "%08x-%08x ---p 00000000 00:00 0", low, high);
  while (n < 72) store<u8>(into + n++, 0x20);
  n += formatInto(into + n, capacity - n, " [rollup]\n");
  const shifted = PSS_SHIFT + 10;
  n += formatInto(into + n, capacity - n, "Rss:            %8d kB\nPss:            %8d kB\nPss_Dirty:      %8d kB\n",
    kib(resident), pss >> shifted, pssDirty >> shifted);
  n += formatInto(into + n, capacity - n, "Pss_Anon:       %8d kB\nPss_File:       %8d kB\nPss_Shmem:      %8d kB\n",
    pssAnon >> shifted, pssFile >> shifted, pssShmem >> shifted);
  n += formatInto(into + n, capacity - n, "Shared_Clean:   %8d kB\nShared_Dirty:   %8d kB\nPrivate_Clean:  %8d kB\n",
    kib(sharedClean), kib(sharedDirty), kib(privateClean));
  n += formatInto(into + n, capacity - n, "Private_Dirty:  %8d kB\nReferenced:     %8d kB\nAnonymous:      %8d kB\n",
    kib(privateDirty), kib(referenced), kib(anonymous));
  n += formatInto(into + n, capacity - n, "LazyFree:       %8d kB\nAnonHugePages:  %8d kB\nShmemPmdMapped: %8d kB\n", 0, 0, 0);
  n += formatInto(into + n, capacity - n, "FilePmdMapped:  %8d kB\nShared_Hugetlb: %8d kB\nPrivate_Hugetlb: %7d kB\n", 0, 0, 0);
  n += formatInto(into + n, capacity - n, "Swap:           %8d kB\nSwapPss:        %8d kB\nLocked:         %8d kB\n",
    kib(swap), kib(swapPss >> PSS_SHIFT), pssLocked >> shifted);
  return min(n, capacity);
}
