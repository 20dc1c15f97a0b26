// kernel/lib/format.ts: formatInto, the printf behind every console line,
// and console printf, which sends its output to COM1.
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { type Kernel, latin1, loadKernel } from "./kernel-wasm";

const U64_MAX = 2n ** 64n - 1n;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const KIB = 1024n;
const MIB = 1024n * KIB;
const GIB = 1024n * MIB;

/** A directive argument: a number, or text passed as the address of a string (str() in the kernel). */
type Arg = bigint | number | string;

const BUFFER = 0x1000;
const CAPACITY = 512;

let k: Kernel;
beforeEach(() => {
  k = loadKernel();
});

function u64Args(args: Arg[]): bigint[] {
  const values = args.map((arg) => (typeof arg === "string" ? BigInt(k.string(arg)) : BigInt(arg)));
  while (values.length < 6) values.push(0n);
  return values;
}

/** formatInto's return value: the length the whole output needs. */
function formatLength(into: number, size: number, fmt: string, ...args: Arg[]): number {
  const [a, b, c, d, e, f] = u64Args(args);
  return k.exports.format(into, size, k.string(fmt), a, b, c, d, e, f) >>> 0;
}

function format(fmt: string, ...args: Arg[]): string {
  const length = formatLength(BUFFER, CAPACITY, fmt, ...args);
  expect(length).toBeLessThanOrEqual(CAPACITY);
  return latin1(k.read(BUFFER, length));
}

describe("formatInto directives", () => {
  it("copies plain text and shows non-ASCII characters as '?'", () => {
    expect(format("")).toBe("");
    expect(format("hello, kernel")).toBe("hello, kernel");
    expect(format("caf\u00e9 \u2192 ok")).toBe("caf? ? ok");
  });

  it("%d prints unsigned decimal", () => {
    expect(format("%d", 0)).toBe("0");
    expect(format("%d", 42)).toBe("42");
    expect(format("%d", 1000000)).toBe("1000000");
    expect(format("%d", U64_MAX)).toBe("18446744073709551615");
    expect(format("%d", -1n)).toBe("18446744073709551615");
  });

  it("%i prints signed decimal", () => {
    expect(format("%i", 0)).toBe("0");
    expect(format("%i", 42)).toBe("42");
    expect(format("%i", -1)).toBe("-1");
    expect(format("%i", -1234567)).toBe("-1234567");
    expect(format("%i", I64_MAX)).toBe("9223372036854775807");
    expect(format("%i", I64_MIN)).toBe("-9223372036854775808");
  });

  it("%x prints lowercase hexadecimal without a prefix", () => {
    expect(format("%x", 0)).toBe("0");
    expect(format("%x", 0xdeadbeef)).toBe("deadbeef");
    expect(format("%x", 0x10)).toBe("10");
    expect(format("%x", U64_MAX)).toBe("ffffffffffffffff");
  });

  it("%p prints 0x and 16 hex digits", () => {
    expect(format("%p", 0)).toBe("0x0000000000000000");
    expect(format("%p", 0x1234)).toBe("0x0000000000001234");
    expect(format("%p", 0xffffffff80001000n)).toBe("0xffffffff80001000");
  });

  it("%c prints one ASCII character", () => {
    expect(format("[%c%c%c]", 0x4f, 0x4b, 0x21)).toBe("[OK!]");
  });

  it("%s prints a string, non-ASCII as '?'", () => {
    expect(format("name: %s.", "GRUB 2.12")).toBe("name: GRUB 2.12.");
    expect(format("%s%s", "", "x")).toBe("x");
    expect(format("%s", "\u00b5s")).toBe("?s");
  });

  it("%m prints a byte count in B, KiB, MiB or GiB, one truncated decimal when inexact", () => {
    expect(format("%m", 0)).toBe("0 B");
    expect(format("%m", 512)).toBe("512 B");
    expect(format("%m", 1023)).toBe("1023 B");
    expect(format("%m", KIB)).toBe("1 KiB");
    expect(format("%m", 640n * KIB)).toBe("640 KiB");
    expect(format("%m", 1536)).toBe("1.5 KiB");
    expect(format("%m", MIB)).toBe("1 MiB");
    expect(format("%m", 127n * MIB + 512n * KIB)).toBe("127.5 MiB");
    expect(format("%m", 7n * GIB / 2n)).toBe("3.5 GiB");
    expect(format("%m", 2n * GIB - 1n)).toBe("1.9 GiB");
    expect(format("%m", 16n * 1024n * GIB)).toBe("16384 GiB");
    expect(format("%m", U64_MAX)).toBe("17179869183.9 GiB");
  });

  it("%% prints a percent sign without using an argument", () => {
    expect(format("100%%")).toBe("100%");
    expect(format("%%%d%%", 5)).toBe("%5%");
  });

  it("takes up to six arguments in order", () => {
    expect(format("%d %x %i %c %s %m", 1, 0xab, -3, 0x7a, "str", 2048)).toBe("1 ab -3 z str 2 KiB");
  });

  it("shows an unknown directive verbatim and does not use an argument for it", () => {
    expect(format("%q")).toBe("%q");
    expect(format("%y=%d", 7)).toBe("%y=7");
    expect(format("50%")).toBe("50%");
  });
});

describe("formatInto widths and flags", () => {
  it("right-aligns numbers in a width with spaces", () => {
    expect(format("[%5d]", 42)).toBe("[   42]");
    expect(format("[%5i]", -5)).toBe("[   -5]");
    expect(format("[%8x]", 0xbeef)).toBe("[    beef]");
    expect(format("[%12d]", 0)).toBe("[           0]");
  });

  it("pads with zeros after the sign with the '0' flag", () => {
    expect(format("[%05d]", 42)).toBe("[00042]");
    expect(format("[%05i]", -5)).toBe("[-0005]");
    expect(format("[%016x]", 0xbeef)).toBe("[000000000000beef]");
  });

  it("left-aligns with the '-' flag, which overrides '0'", () => {
    expect(format("[%-5d]", 42)).toBe("[42   ]");
    expect(format("[%-5i]", -5)).toBe("[-5   ]");
    expect(format("[%-05d]", 42)).toBe("[42   ]");
    expect(format("[%0-5d]", 42)).toBe("[42   ]");
  });

  it("never cuts a number narrower than its width", () => {
    expect(format("[%2d]", 12345)).toBe("[12345]");
    expect(format("[%3i]", -1000)).toBe("[-1000]");
  });

  it("pads strings with spaces on either side", () => {
    expect(format("[%8s]", "abc")).toBe("[     abc]");
    expect(format("[%-8s]", "abc")).toBe("[abc     ]");
    expect(format("[%2s]", "abcdef")).toBe("[abcdef]");
  });

  it("lines up a table", () => {
    const row = (name: string, bytes: number) => format("%-10s|%8d|%08x|", name, bytes, bytes);
    expect(row("kernel", 1048576)).toBe("kernel    | 1048576|00100000|");
    expect(row("stack", 16384)).toBe("stack     |   16384|00004000|");
  });

  it("pads %m sizes to the width", () => {
    expect(format("[%10m]", 640n * KIB)).toBe("[   640 KiB]");
    expect(format("[%-10m]", 7n * GIB / 2n)).toBe("[3.5 GiB   ]");
  });
});

describe("formatInto truncation", () => {
  const CANARY = 0xa5;

  function withCanary(into: number, size: number): void {
    k.write(into, new Uint8Array(size + 16).fill(CANARY));
  }

  it("returns the length needed and writes only the first `size` bytes", () => {
    withCanary(BUFFER, 5);
    expect(formatLength(BUFFER, 5, "hello world")).toBe(11);
    expect(latin1(k.read(BUFFER, 5))).toBe("hello");
    expect([...k.read(BUFFER + 5, 16)]).toEqual(new Array(16).fill(CANARY));
  });

  it("writes nothing into a zero-size buffer", () => {
    withCanary(BUFFER, 0);
    expect(formatLength(BUFFER, 0, "%d and %s", 123, "more")).toBe(12);
    expect([...k.read(BUFFER, 16)]).toEqual(new Array(16).fill(CANARY));
  });

  it("cuts inside padded numbers and %m suffixes", () => {
    withCanary(BUFFER, 4);
    expect(formatLength(BUFFER, 4, "%10d", 7)).toBe(10);
    expect(latin1(k.read(BUFFER, 4))).toBe("    ");
    expect(k.read(BUFFER + 4, 1)[0]).toBe(CANARY);

    withCanary(BUFFER, 6);
    expect(formatLength(BUFFER, 6, "%m", 640n * KIB)).toBe(7);
    expect(latin1(k.read(BUFFER, 6))).toBe("640 Ki");
    expect(k.read(BUFFER + 6, 1)[0]).toBe(CANARY);
  });

  it("never writes past `size` whatever the format (property)", () => {
    const directive = fc.constantFrom("%d", "%i", "%x", "%p", "%c", "%m", "%%", "%-7d", "%09x", "%q", "ab", " ");
    fc.assert(
      fc.property(
        fc.array(directive, { maxLength: 12 }),
        fc.array(fc.bigInt({ min: 0n, max: U64_MAX }), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 0, max: 64 }),
        (parts, args, size) => {
          const fmt = parts.join("");
          withCanary(BUFFER, CAPACITY);
          const full = formatLength(BUFFER, CAPACITY, fmt, ...args);
          const expected = latin1(k.read(BUFFER, full));
          withCanary(BUFFER, size);
          expect(formatLength(BUFFER, size, fmt, ...args)).toBe(full);
          const written = Math.min(size, full);
          expect(latin1(k.read(BUFFER, written))).toBe(expected.slice(0, written));
          expect([...k.read(BUFFER + written, size + 16 - written)]).toEqual(new Array(size + 16 - written).fill(CANARY));
        },
      ),
    );
  });
});

describe("formatInto numbers match BigInt (property)", () => {
  const u64 = fc.bigInt({ min: 0n, max: U64_MAX });
  const i64 = fc.bigInt({ min: I64_MIN, max: I64_MAX });
  const width = fc.integer({ min: 1, max: 30 });

  it("%d and %x", () => {
    fc.assert(
      fc.property(u64, (value) => {
        expect(format("%d", value)).toBe(value.toString(10));
        expect(format("%x", value)).toBe(value.toString(16));
        expect(format("%p", value)).toBe(`0x${value.toString(16).padStart(16, "0")}`);
      }),
    );
  });

  it("%i", () => {
    fc.assert(
      fc.property(i64, (value) => {
        expect(format("%i", value)).toBe(value.toString(10));
      }),
    );
  });

  it("widths and flags", () => {
    fc.assert(
      fc.property(u64, i64, width, (unsigned, signed, w) => {
        expect(format(`%${w}d`, unsigned)).toBe(unsigned.toString().padStart(w));
        expect(format(`%-${w}x`, unsigned)).toBe(unsigned.toString(16).padEnd(w));
        expect(format(`%0${w}x`, unsigned)).toBe(unsigned.toString(16).padStart(w, "0"));
        const sign = signed < 0n ? "-" : "";
        const magnitude = (signed < 0n ? -signed : signed).toString();
        expect(format(`%0${w}i`, signed)).toBe(sign + magnitude.padStart(w - sign.length, "0"));
        expect(format(`%${w}i`, signed)).toBe(signed.toString().padStart(w));
      }),
    );
  });
});

describe("console printf", () => {
  function printf(fmt: string, ...args: Arg[]): void {
    const [a, b, c, d, e, f] = u64Args(args);
    k.exports.printf(k.string(fmt), a, b, c, d, e, f);
  }

  it("writes the formatted text to COM1, turning \\n into \\r\\n", () => {
    printf("memory: %m\nfree: %d pages\n", 640n * KIB, 12);
    expect(k.serial()).toBe("memory: 640 KiB\r\nfree: 12 pages\r\n");
  });

  it("prints at most its 512-byte scratch buffer of one call", () => {
    printf("%s|", "x".repeat(600));
    expect(k.serial()).toBe("x".repeat(512));
  });
});
