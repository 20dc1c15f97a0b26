// Kernel panic reports: everything needed to find a kernel bug from the
// console alone. Reached from CPU exceptions (traps.asm), wasm traps
// (wasm_rt_trap) and AssemblyScript aborts, all as a TrapFrame.
import {
  KERNEL_STACKS, KERNEL_VMA, LayoutItem, VECTOR_KERNEL_ABORT, VECTOR_WASM_TRAP, layout, linearAddressOf, raise, readCr2,
} from "../arch/x86_64/cpu";
import { TrapFrame } from "../arch/x86_64/trap_frame";
import { ExitStatus, shutdown } from "../drivers/qemu_exit";
import { print, printBytes, printf } from "../console/console";
import { str } from "../lib/format";
import { TextColor, setTextColor } from "../console/framebuffer";
import { findSymbol, symbolAddress, symbolName, symbolNameLength } from "./symbols";

const VECTOR_PAGE_FAULT: u64 = 14;
const VECTOR_DOUBLE_FAULT: u64 = 8;
const MAX_TRACE_FRAMES = 16;

let panicking = false;
let abortMessage: string | null = null;
let abortFile: string | null = null;
let abortColumn: u32 = 0;

function exceptionName(vector: u64): string {
  switch (<u32>vector) {
    case 0: return "divide error (#DE)";
    case 1: return "debug (#DB)";
    case 2: return "non-maskable interrupt (NMI)";
    case 3: return "breakpoint (#BP)";
    case 4: return "overflow (#OF)";
    case 5: return "bound range exceeded (#BR)";
    case 6: return "invalid opcode (#UD)";
    case 7: return "device not available (#NM)";
    case 8: return "double fault (#DF)";
    case 10: return "invalid TSS (#TS)";
    case 11: return "segment not present (#NP)";
    case 12: return "stack-segment fault (#SS)";
    case 13: return "general protection fault (#GP)";
    case 14: return "page fault (#PF)";
    case 16: return "x87 floating-point error (#MF)";
    case 17: return "alignment check (#AC)";
    case 18: return "machine check (#MC)";
    case 19: return "SIMD floating-point error (#XM)";
    case 20: return "virtualization exception (#VE)";
    case 21: return "control protection (#CP)";
    case VECTOR_WASM_TRAP: return "wasm trap";
    case VECTOR_KERNEL_ABORT: return "kernel abort";
    default: return "reserved exception";
  }
}

/** wasm_rt_trap_t in wasm-rt.h (wabt 1.0.32). */
function wasmTrapName(code: u64): string {
  switch (<u32>code) {
    case 1: return "out-of-bounds memory access";
    case 2: return "integer overflow";
    case 3: return "integer divide by zero";
    case 4: return "invalid conversion to integer";
    case 5: return "unreachable executed";
    case 6: return "invalid indirect call";
    case 7: return "uncaught exception";
    case 8: return "call stack exhausted";
    default: return "unknown trap";
  }
}

function printPageFaultErrorCode(code: u64): void {
  print((code & 1) ? "protection-violation" : "not-present");
  print((code & 2) ? " write" : " read");
  print((code & 4) ? " user-mode" : " kernel-mode");
  if (code & 8) print(" reserved-bit");
  if (code & 16) print(" instruction-fetch");
  if (code & 32) print(" protection-key");
  if (code & 64) print(" shadow-stack");
}

/** Prints "name+0xoffset" for a code address, or "?" when no symbol covers it. */
export function printSymbol(address: u64): void {
  const index = findSymbol(address);
  if (index < 0) {
    print("?");
    return;
  }
  printBytes(symbolName(index), symbolNameLength(index));
  printf("+0x%x", address - symbolAddress(index));
}

function checkGuardPage(address: u64, guard: LayoutItem, stack: string): void {
  const start = layout(guard);
  if (address >= start && address < start + 4096) {
    printf("  kernel stack overflow: %p is in the guard page below the %s stack\n", address, str(stack));
  }
}

function printGuardPageHit(address: u64): void {
  checkGuardPage(address, LayoutItem.BootStackGuard, "boot");
  checkGuardPage(address, LayoutItem.DoubleFaultStackGuard, "double-fault");
  checkGuardPage(address, LayoutItem.NmiStackGuard, "NMI");
}

/**
 * Frame-pointer walk, trusting only frames inside the kernel image or the
 * kernel-stack area whose
 * saved RBP moves up the stack (so a corrupt chain cannot loop). Runs of the
 * same return address (deep recursion) are printed once with a count.
 */
function printCallTrace(rbp: u64): void {
  print("call trace:");
  const imageStart = layout(LayoutItem.KernelPhysStart);
  const imageEnd = layout(LayoutItem.KernelPhysEnd);
  let previous: u64 = 0;
  let repeats: u32 = 0;
  let printed = 0;
  while (printed < MAX_TRACE_FRAMES) {
    const linear = linearAddressOf(rbp);
    const onStack = rbp >= KERNEL_STACKS && rbp < KERNEL_VMA;
    if ((rbp & 7) != 0 || linear < 0 || (!onStack && (linear < <i64>imageStart || linear + 16 > <i64>imageEnd))) break;
    const returnAddress = load<u64>(<usize>linear + 8);
    const next = load<u64>(<usize>linear);
    if (returnAddress < KERNEL_VMA) break;
    if (returnAddress == previous) {
      repeats++;
    } else {
      printRepeats(repeats);
      repeats = 0;
      previous = returnAddress;
      printf("\n  %p ", returnAddress);
      printSymbol(returnAddress);
      printed++;
    }
    if (next <= rbp) break;
    rbp = next;
  }
  printRepeats(repeats);
  print("\n");
}

function printRepeats(repeats: u32): void {
  if (repeats > 0) printf(" (repeated %d times)", repeats + 1);
}

function printRegisters(f: TrapFrame): void {
  printf("  RAX %p  RBX %p  RCX %p\n", f.rax, f.rbx, f.rcx);
  printf("  RDX %p  RSI %p  RDI %p\n", f.rdx, f.rsi, f.rdi);
  printf("  RBP %p  R8  %p  R9  %p\n", f.rbp, f.r8, f.r9);
  printf("  R10 %p  R11 %p  R12 %p\n", f.r10, f.r11, f.r12);
  printf("  R13 %p  R14 %p  R15 %p\n", f.r13, f.r14, f.r15);
  printf("  CS %x  SS %x  RFLAGS %p\n", f.cs, f.ss, f.rflags);
}

export function panicWithFrame(f: TrapFrame): void {
  if (panicking) {
    print("\nKERNEL PANIC while reporting a panic; stopping\n");
    shutdown(ExitStatus.Panic);
  }
  panicking = true;
  setTextColor(TextColor.Panic);
  const cr2 = readCr2();
  printf("\nKERNEL PANIC: %s (vector %d)\n", str(exceptionName(f.vector)), f.vector);
  if (f.vector == VECTOR_WASM_TRAP) {
    printf("  %s in kernel code\n", str(wasmTrapName(f.errorCode)));
  } else if (f.vector == VECTOR_KERNEL_ABORT) {
    const message = abortMessage;
    const file = abortFile;
    printf("  abort: %s at %s:%d:%d\n",
      str(message ? message : "(no message)"), str(file ? file : "?"), f.errorCode, abortColumn);
  } else {
    printf("  error code 0x%x", f.errorCode);
    if (f.vector == VECTOR_PAGE_FAULT) {
      print(": ");
      printPageFaultErrorCode(f.errorCode);
    }
    print("\n");
  }
  printf("  CR2 %p\n", cr2);
  if (f.vector == VECTOR_DOUBLE_FAULT || f.vector == VECTOR_PAGE_FAULT) printGuardPageHit(cr2);
  printf("  RIP %p in ", f.rip);
  printSymbol(f.rip);
  printf("\n  RSP %p\n", f.rsp);
  printRegisters(f);
  printCallTrace(f.rbp);
  print("end of panic report\n");
  shutdown(ExitStatus.Panic);
}

/** Every trap lands here; with no user mode yet, each one is a kernel bug. */
export function handleTrap(frameAddress: u32): void {
  panicWithFrame(changetype<TrapFrame>(frameAddress));
}

/** AssemblyScript's abort (asc --use abort=...): failed assertions, bounds checks. */
export function abort(message: string | null, file: string | null, line: u32, column: u32): void {
  abortMessage = message;
  abortFile = file;
  abortColumn = column;
  raise(VECTOR_KERNEL_ABORT, line);
}
