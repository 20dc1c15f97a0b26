/* The storage benchmark: runs unchanged as init on TSKernel and on Linux,
 * with the disks scripts/bench.mjs makes attached as virtio-blk: /dev/vda
 * raw, /dev/vdb with an ext2 file system in partition 1. It prints BENCH
 * lines as bench.c does, each with the requests and sectors the counted
 * disk read and wrote per unit (medians, from /proc/diskstats) appended.
 *
 * Every repetition of a cold row meets sectors nothing has read yet,
 * within one boot: vda is split into regions, five of each, and vdb holds
 * five files of each kind (NAME-0 to NAME-4). Each 4 KiB page of vda, and
 * of each file, starts with its page number (little-endian, 64 bits),
 * which the reads check; the writes stamp each page with its page number's
 * complement, which bench.mjs checks in vda's image afterwards.
 *
 * On Linux it first loads the drivers (linux-init.h). Without ext2, the
 * ext2 rows are left out. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diskstats.h"
#include "linux-init.h"
#include "measure.h"

/* The layout; scripts/bench-disks.mjs makes the image to match. */
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

/* The counts per unit of each repetition; `units` is the row's. */
static int repetition;
static double units, per_unit[COUNTS][REPS];
static struct span with_counts(struct span (*body)(int)) {
    double before[COUNTS], after[COUNTS];
    disk_counts(before);
    struct span s = body(repetition % REPS);
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

/* The bodies: each gets its repetition's number, 0 to REPS - 1, and the
 * block-device ones their region from it; on ext2, files NAME-N that
 * bench.mjs made (pages stamped with their page number in the file). */
static struct span read_through(int fd, uint64_t base, uint64_t size) {
    struct span s = begin();
    for (uint64_t done = 0; done < size; done += MIB) {
        if (pread(fd, buffer, MIB, base + done) != (ssize_t)MIB) { perror("read"); exit(1); }
        for (uint64_t page = 0; page < MIB; page += PAGE) check_page(buffer + page, base + done + page, (base + done + page) / PAGE);
    }
    return end(s);
}

static struct span touch_mapping(int fd, uint64_t base) {
    unsigned char *map = mmap(NULL, FAULT_SIZE, PROT_READ, MAP_SHARED, fd, base);
    if (map == MAP_FAILED) { perror("mmap"); exit(1); }
    struct span s = begin();
    for (uint64_t page = 0; page < FAULT_SIZE; page += PAGE) check_page(map + page, base + page, (base + page) / PAGE);
    s = end(s);
    munmap(map, FAULT_SIZE);
    return s;
}

static struct span write_fsync(int fd, uint64_t base) {
    struct span s = begin();
    for (uint64_t done = 0; done < WRITE_SIZE; done += MIB) {
        for (uint64_t page = 0; page < MIB; page += PAGE) *(uint64_t *)(buffer + page) = ~((base + done + page) / PAGE);
        if (pwrite(fd, buffer, MIB, base + done) != (ssize_t)MIB) { perror("pwrite"); exit(1); }
    }
    if (fsync(fd) != 0) { perror("fsync"); exit(1); }
    return end(s);
}

static struct span disk_seq_read(int rep) { return read_through(disk, SEQ_BASE + rep * SEQ_STRIDE, SEQ_SIZE); }
static struct span disk_fault(int rep) { return touch_mapping(disk, FAULT_BASE + rep * FAULT_STRIDE); }
static struct span disk_write(int rep) { return write_fsync(disk, WRITE_BASE + rep * WRITE_STRIDE); }

static int open_file(const char *name, int rep, int flags) {
    char path[64];
    snprintf(path, sizeof path, "/mnt/%s-%d", name, rep);
    int fd = open(path, flags, 0644);
    if (fd < 0) { perror(path); exit(1); }
    return fd;
}

static struct span with_file(const char *name, int rep, int flags, struct span (*body)(int, uint64_t)) {
    int fd = open_file(name, rep, flags);
    struct span s = body(fd, 0);
    close(fd);
    return s;
}

static struct span read_file(int fd, uint64_t base) { return read_through(fd, base, SEQ_SIZE); }
static struct span ext2_seq_read(int rep) { return with_file("seq", rep, O_RDONLY, read_file); }
static struct span ext2_fault(int rep) { return with_file("fault", rep, O_RDONLY, touch_mapping); }
static struct span ext2_write(int rep) { return with_file("write", rep, O_WRONLY | O_CREAT | O_TRUNC, write_fsync); }

/* fork, exec of a 32 MiB program that touches three of its pages (user/bench/big.c), wait. */
static struct span ext2_exec(int rep) {
    char path[64];
    snprintf(path, sizeof path, "/mnt/big-%d", rep);
    struct span s = begin();
    pid_t pid = fork();
    if (pid == 0) {
        execve(path, (char *[]){ path, 0 }, (char *[]){ 0 });
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    s = end(s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { printf("disk: exec of %s failed\n", path); exit(1); }
    return s;
}

/* The same rows on files of the ext2 file system on /dev/vdb1, and a cold exec from it. */
static void ext2_rows(void) {
    mkdir("/mnt", 0755);
    if (mount("/dev/vdb1", "/mnt", "ext2", 0, NULL) != 0) { perror("disk: mount /dev/vdb1 (no ext2 rows)"); return; }
    counted = " vdb ";
    units = SEQ_SIZE / MIB;
    MEASURE("ext2-seq-read", "MiB", units, with_counts(ext2_seq_read));
    units = FAULT_SIZE / PAGE;
    MEASURE("ext2-read-fault-cold", "page", units, with_counts(ext2_fault));
    MEASURE("ext2-read-fault-warm", "page", units, with_counts(ext2_fault));
    units = WRITE_SIZE / MIB;
    MEASURE("ext2-write-fsync", "MiB", units, with_counts(ext2_write));
    units = 1;
    MEASURE("exec-32m-cold", "exec", units, with_counts(ext2_exec));
    if (umount("/mnt") != 0) perror("disk: umount /mnt");
}

int main(void) {
    linux_init();
    disk = open("/dev/vda", O_RDWR);
    if (disk < 0) { perror("open /dev/vda"); return 1; }
    memset(buffer, 0, sizeof buffer); /* its demand-zero faults stay out of the timed spans */
    report_extra = counts_text;
    units = SEQ_SIZE / MIB;
    MEASURE("disk-seq-read", "MiB", units, with_counts(disk_seq_read));
    units = FAULT_SIZE / PAGE;
    MEASURE("disk-read-fault-cold", "page", units, with_counts(disk_fault));
    MEASURE("disk-read-fault-warm", "page", units, with_counts(disk_fault));
    units = WRITE_SIZE / MIB;
    MEASURE("disk-write-fsync", "MiB", units, with_counts(disk_write));
    close(disk);
    ext2_rows();
    if (bad_pages) printf("disk: %d pages held the wrong bytes\n", bad_pages);
    else printf("BENCH done\n");
    fflush(stdout);
    if (getpid() == 1) reboot(RB_POWER_OFF); /* Linux: power off; TSKernel: ENOSYS, then exit */
    return bad_pages != 0;
}
