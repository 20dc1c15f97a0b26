// gen-symbols.mjs KERNEL.elf KERNEL.wasm OUT.sym
// Writes the kernel's symbol table in the format kernel/debug/symbols.ts
// reads. Function addresses come from the linked ELF (llvm-nm); functions
// that came from TypeScript get back their TypeScript names, which wasm2c
// turned into C identifiers ("kernel/debug/panic/abort" became
// "w2c_kernel_debug_panic_abort"), by reading the wasm name section.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { wasmFunctionNames } from "./wasm-names.mjs";

const [elfPath, wasmPath, outPath] = process.argv.slice(2);

/** wasm2c 1.0.32's C name for an internal function (non-alphanumerics become "_"). */
function wasm2cName(name) {
  return "w2c_" + name.replace(/[^A-Za-z0-9]/g, "_");
}

/** wasm2c 1.0.32's C name for an export: "Z" escapes itself, other symbols as "Z" + hex. */
function wasm2cExportName(name) {
  const escaped = [...name].map((c) =>
    /[A-Za-z0-9_]/.test(c) && c !== "Z" ? c : c === "Z" ? "ZZ" : "Z" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"));
  return "Z_kernelZ_" + escaped.join("");
}

const cNames = new Map();
const { names, exports } = wasmFunctionNames(readFileSync(wasmPath));
names.forEach((name) => {
  const c = wasm2cName(name);
  cNames.set(c, cNames.has(c) ? null : name); // ambiguous: keep the C name
});
// Exported functions are also reached through their public wrapper, into
// which clang usually inlines the function itself.
for (const { name, index } of exports) {
  if (names[index]) cNames.set(wasm2cExportName(name), names[index]);
}

const nm = execFileSync("nm", ["-n", "--defined-only", elfPath], { encoding: "utf8" });
const symbols = [];
for (const line of nm.split("\n")) {
  const [address, type, name] = line.trim().split(/\s+/);
  if (!name || !/^[tTwW]$/.test(type)) continue;
  const value = BigInt("0x" + address);
  if (value < 0xffffffff80000000n) continue;
  symbols.push({ address: value, name: cNames.get(name) ?? name });
}
symbols.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));

const strings = Buffer.from(symbols.map((s) => s.name).join(""), "ascii");
const out = Buffer.alloc(16 + symbols.length * 16 + strings.length);
out.write("KSYM", 0, "ascii");
out.writeUInt32LE(symbols.length, 4);
out.writeUInt32LE(strings.length, 12);
let offset = 0;
symbols.forEach((s, i) => {
  out.writeBigUInt64LE(s.address, 16 + i * 16);
  out.writeUInt32LE(offset, 16 + i * 16 + 8);
  out.writeUInt32LE(s.name.length, 16 + i * 16 + 12);
  offset += s.name.length;
});
strings.copy(out, 16 + symbols.length * 16);
writeFileSync(outPath, out);
