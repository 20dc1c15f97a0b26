// Descriptor system calls: pipe, pipe2, dup, dup2, dup3, fcntl.
import {
  FD_CLOEXEC, File, FileKind, O_CLOEXEC, O_NONBLOCK, O_WRONLY, STATUS_FLAGS, descriptorFlags,
  duplicateFrom, fileAt, forgetDescriptor, installFile, isPathOnly, isPipeFile, newFile, releaseFile, replaceDescriptor,
  setDescriptorFlags,
} from "../fs/file";
import { Pipe, newPipe, pipeCapacity, resizePipe } from "../fs/pipe";
import { copyToUser } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { EBADF, EFAULT, EINVAL, ENOMEM } from "./errno";
import { descriptorLimit } from "../proc/resource_limits";

const F_DUPFD: i64 = 0;
const F_GETFD: i64 = 1;
const F_SETFD: i64 = 2;
const F_GETFL: i64 = 3;
const F_SETFL: i64 = 4;
const F_DUPFD_CLOEXEC: i64 = 1030;
const F_SETPIPE_SZ: i64 = 1031;
const F_GETPIPE_SZ: i64 = 1032;
const O_ASYNC: u32 = 0o20000;
const O_DIRECT: u32 = 0o40000;

export function sysPipe2(process: Process, fds: u64, flags: u64): i64 {
  if ((flags & ~<u64>(O_CLOEXEC | O_NONBLOCK)) != 0) return -EINVAL; // O_DIRECT (packet pipes) is not supported
  const fdFlags = (flags & <u64>O_CLOEXEC) != 0 ? FD_CLOEXEC : 0;
  const status = <u32>flags & O_NONBLOCK;
  const pipe = newPipe();
  if (pipe == null) return -ENOMEM;
  const reader = newFile(FileKind.PipeRead, null, status);
  const writer = newFile(FileKind.PipeWrite, null, O_WRONLY | status);
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
  const readFd = installFile(process.files, reader, descriptorLimit(process), fdFlags);
  const writeFd = readFd < 0 ? readFd : installFile(process.files, writer, descriptorLimit(process), fdFlags);
  if (writeFd < 0) {
    if (readFd >= 0) forgetDescriptor(process.files, <u32>readFd);
    releaseFile(reader);
    releaseFile(writer);
    return writeFd;
  }
  const pair = memory.data(8, 4);
  store<i32>(pair, readFd);
  store<i32>(pair + 4, writeFd);
  if (!copyToUser(spaceOf(process), fds, <u32>pair, 8)) {
    forgetDescriptor(process.files, <u32>readFd);
    forgetDescriptor(process.files, <u32>writeFd);
    releaseFile(reader);
    releaseFile(writer);
    return -EFAULT;
  }
  return 0;
}

export function sysDup(process: Process, fd: i64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  return duplicateFrom(process.files, file, 0, descriptorLimit(process), 0);
}

/**
 * dup2 (`dup2` true) and dup3, in Linux's order of checks: dup3's flags
 * and same descriptor (EINVAL; dup2 then just checks it), a target at or
 * above RLIMIT_NOFILE (EBADF; the target is an unsigned int), the table's
 * growth (ENOMEM), the source (EBADF). The copy never inherits
 * close-on-exec; dup3 may set it.
 */
export function sysDup3(process: Process, fd: i64, target: i64, flags: u64, dup2: bool): i64 {
  if (!dup2 && (flags & ~<u64>O_CLOEXEC) != 0) return -EINVAL;
  const newFd = <u32>target;
  if (newFd == <u32>fd) { // both unsigned int, as Linux compares them
    if (!dup2) return -EINVAL;
    return fileAt(process.files, fd) != null ? <i64>newFd : -EBADF;
  }
  if (newFd >= descriptorLimit(process)) return -EBADF;
  const file: File | null = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  if (!replaceDescriptor(process.files, newFd, file, (flags & <u64>O_CLOEXEC) != 0 ? FD_CLOEXEC : 0)) return -ENOMEM;
  return <i64>newFd;
}

export function sysFcntl(process: Process, fd: i64, command: i64, argument: u64): i64 {
  const file = fileAt(process.files, fd);
  if (file == null) return -EBADF;
  if (command == F_DUPFD || command == F_DUPFD_CLOEXEC) {
    // As on Linux, the lowest descriptor is an unsigned int, and at or above RLIMIT_NOFILE it is EINVAL.
    if (<u32>argument >= descriptorLimit(process)) return -EINVAL;
    return duplicateFrom(process.files, file, <u32>argument, descriptorLimit(process), command == F_DUPFD_CLOEXEC ? FD_CLOEXEC : 0);
  }
  if (command == F_GETFD) return descriptorFlags(process.files, <u32>fd);
  if (command == F_SETFD) {
    setDescriptorFlags(process.files, <u32>fd, <u32>argument & FD_CLOEXEC);
    return 0;
  }
  if (command == F_GETFL) return file.flags;
  if (isPathOnly(file)) return -EBADF;
  if (command == F_SETFL) {
    // As on Linux, the access mode and creation flags in the argument are ignored.
    if ((argument & <u64>(O_ASYNC | O_DIRECT)) != 0) return -EINVAL; // no SIGIO, no direct I/O
    file.flags = (file.flags & ~STATUS_FLAGS) | (<u32>argument & STATUS_FLAGS);
    return 0;
  }
  if (command == F_GETPIPE_SZ || command == F_SETPIPE_SZ) {
    if (!isPipeFile(file)) return -EBADF; // as Linux's pipe_fcntl
    const pipe = changetype<Pipe>(file.data);
    return command == F_GETPIPE_SZ ? <i64>pipeCapacity(pipe) : resizePipe(pipe, <u64><u32>argument);
  }
  return -EINVAL;
}
