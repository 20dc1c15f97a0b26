// Starting the first user process from the kernel command line:
//   init=/bin/prog -- arg1 arg2      (argv[0] is the path)
//   (no init=: /bin/shell-init, which runs busybox's shell as a login shell; init=none: no user space)
// or, when the initramfs has /etc/init-args, its NUL-separated arguments,
// which may hold any bytes (scripts/run-program writes it). Every init gets
// the environment a login gives a shell: HOME, PATH, TERM and SHELL.
import {
  argumentValueAddress, argumentValueLength, commandLineLength, commandLineText, hasArgument,
} from "../boot/cmdline";
import { print, printBytes, printf } from "../console/console";
import { FileKind, O_RDWR, installFile, newFile } from "../fs/file";
import { readInodeToKernel } from "../fs/file_io";
import { Inode, inodeSize, isRegularInode, releaseInode, retainInode } from "../fs/inode";
import { fileSystemRoot } from "../fs/mount";
import { resolvePath } from "../fs/path";
import { allocPages, freePages } from "../mm/buddy";
import { FrameState } from "../mm/frame";
import { str } from "../lib/format";
import { storeAscii } from "../lib/ascii";
import { exec, lastElfCheck } from "./exec";
import { ExecArguments } from "./exec_stack";
import { elfCheckName } from "./elf";
import { createProcess, destroyProcess } from "./process";
import { makeRunnable } from "./scheduler";
import { descriptorLimit, setDefaultLimits } from "./resource_limits";

const ARGUMENT_ORDER: u32 = 5;
const ENOEXEC: i64 = 8;
const EACCES: i64 = 13;
const ELIBBAD: i64 = 80;
// "/bin/shell-init", which starts busybox's shell in a session of its own (user/shell-init.c).
const DEFAULT_INIT = memory.data<u8>([0x2f, 0x62, 0x69, 0x6e, 0x2f, 0x73, 0x68, 0x65, 0x6c, 0x6c, 0x2d, 0x69, 0x6e, 0x69, 0x74]);
const ARGUMENT_BYTES: u32 = 4096 << ARGUMENT_ORDER;

function append(args: ExecArguments, from: usize, length: u32): bool {
  if (args.bytes + length + 1 > ARGUMENT_BYTES) return false;
  memory.copy(args.strings + args.bytes, from, length);
  store<u8>(args.strings + args.bytes + length, 0);
  args.bytes += length + 1;
  return true;
}

function appendString(args: ExecArguments, s: string): bool {
  const scratch = memory.data(64);
  return append(args, scratch, storeAscii(scratch, s));
}

/** argv from the command line: the init path, then the words after "--". */
function commandLineArguments(args: ExecArguments, path: usize, pathLength: u32): void {
  append(args, path, pathLength);
  args.argc = 1;
  const text = commandLineText();
  const length = commandLineLength();
  let i: u32 = 0;
  let afterDashes = false;
  while (i < length) {
    while (i < length && load<u8>(text + i) == 0x20) i++;
    const start = i;
    while (i < length && load<u8>(text + i) != 0x20) i++;
    if (i == start) break;
    if (afterDashes) {
      append(args, text + start, i - start);
      args.argc++;
    } else if (i - start == 2 && load<u16>(text + start) == 0x2d2d) {
      afterDashes = true;
    }
  }
}

/** argv from /etc/init-args: NUL-separated, the first being argv[0]. False if it is too long. */
function fileArguments(args: ExecArguments, inode: Inode): bool {
  const size = <u32>min(inodeSize(inode), <u64>ARGUMENT_BYTES);
  if (inodeSize(inode) > <u64>ARGUMENT_BYTES) return false;
  // Read to the end of the strings area, then split in place (each argument moves down or stays).
  const data = args.strings + ARGUMENT_BYTES - size;
  if (readInodeToKernel(inode, data, size, 0) != <i64>size) return false;
  let start: u32 = 0;
  for (let i: u32 = 0; i <= size; i++) {
    if (i == size || load<u8>(data + i) == 0) {
      if (i > start || i < size) {
        append(args, data + start, i - start);
        args.argc++;
      }
      start = i + 1;
    }
  }
  return true;
}

/** Creates init (pid 1) and queues it. False, with a message, if it cannot run. */
export function startInit(): bool {
  let path = argumentValueAddress("init");
  let pathLength = <u32>argumentValueLength("init");
  if (!hasArgument("init")) {
    path = changetype<usize>(DEFAULT_INIT);
    pathLength = 15;
  }
  const root = fileSystemRoot();
  const found = resolvePath(root, <u32>path, pathLength, true);
  if (found <= 0) {
    print("init: ");
    printBytes(path, pathLength);
    print(": no such file in the initramfs\n");
    return false;
  }
  const inode = changetype<Inode>(<u32>found);
  const process = createProcess(0);
  const strings = allocPages(ARGUMENT_ORDER, FrameState.KernelObject, false);
  if (process == null || strings == 0) {
    print("init: out of memory\n");
    releaseInode(inode);
    return false;
  }
  process.cwd = retainInode(root);
  process.umask = 0o022;
  setDefaultLimits(process);
  process.pgid = process.pid;
  process.sid = process.pid;
  const args = changetype<ExecArguments>(memory.data(offsetof<ExecArguments>(), 8));
  args.strings = strings;
  args.bytes = 0;
  args.argc = 0;
  const argsPath = memory.data<u8>([0x65, 0x74, 0x63, 0x2f, 0x69, 0x6e, 0x69, 0x74, 0x2d, 0x61, 0x72, 0x67, 0x73]); // etc/init-args
  const argsFile = resolvePath(root, <u32>changetype<usize>(argsPath), 13, true);
  if (argsFile > 0 && isRegularInode(changetype<Inode>(<u32>argsFile))) fileArguments(args, changetype<Inode>(<u32>argsFile));
  else commandLineArguments(args, path, pathLength);
  if (argsFile > 0) releaseInode(changetype<Inode>(<u32>argsFile));
  args.envc = 0;
  if (appendString(args, "HOME=/")) args.envc++;
  if (appendString(args, "PATH=/sbin:/usr/sbin:/bin:/usr/bin")) args.envc++;
  if (appendString(args, "TERM=linux")) args.envc++;
  if (appendString(args, "SHELL=/bin/sh")) args.envc++;
  args.filenameBytes = append(args, path, pathLength) ? pathLength + 1 : 0; // AT_EXECFN
  // Standard input, output and error: the console.
  for (let fd = 0; fd < 3; fd++) {
    const console = newFile(FileKind.Console, null, O_RDWR);
    if (console != null) installFile(process.files, console, descriptorLimit(process));
  }
  const result = exec(process, inode, args);
  freePages(strings);
  releaseInode(inode);
  if (result != 0) {
    print("init: cannot execute ");
    printBytes(path, pathLength);
    if (result == -ENOEXEC) printf(": %s (ENOEXEC)\n", str(elfCheckName(lastElfCheck)));
    else if (result == -ELIBBAD) printf(": its interpreter: %s (ELIBBAD)\n", str(elfCheckName(lastElfCheck)));
    else if (result == -EACCES) print(": not an executable file (EACCES)\n");
    else printf(": error %d\n", -result);
    destroyProcess(process);
    return false;
  }
  makeRunnable(process);
  return true;
}
