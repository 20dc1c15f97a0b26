; Entering and leaving processes: the system-call entry, the kernel-stack
; switch between processes and the scheduler, and the FPU/SSE state save.

bits 64
default rel
extern trap_dispatch
extern trap_return
%include "kernel/arch/x86_64/trap_frame.inc"

DIRECT_MAP       equ 0xffff800000000000
VECTOR_SYSCALL   equ 512
USER_CODE        equ 0x28 | 3
USER_DATA        equ 0x20 | 3

section .bss
global syscall_kernel_stack
syscall_kernel_stack: resq 1   ; top of the current process's kernel stack
syscall_user_rsp:     resq 1

section .text

; `syscall` from ring 3: RCX = user RIP, R11 = user RFLAGS, interrupts off
; (FMASK). Build the same trap frame an interrupt would, on the process's
; kernel stack, and leave through trap_return (iretq) like every trap.
global syscall_entry
syscall_entry:
    mov [syscall_user_rsp], rsp
    mov rsp, [syscall_kernel_stack]
    push USER_DATA
    push qword [syscall_user_rsp]
    push r11
    push USER_CODE
    push rcx
    push 0                         ; error code
    push VECTOR_SYSCALL
    SAVE_REGISTERS
    cld
    mov rdi, rsp
    call trap_dispatch
    jmp trap_return

; void arch_switch(env, u32 saveSlot, u64 nextRsp): saves the callee-saved
; registers and RSP (into the u64 at linear address saveSlot), then resumes
; the context whose RSP is nextRsp. A new process's stack is prepared so
; that this `ret` lands in trap_return, which enters user mode.
global Z_envZ_arch_switch
Z_envZ_arch_switch:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov rax, DIRECT_MAP
    mov esi, esi
    mov [rax + rsi], rsp
    mov rsp, rdx
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

; void cpu_fxsave(env, u32 area) / cpu_fxrstor(env, u32 area): the user's
; x87/SSE state, 512 bytes at a 16-byte aligned linear address.
global Z_envZ_cpu_fxsave
Z_envZ_cpu_fxsave:
    mov rax, DIRECT_MAP
    mov esi, esi
    fxsave64 [rax + rsi]
    ret

global Z_envZ_cpu_fxrstor
Z_envZ_cpu_fxrstor:
    mov rax, DIRECT_MAP
    mov esi, esi
    fxrstor64 [rax + rsi]
    ret

; void cpu_idle(env): wait for an interrupt with interrupts enabled only
; for the wait itself (sti's one-instruction shadow closes the race).
global Z_envZ_cpu_idle
Z_envZ_cpu_idle:
    sti
    hlt
    cli
    ret

; void arch_set_syscall_stack(env, u64 top)
global Z_envZ_arch_set_syscall_stack
Z_envZ_arch_set_syscall_stack:
    mov [syscall_kernel_stack], rsi
    ret
