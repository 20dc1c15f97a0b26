// The vDSO in every process: a read-only page of clock parameters (the
// vvar page) and, right above it, the kernel's little shared object
// (kernel/arch/x86_64/vdso/vdso.c) whose ELF header address the program
// gets as AT_SYSINFO_EHDR. libc then reads the clock without a system call.
//
// Both are served as one pseudo-file through the page cache, like the pages
// of a program: page 0 is the vvar page, pages 1.. are the image. Mappings,
// fork, exit, reclaim and the frame audit need nothing of their own, and
// all processes share the same frames.
import { LayoutItem, layout } from "../arch/x86_64/cpu";
import { publishClock } from "../time/clock";
import { AddressSpace, regionsOf } from "./address_space";
import { PAGE_SIZE } from "./frame";
import { PROT_EXEC, PROT_READ, REGION_FILE, Region, addRegion } from "./region";

/** The page-cache pseudo-inode of the vDSO: above every initramfs file, below the shared anonymous objects. */
export const VDSO_INODE: i32 = 0x3fffffff;

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
}

@inline export function isVdso(inode: i32): bool {
  return inode == VDSO_INODE;
}

/** Size of the pseudo-file: the vvar page and the image. */
export function vdsoBytes(): u32 {
  return PAGE_SIZE + imageBytes;
}

/** Physical address of page `index` of the pseudo-file. */
export function vdsoPage(index: u32): u32 {
  return index == 0 ? <u32>vvarPage : imageStart + (index - 1) * PAGE_SIZE;
}

function mapPart(space: AddressSpace, start: u64, offset: u64, bytes: u64, protection: u32): bool {
  const end = start + ((bytes + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1));
  const region: Region | null = addRegion(regionsOf(space), start, end, protection, REGION_FILE);
  if (region == null) return false;
  region.inode = VDSO_INODE;
  region.fileOffset = offset;
  region.fileBytes = bytes;
  return true;
}

/**
 * Adds the vvar page (read-only) at `top` minus the pseudo-file's size and
 * the image (read and execute) above it. Returns the image's address (for
 * AT_SYSINFO_EHDR), 0 when out of memory. Nothing is mapped until touched.
 */
export function mapVdso(space: AddressSpace, top: u64): u64 {
  const base = top - ((<u64>vdsoBytes() + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1));
  if (!mapPart(space, base, 0, PAGE_SIZE, PROT_READ)) return 0;
  if (!mapPart(space, base + PAGE_SIZE, PAGE_SIZE, imageBytes, PROT_READ | PROT_EXEC)) return 0;
  return base + PAGE_SIZE;
}
