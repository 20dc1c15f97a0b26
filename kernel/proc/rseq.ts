// Restartable sequences (rseq), as Linux's kernel/rseq.c. A thread
// registers a struct rseq in its own memory; the kernel keeps its cpu_id
// fields current, and whenever the thread was preempted (switched out) or
// takes a signal while inside a critical section that user space has
// described in rseq->rseq_cs, the kernel moves its instruction pointer to
// the section's abort handler before it runs user code again. So a
// sequence that ends with one committing store runs as if atomic with
// respect to everything else on its CPU, without a locked instruction.
//
// Linux does this in __rseq_handle_notify_resume, which the scheduler
// (rseq_preempt) and signal delivery (rseq_signal_deliver) arrange to run
// on the next return to user mode. Here the switch-in sets rseqPending,
// the end of dispatchTrap acts on it, and the signal frame code calls
// rseqSignalDeliver before it saves the interrupted registers: an ordinary
// system call's return costs one load. There is one CPU, so cpu_id,
// node_id and mm_cid (the concurrency id within the address space) are 0.
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { printf } from "../console/console";
import { USER_END } from "../mm/address_space";
import { PAGE_SIZE } from "../mm/frame";
import { copyFromUser, userPage } from "../mm/user_copy";
import { Process, spaceOf } from "./process";

/** The size of the first struct rseq: the least a registration may give, and its alignment. */
export const ORIG_RSEQ_SIZE: u32 = 32;
/** offsetof(struct rseq, end): the fields this kernel fills in (AT_RSEQ_FEATURE_SIZE). */
export const RSEQ_FEATURE_SIZE: u64 = 28;
/** __alignof__(struct rseq) (AT_RSEQ_ALIGN). */
export const RSEQ_ALIGN: u64 = 32;

// struct rseq
const CPU_ID_START_AT: u32 = 0;
const CPU_ID_AT: u32 = 4;
const RSEQ_CS_AT: u32 = 8;
const FLAGS_AT: u32 = 16;
const NODE_ID_AT: u32 = 20;
const MM_CID_AT: u32 = 24;
const RSEQ_CPU_ID_UNINITIALIZED: u32 = 0xffffffff;
const CPU_ID: u32 = 0;

// struct rseq_cs: u32 version, u32 flags, u64 start_ip, u64 post_commit_offset, u64 abort_ip.
const RSEQ_CS_SIZE: u32 = 32;
// RSEQ_CS_FLAG_NO_RESTART_ON_PREEMPT, _ON_SIGNAL, _ON_MIGRATE: deprecated; Linux refuses them (SIGSEGV).
const RSEQ_CS_NO_RESTART_FLAGS: u32 = 0x7;
const SIGNATURE_SIZE: u64 = 4;

// Only used between two user accesses that cannot sleep; no fault path here waits for I/O.
const descriptor = memory.data(RSEQ_CS_SIZE, 8);

/**
 * The registered area in the direct map, resolved for writing (a private
 * page is copied now, as Linux's put_user would fault it); 0 if it cannot
 * be written. A 32-byte-aligned struct rseq never crosses a page.
 */
function areaFields(process: Process, area: u64): u32 {
  const page = userPage(spaceOf(process), area, true);
  return page == 0 ? 0 : page + <u32>(area & (PAGE_SIZE - 1));
}

/** Linux's rseq_update_cpu_node_id: the ids user space reads to know where it runs. */
@inline function storeIds(fields: u32, cpuIdStart: u32, cpuId: u32): void {
  store<u32>(fields + CPU_ID_START_AT, cpuIdStart);
  store<u32>(fields + CPU_ID_AT, cpuId);
  store<u32>(fields + NODE_ID_AT, 0);
  store<u32>(fields + MM_CID_AT, 0);
}

/**
 * Registers `area` for `process`: its ids are written and a stale rseq_cs
 * is cleared at once, as current Linux's registration does (an old libc
 * that reuses an area must not fault on the way back). False (EFAULT) if
 * it cannot be written: current Linux's answer too, where 6.18 took the
 * area and sent SIGSEGV at the return to user mode.
 */
export function rseqRegister(process: Process, area: u64, length: u32, signature: u32): bool {
  const fields = areaFields(process, area);
  if (fields == 0) return false;
  store<u64>(fields + RSEQ_CS_AT, 0);
  storeIds(fields, CPU_ID, CPU_ID);
  process.rseq = area;
  process.rseqLength = length;
  process.rseqSignature = signature;
  process.rseqPending = 0;
  return true;
}

/**
 * RSEQ_FLAG_UNREGISTER: cpu_id says RSEQ_CPU_ID_UNINITIALIZED, so code that
 * looks finds it must register again. False (EFAULT) if it cannot be written.
 */
export function rseqUnregister(process: Process): bool {
  const fields = areaFields(process, process.rseq);
  if (fields == 0) return false;
  storeIds(fields, 0, RSEQ_CPU_ID_UNINITIALIZED);
  rseqExecve(process);
  return true;
}

/** execve (and unregistration): the new program has no area until it registers one (Linux's rseq_execve). */
export function rseqExecve(process: Process): void {
  process.rseq = 0;
  process.rseqLength = 0;
  process.rseqSignature = 0;
  process.rseqPending = 0;
}

/**
 * fork without CLONE_VM: the child's memory is a copy, so its area is at
 * the same address (Linux's rseq_fork). With CLONE_VM, or CLONE_THREAD,
 * the child shares the parent's memory and starts with none.
 */
export function rseqFork(child: Process, parent: Process): void {
  child.rseq = parent.rseq;
  child.rseqLength = parent.rseqLength;
  child.rseqSignature = parent.rseqSignature;
}

/** The scheduler switches `thread` in: a registered one gets the fixup before it next runs user code (rseq_preempt). */
@inline export function rseqPreempt(thread: Process): void {
  if (thread.rseq != 0) thread.rseqPending = 1;
}

/**
 * Linux's rseq_get_rseq_cs and rseq_ip_fixup on the registered area at
 * `fields`: when rseq_cs names a valid descriptor and the interrupted
 * instruction is inside [start_ip, start_ip + post_commit_offset), the
 * thread resumes at abort_ip; rseq_cs is cleared either way (lazily,
 * outside a section). False for a descriptor that is unreadable or wrong:
 * a version other than 0, a range that overflows or leaves user space, an
 * abort_ip inside the section, a signature before abort_ip other than the
 * one registered, or a deprecated no-restart flag; the thread then gets
 * SIGSEGV, as Linux's force_sigsegv.
 */
function fixupIp(process: Process, fields: u32, frame: TrapFrame): bool {
  const at = load<u64>(fields + RSEQ_CS_AT);
  if (at == 0) return true;
  if (at >= USER_END) return false;
  const space = spaceOf(process);
  const cs = <u32>descriptor;
  if (!copyFromUser(space, cs, at, RSEQ_CS_SIZE)) return false;
  const version = load<u32>(cs);
  const flags = load<u32>(cs + 4);
  const start = load<u64>(cs + 8);
  const length = load<u64>(cs + 16);
  const abort = load<u64>(cs + 24);
  if (version != 0 || start >= USER_END || start + length >= USER_END || abort >= USER_END) return false;
  if (start + length < start) return false; // overflow
  if (abort - start < length) return false; // the abort handler must be outside the section
  if (!copyFromUser(space, cs, abort - SIGNATURE_SIZE, SIGNATURE_SIZE)) return false;
  const signature = load<u32>(cs);
  if (signature != process.rseqSignature) {
    // Linux's warning: a jump into an abort handler that was not built as one.
    printf("Possible attack attempt. Unexpected rseq signature 0x%x, expecting 0x%x (pid=%d, addr=%x).\n",
      <u64>signature, <u64>process.rseqSignature, <u64>process.pid, abort - SIGNATURE_SIZE);
    return false;
  }
  if (frame.rip - start < length) { // unsigned: start <= rip < start + length
    if (((flags | load<u32>(fields + FLAGS_AT)) & RSEQ_CS_NO_RESTART_FLAGS) != 0) return false;
    frame.rip = abort;
  }
  store<u64>(fields + RSEQ_CS_AT, 0);
  return true;
}

/**
 * Linux's __rseq_handle_notify_resume for a thread about to return to user
 * mode with `frame`: the critical-section fixup, then its ids. False when
 * the area cannot be written or its descriptor is bad: SIGSEGV.
 */
function notifyResume(process: Process, frame: TrapFrame): bool {
  const fields = areaFields(process, process.rseq);
  if (fields == 0 || !fixupIp(process, fields, frame)) return false;
  storeIds(fields, CPU_ID, CPU_ID);
  return true;
}

/** At the end of dispatchTrap, when rseqPending says the thread was switched out since its last fixup. */
export function rseqHandleResume(process: Process, frame: TrapFrame): bool {
  process.rseqPending = 0;
  return notifyResume(process, frame);
}

/** Before a signal frame saves `frame`: a handler interrupting a section returns to its abort handler (rseq_signal_deliver). */
export function rseqSignalDeliver(process: Process, frame: TrapFrame): bool {
  return process.rseq == 0 || notifyResume(process, frame);
}
