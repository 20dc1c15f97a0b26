// Entry point of build/unit/unit.wasm: the kernel modules under unit test,
// exported to JS (tests/unit/kernel-wasm.ts). Strings arrive as addresses of
// AssemblyScript strings the tests allocate with the exported __new, and
// records are handed out by address so JS reads them with the layouts drawn
// in their modules.
// asconfig routes abort (failed assertions, bounds checks) to the kernel's
// panic module, which must therefore be part of the program.
import "../../kernel/debug/panic";
import { formatInto } from "../../kernel/lib/format";
import { printf as kernelPrintf } from "../../kernel/console/console";
import {
  argumentCount, argumentEquals, argumentNumber, argumentValueAddress, argumentValueLength, hasArgument,
  parseCommandLine,
} from "../../kernel/boot/cmdline";
import { bootInfo, bootModule, memoryRegion, parseBootInfo as kernelParseBootInfo } from "../../kernel/boot/multiboot2";
import {
  FrameState, SECTION_COUNT, frameExists as kernelFrameExists, frameStateCount as kernelFrameStateCount,
  sectionRecords,
} from "../../kernel/mm/frame";
import {
  clearReservedRanges as kernelClearReservedRanges, databaseBytes, databaseStart, framesAbove4G,
  frameLimit, initFrameDatabase as kernelInitFrameDatabase, managedFrames, reserveRange as kernelReserveRange,
} from "../../kernel/mm/frame_database";
import { kpageCount as kernelKpageCount, kpageFlags as kernelKpageFlags } from "../../kernel/mm/page_flags";
import { pagemapEntry as kernelPagemapEntry } from "../../kernel/mm/pagemap";
import { frameStateByte as kernelFrameStateByte } from "../../kernel/mm/frame_states";
import {
  allocPages as kernelAllocPages, checkFreeLists as kernelCheckFreeLists, freeFrameCount as kernelFreeFrameCount,
  freeFrameRun as kernelFreeFrameRun, freeListLength as kernelFreeListLength, freePages as kernelFreePages, setReclaimHook,
} from "../../kernel/mm/buddy";
import {
  allocTable as kernelAllocTable, leafEntry as kernelLeafEntry, mapHugePage as kernelMapHugePage,
  mapPage as kernelMapPage, protectPage as kernelProtectPage, setNoExecuteSupported as kernelSetNoExecuteSupported,
  tableEntriesInUse as kernelTableEntriesInUse, translate as kernelTranslate, unmapPage as kernelUnmapPage,
} from "../../kernel/mm/page_table";
import {
  kernelObjectsInUse as kernelKernelObjectsInUse, kfree as kernelKfree, kmalloc as kernelKmalloc,
  resetSlab as kernelResetSlab, slabPageCount as kernelSlabPageCount,
} from "../../kernel/mm/slab";
import { ELF_IMAGE_SIZE, ElfImage, checkElf as kernelCheckElf, elfSegment } from "../../kernel/proc/elf";
import { Placement, chooseBias as kernelChooseBias, mapImage as kernelMapImage } from "../../kernel/proc/elf_load";
import { setLayoutRandomised as kernelSetLayoutRandomised } from "../../kernel/proc/exec_layout";
import { cpioEntryCount as kernelCpioEntryCount, parseCpio as kernelParseCpio } from "../../kernel/fs/cpio";
import { initramfsFileCount as kernelInitramfsFileCount } from "../../kernel/fs/initramfs";
import { mountFileSystems as kernelMountFileSystems } from "../../kernel/fs/boot";
import { mountProcAtBoot } from "../../kernel/procfs/procfs";
import { Inode, inodeSize as kernelInodeSize, readlinkOf, releaseInode, retainInode } from "../../kernel/fs/inode";
import { fileSystemRoot } from "../../kernel/fs/mount";
import { resolvePath as kernelResolvePath } from "../../kernel/fs/path";
import { MEMORY_OBJECT_SIZE, MemoryObject, initMemoryObject, readZeroes } from "../../kernel/mm/memory_object";
import {
  RegionSet, Region, clearRegions as kernelClearRegions, findGapBelow as kernelFindGapBelow,
  findRegion as kernelFindRegion, insertRegion as kernelInsertRegion, newRegion as kernelNewRegion,
  regionAt as kernelRegionAt, removeRange as kernelRemoveRange, splitAt as kernelSplitAt, attachObject as kernelAttachObject,
} from "../../kernel/mm/region";
import {
  AddressSpace, createAddressSpace as kernelCreateAddressSpace, destroyAddressSpace as kernelDestroyAddressSpace,
  regionsOf, releaseUserFrame as kernelReleaseUserFrame, zeroPage as kernelZeroPage,
} from "../../kernel/mm/address_space";
import { copyAddressSpace as kernelCopyAddressSpace } from "../../kernel/mm/fork_copy";
import { moveRange as kernelMoveRange } from "../../kernel/mm/region_move";
import { punchHole as kernelPunchHole } from "../../kernel/mm/hole";
import { handleUserFault as kernelHandleUserFault, shouldReuse as kernelShouldReuse } from "../../kernel/mm/fault";
import {
  cacheHits, cacheMisses, cachedPageCount as kernelCachedPageCount, findCachedPage as kernelFindCachedPage,
  forEachCachedPage, getCachedPage as kernelGetCachedPage, reclaimCachePages as kernelReclaimCachePages,
} from "../../kernel/mm/page_cache";
export { initPageCache } from "../../kernel/mm/page_cache";
import {
  cmosHour as kernelCmosHour, mulShift32 as kernelMulShift32, ticksReaching as kernelTicksReaching,
} from "../../kernel/time/clock";
import { sleepTypesIn as kernelSleepTypesIn } from "../../kernel/drivers/acpi";
import { buildCommand as kernelBuildCommand } from "../../kernel/block/ahci_command";
import {
  AhciPort, enableInterrupts as kernelEnableInterrupts, identify as kernelIdentify, servicePort as kernelServicePort,
  startPort as kernelStartPort, startRequest as kernelStartRequest,
} from "../../kernel/block/ahci_port";
import {
  BlockDevice, StartRequest, nameDisk, nameNumberedDisk, namePartition, newBlockDevice,
} from "../../kernel/block/block_device";
import { NVME_DISK_SIZE, NvmeDisk, SLOTS as NVME_SLOTS, reapNvme, startNvmeRequest } from "../../kernel/block/nvme_io";
import { newQueue as kernelNewNvmeQueue } from "../../kernel/block/nvme_queue";
import { BlockRequest } from "../../kernel/block/request";
import { closeAll, closeOnExec as kernelCloseOnExec, copyDescriptors, freeFileTable, newFileTable } from "../../kernel/fs/file";
import { PROCESS_SIZE, Process } from "../../kernel/proc/process";
import {
  FutexWaiter, futexDequeue as kernelFutexDequeue, futexDequeueNode as kernelFutexDequeueNode, futexEnqueue as kernelFutexEnqueue,
  futexEnqueueNode as kernelFutexEnqueueNode, futexFirstLockOwnedBy as kernelFutexFirstLockOwnedBy,
  futexRequeue as kernelFutexRequeue, futexRequeuePi as kernelFutexRequeuePi, futexTopWaiter as kernelFutexTopWaiter,
  futexWake as kernelFutexWake,
} from "../../kernel/proc/futex_queue";
import { releasePiLocks as kernelReleasePiLocks } from "../../kernel/proc/pi_owner";
import { RLIMIT_CORE, RLIMIT_NOFILE, RLIM_INFINITY, setDefaultLimits, setLimit } from "../../kernel/proc/resource_limits";
import { TrapFrame } from "../../kernel/arch/x86_64/trap_frame";
import { dispatch } from "../../kernel/syscall/dispatch";
import { KERNEL_STACK_SIZE } from "../../kernel/proc/kernel_stack";
import { dumpCore } from "../../kernel/proc/core_dump";
import { SIGNAL_INFO_SIZE, SignalInfo } from "../../kernel/proc/signal_info";
import { BlockDevice } from "../../kernel/block/block_device";
import { ext2Busy, ext2Mount, ext2Unmount } from "../../kernel/fs/ext2/mount";
import { mountRoot } from "../../kernel/fs/mount";
import { S_IFBLK, createIn, setFileClock } from "../../kernel/fs/inode";
export { newRamDisk, ramDiskFailFrom, ramDiskFlushes, ramDiskWriteLog, ramDiskWrites } from "./ram_disk";

export function format(into: usize, size: u32, fmt: string, a: u64, b: u64, c: u64, d: u64, e: u64, f: u64): u32 {
  return formatInto(into, size, fmt, a, b, c, d, e, f);
}

export function printf(fmt: string, a: u64, b: u64, c: u64, d: u64, e: u64, f: u64): void {
  kernelPrintf(fmt, a, b, c, d, e, f);
}

export function parseCmdline(address: usize, length: u32): void {
  parseCommandLine(address, length);
}

export function cmdlineHas(key: string): bool {
  return hasArgument(key);
}

export function cmdlineEquals(key: string, value: string): bool {
  return argumentEquals(key, value);
}

export function cmdlineNumber(key: string, fallback: u64): u64 {
  return argumentNumber(key, fallback);
}

export function cmdlineValueAddress(key: string): usize {
  return argumentValueAddress(key);
}

export function cmdlineValueLength(key: string): i32 {
  return argumentValueLength(key);
}

export function cmdlineCount(): u32 {
  return argumentCount();
}

export function parseBootInfo(address: u32): u32 {
  return kernelParseBootInfo(address);
}

export function bootInfoAddress(): usize {
  return changetype<usize>(bootInfo);
}

export function memoryRegionAddress(index: u32): usize {
  return changetype<usize>(memoryRegion(index));
}

export function bootModuleAddress(index: u32): usize {
  return changetype<usize>(bootModule(index));
}

// ---- memory management (tests/unit/mm-*.test.ts) --------------------------
// The tests write the memory map straight into multiboot2.ts's region table
// (memoryRegionAddress, bootInfoAddress) and read frame records through
// memory with the layout drawn in frame.ts, so only what JS cannot reach by
// itself is exported here.
export function clearReservedRanges(): void {
  kernelClearReservedRanges();
}

export function reserveRange(start: u64, end: u64, state: u32): void {
  kernelReserveRange(start, end, <FrameState>state);
}

export function initFrameDatabase(): bool {
  return kernelInitFrameDatabase();
}

export function getManagedFrames(): u32 {
  return managedFrames;
}

export function getFrameLimit(): u32 {
  return frameLimit;
}

export function kpageFlags(pfn: u32): u64 {
  return kernelKpageFlags(pfn);
}

export function kpageCount(pfn: u32): u64 {
  return kernelKpageCount(pfn);
}

export function frameStateByte(pfn: u32): u8 {
  return kernelFrameStateByte(pfn);
}

export function getFramesAbove4G(): u64 {
  return framesAbove4G;
}

export function getDatabaseStart(): u32 {
  return databaseStart;
}

export function getDatabaseBytes(): u32 {
  return databaseBytes;
}

/** Linear address of a section's records, 0 where the section has none. */
export function sectionRecordsAddress(section: u32): u32 {
  return section < SECTION_COUNT ? sectionRecords(section) : 0;
}

export function frameExists(pfn: u32): bool {
  return kernelFrameExists(pfn);
}

export function frameStateCount(state: u32): u32 {
  return kernelFrameStateCount(<FrameState>state);
}

export function allocPages(order: u32, state: u32, zeroed: bool): u32 {
  return kernelAllocPages(order, <FrameState>state, zeroed);
}

export function freePages(address: u32): void {
  kernelFreePages(address);
}

export function freeFrameRun(first: u32, count: u32): void {
  kernelFreeFrameRun(first, count);
}

export function freeFrameCount(): u32 {
  return kernelFreeFrameCount();
}

export function freeListLength(order: u32): u32 {
  return kernelFreeListLength(order);
}

export function checkFreeLists(): bool {
  return kernelCheckFreeLists();
}

export function allocTable(): u32 {
  return kernelAllocTable();
}

export function mapPage(root: u32, virtualAddress: u64, physical: u64, flags: u64): u32 {
  return kernelMapPage(root, virtualAddress, physical, flags);
}

export function mapHugePage(root: u32, virtualAddress: u64, physical: u64, flags: u64): u32 {
  return kernelMapHugePage(root, virtualAddress, physical, flags);
}

export function unmapPage(root: u32, virtualAddress: u64): u64 {
  return kernelUnmapPage(root, virtualAddress);
}

export function protectPage(root: u32, virtualAddress: u64, flags: u64): bool {
  return kernelProtectPage(root, virtualAddress, flags);
}

export function leafEntry(root: u32, virtualAddress: u64): u64 {
  return kernelLeafEntry(root, virtualAddress);
}

export function translate(root: u32, virtualAddress: u64): u64 {
  return kernelTranslate(root, virtualAddress);
}

export function tableEntriesInUse(table: u32): u32 {
  return kernelTableEntriesInUse(table);
}

export function setNoExecuteSupported(supported: bool): void {
  kernelSetNoExecuteSupported(supported);
}

export function resetSlab(): void {
  kernelResetSlab();
}

export function kmalloc(size: u32): u32 {
  return kernelKmalloc(size);
}

export function kfree(object: u32): void {
  kernelKfree(object);
}

export function kernelObjectsInUse(): u32 {
  return kernelKernelObjectsInUse();
}

export function slabPageCount(): u32 {
  return kernelSlabPageCount();
}

/** Where the runtime's heap starts: everything the kernel's statics need lies below. */
export function heapBase(): usize {
  return __heap_base;
}

// ---- ELF, cpio, initramfs (tests/unit/elf.test.ts, cpio.test.ts) ----------

// What the last checkElf found (layout: ElfImage in elf.ts).
const checkedImage = changetype<ElfImage>(memory.data(ELF_IMAGE_SIZE, 8));

export function checkElf(image: u32, size: u32, asInterpreter: bool): u32 {
  return kernelCheckElf(image, size, checkedImage, asInterpreter);
}

/** Linear address of the ElfImage record the last checkElf filled. */
export function checkedElfImage(): u32 {
  return changetype<u32>(checkedImage);
}

/** Linear address of checked segment `i` (layout: Segment in elf.ts). */
export function elfSegmentAddress(i: u32): u32 {
  return changetype<u32>(elfSegment(checkedImage, i));
}

// ---- placing and mapping an ELF image (tests/unit/elf-load.test.ts) -------

/** Where an image (an ElfImage record) goes in a space; placement 0 near ELF_ET_DYN_BASE, 1 in the mmap area. */
export function chooseElfBias(space: u32, image: u32, placement: u32, isProgram: bool): u64 {
  return kernelChooseBias(changetype<AddressSpace>(space), changetype<ElfImage>(image), <Placement>placement, isProgram);
}

export function mapElfImage(space: u32, object: u32, image: u32, bias: u64): u64 {
  return kernelMapImage(changetype<AddressSpace>(space), changetype<MemoryObject>(object), changetype<ElfImage>(image), bias);
}

export function setLayoutRandomised(on: bool): void {
  kernelSetLayoutRandomised(on);
}

export function parseCpio(start: u32, size: u32, table: u32, capacity: u32): u32 {
  return kernelParseCpio(start, size, table, capacity);
}

export function cpioEntryCount(): u32 {
  return kernelCpioEntryCount();
}

/** Builds the boot tree (root tmpfs with the initramfs unpacked, /proc, /dev, /tmp); the unpacking status. */
export function mountInitramfs(): u32 {
  const status = kernelMountFileSystems();
  assert(mountProcAtBoot(), "mountInitramfs: /proc not mounted");
  return status;
}

export function initramfsFileCount(): u32 {
  return kernelInitramfsFileCount();
}

/** The inode a path names from the root (following links), or -errno; the walk's reference is given back at once. */
export function lookupPath(path: u32, length: u32): i64 {
  const found = kernelResolvePath(fileSystemRoot(), path, length, true);
  if (found > 0) changetype<Inode>(<u32>found).refCount--;
  return found;
}

/** As lookupPath, without following a link in the last component. */
export function lookupLink(path: u32, length: u32): i64 {
  const found = kernelResolvePath(fileSystemRoot(), path, length, false);
  if (found > 0) changetype<Inode>(<u32>found).refCount--;
  return found;
}

export function rootInode(): u32 {
  return changetype<u32>(fileSystemRoot());
}

export function inodeMode(inode: u32): u32 {
  return changetype<Inode>(inode).mode;
}

export function inodeLinks(inode: u32): u32 {
  return changetype<Inode>(inode).nlink;
}

export function inodeSize(inode: u32): u64 {
  return kernelInodeSize(changetype<Inode>(inode));
}

/** A symbolic link's text, written at `into`: its length, or -errno. */
export function readLink(inode: u32, into: u32): i64 {
  return readlinkOf(changetype<Inode>(inode), into);
}

/** Where a file unpacked from the archive reads its bytes (its memory object's source), 0 for others. */
export function inodeData(inode: u32): u32 {
  const object = changetype<Inode>(inode).object;
  return object == null ? 0 : object.source;
}

/** A file's memory object (0 if it has none), for the page-cache tests. */
export function inodeObject(inode: u32): u32 {
  return changetype<u32>(changetype<Inode>(inode).object);
}

// ---- regions, address spaces, faults, page cache (mm-region, mm-cow, mm-page-cache) ----

/** A new, empty RegionSet (kmalloc'd, zeroed; 12 bytes, see region.ts); 0 when out of memory. */
export function newRegionSet(): u32 {
  return kmalloc(12);
}

export function newRegion(start: u64, end: u64, protection: u32, flags: u32): u32 {
  return changetype<u32>(kernelNewRegion(start, end, protection, flags));
}

// Memory objects for the region tests: placed statically (not in the slab,
// whose counts the tests check), each held by the pool for good.
const TEST_OBJECTS: u32 = 64;
const testObjects = memory.data(TEST_OBJECTS * MEMORY_OBJECT_SIZE, 8);

/** Test object `id` (0..63): an object nobody reads from, whose holders the tests can count. */
export function testObject(id: u32): u32 {
  const object = changetype<MemoryObject>(testObjects + id * MEMORY_OBJECT_SIZE);
  if (object.readPage == 0) initMemoryObject(object, readZeroes, null, 1 << 40, 0);
  return changetype<u32>(object);
}

export function objectHolders(object: u32): u32 {
  return changetype<MemoryObject>(object).refCount;
}

/** Makes `region` map `object` (a Region of address space `space`, or 0 outside one). */
export function attachObject(region: u32, object: u32, space: u32): void {
  kernelAttachObject(changetype<Region>(region), changetype<MemoryObject>(object), space);
}

export function insertRegion(set: u32, region: u32): bool {
  return kernelInsertRegion(changetype<RegionSet>(set), changetype<Region>(region));
}

export function removeRange(set: u32, start: u64, end: u64): bool {
  return kernelRemoveRange(changetype<RegionSet>(set), start, end);
}

export function splitAt(set: u32, address: u64): bool {
  return kernelSplitAt(changetype<RegionSet>(set), address);
}

export function findRegion(set: u32, address: u64): u32 {
  return changetype<u32>(kernelFindRegion(changetype<RegionSet>(set), address));
}

export function findGapBelow(set: u32, size: u64, low: u64, high: u64): u64 {
  return kernelFindGapBelow(changetype<RegionSet>(set), size, low, high);
}

export function regionAt(set: u32, index: u32): u32 {
  return changetype<u32>(kernelRegionAt(changetype<RegionSet>(set), index));
}

export function clearRegions(set: u32): void {
  kernelClearRegions(changetype<RegionSet>(set));
}

export function createAddressSpace(): u32 {
  return changetype<u32>(kernelCreateAddressSpace());
}

export function destroyAddressSpace(space: u32): void {
  kernelDestroyAddressSpace(changetype<AddressSpace>(space));
}

/** The RegionSet inside an address space. */
export function addressSpaceRegions(space: u32): u32 {
  return changetype<u32>(regionsOf(changetype<AddressSpace>(space)));
}

export function copyAddressSpace(parent: u32, child: u32): bool {
  return kernelCopyAddressSpace(changetype<AddressSpace>(parent), changetype<AddressSpace>(child));
}

export function moveRange(space: u32, from: u64, oldLength: u64, to: u64, newLength: u64, keepOld: bool): bool {
  return kernelMoveRange(changetype<AddressSpace>(space), from, oldLength, to, newLength, keepOld);
}

export function punchHole(object: u32, offset: u64, length: u64): bool {
  return kernelPunchHole(changetype<MemoryObject>(object), offset, length);
}

export function handleUserFault(space: u32, address: u64, access: u32): u32 {
  return kernelHandleUserFault(changetype<AddressSpace>(space), address, access);
}

export function shouldReuse(state: u32, refCount: u32): bool {
  return kernelShouldReuse(state, refCount);
}

export function zeroPage(): u32 {
  return kernelZeroPage();
}

export function pagemapEntry(space: u32, address: u64, showFrame: bool): u64 {
  return kernelPagemapEntry(changetype<AddressSpace>(space), address, showFrame);
}

export function releaseUserFrame(physical: u32, mapped: bool): void {
  kernelReleaseUserFrame(physical, mapped);
}

export function getCachedPage(object: u32, index: u32): u32 {
  const page = kernelGetCachedPage(changetype<MemoryObject>(object), index);
  return page < 0 ? 0 : <u32>page;
}

export function findCachedPage(object: u32, index: u32): u32 {
  return kernelFindCachedPage(changetype<MemoryObject>(object), index);
}

export function reclaimCachePages(): u32 {
  return kernelReclaimCachePages();
}

/** What initMemory does: a failed allocation first reclaims unmapped page-cache pages. */
export function installCacheReclaimHook(): void {
  setReclaimHook(kernelReclaimCachePages);
}

export function cachedPageCount(): u32 {
  return kernelCachedPageCount();
}

export function getCacheHits(): u64 {
  return cacheHits;
}

export function getCacheMisses(): u64 {
  return cacheMisses;
}

let visitedPages: u32 = 0;
const visitedList = memory.data(4096 * 4, 4);

/** Walks the cache's hash chains (forEachCachedPage); returns how many pages, their addresses at cachedPagesList(). */
export function walkCachedPages(): u32 {
  visitedPages = 0;
  forEachCachedPage((page: u32): void => {
    if (visitedPages < 4096) store<u32>(visitedList + visitedPages * 4, page);
    visitedPages++;
  });
  return visitedPages;
}

export function cachedPagesList(): u32 {
  return <u32>visitedList;
}

export function mulShift32(a: u64, b: u64): u64 {
  return kernelMulShift32(a, b);
}

export function ticksReaching(nanoseconds: u64, hz: u64, scale: u64): u64 {
  return kernelTicksReaching(nanoseconds, hz, scale);
}

export function cmosHour(hourByte: u32, status: u32): u32 {
  return kernelCmosHour(hourByte, status);
}

export function sleepTypesIn(dsdt: u32): i32 {
  return kernelSleepTypesIn(dsdt);
}

// ---- an AHCI port against the fake HBA of ahci-port.test.ts ----

/** startPort for port 0 with registers at `registers`; the port record, 0 on failure. */
export function ahciStartPort(registers: u64, slots: u32): u32 {
  const port = kernelStartPort(registers, 0, slots, true);
  return port == null ? 0 : changetype<u32>(port);
}

export function ahciIdentify(port: u32): u64 {
  return kernelIdentify(changetype<AhciPort>(port));
}

/** A disk "sda" on `port`, its interrupts on, as ahci.ts makes one. */
export function ahciNewDisk(port: u32, sectors: u64): u32 {
  const device = newBlockDevice()!;
  device.start = changetype<u32>(<StartRequest>kernelStartRequest);
  device.driver = port;
  device.sectors = sectors;
  nameDisk(device, "sd", 0);
  changetype<AhciPort>(port).device = device;
  kernelEnableInterrupts(changetype<AhciPort>(port));
  return changetype<u32>(device);
}

/**
 * A request handed to the driver as the block layer's dispatch does (in
 * flight, status pending: 1); the request's address, 0 when the driver has
 * no free slot.
 */
export function ahciSubmit(disk: u32, operation: u32, sector: u64, count: u32, buffer: u32): u32 {
  const device = changetype<BlockDevice>(disk);
  const address = kernelKmalloc(44);
  const request = changetype<BlockRequest>(address);
  request.device = device;
  request.next = 0;
  request.sector = sector;
  request.count = count;
  request.buffer = buffer;
  request.operation = operation;
  request.status = 1;
  if (!kernelStartRequest(device, address)) {
    kernelKfree(address);
    return 0;
  }
  device.inFlight++;
  return address;
}

export function ahciService(port: u32): void {
  kernelServicePort(changetype<AhciPort>(port));
}

export function ahciBuildCommand(area: u32, slot: u32, command: u32, sector: u64, count: u32, buffer: u32, bytes: u32, write: bool): void {
  kernelBuildCommand(area, slot, <u8>command, sector, count, buffer, bytes, write);
}

// ---- NVMe requests against the fake controller of nvme-io.test.ts ----

/**
 * A disk "nvme0n1" as nvme.ts makes one, its I/O queue pair (id 1, 64
 * entries, doorbells 4 bytes apart) on the controller at `registers`;
 * blocks of 512 << `lbaShift` bytes, at most `maxSectors` a command.
 */
export function nvmeNewDisk(registers: u64, lbaShift: u32, maxSectors: u32): u32 {
  const disk = changetype<NvmeDisk>(kernelKmalloc(NVME_DISK_SIZE));
  disk.io = kernelNewNvmeQueue(registers, 0, 1, 64)!;
  disk.namespace = 1;
  disk.lbaShift = lbaShift;
  disk.maxSectors = maxSectors;
  disk.busy = 0;
  disk.slots = kernelKmalloc(NVME_SLOTS * 8);
  disk.prpLists = kernelAllocPages(2, FrameState.KernelObject, true);
  const device = newBlockDevice()!;
  device.start = changetype<u32>(<StartRequest>startNvmeRequest);
  device.driver = changetype<u32>(disk);
  device.sectors = 1 << 20;
  nameNumberedDisk(device, "nvme", 0, "n1");
  disk.device = device;
  return changetype<u32>(device);
}

/** A request handed to the NVMe driver as ahciSubmit hands one to AHCI; 0 when every command identifier is out. */
export function nvmeSubmit(device: u32, operation: u32, sector: u64, count: u32, buffer: u32): u32 {
  const disk = changetype<BlockDevice>(device);
  const address = kernelKmalloc(44);
  const request = changetype<BlockRequest>(address);
  request.device = disk;
  request.next = 0;
  request.sector = sector;
  request.count = count;
  request.buffer = buffer;
  request.operation = operation;
  request.status = 1;
  if (!startNvmeRequest(disk, address)) {
    kernelKfree(address);
    return 0;
  }
  disk.inFlight++;
  return address;
}

/** What the disk's interrupt does: completes what the controller posted. */
export function nvmeReap(device: u32): void {
  reapNvme(changetype<NvmeDisk>(changetype<BlockDevice>(device).driver));
}

/** A disk named as nvme.ts names controller `number`'s, then its partition `partition`; the partition's record. */
export function nvmeNamePartition(number: u32, partition: u32): u32 {
  const disk = newBlockDevice()!;
  nameNumberedDisk(disk, "nvme", number, "n1");
  const part = newBlockDevice()!;
  namePartition(part, disk, partition);
  return changetype<u32>(part);
}

// ---- system calls from a test process (tmpfs-model, page-cache-model, descriptor-flags) ----
// A process record with what calls on files and memory use: an address
// space, a descriptor table and a working directory. It has no kernel
// stack, signal state or place in the scheduler: it never runs; the tests
// make system calls in its name, their arguments in its user memory.

/**
 * A process with an empty address space and descriptor table, the root
 * its working directory (held); 0 when out of memory. Its RLIMIT_NOFILE
 * is 64, the table's first size, so the models' descriptor limit is one
 * the table never has to grow for.
 */
export function newTestProcess(): u32 {
  const address = kmalloc(PROCESS_SIZE);
  const files = newFileTable();
  const space = kernelCreateAddressSpace();
  if (address == 0 || files == null || space == null) {
    if (space != null) kernelDestroyAddressSpace(space);
    if (files != null) freeFileTable(files);
    if (address != 0) kfree(address);
    return 0;
  }
  const process = changetype<Process>(address);
  process.pid = 1000; // no real process has it; an unknown call's log line names it
  process.tgid = 1000;
  process.leader = address; // a process of one thread, leading itself
  process.threadCount = 1;
  process.space = changetype<u32>(space);
  process.files = files;
  setDefaultLimits(process);
  setLimit(process, RLIMIT_NOFILE, 64, 64);
  process.cwd = retainInode(fileSystemRoot());
  return address;
}

/** What exit and the final release do: closes every descriptor, frees the space and the record. */
export function destroyTestProcess(address: u32): void {
  const process = changetype<Process>(address);
  closeAll(process.files);
  freeFileTable(process.files);
  kernelDestroyAddressSpace(changetype<AddressSpace>(process.space));
  releaseInode(process.cwd);
  kfree(address);
}

const callFrame = memory.data(offsetof<TrapFrame>(), 8);

/** System call `number` (Linux x86-64) with arguments a..f, as the syscall instruction hands it to dispatch; the result or -errno. */
export function syscall(process: u32, number: u64, a: u64, b: u64, c: u64, d: u64, e: u64, f: u64): i64 {
  const frame = changetype<TrapFrame>(callFrame);
  frame.rax = number;
  frame.rdi = a;
  frame.rsi = b;
  frame.rdx = c;
  frame.r10 = d;
  frame.r8 = e;
  frame.r9 = f;
  return dispatch(changetype<Process>(process), frame);
}

/** fork's step for descriptors: the child's table refers to the parent's open files, flags and all. */
export function copyDescriptorTable(child: u32, parent: u32): void {
  copyDescriptors(changetype<Process>(child).files, changetype<Process>(parent).files);
}

/** execve's step for descriptors: closes those marked close-on-exec. */
export function closeOnExec(process: u32): void {
  kernelCloseOnExec(changetype<Process>(process).files);
}

// ---- core dumps of a test process (core-dump.test.ts) ----


const TRAP_FRAME_BYTES: u32 = 176;
// The registers and FPU area a test process's core shows: it has no kernel stack, whose top would hold them.
const coreFrame = memory.data(TRAP_FRAME_BYTES, 16);
const coreFpu = memory.data(512, 16);
const coreInfo = memory.data(SIGNAL_INFO_SIZE, 8);

/** The trap frame dumpTestCore takes the registers from (TrapFrame's layout). */
export function coreFrameAddress(): u32 {
  return <u32>coreFrame;
}

/**
 * Dumps the core of test process `address`, killed by `signal` (si_code
 * `code`), with RLIMIT_CORE `limit`, as the kernel does for a real one:
 * the registers from coreFrameAddress(), the FPU area from cpu_fxsave.
 * Whether it dumped.
 */
export function dumpTestCore(address: u32, signal: u32, code: i32, limit: u64): bool {
  const process = changetype<Process>(address);
  setLimit(process, RLIMIT_CORE, limit, RLIM_INFINITY);
  process.kernelStack = <u32>coreFrame + TRAP_FRAME_BYTES - KERNEL_STACK_SIZE; // userFrame(process) is then coreFrame
  process.fpuState = <u32>coreFpu;
  const info = changetype<SignalInfo>(coreInfo);
  info.signal = signal;
  info.code = code;
  info.first = process.pid;
  info.second = 0;
  return dumpCore(process, info);
}

// ---- futex wait queues (futex-queue.test) ----
// Waiters are bare process records (processRecord): only their state and
// futex fields are used; a woken one joins the run queue, which never runs.

/** A zeroed process record; 0 when out of memory. */
export function processRecord(): u32 {
  const address = kmalloc(PROCESS_SIZE);
  if (address != 0) changetype<Process>(address).leader = address;
  return address;
}

export function futexEnqueue(process: u32, base: u32, offset: u64, bitset: u32): void {
  kernelFutexEnqueue(changetype<Process>(process), base, offset, bitset);
}

export function futexDequeue(process: u32): u32 {
  return kernelFutexDequeue(changetype<Process>(process)) ? 1 : 0;
}

export function futexEnqueueNode(node: u32, process: u32, base: u32, offset: u64, bitset: u32, lockOwner: u32): void {
  kernelFutexEnqueueNode(changetype<FutexWaiter>(node), changetype<Process>(process), base, offset, bitset, lockOwner);
}

export function futexDequeueNode(node: u32): u32 {
  return kernelFutexDequeueNode(changetype<FutexWaiter>(node)) ? 1 : 0;
}

export function futexTopWaiter(base: u32, offset: u64): u32 {
  return changetype<u32>(kernelFutexTopWaiter(base, offset));
}

export function futexFirstLockOwnedBy(pid: u32): u32 {
  return changetype<u32>(kernelFutexFirstLockOwnedBy(pid));
}

export function futexRequeuePi(base: u32, offset: u64, base2: u32, offset2: u64, count: i64, lockOwner: u32): i64 {
  return kernelFutexRequeuePi(base, offset, base2, offset2, count, lockOwner);
}

export function releasePiLocks(process: u32): void {
  kernelReleasePiLocks(changetype<Process>(process));
}

export function futexWake(base: u32, offset: u64, bitset: u32, count: i32): i32 {
  return kernelFutexWake(base, offset, bitset, count);
}

export function futexRequeue(base: u32, offset: u64, base2: u32, offset2: u64, wakeCount: i32, moveCount: i32): i32 {
  return kernelFutexRequeue(base, offset, base2, offset2, wakeCount, moveCount);
}

// ---- ext2 over a RAM disk (ext2*.test.ts) ----

/** Makes /dev/NAME a block device node for `rdev` (mknod refuses block devices): 0 or -errno. */
export function makeBlockNode(name: u32, length: u32, rdev: u32): i64 {
  const dev = kernelResolvePath(fileSystemRoot(), changetype<u32>(memory.data<u8>([0x2f, 0x64, 0x65, 0x76])), 4, true);
  if (dev < 0) return dev;
  const made = createIn(changetype<Inode>(<u32>dev), name, length, S_IFBLK | 0o600, rdev);
  releaseInode(changetype<Inode>(<u32>dev));
  if (made < 0) return made;
  releaseInode(changetype<Inode>(<u32>made));
  return 0;
}

/** What the boot's root mount calls: the root Inode of the ext2 file system on `device`, or -errno. */
export function mountExt2Device(device: u32, readOnly: bool, deviceNumber: u32): i64 {
  return ext2Mount(changetype<BlockDevice>(device), readOnly, deviceNumber);
}

let testNow: u64 = 0;

/** Sets the file clock (nanoseconds since 1970) to `nanoseconds`, until called again: files made after get that time. */
export function setTestClock(nanoseconds: u64): void {
  testNow = nanoseconds;
  setFileClock((): u64 => testNow);
}

/** Makes the ext2 file system on `device` the root of the tree, as a root=/dev/vda boot would: 0 or -errno. */
export function mountExt2AsRoot(device: u32, deviceNumber: u32): i64 {
  const got = ext2Mount(changetype<BlockDevice>(device), false, deviceNumber);
  if (got < 0) return got;
  return mountRoot(changetype<Inode>(<u32>got), "ext2", deviceNumber) ? 0 : -12;
}

/** Unmounts the ext2 root mountExt2AsRoot made (nothing may use it any more): 0, -EBUSY, or a write error. */
export function unmountExt2Root(): i64 {
  const root = fileSystemRoot();
  if (ext2Busy(root, 1)) return -16;
  return ext2Unmount(root);
}
