// ioctl: the requests every descriptor takes (FIONBIO, FIOCLEX,
// FIONCLEX), FIONREAD on pipes and regular files, the terminal's requests
// on the console (terminal.ts), and block devices' (block_ioctl.ts). Anything else is ENOTTY, Linux's
// answer to a request a file does not know. Linux takes the request as 32
// bits; the upper half of the register is ignored.
import { FD_CLOEXEC, File, FileKind, O_NONBLOCK, fileAt, setDescriptorFlags } from "../fs/file";
import { Inode, inodeSize } from "../fs/inode";
import { Pipe } from "../fs/pipe";
import { copyFromUser, putUser32 } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { isTerminalFile } from "./devices";
import { EBADF, EFAULT, ENOTTY } from "./errno";
import { FIONREAD, terminalIoctl } from "./terminal";
import { blockIoctl } from "./block_ioctl";

const FIONBIO: u32 = 0x5421;
const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;

/** FIONREAD where Linux's VFS and pipes answer it: bytes from the position to a file's end (negative past it), bytes in a pipe. */
function bytesToRead(file: File): i32 {
  if (file.kind == FileKind.Regular) return <i32>(<i64>inodeSize(changetype<Inode>(file.inode)) - <i64>file.offset);
  if (file.kind == FileKind.Generated) return <i32>(<i64>file.size - <i64>file.offset);
  return <i32>changetype<Pipe>(file.data).count;
}

export function sysIoctl(process: Process, fd: i64, request: u64, argument: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  const command = <u32>request;
  if (command == FIOCLEX || command == FIONCLEX) {
    setDescriptorFlags(process.files, <u32>fd, command == FIOCLEX ? FD_CLOEXEC : 0);
    return 0;
  }
  if (command == FIONBIO) {
    const on = memory.data(4, 4);
    if (!copyFromUser(spaceOf(process), <u32>on, argument, 4)) return -EFAULT;
    file.flags = load<u32>(on) != 0 ? file.flags | O_NONBLOCK : file.flags & ~O_NONBLOCK;
    return 0;
  }
  const kind = file.kind;
  const readable = kind == FileKind.Regular || kind == FileKind.Generated || kind == FileKind.PipeRead || kind == FileKind.PipeWrite;
  if (command == FIONREAD && readable) return putUser32(spaceOf(process), argument, <u32>bytesToRead(file)) ? 0 : -EFAULT;
  if (isTerminalFile(file)) return terminalIoctl(process, command, argument);
  if (kind == FileKind.BlockDevice) return blockIoctl(process, file, command, argument);
  return -ENOTTY;
}
