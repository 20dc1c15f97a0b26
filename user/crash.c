/* crash KIND: makes one bad memory access of the given kind, so that the
 * tests can check that the kernel kills the program with SIGSEGV (or the
 * matching signal) and reports the faulting address, instruction pointer
 * and page-fault error code exactly. Before the access it prints the
 * address it is about to touch ("crash: KIND at ADDR"), so a test can
 * compare it with the kernel's report; reaching the end is a failure
 * (exit status 1). Kinds:
 *   null                 read address 0
 *   write-text           write into main's own code (read-only, executable)
 *   exec-data            call into a data array (writable, not executable)
 *   exec-stack           call into a buffer on the stack (not executable)
 *   kernel-read          read 0xffffffff80000000 (kernel text: supervisor-only)
 *   noncanonical         read 0x0000800000000000 (not a canonical address: #GP)
 *   stack-overflow       unbounded recursion into the guard gap below the stack
 *   use-after-munmap     read a page after munmap
 *   write-after-mprotect write a page made read-only by mprotect
 *   exec-after-mprotect  call into a page after mprotect removed PROT_EXEC
 *   prot-none            read a PROT_NONE mapping
 *   ud2                  execute an invalid opcode (SIGILL)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The machine code for `ret`: if the kernel let it run, the call returns. */
static unsigned char data_code[64] = {0xc3};

static void announce(const char *kind, const void *address) {
    printf("crash: %s at %p\n", kind, address);
    fflush(stdout);
}

static volatile uint64_t sink;

/* Each level keeps a 16 KiB frame alive (the compiler cannot drop a
 * volatile buffer), so 8 MiB of stack runs out after ~512 levels. */
static int recurse(int depth) {
    volatile char frame[16384];
    if (depth > 1000000) return 0; /* never: 16 GiB of stack; keeps -Winfinite-recursion quiet */
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    return recurse(depth + 1) + frame[depth & 1];
}

static void *map_one_page(int protection) {
    void *p = mmap(0, 4096, protection, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        _exit(2);
    }
    return p;
}

int main(int argc, char **argv) {
    const char *kind = argc > 1 ? argv[1] : "";
    if (!strcmp(kind, "null")) {
        announce(kind, 0);
        sink = *(volatile uint64_t *)0;
    } else if (!strcmp(kind, "write-text")) {
        volatile unsigned char *text = (volatile unsigned char *)(uintptr_t)main;
        announce(kind, (void *)text);
        *text = 0xcc;
    } else if (!strcmp(kind, "exec-data")) {
        announce(kind, data_code);
        ((void (*)(void))(uintptr_t)data_code)();
    } else if (!strcmp(kind, "exec-stack")) {
        unsigned char code[64];
        memset(code, 0xc3, sizeof code);
        announce(kind, code);
        ((void (*)(void))(uintptr_t)code)();
        sink = code[1];
    } else if (!strcmp(kind, "kernel-read")) {
        announce(kind, (void *)0xffffffff80000000ul);
        sink = *(volatile uint64_t *)0xffffffff80000000ul;
    } else if (!strcmp(kind, "noncanonical")) {
        announce(kind, (void *)0x0000800000000000ul);
        sink = *(volatile uint64_t *)0x0000800000000000ul;
    } else if (!strcmp(kind, "stack-overflow")) {
        announce(kind, &kind);
        sink = recurse(0);
    } else if (!strcmp(kind, "use-after-munmap")) {
        volatile uint64_t *p = map_one_page(PROT_READ | PROT_WRITE);
        *p = 42;
        munmap((void *)p, 4096);
        announce(kind, (void *)p);
        sink = *p;
    } else if (!strcmp(kind, "write-after-mprotect")) {
        volatile uint64_t *p = map_one_page(PROT_READ | PROT_WRITE);
        *p = 42;
        if (mprotect((void *)p, 4096, PROT_READ) != 0) perror("mprotect");
        printf("crash: still readable after mprotect: %s\n", *p == 42 ? "yes" : "NO");
        announce(kind, (void *)p);
        *p = 43;
    } else if (!strcmp(kind, "exec-after-mprotect")) {
        unsigned char *p = map_one_page(PROT_READ | PROT_WRITE | PROT_EXEC);
        p[0] = 0xc3;
        ((void (*)(void))(uintptr_t)p)(); /* runs: the page is executable */
        printf("crash: executed the page while PROT_EXEC\n");
        if (mprotect(p, 4096, PROT_READ | PROT_WRITE) != 0) perror("mprotect");
        announce(kind, p);
        ((void (*)(void))(uintptr_t)p)();
    } else if (!strcmp(kind, "prot-none")) {
        volatile uint64_t *p = map_one_page(PROT_NONE);
        announce(kind, (void *)p);
        sink = *p;
    } else if (!strcmp(kind, "ud2")) {
        announce(kind, 0);
        __asm__ volatile("ud2");
    } else {
        fprintf(stderr, "crash: unknown kind \"%s\"\n", kind);
        return 2;
    }
    printf("crash: %s: survived the bad access\n", kind);
    return 1;
}
