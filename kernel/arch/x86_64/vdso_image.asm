; The vDSO (vdso/vdso.c, linked by linker/vdso.ld into build/vdso.so),
; carried in the kernel's read-only data on a page boundary so that the page
; cache can copy it a page at a time into the frames processes map.
; kernel/mm/vdso.ts finds it through arch_layout.

section .rodata progbits alloc noexec nowrite align=4096

global vdso_image_start, vdso_image_end
vdso_image_start:
    incbin "build/vdso.so"
vdso_image_end:
