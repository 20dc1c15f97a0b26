// kernel/drivers/acpi.ts: sleepTypesIn, which finds the S5 (soft off)
// sleep types in a DSDT's AML: every integer encoding AML allows for them,
// the two PkgLength forms, a root-prefixed name, a one-value package, and
// "_S5_" bytes that are not the object's definition. Each DSDT is placed
// flush against the end of the simulated RAM, so a read past it traps.
import { beforeAll, describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";

const HEADER = 36;
const S5 = [0x5f, 0x53, 0x35, 0x5f]; // "_S5_"
const NAME = 0x08;
const ROOT = 0x5c;
const PACKAGE = 0x12;

let k: Kernel;
beforeAll(() => {
  k = loadKernel();
});

/** A DSDT holding `aml` after its header; returns the kernel's answer (-1, or a | b << 8). */
function sleepTypes(aml: number[]): number {
  const length = HEADER + aml.length;
  const view = k.view();
  const at = view.byteLength - length;
  for (let i = 0; i < HEADER; i++) view.setUint8(at + i, 0);
  [0x44, 0x53, 0x44, 0x54].forEach((b, i) => view.setUint8(at + i, b)); // "DSDT"
  view.setUint32(at + 4, length, true);
  aml.forEach((b, i) => view.setUint8(at + HEADER + i, b));
  return k.exports.sleepTypesIn(at);
}

/** Name(_S5_, Package(n) {...}) with a one-byte PkgLength. */
const s5 = (elements: number[][], root = false) => {
  const body = [elements.length, ...elements.flat()];
  return [NAME, ...(root ? [ROOT] : []), ...S5, PACKAGE, body.length + 1, ...body];
};

describe("sleepTypesIn", () => {
  it("reads ZeroOp, OneOp and the Byte, Word and DWord prefixes", () => {
    expect(sleepTypes(s5([[0x00], [0x00], [0x00], [0x00]]))).toBe(0);
    expect(sleepTypes(s5([[0x01], [0x0a, 0x05]]))).toBe(1 | (5 << 8));
    expect(sleepTypes(s5([[0x0b, 0x07, 0x00], [0x0c, 0x06, 0x00, 0x00, 0x00]]))).toBe(7 | (6 << 8));
  });

  it("takes SLP_TYPb as 0 when the package holds one value, and keeps 3 bits of each", () => {
    expect(sleepTypes(s5([[0x0a, 0x05]]))).toBe(5);
    expect(sleepTypes(s5([[0x0a, 0x0d], [0x0a, 0x0f]]))).toBe(5 | (7 << 8));
  });

  it("finds a root-prefixed name and skips a two-byte PkgLength", () => {
    expect(sleepTypes(s5([[0x0a, 0x03], [0x0a, 0x04]], true))).toBe(3 | (4 << 8));
    const body = [2, 0x0a, 0x03, 0x0a, 0x04];
    expect(sleepTypes([NAME, ...S5, PACKAGE, 0x40 | ((body.length + 2) & 0x0f), (body.length + 2) >> 4, ...body])).toBe(3 | (4 << 8));
  });

  it("passes over \"_S5_\" that is not a Name definition and finds the one that is", () => {
    const reference = [0x70, ...S5, 0x60]; // Store(_S5_, Local0): a use, not a definition
    expect(sleepTypes([...reference, ...s5([[0x0a, 0x02], [0x0a, 0x02]])])).toBe(2 | (2 << 8));
  });

  it("gives -1 without \\_S5, with an empty package, or with a value that is not an integer", () => {
    expect(sleepTypes([0x10, 0x05, 0x5f, 0x53, 0x42, 0x5f, 0x00])).toBe(-1);
    expect(sleepTypes([...s5([]), 0x0a, 0x05])).toBe(-1); // NumElements 0, whatever follows
    expect(sleepTypes(s5([[0x0d, 0x41, 0x00]]))).toBe(-1); // a string
  });

  it("reads nothing past the table when it ends inside the package", () => {
    const whole = s5([[0x0c, 0x05, 0x00, 0x00, 0x00], [0x0c, 0x06, 0x00, 0x00, 0x00]]);
    for (let cut = 1; cut < 10; cut++) {
      const result = sleepTypes(whole.slice(0, whole.length - cut));
      expect(cut <= 5 ? result === 5 : result === -1, `cut ${cut}: ${result}`).toBe(true);
    }
  });
});
