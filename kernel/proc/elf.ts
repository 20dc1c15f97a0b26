// Validating an ELF64 image (a program, or the program interpreter it
// names) before anything is mapped. A file that fails any check is refused
// with the reason (exec answers ENOEXEC for a program, ELIBBAD for an
// interpreter); nothing in it can make the kernel read outside the file or
// map outside user space. What the checks find goes into an ElfImage
// record, with addresses as the file gives them: exec adds the bias.
import { USER_START } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";

export const enum ElfCheck {
  Ok = 0,
  TooSmall,
  BadMagic,
  NotElf64,
  NotLittleEndian,
  BadVersion,
  NotExecutable, // neither ET_EXEC nor ET_DYN
  WrongMachine, // not x86-64
  BadProgramHeaders, // wrong entry size, or the table is outside the file
  TooManySegments,
  NoSegments,
  SegmentOutsideFile,
  SegmentTooLarge, // file size above memory size, or beyond user space
  MisalignedSegment, // address and offset disagree modulo the page size
  OverlappingSegments,
  EntryOutsideCode, // entry point not inside an executable segment
  BadInterpreterPath, // PT_INTERP shorter than 2 bytes, longer than PATH_MAX, or not NUL-terminated
  InterpreterPathOutsideFile, // PT_INTERP's bytes lie past the end of the file (Linux: EIO)
}

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_GNU_STACK: u32 = 0x6474e551;
const PF_X: u32 = 1;
export const ET_EXEC: u16 = 2;
export const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
export const ELF_HEADER_SIZE: u32 = 64;
export const PROGRAM_HEADER_SIZE: u32 = 56;
// Linux reads the table in one piece of at most a page (load_elf_phdrs).
export const MAX_PROGRAM_HEADER_BYTES: u32 = PAGE_SIZE;
export const MAX_SEGMENTS: u32 = 16;
export const PATH_MAX: u32 = 4096;
/** No segment reaches beyond: well below the stack, wherever it is randomised to. */
export const USER_LIMIT: u64 = 0x00007f0000000000;

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

/**
 * One checked image.
 *
 *   0 type(u16: ET_EXEC or ET_DYN)  2 executableStack(u16: 1 when PT_GNU_STACK has PF_X)
 *   4 segmentCount  8 entry(u64)
 *  16 programHeaders(u64): address of the program header table, inside the segment whose
 *     file bytes hold its first byte (as Linux finds AT_PHDR); 0 if none does
 *  24 programHeaderCount  28 interpreterLength (PT_INTERP's size; 0 without one)
 *  32 interpreterOffset(u64)
 *  40 alignment(u64): the largest power-of-two p_align of a segment, rounded up to a page; 0 if none
 *  48 low(u64): first page of the lowest segment  56 high(u64): end of the highest segment
 *  64 segments: MAX_SEGMENTS Segment records
 */
@unmanaged export class ElfImage {
  type: u16;
  executableStack: u16;
  segmentCount: u32;
  entry: u64;
  programHeaders: u64;
  programHeaderCount: u32;
  interpreterLength: u32;
  interpreterOffset: u64;
  alignment: u64;
  low: u64;
  high: u64;
}
const SEGMENTS_AT: u32 = 64;
export const ELF_IMAGE_SIZE: u32 = SEGMENTS_AT + MAX_SEGMENTS * SEGMENT_SIZE;

@inline export function elfSegment(image: ElfImage, i: u32): Segment {
  return changetype<Segment>(changetype<u32>(image) + SEGMENTS_AT + i * SEGMENT_SIZE);
}

@inline function pageDown(x: u64): u64 {
  return x & ~(<u64>PAGE_SIZE - 1);
}

@inline function pageUp(x: u64): u64 {
  return pageDown(x + PAGE_SIZE - 1);
}

/** Where the program header table starts in the file (after checkElfHeader accepted `header`). */
export function programHeaderTableOffset(header: u32): u64 {
  return load<u64>(header + 32);
}

/** How long the program header table is (after checkElfHeader accepted `header`). */
export function programHeaderTableBytes(header: u32): u32 {
  return <u32>load<u16>(header + 56) * PROGRAM_HEADER_SIZE;
}

/**
 * Checks the whole ELF image of `size` bytes at linear address `file`
 * into `out`: what exec does with a file's headers and interpreter path,
 * for a file that is all in memory.
 */
export function checkElf(file: u32, size: u32, out: ElfImage, asInterpreter: bool): ElfCheck {
  const header = checkElfHeader(file, size, out);
  if (header != ElfCheck.Ok) return header;
  const segments = checkElfSegments(file, file + <u32>programHeaderTableOffset(file), size, out, asInterpreter);
  if (segments != ElfCheck.Ok || out.interpreterLength == 0) return segments;
  return checkInterpreterPath(file + <u32>out.interpreterOffset, out.interpreterLength);
}

/**
 * Checks the file header (its first 64 bytes at `header`) of a file of
 * `size` bytes, and that its program header table lies in the file
 * (programHeaderTableOffset and programHeaderTableBytes say where, for
 * the caller to read it).
 */
export function checkElfHeader(header: u32, size: u64, out: ElfImage): ElfCheck {
  if (size < ELF_HEADER_SIZE) return ElfCheck.TooSmall;
  if (load<u32>(header) != 0x464c457f) return ElfCheck.BadMagic; // "\x7fELF"
  if (load<u8>(header + 4) != 2) return ElfCheck.NotElf64;
  if (load<u8>(header + 5) != 1) return ElfCheck.NotLittleEndian;
  if (load<u8>(header + 6) != 1 || load<u32>(header + 20) != 1) return ElfCheck.BadVersion;
  const type = load<u16>(header + 16);
  if (type != ET_EXEC && type != ET_DYN) return ElfCheck.NotExecutable;
  if (load<u16>(header + 18) != EM_X86_64) return ElfCheck.WrongMachine;
  const tableOffset = programHeaderTableOffset(header);
  const entrySize = <u32>load<u16>(header + 54);
  const count = <u32>load<u16>(header + 56);
  if (entrySize != PROGRAM_HEADER_SIZE || count == 0 || count * PROGRAM_HEADER_SIZE > MAX_PROGRAM_HEADER_BYTES) {
    return ElfCheck.BadProgramHeaders;
  }
  if (tableOffset > size || <u64>count * PROGRAM_HEADER_SIZE > size - tableOffset) return ElfCheck.BadProgramHeaders;
  out.type = type;
  return ElfCheck.Ok;
}

/**
 * Finds the first PT_INTERP, as Linux takes it, before anything else of
 * the table: its length is checked first (ENOEXEC), then that the file
 * holds it (EIO, the short read Linux gets).
 */
function findInterpreter(table: u32, count: u32, size: u64, out: ElfImage): ElfCheck {
  out.interpreterLength = 0;
  for (let i: u32 = 0; i < count; i++) {
    const header = table + i * PROGRAM_HEADER_SIZE;
    if (load<u32>(header) != PT_INTERP) continue;
    const offset = load<u64>(header + 8);
    const fileSize = load<u64>(header + 32);
    if (fileSize < 2 || fileSize > PATH_MAX) return ElfCheck.BadInterpreterPath;
    if (offset > size || fileSize > size - offset) return ElfCheck.InterpreterPathOutsideFile;
    out.interpreterOffset = offset;
    out.interpreterLength = <u32>fileSize;
    return ElfCheck.Ok;
  }
  return ElfCheck.Ok;
}

/**
 * Checks the program headers (the table at `table`) of a file whose header
 * (at `header`) checkElfHeader accepted. An interpreter's own PT_INTERP and
 * PT_GNU_STACK mean nothing (Linux ignores them): only its segments count.
 */
export function checkElfSegments(header: u32, table: u32, size: u64, out: ElfImage, asInterpreter: bool): ElfCheck {
  const entry = load<u64>(header + 24);
  const tableOffset = programHeaderTableOffset(header);
  const count = <u32>load<u16>(header + 56);
  const relocatable = out.type == ET_DYN;
  out.segmentCount = 0;
  out.interpreterLength = 0;
  if (!asInterpreter) {
    const interpreter = findInterpreter(table, count, size, out);
    if (interpreter != ElfCheck.Ok) return interpreter;
  }
  out.executableStack = 0;
  out.programHeaders = 0;
  out.alignment = 0;
  out.low = U64.MAX_VALUE;
  out.high = 0;
  for (let i: u32 = 0; i < count; i++) {
    const programHeader = table + i * PROGRAM_HEADER_SIZE;
    const type = load<u32>(programHeader);
    const flags = load<u32>(programHeader + 4);
    // Linux keeps the last one's answer; without any, x86-64 stacks are not executable.
    if (type == PT_GNU_STACK && !asInterpreter) out.executableStack = (flags & PF_X) != 0 ? 1 : 0;
    if (type != PT_LOAD) continue;
    if (out.segmentCount == MAX_SEGMENTS) return ElfCheck.TooManySegments;
    const offset = load<u64>(programHeader + 8);
    const address = load<u64>(programHeader + 16);
    const fileSize = load<u64>(programHeader + 32);
    const memorySize = load<u64>(programHeader + 40);
    const align = load<u64>(programHeader + 48);
    if (offset > size || fileSize > size - offset) return ElfCheck.SegmentOutsideFile;
    // A relocatable image's addresses are offsets from its bias, so only its span is bounded here.
    if (fileSize > memorySize || (!relocatable && address < USER_START) || address > USER_LIMIT ||
      memorySize > USER_LIMIT - address) {
      return ElfCheck.SegmentTooLarge;
    }
    if ((address & (PAGE_SIZE - 1)) != (offset & (PAGE_SIZE - 1))) return ElfCheck.MisalignedSegment;
    const s = elfSegment(out, out.segmentCount++);
    s.address = address;
    s.memorySize = memorySize;
    s.offset = offset;
    s.fileSize = fileSize;
    s.flags = flags;
    // Even if a count larger than the real table reaches past this segment's end.
    if (tableOffset >= offset && tableOffset - offset < fileSize) out.programHeaders = address + (tableOffset - offset);
    if (align != 0 && (align & (align - 1)) == 0) out.alignment = max(out.alignment, pageUp(align));
    out.low = min(out.low, pageDown(address));
    out.high = max(out.high, address + memorySize);
  }
  if (out.segmentCount == 0) return ElfCheck.NoSegments;
  // Page-granular overlap would put two segments in one region.
  for (let i: u32 = 0; i < out.segmentCount; i++) {
    for (let j = i + 1; j < out.segmentCount; j++) {
      const a = elfSegment(out, i);
      const b = elfSegment(out, j);
      if (pageDown(a.address) < pageUp(b.address + b.memorySize) && pageDown(b.address) < pageUp(a.address + a.memorySize)) {
        return ElfCheck.OverlappingSegments;
      }
    }
  }
  let entryInCode = false;
  for (let i: u32 = 0; i < out.segmentCount; i++) {
    const s = elfSegment(out, i);
    if ((s.flags & PF_X) != 0 && entry >= s.address && entry < s.address + s.memorySize) entryInCode = true;
  }
  if (!entryInCode) return ElfCheck.EntryOutsideCode;
  out.entry = entry;
  out.programHeaderCount = count;
  return ElfCheck.Ok;
}

/** Checks the interpreter path as read from the file (`length` bytes at `path`): its last byte must end the string. */
export function checkInterpreterPath(path: u32, length: u32): ElfCheck {
  return load<u8>(path + length - 1) == 0 ? ElfCheck.Ok : ElfCheck.BadInterpreterPath;
}

export function elfCheckName(check: ElfCheck): string {
  switch (check) {
    case ElfCheck.Ok: return "ok";
    case ElfCheck.TooSmall: return "file smaller than an ELF header";
    case ElfCheck.BadMagic: return "not an ELF file";
    case ElfCheck.NotElf64: return "not 64-bit ELF";
    case ElfCheck.NotLittleEndian: return "not little-endian";
    case ElfCheck.BadVersion: return "unknown ELF version";
    case ElfCheck.NotExecutable: return "not an executable (ET_EXEC or ET_DYN)";
    case ElfCheck.WrongMachine: return "not an x86-64 program";
    case ElfCheck.BadProgramHeaders: return "program header table malformed or outside the file";
    case ElfCheck.TooManySegments: return "too many loadable segments";
    case ElfCheck.NoSegments: return "no loadable segment";
    case ElfCheck.SegmentOutsideFile: return "segment data outside the file";
    case ElfCheck.SegmentTooLarge: return "segment too large or outside user space";
    case ElfCheck.MisalignedSegment: return "segment address and offset misaligned";
    case ElfCheck.OverlappingSegments: return "segments overlap";
    case ElfCheck.EntryOutsideCode: return "entry point outside the executable segments";
    case ElfCheck.BadInterpreterPath: return "program interpreter path malformed";
    case ElfCheck.InterpreterPathOutsideFile: return "program interpreter path outside the file";
    default: return "?";
  }
}
