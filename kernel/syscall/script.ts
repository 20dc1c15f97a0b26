// Scripts as programs (Linux's binfmt_script): an executable file that
// starts with "#!" names its interpreter, and an optional argument, on
// its first line; execve runs the interpreter with argv
// [interpreter, argument, script path, the caller's argv[1]...] and the
// same environment. The interpreter may be a script itself, four deep.
import { readInodeToKernel } from "../fs/file_io";
import { Inode, isRegularInode } from "../fs/inode";
import { ExecArguments } from "../proc/exec_stack";
import { E2BIG, ENOEXEC } from "./errno";

const LINE_BYTES: u32 = 256; // Linux's BINPRM_BUF_SIZE: the interpreter line must fit
const firstLine = memory.data(LINE_BYTES);

/** Where the interpreter's path and its argument are in firstLine (lengths 0 when absent). */
export let interpreterAt: u32 = 0;
export let interpreterLength: u32 = 0;
export let argumentAt: u32 = 0;
export let argumentLength: u32 = 0;

@inline function isBlank(c: u32): bool {
  return c == 0x20 || c == 0x09;
}

/**
 * Whether `inode` is a script: true with interpreterAt/argumentAt set; a
 * script whose line names no interpreter, or does not fit, is ENOEXEC
 * (returned as a negative number); false for anything else.
 */
export function readInterpreterLine(inode: Inode): i64 {
  if (!isRegularInode(inode) || (inode.mode & 0o111) == 0) return 0;
  const read = readInodeToKernel(inode, <u32>firstLine, LINE_BYTES, 0);
  if (read < 2 || load<u8>(firstLine) != 0x23 || load<u8>(firstLine + 1) != 0x21) return 0; // "#!"
  const end = <u32>read;
  let lineEnd: u32 = 2;
  while (lineEnd < end && load<u8>(firstLine + lineEnd) != 0x0a) lineEnd++;
  let at: u32 = 2;
  while (at < lineEnd && isBlank(load<u8>(firstLine + at))) at++;
  interpreterAt = <u32>firstLine + at;
  while (at < lineEnd && !isBlank(load<u8>(firstLine + at)) && load<u8>(firstLine + at) != 0) at++;
  interpreterLength = <u32>firstLine + at - interpreterAt;
  // As Linux: an interpreter path cut off by the buffer's end cannot be run.
  if (interpreterLength == 0 || lineEnd == end && at == end && <u32>read == LINE_BYTES) return -ENOEXEC;
  while (at < lineEnd && isBlank(load<u8>(firstLine + at))) at++;
  let last = lineEnd;
  while (last > at && (isBlank(load<u8>(firstLine + last - 1)) || load<u8>(firstLine + last - 1) == 0x0d)) last--;
  argumentAt = <u32>firstLine + at;
  argumentLength = last - at;
  return 1;
}

function stringLength(at: u32): u32 {
  let n: u32 = 0;
  while (load<u8>(at + n) != 0) n++;
  return n;
}

/**
 * Replaces argv[0] of `args` (at most `capacity` bytes) by the interpreter,
 * its argument and `path` (`pathLength` bytes), as readInterpreterLine
 * found them. 0, or -E2BIG.
 */
export function prependInterpreter(args: ExecArguments, capacity: u32, path: u32, pathLength: u32): i64 {
  const dropped = args.argc > 0 ? stringLength(args.strings) + 1 : 0;
  const prefix = interpreterLength + 1 + (argumentLength != 0 ? argumentLength + 1 : 0) + pathLength + 1;
  const rest = args.bytes - dropped;
  if (<u64>prefix + rest > <u64>capacity) return -E2BIG;
  memory.copy(args.strings + prefix, args.strings + dropped, rest);
  let at = args.strings;
  memory.copy(at, interpreterAt, interpreterLength);
  at += interpreterLength;
  store<u8>(at++, 0);
  if (argumentLength != 0) {
    memory.copy(at, argumentAt, argumentLength);
    at += argumentLength;
    store<u8>(at++, 0);
  }
  memory.copy(at, path, pathLength);
  store<u8>(at + pathLength, 0);
  args.bytes = prefix + rest;
  args.argc = (args.argc > 0 ? args.argc - 1 : 0) + (argumentLength != 0 ? 3 : 2);
  return 0;
}
