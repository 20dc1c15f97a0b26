/* Freestanding stand-in: wasm-rt.h includes <stdlib.h>; nothing from it is used. */
#pragma once
#include <stddef.h>
