// check-no-gc-alloc.mjs KERNEL.wasm
// The kernel must never allocate managed (garbage-collected) objects: with
// asc's stub runtime they would be carved out of physical memory past the
// static data, overwriting whatever lives there. Any use (`new`, a string
// concatenation, a dynamic array) pulls the runtime's allocator into the
// module, so its presence is the violation; the message names the culprits.
import { readFileSync } from "node:fs";
import { wasmFunctionNames } from "./wasm-names.mjs";

const { names } = wasmFunctionNames(readFileSync(process.argv[2]));
const allocator = names.filter((name) => name && /^~lib\/rt\//.test(name));
if (allocator.length > 0) {
  console.error(`error: the kernel allocates managed memory; runtime functions linked in: ${allocator.join(", ")}`);
  console.error("find the `new`, string concatenation or Array use that needs them (build/kernel.wat: asc --textFile)");
  process.exit(1);
}
