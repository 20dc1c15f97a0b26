// NVMe controllers (PCI class 01:08:02; QEMU's `-device nvme`, a PC's
// M.2 SSD): each one found is reset and enabled with an admin queue pair,
// asked (IDENTIFY) what it is and which namespaces it has, and its first
// active namespace becomes a block device named as Linux names it,
// nvme<controller>n1, numbered in BLOCK_EXT_MAJOR. One I/O queue pair
// carries its requests (nvme_io.ts), completing by interrupt vector 0
// (an MSI-X message when the function has one). The admin queue is only
// used here, at boot, with interrupts off: its commands are polled.
import { mmioRead32, mmioWrite32, rdtsc } from "../arch/x86_64/cpu";
import { printBytes, printf } from "../console/console";
import { forEachPciFunction, pciEnableMemoryAndDma, pciMemoryBar, pciRead32 } from "../drivers/pci";
import { PciInterrupt, requestPciInterrupt } from "../drivers/pci_interrupt";
import { str } from "../lib/format";
import { allocPage, allocPages, freePages } from "../mm/buddy";
import { FrameState } from "../mm/frame";
import { mapDeviceMemory } from "../mm/kernel_map";
import { kmalloc } from "../mm/slab";
import { tscAfter } from "../time/clock";
import {
  BLOCK_EXT_MAJOR, BlockDevice, PollDevice, StartRequest, deviceNameAddress, deviceNameLength, nameNumberedDisk,
  newBlockDevice, registerBlockDevice,
} from "./block_device";
import {
  MAX_TRANSFER_SECTORS, NVME_DISK_SIZE, NvmeDisk, SLOTS, reapNvme, startNvmeRequest,
} from "./nvme_io";
import {
  NvmeQueue, completionCommand, completionStatus, nextCommand, newQueue, peekCompletion, popCompletion,
  releaseCompletions, submit,
} from "./nvme_queue";

const NVME_CLASS: u32 = 0x010802; // mass storage, non-volatile memory, NVM Express

// Controller registers, from BAR 0.
const CAP: u64 = 0x00; // u64
const CC: u64 = 0x14;
const CSTS: u64 = 0x1c;
const AQA: u64 = 0x24;
const ASQ: u64 = 0x28; // u64
const ACQ: u64 = 0x30; // u64
const DOORBELLS: u64 = 0x1000;

const CC_ENABLE: u32 = 1 << 0;
const CC_QUEUE_ENTRY_SIZES: u32 = (6 << 16) | (4 << 20); // 2^6-byte commands, 2^4-byte completions; NVM commands, 4 KiB pages
const CSTS_READY: u32 = 1 << 0;
const CSTS_FATAL: u32 = 1 << 1;

const ADMIN_DELETE_SQ: u32 = 0x00;
const ADMIN_CREATE_SQ: u32 = 0x01;
const ADMIN_CREATE_CQ: u32 = 0x05;
const ADMIN_IDENTIFY: u32 = 0x06;
const ADMIN_SET_FEATURES: u32 = 0x09;
const FEATURE_QUEUES: u32 = 0x07;
const IDENTIFY_NAMESPACE: u32 = 0;
const IDENTIFY_CONTROLLER: u32 = 1;
const IDENTIFY_ACTIVE_NAMESPACES: u32 = 2;
const QUEUE_CONTIGUOUS: u32 = 1 << 0;
const QUEUE_INTERRUPTS: u32 = 1 << 1;

const PRP_LISTS_ORDER: u32 = 2; // SLOTS × PRP_LIST_BYTES: 16 KiB
const ADMIN_ENTRIES: u32 = 16;
const IO_ENTRIES: u32 = 64; // more than SLOTS: the submission queue never fills
const ADMIN_TIMEOUT_NS: u64 = 2000000000;
const TIMEOUT_UNIT_NS: u64 = 500000000; // CAP.TO counts half seconds

let controllerCount: u32 = 0;

/** Prints a PCI function's location as Linux does, bus:device.function. */
function printLocation(location: u32): void {
  printf("%x:%x.%d", location >> 16, (location >> 11) & 0x1f, (location >> 8) & 7);
}

function refuse(location: u32, why: string): void {
  printf("nvme: controller at ");
  printLocation(location);
  printf(" not used: %s\n", str(why));
}

/** Waits until CSTS.RDY is `ready` (the controller finished enabling or resetting); false on timeout or a fatal status. */
function waitReady(registers: u64, ready: u32, timeout: u64): bool {
  const deadline = tscAfter(timeout);
  let status = mmioRead32(registers + CSTS);
  while ((status & CSTS_READY) != ready && (status & CSTS_FATAL) == 0 && rdtsc() <= deadline) status = mmioRead32(registers + CSTS);
  return (status & (CSTS_READY | CSTS_FATAL)) == ready;
}

/** Runs one admin command and waits for it: its status (0 is success), or 0xffffffff when it never completes. */
function adminCommand(admin: NvmeQueue, opcode: u32, namespace: u32, buffer: u32, cdw10: u32, cdw11: u32): u32 {
  const command = nextCommand(admin);
  store<u32>(command, opcode | (admin.tail << 16)); // the entry's index names it: one at a time
  store<u32>(command + 4, namespace);
  store<u64>(command + 24, <u64>buffer);
  store<u32>(command + 40, cdw10);
  store<u32>(command + 44, cdw11);
  const id = admin.tail;
  submit(admin);
  const deadline = tscAfter(ADMIN_TIMEOUT_NS);
  while (rdtsc() <= deadline) {
    const entry = peekCompletion(admin);
    if (entry == 0) continue;
    const status = completionStatus(entry);
    const answered = completionCommand(entry);
    popCompletion(admin);
    releaseCompletions(admin);
    if (answered == id) return status;
  }
  return 0xffffffff;
}

/** Resets the controller and starts it again with `admin` as its admin queue pair; false when it does not come up. */
function enable(registers: u64, admin: NvmeQueue, timeout: u64): bool {
  if ((mmioRead32(registers + CC) & CC_ENABLE) != 0) mmioWrite32(registers + CC, 0);
  if (!waitReady(registers, 0, timeout)) return false;
  mmioWrite32(registers + AQA, ((ADMIN_ENTRIES - 1) << 16) | (ADMIN_ENTRIES - 1));
  // No 64-bit MMIO: the halves low first, as the controller is not enabled and reads neither yet.
  mmioWrite32(registers + ASQ, admin.submissions);
  mmioWrite32(registers + ASQ + 4, 0);
  mmioWrite32(registers + ACQ, admin.completions);
  mmioWrite32(registers + ACQ + 4, 0);
  mmioWrite32(registers + CC, CC_QUEUE_ENTRY_SIZES | CC_ENABLE);
  return waitReady(registers, CSTS_READY, timeout);
}

/** The namespace to use: the first in the active list, or 1 when the controller (NVMe 1.0) has no such list. */
function firstNamespace(admin: NvmeQueue, page: u32): u32 {
  memory.fill(page, 0, 4096);
  if (adminCommand(admin, ADMIN_IDENTIFY, 0, page, IDENTIFY_ACTIVE_NAMESPACES, 0) != 0) return 1;
  return load<u32>(page);
}

/** Prints the ASCII field of `length` bytes at `at`, its padding spaces left off. */
function printField(at: u32, length: u32): void {
  while (length > 0 && load<u8>(at + length - 1) == 0x20) length--;
  printBytes(at, length);
}

/** The queue pair for requests: completion queue 1 interrupting on vector 0, then submission queue 1 feeding it. */
function createIoQueues(admin: NvmeQueue, io: NvmeQueue): bool {
  const size = (io.size - 1) << 16 | 1;
  if (adminCommand(admin, ADMIN_CREATE_CQ, 0, io.completions, size, QUEUE_INTERRUPTS | QUEUE_CONTIGUOUS) != 0) return false;
  if (adminCommand(admin, ADMIN_CREATE_SQ, 0, io.submissions, size, (1 << 16) | QUEUE_CONTIGUOUS) == 0) return true;
  adminCommand(admin, ADMIN_DELETE_SQ, 0, 0, 1, 0);
  return false;
}

function handleInterrupt(data: u32): void {
  reapNvme(changetype<NvmeDisk>(data));
}

function pollDisk(device: BlockDevice): void {
  reapNvme(changetype<NvmeDisk>(device.driver));
}

/** Makes namespace `namespace` (IDENTIFY NAMESPACE in `page`) of the controller a disk; false, saying why, if it cannot be. */
function addDisk(location: u32, number: u32, admin: NvmeQueue, io: NvmeQueue, identify: u32, page: u32, namespace: u32,
  volatileCache: bool, maxSectors: u32): bool {
  const format = load<u32>(page + 128 + (load<u8>(page + 26) & 0xf) * 4); // the LBA format FLBAS selects
  const blockShift = (format >> 16) & 0xff;
  if ((blockShift != 9 && blockShift != 12) || (format & 0xffff) != 0) {
    printf("nvme: namespace %d of ", namespace);
    printLocation(location);
    printf(" has %d-byte blocks with %d bytes of metadata; only 512 and 4096 without are supported\n", 1 << blockShift,
      format & 0xffff);
    return false;
  }
  const record = kmalloc(NVME_DISK_SIZE);
  const slots = kmalloc(SLOTS * 8);
  const prpLists = allocPages(PRP_LISTS_ORDER, FrameState.KernelObject, true);
  const device = newBlockDevice();
  if (record == 0 || slots == 0 || prpLists == 0 || device == null) {
    refuse(location, "no memory for the disk");
    return false;
  }
  const disk = changetype<NvmeDisk>(record);
  disk.io = io;
  disk.device = device;
  disk.namespace = namespace;
  disk.lbaShift = blockShift - 9;
  disk.maxSectors = maxSectors;
  disk.busy = 0;
  disk.slots = slots;
  disk.prpLists = prpLists;
  device.start = changetype<u32>(<StartRequest>startNvmeRequest);
  device.poll = changetype<u32>(<PollDevice>pollDisk);
  device.driver = record;
  device.sectors = load<u64>(page) << disk.lbaShift;
  device.major = BLOCK_EXT_MAJOR;
  device.minor = 0; // numbered when its partitions are, so that they follow it (probe.ts)
  device.volatileCache = volatileCache ? 1 : 0;
  device.blockMask = (1 << disk.lbaShift) - 1;
  nameNumberedDisk(device, "nvme", number, "n1");
  // The handler goes on first: a disk registered without it would take requests and never complete them.
  if (requestPciInterrupt(location, handleInterrupt, record, "nvme") == PciInterrupt.None) {
    refuse(location, "no interrupt (no message, no free legacy line)");
    return false;
  }
  if (!createIoQueues(admin, io)) {
    refuse(location, "it would not create an I/O queue pair");
    return false;
  }
  if (!registerBlockDevice(device)) {
    refuse(location, "too many devices");
    return false;
  }
  printf("nvme: ");
  printBytes(deviceNameAddress(device), deviceNameLength(device));
  printf(" on ");
  printLocation(location);
  printf(": ");
  printField(identify + 24, 40);
  printf(", %d-byte blocks, write cache %s\n", 1 << blockShift, str(volatileCache ? "on" : "off"));
  return true;
}

/** Brings up the controller at `location` (BAR 0 at `registers`) as controller `number`. */
function attach(location: u32, registers: u64, number: u32): void {
  if (!mapDeviceMemory(registers, DOORBELLS)) return;
  pciEnableMemoryAndDma(location);
  const capLow = mmioRead32(registers + CAP);
  const capHigh = mmioRead32(registers + CAP + 4);
  const stride = capHigh & 0xf;
  const timeout = <u64>max<u32>((capLow >> 24) & 0xff, 1) * TIMEOUT_UNIT_NS;
  if (((capHigh >> 16) & 0xf) != 0) {
    refuse(location, "its smallest page is larger than 4 KiB");
    return;
  }
  if ((capLow & 0xffff) + 1 < IO_ENTRIES) {
    refuse(location, "its queues are too short");
    return;
  }
  if (!mapDeviceMemory(registers + DOORBELLS, 4 << (stride + 2))) return; // the admin and I/O pairs' doorbells
  const admin = newQueue(registers, stride, 0, ADMIN_ENTRIES);
  const io = newQueue(registers, stride, 1, IO_ENTRIES);
  const identify = allocPage(FrameState.KernelObject, true);
  const page = allocPage(FrameState.KernelObject, true);
  if (admin == null || io == null || identify == 0 || page == 0) {
    refuse(location, "no memory for its queues");
    return;
  }
  if (!enable(registers, admin, timeout)) {
    refuse(location, "it did not become ready");
    return;
  }
  if (adminCommand(admin, ADMIN_IDENTIFY, 0, identify, IDENTIFY_CONTROLLER, 0) != 0) {
    refuse(location, "IDENTIFY CONTROLLER failed");
    return;
  }
  const mdts = <u32>load<u8>(identify + 77); // a command's largest transfer: 2^MDTS pages, 0 for no limit
  const maxSectors = mdts == 0 || mdts >= 20 ? MAX_TRANSFER_SECTORS : min(MAX_TRANSFER_SECTORS, (1 << mdts) << 3);
  const volatileCache = (load<u8>(identify + 525) & 1) != 0;
  const namespace = firstNamespace(admin, page);
  memory.fill(page, 0, 4096);
  if (namespace == 0 || adminCommand(admin, ADMIN_IDENTIFY, namespace, page, IDENTIFY_NAMESPACE, 0) != 0 || load<u64>(page) == 0) {
    refuse(location, "it has no active namespace");
    return;
  }
  adminCommand(admin, ADMIN_SET_FEATURES, 0, 0, FEATURE_QUEUES, 0); // one pair asked for: any answer gives at least that
  addDisk(location, number, admin, io, identify, page, namespace, volatileCache, maxSectors);
  freePages(identify);
  freePages(page);
}

function probeFunction(location: u32): void {
  if (pciRead32(location, 8) >> 8 != NVME_CLASS) return;
  const number = controllerCount++; // Linux numbers controllers, used or not
  const registers = pciMemoryBar(location, 0);
  if (registers == 0) {
    refuse(location, "BAR 0 is not a memory BAR");
    return;
  }
  attach(location, registers, number);
}

/** Finds every NVMe controller and registers its first namespace as nvme<N>n1. */
export function probeNvme(): void {
  forEachPciFunction(probeFunction);
}
