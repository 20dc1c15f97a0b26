// ioctl: no request is supported yet (terminal control comes with the
// console's termios), so every open descriptor answers ENOTTY, as Linux
// does for a request a file does not know.
import { FileKind, fileAt } from "../fs/file";
import { Process } from "../proc/process";
import { EBADF, ENOTTY } from "./errno";

export function sysIoctl(process: Process, fd: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null || file.kind == FileKind.PathOnly) return -EBADF;
  return -ENOTTY;
}
