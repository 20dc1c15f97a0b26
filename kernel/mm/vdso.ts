// The vDSO in every process: a read-only page of clock parameters (the
// vvar page) and, right above it, the kernel's little shared object
// (kernel/arch/x86_64/vdso/vdso.c) whose ELF header address the program
// gets as AT_SYSINFO_EHDR. libc then reads the clock without a system call.
//
// Both are one memory object served through the page cache, like the pages
// of a program: page 0 is the vvar page, pages 1.. are the image. Mappings,
// fork, exit, reclaim and the frame audit need nothing of their own, and
// all processes share the same frames.
import { LayoutItem, layout } from "../arch/x86_64/cpu";
import { publishClock } from "../time/clock";
import { AddressSpace, USER_START, regionsOf } from "./address_space";
import { PAGE_SIZE } from "./frame";
import { findCachedPage } from "./page_cache";
import { MEMORY_OBJECT_SIZE, MemoryObject, initMemoryObject } from "./memory_object";
import { PROT_EXEC, PROT_READ, REGION_FILE, Region, addRegion, attachObject, findGapBelow } from "./region";

// Held by the kernel for good, so it is never released.
const vdsoObject = changetype<MemoryObject>(memory.data(MEMORY_OBJECT_SIZE, 8));

const vvarPage = memory.data(PAGE_SIZE, PAGE_SIZE);
let imageStart: u32 = 0;
let imageBytes: u32 = 0;

/** Fills the vvar page; after initClock, before the first process. */
export function initVdso(): void {
  imageStart = <u32>layout(LayoutItem.VdsoImageStart);
  imageBytes = <u32>layout(LayoutItem.VdsoImageEnd) - imageStart;
  assert(imageBytes >= 64 && load<u32>(imageStart) == 0x464c457f, "initVdso: the embedded vDSO is not an ELF file");
  assert((imageStart & (PAGE_SIZE - 1)) == 0, "initVdso: the embedded vDSO is not page-aligned");
  publishClock(vvarPage);
  initMemoryObject(vdsoObject, readVdsoPage, null, vdsoBytes(), 0);
}

/** clock_settime moved CLOCK_REALTIME: the vvar page, and the copy processes map if it is cached, get the new time zero. */
export function republishClock(): void {
  publishClock(vvarPage);
  const page = findCachedPage(vdsoObject, 0);
  if (page != 0) publishClock(page);
}

/** Size of the object: the vvar page and the image. */
function vdsoBytes(): u32 {
  return PAGE_SIZE + imageBytes;
}

function readVdsoPage(object: MemoryObject, index: u32, page: u32): i32 {
  const from = index == 0 ? <u32>vvarPage : imageStart + (index - 1) * PAGE_SIZE;
  const bytes = index == 0 ? PAGE_SIZE : min(PAGE_SIZE, imageBytes - (index - 1) * PAGE_SIZE);
  memory.copy(page, from, bytes);
  memory.fill(page + bytes, 0, PAGE_SIZE - bytes);
  return 0;
}

export function isVdsoObject(object: MemoryObject | null): bool {
  return object == vdsoObject;
}

function mapPart(space: AddressSpace, start: u64, offset: u64, bytes: u64, protection: u32): bool {
  const end = start + ((bytes + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1));
  const region: Region | null = addRegion(regionsOf(space), start, end, protection, REGION_FILE);
  if (region == null) return false;
  attachObject(region, vdsoObject, changetype<u32>(space));
  region.fileOffset = offset;
  region.fileBytes = bytes;
  return true;
}

/**
 * Adds the vvar page (read-only) and the image (read and execute) above
 * it in the highest free gap under the space's mmap top, as Linux places
 * the vDSO after the program and its interpreter. Returns the image's
 * address (for AT_SYSINFO_EHDR), 0 when out of memory or room. Nothing is
 * mapped until touched.
 */
export function mapVdso(space: AddressSpace): u64 {
  const size = (<u64>vdsoBytes() + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
  const base = findGapBelow(regionsOf(space), size, USER_START, space.mmapTop);
  if (base == 0 || !mapPart(space, base, 0, PAGE_SIZE, PROT_READ)) return 0;
  if (!mapPart(space, base + PAGE_SIZE, PAGE_SIZE, imageBytes, PROT_READ | PROT_EXEC)) return 0;
  return base + PAGE_SIZE;
}
