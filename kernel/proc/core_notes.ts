// The notes of a core file (its PT_NOTE segment), in the order Linux
// writes them for a process of one thread, each named "CORE":
//   NT_PRSTATUS  struct elf_prstatus: the signal, the pending and blocked
//                sets, the ids, and the general registers of the moment the
//                signal was taken to be fatal (struct user_regs_struct)
//   NT_PRPSINFO  struct elf_prpsinfo: state, ids, the name and the arguments
//   NT_SIGINFO   the siginfo_t of the signal
//   NT_AUXV      the auxiliary vector exec gave the program (read back from
//                its stack: Linux keeps a copy, this kernel where it is)
//   NT_FILE      the mapped files: start, end, page offset, then the names
//   NT_PRFPREG   the 512-byte fxsave area (x87, SSE)
import { fxsave } from "../arch/x86_64/cpu";
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { VECTOR_SYSCALL } from "../arch/x86_64/cpu";
import { Inode } from "../fs/inode";
import { pathOfInode } from "../fs/names";
import { PATH_MAX } from "../fs/path";
import { AddressSpace, regionsOf } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { Region, regionAt } from "../mm/region";
import { readSpace } from "../mm/user_copy";
import { isVdsoObject } from "../mm/vdso";
import { coreRoomFor, emitCore, skipCore } from "./core_file";
import { NAME_OFFSET, NAME_SIZE, Process, leaderOf, spaceOf } from "./process";
import { SignalInfo, storeSiginfo } from "./signal_info";
import { systemTime, userTime } from "./cpu_time";

const NT_PRSTATUS: u32 = 1;
const NT_PRFPREG: u32 = 2;
const NT_PRPSINFO: u32 = 3;
const NT_AUXV: u32 = 6;
const NT_SIGINFO: u32 = 0x53494749;
const NT_FILE: u32 = 0x46494c45;

const PRSTATUS_SIZE: u32 = 336;
const PRPSINFO_SIZE: u32 = 136;
const SIGINFO_SIZE: u32 = 128;
const FPREGS_SIZE: u32 = 512;
const NOTE_HEADER_SIZE: u32 = 12;
const NAME = <u32>memory.data<u8>([0x43, 0x4f, 0x52, 0x45, 0]); // "CORE"
const NAME_BYTES: u32 = 5;
const PSARGS_SIZE: u32 = 80;
// Linux's task flags of a process that dies dumping core: PF_SIGNALED | PF_DUMPCORE.
const DUMPING_FLAGS: u64 = 0x400 | 0x200;

@inline function padded(bytes: u32): u32 {
  return (bytes + 3) & ~3;
}

@inline function noteSize(descBytes: u32): u32 {
  return NOTE_HEADER_SIZE + padded(NAME_BYTES) + padded(descBytes);
}

/** The user_regs_struct slots, in order, as TrapFrame offsets; 0xff for orig_rax, which is not in the frame. */
const REGISTER_SLOTS = <u32>memory.data<u8>([
  0, 8, 16, 24, 64, 104, 32, 40, 48, 56, // r15 r14 r13 r12 rbp rbx r11 r10 r9 r8
  112, 96, 88, 80, 72, 0xff, // rax rcx rdx rsi rdi orig_rax
  136, 144, 152, 160, 168, // rip cs eflags rsp ss
]);
const FRAME_REGISTERS: u32 = 21;
const REGISTERS_AT: u32 = 112; // pr_reg in elf_prstatus

const buffer = <u32>memory.data(PATH_MAX + 16, 8);
const header = <u32>memory.data(NOTE_HEADER_SIZE + 8, 4);

/** Writes a note's header and name; its `descBytes` of description follow. */
function beginNote(type: u32, descBytes: u32): bool {
  store<u32>(header, NAME_BYTES);
  store<u32>(header + 4, descBytes);
  store<u32>(header + 8, type);
  if (!emitCore(header, NOTE_HEADER_SIZE) || !emitCore(NAME, NAME_BYTES)) return false;
  skipCore(padded(NAME_BYTES) - NAME_BYTES);
  return true;
}

function note(type: u32, desc: u32, descBytes: u32): bool {
  if (!beginNote(type, descBytes) || !emitCore(desc, descBytes)) return false;
  skipCore(padded(descBytes) - descBytes);
  return true;
}

/** A struct timeval (tv_sec, tv_usec) of `nanoseconds`. */
function storeTimeval(at: u32, nanoseconds: u64): void {
  store<u64>(at, nanoseconds / 1000000000);
  store<u64>(at + 8, nanoseconds % 1000000000 / 1000);
}

function writePrstatus(process: Process, frame: TrapFrame, signal: u32): bool {
  const at = buffer;
  memory.fill(at, 0, PRSTATUS_SIZE);
  store<i32>(at, <i32>signal); // pr_info.si_signo
  store<i16>(at + 12, <i16>signal); // pr_cursig
  store<u64>(at + 16, process.pendingSignals);
  store<u64>(at + 24, process.blockedSignals);
  store<u32>(at + 32, process.pid);
  store<u32>(at + 36, leaderOf(process).parentPid);
  store<u32>(at + 40, process.pgid);
  store<u32>(at + 44, process.sid);
  storeTimeval(at + 48, userTime(process)); // pr_utime
  storeTimeval(at + 64, systemTime(process)); // pr_stime
  storeTimeval(at + 80, process.childUserTime); // pr_cutime
  storeTimeval(at + 96, process.childSystemTime); // pr_cstime
  const regs = at + REGISTERS_AT;
  for (let i: u32 = 0; i < FRAME_REGISTERS; i++) {
    const slot = <u32>load<u8>(REGISTER_SLOTS + i);
    // orig_rax: the system call the process was in when the signal came, else -1 (a fault, an interrupt).
    const value = slot != 0xff ? load<u64>(changetype<u32>(frame) + slot)
      : frame.vector == VECTOR_SYSCALL ? <u64>process.syscallNumber : U64.MAX_VALUE;
    store<u64>(regs + i * 8, value);
  }
  store<u64>(regs + FRAME_REGISTERS * 8, process.fsBase); // fs_base; gs_base and the four selectors stay 0
  store<i32>(at + 328, 1); // pr_fpvalid
  return note(NT_PRSTATUS, at, PRSTATUS_SIZE);
}

function writePrpsinfo(process: Process): bool {
  const at = buffer;
  memory.fill(at, 0, PRPSINFO_SIZE);
  store<u8>(at + 1, 0x52); // pr_sname 'R': it is running (pr_state 0)
  store<u64>(at + 8, DUMPING_FLAGS);
  store<u32>(at + 24, process.tgid);
  store<u32>(at + 28, leaderOf(process).parentPid);
  store<u32>(at + 32, process.pgid);
  store<u32>(at + 36, process.sid);
  memory.copy(at + 40, changetype<u32>(process) + NAME_OFFSET, NAME_SIZE);
  // pr_psargs: the argument strings, NULs as spaces, cut to fit, as Linux's fill_psinfo.
  const space = spaceOf(process);
  const length = <u32>readSpace(space, at + 56, space.argStart, min(space.argEnd - space.argStart, <u64>PSARGS_SIZE - 1));
  for (let i: u32 = 0; i < length; i++) if (load<u8>(at + 56 + i) == 0) store<u8>(at + 56 + i, 0x20);
  return note(NT_PRPSINFO, at, PRPSINFO_SIZE);
}

function writeSiginfo(info: SignalInfo): bool {
  const at = buffer;
  memory.fill(at, 0, SIGINFO_SIZE);
  storeSiginfo(at, info);
  return note(NT_SIGINFO, at, SIGINFO_SIZE);
}

const MAX_AUXV_PAIRS: u32 = 64; // more than exec writes (exec_stack.ts)

/** The auxiliary vector's pairs up to AT_NULL (included), read into `buffer`: their bytes, 0 if none can be read. */
function readAuxv(space: AddressSpace): u32 {
  if (space.auxv == 0) return 0;
  let bytes: u32 = 0;
  while (bytes < MAX_AUXV_PAIRS * 16 && readSpace(space, buffer + bytes, space.auxv + bytes, 16) == 16) {
    bytes += 16;
    if (load<u64>(buffer + bytes - 16) == 0) break; // AT_NULL
  }
  return bytes;
}

// ---- NT_FILE -----------------------------------------------------------------

/** Whether NT_FILE lists `region`: a mapping of a memory object other than the vDSO, as Linux lists every vma with a file. */
@inline function listedFile(region: Region): bool {
  return region.object != null && !isVdsoObject(region.object);
}

const DELETED_ZERO = "/dev/zero (deleted)"; // shared anonymous memory, named as Linux names it

/** Writes the name NT_FILE gives `region` into `buffer`, NUL-terminated; returns its length with the NUL. */
function fileName(region: Region): u32 {
  const owner = changetype<u32>(region.object!.owner);
  let n: u32;
  if (owner != 0) {
    n = pathOfInode(changetype<Inode>(owner), buffer, PATH_MAX);
  } else {
    n = <u32>DELETED_ZERO.length;
    for (let i: u32 = 0; i < n; i++) store<u8>(buffer + i, <u8>DELETED_ZERO.charCodeAt(i));
  }
  store<u8>(buffer + n, 0);
  return n + 1;
}

/** The size of NT_FILE's description: count, page size, one triple per file mapping, then their names. */
function filesSize(space: AddressSpace): u32 {
  const regions = regionsOf(space);
  let size: u32 = 16;
  for (let i: u32 = 0; i < regions.count; i++) {
    const region = regionAt(regions, i);
    if (listedFile(region)) size += 24 + fileName(region);
  }
  return size;
}

function writeFiles(space: AddressSpace): bool {
  const regions = regionsOf(space);
  const size = filesSize(space);
  // Linux writes the description in one piece: all of it fits under RLIMIT_CORE or none is written.
  if (!beginNote(NT_FILE, size) || !coreRoomFor(size)) return false;
  let count: u64 = 0;
  for (let i: u32 = 0; i < regions.count; i++) if (listedFile(regionAt(regions, i))) count++;
  const at = buffer;
  store<u64>(at, count);
  store<u64>(at + 8, PAGE_SIZE);
  if (!emitCore(at, 16)) return false;
  for (let i: u32 = 0; i < regions.count; i++) {
    const region = regionAt(regions, i);
    if (!listedFile(region)) continue;
    store<u64>(at, region.start);
    store<u64>(at + 8, region.end);
    store<u64>(at + 16, region.fileOffset / PAGE_SIZE);
    if (!emitCore(at, 24)) return false;
  }
  for (let i: u32 = 0; i < regions.count; i++) {
    const region = regionAt(regions, i);
    if (listedFile(region) && !emitCore(at, fileName(region))) return false;
  }
  skipCore(padded(size) - size);
  return true;
}

// ---- all of them ---------------------------------------------------------------

/** The bytes of the PT_NOTE segment writeNotes writes for `process`. */
export function notesSize(process: Process): u32 {
  const space = spaceOf(process);
  const auxv = readAuxv(space);
  return noteSize(PRSTATUS_SIZE) + noteSize(PRPSINFO_SIZE) + noteSize(SIGINFO_SIZE) + (auxv != 0 ? noteSize(auxv) : 0) +
    noteSize(filesSize(space)) + noteSize(FPREGS_SIZE);
}

/** Writes the notes of `process`, killed by `info`'s signal with its registers in `frame`; false once the file refuses. */
export function writeNotes(process: Process, frame: TrapFrame, info: SignalInfo): bool {
  const space = spaceOf(process);
  if (!writePrstatus(process, frame, info.signal) || !writePrpsinfo(process) || !writeSiginfo(info)) return false;
  const auxv = readAuxv(space);
  if (auxv != 0 && !note(NT_AUXV, buffer, auxv)) return false;
  if (!writeFiles(space)) return false;
  fxsave(process.fpuState); // the live registers: the process is the one running
  return note(NT_PRFPREG, process.fpuState, FPREGS_SIZE);
}
