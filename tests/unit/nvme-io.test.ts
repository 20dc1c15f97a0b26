// kernel/block/nvme_io.ts and nvme_queue.ts against a fake NVMe controller:
// JS doorbells behind mmio_write32 and a controller that, when the test
// says, runs the commands on the submission ring (their PRP1, PRP2 and PRP
// lists read from simulated RAM) and posts completions with the phase bit
// of the lap. It checks each PRP form, a request split into commands of
// MDTS, writes and flushes, an error failing its request alone with a log
// line, 4 KiB blocks, 32 requests in flight with the 33rd refused, the
// completion ring coming round with its phase flipped, and the names
// nvme0n1p1 and nvme12n1p15.
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { MIB, bootMemory, pcMemoryMap } from "./mm";

const REGISTERS = 0xfebf0000n;
const SQ_DOORBELL = REGISTERS + 0x1008n; // queue 1's, 4-byte stride
const CQ_DOORBELL = REGISTERS + 0x100cn;
const ENTRIES = 64;
const PAGE = 4096;
const SECTOR = 512;
const BAD = 1000; // the sector that fails
const MEDIA_ERROR = 0x281; // status code type 2 (media), code 0x81 (unrecovered read error)
const READ = 0;
const WRITE = 1;
const FLUSH = 2;
const EIO = -5;

/** The disk's byte at offset i of sector s before anything is written. */
const pattern = (s: number, i: number) => (s * 7 + i) & 0xff;

interface Command {
  opcode: number;
  id: number;
  namespace: number;
  block: number;
  blocks: number;
  prp1: number;
  prp2: number;
  /** The buffers the PRPs describe, [address, bytes]. */
  pieces: [number, number][];
}

class FakeController {
  sqTail = 0;
  sqHead = 0;
  cqTail = 0;
  cqHead = 0;
  phase = 1;
  commands: Command[] = [];
  /** Sectors written, by number. */
  written = new Map<number, Uint8Array>();

  constructor(private k: Kernel, private blockBytes: number, private sq: number, private cq: number) {}

  read(at: bigint): number {
    throw new Error(`unexpected read of 0x${at.toString(16)}`);
  }

  write(at: bigint, value: number): void {
    if (at === SQ_DOORBELL) this.sqTail = value;
    else if (at === CQ_DOORBELL) this.cqHead = value;
    else throw new Error(`unexpected write of 0x${at.toString(16)}`);
  }

  /** Runs every command submitted so far, posting a completion for each; how many ran. */
  run(): number {
    let ran = 0;
    for (; this.sqHead !== this.sqTail; ran++) {
      const command = this.decode(this.sq + this.sqHead * 64);
      this.sqHead = (this.sqHead + 1) % ENTRIES;
      this.commands.push(command);
      this.complete(command.id, this.execute(command));
    }
    return ran;
  }

  private decode(at: number): Command {
    const view = this.k.view();
    const word = view.getUint32(at, true);
    const command: Command = {
      opcode: word & 0xff, id: word >>> 16, namespace: view.getUint32(at + 4, true),
      block: Number(view.getBigUint64(at + 40, true)), blocks: (view.getUint32(at + 48, true) & 0xffff) + 1,
      prp1: Number(view.getBigUint64(at + 24, true)), prp2: Number(view.getBigUint64(at + 32, true)), pieces: [],
    };
    if (command.opcode === 0) return command;
    let left = command.blocks * this.blockBytes;
    const first = Math.min(left, PAGE - (command.prp1 % PAGE));
    command.pieces.push([command.prp1, first]);
    left -= first;
    if (left > 0 && left <= PAGE) command.pieces.push([command.prp2, left]);
    else if (left > PAGE) {
      for (let entry = command.prp2; left > 0; entry += 8, left -= Math.min(left, PAGE)) {
        command.pieces.push([Number(view.getBigUint64(entry, true)), Math.min(left, PAGE)]);
      }
    }
    return command;
  }

  /** The command's status: reads fill its buffers, writes store theirs. */
  private execute(command: Command): number {
    if (command.opcode === 0) return 0;
    const perBlock = this.blockBytes / SECTOR;
    const sector = command.block * perBlock;
    const sectors = command.blocks * perBlock;
    if (command.opcode === 2 && sector <= BAD && BAD < sector + sectors) return MEDIA_ERROR;
    const bytes = new Uint8Array(sectors * SECTOR);
    let at = 0;
    if (command.opcode === 1) {
      for (const [address, length] of command.pieces) bytes.set(this.k.read(address, length), (at += length) - length);
      for (let s = 0; s < sectors; s++) this.written.set(sector + s, bytes.slice(s * SECTOR, (s + 1) * SECTOR));
      return 0;
    }
    for (let s = 0; s < sectors; s++) {
      const into = bytes.subarray(s * SECTOR, (s + 1) * SECTOR);
      into.set(this.written.get(sector + s) ?? into.map((_, i) => pattern(sector + s, i)));
    }
    for (const [address, length] of command.pieces) this.k.write(address, bytes.subarray(at, (at += length)));
    return 0;
  }

  private complete(id: number, status: number): void {
    const view = this.k.view();
    const at = this.cq + this.cqTail * 16;
    view.setUint32(at, 0, true);
    view.setUint32(at + 8, this.sqHead, true);
    view.setUint32(at + 12, (id | (this.phase << 16) | (status << 17)) >>> 0, true);
    this.cqTail = (this.cqTail + 1) % ENTRIES;
    if (this.cqTail === 0) this.phase ^= 1;
  }
}

let k: Kernel;
let controller: FakeController;
let disk: number;

function setUp(lbaShift = 0, maxSectors = 512): void {
  k = loadKernel({ memoryPages: 512 });
  expect(bootMemory(k, pcMemoryMap(32 * MIB))).toBe(true);
  k.exports.resetSlab();
  const writes: [bigint, number][] = [];
  k.cpu.mmio = { read: () => 0, write: (at, value) => writes.push([at, value]) };
  disk = k.exports.nvmeNewDisk(REGISTERS, lbaShift, maxSectors) >>> 0;
  const view = k.view();
  const queue = view.getUint32(view.getUint32(disk + 8, true), true); // device.driver's io
  controller = new FakeController(k, SECTOR << lbaShift, view.getUint32(queue, true), view.getUint32(queue + 4, true));
  k.cpu.mmio = controller;
  expect(writes).toEqual([]);
}

const log = () => k.serial().replace(/\r\n/g, "\n");
const status = (request: number) => k.view().getInt32(request + 28, true);
const buffer = (n: number) => 0x1000000 + n * 0x40000; // 256 KiB apiece, at 16 MiB
const holdsPattern = (at: number, sector: number, count: number) =>
  k.read(at, count * SECTOR).every((byte, i) => byte === pattern(sector + (i >> 9), i & 511));
const submit = (operation: number, sector: number, count: number, at: number) =>
  k.exports.nvmeSubmit(disk, operation, BigInt(sector), count, at) >>> 0;

/** Runs the controller and reaps, as its interrupt would, until nothing is left. */
function runToEnd(): void {
  for (let guard = 0; guard < 1000 && controller.run() > 0; guard++) k.exports.nvmeReap(disk);
}

describe("NVMe requests", () => {
  beforeEach(() => setUp());

  it("describes a buffer in PRP1 alone, PRP1 and PRP2, or PRP1 and a PRP list, and reads into it", () => {
    const one = submit(READ, 10, 8, buffer(0)); // a page
    const two = submit(READ, 20, 8, buffer(1) + 1024); // across two pages
    const list = submit(READ, 30, 256, buffer(2) + 512); // 128 KiB from an odd offset: 33 pages
    runToEnd();
    expect([one, two, list].map(status)).toEqual([0, 0, 0]);
    const [a, b, c] = controller.commands;
    expect(a.prp2).toBe(0);
    expect(b.prp2).toBe(buffer(1) + PAGE);
    expect(c.pieces).toHaveLength(33);
    expect(c.pieces.slice(1).every(([address, length], i) => address === buffer(2) + (i + 1) * PAGE && length <= PAGE)).toBe(true);
    expect(controller.commands.map((command) => [command.opcode, command.namespace, command.block, command.blocks]))
      .toEqual([[2, 1, 10, 8], [2, 1, 20, 8], [2, 1, 30, 256]]);
    expect(holdsPattern(buffer(0), 10, 8) && holdsPattern(buffer(1) + 1024, 20, 8) && holdsPattern(buffer(2) + 512, 30, 256)).toBe(true);
  });

  it("writes reach the disk; a flush is FLUSH on the namespace, with no data", () => {
    k.write(buffer(0), new Uint8Array(1024).fill(0xa5));
    const write = submit(WRITE, 42, 2, buffer(0));
    const flush = submit(FLUSH, 0, 0, 0);
    runToEnd();
    expect([write, flush].map(status)).toEqual([0, 0]);
    expect([...controller.written.keys()]).toEqual([42, 43]);
    expect(controller.written.get(43)!.every((byte) => byte === 0xa5)).toBe(true);
    expect(controller.commands[1]).toMatchObject({ opcode: 0, namespace: 1, prp1: 0 });
  });

  it("fails only the request whose sector fails, logging the disk, sector and status", () => {
    const requests = [0, BAD - 4, 2000].map((sector, n) => submit(READ, sector, 8, buffer(n)));
    runToEnd();
    expect(requests.map(status)).toEqual([0, EIO, 0]);
    expect(log()).toContain(`nvme: nvme0n1: error reading sector ${BAD - 4} (8 sectors): status 281\n`);
    const after = submit(READ, 8, 8, buffer(3));
    runToEnd();
    expect(status(after)).toBe(0);
  });

  it("takes 32 requests at once and refuses the 33rd; the completion ring comes round with its phase flipped", () => {
    for (let round = 0; round < 3; round++) {
      const requests = Array.from({ length: 32 }, (_, n) => submit(READ, round * 100 + n, 1, buffer(0) + n * SECTOR));
      expect(requests.every((r) => r !== 0)).toBe(true);
      expect(submit(READ, 40, 1, buffer(1))).toBe(0);
      runToEnd();
      expect(requests.map(status).every((s) => s === 0)).toBe(true);
      expect(holdsPattern(buffer(0), round * 100, 1) && holdsPattern(buffer(0) + 31 * SECTOR, round * 100 + 31, 1)).toBe(true);
    }
    expect(controller.cqHead).toBe((3 * 32) % ENTRIES); // the driver gave every completion back
  });
});

it("runs a request longer than a command may move as several, one after the other", () => {
  setUp(0, 16);
  const request = submit(READ, 100, 40, buffer(0));
  expect(controller.run()).toBe(1);
  k.exports.nvmeReap(disk);
  expect(status(request)).toBe(1); // still in flight: the next part went out
  runToEnd();
  expect(status(request)).toBe(0);
  expect(controller.commands.map((command) => [command.block, command.blocks, command.prp1]))
    .toEqual([[100, 16, buffer(0)], [116, 16, buffer(0) + 16 * SECTOR], [132, 8, buffer(0) + 32 * SECTOR]]);
  expect(holdsPattern(buffer(0), 100, 40)).toBe(true);
});

it("addresses a disk of 4 KiB blocks in blocks", () => {
  setUp(3);
  const request = submit(READ, 16, 16, buffer(0));
  runToEnd();
  expect(status(request)).toBe(0);
  expect(controller.commands[0]).toMatchObject({ block: 2, blocks: 2 });
  expect(holdsPattern(buffer(0), 16, 16)).toBe(true);
});

it("names NVMe disks and partitions as Linux does: nvme0n1p1, nvme12n1p15", () => {
  setUp();
  const name = (record: number) => Buffer.from(k.read(record + 40, 16)).toString("latin1").replace(/\0+$/, "");
  expect(name(k.exports.nvmeNamePartition(0, 1) >>> 0)).toBe("nvme0n1p1");
  expect(name(k.exports.nvmeNamePartition(12, 15) >>> 0)).toBe("nvme12n1p15");
});
