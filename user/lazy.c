/* Lazy loading: a program whose ELF file carries a large initialized
 * read-only array (BLOB_SIZE bytes in .rodata, stored in the file) of
 * which it reads only three bytes, on three pages far apart. exec must not
 * read the file: each page arrives on first touch (a "file" fault). With
 * loglevel=debug the kernel's exit line ("faults: ... F file; R pages
 * resident") then shows a few dozen pages whatever BLOB_SIZE is.
 *
 * The Makefile builds it with the default 16 KiB blob so that every
 * initramfs stays small (the initramfs is reserved memory in every boot);
 * the test builds a copy with -DBLOB_SIZE='(32<<20)' (a 32 MiB ELF) and
 * checks that both copies take the same faults. It also prints when main
 * was reached (CLOCK_MONOTONIC counts from the kernel's clock start, a
 * little before init is loaded) and the TSC cycles of each first touch. */
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#ifndef BLOB_SIZE
#define BLOB_SIZE (16 << 10)
#endif

/* Three marked bytes; the rest are zeros, but zeros that are in the file. */
static const char blob[BLOB_SIZE] __attribute__((aligned(4096))) = {
    [0] = 1, [BLOB_SIZE / 2] = 2, [BLOB_SIZE - 1] = 3,
};

static uint64_t rdtsc(void) {
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return (uint64_t)high << 32 | low;
}

int main(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long reached = now.tv_sec * 1000000ll + now.tv_nsec / 1000;
    static const unsigned long offsets[3] = {0, BLOB_SIZE / 2, BLOB_SIZE - 1};
    char values[3];
    uint64_t cycles[3], again[3];
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    long faults_before = usage.ru_minflt;
    for (int i = 0; i < 3; i++) {
        uint64_t start = rdtsc();
        values[i] = *(volatile const char *)&blob[offsets[i]]; /* first touch: a file fault */
        cycles[i] = rdtsc() - start;
        start = rdtsc();
        values[i] += *(volatile const char *)&blob[offsets[i]] - values[i]; /* resident now */
        again[i] = rdtsc() - start;
    }
    getrusage(RUSAGE_SELF, &usage);
    printf("lazy: blob of %lu bytes at %p; main reached %lld us after clock start\n",
           (unsigned long)sizeof blob, (const void *)blob, reached);
    for (int i = 0; i < 3; i++)
        printf("lazy: blob[%lu] = %d (first touch %llu cycles, second %llu)\n", offsets[i], values[i],
               (unsigned long long)cycles[i], (unsigned long long)again[i]);
    printf("lazy: %ld minor faults while reading the blob\n", usage.ru_minflt - faults_before);
    int ok = values[0] == 1 && values[1] == 2 && values[2] == 3;
    printf("lazy: %s\n", ok ? "ok" : "FAIL: wrong values");
    return ok ? 0 : 1;
}
