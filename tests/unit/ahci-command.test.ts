// kernel/block/ahci_command.ts: the command header and command table a
// port's DMA engine reads (AHCI 1.3.1, 4.2.2 and 4.2.3): the register FIS
// with its 48-bit LBA and count (65536 written as 0), the PRDT split into
// entries of at most 4 MiB with only the last asking for an interrupt,
// the write bit, a flush with no data, and the limits it asserts.
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";

const AREA = 0x800000; // a port's 16 KiB block, above the kernel's data
const TABLES = 0x1000;
const TABLE_SIZE = 256;
const PRDT = 0x80;
const MIB = 1 << 20;
const READ_DMA_EXT = 0x25;
const WRITE_DMA_EXT = 0x35;
const FLUSH_CACHE_EXT = 0xea;
const INTERRUPT = 2 ** 31; // a PRD's interrupt-on-completion bit, added: JS bit operations are signed

let k: Kernel;
beforeEach(() => {
  k = loadKernel();
});

function build(slot: number, command: number, sector: bigint, count: number, buffer: number, bytes: number, write: boolean): void {
  k.exports.ahciBuildCommand(AREA, slot, command, sector, count, buffer, bytes, write ? 1 : 0);
}

function header(slot: number): { flags: number; moved: number; table: bigint } {
  const view = k.view();
  const at = AREA + slot * 32;
  return { flags: view.getUint32(at, true), moved: view.getUint32(at + 4, true), table: view.getBigUint64(at + 8, true) };
}

function fis(slot: number): number[] {
  return [...new Uint8Array(k.view().buffer, AREA + TABLES + slot * TABLE_SIZE, 16)];
}

function prd(slot: number, index: number): { address: bigint; count: number } {
  const view = k.view();
  const at = AREA + TABLES + slot * TABLE_SIZE + PRDT + index * 16;
  return { address: view.getBigUint64(at, true), count: view.getUint32(at + 12, true) };
}

describe("buildCommand", () => {
  it("writes a READ DMA EXT: header, FIS with the 48-bit LBA, one PRD with the interrupt bit", () => {
    k.view().setUint32(AREA + 3 * 32 + 4, 1234, true); // a byte count left from the slot's last command
    build(3, READ_DMA_EXT, 0x123456789abn, 8, 0x10000, 4096, false);
    expect(header(3)).toEqual({ flags: 5 | (1 << 16), moved: 0, table: BigInt(AREA + TABLES + 3 * TABLE_SIZE) });
    expect(fis(3)).toEqual([0x27, 0x80, READ_DMA_EXT, 0, 0xab, 0x89, 0x67, 0x40, 0x45, 0x23, 0x01, 0, 8, 0, 0, 0]);
    expect(prd(3, 0)).toEqual({ address: 0x10000n, count: 4096 - 1 + INTERRUPT });
  });

  it("splits a 10 MiB write into PRDs of 4, 4 and 2 MiB, only the last interrupting, and sets the write bit", () => {
    build(0, WRITE_DMA_EXT, 2048n, 20480, 0x400000, 10 * MIB, true);
    expect(header(0).flags).toBe(5 | (1 << 6) | (3 << 16));
    expect(fis(0).slice(12, 14)).toEqual([0x00, 0x50]); // 20480 sectors
    expect(prd(0, 0)).toEqual({ address: 0x400000n, count: 4 * MIB - 1 });
    expect(prd(0, 1)).toEqual({ address: 0x800000n, count: 4 * MIB - 1 });
    expect(prd(0, 2)).toEqual({ address: 0xc00000n, count: 2 * MIB - 1 + INTERRUPT });
  });

  it("writes 65536 sectors as a count of 0, in eight full PRDs", () => {
    build(31, READ_DMA_EXT, 0n, 65536, 0x1000000, 32 * MIB, false);
    expect(header(31).flags >>> 16).toBe(8);
    expect(fis(31).slice(12, 14)).toEqual([0, 0]);
    for (let i = 0; i < 7; i++) expect(prd(31, i).count).toBe(4 * MIB - 1);
    expect(prd(31, 7).count).toBe(4 * MIB - 1 + INTERRUPT);
  });

  it("writes a FLUSH CACHE EXT with no PRDT, over whatever the slot held before", () => {
    build(5, WRITE_DMA_EXT, 0xffffffffffffn, 65535, 0x2000, 65535 * 512, true);
    build(5, FLUSH_CACHE_EXT, 0n, 0, 0, 0, false);
    expect(header(5).flags).toBe(5);
    expect(fis(5)).toEqual([0x27, 0x80, FLUSH_CACHE_EXT, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("refuses more than 65536 sectors and odd addresses or lengths", () => {
    expect(() => build(0, READ_DMA_EXT, 0n, 65537, 0x1000000, 65537 * 512, false)).toThrow(/panicked/);
    expect(() => build(0, READ_DMA_EXT, 0n, 1, 0x10001, 512, false)).toThrow(/panicked/);
  });
});
