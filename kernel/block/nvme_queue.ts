// An NVMe queue pair: a submission queue the driver fills and a completion
// queue the controller fills, each a ring in a page of the driver's, with a
// doorbell register apiece. The driver writes a 64-byte command at the
// submission tail and rings its doorbell with the new tail; the controller
// writes a 16-byte completion at the completion head whose phase bit
// differs from what the ring held before (all zeros at first, then flipping
// on each lap), so no register needs reading to see what finished. Writing
// the completion head doorbell gives the entries back (and, on a legacy
// line, lowers it when nothing is left).
import { memoryBarrier, mmioWrite32 } from "../arch/x86_64/cpu";
import { allocPage, freePages } from "../mm/buddy";
import { FrameState } from "../mm/frame";
import { kfree, kmalloc } from "../mm/slab";

export const COMMAND_BYTES: u32 = 64;
export const COMPLETION_BYTES: u32 = 16;
const DOORBELLS: u64 = 0x1000;
const PHASE: u32 = 1 << 16; // in a completion's last word

/**
 *   0 submissions (the ring's linear address)  4 completions  8 sqDoorbell(u64)  16 cqDoorbell(u64) (physical)
 *  24 size (entries in each ring)  28 tail (next submission entry)  32 head (next completion entry)
 *  36 phase (PHASE while the controller's current lap writes it set)  40 id
 */
@unmanaged export class NvmeQueue {
  submissions: u32;
  completions: u32;
  sqDoorbell: u64;
  cqDoorbell: u64;
  size: u32;
  tail: u32;
  head: u32;
  phase: u32;
  id: u32;
}
const QUEUE_SIZE: u32 = 44;

/**
 * Queue pair `id` of the controller at `registers` whose doorbells lie
 * 4 << `stride` bytes apart; `size` entries each (at most 64: a page of
 * commands), zeroed. Null when out of memory.
 */
export function newQueue(registers: u64, stride: u32, id: u32, size: u32): NvmeQueue | null {
  const record = kmalloc(QUEUE_SIZE);
  const submissions = allocPage(FrameState.KernelObject, true);
  const completions = allocPage(FrameState.KernelObject, true);
  if (record == 0 || submissions == 0 || completions == 0) {
    if (record != 0) kfree(record);
    if (submissions != 0) freePages(submissions);
    if (completions != 0) freePages(completions);
    return null;
  }
  const queue = changetype<NvmeQueue>(record);
  queue.submissions = submissions;
  queue.completions = completions;
  queue.sqDoorbell = registers + DOORBELLS + <u64>((2 * id) << (2 + stride));
  queue.cqDoorbell = registers + DOORBELLS + <u64>((2 * id + 1) << (2 + stride));
  queue.size = size;
  queue.tail = 0;
  queue.head = 0;
  queue.phase = PHASE;
  queue.id = id;
  return queue;
}

/** The entry the next command goes in, zeroed for the caller to fill; submit() hands it over. */
export function nextCommand(queue: NvmeQueue): u32 {
  const entry = queue.submissions + queue.tail * COMMAND_BYTES;
  memory.fill(entry, 0, COMMAND_BYTES);
  return entry;
}

/** Gives the controller the command nextCommand handed out. */
export function submit(queue: NvmeQueue): void {
  queue.tail = (queue.tail + 1) % queue.size;
  memoryBarrier(); // the command in memory before the doorbell that announces it
  mmioWrite32(queue.sqDoorbell, queue.tail);
}

/** The completion at the head if the controller has written it since the ring last came round, else 0. */
export function peekCompletion(queue: NvmeQueue): u32 {
  const entry = queue.completions + queue.head * COMPLETION_BYTES;
  if ((load<u32>(entry + 12) & PHASE) != queue.phase) return 0;
  memoryBarrier(); // the rest of the entry only after its phase bit
  return entry;
}

/** Moves past the completion peekCompletion gave; the doorbell waits for releaseCompletions. */
export function popCompletion(queue: NvmeQueue): void {
  queue.head++;
  if (queue.head == queue.size) {
    queue.head = 0;
    queue.phase ^= PHASE;
  }
}

/** Tells the controller the entries popped are free again. */
export function releaseCompletions(queue: NvmeQueue): void {
  mmioWrite32(queue.cqDoorbell, queue.head);
}

/** A completion's command identifier. */
@inline export function completionCommand(entry: u32): u32 {
  return load<u32>(entry + 12) & 0xffff;
}

/** A completion's status field (status code, its type, more, do-not-retry): 0 is success. */
@inline export function completionStatus(entry: u32): u32 {
  return load<u32>(entry + 12) >> 17;
}
