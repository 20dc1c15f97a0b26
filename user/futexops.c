/* futex(2) operations as Linux has them, between processes: FUTEX_WAKE's
 * count and FIFO order, bitsets (WAKE_BITSET wakes only waiters whose
 * bitset meets its own; bitset 0 is EINVAL), FUTEX_REQUEUE moving waiters
 * (woken later by a wake on the second word), FUTEX_CMP_REQUEUE's EAGAIN,
 * FUTEX_WAKE_OP's modify-and-conditional-wake, shared futexes over
 * MAP_SHARED|MAP_ANONYMOUS memory and over a file each process maps for
 * itself (at another offset too), private futexes that stay within one
 * address space (also after fork's copy-on-write), timeouts, signals
 * (EINTR, and the restart SA_RESTART gives an untimed wait), and the
 * EFAULT, EINVAL and ENOSYS cases. A timed wait a stop interrupts goes
 * on to its first deadline once continued.
 *
 * Waiters are child processes; the parent knows one sleeps in its wait
 * once /proc/PID/stat says 'S' after the child said it is about to wait.
 * The same binary must pass on Linux (tests/integration/futex.test.ts
 * runs it on the host too). Prints "ok NAME" / "FAIL NAME: ..." and
 * "futexops: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* <linux/futex.h>'s values (musl's headers have no linux/). */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_OP_SET 0
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_OPARG_SHIFT 8
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    ((((unsigned)(op) & 0xf) << 28) | (((unsigned)(cmp) & 0xf) << 24) | (((unsigned)(oparg) & 0xfff) << 12) | ((unsigned)(cmparg) & 0xfff))

static int failures;

static void check(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld\n", name, got);
        failures++;
    }
    fflush(stdout);
}

/* -errno of a call, else its result. */
static long futex(volatile uint32_t *word, int op, uint32_t value, const void *timeout, volatile uint32_t *word2, uint32_t value3) {
    long result = syscall(SYS_futex, word, op, value, timeout, word2, value3);
    return result == -1 ? -errno : result;
}

/* FUTEX_REQUEUE's and FUTEX_WAKE_OP's second count travels in the timeout argument. */
static long futex2(volatile uint32_t *word, int op, uint32_t value, long value2, volatile uint32_t *word2, uint32_t value3) {
    return futex(word, op, value, (const void *)value2, word2, value3);
}

static long long now_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct timespec at(long long ns) {
    struct timespec t = { ns / 1000000000, ns % 1000000000 };
    return t;
}

static void pause_ms(int ms) {
    struct timespec t = at(ms * 1000000LL);
    nanosleep(&t, NULL);
}

/* The state letter of /proc/PID/stat, or 0. */
static char state_of(pid_t pid) {
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return 0;
    text[n] = 0;
    char *close_paren = strrchr(text, ')');
    return close_paren != NULL && close_paren[1] == ' ' ? close_paren[2] : 0;
}

/* Shared between the parent and its children: how many said they are about to wait. */
static volatile uint32_t *ready;

/* Waits until `count` children said they would wait and `pid` sleeps. */
static int until_sleeping(pid_t pid, uint32_t count) {
    for (int tries = 0; tries < 5000; tries++) {
        if (__atomic_load_n(ready, __ATOMIC_SEQ_CST) >= count && state_of(pid) == 'S') return 1;
        pause_ms(1);
    }
    return 0;
}

/* A child that waits (futex op `op`, `value`, bitset `bitset`) and exits with 0 if the call returned `expect`. */
static pid_t waiter(volatile uint32_t *word, int op, uint32_t value, uint32_t bitset, long expect) {
    pid_t pid = fork();
    if (pid == 0) {
        __atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
        long got = futex(word, op, value, NULL, NULL, bitset);
        _exit(got == expect ? 0 : 1);
    }
    return pid;
}

/* Reaps `pid` (waiting at most a few seconds, then killing it): whether it exited with 0. */
static int reaped_ok(pid_t pid) {
    int status;
    for (int tries = 0; tries < 3000; tries++) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        pause_ms(1);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 0;
}

/* Whether `pid` is still running after a short while (a waiter that must not have been woken). */
static int still_waiting(pid_t pid) {
    pause_ms(30);
    int status;
    return waitpid(pid, &status, WNOHANG) == 0 && state_of(pid) == 'S';
}

static void *shared_page(void) {
    return mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

static void wake_counts(volatile uint32_t *w) {
    *ready = 0;
    pid_t pids[3];
    for (int i = 0; i < 3; i++) pids[i] = waiter(w, FUTEX_WAIT, 0, 0, 0);
    int asleep = 1;
    for (int i = 0; i < 3; i++) asleep &= until_sleeping(pids[i], 3);
    check("wake-waiters-sleep", asleep, 0);
    long first = futex(w, FUTEX_WAKE, 2, NULL, NULL, 0);
    check("wake-two-of-three", first == 2, first);
    long rest = futex(w, FUTEX_WAKE, 10, NULL, NULL, 0);
    check("wake-the-last-one", rest == 1, rest);
    long none = futex(w, FUTEX_WAKE, 10, NULL, NULL, 0);
    check("wake-none-left", none == 0, none);
    int ok = 1;
    for (int i = 0; i < 3; i++) ok &= reaped_ok(pids[i]);
    check("woken-waiters-return-0", ok, 0);
}

static void wake_fifo(volatile uint32_t *w) {
    *ready = 0;
    pid_t pids[3];
    int asleep = 1;
    for (int i = 0; i < 3; i++) {
        pids[i] = waiter(w, FUTEX_WAIT, 0, 0, 0);
        asleep &= until_sleeping(pids[i], i + 1);
    }
    int order = asleep;
    for (int i = 0; i < 3; i++) {
        long woken = futex(w, FUTEX_WAKE, 1, NULL, NULL, 0);
        int status;
        pid_t got = waitpid(-1, &status, 0);
        order &= woken == 1 && got == pids[i];
    }
    check("wake-oldest-first", order, 0);
}

static void bitsets(volatile uint32_t *w) {
    *ready = 0;
    pid_t one = waiter(w, FUTEX_WAIT_BITSET, 0, 1, 0);
    pid_t two = waiter(w, FUTEX_WAIT_BITSET, 0, 2, 0);
    int asleep = until_sleeping(one, 2) & until_sleeping(two, 2);
    long woken = futex(w, FUTEX_WAKE_BITSET, 10, NULL, NULL, 2 | 4);
    check("wake-bitset-meets-one", asleep && woken == 1, woken);
    check("wake-bitset-woke-that-one", reaped_ok(two), 0);
    check("wake-bitset-left-other", still_waiting(one), 0);
    long miss = futex(w, FUTEX_WAKE_BITSET, 10, NULL, NULL, 4);
    check("wake-bitset-disjoint-wakes-none", miss == 0, miss);
    long plain = futex(w, FUTEX_WAKE, 10, NULL, NULL, 0);
    check("wake-matches-any-bitset", plain == 1 && reaped_ok(one), plain);
    long zero = futex(w, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0);
    check("wait-bitset-0-einval", zero == -EINVAL, zero);
    zero = futex(w, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0);
    check("wake-bitset-0-einval", zero == -EINVAL, zero);
}

static void requeues(volatile uint32_t *w, volatile uint32_t *w2) {
    *ready = 0;
    pid_t pids[3];
    int asleep = 1;
    for (int i = 0; i < 3; i++) {
        pids[i] = waiter(w, FUTEX_WAIT, 0, 0, 0);
        asleep &= until_sleeping(pids[i], i + 1);
    }
    long moved = futex2(w, FUTEX_REQUEUE, 1, 1, w2, 0);
    check("requeue-wakes-one-moves-one", asleep && moved == 2, moved);
    check("requeue-woke-the-oldest", reaped_ok(pids[0]), 0);
    long second = futex(w2, FUTEX_WAKE, 10, NULL, NULL, 0);
    check("requeued-waiter-woken-on-second-word", second == 1 && reaped_ok(pids[1]), second);
    check("unmoved-waiter-still-waits", still_waiting(pids[2]), 0);
    long eagain = futex2(w, FUTEX_CMP_REQUEUE, 0, 1, w2, *w + 1);
    check("cmp-requeue-eagain", eagain == -EAGAIN, eagain);
    check("cmp-requeue-eagain-moves-none", still_waiting(pids[2]), 0);
    long cmp = futex2(w, FUTEX_CMP_REQUEUE, 0, 5, w2, *w);
    check("cmp-requeue-moves", cmp == 1, cmp);
    long left = futex(w, FUTEX_WAKE, 10, NULL, NULL, 0);
    check("cmp-requeue-left-none", left == 0, left);
    long last = futex(w2, FUTEX_WAKE, 10, NULL, NULL, 0);
    check("cmp-requeued-woken-on-second-word", last == 1 && reaped_ok(pids[2]), last);
    long bad = futex2(w, FUTEX_REQUEUE, (uint32_t)-1, 1, w2, 0);
    check("requeue-negative-wake-einval", bad == -EINVAL, bad);
    bad = futex2(w, FUTEX_CMP_REQUEUE, 1, -1, w2, *w);
    check("cmp-requeue-negative-requeue-einval", bad == -EINVAL, bad);
    bad = futex2(w, FUTEX_REQUEUE, 1, 1, (volatile uint32_t *)((char *)w2 + 1), 0);
    check("requeue-misaligned-second-einval", bad == -EINVAL, bad);
}

static void wake_ops(volatile uint32_t *w, volatile uint32_t *w2) {
    *ready = 0;
    *w2 = 5;
    pid_t first = waiter(w, FUTEX_WAIT, 0, 0, 0);
    pid_t second = waiter(w2, FUTEX_WAIT, 5, 0, 0);
    int asleep = until_sleeping(first, 2) & until_sleeping(second, 2);
    long woken = futex2(w, FUTEX_WAKE_OP, 1, 1, w2, FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 5));
    check("wake-op-wakes-both", asleep && woken == 2 && *w2 == 7, woken);
    check("wake-op-woke-them", reaped_ok(first) & reaped_ok(second), 0);
    *ready = 0;
    pid_t third = waiter(w2, FUTEX_WAIT, 7, 0, 0);
    asleep = until_sleeping(third, 1);
    woken = futex2(w, FUTEX_WAKE_OP, 1, 1, w2, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 100));
    check("wake-op-false-comparison-wakes-none", asleep && woken == 0 && *w2 == 8, woken);
    check("wake-op-waiter-still-waits", still_waiting(third), 0);
    woken = futex2(w, FUTEX_WAKE_OP, 1, 1, w2, FUTEX_OP(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 4, FUTEX_OP_CMP_GT, 7));
    check("wake-op-shifted-oparg", woken == 1 && *w2 == (8 | 16), woken);
    check("wake-op-woke-it", reaped_ok(third), 0);
    long bad = futex2(w, FUTEX_WAKE_OP, 1, 1, w2, FUTEX_OP(7, 0, FUTEX_OP_CMP_EQ, 0));
    check("wake-op-unknown-op-enosys", bad == -ENOSYS && *w2 == 24, bad);
}

/* A file both processes map for themselves: the futex is the file's, whatever the address or mapping. */
static void shared_file(void) {
    char path[] = "/tmp/futexops-XXXXXX";
    mkdir("/tmp", 01777);
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 8192) != 0) {
        check("file-create", 0, -errno);
        return;
    }
    unlink(path);
    *ready = 0;
    pid_t pid = fork();
    if (pid == 0) {
        /* The second page mapped on its own, at another address and mapping offset than the parent's. */
        char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
        if (page == MAP_FAILED) _exit(2);
        __atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
        _exit(futex((volatile uint32_t *)(page + 64), FUTEX_WAIT, 0, NULL, NULL, 0) == 0 ? 0 : 1);
    }
    char *both = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int asleep = until_sleeping(pid, 1);
    long wrong = futex((volatile uint32_t *)(both + 64), FUTEX_WAKE, 1, NULL, NULL, 0);
    check("file-other-page-wakes-none", asleep && wrong == 0, wrong);
    long woken = futex((volatile uint32_t *)(both + 4096 + 64), FUTEX_WAKE, 1, NULL, NULL, 0);
    check("file-futex-by-object-and-offset", woken == 1 && reaped_ok(pid), woken);
    munmap(both, 8192);
    close(fd);
}

/* A private futex is the address space's: it never meets another process's, even on shared memory. */
static void private_futexes(volatile uint32_t *w) {
    *ready = 0;
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec t = at(300000000);
        __atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
        _exit(futex(w, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, &t, NULL, 0) == -ETIMEDOUT ? 0 : 1);
    }
    int asleep = until_sleeping(pid, 1);
    long cross = futex(w, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
    check("private-not-across-processes", asleep && cross == 0, cross);
    long mixed = futex(w, FUTEX_WAKE, 1, NULL, NULL, 0);
    check("shared-wake-misses-private-waiter", mixed == 0, mixed);
    check("private-waiter-times-out", reaped_ok(pid), 0);

    /* Copy-on-write after fork: each process's word is its own, and so is the futex. */
    volatile uint32_t *own = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *own = 1;
    *ready = 0;
    pid = fork();
    if (pid == 0) {
        *own = 2; /* the child's copy */
        struct timespec t = at(300000000);
        long again = futex(own, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, &t, NULL, 0);
        __atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
        _exit(again == -EAGAIN && futex(own, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 2, &t, NULL, 0) == -ETIMEDOUT ? 0 : 1);
    }
    asleep = until_sleeping(pid, 1);
    *own = 3; /* the parent's copy */
    long woken = futex(own, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
    check("private-after-cow-own-space", asleep && woken == 0 && *own == 3, woken);
    check("private-after-cow-child-sees-its-copy", reaped_ok(pid), 0);
    munmap((void *)own, 4096);
}

static void timeouts(volatile uint32_t *w) {
    struct timespec t = at(100000000);
    long long start = now_ns(CLOCK_MONOTONIC);
    long got = futex(w, FUTEX_WAIT, 0, &t, NULL, 0);
    long long took = now_ns(CLOCK_MONOTONIC) - start;
    check("wait-relative-etimedout", got == -ETIMEDOUT && took >= 100000000, got);
    t = at(now_ns(CLOCK_MONOTONIC) + 100000000);
    start = now_ns(CLOCK_MONOTONIC);
    got = futex(w, FUTEX_WAIT_BITSET, 0, &t, NULL, ~0u);
    took = now_ns(CLOCK_MONOTONIC) - start;
    check("wait-bitset-absolute-monotonic", got == -ETIMEDOUT && took >= 90000000, got);
    t = at(now_ns(CLOCK_REALTIME) + 100000000);
    start = now_ns(CLOCK_MONOTONIC);
    got = futex(w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &t, NULL, ~0u);
    took = now_ns(CLOCK_MONOTONIC) - start;
    check("wait-bitset-absolute-realtime", got == -ETIMEDOUT && took >= 90000000, got);
    t = at(now_ns(CLOCK_MONOTONIC) - 1000000);
    got = futex(w, FUTEX_WAIT_BITSET, 0, &t, NULL, ~0u);
    check("wait-bitset-past-deadline", got == -ETIMEDOUT, got);
    t = at(0);
    got = futex(w, FUTEX_WAIT, 0, &t, NULL, 0);
    check("wait-zero-timeout", got == -ETIMEDOUT, got);
    got = futex(w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, &t, NULL, 0);
    check("wait-clock-realtime-enosys", got == -ENOSYS, got);
    got = futex(w, FUTEX_WAIT, 1, &t, NULL, 0);
    check("wait-value-differs-eagain", got == -EAGAIN, got);
}

static void on_signal(int signal) { (void)signal; }

/* A child waits (with a handler installed with `flags`, and the timeout if `timed`); the parent signals it. */
static pid_t signalled_waiter(volatile uint32_t *w, int flags, int timed, long expect) {
    *ready = 0;
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_signal;
        action.sa_flags = flags;
        sigaction(SIGUSR1, &action, NULL);
        struct timespec t = at(5000000000LL);
        __atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
        _exit(futex(w, FUTEX_WAIT, 0, timed ? &t : NULL, NULL, 0) == expect ? 0 : 1);
    }
    until_sleeping(pid, 1);
    kill(pid, SIGUSR1);
    return pid;
}

static void signals(volatile uint32_t *w) {
    check("signal-handler-eintr", reaped_ok(signalled_waiter(w, 0, 0, -EINTR)), 0);
    check("signal-timed-sa-restart-eintr", reaped_ok(signalled_waiter(w, SA_RESTART, 1, -EINTR)), 0);
    pid_t pid = signalled_waiter(w, SA_RESTART, 0, 0);
    int asleep = until_sleeping(pid, 1) && still_waiting(pid); /* the restarted wait */
    long woken = futex(w, FUTEX_WAKE, 1, NULL, NULL, 0);
    check("signal-sa-restart-restarts-wait", asleep && woken == 1 && reaped_ok(pid), woken);
    pid = fork();
    if (pid == 0) {
        __atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
        _exit(futex(w, FUTEX_WAIT, 0, NULL, NULL, 0) == 0 ? 0 : 1);
    }
    until_sleeping(pid, 1);
    kill(pid, SIGSTOP);
    pause_ms(20);
    kill(pid, SIGCONT);
    asleep = until_sleeping(pid, 1) && still_waiting(pid);
    woken = futex(w, FUTEX_WAKE, 1, NULL, NULL, 0);
    check("stop-and-continue-restarts-wait", asleep && woken == 1 && reaped_ok(pid), woken);

    /* A waiter killed in its wait leaves the queue: a wake then finds nobody. */
    *ready = 0;
    pid = waiter(w, FUTEX_WAIT, 0, 0, 0);
    asleep = until_sleeping(pid, 1);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    woken = futex(w, FUTEX_WAKE, 10, NULL, NULL, 0);
    check("killed-waiter-leaves-queue", asleep && WIFSIGNALED(status) && woken == 0, woken);

    /* A timed wait restarted after a stop keeps its deadline (Linux's restart block), not a fresh timeout. */
    *ready = 0;
    pid = fork();
    if (pid == 0) {
        struct timespec t = at(600000000);
        long long start = now_ns(CLOCK_MONOTONIC);
        __atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
        long got = futex(w, FUTEX_WAIT, 0, &t, NULL, 0);
        long long took = now_ns(CLOCK_MONOTONIC) - start;
        _exit(got == -ETIMEDOUT && took >= 600000000 && took < 850000000 ? 0 : 1);
    }
    until_sleeping(pid, 1);
    pause_ms(300);
    kill(pid, SIGSTOP);
    pause_ms(20);
    kill(pid, SIGCONT);
    check("stop-and-continue-keeps-deadline", reaped_ok(pid), 0);
}

static void errors(volatile uint32_t *w) {
    volatile uint32_t *readonly = mmap(NULL, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    volatile uint32_t *hole = mmap(NULL, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    munmap((void *)hole, 4096);
    long got = futex(NULL, FUTEX_WAIT, 0, NULL, NULL, 0);
    check("wait-null-efault", got == -EFAULT, got);
    got = futex(hole, FUTEX_WAKE, 1, NULL, NULL, 0);
    check("shared-wake-unmapped-efault", got == -EFAULT, got);
    got = futex(hole, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
    check("private-wake-unmapped-no-waiters", got == 0, got);
    got = futex(w, FUTEX_WAIT, 0, (void *)1, NULL, 0);
    check("wait-bad-timeout-efault", got == -EFAULT, got);
    got = futex2(w, FUTEX_WAKE_OP, 1, 1, readonly, FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0));
    check("wake-op-readonly-efault", got == -EFAULT, got);
    got = futex2(w, FUTEX_REQUEUE, 1, 1, hole, 0);
    check("requeue-unmapped-second-efault", got == -EFAULT, got);
    got = futex((volatile uint32_t *)((char *)w + 2), FUTEX_WAKE, 1, NULL, NULL, 0);
    check("misaligned-einval", got == -EINVAL, got);
    struct timespec t = { 0, 1000000000 };
    got = futex(w, FUTEX_WAIT, 0, &t, NULL, 0);
    check("timeout-nanoseconds-einval", got == -EINVAL, got);
    t.tv_sec = -1;
    t.tv_nsec = 0;
    got = futex(w, FUTEX_WAIT_BITSET, 0, &t, NULL, ~0u);
    check("timeout-negative-einval", got == -EINVAL, got);
    got = futex(w, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0);
    check("wake-clock-realtime-enosys", got == -ENOSYS, got);
    got = futex(w, 99, 0, NULL, NULL, 0);
    check("unknown-op-enosys", got == -ENOSYS, got);
    munmap((void *)readonly, 4096);
}

int main(void) {
    volatile uint32_t *page = shared_page();
    if (page == MAP_FAILED) {
        printf("FAIL mmap\nfutexops: 1 failed\n");
        return 1;
    }
    ready = page;
    volatile uint32_t *w = page + 16, *w2 = page + 32;
    wake_counts(w);
    wake_fifo(w);
    bitsets(w);
    requeues(w, w2);
    wake_ops(w, w2);
    shared_file();
    private_futexes(w);
    timeouts(w);
    signals(w);
    errors(w);
    printf("futexops: %d failed\n", failures);
    return failures != 0;
}
