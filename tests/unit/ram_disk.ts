// A block device over a buffer in memory, for the file-system unit tests:
// a request is taken into the device's one slot and done at the next
// poll (blockIo polls while no process can sleep, as at boot), copying
// between the buffer and the request's. A test may make the disk fail
// every request from a sector on, to see errors come back as EIO.
import { BlockDevice, newBlockDevice, nameDisk, registerBlockDevice } from "../../kernel/block/block_device";
import { BLOCK_FLUSH, BLOCK_READ, BlockRequest, completeRequest } from "../../kernel/block/request";
import { kmalloc } from "../../kernel/mm/slab";

/**
 * BlockDevice.driver:
 *   0 buffer (the disk's bytes)  4 pending (the request taken, 0 if none)  8 failFrom(u64) (sectors from here fail)
 *  16 flushes (BLOCK_FLUSH requests seen)
 */
@unmanaged class RamDisk {
  buffer: u32;
  pending: u32;
  failFrom: u64;
  flushes: u32;
}

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
  if (device == null || record == 0) return 0;
  const disk = changetype<RamDisk>(record);
  disk.buffer = buffer;
  disk.pending = 0;
  disk.failFrom = U64.MAX_VALUE;
  disk.flushes = 0;
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
