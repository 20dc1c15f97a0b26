// Block requests: a run of sectors to read or write between a device and a
// physically contiguous buffer (linear addresses are physical). The
// block layer keeps one queue per disk, hands requests to the driver as it
// has room, and, as they complete, counts them for /proc/diskstats and
// wakes their waiters. The caller of blockIo sleeps uninterruptibly (a
// process in state D, as Linux's) while others run; before any process
// exists (mounting the root at boot) it polls the device instead.
import { rdtsc } from "../arch/x86_64/cpu";
import { kfree, kmalloc } from "../mm/slab";
import { canSleep, sleepUninterruptible, wakeUp } from "../lib/wait";
import { tscFrequency } from "../time/tsc";
import { BlockDevice, PollDevice, StartRequest } from "./block_device";

export const BLOCK_READ: u32 = 0;
export const BLOCK_WRITE: u32 = 1;
/** Makes every completed write durable (a drive's write cache flushed): fsync and sync end with one. */
export const BLOCK_FLUSH: u32 = 2;

const EIO: i32 = 5;
const PENDING: i32 = 1;

/**
 *   0 device (the disk: a partition's request is moved onto it)  4 next (in the queue)
 *   8 sector(u64)  16 count (sectors)  20 buffer (linear address)  24 operation  28 status (PENDING, 0, -EIO)
 *  32 issuedAt(u64) (TSC)  40 driverSlot (the driver's own word: which of its slots carries it)
 */
@unmanaged export class BlockRequest {
  device: BlockDevice;
  next: u32;
  sector: u64;
  count: u32;
  buffer: u32;
  operation: u32;
  status: i32;
  issuedAt: u64;
  driverSlot: u32;
}
const REQUEST_SIZE: u32 = 44;

/** Offers queued requests to the driver until it has no room. */
function dispatch(disk: BlockDevice): void {
  while (disk.queueHead != 0) {
    const request = changetype<BlockRequest>(disk.queueHead);
    if (!changetype<StartRequest>(disk.start)(disk, disk.queueHead)) return;
    disk.queueHead = request.next;
    if (disk.queueHead == 0) disk.queueTail = 0;
    request.next = 0;
    if (disk.inFlight++ == 0) disk.busySince = rdtsc();
  }
}

function milliseconds(cycles: u64): u64 {
  const hz = tscFrequency();
  return hz == 0 ? 0 : cycles * 1000 / hz;
}

/**
 * Milliseconds the disk has had requests in flight (diskstats' io_ticks),
 * the current stretch included; rounded up, as Linux counts every jiffy in
 * which a request was in flight, so a disk that did anything says so.
 */
export function busyMilliseconds(disk: BlockDevice): u64 {
  const hz = tscFrequency();
  const cycles = disk.busyCycles + (disk.inFlight > 0 ? rdtsc() - disk.busySince : 0);
  return hz == 0 ? 0 : (cycles * 1000 + hz - 1) / hz;
}

function account(device: BlockDevice, request: BlockRequest, now: u64): void {
  const spent = milliseconds(now - request.issuedAt);
  if (request.operation == BLOCK_READ) {
    device.readIos++;
    device.readSectors += request.count;
    device.readTicks += spent;
  } else if (request.operation == BLOCK_WRITE) {
    device.writeIos++;
    device.writeSectors += request.count;
    device.writeTicks += spent;
  }
}

/** The driver reports `request` (an address it took through StartRequest) finished, from its interrupt or poll. */
export function completeRequest(request: u32, ok: bool): void {
  const r = changetype<BlockRequest>(request);
  const disk = r.device;
  const now = rdtsc();
  r.status = ok ? 0 : -EIO;
  assert(disk.inFlight > 0, "completeRequest: no request in flight");
  if (--disk.inFlight == 0) disk.busyCycles += now - disk.busySince;
  account(disk, r, now);
  wakeUp(request);
  dispatch(disk);
}

/**
 * Reads or writes `count` sectors from `sector` of `device` (a disk or a
 * partition) at `buffer`, or flushes (BLOCK_FLUSH: sector and count 0);
 * returns 0, or -EIO (the device failed, or the range is past its end).
 */
export function blockIo(device: BlockDevice, operation: u32, sector: u64, count: u32, buffer: u32): i32 {
  if (operation != BLOCK_FLUSH && (count == 0 || sector >= device.sectors || <u64>count > device.sectors - sector)) return -EIO;
  if (operation == BLOCK_WRITE && device.readOnly != 0) return -EIO;
  if (operation == BLOCK_FLUSH && device.whole.volatileCache == 0) return 0; // nothing held back to flush
  const address = kmalloc(REQUEST_SIZE);
  if (address == 0) return -EIO;
  const request = changetype<BlockRequest>(address);
  const disk = device.whole;
  request.device = disk;
  request.next = 0;
  request.sector = sector + device.firstSector;
  request.count = count;
  request.buffer = buffer;
  request.operation = operation;
  request.status = PENDING;
  request.issuedAt = rdtsc();
  if (disk != device) account(device, request, request.issuedAt); // a partition counts its requests as they go
  if (disk.queueTail != 0) changetype<BlockRequest>(disk.queueTail).next = address;
  else disk.queueHead = address;
  disk.queueTail = address;
  dispatch(disk);
  while (request.status == PENDING) {
    if (canSleep()) sleepUninterruptible(address);
    else changetype<PollDevice>(disk.poll)(disk);
  }
  const status = request.status;
  kfree(address);
  return status;
}

