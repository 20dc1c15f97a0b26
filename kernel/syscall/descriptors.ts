// Descriptor system calls: pipe, pipe2, dup, dup2, dup3, fcntl.
import {
  FILE_TABLE_SIZE, File, FileKind, duplicateFrom, fileAt, installFile, newFile, releaseFile, replaceDescriptor,
} from "../fs/file";
import { newPipe } from "../fs/pipe";
import { copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { EBADF, EFAULT, EINVAL, EMFILE, ENOMEM } from "./errno";

const F_DUPFD: i64 = 0;
const F_GETFD: i64 = 1;
const F_SETFD: i64 = 2;
const F_GETFL: i64 = 3;
const F_SETFL: i64 = 4;
const F_DUPFD_CLOEXEC: i64 = 1030;

export function sysPipe2(process: Process, fds: u64, flags: u64): i64 {
  if ((flags & ~(<u64>0o2004000)) != 0) return -EINVAL; // only O_CLOEXEC and O_NONBLOCK are known
  const pipe = newPipe();
  if (pipe == null) return -ENOMEM;
  const reader = newFile(FileKind.PipeRead, -1, 0);
  const writer = newFile(FileKind.PipeWrite, -1, 1);
  if (reader == null || writer == null) {
    // Each end's File owns its side of the pipe; without a File, close the side by hand.
    if (reader != null) {
      reader.data = changetype<u32>(pipe);
      releaseFile(reader);
    } else pipe.readers--;
    if (writer != null) {
      writer.data = changetype<u32>(pipe);
      releaseFile(writer);
    } else pipe.writers--;
    return -ENOMEM;
  }
  reader.data = changetype<u32>(pipe);
  writer.data = changetype<u32>(pipe);
  const readFd = installFile(process.files, reader);
  const writeFd = readFd < 0 ? -1 : installFile(process.files, writer);
  if (writeFd < 0) {
    if (readFd >= 0) store<u32>(process.files + <u32>readFd * 4, 0);
    releaseFile(reader);
    releaseFile(writer);
    return -EMFILE;
  }
  const pair = memory.data(8, 4);
  store<i32>(pair, readFd);
  store<i32>(pair + 4, writeFd);
  if (!copyToUser(spaceOf(process), fds, <u32>pair, 8)) {
    store<u32>(process.files + <u32>readFd * 4, 0);
    store<u32>(process.files + <u32>writeFd * 4, 0);
    releaseFile(reader);
    releaseFile(writer);
    return -EFAULT;
  }
  return 0;
}

export function sysDup(process: Process, fd: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  const copy = duplicateFrom(process.files, file, 0);
  return copy < 0 ? -EMFILE : copy;
}

export function sysDup3(process: Process, fd: i64, target: i64, dup2: bool): i64 {
  const file: File | null = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  if (target < 0 || target >= <i64>FILE_TABLE_SIZE) return -EBADF;
  if (fd == target) return dup2 ? target : -EINVAL;
  replaceDescriptor(process.files, <u32>target, file);
  return target;
}

export function sysFcntl(process: Process, fd: i64, command: i64, argument: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  if (command == F_DUPFD || command == F_DUPFD_CLOEXEC) {
    if (argument >= <u64>FILE_TABLE_SIZE) return -EINVAL;
    const copy = duplicateFrom(process.files, file, <u32>argument);
    return copy < 0 ? -EMFILE : copy;
  }
  if (command == F_GETFL) return file.kind == FileKind.PipeWrite ? 1 : 0;
  // Close-on-exec and status flags are accepted; there is nothing for them to change yet.
  if (command == F_GETFD || command == F_SETFD || command == F_SETFL) return 0;
  return -EINVAL;
}
