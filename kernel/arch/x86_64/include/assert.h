/* Freestanding stand-in: wasm2c's output includes <assert.h> but never asserts. */
#pragma once
#define assert(x) ((void)0)
