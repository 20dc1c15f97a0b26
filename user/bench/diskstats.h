/* What user/bench/disk.c and swap.c count of a disk's traffic, from
 * /proc/diskstats (the same fields on both kernels). */
#ifndef BENCH_DISKSTATS_H
#define BENCH_DISKSTATS_H
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The counted disk's figures from /proc/diskstats: reads completed, sectors read, writes completed, sectors written. */
#define COUNTS 4
static const char *counted = " vda "; /* the disk: its name in the file, spaced */
static void disk_counts(double *counts) {
    static char text[8192];
    memset(counts, 0, COUNTS * sizeof *counts);
    int fd = open("/proc/diskstats", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0) close(fd);
    if (n <= 0) return;
    text[n] = 0;
    char *at = strstr(text, counted);
    unsigned long long v[7];
    if (at && sscanf(at + strlen(counted), "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) == 7) {
        counts[0] = v[0];
        counts[1] = v[2];
        counts[2] = v[4];
        counts[3] = v[6];
    }
}
#endif
