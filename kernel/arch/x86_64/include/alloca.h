/* Freestanding alloca, for wasm2c's multi-value returns. */
#pragma once
#define alloca __builtin_alloca
