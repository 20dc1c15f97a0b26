/* The storage benchmark: runs unchanged as init on TSKernel and on Linux,
 * with the disk scripts/bench.mjs makes attached as /dev/vda (virtio-blk),
 * and prints BENCH lines as bench.c does, each with the requests and sectors
 * the disk read and wrote per unit (medians, from /proc/diskstats) appended.
 *
 * The disk is split into regions so that every repetition of a cold row
 * meets sectors nothing has read yet, within one boot: each 4 KiB page of
 * the image starts with its page number (little-endian, 64 bits), which
 * the reads check; the writes stamp each page with its page number's
 * complement, which bench.mjs checks in the image afterwards.
 *
 * On Linux it first loads the modules in /lib/modules (NN-name.ko, in name
 * order: Debian builds virtio_pci and virtio_blk as modules) and mounts
 * devtmpfs and proc; TSKernel has the drivers built in and both mounted. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "measure.h"

/* The layout; scripts/bench.mjs makes the image to match (diskLayout). */
#define SEQ_BASE 0UL
#define SEQ_SIZE (64 * MIB)
#define SEQ_STRIDE (65 * MIB) /* a MiB apart: one region's readahead does not warm the next */
#define FAULT_BASE (SEQ_BASE + REPS * SEQ_STRIDE)
#define FAULT_SIZE (8 * MIB)
#define FAULT_STRIDE (9 * MIB)
#define WRITE_BASE (FAULT_BASE + REPS * FAULT_STRIDE)
#define WRITE_SIZE (32 * MIB)
#define WRITE_STRIDE (33 * MIB)

static int disk;
static int bad_pages;
static unsigned char buffer[MIB] __attribute__((aligned(4096)));

static void load_modules(void) {
    struct dirent **names;
    int n = scandir("/lib/modules", &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char path[300];
        snprintf(path, sizeof path, "/lib/modules/%s", names[i]->d_name);
        int fd = names[i]->d_name[0] == '.' ? -1 : open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && syscall(SYS_finit_module, fd, "", 0) != 0) perror(path);
        if (fd >= 0) close(fd);
        free(names[i]);
    }
    if (n >= 0) free(names);
    mkdir("/proc", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
}

/* vda's counts from /proc/diskstats: reads completed, sectors read, writes completed, sectors written. */
#define COUNTS 4
static void disk_counts(double *counts) {
    static char text[8192];
    memset(counts, 0, COUNTS * sizeof *counts);
    int fd = open("/proc/diskstats", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0) close(fd);
    if (n <= 0) return;
    text[n] = 0;
    char *at = strstr(text, " vda ");
    unsigned long long v[7];
    if (at && sscanf(at + 5, "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) == 7) {
        counts[0] = v[0];
        counts[1] = v[2];
        counts[2] = v[4];
        counts[3] = v[6];
    }
}

static int next_seq, next_fault, next_warm, next_write;

/* The counts per unit of each repetition; `units` is the row's. */
static int repetition;
static double units, per_unit[COUNTS][REPS];
static struct span with_counts(struct span (*body)(void)) {
    double before[COUNTS], after[COUNTS];
    disk_counts(before);
    struct span s = body();
    disk_counts(after);
    for (int i = 0; i < COUNTS; i++) per_unit[i][repetition % REPS] = (after[i] - before[i]) / units;
    repetition++;
    return s;
}

static const char *counts_text(void) {
    static char text[120];
    snprintf(text, sizeof text, " requests-read=%.2f sectors-read=%.1f requests-written=%.2f sectors-written=%.1f",
             median(per_unit[0], REPS), median(per_unit[1], REPS), median(per_unit[2], REPS), median(per_unit[3], REPS));
    return text;
}

static void check_page(const unsigned char *page, uint64_t offset, uint64_t stamp) {
    if (*(const uint64_t *)page != stamp) {
        if (bad_pages++ < 4) printf("disk: page at byte %llu holds %llx\n", (unsigned long long)offset,
                                    (unsigned long long)*(const uint64_t *)page);
    }
}

static struct span seq_read(void) {
    uint64_t base = SEQ_BASE + next_seq++ * SEQ_STRIDE;
    lseek(disk, base, SEEK_SET);
    struct span s = begin();
    for (uint64_t done = 0; done < SEQ_SIZE; done += MIB) {
        if (read(disk, buffer, MIB) != (ssize_t)MIB) { perror("read /dev/vda"); exit(1); }
        for (uint64_t page = 0; page < MIB; page += PAGE) check_page(buffer + page, base + done + page, (base + done + page) / PAGE);
    }
    return end(s);
}

static struct span touch_region(uint64_t base) {
    unsigned char *map = mmap(NULL, FAULT_SIZE, PROT_READ, MAP_SHARED, disk, base);
    if (map == MAP_FAILED) { perror("mmap /dev/vda"); exit(1); }
    struct span s = begin();
    for (uint64_t page = 0; page < FAULT_SIZE; page += PAGE) check_page(map + page, base + page, (base + page) / PAGE);
    s = end(s);
    munmap(map, FAULT_SIZE);
    return s;
}

static struct span fault_cold(void) { return touch_region(FAULT_BASE + next_fault++ * FAULT_STRIDE); }
static struct span fault_warm(void) { return touch_region(FAULT_BASE + next_warm++ * FAULT_STRIDE); }

static struct span write_fsync(void) {
    uint64_t base = WRITE_BASE + next_write++ * WRITE_STRIDE;
    struct span s = begin();
    for (uint64_t done = 0; done < WRITE_SIZE; done += MIB) {
        for (uint64_t page = 0; page < MIB; page += PAGE) *(uint64_t *)(buffer + page) = ~((base + done + page) / PAGE);
        if (pwrite(disk, buffer, MIB, base + done) != (ssize_t)MIB) { perror("pwrite /dev/vda"); exit(1); }
    }
    if (fsync(disk) != 0) { perror("fsync /dev/vda"); exit(1); }
    return end(s);
}

int main(void) {
    struct utsname names;
    if (uname(&names) == 0 && strcmp(names.sysname, "Linux") == 0) load_modules();
    disk = open("/dev/vda", O_RDWR);
    if (disk < 0) { perror("open /dev/vda"); return 1; }
    memset(buffer, 0, sizeof buffer); /* its demand-zero faults stay out of the timed spans */
    report_extra = counts_text;
    units = SEQ_SIZE / MIB;
    MEASURE("disk-seq-read", "MiB", units, with_counts(seq_read));
    units = FAULT_SIZE / PAGE;
    MEASURE("disk-read-fault-cold", "page", units, with_counts(fault_cold));
    MEASURE("disk-read-fault-warm", "page", units, with_counts(fault_warm));
    units = WRITE_SIZE / MIB;
    MEASURE("disk-write-fsync", "MiB", units, with_counts(write_fsync));
    close(disk);
    if (bad_pages) printf("disk: %d pages held the wrong bytes\n", bad_pages);
    else printf("BENCH done\n");
    fflush(stdout);
    if (getpid() == 1) reboot(RB_POWER_OFF); /* Linux: power off; TSKernel: ENOSYS, then exit */
    return bad_pages != 0;
}
