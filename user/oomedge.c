/* Out of memory at the exact edge, for every kind of fault: a child fills
 * memory until only a few frames are left, then touches pages far from
 * everything else, so that each fault needs a data frame and new page
 * tables (1, 2 or 3 of them, by the stride). Somewhere one of those
 * allocations is the one that fails. The child is killed (or, when the
 * kernel itself writes through a system call, gets EFAULT), and nothing it
 * allocated may stay behind: after each child, /proc/memcheck must report
 * no problem and exactly the free-frame count from before.
 *
 * Kinds: zero (a write to untouched anonymous memory), file (a write to a
 * private file mapping: page cache, copy, tables), syscall (clock_gettime
 * writing into untouched memory), cow (writes to pages shared with the
 * parent after fork, in a grandchild that filled memory first).
 *
 * Meant to run as init on a small machine (64 MiB). Prints one line per
 * child and "oomedge: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096l
#define FAR_BASE 0x100000000000l /* 16 TiB: far from the program, heap, mmap area and stack */
#define FILL_SIZE (1l << 30)
#define LOW_WATER_KB 256
#define MAP_OUT_OF_MEMORY 7 /* a child's exit status */

static int failures;

/* A /proc file's number after `key` (0 if absent). */
static long proc_number(const char *path, const char *key) {
    static char text[2048];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    long n = read(fd, text, sizeof text - 1);
    close(fd);
    text[n > 0 ? n : 0] = 0;
    char *at = strstr(text, key);
    return at ? atol(at + strlen(key)) : 0;
}

static long free_kb(void) {
    return proc_number("/proc/meminfo", "MemFree:");
}

/* Touches fresh anonymous pages until MemFree is down to the low-water
 * mark, then `extra` pages more. */
static void fill(long extra) {
    char *p = mmap(0, FILL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) _exit(3);
    long i = 0;
    while (free_kb() > LOW_WATER_KB + 256) {
        for (int j = 0; j < 32; j++) p[(i++) * PAGE] = 1;
    }
    while (free_kb() > LOW_WATER_KB) p[(i++) * PAGE] = 1;
    for (long j = 0; j < extra; j++) p[(i++) * PAGE] = 1;
}

enum kind { ZERO, FILE_COPY, SYSCALL, COW };
static const char *kind_names[] = {"zero", "file", "syscall", "cow"};

/* The mapping itself may be what memory runs out on (its record, a page
 * table): mmap then says ENOMEM, which is as clean an end as the kill. */
static void mapped_or_exit(void *got) {
    if (got == MAP_FAILED) _exit(errno == ENOMEM ? MAP_OUT_OF_MEMORY : 4);
}

static void touch_far(enum kind kind, long stride) {
    int fd = kind == FILE_COPY ? open("/bin/oomedge", O_RDONLY) : -1;
    for (long i = 0; i < 4096; i++) {
        char *at = (char *)(FAR_BASE + i * stride);
        if (kind == ZERO) {
            mapped_or_exit(mmap(at, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
            *(volatile char *)at = 1;
        } else if (kind == FILE_COPY) {
            mapped_or_exit(mmap(at, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0));
            *(volatile char *)at = 1;
        } else {
            mapped_or_exit(mmap(at, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
            /* The kernel writes the page: EFAULT when it cannot have it, and the process lives on. */
            if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, at) != 0) _exit(0);
        }
    }
    _exit(5); /* memory never ran out */
}

/* cow: the child's pages, shared with a grandchild that fills memory and
 * then writes them: each write needs a copy. */
static void cow_child(long extra) {
    long pages = 2048;
    char *shared = mmap(0, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (long i = 0; i < pages; i++) shared[i * PAGE] = 2;
    pid_t grandchild = fork();
    if (grandchild == 0) {
        fill(extra);
        for (long i = 0; i < pages; i++) shared[i * PAGE] = 3;
        _exit(5);
    }
    int status = 0;
    waitpid(grandchild, &status, 0);
    _exit(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 6);
}

static void run(enum kind kind, long stride, long extra) {
    fflush(stdout);
    long baseline = proc_number("/proc/memcheck", "free_frames ");
    pid_t child = fork();
    if (child == 0) {
        if (kind == COW) cow_child(extra);
        fill(extra);
        touch_far(kind, stride);
    }
    int status = 0;
    waitpid(child, &status, 0);
    int ended_right = WIFEXITED(status) && WEXITSTATUS(status) == MAP_OUT_OF_MEMORY ? 1
                    : kind == SYSCALL || kind == COW ? WIFEXITED(status) && WEXITSTATUS(status) == 0
                                                     : WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    long problems = proc_number("/proc/memcheck", "problems ");
    long free_frames = proc_number("/proc/memcheck", "free_frames ");
    int ok = ended_right && problems == 0 && free_frames == baseline;
    printf("%s oomedge %s stride %ld KiB extra %ld: child %s %d; free_frames %ld -> %ld, problems %ld\n", ok ? "ok" : "FAIL",
           kind_names[kind], stride / 1024, extra, WIFSIGNALED(status) ? "killed by signal" : "exited with",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), baseline, free_frames, problems);
    if (!ok) failures++;
}

/* Makes the stack below main resident: where exec put the stack (it is
 * randomised) decides which of this process's later calls would touch a
 * new page, and that page's frame would count against a child. */
static void __attribute__((noinline)) touch_stack(void) {
    volatile char below[64 * 1024];
    for (unsigned long i = 0; i < sizeof below; i += PAGE) below[i] = 0;
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    touch_stack();
    printf("oomedge: frames free with nothing else running, before and after each child:\n");
    const long strides[] = {2l << 20, 1l << 30, 512l << 30}; /* 1, 2 or 3 new page tables per fault */
    for (enum kind kind = ZERO; kind <= COW; kind++) {
        for (int s = 0; s < 3; s++) {
            if (kind == COW && s > 0) break; /* a copy needs no new table: the stride does not matter */
            for (long extra = 0; extra < 4; extra++) run(kind, strides[s], extra);
        }
    }
    printf("oomedge: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
