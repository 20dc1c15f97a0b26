// CPU features the kernel turns on once: SSE for user programs (saved and
// restored per process with fxsave/fxrstor), and the syscall instruction.
import { KERNEL_CODE, USER_CODE32 } from "./gdt";
import { LayoutItem, layout, rdmsr, readCr0, readCr4, wrmsr, writeCr0, writeCr4 } from "./cpu";

const MSR_EFER: u32 = 0xc0000080;
const MSR_STAR: u32 = 0xc0000081;
const MSR_LSTAR: u32 = 0xc0000082;
const MSR_FMASK: u32 = 0xc0000084;
const EFER_SCE: u64 = 1;
const CR0_MP: u64 = 1 << 1;
const CR0_EM: u64 = 1 << 2;
const CR0_TS: u64 = 1 << 3;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
// Cleared on syscall entry: IF (no interrupts in the kernel), TF, DF, AC, NT.
const SYSCALL_FLAGS_MASK: u64 = (1 << 9) | (1 << 8) | (1 << 10) | (1 << 18) | (1 << 14);

export function enableUserFeatures(): void {
  writeCr0((readCr0() | CR0_MP) & ~(CR0_EM | CR0_TS));
  writeCr4(readCr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
  // syscall loads CS from STAR[47:32] (SS = +8); sysret uses STAR[63:48] + 16 / + 8.
  wrmsr(MSR_STAR, (<u64>USER_CODE32 << 48) | (<u64>KERNEL_CODE << 32));
  wrmsr(MSR_LSTAR, layout(LayoutItem.SyscallEntry));
  wrmsr(MSR_FMASK, SYSCALL_FLAGS_MASK);
}
