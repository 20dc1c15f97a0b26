// virtio-blk, QEMU's default disk, through the legacy (virtio 0.9.5) PCI
// interface that QEMU's transitional devices offer: registers in I/O BAR 0,
// one virtqueue whose descriptors, available ring and used ring the driver
// places in memory it gives the device by frame number. Each request is a
// chain of three descriptors (header, data, status byte; a flush has no data) in a fixed slot,
// so up to SLOTS requests are in flight at once; the device reports
// completions in the used ring and raises its interrupt: an MSI-X message
// when the function can send one (then two vector registers come before
// the device configuration, and the ISR register is not used), else its
// legacy line.
import { inb, inl, inw, memoryBarrier, outb, outl, outw } from "../arch/x86_64/cpu";
import { printf } from "../console/console";
import { str } from "../lib/format";
import { forEachPciFunction, pciEnableIoAndDma, pciIoBar, pciRead32 } from "../drivers/pci";
import { PciInterrupt, requestPciInterrupt } from "../drivers/pci_interrupt";
import { allocPages } from "../mm/buddy";
import { FrameState, PAGE_SHIFT, PAGE_SIZE } from "../mm/frame";
import { kmalloc } from "../mm/slab";
import { BlockDevice, VIRTIO_BLOCK_MAJOR, nameDisk, newBlockDevice, registerBlockDevice } from "./block_device";
import { BLOCK_FLUSH, BLOCK_READ, BlockRequest, completeRequest } from "./request";

const VENDOR_VIRTIO: u32 = 0x1af4;
const DEVICE_BLOCK_TRANSITIONAL: u32 = 0x1001;
const DEVICE_BLOCK_MODERN: u32 = 0x1042;

// Legacy register offsets in BAR 0.
const REG_DEVICE_FEATURES: u32 = 0x00;
const REG_GUEST_FEATURES: u32 = 0x04;
const REG_QUEUE_ADDRESS: u32 = 0x08;
const REG_QUEUE_SIZE: u32 = 0x0c;
const REG_QUEUE_SELECT: u32 = 0x0e;
const REG_QUEUE_NOTIFY: u32 = 0x10;
const REG_STATUS: u32 = 0x12;
const REG_ISR: u32 = 0x13;
const REG_CONFIG_VECTOR: u32 = 0x14; // with MSI-X only
const REG_QUEUE_VECTOR: u32 = 0x16; // with MSI-X only, for the selected queue
const NO_VECTOR: u32 = 0xffff;
// The device configuration: capacity first (u64, in 512-byte sectors).
const DEVICE_CONFIG: u32 = 0x14;
const DEVICE_CONFIG_MSIX: u32 = 0x18;

const STATUS_ACKNOWLEDGE: u32 = 1;
const STATUS_DRIVER: u32 = 2;
const STATUS_DRIVER_OK: u32 = 4;
const STATUS_FAILED: u32 = 128;

const FEATURE_READ_ONLY: u32 = 1 << 5;
const FEATURE_FLUSH: u32 = 1 << 9;

const REQUEST_IN: u32 = 0;
const REQUEST_OUT: u32 = 1;
const REQUEST_FLUSH: u32 = 4;

const DESCRIPTOR_NEXT: u16 = 1;
const DESCRIPTOR_WRITE: u16 = 2; // the device writes this buffer

const SLOTS: u32 = 32;
const HEADER_BYTES: u32 = 16;

/**
 * The driver's record of one disk.
 *
 *   0 io (BAR 0's port base)  4 queueSize  8 descriptors (linear address; the ring memory starts here)
 *  12 available  16 used  20 lastUsed (the used ring's index as last seen, u16 counter)
 *  24 headers (SLOTS × 16 bytes: each slot's request header, then SLOTS status bytes)
 *  28 busy (bit per slot)  32 requests (SLOTS u32s: the BlockRequest in each slot)  36 features
 *  40 messages (1: its interrupt is an MSI-X message of its own)
 */
@unmanaged class VirtioDisk {
  io: u32;
  queueSize: u32;
  descriptors: u32;
  available: u32;
  used: u32;
  lastUsed: u32;
  headers: u32;
  busy: u32;
  requests: u32;
  features: u32;
  messages: u32;
}
const VIRTIO_DISK_SIZE: u32 = 44;

let diskCount: u32 = 0;

@inline function statusByte(disk: VirtioDisk, slot: u32): u32 {
  return disk.headers + SLOTS * HEADER_BYTES + slot;
}

/** Writes descriptor `index`: a buffer, its length, flags, and the next descriptor of the chain. */
function describe(disk: VirtioDisk, index: u32, address: u32, length: u32, flags: u16, next: u32): void {
  const at = disk.descriptors + index * 16;
  store<u64>(at, <u64>address);
  store<u32>(at + 8, length);
  store<u16>(at + 12, flags);
  store<u16>(at + 14, <u16>next);
}

function startRequest(device: BlockDevice, address: u32): bool {
  const disk = changetype<VirtioDisk>(device.driver);
  const request = changetype<BlockRequest>(address);
  if (disk.busy == 0xffffffff) return false;
  const slot = <u32>ctz(~disk.busy);
  disk.busy |= 1 << slot;
  store<u32>(disk.requests + slot * 4, address);
  request.driverSlot = slot;
  const header = disk.headers + slot * HEADER_BYTES;
  const type = request.operation == BLOCK_READ ? REQUEST_IN : request.operation == BLOCK_FLUSH ? REQUEST_FLUSH : REQUEST_OUT;
  store<u32>(header, type);
  store<u32>(header + 4, 0);
  store<u64>(header + 8, request.operation == BLOCK_FLUSH ? 0 : request.sector);
  store<u8>(statusByte(disk, slot), 0xff);
  const first = slot * 3;
  if (request.operation == BLOCK_FLUSH) {
    describe(disk, first, header, HEADER_BYTES, DESCRIPTOR_NEXT, first + 2);
  } else {
    describe(disk, first, header, HEADER_BYTES, DESCRIPTOR_NEXT, first + 1);
    const dataFlags = DESCRIPTOR_NEXT | (request.operation == BLOCK_READ ? DESCRIPTOR_WRITE : 0);
    describe(disk, first + 1, request.buffer, request.count << 9, dataFlags, first + 2);
  }
  describe(disk, first + 2, statusByte(disk, slot), 1, DESCRIPTOR_WRITE, 0);
  const index = <u32>load<u16>(disk.available + 2);
  store<u16>(disk.available + 4 + (index % disk.queueSize) * 2, <u16>first);
  memoryBarrier(); // the ring entry before the index that publishes it
  store<u16>(disk.available + 2, <u16>(index + 1));
  memoryBarrier();
  outw(disk.io + REG_QUEUE_NOTIFY, 0);
  return true;
}

/** Completes what the device has put in the used ring since last time. */
function reap(device: BlockDevice): void {
  const disk = changetype<VirtioDisk>(device.driver);
  memoryBarrier();
  while ((disk.lastUsed & 0xffff) != <u32>load<u16>(disk.used + 2)) {
    const element = disk.used + 4 + (disk.lastUsed % disk.queueSize) * 8;
    const slot = load<u32>(element) / 3;
    disk.lastUsed = (disk.lastUsed + 1) & 0xffff;
    assert(slot < SLOTS && (disk.busy & (1 << slot)) != 0, "virtio-blk: used ring names a free slot");
    const address = load<u32>(disk.requests + slot * 4);
    const ok = load<u8>(statusByte(disk, slot)) == 0;
    disk.busy &= ~(1 << slot);
    if (!ok) {
      const request = changetype<BlockRequest>(address);
      printf("virtio-blk: %s of %d sectors at sector %d failed\n", str(request.operation == BLOCK_READ ? "read" : "write"),
        request.count, request.sector);
    }
    completeRequest(address, ok);
    memoryBarrier();
  }
}

function handleInterrupt(data: u32): void {
  const device = changetype<BlockDevice>(data);
  const disk = changetype<VirtioDisk>(device.driver);
  if (disk.messages == 0 && (inb(disk.io + REG_ISR) & 1) == 0) return; // reading ISR lowers the line; not ours
  reap(device);
}

function poll(device: BlockDevice): void {
  reap(device);
}

function ringBytes(size: u32): u32 {
  const first = (size * 16 + 6 + size * 2 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
  return first + ((6 + size * 8 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
}

function orderFor(bytes: u32): u32 {
  let order: u32 = 0;
  while ((PAGE_SIZE << order) < bytes) order++;
  return order;
}

function fail(io: u32, why: string): void {
  outb(io + REG_STATUS, STATUS_FAILED);
  printf("virtio-blk: disk at port %x not used: %s\n", io, str(why));
}

function attach(location: u32): void {
  const io = pciIoBar(location, 0);
  if (io == 0) return;
  pciEnableIoAndDma(location);
  outb(io + REG_STATUS, 0); // reset
  outb(io + REG_STATUS, STATUS_ACKNOWLEDGE);
  outb(io + REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
  const features = inl(io + REG_DEVICE_FEATURES) & (FEATURE_READ_ONLY | FEATURE_FLUSH);
  outl(io + REG_GUEST_FEATURES, features);
  outw(io + REG_QUEUE_SELECT, 0);
  const size = inw(io + REG_QUEUE_SIZE);
  if (size < 3 * SLOTS) {
    fail(io, "queue too small");
    return;
  }
  const rings = allocPages(orderFor(ringBytes(size)), FrameState.KernelObject, true);
  const headers = allocPages(0, FrameState.KernelObject, true);
  const record = kmalloc(VIRTIO_DISK_SIZE);
  const requests = kmalloc(SLOTS * 4);
  const device = newBlockDevice();
  if (rings == 0 || headers == 0 || record == 0 || requests == 0 || device == null) {
    fail(io, "no memory for the queue");
    return;
  }
  const disk = changetype<VirtioDisk>(record);
  disk.io = io;
  disk.queueSize = size;
  disk.descriptors = rings;
  disk.available = rings + size * 16;
  disk.used = rings + ((size * 16 + 6 + size * 2 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
  disk.lastUsed = 0;
  disk.headers = headers;
  disk.busy = 0;
  disk.requests = requests;
  disk.features = features;
  outl(io + REG_QUEUE_ADDRESS, rings >> PAGE_SHIFT);
  device.start = changetype<u32>(startRequest);
  device.poll = changetype<u32>(poll);
  device.driver = record;
  // The handler goes on before the disk is registered: a disk without it would take requests and never complete them.
  const interrupt = requestPciInterrupt(location, handleInterrupt, changetype<u32>(device), "virtio-blk");
  if (interrupt == PciInterrupt.None) {
    fail(io, "no interrupt line");
    return;
  }
  disk.messages = interrupt == PciInterrupt.MsiX ? 1 : 0;
  if (disk.messages != 0) {
    outw(io + REG_CONFIG_VECTOR, NO_VECTOR); // configuration changes (a resized disk) are not acted on
    outw(io + REG_QUEUE_VECTOR, 0); // queue 0 is still selected
    if (inw(io + REG_QUEUE_VECTOR) != 0) {
      fail(io, "the device refused its MSI-X vector");
      return;
    }
  }
  const config = io + (disk.messages != 0 ? DEVICE_CONFIG_MSIX : DEVICE_CONFIG);
  device.sectors = <u64>inl(config) | (<u64>inl(config + 4) << 32);
  device.major = VIRTIO_BLOCK_MAJOR;
  device.minor = diskCount * 16;
  device.readOnly = (features & FEATURE_READ_ONLY) != 0 ? 1 : 0;
  device.volatileCache = (features & FEATURE_FLUSH) != 0 ? 1 : 0;
  nameDisk(device, "vd", diskCount);
  if (!registerBlockDevice(device)) {
    fail(io, "too many devices");
    return;
  }
  outb(io + REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
  diskCount++;
}

function visit(location: u32): void {
  const id = pciRead32(location, 0);
  if ((id & 0xffff) != VENDOR_VIRTIO) return;
  const deviceId = id >> 16;
  if (deviceId == DEVICE_BLOCK_TRANSITIONAL) attach(location);
  else if (deviceId == DEVICE_BLOCK_MODERN) printf("virtio-blk: a modern-only device (no legacy interface) is not supported\n");
}

/** Finds and starts every virtio-blk disk, naming them vda, vdb, ... in bus order. */
export function probeVirtioBlock(): void {
  if (diskCount < 26) forEachPciFunction(visit);
}
