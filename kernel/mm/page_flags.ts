// A frame as Linux's /proc/kpageflags and /proc/kpagecount describe it
// (include/uapi/linux/kernel-page-flags.h, fs/proc/page.c): the stable
// flag bits the frame database can answer truthfully, and the map count.
// Bits for what this kernel does not have (swap, huge and compound pages,
// KSM, idle tracking, poisoned memory) are never set.
import {
  FRAME_ACTIVE, FRAME_BUDDY_HEAD, FRAME_DIRTY, FRAME_LOCKED, FRAME_REFERENCED, FRAME_SLAB, FRAME_SWAP_CACHE, FRAME_WRITEBACK, Frame,
  FrameState, SECTION_COUNT, FRAMES_PER_SECTION, frame, sectionRecords,
} from "./frame";

export const KPF_LOCKED: u32 = 0;
export const KPF_REFERENCED: u32 = 2;
export const KPF_UPTODATE: u32 = 3;
export const KPF_DIRTY: u32 = 4;
export const KPF_LRU: u32 = 5;
export const KPF_ACTIVE: u32 = 6;
export const KPF_SLAB: u32 = 7;
export const KPF_WRITEBACK: u32 = 8;
export const KPF_BUDDY: u32 = 10;
export const KPF_MMAP: u32 = 11;
export const KPF_ANON: u32 = 12;
export const KPF_SWAPCACHE: u32 = 13;
export const KPF_SWAPBACKED: u32 = 14;
export const KPF_NOPAGE: u32 = 20;
export const KPF_ZERO_PAGE: u32 = 24;
export const KPF_PGTABLE: u32 = 26;
/** One of Linux's "kernel hacking" bits (PG_reserved): memory the allocator never had. */
export const KPF_RESERVED: u32 = 32;

@inline function bit(n: u32): u64 {
  return <u64>1 << n;
}

/** Whether `pfn` has a record (it may still be a hole). */
@inline function recorded(pfn: u32): bool {
  return pfn < SECTION_COUNT * FRAMES_PER_SECTION && sectionRecords(pfn / FRAMES_PER_SECTION) != 0;
}

@inline function copied(f: Frame, flag: u16, kpf: u32): u64 {
  return (f.flags & flag) != 0 ? bit(kpf) : 0;
}

/** /proc/kpageflags' entry for frame `pfn`. */
export function kpageFlags(pfn: u32): u64 {
  if (!recorded(pfn)) return bit(KPF_NOPAGE);
  const f = frame(pfn);
  switch (<u32>f.state) {
    case FrameState.Hole: return bit(KPF_NOPAGE);
    // Linux flags only the first frame of a free block, as here.
    case FrameState.Free: return copied(f, FRAME_BUDDY_HEAD, KPF_BUDDY);
    case FrameState.FirmwareReserved:
    case FrameState.KernelImage:
    case FrameState.BootData:
    case FrameState.FrameDatabase: return bit(KPF_RESERVED);
    case FrameState.PageTable: return bit(KPF_PGTABLE);
    case FrameState.KernelObject: return copied(f, FRAME_SLAB, KPF_SLAB);
    case FrameState.ZeroPage: return bit(KPF_ZERO_PAGE) | bit(KPF_UPTODATE);
    // Not on an LRU list: anonymous pages go out by swap_out.ts's own clock.
    // Linux sets PG_dirty on such pages only in the swap cache, until written.
    case FrameState.Anonymous: {
      let flags = bit(KPF_ANON) | bit(KPF_SWAPBACKED) | (f.mapCount != 0 ? bit(KPF_MMAP) : 0);
      flags |= copied(f, FRAME_SWAP_CACHE, KPF_SWAPCACHE) | copied(f, FRAME_DIRTY, KPF_DIRTY) | copied(f, FRAME_WRITEBACK, KPF_WRITEBACK);
      return flags | ((f.flags & FRAME_LOCKED) != 0 ? bit(KPF_LOCKED) : bit(KPF_UPTODATE)); // locked: still being read in
    }
    case FrameState.FileCache: {
      // Every cache page is on the active or the inactive list (reclaim.ts).
      let flags = bit(KPF_LRU) | copied(f, FRAME_ACTIVE, KPF_ACTIVE) | copied(f, FRAME_REFERENCED, KPF_REFERENCED);
      flags |= copied(f, FRAME_DIRTY, KPF_DIRTY) | copied(f, FRAME_WRITEBACK, KPF_WRITEBACK);
      flags |= (f.flags & FRAME_LOCKED) != 0 ? bit(KPF_LOCKED) : bit(KPF_UPTODATE); // locked: still being read in
      return flags | (f.mapCount != 0 ? bit(KPF_MMAP) : 0);
    }
    default: return 0;
  }
}

/**
 * /proc/kpagecount's entry: how many page tables map frame `pfn`. The zero
 * page is never counted, here as on Linux (page_mapcount of its struct
 * page stays 0), nor are frames no page table can map.
 */
export function kpageCount(pfn: u32): u64 {
  if (!recorded(pfn)) return 0;
  const f = frame(pfn);
  return f.state == FrameState.Anonymous || f.state == FrameState.FileCache ? <u64>f.mapCount : 0;
}
