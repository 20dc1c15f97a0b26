// Deliberate kernel faults, chosen with the command line `selftest=<name>`,
// each proving one path of the panic report. Every one of them must end in
// a panic; returning means the fault did not happen.
import {
  DIRECT_MAP, KERNEL_VMA, LayoutItem, layout, loadIdt, selftestCall, selftestDivide,
  selftestInvalidOpcode as selftestInvalidOpcodeNative, selftestWrite,
} from "../arch/x86_64/cpu";
import { ExitStatus } from "../drivers/qemu_exit";
import { benchMm, mmFill } from "./mm_selftest";
import { argumentEquals, hasArgument } from "../boot/cmdline";
import { print, printf } from "../console/console";

const squares: StaticArray<u32> = [0, 1, 4, 9];

/** Reads past the 4 GiB of linear memory the direct map provides. */
function selftestPageFault(): u64 {
  return load<u64>(0xfffff000, 0x2000);
}

let selftestIndex: i32 = 4;

function selftestUnreachable(): u64 {
  if (selftestIndex < 0x7fffffff) unreachable();
  return 0;
}

function selftestBounds(): u64 {
  return squares[selftestIndex];
}

/** Recurses until the boot stack runs into its guard page. */
function recurse(depth: u32): u32 {
  const result = recurse(depth + 1);
  if (result == depth) print("."); // work after the call: no tail-call elimination
  return result + 1;
}

function selftestStackOverflow(): u64 {
  return recurse(0);
}

function selftestDivideByZero(): u64 {
  return selftestDivide(1, 0);
}

function selftestInvalidOpcode(): u64 {
  selftestInvalidOpcodeNative();
  return 0;
}

/**
 * With an empty IDT no exception can be delivered: the CPU triple-faults
 * and resets, which QEMU (-no-reboot) reports as exit status 0. This proves
 * the test harness never takes that for success.
 */
function selftestTripleFault(): u64 {
  loadIdt(0, 0);
  selftestInvalidOpcodeNative();
  return 0;
}

/** Kernel text is mapped read-only. */
function selftestWriteText(): u64 {
  selftestWrite(layout(LayoutItem.TextStart));
  return 0;
}

/** The direct map is not executable, not even where it aliases kernel code. */
function selftestExecDirectMap(): u64 {
  selftestCall(DIRECT_MAP + (layout(LayoutItem.TextStart) - KERNEL_VMA));
  return 0;
}

/**
 * Runs the selftest named on the command line and says how the run should
 * end. Fault tests end in a panic and return only if they did not fault;
 * they are called through a function reference so that the optimizer
 * cannot inline them, and the panic report names them.
 */
export function runSelftest(): ExitStatus {
  if (argumentEquals("selftest", "mm-fill")) return mmFill() ? ExitStatus.Success : ExitStatus.Failure;
  if (argumentEquals("selftest", "bench-mm")) return benchMm() ? ExitStatus.Success : ExitStatus.Failure;
  let test: (() => u64) | null = null;
  if (argumentEquals("selftest", "page-fault")) test = selftestPageFault;
  else if (argumentEquals("selftest", "divide-by-zero")) test = selftestDivideByZero;
  else if (argumentEquals("selftest", "invalid-opcode")) test = selftestInvalidOpcode;
  else if (argumentEquals("selftest", "unreachable")) test = selftestUnreachable;
  else if (argumentEquals("selftest", "bounds")) test = selftestBounds;
  else if (argumentEquals("selftest", "stack-overflow")) test = selftestStackOverflow;
  else if (argumentEquals("selftest", "triple-fault")) test = selftestTripleFault;
  else if (argumentEquals("selftest", "write-text")) test = selftestWriteText;
  else if (argumentEquals("selftest", "exec-direct-map")) test = selftestExecDirectMap;
  if (test == null) {
    print("selftest: unknown name; try page-fault, divide-by-zero, invalid-opcode, unreachable, bounds, ");
    print("stack-overflow, triple-fault, write-text, exec-direct-map, mm-fill, bench-mm\n");
    return ExitStatus.Failure;
  }
  printf("selftest: no fault happened (result %x)\n", test());
  return ExitStatus.Failure;
}

export function selftestRequested(): bool {
  return hasArgument("selftest");
}
