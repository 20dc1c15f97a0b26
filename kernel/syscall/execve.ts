// execve: the path and the argument and environment strings are copied
// in, a script leads to its interpreter (script.ts), and proc/exec.ts
// replaces the program.
import { Inode, releaseInode } from "../fs/inode";
import { allocPages, freePages } from "../mm/buddy";
import { FrameState } from "../mm/frame";
import { copyStringFromUser, getUser64 } from "../mm/user_copy";
import { exec } from "../proc/exec";
import { ExecArguments } from "../proc/exec_stack";
import { Process, spaceOf } from "../proc/process";
import { E2BIG, EFAULT, ELOOP, ENOMEM } from "./errno";
import { AT_FDCWD, copyPath, lookupCopied, pathAddress } from "./paths";
import { interpreterAt, interpreterLength, prependInterpreter, readInterpreterLine } from "./script";

const ARGUMENT_ORDER: u32 = 5; // 128 KiB for argv and envp strings, like Linux's per-string limit
const ARGUMENT_BYTES: u32 = 4096 << ARGUMENT_ORDER;
const MAX_POINTERS: u32 = 4096;

/** Copies a NULL-terminated user array of strings onto the end of `args`; false with `error` set on failure. */
let copyError: i64 = 0;
function copyStrings(process: Process, array: u64, args: ExecArguments): u32 {
  let count: u32 = 0;
  if (array == 0) return 0;
  const pointer = memory.data(8, 8);
  while (true) {
    if (count == MAX_POINTERS) {
      copyError = -E2BIG;
      return count;
    }
    if (!getUser64(spaceOf(process), array + <u64>count * 8, <u32>pointer)) {
      copyError = -EFAULT;
      return count;
    }
    const at = load<u64>(pointer);
    if (at == 0) return count;
    const length = copyStringFromUser(spaceOf(process), args.strings + args.bytes, at, ARGUMENT_BYTES - args.bytes);
    if (length < 0) {
      copyError = length == -1 ? -EFAULT : -E2BIG;
      return count;
    }
    args.bytes += <u32>length + 1;
    count++;
  }
}

const MAX_SCRIPT_DEPTH: u32 = 4; // Linux's BINPRM_MAX_RECURSION
const PATH_MAX: u32 = 4096;
// The path of the file being run: execve's, then each interpreter's.
const programPath = memory.data(PATH_MAX);

/** Puts execve's path after the strings (the program finds it through AT_EXECFN), counted against their limit as on Linux. */
function appendFilename(args: ExecArguments, length: u32): i64 {
  if (args.bytes + length + 1 > ARGUMENT_BYTES) return -E2BIG;
  memory.copy(args.strings + args.bytes, <u32>programPath, length);
  store<u8>(args.strings + args.bytes + length, 0);
  args.bytes += length + 1;
  args.filenameBytes = length + 1;
  return 0;
}

/**
 * Runs the interpreters of a script (and of a script interpreter), four
 * deep: each time argv gets the interpreter before the path. The inode to
 * run at last, with a reference (the script's is let go), or -errno.
 */
function followScripts(process: Process, script: Inode, args: ExecArguments, pathLength: u32): i64 {
  let inode = script;
  let length = pathLength;
  for (let depth: u32 = 0; ; depth++) {
    const line = readInterpreterLine(inode);
    if (line <= 0) {
      if (line == 0) return <i64>changetype<u32>(inode);
      releaseInode(inode);
      return line;
    }
    releaseInode(inode);
    if (depth == MAX_SCRIPT_DEPTH) return -ELOOP;
    const prepended = prependInterpreter(args, ARGUMENT_BYTES, <u32>programPath, length);
    if (prepended < 0) return prepended;
    memory.copy(<u32>programPath, interpreterAt, interpreterLength);
    length = interpreterLength;
    const found = lookupCopied(process, AT_FDCWD, <u32>programPath, length, true, false);
    if (found < 0) return found;
    inode = changetype<Inode>(<u32>found);
  }
  return 0; // not reached
}

export function sysExecve(process: Process, path: u64, argv: u64, envp: u64): i64 {
  const pathLength = copyPath(process, path);
  if (pathLength < 0) return pathLength;
  memory.copy(<u32>programPath, pathAddress(), <u32>pathLength);
  const found = lookupCopied(process, AT_FDCWD, <u32>programPath, <u32>pathLength, true, false);
  if (found < 0) return found;
  const strings = allocPages(ARGUMENT_ORDER, FrameState.KernelObject, false);
  if (strings == 0) {
    releaseInode(changetype<Inode>(<u32>found));
    return -ENOMEM;
  }
  const args = changetype<ExecArguments>(memory.data(offsetof<ExecArguments>(), 8));
  args.strings = strings;
  args.bytes = 0;
  args.filenameBytes = 0;
  copyError = 0;
  args.argc = copyStrings(process, argv, args);
  if (copyError == 0 && args.argc == 0) {
    // As Linux since 5.18: an empty argv gets "" as argv[0], so that a
    // program that starts at argv[1] does not walk into the environment.
    store<u8>(args.strings, 0);
    args.bytes = 1;
    args.argc = 1;
  }
  if (copyError == 0) args.envc = copyStrings(process, envp, args);
  if (copyError == 0) copyError = appendFilename(args, <u32>pathLength);
  let result: i64 = copyError;
  if (result != 0) releaseInode(changetype<Inode>(<u32>found));
  else result = followScripts(process, changetype<Inode>(<u32>found), args, <u32>pathLength);
  if (result > 0) {
    const inode = changetype<Inode>(<u32>result);
    result = exec(process, inode, args);
    releaseInode(inode);
  }
  freePages(strings);
  return result;
}
