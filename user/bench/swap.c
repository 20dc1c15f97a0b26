/* The swap benchmark: runs unchanged as init on TSKernel and on Linux, on
 * a machine of RAM MiB (its argument: scripts/bench.mjs boots both with
 * that -m) with a fresh swap area made by mkswap attached as virtio-blk
 * /dev/vda, which it turns on itself. It prints BENCH lines as bench.c
 * does, each with the requests and sectors vda read and wrote per unit (as
 * disk.c's), and the pages /proc/vmstat counted written to swap (pswpout)
 * and read from it (pswpin) per unit appended (medians):
 *
 *   swap-page-out      ns per MiB written into fresh anonymous memory once
 *                      RAM is full, so that every page written sends one out
 *   swap-in-seq        ns per page touching, in order, pages that are out
 *                      (mincore says which: a kernel need not put out the
 *                      oldest pages first)
 *   swap-in-random     the same in a shuffled order
 *   swap-twice-ram     ns per run of a child that writes twice RAM and
 *                      reads it back three times (forward, backward, scattered)
 *
 * The counts are of the timed spans alone. Every page written is filled
 * and stamped with its number, which every read checks; a page-in
 * repetition that read fewer pages from swap than it touched says so,
 * since then it measured pages still in RAM. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diskstats.h"
#include "linux-init.h"
#include "measure.h"

static unsigned long ram_mib;
static long bad_pages;

/* vda's four counts (diskstats.h), then pswpout and pswpin from /proc/vmstat. */
#define ALL_COUNTS (COUNTS + 2)
static void swap_counts(double *counts) {
    static char text[16384];
    disk_counts(counts);
    counts += COUNTS;
    counts[0] = counts[1] = -1;
    int fd = open("/proc/vmstat", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0) close(fd);
    if (n <= 0) return;
    text[n] = 0;
    char *out = strstr(text, "pswpout "), *in = strstr(text, "pswpin ");
    if (out) counts[0] = strtod(out + 8, NULL);
    if (in) counts[1] = strtod(in + 7, NULL);
}

static const char *row;
static int repetition, reps;
static double units, per_unit[ALL_COUNTS][REPS], span_counts[ALL_COUNTS];

/* A timed span's start and end, /proc/vmstat read just outside them; the counts are per unit of the row. */
static struct span start(void) {
    swap_counts(span_counts);
    return begin();
}

static struct span stop(struct span s) {
    s = end(s);
    double now[ALL_COUNTS];
    swap_counts(now);
    for (int i = 0; i < ALL_COUNTS; i++) per_unit[i][repetition] = (now[i] - span_counts[i]) / units;
    repetition++;
    return s;
}

static const char *counts_text(void) {
    static char text[160];
    double m[ALL_COUNTS];
    for (int i = 0; i < ALL_COUNTS; i++) m[i] = median(per_unit[i], reps);
    snprintf(text, sizeof text, " requests-read=%.2f sectors-read=%.1f requests-written=%.2f sectors-written=%.1f pswpout=%.2f pswpin=%.2f",
             m[0], m[1], m[2], m[3], m[4], m[5]);
    return text;
}

static unsigned char *take(unsigned long mib) {
    unsigned char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("swap: mmap"); exit(1); }
    return p;
}

/* Whole pages, not one word each: a page of zeroes might be kept apart from the rest. */
static void fill(unsigned char *p, unsigned long pages) {
    for (unsigned long page = 0; page < pages; page++) {
        memset(p + page * PAGE, 0x5a, PAGE);
        *(uint64_t *)(p + page * PAGE) = page;
    }
}

static void check(const unsigned char *p, unsigned long page) {
    uint64_t got = *(const volatile uint64_t *)(p + page * PAGE);
    if (got != page && bad_pages++ < 4) printf("swap: page %lu holds %llx\n", page, (unsigned long long)got);
}

/* The k-th page of a scattered order through `pages`, a power of two: 4099 is odd, so every page once. */
static unsigned long scattered(unsigned long k, unsigned long pages) { return k * 4099 % pages; }

/* Fisher-Yates with a fixed xorshift, so that every run shuffles alike. */
static void shuffle(unsigned long *v, unsigned long n) {
    uint64_t x = 88172645463325252ull;
    for (unsigned long i = n; i > 1; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned long j = x % i, t = v[i - 1];
        v[i - 1] = v[j], v[j] = t;
    }
}

static struct span page_out(void) {
    unsigned long span_mib = (unsigned long)units;
    unsigned char *full = take(ram_mib), *past = take(span_mib);
    fill(full, ram_mib * MIB / PAGE);
    struct span s = start();
    fill(past, span_mib * MIB / PAGE);
    s = stop(s);
    munmap(full, ram_mib * MIB);
    munmap(past, span_mib * MIB);
    return s;
}

/* A quarter of RAM written, then RAM's worth more to push it out, which is freed again so that the
 * timed page-ins find free memory and cost no page-outs. The row's units are the pages found out. */
static struct span page_in(int in_order) {
    unsigned long pages = ram_mib / 4 * MIB / PAGE, out = 0;
    unsigned char *region = take(ram_mib / 4), *push = take(ram_mib), *resident = malloc(pages);
    unsigned long *order = malloc(pages * sizeof *order);
    fill(region, pages);
    fill(push, ram_mib * MIB / PAGE);
    munmap(push, ram_mib * MIB);
    if (mincore(region, pages * PAGE, resident) != 0) { perror("swap: mincore"); exit(1); }
    for (unsigned long page = 0; page < pages; page++) if (!(resident[page] & 1)) order[out++] = page;
    if (!in_order) shuffle(order, out);
    units = out ? out : 1;
    struct span s = start();
    for (unsigned long k = 0; k < out; k++) check(region, order[k]);
    s = stop(s);
    double read = per_unit[COUNTS + 1][repetition - 1] * units;
    if (read < 0.95 * out || out < pages / 8)
        printf("swap: %s repetition %d: %.0f pages read from swap of %lu out, %lu written\n", row, repetition - 1, read, out, pages);
    munmap(region, pages * PAGE);
    free(resident);
    free(order);
    return s;
}
static struct span page_in_seq(void) { return page_in(1); }
static struct span page_in_random(void) { return page_in(0); }

static struct span twice_ram(void) {
    unsigned long pages = 2 * ram_mib * MIB / PAGE;
    struct span s = start();
    pid_t pid = fork();
    if (pid == 0) {
        unsigned char *p = take(2 * ram_mib);
        fill(p, pages);
        for (unsigned long page = 0; page < pages; page++) check(p, page);
        for (unsigned long page = pages; page-- > 0;) check(p, page);
        for (unsigned long k = 0; k < pages; k++) check(p, scattered(k, pages));
        _exit(bad_pages != 0);
    }
    int status;
    waitpid(pid, &status, 0);
    s = stop(s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) bad_pages++, printf("swap: the twice-RAM child failed (%#x)\n", status);
    return s;
}

/* One row: `count` repetitions of `body`, each over `n` units unless it sets `units` itself (MEASURE_REPS
 * reads it after each repetition). */
static void measure(const char *name, const char *unit, double n, int count, struct span (*body)(void)) {
    row = name;
    units = n;
    reps = count;
    repetition = 0;
    MEASURE_REPS(name, unit, units, reps, body());
}

int main(int argc, char **argv) {
    linux_init();
    ram_mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
    if (ram_mib < 16 || (ram_mib & (ram_mib - 1))) { printf("swap: usage: bench-swap RAM-MIB (a power of two)\n"); return 1; }
    if (swapon("/dev/vda", 0) != 0) { perror("swap: swapon /dev/vda"); return 1; }
    report_extra = counts_text;
    measure("swap-page-out", "MiB", ram_mib / 2, REPS, page_out);
    measure("swap-in-seq", "page", 0, REPS, page_in_seq);
    measure("swap-in-random", "page", 0, REPS, page_in_random);
    measure("swap-twice-ram", "run", 1, 3, twice_ram); /* a minute a run on Linux under TCG */
    if (bad_pages) printf("swap: %ld pages held the wrong bytes\n", bad_pages);
    else printf("BENCH done\n");
    fflush(stdout);
    if (getpid() == 1) reboot(RB_POWER_OFF); /* Linux: power off; TSKernel: ENOSYS, then exit */
    return bad_pages != 0;
}
