/* What user/bench/bench.c and disk.c share: timed spans (wall ns, TSC
 * ticks, minor faults), medians over REPS repetitions, and the BENCH line
 * scripts/bench.mjs parses. */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define PAGE 4096UL
#define MIB (1024UL * 1024UL)
#define REPS 5

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static long minor_faults(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

/* One timed span: wall ns, TSC ticks and this process's minor faults. */
struct span { uint64_t ns, ticks; long faults; };
static struct span begin(void) { struct span s = { now_ns(), rdtsc(), minor_faults() }; return s; }
static struct span end(struct span s) {
    struct span e = { now_ns() - s.ns, rdtsc() - s.ticks, minor_faults() - s.faults };
    return e;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, compare);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* When set, its text ends each BENCH line (disk.c: the sectors read and written per unit). */
static const char *(*report_extra)(void);

static void report(const char *name, const char *unit, double *ns, double *ticks, double *faults, int reps) {
    printf("BENCH %s %s ns=%.1f ticks=%.1f faults=%.3f reps=%d%s\n", name, unit, median(ns, reps), median(ticks, reps),
           median(faults, reps), reps, report_extra ? report_extra() : "");
    fflush(stdout);
}

/* Runs `body` `reps` times (at most REPS); each call returns a span covering `units` units. */
#define MEASURE_REPS(name, unit, units, reps, body)                             \
    do {                                                                       \
        double ns_[REPS], ticks_[REPS], faults_[REPS];                         \
        for (int r_ = 0; r_ < (reps); r_++) {                                  \
            struct span s_ = body;                                             \
            ns_[r_] = (double)s_.ns / (units);                                 \
            ticks_[r_] = (double)s_.ticks / (units);                           \
            faults_[r_] = (double)s_.faults / (units);                         \
        }                                                                      \
        report(name, unit, ns_, ticks_, faults_, (reps));                      \
    } while (0)
#define MEASURE(name, unit, units, body) MEASURE_REPS(name, unit, units, REPS, body)

#endif
