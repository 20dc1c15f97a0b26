; Page zeroing and copying, the hot path of demand paging and copy-on-write:
; eight 64-bit moves per iteration, no string instructions. Under QEMU TCG
; this beats rep stosq / rep movsq (intrinsics.c), a TypeScript loop and
; memory.fill / memory.copy; selftest=bench-mm measures all of them.
; Arguments are linear (physical) addresses, as for every TypeScript import:
;   Z_envZ_mm_copy_page(env, to, from)
;   Z_envZ_mm_zero_page(env, page)

bits 64
default rel
DIRECT_MAP equ 0xffff800000000000

section .text

global Z_envZ_mm_copy_page
Z_envZ_mm_copy_page:
    mov rax, DIRECT_MAP
    mov edi, esi                   ; to
    add rdi, rax
    mov esi, edx                   ; from
    add rsi, rax
    mov ecx, 4096 / 64
.copy:
    mov rax, [rsi]
    mov rdx, [rsi + 8]
    mov r8, [rsi + 16]
    mov r9, [rsi + 24]
    mov [rdi], rax
    mov [rdi + 8], rdx
    mov [rdi + 16], r8
    mov [rdi + 24], r9
    mov rax, [rsi + 32]
    mov rdx, [rsi + 40]
    mov r8, [rsi + 48]
    mov r9, [rsi + 56]
    mov [rdi + 32], rax
    mov [rdi + 40], rdx
    mov [rdi + 48], r8
    mov [rdi + 56], r9
    add rsi, 64
    add rdi, 64
    dec ecx
    jnz .copy
    ret

global Z_envZ_mm_zero_page
Z_envZ_mm_zero_page:
    mov rax, DIRECT_MAP
    mov edi, esi                   ; page
    add rdi, rax
    xor eax, eax
    mov ecx, 4096 / 64
.zero:
    mov [rdi], rax
    mov [rdi + 8], rax
    mov [rdi + 16], rax
    mov [rdi + 24], rax
    mov [rdi + 32], rax
    mov [rdi + 40], rax
    mov [rdi + 48], rax
    mov [rdi + 56], rax
    add rdi, 64
    dec ecx
    jnz .zero
    ret
