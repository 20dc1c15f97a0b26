// One ELF image (a program, or the interpreter it names) into a new
// address space: its headers are read and checked through the page
// cache, a place (its bias) is chosen, and each PT_LOAD becomes a
// file-backed region there. Nothing else of the file is read: page faults
// bring its pages in, the page where a segment's file bytes end as a copy
// with the rest zeroed, the pages after it as demand-zero memory
// (mm/fault.ts).
import { readInodeToKernel } from "../fs/file_io";
import { Inode, inodeSize } from "../fs/inode";
import { AddressSpace, USER_START, regionsOf, unmapRegions } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { MemoryObject } from "../mm/memory_object";
import {
  PROT_EXEC, PROT_READ, PROT_WRITE, REGION_FILE, addRegion, attachObject, findGapBelow, firstEndingAbove, regionAt,
} from "../mm/region";
import {
  ELF_HEADER_SIZE, ET_DYN, ElfCheck, ElfImage, MAX_PROGRAM_HEADER_BYTES, USER_LIMIT, checkElfHeader, checkElfSegments,
  checkInterpreterPath, elfSegment, programHeaderTableBytes, programHeaderTableOffset,
} from "./elf";
import { choosePieBase } from "./exec_layout";

/** Bytes of the buffer readElfHeaders reads into: the file header and the largest program header table. */
export const ELF_HEADERS_BYTES: u32 = ELF_HEADER_SIZE + MAX_PROGRAM_HEADER_BYTES;

/** Reads the headers of `inode` into `headers` and checks them into `image`. */
export function readElfHeaders(inode: Inode, headers: u32, image: ElfImage, asInterpreter: bool): ElfCheck {
  const size = inodeSize(inode);
  const read = readInodeToKernel(inode, headers, ELF_HEADER_SIZE, 0);
  if (read < 0) return ElfCheck.TooSmall;
  if (read < <i64>ELF_HEADER_SIZE) return checkElfHeader(headers, <u64>read, image);
  const check = checkElfHeader(headers, size, image);
  if (check != ElfCheck.Ok) return check;
  const bytes = programHeaderTableBytes(headers);
  const table = headers + ELF_HEADER_SIZE;
  if (readInodeToKernel(inode, table, bytes, programHeaderTableOffset(headers)) != <i64>bytes) return ElfCheck.BadProgramHeaders;
  return checkElfSegments(headers, table, size, image, asInterpreter);
}

/** Reads the interpreter path `image` names (at most PATH_MAX bytes) into `into`, and checks it. */
export function readInterpreterPath(inode: Inode, image: ElfImage, into: u32): ElfCheck {
  const length = image.interpreterLength;
  // The file was long enough when checked: a shorter read means it shrank since, a short read on Linux too.
  if (readInodeToKernel(inode, into, length, image.interpreterOffset) != <i64>length) return ElfCheck.InterpreterPathOutsideFile;
  return checkInterpreterPath(into, length);
}

export const enum Placement {
  /** A PIE that names an interpreter: near ELF_ET_DYN_BASE. */
  PieBase,
  /** A static PIE, or an interpreter: the highest room in the mmap area. */
  MmapArea,
}

/** What chooseBias answers when there is no room. */
export const NO_BIAS: u64 = U64.MAX_VALUE; // a bias is a multiple of the page size; this never is

@inline function pageDown(x: u64): u64 {
  return x & ~(<u64>PAGE_SIZE - 1);
}

@inline function pageUp(x: u64): u64 {
  return pageDown(x + PAGE_SIZE - 1);
}

/**
 * What to add to `image`'s addresses: 0 for ET_EXEC, which runs where it
 * was linked; for ET_DYN a place chosen as `placement` says, aligned to
 * the image's largest segment alignment when it is the program (Linux
 * aligns only the program, not its interpreter). NO_BIAS when there is
 * no room: a PIE must end below USER_LIMIT, the rest fit under the mmap top.
 */
export function chooseBias(space: AddressSpace, image: ElfImage, placement: Placement, isProgram: bool): u64 {
  if (image.type != ET_DYN) return 0;
  const size = pageUp(image.high) - image.low;
  const alignment = isProgram ? max(image.alignment, <u64>PAGE_SIZE) : <u64>PAGE_SIZE;
  let start: u64;
  if (placement == Placement.PieBase) {
    start = choosePieBase() & ~(alignment - 1);
    // Below USER_LIMIT it cannot reach the stack; the mmap area works around whatever it covers.
    if (start < USER_START || start > USER_LIMIT || size > USER_LIMIT - start) return NO_BIAS;
  } else {
    // Room for the image wherever the alignment falls in the gap.
    const slack = alignment - PAGE_SIZE;
    if (size + slack < size) return NO_BIAS;
    const gap = findGapBelow(regionsOf(space), size + slack, USER_START, space.mmapTop);
    if (gap == 0) return NO_BIAS;
    start = (gap + slack) & ~(alignment - 1);
  }
  return start - image.low;
}

function protectionOf(elfFlags: u32): u32 {
  return ((elfFlags & 4) != 0 ? PROT_READ : 0) | ((elfFlags & 2) != 0 ? PROT_WRITE : 0) | ((elfFlags & 1) != 0 ? PROT_EXEC : 0);
}

function rangeIsFree(space: AddressSpace, start: u64, end: u64): bool {
  const set = regionsOf(space);
  const i = firstEndingAbove(set, start);
  return i == set.count || regionAt(set, i).start >= end;
}

/**
 * Maps `image`'s segments, their addresses plus `bias`, as private
 * regions of `object` (the file). Returns the end of the highest one,
 * page aligned (where its heap may start), or 0 when out of memory.
 */
export function mapImage(space: AddressSpace, object: MemoryObject, image: ElfImage, bias: u64): u64 {
  let end: u64 = 0;
  for (let i: u32 = 0; i < image.segmentCount; i++) {
    const s = elfSegment(image, i);
    const address = s.address + bias;
    const start = pageDown(address);
    const segmentEnd = pageUp(address + s.memorySize);
    // Only an ET_EXEC interpreter can land on what is there (the program, linked at the same
    // addresses): Linux maps it MAP_FIXED, over it.
    if (!rangeIsFree(space, start, segmentEnd) && !unmapRegions(space, start, segmentEnd)) return 0;
    const region = addRegion(regionsOf(space), start, segmentEnd, protectionOf(s.flags), REGION_FILE);
    if (region == null) return 0;
    attachObject(region, object, changetype<u32>(space));
    region.fileOffset = pageDown(s.offset);
    region.fileBytes = (address - start) + s.fileSize;
    end = max(end, segmentEnd);
  }
  return end;
}
