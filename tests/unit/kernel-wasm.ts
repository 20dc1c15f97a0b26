// Loads build/unit/unit.wasm (tests/unit/harness.ts) for unit tests. A
// WebAssembly.Memory stands in for physical RAM, the way the kernel sees it
// after wasm2c; JS functions stand in for the CPU instructions the kernel
// imports. loadKernel makes a fresh instance; tests take one each, so no
// state leaks from one test into the next.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, renameSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const WASM = join(ROOT, "build/unit/unit.wasm");
/** The built module's path, for tests that must run it in a worker thread (a hang cannot be interrupted otherwise). */
export const UNIT_WASM = WASM;

/** 16 MiB: the kernel's data sits at 1 MiB (memoryBase), tests use what is below and above. */
const MEMORY_PAGES = 256;
const PAGE_SIZE = 4096;

const COM1_DATA = 0x3f8;
const COM1_LINE_STATUS = 0x3fd;
const TRANSMIT_EMPTY = 0x20;
// The PIT's channel 2, as time/tsc.ts calibrates the TSC against it: its
// output (port 0x61, bit 5) rises `count` PIT ticks after the count is
// loaded through port 0x42, measured on a TSC running at SIMULATED_TSC_HZ;
// each read of port 0x61 takes the CPU a microsecond.
const PIT_COMMAND = 0x43;
const PIT_CHANNEL2 = 0x42;
const SPEAKER_PORT = 0x61;
const PIT_OUTPUT = 0x20;
const PIT_HZ = 1193182n;
const SIMULATED_TSC_HZ = 1_000_000_000n;
const PORT_READ_TICKS = SIMULATED_TSC_HZ / 1_000_000n;
/** String's class id in the AssemblyScript runtime, for __new. */
const STRING_ID = 2;

/** The harness's exports, as JS sees them: u64 is bigint (signed), u32 may come back negative. */
export interface UnitExports {
  format(into: number, size: number, fmt: number, a: bigint, b: bigint, c: bigint, d: bigint, e: bigint, f: bigint): number;
  printf(fmt: number, a: bigint, b: bigint, c: bigint, d: bigint, e: bigint, f: bigint): void;
  parseCmdline(address: number, length: number): void;
  cmdlineHas(key: number): number;
  cmdlineEquals(key: number, value: number): number;
  cmdlineNumber(key: number, fallback: bigint): bigint;
  cmdlineValueAddress(key: number): number;
  cmdlineValueLength(key: number): number;
  cmdlineCount(): number;
  parseBootInfo(address: number): number;
  bootInfoAddress(): number;
  memoryRegionAddress(index: number): number;
  bootModuleAddress(index: number): number;
  // memory management
  clearReservedRanges(): void;
  reserveRange(start: bigint, end: bigint, state: number): void;
  initFrameDatabase(): number;
  getManagedFrames(): number;
  getFrameLimit(): number;
  kpageFlags(pfn: number): bigint;
  kpageCount(pfn: number): bigint;
  frameStateByte(pfn: number): number;
  getFramesAbove4G(): bigint;
  getDatabaseStart(): number;
  getDatabaseBytes(): number;
  sectionRecordsAddress(section: number): number;
  frameExists(pfn: number): number;
  frameStateCount(state: number): number;
  allocPages(order: number, state: number, zeroed: number): number;
  freePages(address: number): void;
  freeFrameRun(firstPfn: number, count: number): void;
  freeFrameCount(): number;
  freeListLength(order: number): number;
  checkFreeLists(): number;
  allocTable(): number;
  mapPage(root: number, virtualAddress: bigint, physical: bigint, flags: bigint): number;
  mapHugePage(root: number, virtualAddress: bigint, physical: bigint, flags: bigint): number;
  unmapPage(root: number, virtualAddress: bigint): bigint;
  protectPage(root: number, virtualAddress: bigint, flags: bigint): number;
  leafEntry(root: number, virtualAddress: bigint): bigint;
  translate(root: number, virtualAddress: bigint): bigint;
  tableEntriesInUse(table: number): number;
  setNoExecuteSupported(supported: number): void;
  resetSlab(): void;
  initPageCache(): void;
  kmalloc(size: number): number;
  kfree(object: number): void;
  kernelObjectsInUse(): number;
  slabPageCount(): number;
  heapBase(): number;
  // ELF, cpio, initramfs
  checkElf(image: number, size: number, asInterpreter: number): number;
  checkedElfImage(): number;
  chooseElfBias(space: number, image: number, placement: number, isProgram: number): bigint;
  mapElfImage(space: number, object: number, image: number, bias: bigint): bigint;
  setLayoutRandomised(on: number): void;
  mulShift32(a: bigint, b: bigint): bigint;
  ticksReaching(nanoseconds: bigint, hz: bigint, scale: bigint): bigint;
  cmosHour(hourByte: number, status: number): number;
  sleepTypesIn(dsdt: number): number;
  ahciBuildCommand(area: number, slot: number, command: number, sector: bigint, count: number, buffer: number, bytes: number, write: number): void;
  ahciStartPort(registers: bigint, slots: number): number;
  ahciIdentify(port: number): bigint;
  ahciNewDisk(port: number, sectors: bigint): number;
  ahciSubmit(disk: number, operation: number, sector: bigint, count: number, buffer: number): number;
  ahciService(port: number): void;
  nvmeNewDisk(registers: bigint, lbaShift: number, maxSectors: number): number;
  nvmeSubmit(device: number, operation: number, sector: bigint, count: number, buffer: number): number;
  nvmeReap(device: number): void;
  nvmeNamePartition(number: number, partition: number): number;
  elfSegmentAddress(i: number): number;
  parseCpio(start: number, size: number, table: number, capacity: number): number;
  cpioEntryCount(): number;
  mountInitramfs(): number;
  initramfsFileCount(): number;
  lookupPath(path: number, length: number): bigint;
  lookupLink(path: number, length: number): bigint;
  rootInode(): number;
  inodeMode(inode: number): number;
  inodeLinks(inode: number): number;
  inodeSize(inode: number): bigint;
  inodeData(inode: number): number;
  inodeObject(inode: number): number;
  // ext2 over a RAM disk
  newRamDisk(buffer: number, sectors: bigint, major: number, minor: number): number;
  ramDiskFailFrom(device: number, sector: bigint): void;
  ramDiskFlushes(device: number): number;
  ramDiskWrites(device: number): number;
  ramDiskWriteLog(device: number): number;
  makeBlockNode(name: number, length: number, rdev: number): bigint;
  mountExt2Device(device: number, readOnly: number, deviceNumber: number): bigint;
  setTestClock(nanoseconds: bigint): void;
  mountExt2AsRoot(device: number, deviceNumber: number): bigint;
  unmountExt2Root(): bigint;
  // regions, address spaces, faults, page cache
  newRegionSet(): number;
  newRegion(start: bigint, end: bigint, protection: number, flags: number): number;
  insertRegion(set: number, region: number): number;
  removeRange(set: number, start: bigint, end: bigint): number;
  splitAt(set: number, address: bigint): number;
  findRegion(set: number, address: bigint): number;
  findGapBelow(set: number, size: bigint, low: bigint, high: bigint): bigint;
  regionAt(set: number, index: number): number;
  clearRegions(set: number): void;
  createAddressSpace(): number;
  destroyAddressSpace(space: number): void;
  addressSpaceRegions(space: number): number;
  copyAddressSpace(parent: number, child: number): number;
  moveRange(space: number, from: bigint, oldLength: bigint, to: bigint, newLength: bigint, keepOld: number): number;
  punchHole(object: number, offset: bigint, length: bigint): number;
  handleUserFault(space: number, address: bigint, access: number): number;
  shouldReuse(state: number, refCount: number): number;
  zeroPage(): number;
  pagemapEntry(space: number, address: bigint, showFrame: number): bigint;
  releaseUserFrame(physical: number, mapped: number): void;
  testObject(id: number): number;
  objectHolders(object: number): number;
  attachObject(region: number, object: number, space: number): void;
  getCachedPage(object: number, index: number): number;
  findCachedPage(object: number, index: number): number;
  reclaimCachePages(): number;
  cachedPageCount(): number;
  installCacheReclaimHook(): void;
  getCacheHits(): bigint;
  getCacheMisses(): bigint;
  walkCachedPages(): number;
  cachedPagesList(): number;
  // system calls from a test process
  newTestProcess(): number;
  destroyTestProcess(process: number): void;
  syscall(process: number, number: bigint, a: bigint, b: bigint, c: bigint, d: bigint, e: bigint, f: bigint): bigint;
  copyDescriptorTable(child: number, parent: number): void;
  closeOnExec(process: number): void;
  // core dumps of a test process
  coreFrameAddress(): number;
  dumpTestCore(process: number, signal: number, code: number, limit: bigint): number;
  // futex wait queues
  processRecord(): number;
  futexEnqueue(process: number, base: number, offset: bigint, bitset: number): void;
  futexDequeue(process: number): number;
  futexWake(base: number, offset: bigint, bitset: number, count: number): number;
  futexRequeue(base: number, offset: bigint, base2: number, offset2: bigint, wakeCount: number, moveCount: number): number;
  futexEnqueueNode(node: number, process: number, base: number, offset: bigint, bitset: number, lockOwner: number): void;
  futexDequeueNode(node: number): number;
  futexTopWaiter(base: number, offset: bigint): number;
  futexFirstLockOwnedBy(pid: number): number;
  futexRequeuePi(base: number, offset: bigint, base2: number, offset2: bigint, count: bigint, lockOwner: number): bigint;
  releasePiLocks(process: number): void;
  __new(size: number, id: number): number;
}

/** What the JS stand-ins for CPU instructions saw, and what they answer. */
export interface Cpu {
  /** The time-stamp counter cpu_rdtsc returns (it advances on each read). */
  tsc: bigint;
  /** What cpu_read_cr3 returns; tests set it to make a page-table root active. */
  cr3: bigint;
  /** Every cpu_invlpg address, in order (as unsigned 64-bit). */
  invlpg: bigint[];
  /** Every page mm_zero_page cleared, in order. */
  zeroedPages: number[];
  /** Every mm_copy_page, in order, as [to, from]. */
  copiedPages: [number, number][];
  /** Every cpu_write_cr3 value, in order (each also becomes cr3: a full TLB flush). */
  cr3Writes: bigint[];
  /** The 512 bytes cpu_fxsave stores: the x87/SSE registers this CPU stands for. */
  fpu: Uint8Array;
  /** The device behind mmio_read32 and mmio_write32, when a test plugs one in. */
  mmio: { read(physical: bigint): number; write(physical: bigint, value: number): void } | null;
}

export interface LoadOptions {
  /** Size of the simulated physical memory in 64 KiB wasm pages (default 256 = 16 MiB). */
  memoryPages?: number;
}

export interface Kernel {
  exports: UnitExports;
  memory: WebAssembly.Memory;
  cpu: Cpu;
  /** Everything written to COM1 so far. */
  serial(): string;
  /** The address of an AssemblyScript string with this text, allocated once per instance. */
  string(text: string): number;
  write(address: number, bytes: Uint8Array): void;
  read(address: number, length: number): Uint8Array;
  /** A view of the whole memory; make a new one after anything may have grown it. */
  view(): DataView;
}

function newestSource(): number {
  const sources = [join(ROOT, "asconfig.json"), join(ROOT, "tests/unit/harness.ts"), join(ROOT, "tests/unit/ram_disk.ts")];
  for (const entry of readdirSync(join(ROOT, "kernel"), { recursive: true, encoding: "utf8" })) {
    if (entry.endsWith(".ts")) sources.push(join(ROOT, "kernel", entry));
  }
  return Math.max(...sources.map((path) => statSync(path).mtimeMs));
}

/** Builds the wasm when missing or stale, so `npx vitest run tests/unit` works without make. */
function ensureBuilt(): void {
  if (existsSync(WASM) && statSync(WASM).mtimeMs >= newestSource()) return;
  // Test files run in parallel workers: build to a private file and rename
  // it into place, so no worker ever reads a half-written module.
  const temporary = join(ROOT, `build/unit/unit.${process.pid}.wasm`);
  execFileSync(
    join(ROOT, "node_modules/.bin/asc"),
    ["tests/unit/harness.ts", "--target", "unit", "--outFile", temporary],
    { cwd: ROOT, stdio: "pipe" },
  );
  renameSync(temporary, WASM);
}

// Built when this file is imported: a build can take longer than vitest's
// hook timeout, and imports have none.
ensureBuilt();
const unitModule = new WebAssembly.Module(readFileSync(WASM));

export function loadKernel(options: LoadOptions = {}): Kernel {
  const memory = new WebAssembly.Memory({ initial: options.memoryPages ?? MEMORY_PAGES });
  let serial = "";
  const cpu: Cpu = {
    tsc: 0n, cr3: 0n, invlpg: [], zeroedPages: [], copiedPages: [], cr3Writes: [],
    fpu: Uint8Array.from({ length: 512 }, (_, i) => (i * 13 + 1) & 0xff), mmio: null,
  };
  const pit = { count: 0, bytesLoaded: 0, loadedAt: 0n };
  const known: Record<string, (...args: never[]) => unknown> = {
    cpu_outb(port: number, value: number) {
      if (port === COM1_DATA) serial += String.fromCharCode(value & 0xff);
      else if (port === PIT_COMMAND) pit.bytesLoaded = 0;
      else if (port === PIT_CHANNEL2) {
        pit.count = pit.bytesLoaded === 0 ? value & 0xff : pit.count | ((value & 0xff) << 8);
        pit.bytesLoaded++;
        pit.loadedAt = cpu.tsc;
      } else if (port !== SPEAKER_PORT) {
        throw new Error(`unexpected cpu_outb(0x${port.toString(16)}, 0x${value.toString(16)})`);
      }
    },
    cpu_inb(port: number) {
      if (port === COM1_LINE_STATUS) return TRANSMIT_EMPTY;
      if (port !== SPEAKER_PORT) throw new Error(`unexpected cpu_inb(0x${port.toString(16)})`);
      cpu.tsc += PORT_READ_TICKS;
      const risesAt = pit.loadedAt + (BigInt(pit.count) * SIMULATED_TSC_HZ) / PIT_HZ;
      return pit.bytesLoaded === 2 && cpu.tsc >= risesAt ? PIT_OUTPUT : 0;
    },
    cpu_read_cr3() {
      return cpu.cr3;
    },
    cpu_write_cr3(value: bigint) {
      cpu.cr3 = BigInt.asUintN(64, value);
      cpu.cr3Writes.push(cpu.cr3);
    },
    cpu_invlpg(virtualAddress: bigint) {
      cpu.invlpg.push(BigInt.asUintN(64, virtualAddress));
    },
    mm_zero_page(page: number) {
      page >>>= 0;
      if (page % PAGE_SIZE !== 0 || page + PAGE_SIZE > memory.buffer.byteLength) {
        throw new Error(`mm_zero_page(0x${page.toString(16)}): not a page of memory`);
      }
      new Uint8Array(memory.buffer, page, PAGE_SIZE).fill(0);
      cpu.zeroedPages.push(page);
    },
    mm_copy_page(to: number, from: number) {
      to >>>= 0;
      from >>>= 0;
      const size = memory.buffer.byteLength;
      if (to % PAGE_SIZE !== 0 || from % PAGE_SIZE !== 0 || to + PAGE_SIZE > size || from + PAGE_SIZE > size) {
        throw new Error(`mm_copy_page(0x${to.toString(16)}, 0x${from.toString(16)}): not pages of memory`);
      }
      new Uint8Array(memory.buffer).copyWithin(to, from, from + PAGE_SIZE);
      cpu.copiedPages.push([to, from]);
    },
    // A processor without RDRAND (or any other feature a leaf reports): the
    // kernel's random numbers then come from its TSC-seeded generator.
    cpu_cpuid(_leaf: number, _subleaf: number, out: number) {
      new Uint8Array(memory.buffer, out >>> 0, 16).fill(0);
    },
    // No device reads this memory by DMA: ordering needs nothing.
    cpu_memory_barrier() {},
    mmio_read32(physical: bigint) {
      if (cpu.mmio == null) throw new Error(`unexpected mmio_read32(0x${physical.toString(16)})`);
      return cpu.mmio.read(physical);
    },
    mmio_write32(physical: bigint, value: number) {
      if (cpu.mmio == null) throw new Error(`unexpected mmio_write32(0x${physical.toString(16)})`);
      cpu.mmio.write(physical, value >>> 0);
    },
    // A clock that ticks once per read: file times only need to move forward.
    cpu_rdtsc() {
      cpu.tsc += 1000n;
      return cpu.tsc;
    },
    cpu_fxsave(area: number) {
      new Uint8Array(memory.buffer, area >>> 0, 512).set(cpu.fpu);
    },
    arch_raise(vector: bigint, code: bigint) {
      throw new Error(`arch_raise(vector ${vector}, code ${code}): the kernel panicked`);
    },
  };
  const env: Record<string, WebAssembly.ImportValue> = {};
  for (const { module, name, kind } of WebAssembly.Module.imports(unitModule)) {
    if (module !== "env") throw new Error(`unexpected import module ${module}.${name}`);
    if (kind === "memory") {
      env[name] = memory;
    } else if (kind === "function") {
      env[name] = known[name] ?? (() => {
        throw new Error(`unexpected import call ${name}`);
      });
    } else {
      throw new Error(`unexpected ${kind} import ${name}`);
    }
  }
  const instance = new WebAssembly.Instance(unitModule, { env });
  const exports = instance.exports as unknown as UnitExports;
  const strings = new Map<string, number>();

  return {
    exports,
    memory,
    cpu,
    serial: () => serial,
    string(text) {
      let address = strings.get(text);
      if (address === undefined) {
        address = exports.__new(text.length * 2, STRING_ID) >>> 0;
        const units = new Uint16Array(memory.buffer, address, text.length);
        for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
        strings.set(text, address);
      }
      return address;
    },
    write(address, bytes) {
      new Uint8Array(memory.buffer).set(bytes, address);
    },
    read(address, length) {
      return new Uint8Array(memory.buffer).slice(address, address + length);
    },
    view: () => new DataView(memory.buffer),
  };
}

/** Bytes as text, one character per byte (the kernel's strings are ASCII). */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("latin1");
}

export function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}
