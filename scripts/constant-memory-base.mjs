// constant-memory-base.mjs IN.c OUT.c (may be the same file)
// wasm2c's loads and stores find linear memory through the instance
// (instance -> memory -> data): two extra loads per access, repeated after
// every store because a store might alias them. Our linear memory is the
// direct map at a fixed address (DIRECT_MAP, arch.h; entry.c sets the same
// base), so the generated accessors can use that constant instead. Fails
// if wasm2c's text no longer has the expected shape, rather than leaving
// the slow form silently.
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
let text = readFileSync(input, "utf8");
const LINEAR = "((u8*)DIRECT_MAP)";
const replacements = [
  // little-endian load and store (DEFINE_LOAD / DEFINE_STORE)
  ["wasm_rt_memcpy(&result, &mem->data[addr], sizeof(t1));", `wasm_rt_memcpy(&result, &${LINEAR}[addr], sizeof(t1));`],
  ["wasm_rt_memcpy(&mem->data[addr], &wrapped, sizeof(t1));", `wasm_rt_memcpy(&${LINEAR}[addr], &wrapped, sizeof(t1));`],
  // memory.fill and memory.copy
  ["memset(mem->data + d, val, n);", `memset(${LINEAR} + d, val, n);`],
  ["memmove(dest->data + dest_addr, src->data + src_addr, n);", `memmove(${LINEAR} + dest_addr, ${LINEAR} + src_addr, n);`],
];
for (const [from, to] of replacements) {
  const count = text.split(from).length - 1;
  if (count !== 1) {
    console.error(`constant-memory-base: expected "${from}" once in ${input}, found it ${count} times`);
    process.exit(1);
  }
  text = text.replace(from, to);
}
writeFileSync(output, `#include "arch.h" /* DIRECT_MAP: the linear memory's base */\n${text}`);
