// Every selftest= mode faults on purpose; each must produce a full panic
// report naming the fault, its details and the function it happened in,
// and end QEMU with the panic status.
import { describe, expect, it } from "vitest";
import { EXIT_FAILURE, EXIT_PANIC, boot, expectExit } from "./qemu";

const HEX = "0x[0-9a-f]{16}";

async function panicReport(selftest: string): Promise<string> {
  const result = await boot({ cmdline: `exit=qemu selftest=${selftest}` });
  expectExit(result, EXIT_PANIC);
  const report = result.serial.slice(result.serial.indexOf("KERNEL PANIC"));
  // Every report carries the registers and ends cleanly.
  for (const register of ["RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15"]) {
    expect(report).toMatch(new RegExp(`${register} ${HEX}`));
  }
  expect(report).toMatch(new RegExp(`RSP ${HEX}`));
  expect(report).toMatch(/RFLAGS 0x/);
  expect(report).toContain("call trace:");
  expect(report).toContain("end of panic report");
  return report;
}

describe.concurrent("panic reports", () => {
  it("page fault on an unmapped address", async () => {
    const report = await panicReport("page-fault");
    expect(report).toContain("KERNEL PANIC: page fault (#PF) (vector 14)");
    expect(report).toContain("error code 0x0: not-present read kernel-mode");
    // linear address 0xfffff000 + 0x2000 lies past the 4 GiB direct map
    expect(report).toContain("CR2 0xffff800100001000");
    expect(report).toMatch(/RIP 0xffffffff8[0-9a-f]{7} in kernel\/debug\/selftest\/selftestPageFault\+0x/);
  });

  it("divide by zero", async () => {
    const report = await panicReport("divide-by-zero");
    expect(report).toContain("KERNEL PANIC: divide error (#DE) (vector 0)");
    expect(report).toMatch(/RIP 0x[0-9a-f]{16} in Z_envZ_arch_selftest_divide\+0x/);
    expect(report).toMatch(/call trace:\n +0x[0-9a-f]{16} kernel\/debug\/selftest\/selftestDivideByZero\+0x/);
  });

  it("invalid opcode", async () => {
    const report = await panicReport("invalid-opcode");
    expect(report).toContain("KERNEL PANIC: invalid opcode (#UD) (vector 6)");
    expect(report).toMatch(/RIP 0x[0-9a-f]{16} in Z_envZ_arch_selftest_invalid_opcode\+0x/);
    expect(report).toMatch(/kernel\/debug\/selftest\/selftestInvalidOpcode\+0x/);
  });

  it("wasm unreachable", async () => {
    const report = await panicReport("unreachable");
    expect(report).toContain("KERNEL PANIC: wasm trap (vector 256)");
    expect(report).toContain("unreachable executed in kernel code");
    expect(report).toMatch(/RIP 0x[0-9a-f]{16} in kernel\/debug\/selftest\/selftestUnreachable\+0x/);
  });

  it("array index out of range", async () => {
    const report = await panicReport("bounds");
    expect(report).toContain("KERNEL PANIC: kernel abort (vector 257)");
    expect(report).toMatch(/abort: Index out of range at ~lib\/staticarray\.ts:\d+:\d+/);
    expect(report).toMatch(/kernel\/debug\/selftest\/selftestBounds\+0x/);
  });

  it("stack overflow into the guard page", async () => {
    const report = await panicReport("stack-overflow");
    expect(report).toContain("KERNEL PANIC: double fault (#DF) (vector 8)");
    expect(report).toMatch(/kernel stack overflow: 0xffffffff8[0-9a-f]{7} is in the guard page below the boot stack/);
    expect(report).toMatch(/RIP 0x[0-9a-f]{16} in kernel\/debug\/selftest\/recurse\+0x/);
    expect(report).toMatch(/kernel\/debug\/selftest\/recurse\+0x[0-9a-f]+ \(repeated \d+ times\)/);
  });

  it("an unknown selftest name is a failure, not a panic", async () => {
    const result = await boot({ cmdline: "exit=qemu selftest=no-such-test" });
    expectExit(result, EXIT_FAILURE);
    expect(result.serial).toContain("selftest: unknown name");
  });
});

describe.concurrent("the harness cannot be fooled", () => {
  it("a triple fault (QEMU status 0) is not success", async () => {
    const result = await boot({ cmdline: "exit=qemu selftest=triple-fault" });
    expect(result.status).toBe(0);
    expect(() => expectExit(result, EXIT_PANIC)).toThrow(/exited with status 0/);
  });

  it("a boot that never exits is killed and fails with its serial log", async () => {
    // Without exit=qemu the kernel halts after booting instead of exiting.
    // Long enough for the boot to complete on a busy machine, so that its log shows it did.
    const result = await boot({ cmdline: "", timeoutMs: 40_000 });
    expect(result.timedOut).toBe(true);
    expect(() => expectExit(result, 33)).toThrow(/killed after the timeout[\s\S]*boot complete/);
  });
});
