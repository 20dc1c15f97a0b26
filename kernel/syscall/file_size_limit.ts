// RLIMIT_FSIZE, as Linux applies it to regular files: a write that starts
// at or past the limit gets SIGXFSZ and EFBIG, one that would cross it is
// cut short at the limit; growing a file past it (truncate, fallocate)
// gets SIGXFSZ and EFBIG. Shrinking is always allowed.
import { Process } from "../proc/process";
import { RLIMIT_FSIZE, RLIM_INFINITY, softLimit } from "../proc/resource_limits";
import { signalProcess } from "../proc/scheduler";
import { SIGXFSZ } from "../proc/signal_action";
import { EFBIG } from "./errno";

/** How many of `count` bytes may be written at `at`, or -EFBIG (with SIGXFSZ sent). */
export function writableCount(process: Process, at: u64, count: u64): i64 {
  const limit = softLimit(process, RLIMIT_FSIZE);
  if (limit == RLIM_INFINITY || count == 0) return <i64>count;
  if (at >= limit) {
    signalProcess(process, SIGXFSZ);
    return -EFBIG;
  }
  return <i64>min(count, limit - at);
}

/** 0 if a file of `size` bytes may become `newSize` long, else -EFBIG (with SIGXFSZ sent). */
export function checkNewSize(process: Process, size: u64, newSize: u64): i64 {
  const limit = softLimit(process, RLIMIT_FSIZE);
  if (newSize <= size || limit == RLIM_INFINITY || newSize <= limit) return 0;
  signalProcess(process, SIGXFSZ);
  return -EFBIG;
}
