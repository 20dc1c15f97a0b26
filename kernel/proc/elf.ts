// Validating an ELF64 executable before anything is mapped. A file that
// fails any check gets ENOEXEC with the reason; nothing in it can make the
// kernel read outside the file or map outside user space.
import { PAGE_SIZE } from "../mm/frame";

export const enum ElfCheck {
  Ok = 0,
  TooSmall,
  BadMagic,
  NotElf64,
  NotLittleEndian,
  BadVersion,
  NotExecutable, // not ET_EXEC
  WrongMachine, // not x86-64
  BadProgramHeaders, // wrong entry size, or the table is outside the file
  TooManySegments,
  NoSegments,
  SegmentOutsideFile,
  SegmentTooLarge, // file size above memory size, or beyond user space
  MisalignedSegment, // address and offset disagree modulo the page size
  OverlappingSegments,
  EntryOutsideCode, // entry point not inside an executable segment
  NeedsInterpreter, // dynamically linked: no loader here
}

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PF_X: u32 = 1;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;
const HEADER_SIZE: u32 = 64;
const PROGRAM_HEADER_SIZE: u32 = 56;
export const MAX_SEGMENTS: u32 = 16;
const USER_LIMIT: u64 = 0x00007f0000000000; // segments stay well below the stack

/**
 * A loadable segment, as checked:
 *   0 address(u64) 8 memorySize(u64) 16 offset(u64) 24 fileSize(u64) 32 flags(u32) 36 unused
 */
@unmanaged export class Segment {
  address: u64;
  memorySize: u64;
  offset: u64;
  fileSize: u64;
  flags: u32;
  unused: u32;
}
const SEGMENT_SIZE: u32 = 40;
const segments = memory.data(MAX_SEGMENTS * SEGMENT_SIZE, 8);

/** What the last successful check found. */
export let elfEntry: u64 = 0;
export let elfProgramHeaders: u64 = 0; // user address of the program header table, 0 if not loaded
export let elfProgramHeaderCount: u32 = 0;
export let elfSegmentCount: u32 = 0;

@inline export function elfSegment(i: u32): Segment {
  return changetype<Segment>(segments + i * SEGMENT_SIZE);
}

@inline function pageDown(x: u64): u64 {
  return x & ~(<u64>PAGE_SIZE - 1);
}

@inline function pageUp(x: u64): u64 {
  return pageDown(x + PAGE_SIZE - 1);
}

/** Checks the ELF image of `size` bytes at linear address `image`. */
export function checkElf(image: u32, size: u32): ElfCheck {
  const header = checkElfHeader(image, size);
  if (header != ElfCheck.Ok) return header;
  return checkElfSegments(image, image + <u32>elfTableOffset, size);
}

/** Where the program header table is and how long (after checkElfHeader). */
export let elfTableOffset: u64 = 0;
export let elfTableBytes: u32 = 0;

/**
 * Checks the file header (its first 64 bytes at `image`) of a file of
 * `size` bytes, and that its program header table lies in the file
 * (elfTableOffset, elfTableBytes say where, for the caller to read it).
 */
export function checkElfHeader(image: u32, size: u64): ElfCheck {
  elfSegmentCount = 0;
  if (size < HEADER_SIZE) return ElfCheck.TooSmall;
  if (load<u32>(image) != 0x464c457f) return ElfCheck.BadMagic; // "\x7fELF"
  if (load<u8>(image + 4) != 2) return ElfCheck.NotElf64;
  if (load<u8>(image + 5) != 1) return ElfCheck.NotLittleEndian;
  if (load<u8>(image + 6) != 1 || load<u32>(image + 20) != 1) return ElfCheck.BadVersion;
  if (load<u16>(image + 16) != ET_EXEC) return ElfCheck.NotExecutable;
  if (load<u16>(image + 18) != EM_X86_64) return ElfCheck.WrongMachine;
  const tableOffset = load<u64>(image + 32);
  const entrySize = <u32>load<u16>(image + 54);
  const count = <u32>load<u16>(image + 56);
  // Linux reads the table in one piece of at most a page (load_elf_phdrs).
  if (entrySize != PROGRAM_HEADER_SIZE || count == 0 || count * PROGRAM_HEADER_SIZE > PAGE_SIZE) return ElfCheck.BadProgramHeaders;
  if (tableOffset > size || <u64>count * PROGRAM_HEADER_SIZE > size - tableOffset) return ElfCheck.BadProgramHeaders;
  elfTableOffset = tableOffset;
  elfTableBytes = count * PROGRAM_HEADER_SIZE;
  return ElfCheck.Ok;
}

/** Checks the program headers (the table at `table`) of a file whose header checkElfHeader accepted. */
export function checkElfSegments(image: u32, table: u32, size: u64): ElfCheck {
  const entry = load<u64>(image + 24);
  const tableOffset = load<u64>(image + 32);
  const count = <u32>load<u16>(image + 56);
  let programHeaders: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const header = table + i * PROGRAM_HEADER_SIZE;
    const type = load<u32>(header);
    if (type == PT_INTERP) return ElfCheck.NeedsInterpreter;
    if (type != PT_LOAD) continue;
    if (elfSegmentCount == MAX_SEGMENTS) return ElfCheck.TooManySegments;
    const offset = load<u64>(header + 8);
    const address = load<u64>(header + 16);
    const fileSize = load<u64>(header + 32);
    const memorySize = load<u64>(header + 40);
    if (offset > size || fileSize > size - offset) return ElfCheck.SegmentOutsideFile;
    if (fileSize > memorySize || address < 0x10000 || address > USER_LIMIT || memorySize > USER_LIMIT - address) {
      return ElfCheck.SegmentTooLarge;
    }
    if ((address & (PAGE_SIZE - 1)) != (offset & (PAGE_SIZE - 1))) return ElfCheck.MisalignedSegment;
    const s = elfSegment(elfSegmentCount++);
    s.address = address;
    s.memorySize = memorySize;
    s.offset = offset;
    s.fileSize = fileSize;
    s.flags = load<u32>(header + 4);
    // The segment whose file bytes hold the table's first byte maps it (as
    // Linux finds AT_PHDR), even if a count larger than the real table
    // reaches past that segment's end.
    if (tableOffset >= offset && tableOffset - offset < fileSize) programHeaders = address + (tableOffset - offset);
  }
  if (elfSegmentCount == 0) return ElfCheck.NoSegments;
  // Page-granular overlap would put two segments in one region.
  for (let i: u32 = 0; i < elfSegmentCount; i++) {
    for (let j = i + 1; j < elfSegmentCount; j++) {
      const a = elfSegment(i);
      const b = elfSegment(j);
      if (pageDown(a.address) < pageUp(b.address + b.memorySize) && pageDown(b.address) < pageUp(a.address + a.memorySize)) {
        return ElfCheck.OverlappingSegments;
      }
    }
  }
  let entryInCode = false;
  for (let i: u32 = 0; i < elfSegmentCount; i++) {
    const s = elfSegment(i);
    if ((s.flags & PF_X) != 0 && entry >= s.address && entry < s.address + s.memorySize) entryInCode = true;
  }
  if (!entryInCode) return ElfCheck.EntryOutsideCode;
  elfEntry = entry;
  elfProgramHeaders = programHeaders;
  elfProgramHeaderCount = count;
  return ElfCheck.Ok;
}

export function elfCheckName(check: ElfCheck): string {
  switch (check) {
    case ElfCheck.Ok: return "ok";
    case ElfCheck.TooSmall: return "file smaller than an ELF header";
    case ElfCheck.BadMagic: return "not an ELF file";
    case ElfCheck.NotElf64: return "not 64-bit ELF";
    case ElfCheck.NotLittleEndian: return "not little-endian";
    case ElfCheck.BadVersion: return "unknown ELF version";
    case ElfCheck.NotExecutable: return "not an executable (ET_EXEC)";
    case ElfCheck.WrongMachine: return "not an x86-64 program";
    case ElfCheck.BadProgramHeaders: return "program header table malformed or outside the file";
    case ElfCheck.TooManySegments: return "too many loadable segments";
    case ElfCheck.NoSegments: return "no loadable segment";
    case ElfCheck.SegmentOutsideFile: return "segment data outside the file";
    case ElfCheck.SegmentTooLarge: return "segment too large or outside user space";
    case ElfCheck.MisalignedSegment: return "segment address and offset misaligned";
    case ElfCheck.OverlappingSegments: return "segments overlap";
    case ElfCheck.EntryOutsideCode: return "entry point outside the executable segments";
    case ElfCheck.NeedsInterpreter: return "dynamically linked (no program interpreter here)";
    default: return "?";
  }
}
