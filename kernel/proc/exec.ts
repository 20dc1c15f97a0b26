// execve: replace a process's program. The new address space is built
// completely (regions for the ELF segments, the stack, the initial stack
// contents) before the old one is dropped, so a failure leaves the caller
// as it was. Nothing of the file is read here: segments are file-backed
// regions that page faults fill in.
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { USER_CODE, USER_DATA } from "../arch/x86_64/gdt";
import { rdtsc, writeCr3 } from "../arch/x86_64/cpu";
import { readInodeToKernel } from "../fs/file_io";
import { Inode, inodeSize, isRegularInode, releaseInode, retainInode } from "../fs/inode";
import { AddressSpace, createAddressSpace, destroyAddressSpace, leaveAddressSpace, regionsOf, setProgram } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { MemoryObject } from "../mm/memory_object";
import {
  PROT_EXEC, PROT_READ, PROT_WRITE, REGION_FILE, REGION_STACK, addRegion, attachObject,
} from "../mm/region";
import { copyToUser, putUser64 } from "../mm/user_copy";
import { mapVdso } from "../mm/vdso";
import {
  ElfCheck, checkElfHeader, checkElfSegments, elfEntry, elfProgramHeaderCount, elfProgramHeaders, elfSegment,
  elfSegmentCount, elfTableBytes, elfTableOffset,
} from "./elf";
import { closeOnExec } from "../fs/file";
import { clearChildTid, releaseVforkParent } from "./exit";
import { resetHandlersForExec } from "./signal";
import { deleteTimers } from "./posix_timer";
import { Process, notePeakResident, setProcessName, userFrame } from "./process";
import { RLIMIT_STACK, softLimit } from "./resource_limits";
import { STACK_TOP, mappingTopFor, stackSizeFor } from "./stack_layout";


export const enum ExecResult {
  Ok = 0,
  NotExecutable = 2, // ENOEXEC
  NoPermission = 5, // EACCES: a directory, or no execute bit
  NoMemory = 3,
  TooBig = 4, // E2BIG: arguments do not fit
}

/** Why the last exec said NotExecutable (for the console). */
export let lastElfCheck: ElfCheck = ElfCheck.Ok;

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_EXECFN: u64 = 31;
const AT_SYSINFO_EHDR: u64 = 33;
const AUX_PAIRS: u32 = 14;

function protectionOf(elfFlags: u32): u32 {
  return ((elfFlags & 4) != 0 ? PROT_READ : 0) | ((elfFlags & 2) != 0 ? PROT_WRITE : 0) | ((elfFlags & 1) != 0 ? PROT_EXEC : 0);
}

function mapSegments(space: AddressSpace, object: MemoryObject, stackSize: u64): bool {
  let brk: u64 = 0;
  for (let i: u32 = 0; i < elfSegmentCount; i++) {
    const s = elfSegment(i);
    const start = s.address & ~(<u64>PAGE_SIZE - 1);
    const end = (s.address + s.memorySize + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
    const region = addRegion(regionsOf(space), start, end, protectionOf(s.flags), REGION_FILE);
    if (region == null) return false;
    attachObject(region, object, changetype<u32>(space));
    region.fileOffset = s.offset & ~(<u64>PAGE_SIZE - 1);
    region.fileBytes = (s.address - start) + s.fileSize;
    brk = max(brk, end);
  }
  space.brkStart = brk; // the heap region appears with the first brk() that grows it
  space.brkEnd = brk;
  return addRegion(regionsOf(space), STACK_TOP - stackSize, STACK_TOP, PROT_READ | PROT_WRITE, REGION_STACK) != null;
}

/**
 * The arguments for a new program: argc strings, then envc strings, each
 * NUL-terminated, packed at `strings` (linear) with `bytes` in all.
 */
@unmanaged export class ExecArguments {
  strings: u32;
  bytes: u32;
  argc: u32;
  envc: u32;
}

function putAux(type: u64, value: u64, auxv: usize, pair: u32): u32 {
  store<u64>(auxv + pair * 16, type);
  store<u64>(auxv + pair * 16 + 8, value);
  return pair + 1;
}

/** Bytes of the first `count` NUL-terminated strings at `at`, their NULs included. */
function stringsLength(at: u32, count: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    while (load<u8>(at + n) != 0) n++;
    n++;
  }
  return n;
}

/**
 * Lays out the initial stack as Linux does (from the top down): the
 * strings, 16 random bytes, then, 16-byte aligned, argc, argv[], NULL,
 * envp[], NULL, auxv pairs ending in AT_NULL. Records where the argument
 * and environment strings are (/proc/PID/cmdline and environ read them
 * there). Returns the initial RSP, 0 on EFAULT.
 */
function buildStack(space: AddressSpace, args: ExecArguments, vdso: u64): u64 {
  let sp = STACK_TOP;
  sp -= <u64>args.bytes;
  const stringsAt = sp;
  if (!copyToUser(space, stringsAt, args.strings, args.bytes)) return 0;
  space.argStart = stringsAt;
  space.argEnd = stringsAt + stringsLength(args.strings, args.argc);
  space.envStart = space.argEnd;
  space.envEnd = stringsAt + args.bytes;
  sp -= 16;
  const randomAt = sp;
  const random = memory.data(16, 8);
  store<u64>(random, rdtsc() * 0x9e3779b97f4a7c15);
  store<u64>(random + 8, rdtsc() ^ 0xd1b54a32d192ed03);
  if (!copyToUser(space, randomAt, <u32>random, 16)) return 0;
  const pointers = <u64>(1 + args.argc + 1 + args.envc + 1);
  const auxvWords: u64 = 2 * AUX_PAIRS;
  sp = (sp - (pointers + auxvWords) * 8) & ~(<u64>15);
  let at = sp;
  if (!putUser64(space, at, args.argc)) return 0;
  at += 8;
  let string = stringsAt;
  let scan = args.strings;
  for (let i: u32 = 0; i < args.argc + args.envc; i++) {
    if (i == args.argc) { // end of argv
      if (!putUser64(space, at, 0)) return 0;
      at += 8;
    }
    if (!putUser64(space, at, string)) return 0;
    at += 8;
    let length: u32 = 0;
    while (load<u8>(scan + length) != 0) length++;
    scan += length + 1;
    string += length + 1;
  }
  if (args.envc == 0) { // argv's NULL was not written in the loop
    if (!putUser64(space, at, 0)) return 0;
    at += 8;
  }
  if (!putUser64(space, at, 0)) return 0; // end of envp
  at += 8;
  const auxv = memory.data(AUX_PAIRS * 16, 8);
  let pair: u32 = 0;
  pair = putAux(AT_PHDR, elfProgramHeaders, auxv, pair);
  pair = putAux(AT_PHENT, 56, auxv, pair);
  pair = putAux(AT_PHNUM, elfProgramHeaderCount, auxv, pair);
  pair = putAux(AT_PAGESZ, PAGE_SIZE, auxv, pair);
  pair = putAux(AT_ENTRY, elfEntry, auxv, pair);
  pair = putAux(AT_UID, 0, auxv, pair);
  pair = putAux(AT_EUID, 0, auxv, pair);
  pair = putAux(AT_GID, 0, auxv, pair);
  pair = putAux(AT_EGID, 0, auxv, pair);
  pair = putAux(AT_SECURE, 0, auxv, pair);
  pair = putAux(AT_RANDOM, randomAt, auxv, pair);
  pair = putAux(AT_EXECFN, stringsAt, auxv, pair); // argv[0]'s string stands in for the file name
  pair = putAux(AT_SYSINFO_EHDR, vdso, auxv, pair);
  pair = putAux(AT_NULL, 0, auxv, pair);
  assert(pair == AUX_PAIRS, "buildStack: auxv count out of step");
  if (!copyToUser(space, at, <u32>auxv, AUX_PAIRS * 16)) return 0;
  space.auxv = at;
  return sp;
}

// The ELF file header, then the program header table (at most a page), read from the file.
const headers = memory.data(64 + 4096, 8);

/** Reads and checks the ELF headers of `inode` (through the page cache: nothing else of the file is read). */
function checkExecutable(inode: Inode): ElfCheck {
  const size = inodeSize(inode);
  const header = readInodeToKernel(inode, <u32>headers, 64, 0);
  if (header < 0) return ElfCheck.TooSmall;
  if (header < 64) return checkElfHeader(<u32>headers, <u64>header);
  const check = checkElfHeader(<u32>headers, size);
  if (check != ElfCheck.Ok) return check;
  if (readInodeToKernel(inode, <u32>headers + 64, elfTableBytes, elfTableOffset) != <i64>elfTableBytes) return ElfCheck.BadProgramHeaders;
  return checkElfSegments(<u32>headers, <u32>headers + 64, size);
}

/** Replaces `process`'s program with the ELF file `inode`. */
export function exec(process: Process, inode: Inode, args: ExecArguments): ExecResult {
  if (!isRegularInode(inode) || (inode.mode & 0o111) == 0) return ExecResult.NoPermission;
  lastElfCheck = checkExecutable(inode);
  if (lastElfCheck != ElfCheck.Ok) return ExecResult.NotExecutable;
  const space = createAddressSpace();
  if (space == null) return ExecResult.NoMemory;
  const program = changetype<MemoryObject>(inode.object);
  setProgram(space, program);
  const stackLimit = softLimit(process, RLIMIT_STACK);
  space.mappingTop = mappingTopFor(stackLimit);
  const vdso = mapSegments(space, program, stackSizeFor(stackLimit)) ? mapVdso(space, space.mappingTop) : 0;
  if (vdso == 0) {
    destroyAddressSpace(space);
    return ExecResult.NoMemory;
  }
  const sp = buildStack(space, args, vdso);
  if (sp == 0) {
    destroyAddressSpace(space);
    return ExecResult.NoMemory;
  }
  clearChildTid(process);
  const old = process.space;
  notePeakResident(process); // ru_maxrss spans the programs a process has run, as Linux's does
  process.space = changetype<u32>(space);
  writeCr3(space.root);
  if (old != 0) leaveAddressSpace(changetype<AddressSpace>(old));
  closeOnExec(process.files);
  const previous = process.exe;
  process.exe = retainInode(inode);
  releaseInode(previous);
  resetHandlersForExec(process);
  deleteTimers(process); // as Linux's exec; signals they queued stay pending
  // The program's name: argv[0] without its directory, as Linux's comm.
  let nameStart = args.strings;
  let nameEnd = args.strings;
  while (load<u8>(nameEnd) != 0) {
    if (load<u8>(nameEnd) == 0x2f) nameStart = nameEnd + 1;
    nameEnd++;
  }
  setProcessName(process, nameStart, nameEnd - nameStart);
  const frame: TrapFrame = userFrame(process);
  memory.fill(changetype<usize>(frame), 0, 176);
  frame.rip = elfEntry;
  frame.rsp = sp;
  frame.cs = USER_CODE;
  frame.ss = USER_DATA;
  frame.rflags = 0x202; // interrupts on
  process.fsBase = 0;
  releaseVforkParent(process);
  return ExecResult.Ok;
}
