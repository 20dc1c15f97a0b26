; Exception and interrupt entry: one stub per vector pushes the vector (and a zero where
; the CPU pushes no error code), the common path saves every general
; register as a struct trap_frame (arch.h) and calls trap_dispatch.

bits 64
default rel
extern trap_dispatch

VECTOR_WASM_TRAP    equ 256
VECTORS             equ 80         ; 32 CPU exceptions, 47 interrupt lines, the APIC's spurious vector

; Vectors for which the CPU pushes an error code.
%define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text

%macro TRAP_STUB 1
trap_stub_%1:
%if !HAS_ERROR_CODE(%1)
    push 0
%endif
    push %1
    jmp trap_common
%endmacro

%assign v 0
%rep VECTORS
    align 16
    TRAP_STUB v
%assign v v + 1
%endrep

%include "kernel/arch/x86_64/trap_frame.inc"

trap_common:
    SAVE_REGISTERS
    cld
    mov rdi, rsp
    call trap_dispatch
global trap_return
trap_return:
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq

; void arch_raise(u64 vector, u64 code): a report that does not come from the
; CPU (wasm trap, kernel abort). Builds the same trap_frame the CPU path
; does, as if the exception had hit at our caller's return address, and
; never returns. RDI and RSI in the frame hold the arguments.
global arch_raise
arch_raise:
    sub rsp, 7 * 8
    SAVE_REGISTERS
    mov [rsp + 15 * 8], rdi        ; vector
    mov [rsp + 16 * 8], rsi        ; error code
    mov rax, [rsp + 22 * 8]        ; return address
    mov [rsp + 17 * 8], rax
    mov rax, cs
    mov [rsp + 18 * 8], rax
    pushfq
    pop rax
    mov [rsp + 19 * 8], rax
    lea rax, [rsp + 23 * 8]        ; caller's RSP after the call
    mov [rsp + 20 * 8], rax
    mov rax, ss
    mov [rsp + 21 * 8], rax
    mov rdi, rsp
    sub rsp, 8                     ; 16-byte alignment for the call
    call trap_dispatch
.halt:
    cli
    hlt
    jmp .halt

; wasm2c calls this from the generated function that trapped; jumping keeps
; that function's return address as the reported RIP.
global wasm_rt_trap
wasm_rt_trap:
    mov esi, edi
    mov edi, VECTOR_WASM_TRAP
    jmp arch_raise

; The TypeScript import: (env, vector, code).
global Z_envZ_arch_raise
Z_envZ_arch_raise:
    mov rdi, rsi
    mov rsi, rdx
    jmp arch_raise

section .rodata
global trap_stub_table
align 8
trap_stub_table:
%assign v 0
%rep VECTORS
    dq trap_stub_ %+ v
%assign v v + 1
%endrep
