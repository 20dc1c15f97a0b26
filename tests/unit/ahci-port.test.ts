// kernel/block/ahci_port.ts against a fake AHCI port: JS registers behind
// mmio_read32/mmio_write32 that run the commands the driver writes (their
// headers, FISes and PRDTs read from simulated RAM) one at a time, when the
// test says. It checks IDENTIFY, several reads in flight, writes reaching
// the disk, and the error path under both kinds of HBA: one that halts at
// a task-file error with the failed slot still in PxCI (the specification)
// and one that clears it and goes on (QEMU): either way the failed request
// alone gets EIO, the others succeed, and requests that arrive meanwhile
// wait until the suspects have run.
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { MIB, bootMemory, pcMemoryMap } from "./mm";

const PORT = 0xfebf1100n; // port 0's registers, as an HBA at 0xfebf1000 has them
const SECTORS = 4096;
const BAD = 1000; // the sector that fails
const READ = 0;
const WRITE = 1;
const EIO = -5;

const REG = { CLB: 0x00, FB: 0x08, IS: 0x10, IE: 0x14, CMD: 0x18, TFD: 0x20, SIG: 0x24, SSTS: 0x28, SERR: 0x30, CI: 0x38 };
const CMD_ST = 1 << 0, CMD_FRE = 1 << 4, CMD_FR = 1 << 14, CMD_CR = 1 << 15;
const IS_DHRS = 1 << 0, IS_TFES = 1 << 30;

/** The disk's byte at offset i of sector s before anything is written. */
const pattern = (s: number, i: number) => (s * 7 + i) & 0xff;

class FakePort {
  cmd = 0;
  ci = 0;
  is = 0;
  ie = 0;
  tfd = 0x50;
  serr = 0;
  clb = 0;
  /** Sectors written, by number. */
  written = new Map<number, Uint8Array>();
  /** Run each command as soon as PxCI is read (IDENTIFY is polled). */
  runOnRead = false;
  halted = false;

  constructor(private k: Kernel, private haltsOnError: boolean) {}

  read(at: bigint): number {
    switch (Number(at - PORT)) {
      case REG.CMD: return this.cmd;
      case REG.CI:
        if (this.runOnRead) while (this.step()) {}
        return this.ci;
      case REG.IS: return this.is;
      case REG.IE: return this.ie;
      case REG.TFD: return this.tfd;
      case REG.SIG: return 0x101;
      case REG.SSTS: return 0x123;
      case REG.SERR: return this.serr;
      default: return 0;
    }
  }

  write(at: bigint, value: number): void {
    switch (Number(at - PORT)) {
      case REG.CLB: this.clb = value; break;
      case REG.CMD:
        this.cmd = value & ~(CMD_CR | CMD_FR);
        if (value & CMD_ST) this.cmd |= CMD_CR;
        else { this.ci = 0; this.halted = false; } // stopping clears PxCI and the halt
        if (value & CMD_FRE) this.cmd |= CMD_FR;
        break;
      case REG.CI: if (this.cmd & CMD_ST) this.ci |= value; break;
      case REG.IS: this.is &= ~value; break;
      case REG.IE: this.ie = value; break;
      case REG.SERR: this.serr &= ~value; break;
    }
  }

  /** Runs the lowest issued slot's command; false when there is none or the port is halted. */
  step(): boolean {
    if (this.ci === 0 || this.halted) return false;
    const slot = 31 - Math.clz32(this.ci & -this.ci);
    const view = this.k.view();
    const header = this.clb + slot * 32;
    const entries = view.getUint32(header, true) >>> 16;
    const table = Number(view.getBigUint64(header + 8, true));
    const command = view.getUint8(table + 2);
    let sector = 0;
    [4, 5, 6, 8, 9, 10].forEach((at, i) => (sector += view.getUint8(table + at) * 2 ** (8 * i)));
    const count = view.getUint16(table + 12, true) || 65536;
    const buffers: [number, number][] = [];
    for (let e = 0; e < entries; e++) {
      const prd = table + 0x80 + e * 16;
      buffers.push([Number(view.getBigUint64(prd, true)), (view.getUint32(prd + 12, true) & 0x3fffff) + 1]);
    }
    const bytes = new Uint8Array(buffers.reduce((n, [, length]) => n + length, 0));
    let failed = false;
    if (command === 0xec) {
      const words = new DataView(bytes.buffer);
      words.setUint16(83 * 2, 1 << 10, true);
      words.setBigUint64(100 * 2, BigInt(SECTORS), true);
    } else if (command === 0x25 || command === 0x35) {
      failed = sector <= BAD && BAD < sector + count;
      if (command === 0x35) this.gather(bytes, buffers);
      for (let s = 0; s < count && !failed; s++) {
        const at = bytes.subarray(s * 512, (s + 1) * 512);
        if (command === 0x35) this.written.set(sector + s, at.slice());
        else at.set(this.written.get(sector + s) ?? at.map((_, i) => pattern(sector + s, i)));
      }
    }
    if (!failed && command !== 0x35) this.scatter(bytes, buffers);
    this.tfd = failed ? 0x41 | (0x04 << 8) : 0x50;
    this.is |= IS_DHRS | (failed ? IS_TFES : 0);
    if (failed && this.haltsOnError) this.halted = true; // the failed slot stays in PxCI
    else this.ci &= ~(1 << slot);
    return true;
  }

  private gather(bytes: Uint8Array, buffers: [number, number][]): void {
    let at = 0;
    for (const [address, length] of buffers) bytes.set(this.k.read(address, length), (at += length) - length);
  }

  private scatter(bytes: Uint8Array, buffers: [number, number][]): void {
    let at = 0;
    for (const [address, length] of buffers) this.k.write(address, bytes.subarray(at, (at += length)));
  }
}

let k: Kernel;
let hba: FakePort;
let port: number;
let disk: number;

function setUp(haltsOnError: boolean): void {
  k = loadKernel({ memoryPages: 512 });
  expect(bootMemory(k, pcMemoryMap(32 * MIB))).toBe(true);
  k.exports.resetSlab();
  hba = new FakePort(k, haltsOnError);
  k.cpu.mmio = hba;
  port = k.exports.ahciStartPort(PORT, 32) >>> 0;
  expect(port).not.toBe(0);
  hba.runOnRead = true;
  expect(k.exports.ahciIdentify(port)).toBe(BigInt(SECTORS));
  hba.runOnRead = false;
  disk = k.exports.ahciNewDisk(port, BigInt(SECTORS)) >>> 0;
}

const log = () => k.serial().replace(/\r\n/g, "\n");
const status = (request: number) => k.view().getInt32(request + 28, true);
const buffer = (n: number) => 0x1000000 + n * 0x10000; // 64 KiB apiece, at 16 MiB
const holdsPattern = (at: number, sector: number, count: number) =>
  k.read(at, count * 512).every((byte, i) => byte === pattern(sector + (i >> 9), i & 511));

/** Runs the port until nothing is left, servicing it as its interrupt would after each command. */
function runToEnd(): void {
  for (let guard = 0; guard < 100 && (hba.step() || hba.is !== 0); guard++) k.exports.ahciService(port);
}

describe.each([
  ["halts at an error (the specification)", true],
  ["goes on after an error (QEMU)", false],
])("an AHCI port whose HBA %s", (_, haltsOnError) => {
  beforeEach(() => setUp(haltsOnError));

  it("runs several reads at once, each completed with its data", () => {
    const requests = [0, 1, 2].map((n) => k.exports.ahciSubmit(disk, READ, BigInt(100 * n), 16, buffer(n)) >>> 0);
    expect(hba.ci).toBe(0b111);
    runToEnd();
    expect(requests.map(status)).toEqual([0, 0, 0]);
    [0, 1, 2].forEach((n) => expect(holdsPattern(buffer(n), 100 * n, 16)).toBe(true));
  });

  it("writes reach the disk", () => {
    k.write(buffer(0), new Uint8Array(1024).fill(0xa5));
    const request = k.exports.ahciSubmit(disk, WRITE, 42n, 2, buffer(0)) >>> 0;
    runToEnd();
    expect(status(request)).toBe(0);
    expect([...hba.written.keys()]).toEqual([42, 43]);
    expect(hba.written.get(43)!.every((byte) => byte === 0xa5)).toBe(true);
  });

  it("fails only the request with the bad sector; the others, and one that came meanwhile, succeed", () => {
    const sectors = [0, BAD - 4, 2000];
    const requests = sectors.map((sector, n) => k.exports.ahciSubmit(disk, READ, BigInt(sector), 8, buffer(n)) >>> 0);
    hba.step(); // the first completes
    hba.step(); // the second fails
    k.exports.ahciService(port);
    expect(log()).toContain("ahci: sda: error with 3 commands in flight; running them again one at a time\n");
    expect(hba.ci).toBe(0b001); // the suspects run one at a time
    const late = k.exports.ahciSubmit(disk, READ, 3000n, 8, buffer(3)) >>> 0;
    expect(hba.ci).toBe(0b001); // held back while suspects run
    runToEnd();
    expect(requests.map(status)).toEqual([0, EIO, 0]);
    expect(status(late)).toBe(0);
    expect(holdsPattern(buffer(0), 0, 8) && holdsPattern(buffer(2), 2000, 8) && holdsPattern(buffer(3), 3000, 8)).toBe(true);
    expect(log()).toContain(`ahci: sda: error reading sector ${BAD - 4} (8 sectors): status 41, error 4, interrupt status 40000001\n`);
    expect(log().match(/error reading/g)).toHaveLength(1);
    const after = k.exports.ahciSubmit(disk, READ, 8n, 8, buffer(4)) >>> 0;
    runToEnd();
    expect(status(after)).toBe(0);
  });

  it("fails a lone request at once, and the port takes the next", () => {
    const bad = k.exports.ahciSubmit(disk, READ, BigInt(BAD), 1, buffer(0)) >>> 0;
    runToEnd();
    expect(status(bad)).toBe(EIO);
    expect(log()).not.toContain("in flight");
    const good = k.exports.ahciSubmit(disk, READ, 0n, 1, buffer(1)) >>> 0;
    expect(hba.ci).toBe(1); // in the slot the failed one left
    runToEnd();
    expect(status(good)).toBe(0);
  });
});

it("a request waits for a free slot when all 32 are taken", () => {
  setUp(false);
  const requests = Array.from({ length: 32 }, (_, n) => k.exports.ahciSubmit(disk, READ, BigInt(n), 1, buffer(0) + n * 512) >>> 0);
  expect(requests.every((r) => r !== 0)).toBe(true);
  expect(k.exports.ahciSubmit(disk, READ, 40n, 1, buffer(1))).toBe(0);
  runToEnd();
  expect(requests.map(status).every((s) => s === 0)).toBe(true);
});
