/* cowtest: fork and copy-on-write, demand paging, the heap, sharing of
 * program text through the page cache, out of memory, and the leak check.
 *
 *   cowtest SCENARIO      twothirds generations pipe rounds sparse oom heap
 *                         sharing, or "all" (each of those in a child, with
 *                         /proc/memcheck before and after), or the extra
 *                         "mprotect", "sharedanon" and "forkfail" (not
 *                         part of "all")
 *
 * Each scenario prints what it measured (free frames from /proc/memcheck,
 * fault and copy-on-write counts from /proc/self/faults, /proc/meminfo
 * totals) and ends with "cowtest NAME: ok" (exit 0) or
 * "cowtest NAME: FAILED (N checks)" (exit 1); every failed check prints a
 * "cowtest NAME: FAIL ..." line first.
 *
 * The in-process leak checks compare free_frames and kernel_objects taken
 * before and after a scenario by the same process. That only works if the
 * process itself uses exactly the same memory at both points, so main()
 * first faults in every page of the program (text read, data and .bss
 * written), a stack reserve, and the shared zero page; after that a
 * scenario's own regions are all it adds, and it removes them again.
 *
 * Output goes through write(2), one line per call, never through stdio's
 * buffer (which a fork would duplicate). No malloc: the heap scenario
 * owns brk. musl's sbrk() refuses any non-zero increment (ENOMEM), so
 * sbrk here is a direct brk system call. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ul
#define KIB 1024ul
#define MIB (1024ul * KIB)
#define GIB (1024ul * MIB)

extern char **environ;

static const char *scenario = "?";
static int failures;

/* ---------------------------------------------------------------- output */

static void say(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof line - 1) n = sizeof line - 1;
    for (int done = 0; done < n;) {
        ssize_t w = write(1, line + done, n - done);
        if (w <= 0) return;
        done += w;
    }
}

static void fail(const char *fmt, ...) {
    char message[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    failures++;
    say("cowtest %s: FAIL (pid %d): %s\n", scenario, getpid(), message);
}

#define CHECK(cond, ...) \
    do {                 \
        if (!(cond)) fail(__VA_ARGS__); \
    } while (0)

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ------------------------------------------------------- kernel counters */

static long read_text(const char *path, char *buffer, size_t capacity) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    size_t n = 0;
    ssize_t r;
    while (n < capacity - 1 && (r = read(fd, buffer + n, capacity - 1 - n)) > 0) n += r;
    close(fd);
    buffer[n] = 0;
    return n;
}

/* The number after "NAME" (then spaces or a colon) at the start of a line; -1 if absent. */
static long field(const char *text, const char *name) {
    size_t length = strlen(name);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, name, length) == 0 && (p[length] == ' ' || p[length] == ':')) {
            const char *q = p + length;
            while (*q == ' ' || *q == ':') q++;
            return strtol(q, NULL, 10);
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return -1;
}

struct memcheck {
    long problems, free_frames, cached_pages, kernel_objects;
};

static struct memcheck memcheck(void) {
    char text[512];
    struct memcheck m = {-1, -1, -1, -1};
    if (read_text("/proc/memcheck", text, sizeof text) < 0) {
        fail("cannot open /proc/memcheck (errno %d)", errno);
        return m;
    }
    m.problems = field(text, "problems");
    m.free_frames = field(text, "free_frames");
    m.cached_pages = field(text, "cached_pages");
    m.kernel_objects = field(text, "kernel_objects");
    return m;
}

/* The leak check: no problems, and the same free frames and kernel objects. */
static int same_memory(const char *what, struct memcheck before, struct memcheck after) {
    int bad = failures;
    CHECK(after.problems == 0, "%s: /proc/memcheck reports %ld problems (see the memcheck: lines)", what, after.problems);
    CHECK(after.free_frames == before.free_frames, "%s: free_frames %ld before, %ld after (%+ld)", what,
          before.free_frames, after.free_frames, after.free_frames - before.free_frames);
    CHECK(after.kernel_objects == before.kernel_objects, "%s: kernel_objects %ld before, %ld after", what,
          before.kernel_objects, after.kernel_objects);
    return failures == bad;
}

struct faults {
    long zero_page_maps, demand_zero, file, resident_pages, cow_copies, cow_reuses, shared_at_fork;
};

static struct faults faults(void) {
    char text[512];
    struct faults f = {-1, -1, -1, -1, -1, -1, -1};
    if (read_text("/proc/self/faults", text, sizeof text) < 0) {
        fail("cannot open /proc/self/faults (errno %d)", errno);
        return f;
    }
    f.zero_page_maps = field(text, "zero_page_maps");
    f.demand_zero = field(text, "demand_zero");
    f.file = field(text, "file");
    f.resident_pages = field(text, "resident_pages");
    f.cow_copies = field(text, "cow_copies");
    f.cow_reuses = field(text, "cow_reuses");
    f.shared_at_fork = field(text, "shared_at_fork");
    return f;
}

static long meminfo(const char *name) {
    char text[1024];
    if (read_text("/proc/meminfo", text, sizeof text) < 0) {
        fail("cannot open /proc/meminfo (errno %d)", errno);
        return -1;
    }
    long value = field(text, name);
    CHECK(value >= 0, "/proc/meminfo has no %s", name);
    return value;
}

static void say_faults(const char *who, struct faults f) {
    say("%s: cow_copies %ld cow_reuses %ld shared_at_fork %ld; demand_zero %ld zero_page_maps %ld file %ld; "
        "resident_pages %ld\n",
        who, f.cow_copies, f.cow_reuses, f.shared_at_fork, f.demand_zero, f.zero_page_maps, f.file, f.resident_pages);
}

/* ------------------------------------------------------------ processes */

/* waitpid with a check that it reaped `pid`; returns the status (-1 on error). */
static int wait_for(pid_t pid) {
    int status;
    pid_t r;
    do r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    if (r != pid) {
        fail("waitpid(%d) returned %d (errno %d)", pid, r, errno);
        return -1;
    }
    return status;
}

static const char *how(int status, char *buffer, size_t size) {
    if (status == -1) snprintf(buffer, size, "not reaped");
    else if (WIFEXITED(status)) snprintf(buffer, size, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(buffer, size, "killed by signal %d", WTERMSIG(status));
    else snprintf(buffer, size, "status %#x", status);
    return buffer;
}

static void expect_exit0(const char *who, int status) {
    char text[48];
    CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s, expected exit 0", who,
          how(status, text, sizeof text));
}

static void expect_signal(const char *who, int status, int signal) {
    char text[48];
    CHECK(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == signal, "%s %s, expected signal %d", who,
          how(status, text, sizeof text), signal);
}

/* fork; the child starts with no failed checks of its own (its exit status reports them). */
static pid_t fork_checked(void) {
    pid_t pid = fork();
    CHECK(pid >= 0, "fork failed (errno %d)", errno);
    if (pid == 0) failures = 0;
    return pid;
}

/* A child's end: its status says whether its checks passed. */
static void child_exit(void) {
    _exit(failures ? 1 : 0);
}

static int write_full(int fd, const void *data, size_t size) {
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, (const char *)data + done, size - done);
        if (n <= 0) return -1;
        done += n;
    }
    return 0;
}

static int read_full(int fd, void *data, size_t size) {
    for (size_t done = 0; done < size;) {
        ssize_t n = read(fd, (char *)data + done, size - done);
        if (n <= 0) return -1;
        done += n;
    }
    return 0;
}

static void signal_byte(int fd) {
    CHECK(write(fd, "x", 1) == 1, "pipe write failed (errno %d)", errno);
}

static void await_byte(int fd) {
    char c;
    CHECK(read(fd, &c, 1) == 1, "pipe read failed (errno %d)", errno);
}

static void *map_anonymous(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        fail("mmap of %lu bytes failed (errno %d)", (unsigned long)size, errno);
        return NULL;
    }
    return p;
}

/* ---------------------------------------------------- program and stack */

struct range {
    uintptr_t start, end;
};

static const Elf64_Phdr *program_headers(size_t *count) {
    *count = getauxval(AT_PHNUM);
    return (const Elf64_Phdr *)getauxval(AT_PHDR);
}

/* Touches every page of every PT_LOAD segment except those in `skip`: reads
 * the file-backed part, or with `write_data` reads everything and rewrites
 * one byte of each page of a writable segment (.data, .bss). Returns the
 * number of pages touched. */
static long for_each_program_page(int write_data, const struct range *skip, int skips) {
    size_t count;
    const Elf64_Phdr *ph = program_headers(&count);
    long pages = 0;
    for (size_t i = 0; i < count; i++) {
        if (ph[i].p_type != PT_LOAD) continue;
        uintptr_t start = ph[i].p_vaddr & ~(PAGE - 1);
        uintptr_t end = write_data ? ph[i].p_vaddr + ph[i].p_memsz : ph[i].p_vaddr + ph[i].p_filesz;
        for (uintptr_t page = start; page < end; page += PAGE) {
            int skipped = 0;
            for (int s = 0; s < skips; s++) skipped |= page + PAGE > skip[s].start && page < skip[s].end;
            if (skipped) continue;
            volatile char *p = (volatile char *)page;
            char c = *p;
            if (write_data && (ph[i].p_flags & PF_W)) *p = c;
            pages++;
        }
    }
    return pages;
}

static void __attribute__((noinline)) prefault_stack(void) {
    volatile char reserve[192 * 1024];
    for (size_t i = 0; i < sizeof reserve; i += PAGE) reserve[i] = 0;
    reserve[sizeof reserve - 1] = 0;
}

/* Buffers whose first touch the pipe scenario wants to make itself. */
static char data_buffer[3 * PAGE] __attribute__((aligned(4096))) = "pristine .data bytes";
static char bss_buffer[3 * PAGE] __attribute__((aligned(4096)));

/* Everything the process will use, faulted in now (see the top of the file). */
static void prefault(void) {
    struct range skip[2] = {
        {(uintptr_t)data_buffer, (uintptr_t)data_buffer + sizeof data_buffer},
        {(uintptr_t)bss_buffer, (uintptr_t)bss_buffer + sizeof bss_buffer},
    };
    for_each_program_page(1, skip, 2);
    prefault_stack();
    /* The shared zero page is allocated at the first read of untouched
     * memory; make that happen now, not inside a measurement. */
    volatile char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        (void)*p;
        munmap((void *)p, PAGE);
    }
    /* Every helper once, so that their first calls happen here. */
    struct memcheck m = memcheck();
    struct faults f = faults();
    (void)m;
    (void)f;
    meminfo("MemFree");
    char text[48];
    how(0, text, sizeof text);
    now_ms();
}

/* ================================================================ twothirds */

/* ~2/3 of free memory, written, then fork: the fork copies no page, the
 * child's few writes copy only those pages, and after the child exits the
 * parent's writes reuse its frames in place. Twice in a row, with free
 * frames back at their start value after each round. */
static void twothirds(void) {
    struct memcheck start = memcheck();
    for (int round = 1; round <= 2; round++) {
        long free_kb = meminfo("MemFree");
        size_t size = (size_t)free_kb * KIB / 3 * 2 & ~(PAGE - 1);
        size_t pages = size / PAGE;
        uint64_t *area = map_anonymous(size);
        if (!area) return;
        for (size_t i = 0; i < pages; i++) area[i * 512] = (uint64_t)round << 32 | i;
        struct memcheck touched = memcheck();
        CHECK(start.free_frames - touched.free_frames >= (long)pages,
              "round %d: writing %lu pages took only %ld frames", round, pages,
              start.free_frames - touched.free_frames);
        struct faults parent_before = faults();
        int report[2];
        CHECK(pipe(report) == 0, "pipe failed");
        pid_t pid = fork_checked();
        if (pid == 0) {
            long free_in_child = meminfo("MemFree") / 4;
            for (size_t i = 0; i < 16; i++) area[i * (pages / 16) * 512 + 1] = 0xc0ffee00 + i;
            for (size_t i = 0; i < pages; i++) {
                uint64_t want = (uint64_t)round << 32 | i;
                if (area[i * 512] != want) {
                    fail("round %d child: page %lu holds %#lx, expected %#lx", round, i, area[i * 512], want);
                    break;
                }
            }
            for (size_t i = 0; i < 16; i++)
                CHECK(area[i * (pages / 16) * 512 + 1] == 0xc0ffee00 + i, "round %d child: own write lost", round);
            struct faults f = faults();
            char who[64];
            snprintf(who, sizeof who, "twothirds round %d child", round);
            say_faults(who, f);
            CHECK(f.shared_at_fork >= (long)pages, "round %d child: shared_at_fork %ld < %lu pages", round,
                  f.shared_at_fork, pages);
            CHECK(f.cow_copies >= 16 && f.cow_copies < 64, "round %d child: %ld copies for 16 written pages", round,
                  f.cow_copies);
            write_full(report[1], &free_in_child, sizeof free_in_child);
            child_exit();
        }
        long free_in_child = -1;
        read_full(report[0], &free_in_child, sizeof free_in_child);
        close(report[0]);
        close(report[1]);
        expect_exit0("twothirds child", wait_for(pid));
        /* The frames the fork cost: page tables, the child's kernel stack
         * and record, a few stack pages; never the area's pages. */
        long fork_cost = touched.free_frames - free_in_child;
        CHECK(fork_cost < (long)pages / 50, "round %d: free frames fell by %ld at fork (area: %lu pages)", round,
              fork_cost, pages);
        for (size_t i = 0; i < pages; i++) {
            if (area[i * 512] != ((uint64_t)round << 32 | i) || area[i * 512 + 1] != 0) {
                fail("round %d parent: page %lu changed (%#lx %#lx)", round, i, area[i * 512], area[i * 512 + 1]);
                break;
            }
        }
        for (size_t i = 0; i < pages; i++) area[i * 512 + 2] = i; /* every page again: each is ours alone now */
        struct faults parent_after = faults();
        struct memcheck rewritten = memcheck();
        long copies = parent_after.cow_copies - parent_before.cow_copies;
        long reuses = parent_after.cow_reuses - parent_before.cow_reuses;
        CHECK(reuses >= (long)pages, "round %d parent: %ld reuses rewriting %lu pages", round, reuses, pages);
        CHECK(copies < 16, "round %d parent: %ld copies, expected only a few stack pages", round, copies);
        CHECK(rewritten.free_frames == touched.free_frames,
              "round %d: free frames %ld after the child exited and the parent rewrote every page, %ld before fork",
              round, rewritten.free_frames, touched.free_frames);
        munmap(area, size);
        struct memcheck end = memcheck();
        say("twothirds round %d: MemFree %ld kB; wrote %lu pages (%lu MiB); free_frames: start %ld, after writing "
            "%ld, in the child after fork %ld (fork cost %ld frames), after child exit + parent rewrite %ld, after "
            "munmap %ld\n",
            round, free_kb, pages, size / MIB, start.free_frames, touched.free_frames, free_in_child, fork_cost,
            rewritten.free_frames, end.free_frames);
        say("twothirds round %d parent: cow_copies %ld cow_reuses %ld (rewriting all %lu pages after the child "
            "exited)\n",
            round, copies, reuses, pages);
        char what[32];
        snprintf(what, sizeof what, "round %d", round);
        same_memory(what, start, end);
    }
}

/* ============================================================== generations */

#define GEN_PAGES 1024
#define GEN_DEPTH 3 /* forks: the scenario process is depth 0, its great-grandchild depth 3 */

static uint16_t expected_tag[GEN_PAGES];

struct span {
    int from, to; /* sixteenths of the region */
};
static const struct span before_fork[GEN_DEPTH + 1] = {{0, 16}, {2, 8}, {4, 10}, {3, 13}};
static const struct span after_fork[GEN_DEPTH] = {{4, 12}, {6, 14}, {0, 4}};

static void gen_write(uint64_t *region, struct span s, uint16_t tag) {
    for (int page = s.from * GEN_PAGES / 16; page < s.to * GEN_PAGES / 16; page++) {
        region[page * 512] = tag;
        region[page * 512 + 511] = (uint64_t)page << 16 | tag;
        expected_tag[page] = tag;
    }
}

static void gen_verify(uint64_t *region, int depth, const char *when) {
    for (int page = 0; page < GEN_PAGES; page++) {
        uint16_t tag = expected_tag[page];
        if (region[page * 512] != tag || region[page * 512 + 511] != ((uint64_t)page << 16 | tag)) {
            fail("generations depth %d %s: page %d holds tag %#lx, expected %#x", depth, when, page,
                 (unsigned long)region[page * 512], tag);
            return;
        }
    }
}

/* One generation; `up` are its pipes to its parent (none at depth 0). */
static void generation(uint64_t *region, int depth, int up_write, int up_read) {
    gen_write(region, before_fork[depth], 0x10 * (depth + 1));
    pid_t child = -1;
    int down_write = -1, down_read = -1;
    if (depth < GEN_DEPTH) {
        int to_child[2], to_parent[2];
        CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipe failed");
        child = fork_checked();
        if (child == 0) {
            close(to_child[1]);
            close(to_parent[0]);
            if (up_write >= 0) close(up_write), close(up_read);
            generation(region, depth + 1, to_parent[1], to_child[0]);
            child_exit();
        }
        close(to_child[0]);
        close(to_parent[1]);
        down_write = to_child[1];
        down_read = to_parent[0];
        gen_write(region, after_fork[depth], 0x10 * (depth + 1) + 1);
        signal_byte(down_write); /* "I wrote after forking you" */
    }
    if (up_write >= 0) {
        signal_byte(up_write); /* "I have made all my writes" */
        await_byte(up_read);   /* the parent has made all of its */
    }
    if (child > 0) await_byte(down_read);
    /* Now every process of the chain has written: each must still see only
     * its own writes and its ancestors' writes from before its fork. */
    gen_verify(region, depth, "with every generation written");
    if (child > 0) {
        char who[48];
        snprintf(who, sizeof who, "generations depth %d child", depth + 1);
        expect_exit0(who, wait_for(child));
        close(down_write);
        close(down_read);
        gen_verify(region, depth, "after its child exited");
    }
    struct faults f = faults();
    char who[64];
    snprintf(who, sizeof who, "generations depth %d (pid %d)", depth, getpid());
    say_faults(who, f);
    if (depth > 0) {
        CHECK(f.shared_at_fork >= GEN_PAGES, "depth %d: shared_at_fork %ld < %d", depth, f.shared_at_fork, GEN_PAGES);
        CHECK(f.cow_copies + f.cow_reuses >= (before_fork[depth].to - before_fork[depth].from) * GEN_PAGES / 16,
              "depth %d: fewer copy-on-write faults than pages written", depth);
    }
}

static void generations(void) {
    struct memcheck start = memcheck();
    uint64_t *region = map_anonymous(GEN_PAGES * PAGE);
    if (!region) return;
    generation(region, 0, -1, -1);
    munmap(region, GEN_PAGES * PAGE);
    struct memcheck end = memcheck();
    say("generations: free_frames %ld before, %ld after; %d processes, %d pages each\n", start.free_frames,
        end.free_frames, GEN_DEPTH + 1, GEN_PAGES);
    same_memory("generations", start, end);
}

/* ===================================================================== pipe */

static char anon_buffer[3 * PAGE] __attribute__((aligned(4096)));
static const char data_original[] = "pristine .data bytes";

static unsigned char pattern(size_t i, int stream) {
    return (unsigned char)(i * 131 + 7 + stream * 29);
}

/* anon_buffer as expected: 'P' except `count` bytes of stream `stream` at `at`. */
static int anon_as_expected(const char *buffer, size_t at, size_t count, int stream) {
    for (size_t i = 0; i < sizeof anon_buffer; i++) {
        unsigned char want = i >= at && i < at + count ? pattern(i - at, stream) : 'P';
        if ((unsigned char)buffer[i] != want) return 0;
    }
    return 1;
}

/* A child read()s into memory it shares copy-on-write with its parent (an
 * anonymous page the parent wrote, a .data page still the page cache's,
 * a .bss page that is the zero page); then the parent read()s into its own
 * copy while the child lives. Neither sees the other's bytes. */
static void pipe_scenario(void) {
    memset(anon_buffer, 'P', sizeof anon_buffer);
    /* Map the .data pages (page cache) and the .bss pages (zero page) by reading them. */
    volatile char sink = 0;
    for (size_t i = 0; i < sizeof data_buffer; i += PAGE) sink += data_buffer[i] + bss_buffer[i];
    (void)sink;
    struct memcheck start = memcheck();
    struct faults parent_before = faults();
    int down[2], up[2], done[2];
    CHECK(pipe(down) == 0 && pipe(up) == 0 && pipe(done) == 0, "pipe failed");
    pid_t pid = fork_checked();
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        close(done[1]);
        struct faults before = faults();
        CHECK(read_full(down[0], anon_buffer + 100, 2 * PAGE) == 0, "child: read into anon_buffer failed");
        CHECK(read_full(down[0], data_buffer, 3 * PAGE) == 0, "child: read into data_buffer failed");
        CHECK(read_full(down[0], bss_buffer + PAGE - 10, 20) == 0, "child: read into bss_buffer failed");
        CHECK(anon_as_expected(anon_buffer, 100, 2 * PAGE, 1),
              "child: anon_buffer is not 'P' around the %lu bytes read at 100", 2 * PAGE);
        for (size_t i = 0; i < sizeof data_buffer; i++)
            if ((unsigned char)data_buffer[i] != pattern(i, 2)) {
                fail("child: data_buffer[%lu] = %#x after read(), expected %#x", i, data_buffer[i], pattern(i, 2));
                break;
            }
        for (size_t i = 0; i < sizeof bss_buffer; i++) {
            unsigned char want = i >= PAGE - 10 && i < PAGE + 10 ? pattern(i - (PAGE - 10), 3) : 0;
            if ((unsigned char)bss_buffer[i] != want) {
                fail("child: bss_buffer[%lu] = %#x after read(), expected %#x", i, bss_buffer[i], want);
                break;
            }
        }
        struct faults after = faults();
        say("pipe child: read() into 3 shared pages of anonymous memory, 3 page-cache .data pages, 2 zero-page .bss "
            "pages: %ld copies, %ld reuses, %ld demand-zero\n",
            after.cow_copies - before.cow_copies, after.cow_reuses - before.cow_reuses,
            after.demand_zero - before.demand_zero);
        /* The child's anon_buffer pages were shared with the parent: the
         * kernel's writes must have copied them (not reused them). */
        CHECK(after.cow_copies - before.cow_copies >= 3, "child: only %ld copies for 3 shared anonymous pages",
              after.cow_copies - before.cow_copies);
        /* Now the parent reads into its copy; ours must not change. */
        unsigned char out[PAGE + 50];
        for (size_t i = 0; i < sizeof out; i++) out[i] = pattern(i, 4);
        CHECK(write_full(up[1], out, sizeof out) == 0, "child: write to the parent failed");
        await_byte(done[0]);
        CHECK(anon_as_expected(anon_buffer, 100, 2 * PAGE, 1),
              "child: anon_buffer changed when the parent read into its own copy");
        say_faults("pipe child", faults());
        child_exit();
    }
    close(down[0]);
    close(up[1]);
    close(done[0]);
    unsigned char stream[3 * PAGE];
    for (size_t i = 0; i < 2 * PAGE; i++) stream[i] = pattern(i, 1);
    CHECK(write_full(down[1], stream, 2 * PAGE) == 0, "parent: pipe write failed");
    for (size_t i = 0; i < 3 * PAGE; i++) stream[i] = pattern(i, 2);
    CHECK(write_full(down[1], stream, 3 * PAGE) == 0, "parent: pipe write failed");
    for (size_t i = 0; i < 20; i++) stream[i] = pattern(i, 3);
    CHECK(write_full(down[1], stream, 20) == 0, "parent: pipe write failed");
    size_t at = sizeof anon_buffer - (PAGE + 50);
    CHECK(read_full(up[0], anon_buffer + at, PAGE + 50) == 0, "parent: read from the child failed");
    signal_byte(done[1]);
    expect_exit0("pipe child", wait_for(pid));
    close(down[1]);
    close(up[0]);
    close(done[1]);
    CHECK(anon_as_expected(anon_buffer, at, PAGE + 50, 4),
          "parent: anon_buffer holds bytes other than its own 'P's and what it read");
    CHECK(memcmp(data_buffer, data_original, sizeof data_original) == 0, "parent: data_buffer changed: \"%.20s\"",
          data_buffer);
    for (size_t i = sizeof data_original; i < sizeof data_buffer; i++)
        if (data_buffer[i] != 0) {
            fail("parent: data_buffer[%lu] = %#x, expected 0 (the file's byte)", i, data_buffer[i]);
            break;
        }
    for (size_t i = 0; i < sizeof bss_buffer; i++)
        if (bss_buffer[i] != 0) {
            fail("parent: bss_buffer[%lu] = %#x, expected 0", i, bss_buffer[i]);
            break;
        }
    struct faults parent_after = faults();
    say("pipe parent: read() into its 2 shared pages while the child lived: %ld copies, %ld reuses\n",
        parent_after.cow_copies - parent_before.cow_copies, parent_after.cow_reuses - parent_before.cow_reuses);
    say_faults("pipe parent", parent_after);
    struct memcheck end = memcheck();
    say("pipe: free_frames %ld before, %ld after\n", start.free_frames, end.free_frames);
    same_memory("pipe", start, end);
}

/* =================================================================== rounds */

#define ROUND_PAGES 64
#define ROUNDS 100

static uint64_t checksum(const uint64_t *area, size_t words) {
    uint64_t sum = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < words; i++) sum = (sum ^ area[i]) * 0x100000001b3ull;
    return sum;
}

static uint64_t round_word(size_t i) {
    return i * 0x9e3779b97f4a7c15ull + 12345;
}

static void rounds_child(uint64_t *area, int round, int index) {
    area[((round * 3 + index) % ROUND_PAGES) * 512 + 1] = getpid(); /* copy-on-write */
    failures = 0;
    if (fork_checked() < 0) failures++;
    if (fork_checked() < 0) failures++;
    size_t mine = (size_t)getpid() % ROUND_PAGES * 512 + 2;
    area[mine] = getpid();
    for (size_t page = 0; page < ROUND_PAGES; page++)
        if (area[page * 512] != round_word(page * 512)) {
            fail("round %d: page %lu changed in a child", round, page);
            break;
        }
    CHECK(area[mine] == (uint64_t)getpid(), "round %d: own write lost", round);
    int status;
    pid_t w;
    while ((w = wait(&status)) > 0) expect_exit0("grandchild", status);
    CHECK(errno == ECHILD, "wait ended with errno %d, not ECHILD", errno);
    _exit(failures ? 1 : 0);
}

/* 100 rounds of three children, each doing fork(); fork(); (four processes
 * per child, each reaping its own children): 1200 processes in all. */
static void rounds(void) {
    size_t words = ROUND_PAGES * 512;
    uint64_t *area = map_anonymous(ROUND_PAGES * PAGE);
    if (!area) return;
    for (size_t i = 0; i < words; i++) area[i] = round_word(i);
    uint64_t sum = checksum(area, words);
    struct memcheck start = memcheck();
    struct faults before = faults();
    long started = now_ms();
    int children = 0;
    for (int round = 0; round < ROUNDS && failures < 5; round++) {
        pid_t pids[3];
        for (int c = 0; c < 3; c++) {
            pids[c] = fork_checked();
            if (pids[c] == 0) rounds_child(area, round, c);
        }
        for (int c = 0; c < 3; c++) {
            if (pids[c] < 0) continue;
            expect_exit0("rounds child", wait_for(pids[c]));
            children++;
        }
        if (round % 25 == 24) CHECK(checksum(area, words) == sum, "round %d: the parent's region changed", round);
    }
    long elapsed = now_ms() - started;
    CHECK(checksum(area, words) == sum, "the parent's region changed");
    struct faults after = faults();
    struct memcheck end = memcheck();
    say("rounds: %d rounds, %d children (%d processes), %ld ms; checksum %016lx intact: %s\n", ROUNDS, children,
        children * 4, elapsed, (unsigned long)sum, checksum(area, words) == sum ? "yes" : "NO");
    say("rounds parent: cow_copies %ld cow_reuses %ld over the rounds (its stack and region after each fork)\n",
        after.cow_copies - before.cow_copies, after.cow_reuses - before.cow_reuses);
    say("rounds: free_frames %ld before, %ld after; kernel_objects %ld before, %ld after\n", start.free_frames,
        end.free_frames, start.kernel_objects, end.kernel_objects);
    same_memory("rounds", start, end);
    munmap(area, ROUND_PAGES * PAGE);
}

/* =================================================================== sparse */

static void sparse(void) {
    const size_t size = 1 * GIB, stride = 64 * PAGE, touches = size / stride;
    struct memcheck start = memcheck();
    struct faults f0 = faults();
    char *area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(area != MAP_FAILED, "mmap of 1 GiB failed (errno %d)", errno);
    if (area == MAP_FAILED) return;
    for (size_t i = 0; i < touches; i++) *(uint64_t *)(area + i * stride) = i + 1;
    struct faults f1 = faults();
    struct memcheck touched = memcheck();
    long resident = f1.resident_pages - f0.resident_pages;
    long frames = start.free_frames - touched.free_frames;
    CHECK(resident >= (long)touches && resident <= (long)touches + 16, "%ld pages resident for %lu touched", resident,
          touches);
    /* A frame per touched page, plus a page table per 2 MiB (512 of them). */
    CHECK(frames >= (long)touches && frames <= (long)touches + (long)(size / (2 * MIB)) + 16,
          "%ld frames used for %lu touched pages", frames, touches);
    /* Untouched pages in between read as zero and cost no frame. */
    long zeros = 0;
    for (size_t i = 0; i < touches; i += 8) zeros += *(volatile uint64_t *)(area + i * stride + 32 * PAGE) == 0;
    struct faults f2 = faults();
    CHECK(zeros == (long)(touches + 7) / 8, "untouched pages not zero");
    CHECK(f2.resident_pages == f1.resident_pages, "reading untouched pages made %ld pages resident",
          f2.resident_pages - f1.resident_pages);
    say("sparse: 1 GiB reserved, every 64th page written (%lu pages): resident_pages %+ld, free frames %+ld "
        "(%ld frames beyond the pages: page tables); %ld untouched pages read as zero via the zero page (%+ld "
        "zero_page_maps)\n",
        touches, resident, -frames, frames - (long)touches, zeros, f2.zero_page_maps - f1.zero_page_maps);
    CHECK(munmap(area + size / 2, size / 2) == 0, "munmap of the upper half failed");
    struct faults f3 = faults();
    CHECK(f2.resident_pages - f3.resident_pages == (long)touches / 2, "munmap of half released %ld pages, not %lu",
          f2.resident_pages - f3.resident_pages, touches / 2);
    say("sparse: after munmap of the upper 512 MiB: resident_pages %ld (%+ld)\n", f3.resident_pages,
        f3.resident_pages - f2.resident_pages);
    /* Children touching the unmapped half die of SIGSEGV; the mapped half is intact in them. */
    static const struct {
        size_t offset;
        int write;
    } probes[] = {{512 * MIB, 0}, {GIB - 8, 1}, {768 * MIB + 12345, 1}};
    for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++) {
        pid_t pid = fork_checked();
        if (pid == 0) {
            for (size_t i = 0; i < touches / 2; i += 97)
                CHECK(*(uint64_t *)(area + i * stride) == i + 1, "child: page %lu of the mapped half changed", i);
            volatile char *probe = area + probes[p].offset;
            if (probes[p].write) *probe = 1;
            else (void)*probe;
            say("sparse child: %s of unmapped offset %#lx did not fault\n", probes[p].write ? "write" : "read",
                probes[p].offset);
            _exit(failures ? 1 : 0);
        }
        int status = wait_for(pid);
        char who[80];
        snprintf(who, sizeof who, "child touching munmapped offset %#lx (%s)", probes[p].offset,
                 probes[p].write ? "write" : "read");
        expect_signal(who, status, SIGSEGV);
        if (status != -1 && WIFSIGNALED(status))
            say("sparse: %s: killed by signal %d%s\n", who, WTERMSIG(status),
                WTERMSIG(status) == SIGSEGV ? " (SIGSEGV)" : "");
    }
    for (size_t i = 0; i < touches / 2; i++)
        if (*(uint64_t *)(area + i * stride) != i + 1) {
            fail("parent: page %lu changed", i);
            break;
        }
    munmap(area, size / 2);
    struct memcheck end = memcheck();
    say("sparse: free_frames %ld before, %ld with the pages written, %ld after munmap\n", start.free_frames,
        touched.free_frames, end.free_frames);
    same_memory("sparse", start, end);
}

/* ====================================================================== oom */

/* Out of memory in the middle of copy-on-write: the parent holds 2/3 of
 * memory, its child rewrites all of it and runs out after about half. The
 * child is killed; the parent's pages are intact and, once the child is
 * gone, its own again (rewritten in place, no copy). */
static void oom_in_copy_on_write(void) {
    struct memcheck start = memcheck();
    size_t size = (size_t)meminfo("MemFree") * KIB / 3 * 2 & ~(PAGE - 1), pages = size / PAGE;
    uint64_t *area = map_anonymous(size);
    if (!area) return;
    for (size_t i = 0; i < pages; i++) area[i * 512] = i;
    pid_t pid = fork_checked();
    if (pid == 0) {
        for (size_t i = 0; i < pages; i++) area[i * 512] = ~i;
        say("oom cow child: rewrote all %lu pages: should have run out of memory\n", pages);
        _exit(2);
    }
    int status = wait_for(pid);
    expect_signal("oom cow child", status, SIGKILL);
    struct faults before = faults();
    size_t changed = 0;
    for (size_t i = 0; i < pages; i++) changed += area[i * 512] != i;
    for (size_t i = 0; i < pages; i++) area[i * 512 + 1] = i;
    struct faults after = faults();
    CHECK(changed == 0, "%lu of the parent's pages changed while its child copied them", changed);
    CHECK(after.cow_reuses - before.cow_reuses >= (long)pages && after.cow_copies - before.cow_copies < 16,
          "rewriting after the child died: %ld copies, %ld reuses for %lu pages", after.cow_copies - before.cow_copies,
          after.cow_reuses - before.cow_reuses, pages);
    munmap(area, size);
    struct memcheck end = memcheck();
    char text[48];
    say("oom cow: parent wrote %lu pages, its child rewriting them %s; parent's pages intact: %s; then rewritten in "
        "place: %ld reuses, %ld copies; free_frames %ld before, %ld after\n",
        pages, how(status, text, sizeof text), changed == 0 ? "yes" : "NO", after.cow_reuses - before.cow_reuses,
        after.cow_copies - before.cow_copies, start.free_frames, end.free_frames);
    same_memory("oom cow", start, end);
}

static void oom(void) {
    struct memcheck start = memcheck();
    long free_kb = meminfo("MemFree");
    pid_t pid = fork_checked();
    if (pid == 0) {
        const size_t chunk = 8 * MIB;
        size_t total = 0;
        for (;;) {
            char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                say("oom child: mmap failed (errno %d) after %lu MiB; the kernel should have killed me first\n", errno,
                    total / MIB);
                _exit(2);
            }
            for (size_t at = 0; at < chunk; at += PAGE) *(volatile uint64_t *)(p + at) = total + at;
            total += chunk;
            if (total % (32 * MIB) == 0) say("oom child: %lu MiB written\n", total / MIB);
        }
    }
    int status = wait_for(pid);
    expect_signal("oom child", status, SIGKILL);
    char text[48];
    say("oom: child %d %s (MemFree was %ld kB)\n", pid, how(status, text, sizeof text), free_kb);
    /* The system goes on: a little memory, a child, all given back. */
    size_t size = 4 * MIB;
    uint64_t *area = map_anonymous(size);
    if (area) {
        for (size_t i = 0; i < size / 8; i += 512) area[i] = i;
        for (size_t i = 0; i < size / 8; i += 512) CHECK(area[i] == i, "after oom: word %lu lost", i);
        pid_t again = fork_checked();
        if (again == 0) {
            for (size_t i = 0; i < size / 8; i += 512) area[i] = ~i;
            child_exit();
        }
        expect_exit0("child after oom", wait_for(again));
        for (size_t i = 0; i < size / 8; i += 512) CHECK(area[i] == i, "after oom: word %lu changed by a child", i);
        munmap(area, size);
    }
    struct memcheck end = memcheck();
    say("oom: after the kill, 4 MiB allocated, written, freed; free_frames %ld before, %ld after; cached_pages %ld "
        "before, %ld after\n",
        start.free_frames, end.free_frames, start.cached_pages, end.cached_pages);
    same_memory("oom", start, end);
    oom_in_copy_on_write();
}

/* ===================================================================== heap */

static char bss_array[256 * KIB];
static int bss_array_was_zero = -1;

static char *brk_now(void) {
    return (char *)syscall(SYS_brk, 0);
}

/* What sbrk(increment) does on Linux; musl's sbrk() refuses increment != 0. */
static void *sbrk_(long increment) {
    char *current = brk_now();
    if (increment != 0 && (char *)syscall(SYS_brk, current + increment) != current + increment) return (void *)-1;
    return current;
}

static void check_bss_array(void) {
    bss_array_was_zero = 1;
    for (size_t i = 0; i < sizeof bss_array; i++) bss_array_was_zero &= bss_array[i] == 0;
}

static void heap(void) {
    const long grow = 100 * MIB;
    const size_t pages = grow / PAGE;
    CHECK(bss_array_was_zero == 1, "a static .bss array did not start zeroed");
    say("heap: a %lu KiB static .bss array started zeroed: %s\n", sizeof bss_array / KIB,
        bss_array_was_zero == 1 ? "yes" : "NO");
    struct memcheck start = memcheck();
    char *base = sbrk_(0);
    struct faults f0 = faults();
    char *old = sbrk_(grow);
    CHECK(old == base, "sbrk(100 MiB) returned %p, expected %p", old, base);
    if (old != base) return;
    CHECK(brk_now() == base + grow, "brk is %p after growing, expected %p", brk_now(), base + grow);
    for (size_t i = 0; i < pages; i++) {
        uint64_t *page = (uint64_t *)(base + i * PAGE);
        page[0] = i ^ 0xfeed;
        page[511] = ~i;
    }
    struct faults f1 = faults();
    CHECK(f1.demand_zero - f0.demand_zero >= (long)pages, "%ld demand-zero faults for %lu heap pages",
          f1.demand_zero - f0.demand_zero, pages);
    struct memcheck grown = memcheck();
    say("heap: grew by 100 MiB at %p and wrote every page: %ld demand-zero faults, free frames %ld -> %ld\n",
        (void *)base, f1.demand_zero - f0.demand_zero, start.free_frames, grown.free_frames);
    /* A child shrinks and regrows its copy of the heap: its new pages are
     * zero, and the parent's heap is untouched. */
    pid_t pid = fork_checked();
    if (pid == 0) {
        for (size_t i = 0; i < pages; i++)
            if (((uint64_t *)(base + i * PAGE))[0] != (i ^ 0xfeed)) {
                fail("child: heap page %lu differs from the parent's", i);
                break;
            }
        CHECK(sbrk_(-grow) == base + grow && brk_now() == base, "child: shrinking the heap failed");
        CHECK(sbrk_(grow) == base, "child: regrowing the heap failed");
        for (size_t i = 0; i < pages; i += 7)
            if (((uint64_t *)(base + i * PAGE))[0] != 0) {
                fail("child: regrown heap page %lu is not zero", i);
                break;
            }
        child_exit();
    }
    expect_exit0("heap child", wait_for(pid));
    for (size_t i = 0; i < pages; i++) {
        uint64_t *page = (uint64_t *)(base + i * PAGE);
        if (page[0] != (i ^ 0xfeed) || page[511] != ~i) {
            fail("heap page %lu changed after the child shrank its heap", i);
            break;
        }
    }
    CHECK(sbrk_(-grow) == base + grow, "shrinking the heap failed");
    CHECK(brk_now() == base, "brk is %p after shrinking, expected %p", brk_now(), base);
    struct memcheck shrunk = memcheck();
    same_memory("heap shrunk back", start, shrunk);
    /* Regrown: every page reads as zero (the zero page: no frames). */
    struct faults f2 = faults();
    CHECK(sbrk_(grow) == base, "regrowing the heap failed");
    size_t nonzero = 0;
    for (size_t i = 0; i < pages; i++) {
        uint64_t *page = (uint64_t *)(base + i * PAGE);
        nonzero += page[0] != 0 || page[511] != 0;
    }
    for (size_t i = 0; i < pages; i += pages / 16)
        for (size_t w = 0; w < 512; w++) nonzero += ((uint64_t *)(base + i * PAGE))[w] != 0;
    CHECK(nonzero == 0, "%lu words of the regrown heap are not zero", nonzero);
    struct faults f3 = faults();
    struct memcheck regrown = memcheck();
    say("heap: shrank back (free frames %ld, start %ld) and regrew 100 MiB: all %lu pages read as zero: %s; %ld "
        "zero-page maps, free frames %ld\n",
        shrunk.free_frames, start.free_frames, pages, nonzero == 0 ? "yes" : "NO",
        f3.zero_page_maps - f2.zero_page_maps, regrown.free_frames);
    /* Reads are served by the zero page (one fault per fault-around window of
     * 16 pages): no frames beyond page tables. */
    CHECK(f3.zero_page_maps - f2.zero_page_maps >= (long)pages / 16 && shrunk.free_frames - regrown.free_frames < (long)pages / 64,
          "reading the regrown heap: %ld zero-page faults, %ld frames used",
          f3.zero_page_maps - f2.zero_page_maps, shrunk.free_frames - regrown.free_frames);
    for (size_t i = 0; i < 16; i++) ((char *)base)[i * PAGE * 97 + 5] = 1;
    for (size_t i = 0; i < 16; i++)
        for (size_t b = 0; b < PAGE; b++) {
            char want = b == 5;
            if (((char *)base)[i * PAGE * 97 + b] != want) {
                fail("a written regrown heap page is not zero around the written byte");
                break;
            }
        }
    /* More heap at once than there is RAM: Linux's overcommit guess refuses it, and brk returns the old break. */
    CHECK(syscall(SYS_brk, base + grow + 64 * GIB) == (long)(base + grow), "brk far beyond the heap limit moved the break");
    CHECK(sbrk_(-grow) == base + grow && brk_now() == base, "shrinking the heap again failed");
    struct memcheck end = memcheck();
    same_memory("heap", start, end);
}

/* ================================================================== sharing */

/* "textread READY GO": read every file-backed page of the program, report,
 * tell the parent, and stay alive until told to go. */
static int textread(int argc, char **argv) {
    if (argc < 4) return 2;
    int ready = atoi(argv[2]), go = atoi(argv[3]);
    long pages = for_each_program_page(0, NULL, 0);
    struct faults f = faults();
    say("textread pid %d: read all %ld file-backed pages of /bin/cowtest: file faults %ld, resident_pages %ld, "
        "demand_zero %ld, cow_copies %ld\n",
        getpid(), pages, f.file, f.resident_pages, f.demand_zero, f.cow_copies);
    long numbers[3] = {pages, f.file, f.resident_pages};
    write_full(ready, numbers, sizeof numbers);
    char c;
    ssize_t n = read(go, &c, 1);
    struct timespec brief = {0, 20 * 1000 * 1000};
    nanosleep(&brief, NULL);
    return n == 1 ? 0 : 3;
}

struct reader {
    pid_t pid;
    int ready, go;
    long pages, file_faults, resident;
};

static struct reader start_reader(void) {
    struct reader r = {-1, -1, -1, 0, 0, 0};
    int ready[2], go[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0, "pipe failed");
    r.pid = fork_checked();
    if (r.pid == 0) {
        close(ready[0]);
        close(go[1]);
        char a[16], b[16];
        snprintf(a, sizeof a, "%d", ready[1]);
        snprintf(b, sizeof b, "%d", go[0]);
        char *args[] = {"/bin/cowtest", "textread", a, b, NULL};
        execve(args[0], args, environ);
        say("execve /bin/cowtest failed (errno %d)\n", errno);
        _exit(127);
    }
    close(ready[1]);
    close(go[0]);
    r.ready = ready[0];
    r.go = go[1];
    long numbers[3] = {0, 0, 0};
    CHECK(read_full(r.ready, numbers, sizeof numbers) == 0, "reader %d did not report", r.pid);
    r.pages = numbers[0];
    r.file_faults = numbers[1];
    r.resident = numbers[2];
    return r;
}

static void stop_reader(struct reader r) {
    signal_byte(r.go);
    expect_exit0("textread", wait_for(r.pid));
    close(r.ready);
    close(r.go);
}

static void text_sharing(void) {
    struct memcheck m = memcheck(); /* drops cached pages nobody maps */
    long cached0 = meminfo("CachedPages"), file0 = meminfo("FilePages"), free0 = meminfo("MemFree");
    struct reader a = start_reader();
    long cached1 = meminfo("CachedPages"), file1 = meminfo("FilePages"), free1 = meminfo("MemFree");
    struct reader b = start_reader();
    long cached2 = meminfo("CachedPages"), file2 = meminfo("FilePages"), free2 = meminfo("MemFree");
    say("sharing: text: CachedPages %ld at start (/proc/memcheck had dropped the unmapped ones: cached_pages %ld), "
        "%ld with reader A alive, %ld with readers A and B alive; FilePages %ld, %ld, %ld kB\n",
        cached0, m.cached_pages, cached1, cached2, file0, file1, file2);
    say("sharing: reader A (pid %d) read %ld pages (%ld file faults, %ld resident) and added %ld cache pages; reader B "
        "(pid %d) read %ld pages (%ld file faults, %ld resident) and added %ld cache pages\n",
        a.pid, a.pages, a.file_faults, a.resident, cached1 - cached0, b.pid, b.pages, b.file_faults, b.resident,
        cached2 - cached1);
    say("sharing: MemFree %ld kB, %ld kB with A (A cost %ld frames), %ld kB with B too (B cost %ld frames)\n", free0,
        free1, (free0 - free1) / 4, free2, (free1 - free2) / 4);
    CHECK(a.pages > 0 && b.pages == a.pages, "readers read %ld and %ld pages", a.pages, b.pages);
    /* Fault-around maps cached neighbours without a fault of their own:
     * count what is mapped, not the faults. */
    CHECK(b.resident >= b.pages, "reader B has %ld pages resident after reading %ld", b.resident, b.pages);
    CHECK(cached2 == cached1, "the second run of /bin/cowtest added %ld cache pages", cached2 - cached1);
    CHECK(file2 == file1, "the second run of /bin/cowtest added %ld kB of file pages", file2 - file1);
    /* A and B run the same code the same way: what A cost more than B is
     * the cache pages A brought in (within a few frames of slab pages). */
    long cost_a = (free0 - free1) / 4, cost_b = (free1 - free2) / 4, added_a = cached1 - cached0;
    CHECK(labs(cost_a - cost_b - added_a) <= 4, "reader A cost %ld frames, B %ld, A added %ld cache pages", cost_a,
          cost_b, added_a);
    stop_reader(a);
    stop_reader(b);
}

/* A MAP_PRIVATE file mapping written by one process: nobody else sees it. */
static void private_file_mapping(void) {
    const char *path = "/bin/cowtest";
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0, "open %s failed (errno %d)", path, errno);
    if (fd < 0) return;
    unsigned char original[2][64];
    CHECK(read_full(fd, original[0], 64) == 0, "read failed");
    CHECK(lseek(fd, PAGE, SEEK_SET) == (off_t)PAGE && read_full(fd, original[1], 64) == 0, "read at 4096 failed");
    CHECK(memcmp(original[0], "\177ELF", 4) == 0, "%s does not start with \\177ELF", path);
    size_t size = 2 * PAGE;
    volatile unsigned char *mine = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(mine != MAP_FAILED, "mmap MAP_PRIVATE of %s failed (errno %d)", path, errno);
    if (mine == MAP_FAILED) return;
    CHECK(memcmp((void *)mine, original[0], 64) == 0 && memcmp((void *)(mine + PAGE), original[1], 64) == 0,
          "the mapping does not hold the file's bytes");
    int wrote[2], checked[2];
    CHECK(pipe(wrote) == 0 && pipe(checked) == 0, "pipe failed");
    pid_t pid = fork_checked();
    if (pid == 0) {
        struct faults before = faults();
        volatile unsigned char *other = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK(other != MAP_FAILED, "child: mmap failed");
        if (other == MAP_FAILED) _exit(1);
        CHECK(other[1] == 'E', "child: the mapping does not hold the file");
        memcpy((void *)other, "XXXX", 4);          /* read first (page cache), then written: a copy */
        memcpy((void *)(other + PAGE), "YYYY", 4); /* written at once: a private copy from the start */
        memcpy((void *)mine, "ZZZZ", 4);           /* the mapping inherited from the parent */
        CHECK(memcmp((void *)other, "XXXX", 4) == 0 && memcmp((void *)(other + 4), original[0] + 4, 60) == 0,
              "child: its own write to page 0 did not stick");
        CHECK(memcmp((void *)(other + PAGE), "YYYY", 4) == 0 && memcmp((void *)(other + PAGE + 4), original[1] + 4, 60) == 0,
              "child: its own write to page 1 did not stick");
        CHECK(memcmp((void *)mine, "ZZZZ", 4) == 0, "child: its write to the inherited mapping did not stick");
        struct faults after = faults();
        say("sharing child: wrote to 2 pages of its MAP_PRIVATE mapping of %s and 1 inherited page: %ld copies, %ld "
            "file faults\n",
            path, after.cow_copies - before.cow_copies, after.file - before.file);
        signal_byte(wrote[1]);
        await_byte(checked[0]);
        child_exit();
    }
    await_byte(wrote[0]);
    int same = memcmp((void *)mine, original[0], 64) == 0 && memcmp((void *)(mine + PAGE), original[1], 64) == 0;
    CHECK(same, "the parent's MAP_PRIVATE mapping shows the child's writes: \"%.4s\"", (const char *)mine);
    volatile unsigned char *fresh = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    volatile unsigned char *shared = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(fresh != MAP_FAILED && shared != MAP_FAILED, "mmap failed");
    int fresh_same = 0, shared_same = 0, read_same = 0;
    if (fresh != MAP_FAILED && shared != MAP_FAILED) {
        fresh_same = memcmp((void *)fresh, original[0], 64) == 0 && memcmp((void *)(fresh + PAGE), original[1], 64) == 0;
        shared_same = memcmp((void *)shared, original[0], 64) == 0 && memcmp((void *)(shared + PAGE), original[1], 64) == 0;
    }
    unsigned char again[2][64];
    lseek(fd, 0, SEEK_SET);
    read_full(fd, again[0], 64);
    lseek(fd, PAGE, SEEK_SET);
    read_full(fd, again[1], 64);
    read_same = memcmp(again, original, sizeof again) == 0;
    CHECK(fresh_same, "a new MAP_PRIVATE mapping shows the child's writes");
    CHECK(shared_same, "a new MAP_SHARED mapping shows the child's writes");
    CHECK(read_same, "read() shows the child's writes");
    signal_byte(checked[1]);
    expect_exit0("sharing child", wait_for(pid));
    /* And the parent's own write stays its own. */
    memcpy((void *)mine, "PPPP", 4);
    CHECK(shared != MAP_FAILED && memcmp((void *)shared, original[0], 4) == 0, "a MAP_SHARED mapping shows the parent's private write");
    say("sharing: MAP_PRIVATE file mapping written by a child: parent's mapping original: %s, new private mapping: %s, "
        "MAP_SHARED mapping: %s, read(): %s\n",
        same ? "yes" : "NO", fresh_same ? "yes" : "NO", shared_same ? "yes" : "NO", read_same ? "yes" : "NO");
    munmap((void *)mine, size);
    if (fresh != MAP_FAILED) munmap((void *)fresh, size);
    if (shared != MAP_FAILED) munmap((void *)shared, size);
    close(fd);
    close(wrote[0]), close(wrote[1]), close(checked[0]), close(checked[1]);
}

static void sharing(void) {
    text_sharing();
    private_file_mapping();
}

/* ================================================================= mprotect */

/* Extra: mprotect must not make a page writable that is still shared
 * copy-on-write (after fork) or that is the page cache's. */
static void mprotect_scenario(void) {
    size_t size = 4 * PAGE;
    char *area = map_anonymous(size);
    if (!area) return;
    memset(area, 'P', size);
    int wrote[2];
    CHECK(pipe(wrote) == 0, "pipe failed");
    pid_t pid = fork_checked();
    if (pid == 0) {
        await_byte(wrote[0]);
        CHECK(area[0] == 'P' && area[PAGE] == 'P',
              "after fork, the parent's write after mprotect(READ) + mprotect(READ|WRITE) shows in the child: '%c'",
              area[0]);
        child_exit();
    }
    CHECK(mprotect(area, size, PROT_READ) == 0, "mprotect READ failed");
    CHECK(mprotect(area, size, PROT_READ | PROT_WRITE) == 0, "mprotect READ|WRITE failed");
    area[0] = 'Q';
    area[PAGE] = 'Q';
    signal_byte(wrote[1]);
    expect_exit0("mprotect child (anonymous memory shared at fork)", wait_for(pid));
    say("mprotect: anonymous page shared at fork, parent wrote after mprotect RW: child unaffected: %s\n",
        failures ? "NO" : "yes");
    munmap(area, size);
    close(wrote[0]);
    close(wrote[1]);

    int before = failures;
    int fd = open("/bin/cowtest", O_RDONLY);
    char *file = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(file != MAP_FAILED, "mmap of /bin/cowtest failed");
    if (file == MAP_FAILED) return;
    char first = file[8]; /* mapped from the page cache, read-only */
    CHECK(mprotect(file, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect READ|WRITE failed");
    file[8] = (char)~first;
    char *other = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    char seen = other[8];
    file[8] = first; /* in case it was the page cache's frame */
    CHECK(seen == first, "a private write after mprotect(READ|WRITE) to a file page shows in another mapping of the file "
          "(the page cache's frame was written)");
    say("mprotect: file page mapped read-only, mprotect RW, written: other mappings unaffected: %s\n",
        failures == before ? "yes" : "NO");
    munmap(file, PAGE);
    munmap(other, PAGE);

    /* A MAP_SHARED mapping of a file opened O_RDONLY cannot become writable (Linux: EACCES). */
    char *shared = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(shared != MAP_FAILED, "mmap MAP_SHARED of /bin/cowtest failed");
    if (shared == MAP_FAILED) return;
    first = shared[8];
    int result = mprotect(shared, PAGE, PROT_READ | PROT_WRITE);
    int error = errno;
    CHECK(result == -1 && error == EACCES, "mprotect(READ|WRITE) of a MAP_SHARED mapping of a read-only file returned %d "
          "(errno %d), expected EACCES", result, error);
    say("mprotect: MAP_SHARED mapping of an O_RDONLY file, mprotect(READ|WRITE): %s\n",
        result == 0 ? "allowed (expected EACCES)" : error == EACCES ? "EACCES" : "another error");
    munmap(shared, PAGE);
    close(fd);
}

/* =============================================================== sharedanon */

/* Extra: MAP_SHARED|MAP_ANONYMOUS memory is one memory for parent and
 * child, whether a page was written before the fork, only read (zero page),
 * or not touched at all. */
static void sharedanon(void) {
    volatile char *area = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(area != MAP_FAILED, "mmap MAP_SHARED|MAP_ANONYMOUS failed (errno %d)", errno);
    if (area == MAP_FAILED) return;
    area[0] = 'w';     /* page 0: written before the fork */
    (void)area[PAGE];  /* page 1: read before the fork (the zero page) */
    pid_t pid = fork_checked(); /* page 2: not touched before the fork */
    if (pid == 0) {
        area[0] = 'C';
        area[PAGE] = 'C';
        area[2 * PAGE] = 'C';
        child_exit();
    }
    expect_exit0("sharedanon child", wait_for(pid));
    const char *what[3] = {"written before fork", "read before fork", "untouched before fork"};
    for (int page = 0; page < 3; page++) {
        char seen = area[page * PAGE];
        CHECK(seen == 'C', "MAP_SHARED|MAP_ANONYMOUS page %d (%s): the parent sees %#x, not the child's 'C'", page,
              what[page], seen);
        say("sharedanon: page %d (%s): child's write seen by the parent: %s\n", page, what[page],
            seen == 'C' ? "yes" : "NO");
    }
    munmap((void *)area, 3 * PAGE);
}

/* ================================================================= forkfail */

/* Extra: fork with (almost) no memory left fails with ENOMEM and leaves
 * nothing behind; with the memory back, fork works again. */
static void forkfail(void) {
    struct memcheck start = memcheck();
    size_t size = (size_t)start.free_frames * PAGE;
    char *area = map_anonymous(size);
    if (!area) return;
    /* Fill memory in steps, leaving a few frames: too few for a fork that
     * must copy the page tables of all this. */
    size_t used = 0;
    for (long left = start.free_frames; left > 24;) {
        size_t step = left > 1024 ? (size_t)(left - 512) / 2 : 1;
        for (size_t i = 0; i < step; i++, used += PAGE) area[used] = 1;
        left = meminfo("MemFree") / 4;
    }
    long left = meminfo("MemFree") / 4;
    int failed = 0, succeeded = 0, errors[4] = {0};
    for (int attempt = 0; attempt < 4; attempt++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid > 0) {
            succeeded++;
            wait_for(pid);
        } else {
            failed++;
            errors[attempt] = errno;
        }
    }
    CHECK(failed == 4 && errors[0] == ENOMEM, "fork with %ld frames left: %d failed (errno %d), %d succeeded", left,
          failed, errors[0], succeeded);
    long after_failures = meminfo("MemFree") / 4;
    CHECK(after_failures == left, "failed forks changed the free frames: %ld before, %ld after", left, after_failures);
    for (size_t at = 0; at < used; at += PAGE)
        if (area[at] != 1) {
            fail("the parent's page at %#lx changed", at);
            break;
        }
    munmap(area, size);
    pid_t pid = fork_checked();
    if (pid == 0) _exit(0);
    expect_exit0("fork after freeing", wait_for(pid));
    struct memcheck end = memcheck();
    say("forkfail: %lu pages written, %ld frames left: fork failed %d times (errno %d), free frames after the failures "
        "%ld; after munmap a fork works; free_frames %ld before, %ld after\n",
        used / PAGE, left, failed, errors[0], after_failures, start.free_frames, end.free_frames);
    same_memory("forkfail", start, end);
}

/* ====================================================================== all */

struct scenario {
    const char *name;
    void (*run)(void);
    int prefault;
};

static const struct scenario scenarios[] = {
    {"twothirds", twothirds, 1}, {"generations", generations, 1}, {"pipe", pipe_scenario, 1},
    {"rounds", rounds, 1},       {"sparse", sparse, 1},           {"oom", oom, 1},
    {"heap", heap, 1},           {"sharing", sharing, 0},         {"mprotect", mprotect_scenario, 1},
    {"sharedanon", sharedanon, 1}, {"forkfail", forkfail, 1},
};
#define IN_ALL 8 /* the first eight; mprotect and sharedanon are extra */

static void all(void) {
    struct row {
        int status;
        long ms;
        struct memcheck before, after;
    } rows[IN_ALL];
    int bad = 0;
    for (int i = 0; i < IN_ALL; i++) {
        say("all: --- %s ---\n", scenarios[i].name);
        rows[i].before = memcheck();
        long started = now_ms();
        pid_t pid = fork_checked();
        if (pid == 0) {
            char *args[] = {"/bin/cowtest", (char *)scenarios[i].name, NULL};
            execve(args[0], args, environ);
            say("execve /bin/cowtest failed (errno %d)\n", errno);
            _exit(127);
        }
        rows[i].status = wait_for(pid);
        rows[i].ms = now_ms() - started;
        rows[i].after = memcheck();
        int ok = rows[i].status == 0;
        ok &= same_memory(scenarios[i].name, rows[i].before, rows[i].after);
        bad += !ok;
    }
    say("all: scenario     result  status            ms  problems  free_frames before -> after  kernel_objects "
        "before -> after\n");
    for (int i = 0; i < IN_ALL; i++) {
        struct row *r = &rows[i];
        char status[48];
        int ok = r->status == 0 && r->after.problems == 0 && r->before.problems == 0 &&
                 r->after.free_frames == r->before.free_frames && r->after.kernel_objects == r->before.kernel_objects;
        say("all: %-12s %-6s  %-16s %6ld  %8ld  %11ld -> %-11ld  %14ld -> %ld\n", scenarios[i].name,
            ok ? "ok" : "FAIL", how(r->status, status, sizeof status), r->ms, r->after.problems, r->before.free_frames,
            r->after.free_frames, r->before.kernel_objects, r->after.kernel_objects);
    }
    say("all: %d of %d scenarios passed\n", IN_ALL - bad, IN_ALL);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "textread") == 0) return textread(argc, argv);
    if (argc < 2) {
        say("usage: cowtest twothirds|generations|pipe|rounds|sparse|oom|heap|sharing|all|mprotect|sharedanon\n");
        return 2;
    }
    scenario = argv[1];
    check_bss_array(); /* before anything writes to it (prefault rewrites its zeros) */
    void (*run)(void) = NULL;
    int want_prefault = 1;
    if (strcmp(scenario, "all") == 0) run = all;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(scenario, scenarios[i].name) == 0) run = scenarios[i].run, want_prefault = scenarios[i].prefault;
    if (!run) {
        say("cowtest: unknown scenario \"%s\"\n", scenario);
        return 2;
    }
    if (want_prefault) prefault();
    say("cowtest %s: pid %d\n", scenario, getpid());
    run();
    if (failures) {
        say("cowtest %s: FAILED (%d checks)\n", scenario, failures);
        return 1;
    }
    say("cowtest %s: ok\n", scenario);
    return 0;
}
