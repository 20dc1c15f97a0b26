// The region record (Linux's vm_area_struct), apart from the set that
// keeps regions (region.ts), so that the reverse map (anon_family.ts) can
// use it without a cycle.
import { MemoryObject } from "./memory_object";

/**
 * One region, [start, end), page aligned.
 *
 *   0 start(u64)  8 end(u64)  16 protection  20 flags
 *  24 object (MemoryObject, 0 for anonymous memory; the region holds it)
 *  28 space (the AddressSpace the region belongs to, for walks from the object)
 *  32 fileOffset(u64): offset in the object of `start`
 *  40 fileBytes(u64): bytes from `start` that come from the object; the rest
 *     of the region reads as zeros (an ELF segment's .bss)
 *  48 nextMapping  52 previousMapping: the other regions mapping the same object
 *  56 family (AnonFamily, 0 until its first anonymous page: anon_family.ts)  60 familySlot: its place in the family
 */
@unmanaged export class Region {
  start: u64;
  end: u64;
  protection: u32;
  flags: u32;
  object: MemoryObject | null;
  space: u32;
  fileOffset: u64;
  fileBytes: u64;
  nextMapping: u32;
  previousMapping: u32;
  family: u32;
  familySlot: u32;
}
export const REGION_SIZE: u32 = 64;
