// The registers traps.asm saves on every exception (struct trap_frame in
// arch.h), lowest address first:
//
//   0 r15   8 r14  16 r13  24 r12  32 r11  40 r10  48 r9   56 r8
//  64 rbp  72 rdi  80 rsi  88 rdx  96 rcx 104 rbx 112 rax
// 120 vector      128 errorCode
// 136 rip 144 cs 152 rflags 160 rsp 168 ss     (pushed by the CPU)

@unmanaged export class TrapFrame {
  r15: u64;
  r14: u64;
  r13: u64;
  r12: u64;
  r11: u64;
  r10: u64;
  r9: u64;
  r8: u64;
  rbp: u64;
  rdi: u64;
  rsi: u64;
  rdx: u64;
  rcx: u64;
  rbx: u64;
  rax: u64;
  vector: u64;
  errorCode: u64;
  rip: u64;
  cs: u64;
  rflags: u64;
  rsp: u64;
  ss: u64;
}

@inline export function fromUserMode(frame: TrapFrame): bool {
  return (frame.cs & 3) == 3;
}
