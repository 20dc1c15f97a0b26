/* Regression checks for what a system-call fuzzer found (issue
 * "Robustness"), each as Linux behaves: readv and writev check their whole
 * iovec array before moving data or sleeping and stop waiting once data
 * came; O_NONBLOCK on pipes; kill of another process; close-on-exec;
 * madvise(MADV_DONTNEED); O_PATH descriptors; program-header counts that
 * overstate the table. Checks that could hang on a broken kernel run in a
 * child that is killed after a time limit, so a hang is one FAIL, not a
 * stuck run.
 *
 * The same binary runs on Linux (`build/user/bin/robust` on the host) and
 * must pass there too; checks that need to be init (kill -1) run only as
 * pid 1. Arguments: `--odd-elf DIR` execs DIR/phnum-7 and DIR/phnum-17
 * (made by the test) and expects them to run; `--check-fds OPEN CLOSED`
 * is the exec'd half of the close-on-exec check.
 *
 * Prints "ok NAME" or "FAIL NAME: ..." per check and "robust: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static int failures;

static long raw(long number, long a, long b, long c) {
    long result = syscall(number, a, b, c);
    return result == -1 ? -errno : result;
}

static void report(const char *name, int ok, const char *fmt, long got) {
    if (ok) {
        printf("ok %s\n", name);
        return;
    }
    printf("FAIL %s: ", name);
    printf(fmt, got);
    printf("\n");
    failures++;
}

static void expect_value(const char *name, long got, long expected) {
    char what[64];
    snprintf(what, sizeof what, "got %%ld, expected %ld", expected);
    report(name, got == expected, what, got);
}

static void expect_errno(const char *name, long got, int error) {
    char what[96];
    snprintf(what, sizeof what, "got %%ld, expected -%d (%s)", error, strerror(error));
    report(name, got == -error, what, got);
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, 0);
}

/* Runs check() in a child; FAIL if it exits non-zero, dies, or is still
 * running after `ms` milliseconds (then it is killed). */
static void bounded(const char *name, int (*check)(void), long ms) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) _exit(check());
    int status = 0;
    for (long waited = 0; waited <= ms; waited += 5) {
        if (waitpid(child, &status, WNOHANG) == child) {
            char what[64];
            snprintf(what, sizeof what, "%s %%ld", WIFEXITED(status) ? "exited with" : "killed by signal");
            report(name, WIFEXITED(status) && WEXITSTATUS(status) == 0, what,
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            return;
        }
        sleep_ms(5);
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    report(name, 0, "still waiting after %ld ms (killed)", ms);
}

/* An iovec array whose entry 1 starts exactly where a mapping ends. */
static struct iovec *vector_before_hole(void) {
    char *p = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + PAGE, PAGE);
    return (struct iovec *)(p + PAGE - sizeof(struct iovec));
}

static int empty_pipe[2];
static char buffer[2 * 65536];

static int readv_bad_array(void) {
    struct iovec *v = vector_before_hole();
    v[0] = (struct iovec){buffer, 8};
    return raw(SYS_readv, empty_pipe[0], (long)v, 2) == -EFAULT ? 0 : 1;
}

static int readv_kernel_buffer(void) {
    struct iovec v[2] = {{buffer, 8}, {(void *)0xffff800000000000ul, 8}};
    return raw(SYS_readv, empty_pipe[0], (long)v, 2) == -EFAULT ? 0 : 1;
}

static int readv_negative_length(void) {
    struct iovec v[2] = {{buffer, 8}, {buffer, (size_t)-1}};
    return raw(SYS_readv, empty_pipe[0], (long)v, 2) == -EINVAL ? 0 : 1;
}

static int readv_too_many(void) {
    static struct iovec v[1025];
    for (int i = 0; i < 1025; i++) v[i] = (struct iovec){buffer, 1};
    return raw(SYS_readv, empty_pipe[0], (long)v, 1025) == -EINVAL ? 0 : 1;
}

/* A full pipe nobody reads: writev with a bad later entry must fail at
 * once, writing nothing. */
static int full_pipe[2];

static int writev_negative_length(void) {
    struct iovec v[2] = {{buffer, 16}, {buffer, (size_t)-1}};
    return raw(SYS_writev, full_pipe[1], (long)v, 2) == -EINVAL ? 0 : 1;
}

static int writev_bad_array(void) {
    struct iovec *v = vector_before_hole();
    v[0] = (struct iovec){buffer, 16};
    return raw(SYS_writev, full_pipe[1], (long)v, 2) == -EFAULT ? 0 : 1;
}

/* A pipe holding 8 bytes; readv asks for 16 in two entries: 8 at once. */
static int readv_takes_what_is_there(void) {
    int p[2];
    if (pipe(p) != 0 || write(p[1], "12345678", 8) != 8) return 2;
    char a[8], b[8];
    struct iovec v[2] = {{a, 8}, {b, 8}};
    return raw(SYS_readv, p[0], (long)v, 2) == 8 && memcmp(a, "12345678", 8) == 0 ? 0 : 1;
}

/* Data read into the iovec array itself must not change the entries still
 * to come: Linux works from its own copy. */
static void readv_over_its_own_array(void) {
    int p[2];
    pipe(p);
    static struct iovec v[2];
    static char target[100], decoy[100];
    struct iovec forged = {decoy, 100};
    char data[100];
    memcpy(data, &forged, sizeof forged);
    memset(data + sizeof forged, 'z', sizeof data - sizeof forged);
    write(p[1], data, sizeof data);
    v[0] = (struct iovec){&v[1], sizeof v[1]};
    v[1] = (struct iovec){target, 1};
    long got = raw(SYS_readv, p[0], (long)v, 2);
    expect_value("readv-into-its-own-iovec-array", got, (long)sizeof(struct iovec) + 1);
    expect_value("readv-into-its-own-iovec-array-target", target[0], 'z');
    close(p[0]);
    close(p[1]);
}

static void vectors(void) {
    pipe(empty_pipe);
    bounded("readv-empty-pipe-array-runs-into-hole", readv_bad_array, 3000);
    bounded("readv-empty-pipe-kernel-buffer", readv_kernel_buffer, 3000);
    bounded("readv-empty-pipe-negative-length", readv_negative_length, 3000);
    bounded("readv-empty-pipe-1025-entries", readv_too_many, 3000);
    pipe2(full_pipe, O_NONBLOCK);
    while (write(full_pipe[1], buffer, sizeof buffer) > 0) {
    }
    fcntl(full_pipe[1], F_SETFL, 0);
    bounded("writev-full-pipe-negative-length", writev_negative_length, 3000);
    bounded("writev-full-pipe-array-runs-into-hole", writev_bad_array, 3000);
    bounded("readv-returns-what-the-pipe-holds", readv_takes_what_is_there, 3000);
    readv_over_its_own_array();
    expect_value("readv-zero-entries", raw(SYS_readv, empty_pipe[0], 0, 0), 0);
    expect_errno("readv-write-end", raw(SYS_readv, empty_pipe[1], (long)&(struct iovec){buffer, 1}, 1), EBADF);
}

static void nonblocking(void) {
    int p[2];
    expect_value("pipe2-nonblock", pipe2(p, O_NONBLOCK), 0);
    expect_value("fcntl-getfl-nonblock", fcntl(p[0], F_GETFL) & (O_NONBLOCK | O_ACCMODE), O_NONBLOCK | O_RDONLY);
    expect_value("fcntl-getfl-write-end", fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
    expect_errno("read-empty-nonblocking-pipe", raw(SYS_read, p[0], (long)buffer, 10), EAGAIN);
    static char big[70000];
    expect_value("write-70000-nonblocking-is-short", raw(SYS_write, p[1], (long)big, sizeof big), 65536);
    expect_errno("write-full-nonblocking-pipe", raw(SYS_write, p[1], (long)big, 1), EAGAIN);
    expect_value("read-after-full", raw(SYS_read, p[0], (long)buffer, 100), 100);
    expect_errno("write-pipe-buf-without-room", raw(SYS_write, p[1], (long)big, 4096), EAGAIN);
    expect_value("fcntl-setfl-blocking", fcntl(p[0], F_SETFL, 0), 0);
    expect_value("fcntl-getfl-blocking", fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
    close(p[0]);
    close(p[1]);
    pipe(p);
    expect_value("fcntl-setfl-nonblock", fcntl(p[0], F_SETFL, O_NONBLOCK | O_RDWR), 0);
    expect_value("fcntl-setfl-keeps-access-mode", fcntl(p[0], F_GETFL) & (O_NONBLOCK | O_ACCMODE), O_NONBLOCK | O_RDONLY);
    expect_errno("read-after-setfl-nonblock", raw(SYS_read, p[0], (long)buffer, 10), EAGAIN);
    close(p[0]);
    close(p[1]);
}

static pid_t sleeper(void) {
    pid_t child = fork();
    if (child == 0) {
        struct timespec t = {100, 0};
        nanosleep(&t, 0);
        _exit(0);
    }
    return child;
}

static pid_t blocked_reader(void) {
    int p[2];
    pipe(p);
    pid_t child = fork();
    if (child == 0) {
        read(p[0], buffer, 1);
        _exit(0);
    }
    close(p[0]);
    return child; /* p[1] stays open in the parent: the read never ends by itself */
}

static void expect_killed(const char *name, pid_t child, int signal) {
    int status = 0;
    pid_t got = waitpid(child, &status, 0);
    report(name, got == child && WIFSIGNALED(status) && WTERMSIG(status) == signal, "wait status %#lx", status);
}

static void kills(void) {
    pid_t a = sleeper();
    sleep_ms(20);
    expect_value("kill-existence", kill(a, 0), 0);
    expect_value("kill-sigkill-sleeper", kill(a, SIGKILL), 0);
    expect_killed("kill-sigkill-sleeper-status", a, SIGKILL);
    pid_t b = blocked_reader();
    sleep_ms(20);
    expect_value("kill-sigterm-blocked-reader", kill(b, SIGTERM), 0);
    expect_killed("kill-sigterm-blocked-reader-status", b, SIGTERM);
    pid_t c = fork();
    if (c == 0) _exit(7);
    sleep_ms(50);
    expect_value("kill-zombie-existence", kill(c, 0), 0);
    int status;
    waitpid(c, &status, 0);
    expect_errno("kill-reaped", raw(SYS_kill, c, 0, 0), ESRCH);
    expect_errno("kill-bad-signal", raw(SYS_kill, getpid(), 65, 0), EINVAL);
    expect_value("kill-sigchld-ignored", kill(getpid(), SIGCHLD), 0);
    if (getpid() != 1) return;
    /* As init: a child's kill(-1) ends its sibling, never init or itself. */
    pid_t sibling = sleeper();
    pid_t killer = fork();
    if (killer == 0) _exit(kill(-1, SIGKILL) == 0 ? 0 : 1);
    expect_killed("kill-minus-one-ends-sibling", sibling, SIGKILL);
    waitpid(killer, &status, 0);
    expect_value("kill-minus-one-spares-caller", WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status), 0);
    expect_value("kill-init-ignored", kill(1, SIGKILL), 0);
}

static void close_on_exec(const char *self) {
    int fd = open("/bin/robust", O_RDONLY | O_CLOEXEC);
    if (fd < 0) fd = open(self, O_RDONLY | O_CLOEXEC);
    expect_value("open-cloexec-sets-fd-flag", fcntl(fd, F_GETFD), FD_CLOEXEC);
    int copy = dup(fd);
    expect_value("dup-clears-cloexec", fcntl(copy, F_GETFD), 0);
    expect_value("dup3-cloexec", dup3(fd, 40, O_CLOEXEC), 40);
    expect_value("dup3-cloexec-flag", fcntl(40, F_GETFD), FD_CLOEXEC);
    expect_errno("dup3-bad-flags", raw(SYS_dup3, fd, 41, O_NONBLOCK), EINVAL);
    expect_value("fcntl-setfd", fcntl(copy, F_SETFD, FD_CLOEXEC), 0);
    expect_value("fcntl-getfd-after-setfd", fcntl(copy, F_GETFD), FD_CLOEXEC);
    expect_value("fcntl-dupfd-cloexec", fcntl(fd, F_DUPFD_CLOEXEC, 30) >= 30 && fcntl(30, F_GETFD) == FD_CLOEXEC, 1);
    int kept = dup2(fd, 42);
    expect_value("dup2-clears-cloexec", fcntl(kept, F_GETFD), 0);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        execl(self, self, "--check-fds", "42", "40", (char *)0);
        _exit(99);
    }
    int status = 0;
    waitpid(child, &status, 0);
    report("exec-closes-cloexec-keeps-others", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#lx", status);
    close(fd);
    close(copy);
    close(40);
    close(30);
    close(42);
}

static int check_fds(int open_fd, int closed_fd) {
    int ok = fcntl(open_fd, F_GETFD) == 0 && fcntl(closed_fd, F_GETFD) == -1 && errno == EBADF;
    return ok ? 0 : 1;
}

static void advice(void) {
    char *p = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 'x';
    p[PAGE] = 'y';
    expect_value("madvise-dontneed", madvise(p, PAGE, MADV_DONTNEED), 0);
    expect_value("madvise-dontneed-zeroes", p[0], 0);
    expect_value("madvise-dontneed-only-its-range", p[PAGE], 'y');
    expect_errno("madvise-unknown-advice", raw(SYS_madvise, (long)p, PAGE, 12345), EINVAL);
    expect_errno("madvise-unaligned", raw(SYS_madvise, (long)p + 1, PAGE, MADV_DONTNEED), EINVAL);
    munmap(p + PAGE, PAGE);
    expect_errno("madvise-over-a-hole", raw(SYS_madvise, (long)p, 2 * PAGE, MADV_NORMAL), ENOMEM);
    munmap(p, PAGE);
}

static void path_only(const char *self) {
    int fd = open(self, O_PATH);
    expect_value("open-o-path", fd >= 0, 1);
    expect_errno("read-o-path", raw(SYS_read, fd, (long)buffer, 1), EBADF);
    struct stat st;
    expect_value("fstat-o-path", fstat(fd, &st) == 0 && S_ISREG(st.st_mode), 1);
    close(fd);
}

static void at_calls(void) {
    int bin = open("/bin", O_RDONLY | O_DIRECTORY);
    int fd = openat(bin, "robust", O_RDONLY);
    expect_value("openat-relative-to-directory", fd >= 0, 1);
    struct stat st;
    expect_value("newfstatat-relative-to-directory", fstatat(bin, "robust", &st, 0) == 0 && S_ISREG(st.st_mode), 1);
    long bad = syscall(SYS_newfstatat, bin, "robust", &st, 0x4);
    expect_errno("newfstatat-unknown-flag-einval", bad == -1 ? -errno : bad, EINVAL);
    expect_errno("openat-file-as-directory", raw(SYS_openat, fd, (long)"x", O_RDONLY), ENOTDIR);
    close(fd);
    close(bin);
}

static void waits(void) {
    int status;
    expect_errno("wait4-unknown-option", raw(SYS_wait4, -1, (long)&status, 0x100), EINVAL);
    pid_t child = fork();
    if (child == 0) {
        char *p = mmap(0, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (int i = 0; i < 64; i++) p[i * PAGE] = 1;
        _exit(0);
    }
    struct rusage usage;
    memset(&usage, 0xff, sizeof usage);
    long got = syscall(SYS_wait4, child, &status, 0, &usage);
    expect_value("wait4-rusage-of-child", got == child && usage.ru_minflt >= 64 && usage.ru_minflt < 1000000, 1);
    struct rusage children;
    getrusage(RUSAGE_CHILDREN, &children);
    expect_value("getrusage-children-counts-reaped", children.ru_minflt >= usage.ru_minflt, 1);
}

/* The heap is not capped below the mappings: 300 MiB of brk, touched sparsely, then given back. */
static void big_heap(void) {
    long start = raw(SYS_brk, 0, 0, 0);
    long size = 300L << 20;
    long end = raw(SYS_brk, start + size, 0, 0);
    expect_value("brk-grows-300m", end, start + size);
    if (end == start + size) {
        for (long at = start; at < end; at += 1 << 20) ((volatile char *)at)[0] = 1;
        expect_value("brk-shrinks-back", raw(SYS_brk, start, 0, 0), start);
    }
    void *m = mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* Top-down from below the stack: with Linux's 28 bits of mmap randomness
     * (1 TiB of pages) the base can sit just under 0x7f0000000000, so the
     * bound is 2 TiB below the top; bottom-up would start near a third of it. */
    expect_value("mmap-placed-top-down", (unsigned long)m > 0x7e0000000000UL, 1);
    munmap(m, PAGE);
}

/* RLIMIT_AS bounds the whole address space, RLIMIT_DATA its private writable part: ENOMEM past them. */
static int memory_limits_child(void) {
    struct rlimit as;
    getrlimit(RLIMIT_AS, &as);
    if (as.rlim_cur != RLIM_INFINITY) return 1;
    struct rlimit small = {256L << 20, RLIM_INFINITY};
    if (setrlimit(RLIMIT_AS, &small) != 0) return 2;
    if (mmap(0, 512L << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED || errno != ENOMEM) return 3;
    void *fits = mmap(0, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fits == MAP_FAILED) return 4;
    long top = raw(SYS_brk, 0, 0, 0);
    if (raw(SYS_brk, top + (300L << 20), 0, 0) != top) return 5;
    struct rlimit none = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_AS, &none);
    struct rlimit data = {1 << 20, RLIM_INFINITY};
    if (setrlimit(RLIMIT_DATA, &data) != 0) return 6;
    if (mmap(0, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED || errno != ENOMEM) return 7;
    if (mmap(0, 4 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) return 8;
    if (mmap(0, 4 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) return 9;
    return 0;
}

static void memory_limits(void) {
    pid_t child = fork();
    if (child == 0) _exit(memory_limits_child());
    int status = 0;
    waitpid(child, &status, 0);
    expect_value("rlimit-as-and-data-bound-mappings", WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status), 0);
}

static void mappings(const char *self) {
    char *p = mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect_errno("mprotect-unknown-bit", raw(SYS_mprotect, (long)p, PAGE, PROT_READ | 0x10), EINVAL);
    expect_errno("mprotect-growsdown-on-plain-mapping", raw(SYS_mprotect, (long)p, PAGE, PROT_READ | PROT_GROWSDOWN), EINVAL);
    munmap(p, PAGE);
    long bad = (long)mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0);
    expect_errno("mmap-shared-validate-anonymous", bad == -1 ? -errno : bad, EINVAL);
    int fd = open(self, O_RDONLY);
    p = mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE, fd, 0);
    expect_value("mmap-shared-validate-file", p != MAP_FAILED && memcmp(p, "\177ELF", 4) == 0, 1);
    if (p != MAP_FAILED) munmap(p, PAGE);
    bad = (long)mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
    expect_errno("mmap-shared-validate-map-sync", bad == -1 ? -errno : bad, EOPNOTSUPP);
    close(fd);
    p = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    expect_value("mmap-32bit-below-2g", p != MAP_FAILED && (unsigned long)p + PAGE <= 0x80000000ul, 1);
    if (p != MAP_FAILED) munmap(p, PAGE);
    struct rusage before, after;
    p = mmap(0, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    getrusage(RUSAGE_SELF, &before);
    for (int i = 0; i < 32; i++) p[i * PAGE] = 1;
    getrusage(RUSAGE_SELF, &after);
    expect_value("mmap-populate-faults-in-advance", after.ru_minflt - before.ru_minflt, 0);
    munmap(p, 32 * PAGE);
}

static void odd_elf(const char *dir) {
    const char *names[] = {"phnum-7", "phnum-17"};
    for (int i = 0; i < 2; i++) {
        char path[256], name[64];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(name, sizeof name, "exec-%s-runs", names[i]);
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            execl(path, "odd-elf", (char *)0);
            _exit(99);
        }
        int status = 0;
        waitpid(child, &status, 0);
        report(name, WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#lx", status);
    }
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--check-fds") == 0) return check_fds(atoi(argv[2]), atoi(argv[3]));
    setvbuf(stdout, 0, _IOLBF, 0);
    vectors();
    nonblocking();
    kills();
    close_on_exec(argv[0]);
    advice();
    path_only(argv[0]);
    if (access("/bin/robust", X_OK) == 0) at_calls(); /* it needs to find itself in /bin */
    waits();
    mappings(argv[0]);
    big_heap();
    memory_limits();
    if (argc == 3 && strcmp(argv[1], "--odd-elf") == 0) odd_elf(argv[2]);
    printf("robust: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
