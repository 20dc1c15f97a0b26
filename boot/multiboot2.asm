; Multiboot2 header and the 32-bit entry point GRUB jumps to.
; GRUB leaves us in 32-bit protected mode, paging off, EAX = magic, EBX =
; physical address of the boot information. We check the CPU, build early
; page tables, enter long mode and jump to the higher-half kernel.

MB2_MAGIC        equ 0xe85250d6
MB2_ARCH_I386    equ 0
MB2_BOOT_MAGIC   equ 0x36d76289
KERNEL_VMA       equ 0xffffffff80000000
DIRECT_MAP       equ 0xffff800000000000

PTE_PRESENT      equ 1 << 0
PTE_WRITABLE     equ 1 << 1
PTE_HUGE         equ 1 << 7

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    ; framebuffer request (optional): 1024x768, 32 bits per pixel
    align 8
    dw 5, 1
    dd 20
    dd 1024, 768, 32
    align 8
    ; end tag
    dw 0, 0
    dd 8
mb2_header_end:

section .boot.text progbits alloc exec nowrite align=16
bits 32

global boot_entry32
boot_entry32:
    cli
    cld
    mov esp, boot_stack32_top
    cmp eax, MB2_BOOT_MAGIC
    jne .not_multiboot2
    mov [boot_info_phys], ebx

    ; Long mode needs CPUID leaf 0x80000001 and its LM bit.
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode
    mov [boot_ext_features], edx

    call build_page_tables

    mov eax, cr4
    or eax, 1 << 5                 ; PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, 0xc0000080            ; EFER
    rdmsr
    or eax, 1 << 8                 ; LME
    test dword [boot_ext_features], 1 << 20
    jz .no_nx
    or eax, 1 << 11                ; NXE, when the CPU has NX
.no_nx:
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)  ; PG, WP
    mov cr0, eax
    lgdt [boot_gdt_pointer]
    jmp 0x08:long_mode_low

.not_multiboot2:
    mov esi, msg_not_multiboot2
    jmp early_die
.no_long_mode:
    mov esi, msg_no_long_mode
    jmp early_die

; Print the NUL-terminated string at ESI on COM1 and stop. Used only before
; long mode, when nothing else can report a problem.
early_die:
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, 0x3f8
    lodsb
    test al, al
    jz .halt
    out dx, al
    jmp early_die
.halt:
    hlt
    jmp .halt

; PML4[0] and PML4[256] both reach the first 4 GiB through 2 MiB pages: the
; identity half only lives until we run in the higher half. PML4[511] maps
; the kernel image with 4 KiB pages so that guard pages can stay unmapped.
build_page_tables:
    mov eax, boot_pdpt_direct + (PTE_PRESENT | PTE_WRITABLE)
    mov [boot_pml4], eax
    mov [boot_pml4 + 256 * 8], eax
    mov eax, boot_pdpt_kernel + (PTE_PRESENT | PTE_WRITABLE)
    mov [boot_pml4 + 511 * 8], eax

    xor ecx, ecx
.pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd_direct + (PTE_PRESENT | PTE_WRITABLE)
    mov [boot_pdpt_direct + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .pdpt

    xor ecx, ecx                   ; 2048 entries of 2 MiB = 4 GiB
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, PTE_PRESENT | PTE_WRITABLE | PTE_HUGE
    mov [boot_pd_direct + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                    ; bits 32+ of the physical address
    mov [boot_pd_direct + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jb .pd

    mov eax, boot_pd_kernel + (PTE_PRESENT | PTE_WRITABLE)
    mov [boot_pdpt_kernel + 510 * 8], eax
    xor ecx, ecx
.pdk:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pt_kernel + (PTE_PRESENT | PTE_WRITABLE)
    mov [boot_pd_kernel + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .pdk

    ; Map the kernel image, from its first physical page to its end.
    mov ecx, kernel_phys_start
    shr ecx, 12
    mov edx, kernel_end_phys
    shr edx, 12
.ptk:
    mov eax, ecx
    shl eax, 12
    or eax, PTE_PRESENT | PTE_WRITABLE
    mov [boot_pt_kernel + ecx * 8], eax
    inc ecx
    cmp ecx, edx
    jb .ptk

    ; Guard pages below each stack stay unmapped.
    mov ecx, boot_stack_guard_phys
    call .unmap_guard
    mov ecx, double_fault_stack_guard_phys
    call .unmap_guard
    mov ecx, nmi_stack_guard_phys
.unmap_guard:
    shr ecx, 12
    mov dword [boot_pt_kernel + ecx * 8], 0
    ret

bits 64
long_mode_low:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rax, higher_half_entry
    jmp rax

section .boot.data progbits alloc noexec write align=16
boot_gdt:
    dq 0
    dq 0x00af9a000000ffff          ; 0x08: 64-bit code
    dq 0x00cf92000000ffff          ; 0x10: data
boot_gdt_end:
boot_gdt_pointer:
    dw boot_gdt_end - boot_gdt - 1
    dq boot_gdt
global boot_info_phys
boot_info_phys:    dd 0
boot_ext_features: dd 0
msg_not_multiboot2: db "boot: not started by a multiboot2 loader", 13, 10, 0
msg_no_long_mode:   db "boot: this CPU has no 64-bit long mode", 13, 10, 0

section .boot.bss nobits alloc noexec write align=4096
global boot_pml4
boot_pml4:        resb 4096
boot_pdpt_direct: resb 4096
boot_pd_direct:   resb 4096 * 4
boot_pdpt_kernel: resb 4096
boot_pd_kernel:   resb 4096
boot_pt_kernel:   resb 4096 * 4
boot_stack32:     resb 1024
boot_stack32_top:

; Reserved for the TypeScript kernel's static data (asc --memoryBase): GRUB
; will not put modules or the boot information here.
section .wasm_static nobits alloc noexec write align=4096
    resb 0x100000

; Stacks of the 64-bit kernel, each above an unmapped guard page.
section .stacks nobits alloc noexec write align=4096
global boot_stack_guard, boot_stack_top
global double_fault_stack_guard, double_fault_stack_top
global nmi_stack_guard, nmi_stack_top
boot_stack_guard:         resb 4096
                          resb 65536
boot_stack_top:
double_fault_stack_guard: resb 4096
                          resb 16384
double_fault_stack_top:
nmi_stack_guard:          resb 4096
                          resb 16384
nmi_stack_top:

extern kernel_phys_start, kernel_end_phys
extern boot_stack_guard_phys, double_fault_stack_guard_phys, nmi_stack_guard_phys

; The first 64-bit code at its higher-half address: switch to the kernel
; stack, drop the identity map and enter C with the boot information.
section .text
extern kernel_entry
higher_half_entry:
    mov rsp, boot_stack_top
    xor ebp, ebp
    mov rax, DIRECT_MAP + boot_gdt
    mov [rel higher_gdt_pointer + 2], rax
    lgdt [rel higher_gdt_pointer]
    mov rax, DIRECT_MAP + boot_pml4
    mov qword [rax], 0
    mov rax, cr3
    mov cr3, rax
    mov rax, DIRECT_MAP + boot_info_phys
    mov edi, [rax]
    call kernel_entry
.halt:
    cli
    hlt
    jmp .halt

section .data
higher_gdt_pointer:
    dw boot_gdt_end - boot_gdt - 1
    dq 0
