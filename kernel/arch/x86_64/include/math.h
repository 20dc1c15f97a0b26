/* Freestanding stand-in: the kernel's TypeScript uses no floating point, so
 * wasm2c's float helpers are never instantiated and need no libm. */
#pragma once
