// rseq(2): registers or unregisters the calling thread's struct rseq
// (kernel/proc/rseq.ts keeps it up to date and restarts its critical
// sections). The checks and their order are Linux's: unregistering needs
// the area, length and signature it was registered with; a second
// registration of the same area is EBUSY, of another area or length EINVAL,
// with another signature EPERM; a new area must be at least the original
// 32 bytes and 32-byte aligned.
import { USER_END } from "../mm/address_space";
import { Process } from "../proc/process";
import { ORIG_RSEQ_SIZE, RSEQ_ALIGN, rseqRegister, rseqUnregister } from "../proc/rseq";
import { EBUSY, EFAULT, EINVAL, EPERM } from "./errno";

const RSEQ_FLAG_UNREGISTER: i32 = 1;

export function sysRseq(process: Process, area: u64, length: u32, flags: i32, signature: u32): i64 {
  if ((flags & RSEQ_FLAG_UNREGISTER) != 0) {
    if (flags != RSEQ_FLAG_UNREGISTER) return -EINVAL;
    if (process.rseq == 0 || process.rseq != area || length != process.rseqLength) return -EINVAL;
    if (signature != process.rseqSignature) return -EPERM;
    return rseqUnregister(process) ? 0 : -EFAULT;
  }
  if (flags != 0) return -EINVAL;
  if (process.rseq != 0) {
    if (area != process.rseq || length != process.rseqLength) return -EINVAL;
    if (signature != process.rseqSignature) return -EPERM;
    return -EBUSY; // already registered
  }
  if (length < ORIG_RSEQ_SIZE || (area & (RSEQ_ALIGN - 1)) != 0) return -EINVAL;
  if (area >= USER_END || <u64>length > USER_END - area) return -EFAULT; // access_ok
  return rseqRegister(process, area, length, signature) ? 0 : -EFAULT;
}
