// Memory system calls: brk, mmap, munmap, mprotect, msync, the mlock
// family. They only change regions (and, for munmap and mprotect, existing
// mappings); pages arrive later, on the first touch, unless populating or
// locking asks for them now.
import { writeBackObject } from "../mm/writeback";
import { blockFileObject } from "../fs/block_file";
import { FileKind, O_ACCMODE, O_RDWR, O_WRONLY, fileAt, isPathOnly } from "../fs/file";
import { AddressSpace, USER_MAP_END, USER_START, regionsOf, unmapRegions } from "../mm/address_space";
import { FAULT_WRITE, FaultResponse, handleUserFault, pageFlags, shouldReuse } from "../mm/fault";
import { newSharedMemory } from "../mm/shared_memory";
import { MemoryObject, releaseObject } from "../mm/memory_object";
import { Inode } from "../fs/inode";
import { MAX_FILE_SIZE } from "../fs/file_io";
import { DEV_ZERO } from "./devices";
import { FRAME_DIRTY, PAGE_SIZE, frame, frameNumber } from "../mm/frame";
import { managedFrames } from "../mm/frame_database";
import { exceedsLimits } from "./address_limits";
import { PTE_ADDRESS, PTE_PRESENT, leafEntry, nextPossiblyMapped, remapPage } from "../mm/page_table";
import {
  PROT_EXEC, PROT_READ, PROT_WRITE, REGION_FILE, REGION_HEAP, REGION_LOCKED, REGION_NEVER_WRITABLE, REGION_SHARED, Region,
  addRegion, attachObject, findGapBelow, findRegion, firstEndingAbove, regionAt, splitAt,
} from "../mm/region";
import { Process, spaceOf } from "../proc/process";
import { killForMemory } from "../proc/user_trap";
import { totalSwapSlots } from "../mm/swap_area";
import { EACCES, EBADF, EEXIST, EINVAL, ENODEV, ENOMEM, ENOSYS, ENXIO, EOPNOTSUPP, EOVERFLOW } from "./errno";

const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_SHARED_VALIDATE: u64 = 0x03;
const MAP_32BIT: u64 = 0x40;
const MAP_GROWSDOWN: u64 = 0x100;
const MAP_LOCKED: u64 = 0x2000;
const MAP_NORESERVE: u64 = 0x4000;
const MAP_POPULATE: u64 = 0x8000;
const MAP_HUGETLB: u64 = 0x40000;
const MAP_FIXED_NOREPLACE: u64 = 0x100000;
// What MAP_SHARED_VALIDATE accepts: Linux's LEGACY_MAP_MASK (the flags
// it never checked: the sharing bits, FIXED, ANONYMOUS, GROWSDOWN,
// DENYWRITE, EXECUTABLE, LOCKED, NORESERVE, POPULATE, NONBLOCK, STACK,
// HUGETLB), the huge-page size bits, MAP_FIXED_NOREPLACE; not MAP_32BIT,
// not MAP_SYNC (a tmpfs file offers neither), nor any unused bit.
const VALIDATED_FLAGS: u64 = 0x3 | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000
  | 0x40000 | 0xfc000000 | MAP_FIXED_NOREPLACE;
// Linux places MAP_32BIT mappings in the second gigabyte.
const LOW_2G_BOTTOM: u64 = 0x40000000;
const LOW_2G_TOP: u64 = 0x80000000;
const PROT_SEM: u64 = 0x8;

@inline function pageUp(x: u64): u64 {
  return (x + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
}

/** How many bytes of [start, end) regions cover. */
function mappedWithin(space: AddressSpace, start: u64, end: u64): u64 {
  const set = regionsOf(space);
  let total: u64 = 0;
  for (let i = firstEndingAbove(set, start); i < set.count && regionAt(set, i).start < end; i++) {
    const region = regionAt(set, i);
    total += min(region.end, end) - max(region.start, start);
  }
  return total;
}

/** Whether any region overlaps [start, end). */
export function overlaps(space: AddressSpace, start: u64, end: u64): bool {
  const set = regionsOf(space);
  const i = firstEndingAbove(set, start);
  return i < set.count && regionAt(set, i).start < end;
}

/**
 * Linux's default overcommit policy (vm.overcommit_memory 0, "guess"):
 * private writable memory is granted lazily, page by page, except an ask
 * for more at once than there is RAM and swap, which is refused (ENOMEM).
 */
function overcommits(bytes: u64): bool {
  return bytes / PAGE_SIZE > <u64>managedFrames + totalSwapSlots();
}

/**
 * brk: the heap grows up from the program's end until it would meet a
 * mapping (leaving one page between, as Linux's stack_guard_gap check for
 * brk does), so it may take all the memory there is.
 */
export function sysBrk(process: Process, requested: u64): i64 {
  const space = spaceOf(process);
  const current = space.brkEnd;
  if (requested < space.brkStart || requested > space.mmapTop) return <i64>current;
  const oldTop = pageUp(current);
  const newTop = pageUp(requested);
  if (newTop > oldTop) {
    if (overlaps(space, oldTop, newTop + PAGE_SIZE) || overcommits(newTop - oldTop)
      || exceedsLimits(process, newTop - oldTop, true)) return <i64>current;
    const heap = oldTop > space.brkStart ? findRegion(regionsOf(space), oldTop - 1) : null;
    if (heap != null && (heap.flags & REGION_HEAP) != 0) {
      heap.end = newTop;
    } else {
      if (addRegion(regionsOf(space), oldTop, newTop, PROT_READ | PROT_WRITE, REGION_HEAP | space.newRegionFlags) == null) {
        return <i64>current;
      }
    }
  } else if (newTop < oldTop && !unmapRegions(space, newTop, oldTop)) {
    return <i64>current;
  }
  space.brkEnd = requested;
  return <i64>requested;
}

/**
 * Where a mapping of `size` bytes goes when the caller does not insist:
 * at `hint` if it is free, else in the highest gap below the space's
 * mmap top, under the stack and its guard gap (the second gigabyte for
 * MAP_32BIT): top-down, as Linux, so the heap below
 * and the mappings above have the whole address space between them. 0 if
 * there is no room.
 */
export function placeMapping(space: AddressSpace, hint: u64, size: u64, low32: bool): u64 {
  const bottom = low32 ? LOW_2G_BOTTOM : USER_START;
  const top = low32 ? LOW_2G_TOP : space.mmapTop;
  const start = hint & ~(<u64>PAGE_SIZE - 1);
  if (start >= bottom && start + size <= top && start + size > start && !overlaps(space, start, start + size)) return start;
  return findGapBelow(regionsOf(space), size, bottom, top);
}

export function sysMmap(process: Process, hint: u64, length: u64, protection: u64, flags: u64, fd: i64, offset: u64): i64 {
  const space = spaceOf(process);
  // Linux's order: the offset's alignment, then the descriptor, then the length.
  if ((offset & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  if ((flags & MAP_ANONYMOUS) == 0 && fileAt(process.files, fd) == null) return -EBADF;
  if (length == 0) return -EINVAL;
  const size = pageUp(length);
  if (size < length || size > USER_MAP_END) return -ENOMEM;
  let sharing = flags & (MAP_SHARED | MAP_PRIVATE);
  if (sharing == 0) return -EINVAL;
  if (sharing == MAP_SHARED_VALIDATE) {
    if ((flags & MAP_ANONYMOUS) != 0) return -EINVAL; // Linux validates only file mappings
    if ((flags & ~VALIDATED_FLAGS) != 0) return -EOPNOTSUPP;
    sharing = MAP_SHARED;
  }
  // A stack that grows by faulting below it is not supported, nor are huge
  // pages (Linux without hugetlbfs answers ENOSYS).
  if ((flags & MAP_GROWSDOWN) != 0) return -EINVAL;
  if ((flags & MAP_HUGETLB) != 0) return -ENOSYS;
  let anonymous = (flags & MAP_ANONYMOUS) != 0;
  let object: MemoryObject | null = null;
  let mayWrite = true;
  if (!anonymous) {
    const file = fileAt(process.files, fd);
    if (file == null || isPathOnly(file)) return -EBADF;
    const accessMode = file.flags & O_ACCMODE;
    if (file.kind == FileKind.Device && changetype<Inode>(file.inode).rdev == DEV_ZERO) {
      anonymous = true; // /dev/zero: anonymous memory, private or shared
    } else if (file.kind != FileKind.Regular && file.kind != FileKind.BlockDevice) {
      return -ENODEV;
    } else {
      if (accessMode == O_WRONLY) return -EACCES; // a mapping reads the file
      mayWrite = sharing != MAP_SHARED || accessMode == O_RDWR;
      if (!mayWrite && (protection & PROT_WRITE) != 0) return -EACCES;
      object = file.kind == FileKind.BlockDevice ? blockFileObject(changetype<Inode>(file.inode))
        : changetype<Inode>(file.inode).object;
      if (object == null) return -ENXIO;
      if (<u64>offset + size > MAX_FILE_SIZE) return -EOVERFLOW;
    }
  }
  // Its pages are cached by a 32-bit page index: 16 TiB, far beyond any RAM here.
  if (anonymous && sharing == MAP_SHARED && size > (<u64>U32.MAX_VALUE) * PAGE_SIZE) return -ENOMEM;
  // As may_expand_vm: what a fixed mapping replaces is not counted twice.
  const replaced = (flags & MAP_FIXED) != 0 && (hint & (PAGE_SIZE - 1)) == 0 ? mappedWithin(space, hint, hint + size) : 0;
  const data = sharing != MAP_SHARED && (protection & PROT_WRITE) != 0;
  if (exceedsLimits(process, size - min(replaced, size), data)) return -ENOMEM;
  let start: u64;
  if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0) {
    start = hint;
    if ((start & (PAGE_SIZE - 1)) != 0) return -EINVAL;
    if (start < USER_START || start + size > USER_MAP_END || start + size < start) return -ENOMEM;
    if (overlaps(space, start, start + size)) {
      if ((flags & MAP_FIXED_NOREPLACE) != 0) return -EEXIST;
      if (!unmapRegions(space, start, start + size)) return -ENOMEM;
    }
  } else {
    start = placeMapping(space, hint, size, (flags & MAP_32BIT) != 0);
    if (start == 0) return -ENOMEM;
  }
  const accounted = sharing != MAP_SHARED && (protection & PROT_WRITE) != 0 && (flags & MAP_NORESERVE) == 0;
  if (accounted && overcommits(size)) return -ENOMEM;
  let sharedMemory: MemoryObject | null = null;
  if (anonymous && sharing == MAP_SHARED) {
    sharedMemory = newSharedMemory(size);
    if (sharedMemory == null) return -ENOMEM;
    object = sharedMemory;
  }
  const region = addRegion(regionsOf(space), start, start + size, <u32>protection & (PROT_READ | PROT_WRITE | PROT_EXEC),
    (sharing == MAP_SHARED ? REGION_SHARED : 0) | (object != null ? REGION_FILE : 0) | (mayWrite ? 0 : REGION_NEVER_WRITABLE) |
    ((flags & MAP_LOCKED) != 0 ? REGION_LOCKED : 0) | space.newRegionFlags);
  // The region holds the object now (a new shared memory object starts with the creator's hold).
  if (region != null && object != null) {
    attachObject(region, object, changetype<u32>(space));
    region.fileOffset = sharedMemory != null ? 0 : offset;
    region.fileBytes = size; // every page comes from the object; past its end is a bus error
  }
  releaseObject(sharedMemory);
  if (region == null) return -ENOMEM;
  if ((flags & (MAP_POPULATE | MAP_LOCKED)) != 0 || (region.flags & REGION_LOCKED) != 0) populate(process, region);
  return <i64>start;
}

/**
 * MAP_POPULATE and MAP_LOCKED: fault every page in now, as a write where
 * the mapping is writable (so no copy is owed later). Running out of
 * memory part-way ends the process, as the fault there would have.
 */
export function populate(process: Process, region: Region): void {
  // Read-only anonymous memory would only map the zero page, which no
  // count sees; skipping it keeps a huge such mapping from stalling the
  // (non-preemptible) kernel for seconds.
  if ((region.protection & PROT_WRITE) == 0 && region.object == null) return;
  faultIn(process, region, region.start, region.end);
}

/** Faults [from, to) of `region` in (MAP_POPULATE, mlock, mremap of locked memory); false at the first page that cannot be had. */
export function faultIn(process: Process, region: Region, from: u64, to: u64): bool {
  const space = spaceOf(process);
  const access = (region.protection & PROT_WRITE) != 0 ? FAULT_WRITE : 0;
  for (let at = from; at < to; at += PAGE_SIZE) {
    let response = handleUserFault(space, at, access);
    while (response == FaultResponse.Retry) response = handleUserFault(space, at, access); // slept for the disk
    if (response == FaultResponse.OutOfMemory) killForMemory(process, at); // as a fault there would
    if (response != FaultResponse.Continue) return false;
  }
  return true;
}

export function sysMunmap(process: Process, start: u64, length: u64): i64 {
  if ((start & (PAGE_SIZE - 1)) != 0 || length == 0) return -EINVAL;
  const end = pageUp(start + length);
  if (end < start || end > USER_MAP_END) return -EINVAL;
  return unmapRegions(spaceOf(process), start, end) ? 0 : -ENOMEM;
}

export function sysMprotect(process: Process, start: u64, length: u64, protection: u64): i64 {
  const space = spaceOf(process);
  // PROT_SEM means nothing on x86; PROT_GROWSDOWN/UP need a growing stack region, which does not exist.
  if ((start & (PAGE_SIZE - 1)) != 0 || (protection & ~(<u64>(PROT_READ | PROT_WRITE | PROT_EXEC) | PROT_SEM)) != 0) {
    return -EINVAL;
  }
  if (length == 0) return 0;
  const end = pageUp(start + length);
  if (end < start || end > USER_MAP_END) return -ENOMEM;
  // Every page must belong to some region; a shared file mapping stays
  // read-only (the files are).
  let at = start;
  while (at < end) {
    const region = findRegion(regionsOf(space), at);
    if (region == null) return -ENOMEM;
    if ((region.flags & REGION_NEVER_WRITABLE) != 0 && (protection & PROT_WRITE) != 0) return -EACCES;
    at = region.end;
  }
  if (!splitAt(regionsOf(space), start) || !splitAt(regionsOf(space), end)) return -ENOMEM;
  const set = regionsOf(space);
  for (let i = firstEndingAbove(set, start); i < set.count && regionAt(set, i).start < end; i++) {
    const region = regionAt(set, i);
    region.protection = <u32>protection & (PROT_READ | PROT_WRITE | PROT_EXEC);
    reprotectPages(space, region);
  }
  return 0;
}

/** Brings the present pages of `region` in line with its protection. */
function reprotectPages(space: AddressSpace, region: Region): void {
  let at = region.start;
  while (at < region.end) {
    const next = nextPossiblyMapped(space.root, at);
    if (next != at) {
      at = next;
      continue;
    }
    const entry = leafEntry(space.root, at);
    if (entry & PTE_PRESENT) {
      const physical = <u32>(entry & PTE_ADDRESS);
      // Writable at once only where no copy is owed and nothing is to be
      // learnt from the first write: a shared page already dirty, or a
      // frame this mapping holds alone. Anything else takes the write fault.
      const f = frame(frameNumber(physical));
      const shared = (region.flags & REGION_SHARED) != 0;
      const writable = (region.protection & PROT_WRITE) != 0 &&
        (shared ? (f.flags & FRAME_DIRTY) != 0 : shouldReuse(f.state, f.refCount));
      remapPage(space.root, at, physical, pageFlags(region, writable));
    }
    at += PAGE_SIZE;
  }
}

const MS_ASYNC: u64 = 1;
const MS_INVALIDATE: u64 = 2;
const MS_SYNC: u64 = 4;

/**
 * msync: a shared file mapping is the page cache itself, so MS_SYNC writes
 * the dirty pages the range maps back to their disk and waits (tmpfs has
 * none to write); MS_ASYNC leaves them to writeback, as Linux does since
 * 2.6.19. Nothing needs invalidating. The arguments are checked as Linux
 * checks them (flags, alignment: EINVAL; unmapped pages in the range: ENOMEM).
 */
export function sysMsync(process: Process, start: u64, length: u64, flags: u64): i64 {
  if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) != 0 || (flags & (MS_ASYNC | MS_SYNC)) == (MS_ASYNC | MS_SYNC)) {
    return -EINVAL;
  }
  if ((start & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  const end = pageUp(start + length);
  if (end < start) return -ENOMEM;
  const space = spaceOf(process);
  if (!covered(space, start, end)) return -ENOMEM;
  return (flags & MS_SYNC) != 0 ? writeBackMapped(space, start, end) : 0;
}

/** Writes back what the shared file mappings in [start, end) hold dirty; 0 or the first error. */
function writeBackMapped(space: AddressSpace, start: u64, end: u64): i64 {
  const set = regionsOf(space);
  let status: i32 = 0;
  // A sleep on the disk may let another thread change the regions: each step looks the next one up again.
  let at = start;
  while (at < end) {
    const i = firstEndingAbove(set, at);
    if (i >= set.count || regionAt(set, i).start >= end) break;
    const region = regionAt(set, i);
    const from = max(at, region.start);
    const to = min(end, region.end);
    at = region.end;
    if ((region.flags & REGION_SHARED) == 0 || region.object == null) continue;
    const object = changetype<MemoryObject>(region.object);
    const first = region.fileOffset + (from - region.start);
    const last = region.fileOffset + (to - region.start);
    const result = writeBackObject(object, <u32>(first / PAGE_SIZE), <u32>min((last + PAGE_SIZE - 1) / PAGE_SIZE, <u64>U32.MAX_VALUE));
    if (result != 0 && status == 0) status = result;
  }
  return status;
}

/** Whether every page of [start, end) belongs to some region. */
export function covered(space: AddressSpace, start: u64, end: u64): bool {
  const set = regionsOf(space);
  let at = start;
  for (let i = firstEndingAbove(set, start); i < set.count && regionAt(set, i).start < end; i++) {
    const region = regionAt(set, i);
    if (region.start > at) return false;
    at = region.end;
  }
  return at >= end;
}

