// What an address space uses, in pages, as Linux's task_mem reports it in
// /proc/PID/status: sizes from the regions (VmSize, VmLck, VmData, VmStk,
// VmExe, VmLib), resident pages by kind from the page tables and the frame
// database (RssAnon, RssFile, RssShmem), and the page tables themselves
// (VmPTE). Nothing is counted as it happens: a report walks what is there.
import { AddressSpace, regionsOf } from "./address_space";
import { FrameState, PAGE_SIZE, frame, frameNumber } from "./frame";
import { MemoryObject } from "./memory_object";
import { PTE_ADDRESS, PTE_HUGE, PTE_PRESENT } from "./page_table";
import { PROT_EXEC, PROT_WRITE, REGION_LOCKED, REGION_SHARED, REGION_STACK, regionAt } from "./region";
import { isVdsoObject } from "./vdso";

/**
 * Pages, by what Linux calls them (u64: mappings may exceed RAM by far).
 *
 *   0 mapped (total_vm)  8 locked (of locked regions: locked_vm)
 *  16 data (private, writable, not stack: data_vm)  24 stack (stack_vm)
 *  32 program (executable, not writable, of the program's file: the text of VmExe)
 *  40 executable (executable, not writable, not stack: exec_vm; VmLib is the part not the program's)
 *  48 anonymous  56 file (page-cache pages of files and the vDSO)  64 shared (shared anonymous memory)
 *  72 tables (page tables below the root: Linux's mm_pgtables_bytes leaves out the top level too)
 */
@unmanaged export class SpaceUsage {
  mapped: u64;
  locked: u64;
  data: u64;
  stack: u64;
  program: u64;
  executable: u64;
  anonymous: u64;
  file: u64;
  shared: u64;
  tables: u64;
}
export const SPACE_USAGE_SIZE: u32 = 80;

const USER_HALF_ENTRIES: u32 = 256; // of the root table

function countLeaf(entry: u64, pages: u64, usage: SpaceUsage): void {
  const f = frame(frameNumber(<u32>(entry & PTE_ADDRESS)));
  if (f.state == FrameState.Anonymous) usage.anonymous += pages;
  else if (f.state == FrameState.FileCache) {
    const object = changetype<MemoryObject>(f.owner);
    // An object with no file behind it, other than the vDSO, is shared anonymous memory.
    if (object.owner == 0 && !isVdsoObject(object)) usage.shared += pages;
    else usage.file += pages;
  }
  // The zero page is nobody's: Linux does not count it either.
}

function walkTables(table: u32, level: u32, entries: u32, usage: SpaceUsage): void {
  for (let i: u32 = 0; i < entries; i++) {
    const entry = load<u64>(table + i * 8);
    if ((entry & PTE_PRESENT) == 0) continue;
    if (level == 1 || (level == 2 && (entry & PTE_HUGE) != 0)) {
      countLeaf(entry, level == 1 ? 1 : 512, usage);
      continue;
    }
    usage.tables++;
    walkTables(<u32>(entry & PTE_ADDRESS), level - 1, 512, usage);
  }
}

/** Fills `usage` for `space`. */
export function measureSpace(space: AddressSpace, usage: SpaceUsage): void {
  memory.fill(changetype<u32>(usage), 0, SPACE_USAGE_SIZE);
  const regions = regionsOf(space);
  for (let i: u32 = 0; i < regions.count; i++) {
    const region = regionAt(regions, i);
    const pages = (region.end - region.start) / PAGE_SIZE;
    usage.mapped += pages;
    if ((region.flags & REGION_LOCKED) != 0) usage.locked += pages;
    if ((region.flags & REGION_STACK) != 0) usage.stack += pages;
    else if ((region.protection & PROT_WRITE) != 0) {
      if ((region.flags & REGION_SHARED) == 0) usage.data += pages;
    } else if ((region.protection & PROT_EXEC) != 0) {
      usage.executable += pages;
      if (region.object != null && region.object == space.program) usage.program += pages;
    }
  }
  walkTables(space.root, 4, USER_HALF_ENTRIES, usage);
}
