/* Freestanding stand-in: wasm-rt.h names jmp_buf for exception unwinding,
 * which the kernel (no wasm exceptions, traps panic) never uses. */
#pragma once
typedef unsigned long jmp_buf[8];
