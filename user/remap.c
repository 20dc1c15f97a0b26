/* mremap, mincore, madvise's MADV_REMOVE and MADV_FREE, and fallocate's
 * hole punching as Linux does them, with exact errnos: shrinking, growing
 * in place, moving (MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP) of
 * anonymous, shared and file memory, duplicating a shared mapping (old size 0), a file
 * mapping grown past the end of its file (SIGBUS); residency per page;
 * holes punched through a shared mapping or with fallocate, seen by every
 * mapper while private copies stay; and a random mix of all of it on
 * anonymous memory, with fork, checked against a model.
 *
 * The same binary must pass on Linux (as root). As TSKernel's init it also
 * checks what only TSKernel shows: moved pages are not faulted in again,
 * a punched hole leaves the page cache, and the whole run, made again in a
 * child, gives back every frame (/proc/memcheck before and after).
 * Prints "ok NAME" / "FAIL NAME: ..." and "remap: N checks, M failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096L

static int checks, failures, quiet;

static void check(const char *name, int ok, const char *fmt, ...) {
    checks++;
    if (ok) {
        if (!quiet) printf("ok %s\n", name);
        return;
    }
    failures++;
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    printf("FAIL %s: %s\n", name, detail);
}

/* The raw call (musl's wrapper passes new_address only with MREMAP_FIXED), and its errno or 0. */
static long remap(void *old, long old_size, long new_size, long flags, void *new_address) {
    return syscall(SYS_mremap, old, old_size, new_size, flags, new_address);
}

static void expect_errno(const char *name, long result, int expected) {
    check(name, result == -1 && errno == expected, "result %ld errno %d (%s), expected %d (%s)", result,
          result == -1 ? errno : 0, result == -1 ? strerror(errno) : "none", expected, strerror(expected));
}

static char *map(long pages, int prot, int flags, int fd, long offset) {
    char *p = mmap(0, pages * PAGE, prot, flags, fd, offset);
    if (p == MAP_FAILED) {
        printf("FAIL mmap: %s\n", strerror(errno));
        exit(2);
    }
    return p;
}

static char *anon(long pages) {
    return map(pages, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* Fills each page with its own letter, from `first` on. */
static void letter_pages(char *p, long pages, char first) {
    for (long i = 0; i < pages; i++) memset(p + i * PAGE, first + i, PAGE);
}

static int page_is(const char *p, char c) {
    for (long i = 0; i < PAGE; i++)
        if (p[i] != c) return 0;
    return 1;
}

static int mapped(void *p, long pages) {
    unsigned char vec[64];
    return mincore(p, pages * PAGE, vec) == 0;
}

/* Whether the kernel says it is at least Linux major.minor (TSKernel says 6.1). */
static int linux_at_least(int major, int minor) {
    struct utsname name;
    int got_major = 0, got_minor = 0;
    if (uname(&name) != 0 || sscanf(name.release, "%d.%d", &got_major, &got_minor) != 2) return 0;
    return got_major > major || (got_major == major && got_minor >= minor);
}

static int on_tskernel(void) {
    return access("/proc/memcheck", F_OK) == 0;
}

/* A number from a /proc file of TSKernel's ("key value" lines); -1 if absent. */
static long proc_number(const char *path, const char *key) {
    static char text[2048];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    long n = read(fd, text, sizeof text - 1);
    close(fd);
    text[n > 0 ? n : 0] = 0;
    char *at = strstr(text, key);
    return at ? atol(at + strlen(key)) : -1;
}

static int new_file(const char *name, long pages, char first) {
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0600);
    static char buffer[PAGE];
    for (long i = 0; i < pages; i++) {
        memset(buffer, first + i, PAGE);
        if (write(fd, buffer, PAGE) != PAGE) {
            printf("FAIL write %s: %s\n", name, strerror(errno));
            exit(2);
        }
    }
    return fd;
}

static int status_of(pid_t child) {
    int status = 0;
    return waitpid(child, &status, 0) == child ? status : -1;
}

/* ----------------------------------------------------------- mremap errnos */

static void remap_errnos(void) {
    char *a = anon(4);
    expect_errno("mremap-unaligned-old-einval", remap(a + 1, PAGE, PAGE, 0, 0), EINVAL);
    expect_errno("mremap-unknown-flag-einval", remap(a, PAGE, PAGE, 8, 0), EINVAL);
    expect_errno("mremap-fixed-without-maymove-einval", remap(a, PAGE, PAGE, MREMAP_FIXED, a + 8 * PAGE), EINVAL);
    expect_errno("mremap-dontunmap-without-maymove-einval", remap(a, PAGE, PAGE, MREMAP_DONTUNMAP, 0), EINVAL);
    expect_errno("mremap-dontunmap-resize-einval", remap(a, PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, 0), EINVAL);
    expect_errno("mremap-new-size-0-einval", remap(a, PAGE, 0, MREMAP_MAYMOVE, 0), EINVAL);
    expect_errno("mremap-fixed-unaligned-new-einval",
                 remap(a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, a + 8 * PAGE + 1), EINVAL);
    expect_errno("mremap-fixed-overlap-einval", remap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, a + PAGE), EINVAL);
    expect_errno("mremap-fixed-overlap-below-einval",
                 remap(a + PAGE, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, a), EINVAL);
    expect_errno("mremap-private-old-size-0-einval", remap(a, 0, PAGE, MREMAP_MAYMOVE, 0), EINVAL);

    munmap(a + 2 * PAGE, 2 * PAGE);
    expect_errno("mremap-unmapped-old-efault", remap(a + 2 * PAGE, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0), EFAULT);
    expect_errno("mremap-old-past-region-efault", remap(a, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE, 0), EFAULT);
    /* Two regions (different protections) are not one mapping either. */
    mprotect(a + PAGE, PAGE, PROT_READ);
    expect_errno("mremap-old-spans-regions-efault", remap(a, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE, 0), EFAULT);
    /* Linux 6.17 learnt to move several mappings at once (MREMAP_FIXED without resizing). */
    char *target = anon(2);
    if (!linux_at_least(6, 17))
        expect_errno("mremap-fixed-old-spans-regions-efault",
                     remap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target), EFAULT);
    /* Growing where something follows, without leave to move. */
    expect_errno("mremap-grow-blocked-enomem", remap(a, PAGE, 2 * PAGE, 0, 0), ENOMEM);
    munmap(a, 2 * PAGE);
    munmap(target, 2 * PAGE);
}

/* ------------------------------------------------------ shrink and grow */

static void remap_resize(void) {
    char *a = anon(4);
    letter_pages(a, 4, 'a');
    long r = remap(a, 4 * PAGE, 2 * PAGE, 0, 0);
    check("mremap-shrink-same-address", r == (long)a, "returned %#lx for %p", r, a);
    check("mremap-shrink-keeps-head", page_is(a, 'a') && page_is(a + PAGE, 'b'), "contents changed");
    check("mremap-shrink-unmaps-tail", !mapped(a + 2 * PAGE, 2) && errno == ENOMEM, "tail still mapped");

    /* The tail is free again: grow back in place, without MREMAP_MAYMOVE. */
    r = remap(a, 2 * PAGE, 4 * PAGE, 0, 0);
    check("mremap-grow-in-place", r == (long)a, "returned %#lx for %p (errno %d)", r, a, errno);
    check("mremap-grow-keeps-contents", page_is(a, 'a') && page_is(a + PAGE, 'b'), "contents changed");
    check("mremap-grow-new-pages-zero", page_is(a + 2 * PAGE, 0) && page_is(a + 3 * PAGE, 0), "new pages not zero");
    a[3 * PAGE] = 'z';
    check("mremap-grown-pages-writable", a[3 * PAGE] == 'z', "write lost");
    check("mremap-same-size-same-address", remap(a, 4 * PAGE, 4 * PAGE, 0, 0) == (long)a, "moved");
    /* Shrinking is munmap of the rest, whatever regions are there. */
    mprotect(a + 2 * PAGE, PAGE, PROT_READ);
    r = remap(a, 4 * PAGE, PAGE, 0, 0);
    check("mremap-shrink-over-regions", r == (long)a && page_is(a, 'a') && !mapped(a + PAGE, 1) && !mapped(a + 2 * PAGE, 1) &&
          !mapped(a + 3 * PAGE, 1), "returned %#lx (errno %d)", r, errno);
    munmap(a, PAGE);
}

/* ---------------------------------------------------------------- moves */

static void remap_move(void) {
    /* A mapping with its neighbour taken cannot grow in place: it moves, frames and all. */
    char *a = anon(3), *guard = a + 2 * PAGE;
    mprotect(guard, PAGE, PROT_NONE);
    letter_pages(a, 2, 'm');
    long faults_before = proc_number("/proc/self/faults", "demand_zero ");
    long resident_before = proc_number("/proc/self/faults", "resident_pages ");
    char *b = (char *)remap(a, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, 0);
    int contents_moved = b != MAP_FAILED && page_is(b, 'm') && page_is(b + PAGE, 'n');
    /* The entries moved: reading the moved pages took no fault, and no frame was added. */
    long faults_after = proc_number("/proc/self/faults", "demand_zero ");
    long resident_after = proc_number("/proc/self/faults", "resident_pages ");
    check("mremap-maymove-moves", b != MAP_FAILED && b != a, "returned %p for %p (errno %d)", b, a, errno);
    if (b == MAP_FAILED) return;
    check("mremap-moved-contents", contents_moved, "contents not moved");
    check("mremap-moved-tail-zero", page_is(b + 7 * PAGE, 0), "tail not zero");
    check("mremap-moved-old-unmapped", !mapped(a, 2), "old range still mapped");
    if (faults_before >= 0) {
        check("mremap-moved-pages-not-faulted-again", faults_after == faults_before, "demand-zero faults %ld -> %ld",
              faults_before, faults_after);
        check("mremap-moved-pages-stay-resident", resident_after == resident_before, "resident pages %ld -> %ld",
              resident_before, resident_after);
    }
    b[PAGE] = 'w';
    check("mremap-moved-writable", b[PAGE] == 'w', "write lost");
    munmap(guard, PAGE);
    munmap(b, 8 * PAGE);

    /* MREMAP_FIXED replaces whatever is at the target. */
    char *src = anon(3), *dst = anon(3);
    letter_pages(src, 3, 'A');
    letter_pages(dst, 3, 'x');
    long r = remap(src, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    check("mremap-fixed-at-target", r == (long)dst, "returned %#lx for %p (errno %d)", r, dst, errno);
    check("mremap-fixed-replaces-target", page_is(dst, 'A') && page_is(dst + 2 * PAGE, 'C'), "target contents wrong");
    check("mremap-fixed-old-unmapped", !mapped(src, 3), "old range still mapped");
    /* FIXED with a smaller size: the tail of the old range goes. */
    char *small = anon(4);
    letter_pages(small, 4, 'p');
    char *to = anon(8);
    r = remap(small, 4 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to + 4 * PAGE);
    check("mremap-fixed-shrink", r == (long)(to + 4 * PAGE) && page_is(to + 4 * PAGE, 'p') && page_is(to + 5 * PAGE, 'q'),
          "returned %#lx (errno %d)", r, errno);
    check("mremap-fixed-shrink-rest-kept", mapped(to, 4) && mapped(to + 6 * PAGE, 2) && !mapped(small, 4),
          "neighbours wrong");
    /* Part of a mapping moved into another part of the same mapping (it is split around both). */
    letter_pages(to, 8, 'a');
    r = remap(to + PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to + 6 * PAGE);
    check("mremap-fixed-within-mapping", r == (long)(to + 6 * PAGE) && page_is(to + 6 * PAGE, 'b') && !mapped(to + PAGE, 1) &&
          page_is(to, 'a') && page_is(to + 2 * PAGE, 'c') && page_is(to + 7 * PAGE, 'h'), "returned %#lx (errno %d)", r, errno);
    munmap(dst, 3 * PAGE);
    munmap(to, 8 * PAGE);

    /* Pages shared copy-on-write with a child: the child moves its copy, both write, neither sees the other. */
    char *c = anon(2);
    letter_pages(c, 2, 'k');
    char *away = anon(2);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char *mine = (char *)remap(c, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, away);
        if (mine != away || !page_is(mine, 'k') || !page_is(mine + PAGE, 'l')) _exit(1);
        mine[0] = 'c';
        _exit(mapped(c, 2) ? 2 : 0);
    }
    int status = status_of(child);
    c[1] = 'p';
    check("mremap-child-moves-shared-cow-pages", WIFEXITED(status) && WEXITSTATUS(status) == 0 && c[0] == 'k' &&
          c[1] == 'p' && page_is(c + PAGE, 'l') && page_is(away, 0), "child status %#x", status);
    munmap(c, 2 * PAGE);
    munmap(away, 2 * PAGE);

    /* A move over a 2 MiB page-table boundary, and a large one. */
    long pages = 1024;
    char *big = anon(pages);
    for (long i = 0; i < pages; i += 7) big[i * PAGE] = (char)i;
    char *moved = (char *)remap(big, pages * PAGE, 2 * pages * PAGE, MREMAP_MAYMOVE, 0);
    int ok = moved != MAP_FAILED;
    for (long i = 0; ok && i < pages; i += 7) ok = moved[i * PAGE] == (char)i;
    check("mremap-move-4mib", ok, "contents lost (errno %d)", errno);
    if (moved != MAP_FAILED) munmap(moved, 2 * pages * PAGE);
}

static void remap_dontunmap(void) {
    char *a = anon(2);
    letter_pages(a, 2, 'd');
    char *b = (char *)remap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    check("mremap-dontunmap-moves", b != MAP_FAILED && b != a, "returned %p (errno %d)", b, errno);
    if (b == MAP_FAILED) return;
    check("mremap-dontunmap-new-has-pages", page_is(b, 'd') && page_is(b + PAGE, 'e'), "contents not moved");
    unsigned char vec[2] = {9, 9};
    check("mremap-dontunmap-old-mapped-empty", mincore(a, 2 * PAGE, vec) == 0 && vec[0] == 0 && vec[1] == 0,
          "mincore %d %d (errno %d)", vec[0], vec[1], errno);
    check("mremap-dontunmap-old-reads-zero", page_is(a, 0) && page_is(a + PAGE, 0), "old range not empty");
    a[0] = 'o';
    check("mremap-dontunmap-old-independent", b[0] == 'd', "new mapping changed");
    munmap(a, 2 * PAGE);
    munmap(b, 2 * PAGE);

    /* With a target hint that is free, the pages go there. */
    char *c = anon(1), *hint = anon(1);
    munmap(hint, PAGE);
    c[0] = 'h';
    b = (char *)remap(c, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, hint);
    check("mremap-dontunmap-takes-hint", b == hint && b[0] == 'h', "returned %p for hint %p", b, hint);
    munmap(c, PAGE);
    if (b != MAP_FAILED) munmap(b, PAGE);

    /* A shared file mapping (allowed since Linux 5.13): the old range maps the file again. */
    int fd = new_file("dontunmap-file", 2, 'F');
    char *f = map(2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    f[1] = 'w';
    b = (char *)remap(f, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    check("mremap-dontunmap-shared-file", b != MAP_FAILED && b[1] == 'w' && f[1] == 'w' && f[PAGE] == 'G',
          "returned %p (errno %d)", b, errno);
    if (b != MAP_FAILED) {
        b[2] = 'x';
        check("mremap-dontunmap-shared-still-shared", f[2] == 'x', "old range lost the file");
        munmap(b, 2 * PAGE);
    }
    munmap(f, 2 * PAGE);
    close(fd);
    unlink("dontunmap-file");
}

static void remap_shared(void) {
    /* An old size of 0 duplicates a shared mapping: both see the same pages. */
    char *s = map(2, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    letter_pages(s, 2, 'S');
    char *d = (char *)remap(s, 0, 2 * PAGE, MREMAP_MAYMOVE, 0);
    check("mremap-duplicate-shared", d != MAP_FAILED && d != s && page_is(d, 'S') && page_is(d + PAGE, 'T'),
          "returned %p (errno %d)", d, errno);
    if (d != MAP_FAILED) {
        d[5] = '!';
        s[PAGE + 5] = '?';
        check("mremap-duplicate-shares-pages", s[5] == '!' && d[PAGE + 5] == '?', "writes not shared");
        check("mremap-duplicate-keeps-old", mapped(s, 2), "old mapping gone");
        munmap(d, 2 * PAGE);
    }
    expect_errno("mremap-duplicate-needs-maymove", remap(s, 0, PAGE, 0, 0), ENOMEM);

    /* A shared anonymous mapping moved, across fork: the child sees what the parent moved. */
    char *m = (char *)remap(s, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE, 0);
    check("mremap-shared-anon-moves", m != MAP_FAILED && m[0] == 'S' && m[5] == '!' && m[PAGE + 5] == '?',
          "returned %p (errno %d)", m, errno);
    if (m == MAP_FAILED) return;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        m[PAGE + 1] = 'c';
        _exit(m[1] == 'S' ? 0 : 1);
    }
    int status = status_of(child);
    check("mremap-shared-anon-moved-shared-with-child", WIFEXITED(status) && WEXITSTATUS(status) == 0 && m[PAGE + 1] == 'c',
          "status %#x", status);
    munmap(m, 4 * PAGE);
}

static void remap_file(void) {
    int fd = new_file("remap-file", 4, '0');
    /* A mapping at an offset keeps its offset when moved and grown (an anonymous page after it stops growth in place). */
    char *f = anon(3), *guard = f + 2 * PAGE;
    mmap(f, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, PAGE);
    char *g = (char *)remap(f, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE, 0);
    check("mremap-file-offset-kept", g != MAP_FAILED && page_is(g, '1') && page_is(g + PAGE, '2') && page_is(g + 2 * PAGE, '3'),
          "returned %p (errno %d)", g, errno);
    if (g == MAP_FAILED) return;
    g[0] = 'W';
    char byte = 0;
    pread(fd, &byte, 1, PAGE);
    check("mremap-file-still-shared", byte == 'W', "read %c", byte);
    munmap(guard, PAGE);

    /* Moved within itself, out and back (LTP's mremap06). */
    char *h = map(4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    long r = remap(h + PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, h + 3 * PAGE);
    long back = remap(h + 3 * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, h + PAGE);
    check("mremap-file-page-out-and-back", r == (long)(h + 3 * PAGE) && back == (long)(h + PAGE) && h[0] == '0' &&
          h[PAGE] == 'W' && page_is(h + 2 * PAGE, '2') && !mapped(h + 3 * PAGE, 1), "returned %#lx, %#lx", r, back);
    munmap(h, 3 * PAGE);

    /* Grown past the end of the file, a touch there is SIGBUS; once the file is longer it is not. */
    ftruncate(fd, PAGE);
    char *one = map(1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *grown = (char *)remap(one, PAGE, 3 * PAGE, MREMAP_MAYMOVE, 0);
    check("mremap-file-grows-past-eof", grown != MAP_FAILED && page_is(grown, '0'), "returned %p (errno %d)", grown, errno);
    if (grown == MAP_FAILED) return;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        signal(SIGBUS, SIG_DFL);
        _exit(grown[PAGE + 5] == 42 ? 3 : 4);
    }
    int status = status_of(child);
    check("mremap-file-past-eof-sigbus", WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS, "status %#x", status);
    ftruncate(fd, 3 * PAGE);
    grown[2 * PAGE] = 'e';
    check("mremap-file-past-old-eof-after-truncate", grown[PAGE] == 0 && grown[2 * PAGE] == 'e', "contents %d",
          grown[PAGE]);
    /* The moved mapping is known to the file: truncation unmaps it there too. */
    ftruncate(fd, PAGE);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        signal(SIGBUS, SIG_DFL);
        _exit(grown[2 * PAGE] == 'e' ? 3 : 4);
    }
    status = status_of(child);
    check("mremap-moved-mapping-truncated-sigbus", WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS, "status %#x", status);
    munmap(grown, 3 * PAGE);
    munmap(g, 3 * PAGE);
    close(fd);
    unlink("remap-file");
}

/* ---------------------------------------------------------------- mincore */

static void residency(void) {
    unsigned char vec[8];
    char *a = anon(4);
    expect_errno("mincore-unaligned-einval", mincore(a + 1, PAGE, vec), EINVAL);
    expect_errno("mincore-bad-vector-efault", mincore(a, PAGE, (unsigned char *)8), EFAULT);
    expect_errno("mincore-past-user-space-enomem", mincore(a, 0x800000000000L, vec), ENOMEM);
    check("mincore-length-0", mincore(a, 0, (unsigned char *)8) == 0, "errno %d", errno);
    memset(vec, 9, sizeof vec);
    check("mincore-untouched-anonymous", mincore(a, 4 * PAGE, vec) == 0 && !vec[0] && !vec[1] && !vec[2] && !vec[3],
          "%d %d %d %d", vec[0], vec[1], vec[2], vec[3]);
    a[PAGE] = 1;
    a[3 * PAGE] = 1;
    check("mincore-written-anonymous", mincore(a, 4 * PAGE, vec) == 0 && !vec[0] && vec[1] == 1 && !vec[2] && vec[3] == 1,
          "%d %d %d %d", vec[0], vec[1], vec[2], vec[3]);
    check("mincore-partial-page-length", mincore(a + PAGE, 1, vec) == 0 && vec[0] == 1, "errno %d", errno);
    madvise(a, 4 * PAGE, MADV_DONTNEED);
    check("mincore-after-dontneed", mincore(a, 4 * PAGE, vec) == 0 && !vec[1] && !vec[3], "%d %d", vec[1], vec[3]);
    munmap(a + 2 * PAGE, PAGE);
    expect_errno("mincore-hole-enomem", mincore(a, 4 * PAGE, vec), ENOMEM);
    expect_errno("mincore-unmapped-enomem", mincore(a + 2 * PAGE, PAGE, vec), ENOMEM);
    munmap(a, 4 * PAGE);

    /* A file's pages in the page cache are resident before this process touches them. */
    int fd = new_file("mincore-file", 3, 'r');
    char *f = map(3, PROT_READ, MAP_SHARED, fd, 0);
    memset(vec, 9, sizeof vec);
    check("mincore-file-in-page-cache", mincore(f, 3 * PAGE, vec) == 0 && vec[0] == 1 && vec[1] == 1 && vec[2] == 1,
          "%d %d %d", vec[0], vec[1], vec[2]);
    munmap(f, 3 * PAGE);
    close(fd);
    unlink("mincore-file");
}

/* ---------------------------------------------------------------- madvise */

static void advice(void) {
    char *a = anon(2);
    expect_errno("madvise-unknown-einval", madvise(a, PAGE, 12345), EINVAL);
    expect_errno("madvise-remove-private-anonymous-einval", madvise(a, PAGE, MADV_REMOVE), EINVAL);
    letter_pages(a, 2, 'f');
    check("madvise-free-private-anonymous", madvise(a, 2 * PAGE, MADV_FREE) == 0, "errno %d", errno);
    check("madvise-free-old-or-zero", (page_is(a, 'f') || page_is(a, 0)) && (page_is(a + PAGE, 'g') || page_is(a + PAGE, 0)),
          "contents neither");
    mlock(a, PAGE);
    expect_errno("madvise-dontneed-locked-einval", madvise(a, PAGE, MADV_DONTNEED), EINVAL);
    expect_errno("madvise-free-locked-einval", madvise(a, PAGE, MADV_FREE), EINVAL);
    munlock(a, PAGE);
    check("madvise-dontneed-after-munlock", madvise(a, PAGE, MADV_DONTNEED) == 0, "errno %d", errno);
    munmap(a, 2 * PAGE);

    char *s = map(2, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    expect_errno("madvise-free-shared-einval", madvise(s, PAGE, MADV_FREE), EINVAL);
    letter_pages(s, 2, 's');
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        while (s[0] == 's') usleep(1000); /* until the parent punches the hole */
        _exit(page_is(s, 0) && page_is(s + PAGE, 't') ? 0 : 1);
    }
    check("madvise-remove-shared-anonymous", madvise(s, PAGE, MADV_REMOVE) == 0, "errno %d", errno);
    check("madvise-remove-shared-anonymous-zero", page_is(s, 0) && page_is(s + PAGE, 't'), "contents");
    int status = status_of(child);
    check("madvise-remove-seen-by-child", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    munmap(s, 2 * PAGE);

    int fd = new_file("remove-file", 4, 'R');
    char *shared = map(4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *other = map(4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *private = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    expect_errno("madvise-free-private-file-einval", madvise(private, PAGE, MADV_FREE), EINVAL);
    expect_errno("madvise-remove-private-file-eacces", madvise(private, PAGE, MADV_REMOVE), EACCES);
    private[PAGE] = 'P'; /* a private copy of page 1 */
    volatile char touch = private[2 * PAGE] + other[PAGE] + other[2 * PAGE]; /* page 2 mapped from the cache */
    (void)touch;
    long cached_before = proc_number("/proc/memcheck", "cached_pages ");
    check("madvise-remove-shared-file", madvise(shared + PAGE, 2 * PAGE, MADV_REMOVE) == 0, "errno %d", errno);
    long cached_after = proc_number("/proc/memcheck", "cached_pages ");
    /* Before any touch there brings the pages back (a read of a hole in a shared mapping makes a page, on Linux too). */
    unsigned char vec[4] = {9, 9, 9, 9};
    check("madvise-remove-leaves-page-cache", mincore(shared, 4 * PAGE, vec) == 0 && vec[0] == 1 && !vec[1] && !vec[2] &&
          vec[3] == 1, "%d %d %d %d", vec[0], vec[1], vec[2], vec[3]);
    if (cached_before >= 0)
        check("madvise-remove-frees-cache-pages", cached_before - cached_after == 2, "cached pages %ld -> %ld", cached_before,
              cached_after);
    check("madvise-remove-zero-through-mapping", page_is(shared, 'R') && page_is(shared + PAGE, 0) &&
          page_is(shared + 2 * PAGE, 0) && page_is(shared + 3 * PAGE, 'U'), "contents");
    check("madvise-remove-zero-in-other-mapping", page_is(other + PAGE, 0) && page_is(other + 2 * PAGE, 0), "contents");
    check("madvise-remove-private-copy-kept", private[PAGE] == 'P' && private[PAGE + 1] == 'S', "private copy %c",
          private[PAGE]);
    check("madvise-remove-private-uncopied-zero", page_is(private + 2 * PAGE, 0), "private page 2 %c", private[2 * PAGE]);
    char bytes[3 * PAGE];
    struct stat st;
    fstat(fd, &st);
    check("madvise-remove-read-zero-size-kept", pread(fd, bytes, 3 * PAGE, 0) == 3 * PAGE && bytes[0] == 'R' &&
          bytes[PAGE] == 0 && bytes[3 * PAGE - 1] == 0 && st.st_size == 4 * PAGE, "size %ld", (long)st.st_size);
    munmap(other, 4 * PAGE);
    shared[PAGE] = 'n';
    check("madvise-remove-hole-writable", pread(fd, bytes, 1, PAGE) == 1 && bytes[0] == 'n', "read %c", bytes[0]);
    /* Linux 6.7 asks whether the mapping may be made writable, not whether it is. */
    mprotect(shared, PAGE, PROT_READ);
    if (!linux_at_least(6, 7))
        expect_errno("madvise-remove-read-only-part-eacces", madvise(shared, 2 * PAGE, MADV_REMOVE), EACCES);
    mlock(shared + 3 * PAGE, PAGE);
    expect_errno("madvise-remove-locked-einval", madvise(shared + 3 * PAGE, PAGE, MADV_REMOVE), EINVAL);
    munmap(shared, 4 * PAGE);
    munmap(private, 4 * PAGE);
    close(fd);

    fd = open("remove-file", O_RDONLY);
    char *reader = map(1, PROT_READ, MAP_SHARED, fd, 0);
    expect_errno("madvise-remove-read-only-file-eacces", madvise(reader, PAGE, MADV_REMOVE), EACCES);
    munmap(reader, PAGE);
    close(fd);
    unlink("remove-file");
}

/* ---------------------------------------------------------- fallocate */

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 1
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 2
#endif

static long file_size(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (long)st.st_size : -1;
}

static void holes(void) {
    int fd = new_file("hole-file", 3, 'h');
    char *m = map(3, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    expect_errno("fallocate-punch-needs-keep-size-eopnotsupp", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, PAGE), EOPNOTSUPP);
    expect_errno("fallocate-negative-offset-einval", fallocate(fd, 0, -1, PAGE), EINVAL);
    expect_errno("fallocate-length-0-einval", fallocate(fd, 0, 0, 0), EINVAL);
    /* Not page-aligned: the bytes are zeroed, the pages stay. */
    check("fallocate-punch-hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE + 100, PAGE) == 0, "errno %d",
          errno);
    int zero = 1;
    for (long i = PAGE + 100; i < 2 * PAGE + 100; i++) zero &= m[i] == 0;
    check("fallocate-punch-zeroes-range", zero && m[PAGE + 99] == 'i' && m[2 * PAGE + 100] == 'j' && page_is(m, 'h'),
          "contents");
    check("fallocate-punch-keeps-size", file_size(fd) == 3 * PAGE, "size %ld", file_size(fd));
    check("fallocate-extends", fallocate(fd, 0, 3 * PAGE, 2 * PAGE) == 0 && file_size(fd) == 5 * PAGE, "size %ld",
          file_size(fd));
    check("fallocate-keep-size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 5 * PAGE, PAGE) == 0 && file_size(fd) == 5 * PAGE,
          "size %ld", file_size(fd));
    munmap(m, 3 * PAGE);
    close(fd);
    fd = open("hole-file", O_RDONLY);
    expect_errno("fallocate-read-only-ebadf", fallocate(fd, 0, 0, PAGE), EBADF);
    close(fd);
    unlink("hole-file");
    /* On TSKernel a file of the initramfs reads its bytes from the archive: its hole must not read them again. */
    fd = on_tskernel() ? open("/bin/hello", O_RDWR) : -1;
    if (fd < 0) return;
    static char before[3 * PAGE], after[3 * PAGE];
    pread(fd, before, sizeof before, 0);
    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE, PAGE);
    long got = pread(fd, after, sizeof after, 0);
    zero = 1;
    for (long i = PAGE; i < 2 * PAGE; i++) zero &= after[i] == 0;
    check("fallocate-punch-archive-file", got == 3 * PAGE && zero && memcmp(before, after, PAGE) == 0 &&
          memcmp(before + 2 * PAGE, after + 2 * PAGE, PAGE) == 0, "read %ld", got);
    close(fd);
}

/* ------------------------------------------------------------ random mix */

/* Random maps, moves (in place, MAYMOVE, FIXED over another slot, DONTUNMAP),
 * shrinks, drops and forks of anonymous memory, checked against a model:
 * a tag per page (the first byte; 0 for a page that reads as zeros, -1 after
 * MADV_FREE, which may keep it or not). */
#define SLOTS 12
#define MAX_PAGES 40
static struct slot {
    char *at;
    long pages;
    int shared;
    signed char tag[MAX_PAGES * 2];
} slots[SLOTS];
static unsigned long seed = 12345;

static unsigned long next_random(unsigned long n) {
    seed = seed * 6364136223846793005ul + 1442695040888963407ul;
    return (seed >> 33) % n;
}

static int slot_ok(struct slot *s) {
    for (long i = 0; i < s->pages; i++) {
        char got = s->at[i * PAGE];
        if (s->tag[i] == -1 ? got != 0 && got != s->at[i * PAGE + 1] : got != s->tag[i]) return 0;
    }
    return 1;
}

static void slot_write(struct slot *s, long i) {
    char tag = (char)(1 + next_random(100));
    s->at[i * PAGE] = tag;
    s->at[i * PAGE + 1] = tag; /* what an MADV_FREE'd page that kept its bytes still says */
    s->tag[i] = tag;
}

static void drop(struct slot *s) {
    munmap(s->at, s->pages * PAGE);
    s->at = 0;
}

static int random_step(void) {
    struct slot *s = &slots[next_random(SLOTS)];
    if (!s->at) {
        s->pages = 1 + next_random(MAX_PAGES);
        s->shared = next_random(4) == 0;
        s->at = map(s->pages, PROT_READ | PROT_WRITE, (s->shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
        memset(s->tag, 0, sizeof s->tag);
        return 1;
    }
    switch (next_random(8)) {
    case 0:
    case 1: { /* touch */
        long i = next_random(s->pages);
        if (next_random(2)) slot_write(s, i);
        else if (s->at[i * PAGE] != s->tag[i] && s->tag[i] != -1) return 0;
        return 1;
    }
    case 2: { /* resize, moving if need be (not shared memory: past its object's size would be SIGBUS) */
        if (s->shared) return 1;
        long pages = 1 + next_random(MAX_PAGES * 2);
        char *to = (char *)remap(s->at, s->pages * PAGE, pages * PAGE, next_random(3) ? MREMAP_MAYMOVE : 0, 0);
        if (to == MAP_FAILED) return errno == ENOMEM && pages > s->pages;
        for (long i = s->pages; i < pages; i++) s->tag[i] = 0;
        s->at = to;
        s->pages = pages;
        return slot_ok(s);
    }
    case 3: { /* onto another slot, which goes */
        struct slot *t = &slots[next_random(SLOTS)];
        if (!t->at || t == s) return 1;
        long pages = 1 + next_random(t->pages < s->pages ? t->pages : s->pages);
        char *target = t->at;
        if (t->pages > pages) munmap(t->at + pages * PAGE, (t->pages - pages) * PAGE);
        t->at = 0;
        char *to = (char *)remap(s->at, s->pages * PAGE, pages * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
        if (to != target) return 0;
        s->at = to;
        s->pages = pages;
        return slot_ok(s);
    }
    case 4: { /* MREMAP_DONTUNMAP into a free slot; the old one stays, empty (or the same pages, shared) */
        struct slot *t = &slots[next_random(SLOTS)];
        if (t->at || s->shared) return 1;
        char *to = (char *)remap(s->at, s->pages * PAGE, s->pages * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
        if (to == MAP_FAILED) return 0;
        *t = *s;
        t->at = to;
        memset(s->tag, 0, sizeof s->tag);
        return slot_ok(s) && slot_ok(t);
    }
    case 5: { /* drop a range */
        long first = next_random(s->pages), n = 1 + next_random(s->pages - first);
        int free_it = !s->shared && next_random(2);
        if (s->shared) {
            if (madvise(s->at + first * PAGE, n * PAGE, MADV_REMOVE) != 0) return 0;
        } else if (madvise(s->at + first * PAGE, n * PAGE, free_it ? MADV_FREE : MADV_DONTNEED) != 0) {
            return 0;
        }
        for (long i = first; i < first + n; i++) s->tag[i] = free_it && s->tag[i] ? -1 : 0;
        return 1;
    }
    case 6: { /* a child sees the same, and its writes stay its own (or are shared) */
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            for (int i = 0; i < SLOTS; i++)
                if (slots[i].at && !slot_ok(&slots[i])) _exit(1);
            for (int i = 0; i < SLOTS; i++)
                if (slots[i].at && !slots[i].shared) slot_write(&slots[i], 0);
            _exit(0);
        }
        int status = status_of(child);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    default:
        if (!slot_ok(s)) return 0;
        drop(s);
        return 1;
    }
}

static void random_mix(void) {
    int steps = 3000, done = 0;
    while (done < steps && random_step()) done++;
    int all = done == steps;
    for (int i = 0; i < SLOTS; i++) {
        if (!slots[i].at) continue;
        all &= slot_ok(&slots[i]);
        drop(&slots[i]);
    }
    check("random-mix-matches-model", all, "step %d of %d went wrong (seed state %lu)", done, steps, seed);
}

static int run_all(void) {
    remap_errnos();
    remap_resize();
    remap_move();
    remap_dontunmap();
    remap_shared();
    remap_file();
    residency();
    advice();
    holes();
    random_mix();
    return failures;
}

/* Checks run in children (init takes no signal it has no handler for); they count into this shared page. */
static int *totals;

static int run_in_child(void) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        checks = failures = 0;
        run_all();
        totals[0] = checks;
        totals[1] = failures;
        _exit(0);
    }
    int status = status_of(child);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* As TSKernel's init: the whole run, made again in a child, gives back every frame it took. */
static void leak_check(void) {
    proc_number("/proc/memcheck", "free_frames ");
    long baseline = proc_number("/proc/memcheck", "free_frames ");
    quiet = 1;
    int ran = run_in_child();
    quiet = 0;
    long problems = proc_number("/proc/memcheck", "problems ");
    long after = proc_number("/proc/memcheck", "free_frames ");
    check("leak-run-again", ran && totals[1] == 0, "%d failed the second time", totals[1]);
    check("leak-memcheck-problems-0", problems == 0, "%ld problems (see the memcheck: lines)", problems);
    check("leak-free-frames-unchanged", after == baseline && baseline > 0, "free_frames %ld before, %ld after", baseline, after);
    printf("remap: leak check: free_frames %ld before, %ld after\n", baseline, after);
}

/* Makes the stack below main resident first: exec randomises where it
 * starts, which decides whether a later call touches a new stack page,
 * and such a demand-zero fault would land inside a count compared here. */
static void __attribute__((noinline)) touch_stack(void) {
    volatile char below[64 * 1024];
    for (unsigned long i = 0; i < sizeof below; i += PAGE) below[i] = 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IOLBF, 0);
    touch_stack();
    const char *dir = argc > 1 ? argv[1] : "/tmp/remap-test";
    mkdir(dir, 0755);
    if (chdir(dir) != 0) {
        printf("FAIL chdir %s: %s\n", dir, strerror(errno));
        return 2;
    }
    totals = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int ran = run_in_child();
    checks += totals[0];
    failures += totals[1];
    check("checks-ran-to-the-end", ran && totals[0] > 0, "the child did not finish");
    if (on_tskernel() && getpid() == 1) leak_check();
    chdir("/");
    rmdir(dir);
    printf("remap: %d checks, %d failed\n", checks, failures);
    return failures != 0;
}
