// execve: replace a process's program. The new address space is built
// completely (the stack, the program's segments, its interpreter's, the
// vDSO, the initial stack contents) before the old one is dropped, so a
// failure leaves the caller as it was: unlike Linux, which is past its
// point of no return when it maps, a broken interpreter here is an error
// the caller sees, not a SIGSEGV. Nothing of the files is read but their
// headers and the interpreter's path: segments are file-backed regions
// that page faults fill in.
//
// A program is ET_EXEC (at its own addresses) or ET_DYN (at a bias,
// exec_layout.ts): with PT_INTERP the interpreter it names is mapped too,
// as a second image in the mmap area, and runs first; AT_BASE tells it
// where it is and AT_PHDR, AT_ENTRY where the program is.
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { writeCr3 } from "../arch/x86_64/cpu";
import { USER_CODE, USER_DATA } from "../arch/x86_64/gdt";
import { FileTable, closeOnExec, copyDescriptors, newFileTable, releaseFileTable } from "../fs/file";
import { Inode, isRegularInode, releaseInode, retainInode } from "../fs/inode";
import { fileSystemRoot } from "../fs/mount";
import { resolvePath } from "../fs/path";
import {
  AddressSpace, createAddressSpace, destroyAddressSpace, leaveAddressSpace, regionsOf, setProgram,
} from "../mm/address_space";
import { allocPages, freePages } from "../mm/buddy";
import { FrameState } from "../mm/frame";
import { MemoryObject } from "../mm/memory_object";
import { PROT_EXEC, PROT_READ, PROT_WRITE, REGION_STACK, addRegion } from "../mm/region";
import { mapVdso } from "../mm/vdso";
import { ELF_IMAGE_SIZE, ET_DYN, ElfCheck, ElfImage } from "./elf";
import { ELF_HEADERS_BYTES, NO_BIAS, Placement, chooseBias, mapImage, readElfHeaders, readInterpreterPath } from "./elf_load";
import { chooseHeapStart, chooseMmapTop, chooseStackTop, stackSizeFor } from "./exec_layout";
import { ExecArguments, PROGRAM_START_SIZE, ProgramStart, STACK_SCRATCH_BYTES, buildStack } from "./exec_stack";
import { clearChildTid, releaseVforkParent } from "./exit";
import { releasePiLocks } from "./pi_owner";
import { releaseRobustList } from "./robust_list";
import { rseqExecve } from "./rseq";
import { deleteTimers } from "./posix_timer";
import { becomeOnlyThread } from "./exec_threads";
import {
  Process, SIGNAL_ACTIONS_SIZE, leaderOf, notePeakResident, processListHead, setProcessName, userFrame,
} from "./process";
import { kfree, kmalloc } from "../mm/slab";
import { RLIMIT_STACK, softLimit } from "./resource_limits";
import { resetHandlersForExec } from "./signal";

const ENOENT: i64 = 2;
const EIO: i64 = 5;
const ENOEXEC: i64 = 8;
const EAGAIN: i64 = 11;
const ENOMEM: i64 = 12;
const EACCES: i64 = 13;
const ELIBBAD: i64 = 80;

/** Why the last exec refused its program (ENOEXEC) or interpreter (ELIBBAD), for the console. */
export let lastElfCheck: ElfCheck = ElfCheck.Ok;

// exec's working memory, one allocation per exec: reading the files may
// one day sleep, so none of it may be static. The headers buffer also
// takes the interpreter's path once the program's headers are checked.
const HEADERS_AT: u32 = 0;
const PROGRAM_AT: u32 = (HEADERS_AT + ELF_HEADERS_BYTES + 63) & ~63;
const INTERPRETER_AT: u32 = PROGRAM_AT + ELF_IMAGE_SIZE;
const START_AT: u32 = INTERPRETER_AT + ELF_IMAGE_SIZE;
const STACK_SCRATCH_AT: u32 = START_AT + PROGRAM_START_SIZE;
const OWN_COPIES_AT: u32 = (STACK_SCRATCH_AT + STACK_SCRATCH_BYTES + 7) & ~7;
const WORK_ORDER: u32 = 1; // 8 KiB, of which OWN_COPIES_AT + 8 (about 6) are used

/** Whether `inode` may be run: a regular file with an execute bit (root needs one too). */
function executable(inode: Inode): bool {
  return isRegularInode(inode) && (inode.mode & 0o111) != 0;
}

/**
 * The interpreter `program` names (its path read into `path`), with a
 * reference, or -errno: ENOEXEC for a malformed path, the lookup's error
 * (ENOENT...), EACCES when it cannot be run. A relative path is looked up
 * from the working directory, as Linux's open_exec does.
 */
function openInterpreter(process: Process, inode: Inode, program: ElfImage, path: u32): i64 {
  lastElfCheck = readInterpreterPath(inode, program, path);
  if (lastElfCheck == ElfCheck.InterpreterPathOutsideFile) return -EIO;
  if (lastElfCheck != ElfCheck.Ok) return -ENOEXEC;
  let length: u32 = 0;
  while (load<u8>(path + length) != 0) length++; // the name ends at its first NUL
  if (length == 0) return -ENOENT;
  const start = process.cwd != null ? process.cwd! : fileSystemRoot();
  const found = resolvePath(start, path, length, true);
  if (found <= 0) return found == 0 ? -ENOENT : found;
  const interpreter = changetype<Inode>(<u32>found);
  if (!executable(interpreter)) {
    releaseInode(interpreter);
    return -EACCES;
  }
  return found;
}

/**
 * Fills `space` for the checked `program` (and `interpreter`, if it names
 * one): stack, segments, vDSO, heap, initial stack, and `start` with what
 * the program starts with. 0 or -errno; the caller destroys the space on
 * failure.
 */
function buildSpace(space: AddressSpace, programFile: Inode, program: ElfImage, interpreterFile: Inode | null,
  interpreter: ElfImage, args: ExecArguments, start: ProgramStart, scratch: u32, stackLimit: u64): i64 {
  start.stackTop = chooseStackTop();
  space.mmapTop = chooseMmapTop(stackLimit);
  const stackProtection = PROT_READ | PROT_WRITE | (program.executableStack != 0 ? PROT_EXEC : 0);
  const stackBottom = start.stackTop - stackSizeFor(stackLimit);
  if (addRegion(regionsOf(space), stackBottom, start.stackTop, stackProtection, REGION_STACK) == null) return -ENOMEM;
  const hasInterpreter = interpreterFile != null;
  const bias = chooseBias(space, program, hasInterpreter ? Placement.PieBase : Placement.MmapArea, true);
  if (bias == NO_BIAS) return -ENOMEM;
  const programEnd = mapImage(space, changetype<MemoryObject>(programFile.object), program, bias);
  if (programEnd == 0) return -ENOMEM;
  start.entry = program.entry + bias;
  start.programHeaders = program.programHeaders + bias;
  start.programHeaderCount = program.programHeaderCount;
  start.interpreterBase = 0;
  start.rip = start.entry;
  if (hasInterpreter) {
    const interpreterBias = chooseBias(space, interpreter, Placement.MmapArea, false);
    if (interpreterBias == NO_BIAS) return -ENOMEM;
    if (mapImage(space, changetype<MemoryObject>(interpreterFile!.object), interpreter, interpreterBias) == 0) return -ENOMEM;
    start.interpreterBase = interpreterBias;
    start.rip = interpreter.entry + interpreterBias;
  }
  start.vdso = mapVdso(space);
  if (start.vdso == 0) return -ENOMEM;
  // The heap region appears with the first brk() that grows it.
  space.brkStart = chooseHeapStart(programEnd, program.type == ET_DYN && !hasInterpreter);
  space.brkEnd = space.brkStart;
  start.rsp = buildStack(space, args, start, scratch);
  return start.rsp == 0 ? -ENOMEM : 0;
}

/** Gives `process` the new address space and everything else a new program starts with. */
function commit(
  process: Process, inode: Inode, space: AddressSpace, args: ExecArguments, entry: u64, sp: u64, own: OwnCopies,
): void {
  becomeOnlyThread(process);
  releaseRobustList(process); // as Linux's exec_mm_release: the old program's locks die with it
  releasePiLocks(process);
  rseqExecve(process);
  clearChildTid(process);
  const old = process.space;
  notePeakResident(process); // ru_maxrss spans the programs a process has run, as Linux's does
  process.space = changetype<u32>(space);
  writeCr3(space.root);
  if (old != 0) leaveAddressSpace(changetype<AddressSpace>(old));
  if (own.files != changetype<u32>(process.files)) { // shared with another process: the program gets its own copy
    releaseFileTable(process.files);
    process.files = changetype<FileTable>(own.files);
  }
  process.actions = own.actions;
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
  frame.rip = entry;
  frame.rsp = sp;
  frame.cs = USER_CODE;
  frame.ss = USER_DATA;
  frame.rflags = 0x202; // interrupts on
  process.fsBase = 0;
  releaseVforkParent(process);
}

function execIn(process: Process, inode: Inode, args: ExecArguments, work: u32, own: OwnCopies): i64 {
  const headers = work + HEADERS_AT;
  const program = changetype<ElfImage>(work + PROGRAM_AT);
  const interpreter = changetype<ElfImage>(work + INTERPRETER_AT);
  lastElfCheck = readElfHeaders(inode, headers, program, false);
  if (lastElfCheck == ElfCheck.InterpreterPathOutsideFile) return -EIO;
  if (lastElfCheck != ElfCheck.Ok) return -ENOEXEC;
  let interpreterFile: Inode | null = null;
  if (program.interpreterLength != 0) {
    const found = openInterpreter(process, inode, program, headers);
    if (found < 0) return found;
    interpreterFile = changetype<Inode>(<u32>found);
    lastElfCheck = readElfHeaders(interpreterFile, headers, interpreter, true);
    if (lastElfCheck != ElfCheck.Ok) {
      releaseInode(interpreterFile);
      // Linux reads an interpreter's ELF header whole before looking at it: a shorter file is that read's EIO.
      return lastElfCheck == ElfCheck.TooSmall ? -EIO : -ELIBBAD;
    }
  }
  const space = createAddressSpace();
  if (space == null) {
    releaseInode(interpreterFile);
    return -ENOMEM;
  }
  setProgram(space, changetype<MemoryObject>(inode.object));
  const start = changetype<ProgramStart>(work + START_AT);
  const result = buildSpace(space, inode, program, interpreterFile, interpreter, args, start, work + STACK_SCRATCH_AT,
    softLimit(process, RLIMIT_STACK));
  // The regions hold the interpreter's memory object now; Linux keeps no more of it either.
  releaseInode(interpreterFile);
  if (result != 0) {
    destroyAddressSpace(space);
    return result;
  }
  commit(process, inode, space, args, start.rip, start.rsp, own);
  return 0;
}

/**
 * The descriptor table and signal actions the new program will have: the
 * process's own, or, where another process shares them (CLONE_FILES,
 * CLONE_SIGHAND), copies made before the point of no return, as Linux's
 * unshare_files and de_thread make them, so that close-on-exec and the
 * reset of handlers touch only this program's. The threads the execve
 * ends do not count as sharers.
 *
 *   0 files (FileTable)  4 actions
 */
@unmanaged class OwnCopies {
  files: u32;
  actions: u32;
}

function makeOwnCopies(process: Process, own: OwnCopies): bool {
  let tableHolders: u32 = 0;
  let actionsElsewhere = false;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const other = changetype<Process>(at);
    if (other.files == process.files && other.tgid == process.tgid) tableHolders++;
    if (other.actions == process.actions && other.tgid != process.tgid) actionsElsewhere = true;
  }
  own.files = changetype<u32>(process.files);
  own.actions = process.actions;
  if (process.files.users > tableHolders) {
    const table = newFileTable();
    if (table == null) return false;
    own.files = changetype<u32>(table);
    if (!copyDescriptors(table, process.files)) {
      dropOwnCopies(process, own);
      return false;
    }
  }
  if (actionsElsewhere) {
    own.actions = kmalloc(SIGNAL_ACTIONS_SIZE);
    if (own.actions == 0) {
      own.actions = process.actions;
      dropOwnCopies(process, own);
      return false;
    }
    memory.copy(own.actions, process.actions, SIGNAL_ACTIONS_SIZE);
  }
  return true;
}

/** The execve failed: the copies go. */
function dropOwnCopies(process: Process, own: OwnCopies): void {
  if (own.files != changetype<u32>(process.files)) releaseFileTable(changetype<FileTable>(own.files));
  if (own.actions != process.actions) kfree(own.actions);
}

/** Replaces `process`'s program with the ELF file `inode`: 0, or -errno (the process unchanged). */
export function exec(process: Process, inode: Inode, args: ExecArguments): i64 {
  if (!executable(inode)) return -EACCES;
  // Another thread is ending the process (exit_group, its own execve): as
  // Linux's de_thread, EAGAIN, and the SIGKILL that thread sent ends the
  // caller on its way out. Nothing below sleeps until the other threads
  // are told to end, so no such ending can begin meanwhile.
  if (leaderOf(process).groupExiting != 0) return -EAGAIN;
  const work = allocPages(WORK_ORDER, FrameState.KernelObject, false);
  if (work == 0) return -ENOMEM;
  const own = changetype<OwnCopies>(work + OWN_COPIES_AT);
  if (!makeOwnCopies(process, own)) {
    freePages(work);
    return -ENOMEM;
  }
  const result = execIn(process, inode, args, work, own);
  if (result != 0) dropOwnCopies(process, own);
  freePages(work);
  return result;
}
