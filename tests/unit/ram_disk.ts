// A block device over a buffer in memory, for the file-system unit tests:
// a request is taken into the device's one slot and done at the next
// poll (blockIo polls while no process can sleep, as at boot), copying
// between the buffer and the request's. A test may make the disk fail
// every request from a sector on, to see errors come back as EIO, and
// read back where each write went (the requests writeback issues).
import { BlockDevice, newBlockDevice, nameDisk, registerBlockDevice } from "../../kernel/block/block_device";
import { BLOCK_FLUSH, BLOCK_READ, BLOCK_WRITE, BlockRequest, completeRequest } from "../../kernel/block/request";
import { kmalloc } from "../../kernel/mm/slab";

/**
 * BlockDevice.driver:
 *   0 buffer (the disk's bytes)  4 pending (the request taken, 0 if none)  8 failFrom(u64) (sectors from here fail)
 *  16 flushes (BLOCK_FLUSH requests seen)  20 writes (BLOCK_WRITE requests seen)
 *  24 writeLog: the first WRITE_LOG_ENTRIES writes, each (sector u64, count u32, 4 bytes unused)
 */
@unmanaged class RamDisk {
  buffer: u32;
  pending: u32;
  failFrom: u64;
  flushes: u32;
  writes: u32;
  writeLog: u32;
}
const WRITE_LOG_ENTRIES: u32 = 1024;
const WRITE_LOG_ENTRY: u32 = 16;

@inline function diskOf(device: BlockDevice): RamDisk {
  return changetype<RamDisk>(device.driver);
}

function start(device: BlockDevice, request: u32): bool {
  const disk = diskOf(device);
  if (disk.pending != 0) return false;
  disk.pending = request;
  return true;
}

function poll(device: BlockDevice): void {
  const disk = diskOf(device);
  const address = disk.pending;
  if (address == 0) return;
  disk.pending = 0;
  const request = changetype<BlockRequest>(address);
  if (request.operation == BLOCK_FLUSH) {
    disk.flushes++;
    completeRequest(address, true);
    return;
  }
  if (request.operation == BLOCK_WRITE) {
    if (disk.writes < WRITE_LOG_ENTRIES) {
      const entry = disk.writeLog + disk.writes * WRITE_LOG_ENTRY;
      store<u64>(entry, request.sector);
      store<u32>(entry + 8, request.count);
    }
    disk.writes++;
  }
  if (request.sector + request.count > disk.failFrom) {
    completeRequest(address, false);
    return;
  }
  const at = disk.buffer + <u32>request.sector * 512;
  const bytes = request.count * 512;
  if (request.operation == BLOCK_READ) memory.copy(request.buffer, at, bytes);
  else memory.copy(at, request.buffer, bytes);
  completeRequest(address, true);
}

/** A registered disk named "ram" and a letter for `minor` ("rama" for 0, as nameDisk names disks) of `sectors` at `buffer`, number (major, minor); 0 when out of memory. */
export function newRamDisk(buffer: u32, sectors: u64, major: u32, minor: u32): u32 {
  const device = newBlockDevice();
  const record = kmalloc(offsetof<RamDisk>());
  const log = kmalloc(WRITE_LOG_ENTRIES * WRITE_LOG_ENTRY);
  if (device == null || record == 0 || log == 0) return 0;
  const disk = changetype<RamDisk>(record);
  disk.buffer = buffer;
  disk.pending = 0;
  disk.failFrom = U64.MAX_VALUE;
  disk.flushes = 0;
  disk.writes = 0;
  disk.writeLog = log;
  device.driver = record;
  device.start = changetype<u32>(start);
  device.poll = changetype<u32>(poll);
  device.sectors = sectors;
  device.volatileCache = 1; // so that flushes reach it, and the tests can count them
  device.major = major;
  device.minor = minor;
  nameDisk(device, "ram", minor);
  return registerBlockDevice(device) ? changetype<u32>(device) : 0;
}

export function ramDiskFailFrom(device: u32, sector: u64): void {
  diskOf(changetype<BlockDevice>(device)).failFrom = sector;
}

export function ramDiskFlushes(device: u32): u32 {
  return diskOf(changetype<BlockDevice>(device)).flushes;
}

/** Write requests the disk has seen; the first WRITE_LOG_ENTRIES are in ramDiskWriteLog's entries. */
export function ramDiskWrites(device: u32): u32 {
  return diskOf(changetype<BlockDevice>(device)).writes;
}

export function ramDiskWriteLog(device: u32): u32 {
  return diskOf(changetype<BlockDevice>(device)).writeLog;
}
