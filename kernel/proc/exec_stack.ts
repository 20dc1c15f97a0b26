// The first stack of a new program, laid out as Linux's exec and
// create_elf_tables lay it out, from the top down: a null word, the file
// name execve was given, the environment and argument strings, a random
// gap below them, the platform string, 16 random bytes, then, 16-byte
// aligned, argc, argv[], NULL, envp[], NULL and the auxiliary vector,
// whose entries come in Linux's order and end with AT_NULL.
import { cpuid, readCr4 } from "../arch/x86_64/cpu";
import { randomU64 } from "../lib/random";
import { AddressSpace } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { copyToUser, putUser64 } from "../mm/user_copy";
import { PROGRAM_HEADER_SIZE } from "./elf";
import { chooseStackPointerOffset } from "./exec_layout";
import { SIGNAL_FRAME_MAX_BYTES } from "./signal";
import { RSEQ_ALIGN, RSEQ_FEATURE_SIZE } from "./rseq";

/**
 * The strings for a new program: argc argument strings, envc environment
 * strings, then the file name (filenameBytes of them, its NUL included),
 * each NUL-terminated, packed at `strings` (linear) with `bytes` in all.
 */
@unmanaged export class ExecArguments {
  strings: u32;
  bytes: u32;
  argc: u32;
  envc: u32;
  filenameBytes: u32;
}

/** How a new program starts: its registers, and what the auxiliary vector tells it about itself and its interpreter. */
@unmanaged export class ProgramStart {
  entry: u64; // AT_ENTRY: the program's own entry point, biased
  programHeaders: u64; // AT_PHDR
  programHeaderCount: u64; // AT_PHNUM
  interpreterBase: u64; // AT_BASE: the interpreter's bias, 0 without one
  vdso: u64; // AT_SYSINFO_EHDR
  stackTop: u64;
  rip: u64; // where it starts: the interpreter's entry, or the program's without one
  rsp: u64; // the stack pointer buildStack leaves
}
export const PROGRAM_START_SIZE: u32 = 64;

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_HWCAP2: u64 = 26;
const AT_RSEQ_FEATURE_SIZE: u64 = 27;
const AT_RSEQ_ALIGN: u64 = 28;
const AT_EXECFN: u64 = 31;
const AT_SYSINFO_EHDR: u64 = 33;
const AT_MINSIGSTKSZ: u64 = 51;
const AUX_PAIRS: u32 = 23;

const USER_HZ: u64 = 100; // the unit of times(2) and /proc's clock ticks
const CR4_FSGSBASE: u64 = 1 << 16;
const HWCAP2_FSGSBASE: u64 = 2; // user mode may use rdfsbase and friends
const PLATFORM = memory.data<u8>([0x78, 0x38, 0x36, 0x5f, 0x36, 0x34, 0]); // "x86_64", AT_PLATFORM
const PLATFORM_BYTES: u32 = 7;

/** Bytes of scratch buildStack needs: the auxiliary vector, the random bytes, a CPUID answer. */
export const STACK_SCRATCH_BYTES: u32 = AUX_PAIRS * 16 + 16 + 16;

function putAux(auxv: u32, pair: u32, type: u64, value: u64): u32 {
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

/** Linux's ELF_HWCAP: the features of CPUID leaf 1 in EDX. */
function hardwareCapabilities(scratch: u32): u64 {
  cpuid(1, 0, scratch);
  return <u64>load<u32>(scratch + 12);
}

/**
 * Lays out the stack from `start.stackTop` down in `space` and records
 * where the argument and environment strings are (/proc/PID/cmdline and
 * environ read them there). `scratch` holds STACK_SCRATCH_BYTES. Returns
 * the initial RSP, 0 on EFAULT.
 */
export function buildStack(space: AddressSpace, args: ExecArguments, start: ProgramStart, scratch: u32): u64 {
  let sp = start.stackTop - 8;
  if (!putUser64(space, sp, 0)) return 0;
  sp -= <u64>args.bytes;
  const stringsAt = sp;
  if (!copyToUser(space, stringsAt, args.strings, args.bytes)) return 0;
  space.argStart = stringsAt;
  space.argEnd = stringsAt + stringsLength(args.strings, args.argc);
  space.envStart = space.argEnd;
  space.envEnd = stringsAt + args.bytes - args.filenameBytes;
  const filename = space.envEnd;
  sp = (sp - chooseStackPointerOffset()) & ~(<u64>15);
  sp -= PLATFORM_BYTES;
  const platform = sp;
  if (!copyToUser(space, platform, <u32>PLATFORM, PLATFORM_BYTES)) return 0;
  sp -= 16;
  const randomAt = sp;
  const random = scratch + AUX_PAIRS * 16;
  store<u64>(random, randomU64());
  store<u64>(random + 8, randomU64());
  if (!copyToUser(space, randomAt, random, 16)) return 0;
  const pointers = <u64>(1 + args.argc + 1 + args.envc + 1);
  sp = (sp - (pointers + 2 * <u64>AUX_PAIRS) * 8) & ~(<u64>15);
  let at = sp;
  if (!putUser64(space, at, args.argc)) return 0;
  at += 8;
  let string = stringsAt;
  for (let i: u32 = 0; i < args.argc + args.envc; i++) {
    if (i == args.argc) { // end of argv
      if (!putUser64(space, at, 0)) return 0;
      at += 8;
    }
    if (!putUser64(space, at, string)) return 0;
    at += 8;
    string += stringsLength(args.strings + <u32>(string - stringsAt), 1);
  }
  if (args.envc == 0) { // argv's NULL was not written in the loop
    if (!putUser64(space, at, 0)) return 0;
    at += 8;
  }
  if (!putUser64(space, at, 0)) return 0; // end of envp
  at += 8;
  const auxv = scratch;
  let pair: u32 = 0;
  pair = putAux(auxv, pair, AT_SYSINFO_EHDR, start.vdso);
  pair = putAux(auxv, pair, AT_MINSIGSTKSZ, SIGNAL_FRAME_MAX_BYTES);
  pair = putAux(auxv, pair, AT_HWCAP, hardwareCapabilities(random + 16));
  pair = putAux(auxv, pair, AT_PAGESZ, PAGE_SIZE);
  pair = putAux(auxv, pair, AT_CLKTCK, USER_HZ);
  pair = putAux(auxv, pair, AT_PHDR, start.programHeaders);
  pair = putAux(auxv, pair, AT_PHENT, PROGRAM_HEADER_SIZE);
  pair = putAux(auxv, pair, AT_PHNUM, start.programHeaderCount);
  pair = putAux(auxv, pair, AT_BASE, start.interpreterBase);
  pair = putAux(auxv, pair, AT_FLAGS, 0);
  pair = putAux(auxv, pair, AT_ENTRY, start.entry);
  pair = putAux(auxv, pair, AT_UID, 0);
  pair = putAux(auxv, pair, AT_EUID, 0);
  pair = putAux(auxv, pair, AT_GID, 0);
  pair = putAux(auxv, pair, AT_EGID, 0);
  pair = putAux(auxv, pair, AT_SECURE, 0);
  pair = putAux(auxv, pair, AT_RANDOM, randomAt);
  pair = putAux(auxv, pair, AT_HWCAP2, (readCr4() & CR4_FSGSBASE) != 0 ? HWCAP2_FSGSBASE : 0);
  pair = putAux(auxv, pair, AT_EXECFN, filename);
  pair = putAux(auxv, pair, AT_PLATFORM, platform);
  pair = putAux(auxv, pair, AT_RSEQ_FEATURE_SIZE, RSEQ_FEATURE_SIZE);
  pair = putAux(auxv, pair, AT_RSEQ_ALIGN, RSEQ_ALIGN);
  pair = putAux(auxv, pair, AT_NULL, 0);
  assert(pair == AUX_PAIRS, "buildStack: auxv count out of step");
  if (!copyToUser(space, at, auxv, AUX_PAIRS * 16)) return 0;
  space.auxv = at;
  return sp;
}
