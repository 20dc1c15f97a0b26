// kernel/boot/cmdline.ts: the kernel command line, words of `key=value` or
// bare `key`, looked up by key with the last word winning.
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, bytesOf, latin1, loadKernel } from "./kernel-wasm";

const LINE = 0x2000; // where the "boot loader" leaves the line
const MAX_LENGTH = 1024;
const MAX_WORDS = 64;
const U64_MAX = 2n ** 64n - 1n;
const FALLBACK = 0xfa11bac4n;

let k: Kernel;
beforeEach(() => {
  k = loadKernel();
});

function parse(line: string | Uint8Array): void {
  const bytes = typeof line === "string" ? bytesOf(line) : line;
  k.write(LINE, bytes);
  k.exports.parseCmdline(LINE, bytes.length);
}

const has = (key: string) => k.exports.cmdlineHas(k.string(key)) !== 0;
const equals = (key: string, value: string) => k.exports.cmdlineEquals(k.string(key), k.string(value)) !== 0;
const count = () => k.exports.cmdlineCount();
const number = (key: string) => BigInt.asUintN(64, k.exports.cmdlineNumber(k.string(key), FALLBACK));

/** The value of `key` as text, null when the key is absent. */
function value(key: string): string | null {
  const length = k.exports.cmdlineValueLength(k.string(key));
  if (length < 0) {
    expect(k.exports.cmdlineValueAddress(k.string(key))).toBe(0);
    return null;
  }
  return latin1(k.read(k.exports.cmdlineValueAddress(k.string(key)) >>> 0, length));
}

describe("command line words", () => {
  it("finds key=value words", () => {
    parse("console=serial exit=qemu");
    expect(count()).toBe(2);
    expect(has("console")).toBe(true);
    expect(has("exit")).toBe(true);
    expect(value("console")).toBe("serial");
    expect(value("exit")).toBe("qemu");
    expect(equals("exit", "qemu")).toBe(true);
    expect(equals("exit", "qem")).toBe(false);
    expect(equals("exit", "qemu2")).toBe(false);
    expect(equals("console", "qemu")).toBe(false);
  });

  it("finds bare keys, whose value is empty", () => {
    parse("quiet selftest");
    expect(count()).toBe(2);
    expect(has("quiet")).toBe(true);
    expect(value("quiet")).toBe("");
    expect(equals("quiet", "")).toBe(true);
    expect(equals("quiet", "1")).toBe(false);
  });

  it("reports absent keys, matching whole keys only", () => {
    parse("consoles=2 log");
    for (const key of ["console", "consoles=2", "con", "lo", "logs", "", "LOG"]) {
      expect(has(key), key).toBe(false);
      expect(value(key), key).toBeNull();
      expect(equals(key, ""), key).toBe(false);
      expect(number(key), key).toBe(FALLBACK);
    }
  });

  it("lets the last of repeated keys win", () => {
    parse("level=1 level=2 other level=3");
    expect(count()).toBe(4);
    expect(value("level")).toBe("3");
    expect(number("level")).toBe(3n);
    parse("debug=yes debug");
    expect(value("debug")).toBe("");
    parse("debug debug=no");
    expect(value("debug")).toBe("no");
  });

  it("splits on runs of spaces, tabs and line ends", () => {
    parse("  \t a=1\t\tb=2  \r\n c \n");
    expect(count()).toBe(3);
    expect(value("a")).toBe("1");
    expect(value("b")).toBe("2");
    expect(value("c")).toBe("");
  });

  it("has no words in an empty or blank line", () => {
    parse("");
    expect(count()).toBe(0);
    expect(has("")).toBe(false);
    parse(" \t\r\n ");
    expect(count()).toBe(0);
  });

  it("splits a word at its first '=' only", () => {
    parse("root=UUID=12ab= empty= =orphan");
    expect(value("root")).toBe("UUID=12ab=");
    expect(has("empty")).toBe(true);
    expect(value("empty")).toBe("");
    expect(value("")).toBe("orphan");
  });

  it("keeps its own copy, so the boot loader's memory may be reused", () => {
    parse("exit=qemu");
    k.write(LINE, new Uint8Array(16).fill(0x58));
    expect(value("exit")).toBe("qemu");
  });

  it("forgets the previous line when parsing a new one", () => {
    parse("a=1 b=2");
    parse("c=3");
    expect(count()).toBe(1);
    expect(has("a")).toBe(false);
    expect(value("c")).toBe("3");
  });
});

describe("command line numbers", () => {
  it("reads decimal numbers", () => {
    parse("zero=0 small=42 padded=007 max=18446744073709551615");
    expect(number("zero")).toBe(0n);
    expect(number("small")).toBe(42n);
    expect(number("padded")).toBe(7n);
    expect(number("max")).toBe(U64_MAX);
  });

  it("reads 0x hexadecimal numbers in either case", () => {
    parse("a=0x1F b=0XfF c=0x0 d=0xffffffffffffffff e=0xDeadBeef");
    expect(number("a")).toBe(31n);
    expect(number("b")).toBe(255n);
    expect(number("c")).toBe(0n);
    expect(number("d")).toBe(U64_MAX);
    expect(number("e")).toBe(0xdeadbeefn);
  });

  it("returns the fallback for malformed numbers and bare keys", () => {
    const malformed = ["", "0x", "0X", "x10", "12a", "ff", "-1", "+1", "1.5", "0xg", "0x1g", " 1", "1_000"];
    parse(malformed.map((text, i) => `n${i}=${text}`).join(" ") + " bare");
    malformed.forEach((text, i) => expect(number(`n${i}`), JSON.stringify(text)).toBe(FALLBACK));
    expect(number("bare")).toBe(FALLBACK);
  });

  it("accepts leading zeros beyond 64 bits of digits", () => {
    parse("dec=000000000000000000000000042 hex=0x00000000000000000000001");
    expect(number("dec")).toBe(42n);
    expect(number("hex")).toBe(1n);
  });

  it("returns the fallback for numbers that do not fit in 64 bits", () => {
    parse("dec=18446744073709551616 hex=0x10000000000000000");
    expect(number("dec")).toBe(FALLBACK);
    expect(number("hex")).toBe(FALLBACK);
  });
});

describe("command line limits", () => {
  it("keeps only the first 1024 bytes", () => {
    const head = "first=1 ";
    const filler = "x".repeat(MAX_LENGTH - head.length - "cut=".length - 3);
    const line = `${head}${filler} cut=12345 late=1`;
    expect(line.length).toBeGreaterThan(MAX_LENGTH);
    parse(line);
    expect(count()).toBe(3);
    expect(has("first")).toBe(true);
    expect(value("cut")).toBe("12");
    expect(has("late")).toBe(false);
  });

  it("takes a word ending exactly at byte 1024 whole", () => {
    const word = `k=${"v".repeat(MAX_LENGTH - 2)}`;
    parse(`${word} next=1`);
    expect(count()).toBe(1);
    expect(value("k")).toBe("v".repeat(MAX_LENGTH - 2));
  });

  it("keeps only the first 64 words", () => {
    parse(Array.from({ length: 70 }, (_, i) => `w${i}=${i}`).join(" "));
    expect(count()).toBe(MAX_WORDS);
    expect(number("w0")).toBe(0n);
    expect(number("w63")).toBe(63n);
    expect(has("w64")).toBe(false);
    expect(has("w69")).toBe(false);
  });

  it("agrees with a model of itself on random lines (property)", () => {
    const name = fc.stringMatching(/^[a-c]{1,3}$/);
    const word = fc.record({ key: name, value: fc.option(fc.stringMatching(/^[a-c0-9=]{0,4}$/)) });
    const space = fc.stringMatching(/^[ \t\r\n]{1,3}$/);
    // At most 80 words of 11 bytes: always under the length limit.
    fc.assert(
      fc.property(fc.array(fc.tuple(space, word), { maxLength: 80 }), (items) => {
        parse(items.map(([gap, w]) => gap + w.key + (w.value === null ? "" : `=${w.value}`)).join(""));
        const kept = items.slice(0, MAX_WORDS).map(([, w]) => w);
        expect(count()).toBe(kept.length);
        const last = new Map(kept.map((w) => [w.key, w.value ?? ""]));
        for (const key of ["a", "b", "c", "ab", "ba", "abc", "cc"]) {
          expect(value(key), key).toBe(last.get(key) ?? null);
        }
      }),
    );
  });
});
