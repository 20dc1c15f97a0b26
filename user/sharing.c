/* sharing: what each of N concurrent runs of one dynamically linked
 * program costs in frames beyond the first, that is, how much of it the
 * page cache shares.
 *
 *   sharing [N [WORKER]]   N runs (default 10) of WORKER (default
 *                          /bin/sharing-glibc: this file linked with glibc)
 *   sharing worker         the worker: touches every page of libc's code,
 *                          says so on descriptor 3, and waits for the end
 *                          of its standard input
 *
 * The driver (static, so that it maps no libc itself) counts free frames
 * with nothing running, with one worker alive and with all N alive, prints
 * the cost of the first and of each further one, every worker's resident
 * pages by kind (/proc/PID/status) and, where the kernel has it,
 * /proc/PID/smaps_rollup, then ends them and checks that every frame came
 * back. Free frames are /proc/memcheck's count where it exists (TSKernel:
 * exact, after dropping unmapped cache pages, with the frame audit) and
 * /proc/zoneinfo's otherwise (Linux: free pages and those on the per-CPU
 * lists; what its slab caches hold free is not seen). Output lines
 * start with "sharing: "; it ends with "sharing: ok" (exit 0) or
 * "sharing: FAILED (N checks)" (exit 1) after "sharing: FAIL ..." lines.
 * As Linux's init it mounts /proc first. Output goes through write(2),
 * never through stdio's buffer, which a fork would duplicate. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096ul
#define MAX_WORKERS 64
#define READY_FD 3

static int failures;

static void say(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 1) n = sizeof line - 1;
    if (write(1, line, n) < 0) _exit(2);
}

#define CHECK(cond, ...)                  \
    do {                                  \
        if (!(cond)) {                    \
            failures++;                   \
            say("sharing: FAIL " __VA_ARGS__); \
            say("\n");                    \
        }                                 \
    } while (0)

/* ---------------------------------------------------------------- worker */

static long touched_pages;

/* Reads a byte of every page of libc's executable segments. */
static int touch_libc(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    if (!strstr(info->dlpi_name, "/libc.so")) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        unsigned long start = (info->dlpi_addr + ph->p_vaddr) & ~(PAGE - 1);
        unsigned long end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        for (unsigned long at = start; at < end; at += PAGE, touched_pages++) (void)*(volatile const char *)at;
    }
    return 1;
}

static int worker(void) {
    dl_iterate_phdr(touch_libc, NULL);
    if (write(READY_FD, &touched_pages, sizeof touched_pages) != sizeof touched_pages) return 3;
    char c;
    while (read(0, &c, 1) > 0) {
    }
    return touched_pages > 0 ? 0 : 4; /* no libc found: not the program this measures */
}

/* ---------------------------------------------------------------- driver */

static char text[65536]; /* /proc/zoneinfo is the longest */

static long read_text(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    long n = 0, got;
    while (n < (long)sizeof text - 1 && (got = read(fd, text + n, sizeof text - 1 - n)) > 0) n += got;
    close(fd);
    text[n] = 0;
    return n;
}

/* The number after "NAME" (then spaces or a colon) at the start of a line of `text`; -1 if absent. */
static long field(const char *name) {
    size_t length = strlen(name);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, name, length) == 0 && (p[length] == ' ' || p[length] == ':' || p[length] == '\t')) {
            const char *q = p + length;
            while (*q == ' ' || *q == ':' || *q == '\t') q++;
            return strtol(q, NULL, 10);
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return -1;
}

/* The sum of the numbers after every "NAME" (after spaces, at the start of a line, then a space or a colon) in `text`. */
static long sum_fields(const char *name) {
    size_t length = strlen(name);
    long sum = 0;
    for (const char *p = text; p && *p;) {
        while (*p == ' ') p++;
        if (strncmp(p, name, length) == 0 && (p[length] == ' ' || p[length] == ':')) sum += strtol(p + length + 1, NULL, 10);
        p = strchr(p, '\n');
        if (p) p++;
    }
    return sum;
}

static int exact; /* free frames from /proc/memcheck */

/*
 * Free frames now; on TSKernel also the frame audit's problem count and the
 * kernel objects in use. Linux's free frames are its zones' free pages and
 * the pages on its per-CPU lists (/proc/zoneinfo's "count:"), which MemFree
 * leaves out: they move between the two in batches of dozens.
 */
static long free_frames(long *problems, long *objects) {
    *problems = *objects = 0;
    if (exact && read_text("/proc/memcheck") > 0) {
        *problems = field("problems");
        *objects = field("kernel_objects");
        return field("free_frames");
    }
    if (read_text("/proc/zoneinfo") > 0) return sum_fields("nr_free_pages") + sum_fields("count");
    return read_text("/proc/meminfo") > 0 ? field("MemFree") / 4 : -1;
}

static int hold[2], ready[2];
static pid_t pids[MAX_WORKERS];

static void spawn(int i, const char *program) {
    pid_t pid = fork();
    if (pid == 0) {
        /* The pipes are close-on-exec: the worker keeps only these two (hold[0] may be 3: it is on 0 by then). */
        dup2(hold[0], 0);
        dup2(ready[1], READY_FD);
        execl(program, program, "worker", (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0, "fork: errno %d", errno);
    pids[i] = pid;
}

/*
 * Waits until `count` workers have touched libc; returns the pages the last
 * one touched. A worker that died first never says so, and this process
 * holds the pipe's writing end too: a minute without word is a failure.
 */
static long await_ready(int count) {
    long pages = -1;
    for (int i = 0; i < count; i++) {
        struct pollfd wait = {ready[0], POLLIN, 0};
        ssize_t n = poll(&wait, 1, 60000) == 1 ? read(ready[0], &pages, sizeof pages) : -1;
        CHECK(n == sizeof pages, "worker %d of %d never got ready (read %ld, errno %d)", i + 1, count, (long)n, errno);
        if (n != sizeof pages) return -1;
    }
    return pages;
}

struct usage {
    long rss, anon, file, shmem, tables;                        /* /proc/PID/status, kB */
    long s_rss, pss, shared_clean, shared_dirty, private_clean, private_dirty; /* smaps_rollup, kB; -1 without */
};

static struct usage usage_of(pid_t pid) {
    char path[64];
    struct usage u;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    CHECK(read_text(path) > 0, "%s: errno %d", path, errno);
    u.rss = field("VmRSS");
    u.anon = field("RssAnon");
    u.file = field("RssFile");
    u.shmem = field("RssShmem");
    u.tables = field("VmPTE");
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    if (read_text(path) <= 0) text[0] = 0;
    u.s_rss = field("Rss");
    u.pss = field("Pss");
    u.shared_clean = field("Shared_Clean");
    u.shared_dirty = field("Shared_Dirty");
    u.private_clean = field("Private_Clean");
    u.private_dirty = field("Private_Dirty");
    return u;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "worker") == 0) return worker();
    int n = argc > 1 ? atoi(argv[1]) : 10;
    const char *program = argc > 2 ? argv[2] : "/bin/sharing-glibc";
    if (n < 2 || n > MAX_WORKERS) {
        say("usage: sharing [N (2..%d) [WORKER]]\n", MAX_WORKERS);
        return 2;
    }
    if (access("/proc/meminfo", R_OK) != 0) { /* Linux's init: nothing is mounted yet */
        mkdir("/proc", 0555);
        CHECK(mount("proc", "/proc", "proc", 0, NULL) == 0, "mount /proc: errno %d", errno);
    }
    exact = access("/proc/memcheck", R_OK) == 0;

    /* Everything the driver itself touches from here on is touched once now, so that the counts below are the workers'. */
    long problems, objects, objects_before;
    struct usage self = usage_of(getpid());
    (void)self;
    free_frames(&problems, &objects);
    /* The leak check's baseline comes before the pipes, the costs' after them. */
    long before = free_frames(&problems, &objects_before);
    CHECK(pipe2(hold, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0, "pipe: errno %d", errno);
    long start = free_frames(&problems, &objects);

    spawn(0, program);
    long pages = await_ready(1);
    long one = free_frames(&problems, &objects);
    if (pages >= 0) {
        for (int i = 1; i < n; i++) spawn(i, program);
        if (await_ready(n - 1) < 0) pages = -1;
    }
    if (pages < 0) { /* nothing to measure: end the workers there are */
        close(hold[1]);
        while (wait(NULL) > 0) {
        }
        say("sharing: FAILED (%d checks)\n", failures);
        return 1;
    }
    long all = free_frames(&problems, &objects);

    struct usage first = usage_of(pids[0]), sum = {0};
    for (int i = 0; i < n; i++) {
        struct usage u = i == 0 ? first : usage_of(pids[i]);
        sum.rss += u.rss, sum.anon += u.anon, sum.file += u.file, sum.shmem += u.shmem, sum.tables += u.tables;
        sum.s_rss += u.s_rss, sum.pss += u.pss, sum.shared_clean += u.shared_clean, sum.shared_dirty += u.shared_dirty;
        sum.private_clean += u.private_clean, sum.private_dirty += u.private_dirty;
    }

    close(hold[1]); /* end of input: the workers exit */
    for (int i = 0; i < n; i++) {
        int status = -1;
        CHECK(waitpid(pids[i], &status, 0) == pids[i], "waitpid %d: errno %d", (int)pids[i], errno);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d ended with status %#x", i + 1, status);
    }
    close(hold[0]);
    close(ready[0]);
    close(ready[1]);
    long end = free_frames(&problems, &objects);

    long first_cost = start - one;
    long further = one - all; /* n - 1 workers */
    say("sharing: %d workers of %s, each touching %ld pages of libc's code\n", n, program, pages);
    say("sharing: free frames %ld before, %ld at the start, %ld with one worker, %ld with %d, %ld after (%s)\n", before,
        start, one, all, n, end, exact ? "/proc/memcheck" : "/proc/zoneinfo");
    say("sharing: first %ld frames, each further %ld.%02ld frames\n", first_cost, further / (n - 1),
        further % (n - 1) * 100 / (n - 1));
    say("sharing: a worker's resident kB (average): rss %ld file %ld anon %ld shmem %ld page-tables %ld\n", sum.rss / n,
        sum.file / n, sum.anon / n, sum.shmem / n, sum.tables / n);
    if (first.s_rss >= 0) {
        say("sharing: smaps_rollup kB (average): rss %ld pss %ld shared_clean %ld shared_dirty %ld private_clean %ld "
            "private_dirty %ld\n", sum.s_rss / n, sum.pss / n, sum.shared_clean / n, sum.shared_dirty / n,
            sum.private_clean / n, sum.private_dirty / n);
    }
    CHECK(pages > 0, "the worker found no libc to touch");
    /* Linux's status counts lag (each thread caches its counts for up to 64 faults): smaps_rollup's walk, where there is one, is exact. */
    long resident = first.s_rss >= 0 ? first.s_rss : first.rss;
    CHECK(resident / 4 >= pages, "a worker's resident pages (%ld kB) fewer than the libc pages it touched (%ld)", resident,
          pages);
    /* Every page of libc's code is mapped by every worker: shared, not one copy each. */
    if (first.s_rss >= 0) {
        CHECK((first.shared_clean + first.shared_dirty) / 4 >= pages, "a worker's shared pages (%ld kB) fewer than the libc "
              "pages it touched (%ld)", first.shared_clean + first.shared_dirty, pages);
    }
    if (exact) {
        CHECK(problems == 0, "/proc/memcheck reports %ld problems (see the memcheck: lines)", problems);
        CHECK(end == before, "free frames %ld before, %ld after the workers (%+ld)", before, end, end - before);
        CHECK(objects == objects_before, "kernel objects %ld before, %ld after", objects_before, objects);
    }
    if (failures) say("sharing: FAILED (%d checks)\n", failures);
    else say("sharing: ok\n");
    return failures != 0;
}
