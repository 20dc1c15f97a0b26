// The multiboot2 boot information GRUB hands us: a size-prefixed list of
// 8-byte-aligned tags. The parser trusts nothing: every tag must lie inside
// the block and be large enough for what is read from it, and the first
// violation stops parsing with a status that says what was wrong.

import { equalsAscii } from "../lib/ascii";

export const enum BootInfoStatus {
  Ok = 0,
  Misaligned = 1, // info block not 8-byte aligned
  BadTotalSize = 2, // total size smaller than a header and an end tag, or absurd
  TagOutOfBounds = 3, // a tag header or body reaches past the block
  TagTooSmall = 4, // a tag's size is below its header or its fixed fields
  MissingEndTag = 5, // ran off the block without the end tag
  TooManyEntries = 6, // more memory regions or modules than we keep (the rest dropped)
}

const TAG_END: u32 = 0;
const TAG_CMDLINE: u32 = 1;
const TAG_BOOTLOADER_NAME: u32 = 2;
const TAG_MODULE: u32 = 3;
const TAG_BASIC_MEMINFO: u32 = 4;
const TAG_MEMORY_MAP: u32 = 6;
const TAG_FRAMEBUFFER: u32 = 8;
const TAG_ACPI_OLD: u32 = 14;
const TAG_ACPI_NEW: u32 = 15;

const MAX_TOTAL_SIZE: u32 = 1 << 20;
export const MAX_REGIONS: u32 = 128;
export const MAX_MODULES: u32 = 16;

export const enum MemoryType {
  Available = 1,
  Reserved = 2,
  AcpiReclaimable = 3,
  AcpiNvs = 4,
  BadRam = 5,
}

/**
 * One memory-map entry, as multiboot2 lays it out.
 *
 *   0       8        16     20       24
 *   | base  | length | type | unused |
 */
@unmanaged export class MemoryRegion {
  base: u64;
  length: u64;
  type: u32;
  unused: u32;
}
const REGION_SIZE: u32 = 24;

/**
 * A boot module: physical range and the NUL-free string GRUB gave it.
 *
 *   0       4     8         12
 *   | start | end | cmdline | cmdlineLength |
 */
@unmanaged export class BootModule {
  start: u32;
  end: u32;
  cmdline: u32;
  cmdlineLength: u32;
}
const MODULE_SIZE: u32 = 16;

/**
 * What the parser found. Strings are (address, length) inside the info
 * block; zero address means absent.
 *
 *   0 status          4 totalSize         8 cmdline         12 cmdlineLength
 *  16 loaderName     20 loaderNameLength 24 regionCount     28 moduleCount
 *  32 lowerKiB       36 upperKiB         40 framebufferAddress (u64)
 *  48 fbPitch        52 fbWidth          56 fbHeight        60 fbBpp
 *  64 fbType         68 rsdp             72 rsdpLength      76 tagCount
 */
@unmanaged export class BootInfo {
  status: BootInfoStatus;
  totalSize: u32;
  cmdline: u32;
  cmdlineLength: u32;
  loaderName: u32;
  loaderNameLength: u32;
  regionCount: u32;
  moduleCount: u32;
  lowerKiB: u32;
  upperKiB: u32;
  framebufferAddress: u64;
  framebufferPitch: u32;
  framebufferWidth: u32;
  framebufferHeight: u32;
  framebufferBpp: u32;
  framebufferType: u32;
  rsdp: u32;
  rsdpLength: u32;
  tagCount: u32;
}
const BOOT_INFO_SIZE: u32 = 80;

const bootInfoStorage = memory.data(BOOT_INFO_SIZE, 8);
const regionStorage = memory.data(MAX_REGIONS * REGION_SIZE, 8);
const moduleStorage = memory.data(MAX_MODULES * MODULE_SIZE, 8);

export const bootInfo = changetype<BootInfo>(bootInfoStorage);

@inline export function memoryRegion(index: u32): MemoryRegion {
  return changetype<MemoryRegion>(regionStorage + index * REGION_SIZE);
}

@inline export function bootModule(index: u32): BootModule {
  return changetype<BootModule>(moduleStorage + index * MODULE_SIZE);
}

/** The boot module GRUB loaded with this command line (`module2 FILE name`), or null. */
export function findModule(name: string): BootModule | null {
  for (let i: u32 = 0; i < bootInfo.moduleCount; i++) {
    const module = bootModule(i);
    if (equalsAscii(module.cmdline, module.cmdlineLength, name)) return module;
  }
  return null;
}

/** Length of the NUL-terminated string at `address`, looking at most `limit` bytes. */
function boundedStringLength(address: u32, limit: u32): u32 {
  let n: u32 = 0;
  while (n < limit && load<u8>(address + n) != 0) n++;
  return n;
}

function clear(): void {
  memory.fill(bootInfoStorage, 0, BOOT_INFO_SIZE);
}

function parseMemoryMap(tag: u32, size: u32): BootInfoStatus {
  if (size < 16) return BootInfoStatus.TagTooSmall;
  const entrySize = load<u32>(tag + 8);
  if (entrySize < REGION_SIZE) return BootInfoStatus.TagTooSmall;
  let status = BootInfoStatus.Ok;
  // 64-bit arithmetic: an absurd entry size must not wrap around.
  for (let entry: u64 = tag + 16; entry + entrySize <= <u64>tag + size; entry += entrySize) {
    if (bootInfo.regionCount == MAX_REGIONS) {
      status = BootInfoStatus.TooManyEntries;
      break;
    }
    const region = memoryRegion(bootInfo.regionCount++);
    region.base = load<u64>(<usize>entry);
    region.length = load<u64>(<usize>entry + 8);
    region.type = load<u32>(<usize>entry + 16);
    region.unused = 0;
  }
  return status;
}

function parseTag(tag: u32, type: u32, size: u32): BootInfoStatus {
  switch (type) {
    case TAG_CMDLINE: {
      bootInfo.cmdline = tag + 8;
      bootInfo.cmdlineLength = boundedStringLength(tag + 8, size - 8);
      break;
    }
    case TAG_BOOTLOADER_NAME: {
      bootInfo.loaderName = tag + 8;
      bootInfo.loaderNameLength = boundedStringLength(tag + 8, size - 8);
      break;
    }
    case TAG_MODULE: {
      if (size < 16) return BootInfoStatus.TagTooSmall;
      if (bootInfo.moduleCount == MAX_MODULES) return BootInfoStatus.TooManyEntries;
      const module = bootModule(bootInfo.moduleCount++);
      module.start = load<u32>(tag + 8);
      module.end = load<u32>(tag + 12);
      module.cmdline = tag + 16;
      module.cmdlineLength = boundedStringLength(tag + 16, size - 16);
      break;
    }
    case TAG_BASIC_MEMINFO: {
      if (size < 16) return BootInfoStatus.TagTooSmall;
      bootInfo.lowerKiB = load<u32>(tag + 8);
      bootInfo.upperKiB = load<u32>(tag + 12);
      break;
    }
    case TAG_MEMORY_MAP:
      return parseMemoryMap(tag, size);
    case TAG_FRAMEBUFFER: {
      if (size < 31) return BootInfoStatus.TagTooSmall;
      bootInfo.framebufferAddress = load<u64>(tag + 8);
      bootInfo.framebufferPitch = load<u32>(tag + 16);
      bootInfo.framebufferWidth = load<u32>(tag + 20);
      bootInfo.framebufferHeight = load<u32>(tag + 24);
      bootInfo.framebufferBpp = load<u8>(tag + 28);
      bootInfo.framebufferType = load<u8>(tag + 29);
      break;
    }
    case TAG_ACPI_OLD:
    case TAG_ACPI_NEW: {
      bootInfo.rsdp = tag + 8;
      bootInfo.rsdpLength = size - 8;
      break;
    }
    default:
      break; // tags we do not use are skipped
  }
  return BootInfoStatus.Ok;
}

/**
 * Parses the information block at physical address `address` into
 * `bootInfo`. Returns the status, also kept in `bootInfo.status`; what was
 * parsed before an error stays available.
 */
export function parseBootInfo(address: u32): BootInfoStatus {
  clear();
  const status = walkTags(address);
  bootInfo.status = status;
  return status;
}

function walkTags(address: u32): BootInfoStatus {
  if (address & 7) return BootInfoStatus.Misaligned;
  const total = load<u32>(address);
  bootInfo.totalSize = total;
  if (total < 16 || total > MAX_TOTAL_SIZE || <u64>address + total > 0xffffffff) {
    return BootInfoStatus.BadTotalSize;
  }
  const end = address + total;
  let status = BootInfoStatus.Ok;
  let tag = address + 8;
  while (true) {
    if (tag + 8 > end) return BootInfoStatus.MissingEndTag;
    const type = load<u32>(tag);
    const size = load<u32>(tag + 4);
    if (size < 8) return BootInfoStatus.TagTooSmall;
    if (size > end - tag) return BootInfoStatus.TagOutOfBounds;
    bootInfo.tagCount++;
    if (type == TAG_END) return status;
    const tagStatus = parseTag(tag, type, size);
    if (tagStatus == BootInfoStatus.TooManyEntries) status = tagStatus;
    else if (tagStatus != BootInfoStatus.Ok) return tagStatus;
    tag += (size + 7) & ~7;
  }
}

export function bootInfoStatusName(status: BootInfoStatus): string {
  switch (status) {
    case BootInfoStatus.Ok: return "ok";
    case BootInfoStatus.Misaligned: return "information block not 8-byte aligned";
    case BootInfoStatus.BadTotalSize: return "total size impossible";
    case BootInfoStatus.TagOutOfBounds: return "a tag reaches past the end of the block";
    case BootInfoStatus.TagTooSmall: return "a tag is smaller than its fields";
    case BootInfoStatus.MissingEndTag: return "no end tag";
    case BootInfoStatus.TooManyEntries: return "too many memory regions or modules (extra ones ignored)";
    default: return "unknown";
  }
}

export function memoryTypeName(type: u32): string {
  switch (type) {
    case MemoryType.Available: return "available";
    case MemoryType.Reserved: return "reserved";
    case MemoryType.AcpiReclaimable: return "ACPI reclaimable";
    case MemoryType.AcpiNvs: return "ACPI NVS";
    case MemoryType.BadRam: return "bad RAM";
    default: return "unknown type";
  }
}
