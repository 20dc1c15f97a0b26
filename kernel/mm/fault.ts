// User page faults, one handler per kind (in the manner of SerenityOS's
// Region.cpp): demand-zero, file-backed, and write-to-zero-page; each
// answers with a FaultResponse. Kernel writes into user memory come here
// too (user_copy.ts), so they fault pages in exactly as the program would.
import { copyPage, invlpg } from "../arch/x86_64/cpu";
import { inodeData } from "../fs/initramfs";
import { AddressSpace, regionsOf, zeroPage } from "./address_space";
import { allocPage } from "./buddy";
import { FrameState, PAGE_SIZE, frame, frameNumber } from "./frame";
import {
  MapResult, PTE_ADDRESS, PTE_NO_EXECUTE, PTE_PRESENT, PTE_USER, PTE_WRITABLE, leafEntry, mapPage, remapPage,
} from "./page_table";
import { PROT_EXEC, PROT_READ, PROT_WRITE, REGION_FILE, Region, findRegion } from "./region";

export const enum FaultResponse {
  Continue = 0, // resolved: retry the access
  Kill = 1, // no region, or the region forbids this access: SIGSEGV
  OutOfMemory = 2, // no frame for the page
}

/** What a page fault asks for (x86 page-fault error code bits). */
export const FAULT_PRESENT: u32 = 1;
export const FAULT_WRITE: u32 = 2;
export const FAULT_USER: u32 = 4;
export const FAULT_FETCH: u32 = 16;

// System-wide counts, for /proc-style reports and benchmarks.
export let zeroPageMapsTotal: u64 = 0;
export let demandZeroFaultsTotal: u64 = 0;
export let fileFaultsTotal: u64 = 0;

/**
 * Page-table flags for a user page of `region`. A PROT_NONE page stays
 * mapped (its contents survive a later mprotect) but without the user bit,
 * so every user access faults and is refused.
 */
export function pageFlags(region: Region, writable: bool): u64 {
  const user = (region.protection & (PROT_READ | PROT_WRITE | PROT_EXEC)) != 0 ? PTE_USER : 0;
  return user | (writable ? PTE_WRITABLE : 0) | ((region.protection & PROT_EXEC) != 0 ? 0 : PTE_NO_EXECUTE);
}

function permits(region: Region, access: u32): bool {
  if (access & FAULT_FETCH) return (region.protection & PROT_EXEC) != 0;
  if (access & FAULT_WRITE) return (region.protection & PROT_WRITE) != 0;
  return (region.protection & (PROT_READ | PROT_WRITE | PROT_EXEC)) != 0;
}

/** Maps a frame the caller just allocated (reference count 1) as this mapping's. */
function mapNewFrame(space: AddressSpace, region: Region, page: u64, physical: u32, writable: bool): FaultResponse {
  if (mapPage(space.root, page, physical, pageFlags(region, writable)) != MapResult.Ok) return FaultResponse.OutOfMemory;
  frame(frameNumber(physical)).mapCount = 1;
  space.residentPages++;
  return FaultResponse.Continue;
}

/** Anonymous memory never touched: reads share the zero page, writes get a zeroed frame. */
function handleZeroFault(space: AddressSpace, region: Region, page: u64, write: bool): FaultResponse {
  if (!write) {
    const zero = zeroPage();
    if (zero == 0) return FaultResponse.OutOfMemory;
    if (mapPage(space.root, page, zero, pageFlags(region, false)) != MapResult.Ok) return FaultResponse.OutOfMemory;
    space.zeroPageMaps++;
    zeroPageMapsTotal++;
    return FaultResponse.Continue;
  }
  const physical = allocPage(FrameState.Anonymous, true);
  if (physical == 0) return FaultResponse.OutOfMemory;
  space.demandZeroFaults++;
  demandZeroFaultsTotal++;
  return mapNewFrame(space, region, page, physical, true);
}

/** A page of an initramfs file: copied into a new frame, zero past the file's bytes. */
function handleFileFault(space: AddressSpace, region: Region, page: u64, write: bool): FaultResponse {
  const physical = allocPage(FrameState.Anonymous, false);
  if (physical == 0) return FaultResponse.OutOfMemory;
  const offsetInRegion = page - region.start;
  const bytes = <u32>min(<u64>PAGE_SIZE, region.fileBytes - offsetInRegion);
  const source = inodeData(region.inode) + <u32>(region.fileOffset + offsetInRegion);
  if (bytes == PAGE_SIZE && (source & (PAGE_SIZE - 1)) == 0) {
    copyPage(physical, source);
  } else {
    memory.copy(physical, source, bytes);
    memory.fill(physical + bytes, 0, PAGE_SIZE - bytes);
  }
  space.fileFaults++;
  fileFaultsTotal++;
  return mapNewFrame(space, region, page, physical, (region.protection & PROT_WRITE) != 0);
}

/** A write to a page mapped read-only although its region is writable. */
function handleWriteToReadOnlyPage(space: AddressSpace, region: Region, page: u64, entry: u64): FaultResponse {
  const physical = <u32>(entry & PTE_ADDRESS);
  if (frame(frameNumber(physical)).state != FrameState.ZeroPage) {
    // Ours alone (copy-on-write arrives with fork): just allow the write.
    remapPage(space.root, page, physical, pageFlags(region, true));
    return FaultResponse.Continue;
  }
  const fresh = allocPage(FrameState.Anonymous, true);
  if (fresh == 0) return FaultResponse.OutOfMemory;
  remapPage(space.root, page, fresh, pageFlags(region, true));
  frame(frameNumber(fresh)).mapCount = 1;
  space.residentPages++;
  space.demandZeroFaults++;
  demandZeroFaultsTotal++;
  return FaultResponse.Continue;
}

/** Resolves a fault at `address` for an access described by FAULT_* bits. */
export function handleUserFault(space: AddressSpace, address: u64, access: u32): FaultResponse {
  const region = findRegion(regionsOf(space), address);
  if (region == null || !permits(region, access)) return FaultResponse.Kill;
  const page = address & ~(<u64>PAGE_SIZE - 1);
  const write = (access & FAULT_WRITE) != 0;
  const entry = leafEntry(space.root, page);
  if (entry & PTE_PRESENT) {
    if (write && (entry & PTE_WRITABLE) == 0) return handleWriteToReadOnlyPage(space, region, page, entry);
    invlpg(page); // resolved already: the CPU acted on a stale TLB entry
    return FaultResponse.Continue;
  }
  if ((region.flags & REGION_FILE) != 0 && page - region.start < region.fileBytes) {
    return handleFileFault(space, region, page, write);
  }
  return handleZeroFault(space, region, page, write);
}
