// signalfd and signalfd4: a descriptor that reads the caller's pending
// signals of a set, as struct signalfd_siginfo records, instead of having
// them delivered (the set is normally blocked for that). A read takes as
// many as fit, or waits for one; poll sees it readable while one is
// pending. Whoever reads takes its own signals, as on Linux, whichever
// process made the descriptor.
import { FD_CLOEXEC, File, FileKind, O_NONBLOCK, O_RDWR, fileAt, installFile, newFile, releaseFile } from "../fs/file";
import { kmalloc } from "../mm/slab";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { Process, ProcessState, spaceOf } from "../proc/process";
import { descriptorLimit } from "../proc/resource_limits";
import { hasDeliverableSignal, yieldToScheduler } from "../proc/scheduler";
import {
  SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGSTOP, SIGTRAP, SI_TIMER, SI_USER, bitOf,
} from "../proc/signal_action";
import { SIGNAL_INFO_SIZE, SignalInfo } from "../proc/signal_info";
import { dequeueSignal, pendingSignalsOf } from "../proc/signal_queue";
import { EAGAIN, EBADF, EFAULT, EINTR, EINVAL, ENOMEM } from "./errno";

const SFD_NONBLOCK: u64 = O_NONBLOCK;
const SFD_CLOEXEC: u64 = 0o2000000;
const SIGSET_SIZE: u64 = 8;
/**
 * struct signalfd_siginfo (128 bytes):
 *   0 ssi_signo  8 ssi_code  12 ssi_pid  16 ssi_uid  24 ssi_tid (a timer's id)
 *  32 ssi_overrun  40 ssi_status  44 ssi_int  48 ssi_ptr(u64)  72 ssi_addr(u64)
 */
const RECORD_SIZE: u32 = 128;
const taken = memory.data(SIGNAL_INFO_SIZE, 8);
const record = memory.data(RECORD_SIZE, 8);

@inline function setOf(file: File): u64 {
  return load<u64>(file.data);
}

/** signalfd4: a new descriptor for `fd` -1, else a new set for the signalfd `fd`. */
export function sysSignalfd4(process: Process, fd: i64, setAddress: u64, setSize: u64, flags: u64): i64 {
  if ((flags & ~(SFD_NONBLOCK | SFD_CLOEXEC)) != 0 || setSize != SIGSET_SIZE) return -EINVAL;
  const buffer = memory.data(8, 8);
  if (!copyFromUser(spaceOf(process), <u32>buffer, setAddress, 8)) return -EFAULT;
  const set = load<u64>(buffer) & ~(bitOf(SIGKILL) | bitOf(SIGSTOP));
  if (<i32>fd != -1) {
    const file = fileAt(process.files, fd);
    if (file == null) return -EBADF;
    if (file.kind != FileKind.SignalFd) return -EINVAL;
    store<u64>(file.data, set);
    return fd;
  }
  const file = newFile(FileKind.SignalFd, null, O_RDWR | <u32>(flags & SFD_NONBLOCK));
  if (file == null) return -ENOMEM;
  file.data = kmalloc(8);
  if (file.data == 0) {
    releaseFile(file);
    return -ENOMEM;
  }
  store<u64>(file.data, set);
  const installed = installFile(process.files, file, descriptorLimit(process), (flags & SFD_CLOEXEC) != 0 ? FD_CLOEXEC : 0);
  if (installed < 0) releaseFile(file);
  return installed;
}

/** Whether the reader has a signal of the descriptor's set pending (poll's POLLIN). */
export function signalfdReadable(process: Process, file: File): bool {
  return (pendingSignalsOf(process) & setOf(file)) != 0;
}

/**
 * Which siginfo union member a signal carries, as Linux's siginfo_layout
 * decides: a kernel-made fault signal its address, SIGCHLD the child's
 * status, a timer its id and overruns, a queued signal its value.
 */
function storeRecord(info: SignalInfo): void {
  memory.fill(record, 0, RECORD_SIZE);
  const signal = info.signal;
  store<u32>(record, signal);
  store<i32>(record + 8, info.code);
  const fault = signal == SIGILL || signal == SIGFPE || signal == SIGSEGV || signal == SIGBUS || signal == SIGTRAP;
  if (info.code > 0 && fault) {
    store<u64>(record + 72, info.first); // ssi_addr
    return;
  }
  if (info.code == SI_TIMER) {
    store<u32>(record + 24, <u32>info.first); // ssi_tid
    store<u32>(record + 32, <u32>(info.first >> 32)); // ssi_overrun
  } else {
    store<u32>(record + 12, <u32>info.first); // ssi_pid
    store<u32>(record + 16, <u32>(info.first >> 32)); // ssi_uid
  }
  if (info.code > 0 && signal == SIGCHLD) {
    store<i32>(record + 40, <i32>info.second); // ssi_status
  } else if (info.code < 0 && info.code != SI_USER) {
    store<u64>(record + 48, info.second); // ssi_ptr
    store<u32>(record + 44, <u32>info.second); // ssi_int
  }
}

/**
 * read: takes pending signals of the set, lowest first, as many as
 * `count` holds (EINVAL if not one); waits for one unless `nonBlocking`.
 * A signal outside the set that the reader does not block ends the wait
 * (EINTR), as it would any blocking read.
 */
export function readSignalfd(process: Process, file: File, buffer: u64, count: u64, nonBlocking: bool): i64 {
  if (count < <u64>RECORD_SIZE) return -EINVAL;
  const set = setOf(file);
  if ((pendingSignalsOf(process) & set) == 0) {
    if (nonBlocking) return -EAGAIN;
    if (!hasDeliverableSignal(process)) {
      // The set's signals wake the reader though blocked, as for sigwaitinfo.
      process.awaitedSignals = set;
      while ((pendingSignalsOf(process) & set) == 0 && !hasDeliverableSignal(process)) {
        process.state = ProcessState.Sleeping;
        process.waitChannel = 0;
        process.wakeAt = 0;
        yieldToScheduler();
      }
      process.awaitedSignals = 0;
    }
    if ((pendingSignalsOf(process) & set) == 0) return -EINTR;
  }
  let done: u64 = 0;
  while (done + <u64>RECORD_SIZE <= count) {
    const pending = pendingSignalsOf(process) & setOf(file);
    if (pending == 0) break;
    const entry = changetype<SignalInfo>(taken);
    dequeueSignal(process, <u32>ctz(pending) + 1, entry);
    storeRecord(entry);
    if (!copyToUser(spaceOf(process), buffer + done, <u32>record, RECORD_SIZE)) return done != 0 ? <i64>done : -EFAULT;
    done += <u64>RECORD_SIZE;
  }
  return <i64>done;
}
