/* Demand-zero memory: a 64 MiB anonymous mmap and a 16 MiB .bss array,
 * both touched sparsely. Untouched memory must read as zero (mapped to the
 * shared zero page, no frame of its own); a written page gets one zeroed
 * frame; a page first read (zero page) and then written gets a fresh frame
 * and the zero page stays zero. With loglevel=debug the kernel's exit line
 * ("faults: Z zero-page, D demand-zero, F file; R pages resident") lets
 * the test check that only the touched pages cost memory: about 88
 * resident, not the 20480 pages of the two areas.
 * Prints "ok NAME" or "FAIL NAME: ..." per check; exits 0 if all pass. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define MIB (1ul << 20)
#define MAP_SIZE (64 * MIB)
#define BSS_SIZE (16 * MIB)

static char bss[BSS_SIZE] __attribute__((aligned(4096)));
static int failures;

static void check(const char *name, int ok, const char *detail) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: %s\n", name, detail);
        failures++;
    }
}

static long minor_faults(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

/* Writes one byte at the start of every MiB, then reads one byte in the
 * middle of every MiB (pages never written); returns the reads' OR. */
static int sparse(volatile char *area, unsigned long size, char tag) {
    for (unsigned long at = 0; at < size; at += MIB) area[at] = tag;
    int seen = 0;
    for (unsigned long at = MIB / 2; at < size; at += MIB) seen |= area[at];
    return seen;
}

static int written_back(volatile char *area, unsigned long size, char tag) {
    for (unsigned long at = 0; at < size; at += MIB)
        if (area[at] != tag) return 0;
    return 1;
}

int main(void) {
    long before = minor_faults();
    volatile char *map = mmap(0, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        perror("mmap 64 MiB");
        return 1;
    }
    check("mmap-untouched-reads-zero", sparse(map, MAP_SIZE, 'm') == 0, "a never-written page was not zero");
    check("mmap-writes-kept", written_back(map, MAP_SIZE, 'm'), "a written byte changed");
    check("bss-untouched-reads-zero", sparse(bss, BSS_SIZE, 'b') == 0, "a never-written .bss page was not zero");
    check("bss-writes-kept", written_back(bss, BSS_SIZE, 'b'), "a written .bss byte changed");

    /* Pages first read (mapped to the zero page), then written: each needs
     * its own frame; the other read-only zero pages must stay zero. */
    for (int i = 0; i < 4; i++) map[i * MIB + MIB / 2] = (char)(i + 1);
    int copied = 1, still_zero = 1;
    for (int i = 0; i < 64; i++) {
        char value = map[i * MIB + MIB / 2];
        if (i < 4 && value != i + 1) copied = 0;
        if (i >= 4 && value != 0) still_zero = 0;
    }
    check("write-after-read-gets-own-page", copied, "a byte written to a formerly zero-page page was lost");
    check("zero-page-stays-zero", still_zero, "writing one zero-page mapping changed another");

    /* Every other byte of a touched page is still zero. */
    int rest_zero = 1;
    for (unsigned long i = 1; i < 4096; i++) rest_zero &= map[i] == 0 && bss[i] == 0;
    check("rest-of-touched-page-zero", rest_zero, "bytes around a written one were not zero");

    long faults = minor_faults() - before;
    printf("demandzero: touched 64+16 pages by writing, 64+16 by reading, 4 read-then-written; %ld minor faults\n", faults);
    /* 164 touches; printf and getrusage may add a few of their own. */
    char detail[64];
    snprintf(detail, sizeof detail, "%ld minor faults for 164 first touches", faults);
    check("minor-faults-match-touches", faults >= 164 && faults <= 164 + 16, detail);
    printf("demandzero: %s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
