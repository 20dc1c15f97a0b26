// Core dumps, laid out as Linux's ELF core writer lays them out: the ELF
// header (ET_CORE), a PT_NOTE program header, one PT_LOAD per region with
// its permissions, the notes (core_notes.ts), then from the next page
// boundary the bytes of each region's dumped part. What is dumped follows
// Linux's default coredump_filter (0x33):
//   - the vDSO and its vvar page, whole (Linux always dumps them);
//   - nothing of a region marked by MADV_DONTDUMP;
//   - shared anonymous memory, and shared mappings of files with no name
//     left, whole; shared mappings of named files, nothing;
//   - a private region holding pages of its own (anonymous memory it
//     wrote, copies of file pages it wrote), whole;
//   - else, of a private file mapping starting at the file's start and
//     readable, its first page when the file is executable or begins with
//     an ELF header (so that a debugger can tell what was mapped there).
// "Whole" still leaves holes for pages never made (core_pages.ts). The
// file and RLIMIT_CORE are core_file.ts's business.
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { Inode } from "../fs/inode";
import { AddressSpace, regionsOf } from "../mm/address_space";
import { hasPrivatePages, readDumpPage } from "../mm/core_pages";
import { PAGE_SIZE } from "../mm/frame";
import { MemoryObject } from "../mm/memory_object";
import { PROT_EXEC, PROT_READ, PROT_WRITE, REGION_NO_DUMP, REGION_SHARED, Region, regionAt } from "../mm/region";
import { isVdsoObject } from "../mm/vdso";
import { closeCoreFile, coreOffset, emitCore, openCoreFile, skipCore } from "./core_file";
import { notesSize, writeNotes } from "./core_notes";
import { Process, spaceOf, userFrame } from "./process";
import { RLIMIT_CORE, softLimit } from "./resource_limits";
import { SignalInfo } from "./signal_info";

// Linux's min_coredump for ELF: a smaller RLIMIT_CORE dumps nothing at all.
const MIN_CORE_LIMIT: u64 = PAGE_SIZE;
const ELF_HEADER_SIZE: u32 = 64;
const PROGRAM_HEADER_SIZE: u32 = 56;
const ET_CORE: u16 = 4;
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const ELF_MAGIC: u32 = 0x464c457f;

const page = <u32>memory.data(PAGE_SIZE, PAGE_SIZE);
const headerBuffer = <u32>memory.data(ELF_HEADER_SIZE, 8);

/** Whether the first page of `region` starts with an ELF header. */
function startsWithElfHeader(space: AddressSpace, region: Region): bool {
  return readDumpPage(space, region, region.start, page) && load<u32>(page) == ELF_MAGIC;
}

/** How many bytes of `region`, from its start, the core holds (Linux's vma_dump_size). */
function dumpSize(space: AddressSpace, region: Region): u64 {
  const whole = region.end - region.start;
  if (isVdsoObject(region.object)) return whole;
  if ((region.flags & REGION_NO_DUMP) != 0) return 0;
  const object = region.object;
  const owner = object != null ? changetype<Inode>(changetype<MemoryObject>(object).owner) : null;
  if ((region.flags & REGION_SHARED) != 0) return owner == null || owner.nlink == 0 ? whole : 0;
  if (hasPrivatePages(space, region)) return whole;
  if (object == null || region.fileOffset != 0 || (region.protection & PROT_READ) == 0) return 0;
  if ((owner != null && (owner.mode & 0o111) != 0) || startsWithElfHeader(space, region)) return PAGE_SIZE;
  return 0;
}

function writeElfHeader(segments: u32): bool {
  const at = headerBuffer;
  memory.fill(at, 0, ELF_HEADER_SIZE);
  store<u32>(at, ELF_MAGIC);
  store<u8>(at + 4, 2); // ELFCLASS64
  store<u8>(at + 5, 1); // ELFDATA2LSB
  store<u8>(at + 6, 1); // EV_CURRENT
  store<u16>(at + 16, ET_CORE);
  store<u16>(at + 18, EM_X86_64);
  store<u32>(at + 20, 1); // e_version
  store<u64>(at + 32, ELF_HEADER_SIZE); // e_phoff
  store<u16>(at + 52, <u16>ELF_HEADER_SIZE); // e_ehsize
  store<u16>(at + 54, <u16>PROGRAM_HEADER_SIZE); // e_phentsize
  store<u16>(at + 56, <u16>segments); // e_phnum
  return emitCore(at, ELF_HEADER_SIZE);
}

function writeProgramHeader(type: u32, flags: u32, offset: u64, address: u64, fileBytes: u64, memoryBytes: u64, align: u64): bool {
  const at = headerBuffer;
  store<u32>(at, type);
  store<u32>(at + 4, flags);
  store<u64>(at + 8, offset);
  store<u64>(at + 16, address); // p_vaddr
  store<u64>(at + 24, 0); // p_paddr
  store<u64>(at + 32, fileBytes);
  store<u64>(at + 40, memoryBytes);
  store<u64>(at + 48, align);
  return emitCore(at, PROGRAM_HEADER_SIZE);
}

function segmentFlags(region: Region): u32 {
  return ((region.protection & PROT_READ) != 0 ? PF_R : 0) | ((region.protection & PROT_WRITE) != 0 ? PF_W : 0) |
    ((region.protection & PROT_EXEC) != 0 ? PF_X : 0);
}

function writeLoadHeaders(space: AddressSpace, dataStart: u64): bool {
  const regions = regionsOf(space);
  let offset = dataStart;
  for (let i: u32 = 0; i < regions.count; i++) {
    const region = regionAt(regions, i);
    const size = dumpSize(space, region);
    if (!writeProgramHeader(PT_LOAD, segmentFlags(region), offset, region.start, size, region.end - region.start, PAGE_SIZE)) {
      return false;
    }
    offset += size;
  }
  return true;
}

function writeMemory(space: AddressSpace): void {
  const regions = regionsOf(space);
  for (let i: u32 = 0; i < regions.count; i++) {
    const region = regionAt(regions, i);
    const end = region.start + dumpSize(space, region);
    for (let at = region.start; at < end; at += PAGE_SIZE) {
      if (!readDumpPage(space, region, at, page)) skipCore(PAGE_SIZE);
      else if (!emitCore(page, PAGE_SIZE)) return;
    }
  }
}

/**
 * Writes the core of `process`, which `info`'s signal is killing, if its
 * RLIMIT_CORE allows one and the file can be made. Returns whether it was
 * dumped (the wait status's core bit), cut short by the limit or not.
 */
export function dumpCore(process: Process, info: SignalInfo): bool {
  if (softLimit(process, RLIMIT_CORE) < MIN_CORE_LIMIT || process.space == 0) return false;
  if (!openCoreFile(process)) return false;
  const space = spaceOf(process);
  const frame: TrapFrame = userFrame(process);
  const segments = regionsOf(space).count + 1;
  const notesAt = <u64>ELF_HEADER_SIZE + <u64>segments * PROGRAM_HEADER_SIZE;
  const notes = notesSize(process);
  const dataStart = (notesAt + notes + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
  if (writeElfHeader(segments) && writeProgramHeader(PT_NOTE, 0, notesAt, 0, notes, 0, 4) &&
    writeLoadHeaders(space, dataStart) && writeNotes(process, frame, info)) {
    skipCore(dataStart - coreOffset());
    writeMemory(space);
  }
  closeCoreFile();
  return true;
}
