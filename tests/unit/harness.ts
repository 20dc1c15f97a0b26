// Entry point of build/unit/unit.wasm: the kernel modules under unit test,
// exported to JS (tests/unit/kernel-wasm.ts). Strings arrive as addresses of
// AssemblyScript strings the tests allocate with the exported __new, and
// records are handed out by address so JS reads them with the layouts drawn
// in their modules.
// asconfig routes abort (failed assertions, bounds checks) to the kernel's
// panic module, which must therefore be part of the program.
import "../../kernel/debug/panic";
import { formatInto } from "../../kernel/lib/format";
import { printf as kernelPrintf } from "../../kernel/console/console";
import {
  argumentCount, argumentEquals, argumentNumber, argumentValueAddress, argumentValueLength, hasArgument,
  parseCommandLine,
} from "../../kernel/boot/cmdline";
import { bootInfo, bootModule, memoryRegion, parseBootInfo as kernelParseBootInfo } from "../../kernel/boot/multiboot2";

export function format(into: usize, size: u32, fmt: string, a: u64, b: u64, c: u64, d: u64, e: u64, f: u64): u32 {
  return formatInto(into, size, fmt, a, b, c, d, e, f);
}

export function printf(fmt: string, a: u64, b: u64, c: u64, d: u64, e: u64, f: u64): void {
  kernelPrintf(fmt, a, b, c, d, e, f);
}

export function parseCmdline(address: usize, length: u32): void {
  parseCommandLine(address, length);
}

export function cmdlineHas(key: string): bool {
  return hasArgument(key);
}

export function cmdlineEquals(key: string, value: string): bool {
  return argumentEquals(key, value);
}

export function cmdlineNumber(key: string, fallback: u64): u64 {
  return argumentNumber(key, fallback);
}

export function cmdlineValueAddress(key: string): usize {
  return argumentValueAddress(key);
}

export function cmdlineValueLength(key: string): i32 {
  return argumentValueLength(key);
}

export function cmdlineCount(): u32 {
  return argumentCount();
}

export function parseBootInfo(address: u32): u32 {
  return kernelParseBootInfo(address);
}

export function bootInfoAddress(): usize {
  return changetype<usize>(bootInfo);
}

export function memoryRegionAddress(index: u32): usize {
  return changetype<usize>(memoryRegion(index));
}

export function bootModuleAddress(index: u32): usize {
  return changetype<usize>(bootModule(index));
}
