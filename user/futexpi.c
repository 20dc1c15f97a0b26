/* Priority-inheritance futexes and futex_waitv as Linux has them, between
 * threads: FUTEX_LOCK_PI and FUTEX_TRYLOCK_PI taking a free word (0 -> TID)
 * and an owner-died one, EDEADLK, ESRCH for a word naming no thread,
 * FUTEX_UNLOCK_PI's EPERM and its handoff to the oldest waiter
 * (FUTEX_WAITERS | its TID), timeouts on CLOCK_REALTIME (LOCK_PI) and
 * CLOCK_MONOTONIC (LOCK_PI2), a signal handler after which the lock wait
 * goes on, FUTEX_WAKE on a PI waiter (EINVAL), and an owner's exit passing
 * the lock on with FUTEX_OWNER_DIED (on its robust list or not).
 * FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI (pthread_cond_wait with a
 * PI mutex): the requeue taking a free lock for the oldest waiter, moving
 * all to a held one, and their errors. musl's PTHREAD_PRIO_INHERIT mutexes
 * (FUTEX_LOCK_PI underneath): contended, and robust with EOWNERDEAD after
 * the owner's exit. futex_waitv: the woken index, EAGAIN, ETIMEDOUT, EINTR
 * and the EINVAL and EFAULT cases.
 *
 * A thread about to wait says so; the main thread then sleeps 100 ms,
 * which lets it (one CPU here) or gives it time (Linux) to sleep. The same
 * binary must pass on Linux (tests/integration/futex.test.ts runs it on
 * the host too). Prints "ok NAME" / "FAIL NAME: ..." and "futexpi: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define FUTEX_WAKE 1
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu
#define FUTEX2_SIZE_U32 2
#define FUTEX2_PRIVATE 128
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

struct futex_waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

static int failures;

static void check(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld (0x%lx)\n", name, got, got);
        failures++;
    }
    fflush(stdout);
}

static long futex(volatile uint32_t *word, int op, uint32_t value, const struct timespec *timeout) {
    long r = syscall(SYS_futex, word, op, value, timeout, NULL, 0);
    return r < 0 ? -errno : r;
}

static long futex_requeue(volatile uint32_t *word, int op, uint32_t wake, long move, volatile uint32_t *second, uint32_t expected) {
    long r = syscall(SYS_futex, word, op, wake, (void *)move, second, expected);
    return r < 0 ? -errno : r;
}

static long waitv(struct futex_waitv *v, unsigned count, unsigned flags, const struct timespec *timeout, int clock) {
    long r = syscall(SYS_futex_waitv, v, count, flags, timeout, clock);
    return r < 0 ? -errno : r;
}

static uint32_t gettid_(void) { return (uint32_t)syscall(SYS_gettid); }

static void pause_ms(long ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&t, NULL);
}

static struct timespec in_ms(clockid_t clock, long ms) {
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_nsec += ms * 1000000;
    t.tv_sec += t.tv_nsec / 1000000000;
    t.tv_nsec %= 1000000000;
    return t;
}

static volatile uint32_t lock_word;
static volatile int order[2], finished;
static volatile uint32_t seen_word[2], seen_tid[2];
static volatile long thread_result;
static volatile int handled;

struct locker { int index; };

/* Locks lock_word, notes when it got it and what the word said, unlocks. */
static void *locker(void *arg) {
    int index = ((struct locker *)arg)->index;
    long r = futex(&lock_word, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL);
    seen_word[index] = lock_word;
    seen_tid[index] = gettid_();
    order[finished++] = index;
    if (r == 0 && (lock_word & FUTEX_TID_MASK) == gettid_()) futex(&lock_word, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL);
    else thread_result = r ? r : -1000;
    return NULL;
}

static void uncontended(void) {
    uint32_t tid = gettid_();
    lock_word = 0;
    long got = futex(&lock_word, FUTEX_TRYLOCK_PI, 0, NULL);
    check("trylock-free-word", got == 0 && lock_word == tid, got ? got : lock_word);
    got = futex(&lock_word, FUTEX_LOCK_PI, 0, NULL);
    check("lock-own-edeadlk", got == -EDEADLK, got);
    got = futex(&lock_word, FUTEX_TRYLOCK_PI, 0, NULL);
    check("trylock-own-edeadlk", got == -EDEADLK, got);
    got = futex(&lock_word, FUTEX_UNLOCK_PI, 0, NULL);
    check("unlock-no-waiters-zero", got == 0 && lock_word == 0, got ? got : lock_word);
    got = futex(&lock_word, FUTEX_UNLOCK_PI, 0, NULL);
    check("unlock-unowned-eperm", got == -EPERM, got);
    got = futex(&lock_word, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL);
    check("lock-pi-free-word", got == 0 && lock_word == tid, got ? got : lock_word);
    futex(&lock_word, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL);
    lock_word = 0x3ffffff0; /* above any pid_max: no such thread */
    got = futex(&lock_word, FUTEX_LOCK_PI, 0, NULL);
    check("lock-dead-owner-esrch", got == -ESRCH, got);
    got = futex(&lock_word, FUTEX_TRYLOCK_PI, 0, NULL);
    check("trylock-dead-owner-esrch", got == -ESRCH, got);
    got = futex(&lock_word, FUTEX_UNLOCK_PI, 0, NULL);
    check("unlock-other-owner-eperm", got == -EPERM, got);
    lock_word = FUTEX_OWNER_DIED;
    got = futex(&lock_word, FUTEX_LOCK_PI, 0, NULL);
    check("owner-died-word-taken-over", got == 0 && lock_word == (FUTEX_OWNER_DIED | tid), got ? got : lock_word);
    got = futex(&lock_word, FUTEX_UNLOCK_PI, 0, NULL);
    check("unlock-clears-owner-died", got == 0 && lock_word == 0, got ? got : lock_word);
    got = futex(&lock_word, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL);
    check("lock-pi-clock-realtime-enosys", got == -ENOSYS, got);
    got = futex((volatile uint32_t *)((char *)&lock_word + 1), FUTEX_LOCK_PI, 0, NULL);
    check("lock-pi-misaligned-einval", got == -EINVAL, got);
    got = futex(NULL, FUTEX_LOCK_PI, 0, NULL);
    check("lock-pi-null-efault", got == -EFAULT, got);
    struct timespec bad = { 0, 1000000000 };
    got = futex(&lock_word, FUTEX_LOCK_PI, 0, &bad);
    check("lock-pi-bad-timeout-einval", got == -EINVAL, got);
}

static void handoff(void) {
    uint32_t tid = gettid_();
    lock_word = 0;
    finished = 0;
    thread_result = 0;
    futex(&lock_word, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL);
    struct locker a = { 0 }, b = { 1 };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, locker, &a);
    pause_ms(100);
    check("first-waiter-sets-waiters", lock_word == (FUTEX_WAITERS | tid), lock_word);
    pthread_create(&tb, NULL, locker, &b);
    pause_ms(100);
    long got = futex(&lock_word, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    check("unlock-hands-to-oldest", got == 0 && seen_word[0] == (FUTEX_WAITERS | seen_tid[0]), got ? got : seen_word[0]);
    check("waiters-get-lock-in-order", finished == 2 && order[0] == 0 && order[1] == 1 && thread_result == 0, thread_result);
    check("second-waiter-handed-lock", (seen_word[1] & FUTEX_TID_MASK) == seen_tid[1], seen_word[1]);
    check("last-unlock-zero", lock_word == 0, lock_word);
}

static void *trylocker(void *arg) {
    (void)arg;
    thread_result = futex(&lock_word, FUTEX_TRYLOCK_PI, 0, NULL);
    return NULL;
}

static void *timed_locker(void *arg) {
    int op = *(int *)arg;
    struct timespec deadline = in_ms(op == FUTEX_LOCK_PI2 ? CLOCK_MONOTONIC : CLOCK_REALTIME, 100);
    thread_result = futex(&lock_word, op, 0, &deadline);
    return NULL;
}

static void contended_errors(void) {
    lock_word = 0;
    futex(&lock_word, FUTEX_LOCK_PI, 0, NULL);
    pthread_t t;
    pthread_create(&t, NULL, trylocker, NULL);
    pthread_join(t, NULL);
    check("trylock-held-eagain", thread_result == -EAGAIN, thread_result);
    int ops[] = { FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME };
    const char *names[] = { "lock-pi-realtime-deadline-etimedout", "lock-pi2-monotonic-deadline-etimedout", "lock-pi2-realtime-deadline-etimedout" };
    for (int i = 0; i < 3; i++) {
        thread_result = 0;
        pthread_create(&t, NULL, timed_locker, &ops[i]);
        pthread_join(t, NULL);
        check(names[i], thread_result == -ETIMEDOUT, thread_result);
    }
    long got = futex(&lock_word, FUTEX_UNLOCK_PI, 0, NULL);
    check("unlock-after-timeouts-zero", got == 0 && lock_word == 0, got ? got : lock_word);
}

static void on_signal(int signal) { (void)signal; handled++; }

static void *plain_locker(void *arg) {
    (void)arg;
    thread_result = futex(&lock_word, FUTEX_LOCK_PI, 0, NULL);
    if (thread_result == 0 && (lock_word & FUTEX_TID_MASK) != gettid_()) thread_result = -1000;
    futex(&lock_word, FUTEX_UNLOCK_PI, 0, NULL);
    return NULL;
}

static void signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal; /* no SA_RESTART: LOCK_PI goes on all the same */
    sigaction(SIGUSR1, &action, NULL);
    lock_word = 0;
    futex(&lock_word, FUTEX_LOCK_PI, 0, NULL);
    pthread_t t;
    thread_result = 1;
    pthread_create(&t, NULL, plain_locker, NULL);
    pause_ms(100);
    long woken = futex(&lock_word, FUTEX_WAKE, 1, NULL);
    check("wake-pi-waiter-einval", woken == -EINVAL, woken);
    pthread_kill(t, SIGUSR1);
    pause_ms(100);
    check("signal-leaves-lock-wait", handled == 1 && thread_result == 1, thread_result);
    futex(&lock_word, FUTEX_UNLOCK_PI, 0, NULL);
    pthread_join(t, NULL);
    check("lock-pi-goes-on-after-handler", thread_result == 0 && lock_word == 0, thread_result);
}

static struct { uint64_t next; long offset; uint64_t pending; } robust_head;
static struct { uint64_t next; uint32_t word; } robust_entry;
static volatile int dying_ready;

/* Takes the lock (on its robust list if asked), waits for a waiter, then exits holding it. */
static void *dying_owner(void *arg) {
    volatile uint32_t *word = arg;
    futex(word, FUTEX_LOCK_PI, 0, NULL);
    if (word == &robust_entry.word) {
        robust_head.next = (uint64_t)&robust_entry | 1; /* a PI entry */
        robust_entry.next = (uint64_t)&robust_head;
        robust_head.offset = (long)((char *)&robust_entry.word - (char *)&robust_entry);
        syscall(SYS_set_robust_list, &robust_head, sizeof robust_head);
    }
    dying_ready = 1;
    while (!(*word & FUTEX_WAITERS)) pause_ms(10);
    pause_ms(100);
    syscall(SYS_exit, 0); /* holding the lock; the robust list walked by the kernel alone */
    return NULL;
}

static void owner_exit(void) {
    uint32_t tid = gettid_();
    volatile uint32_t *words[] = { &lock_word, &robust_entry.word };
    for (int i = 0; i < 2; i++) {
        *words[i] = 0;
        dying_ready = 0;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_create(&t, &attr, dying_owner, (void *)words[i]);
        while (!dying_ready) pause_ms(10);
        long got = futex(words[i], FUTEX_LOCK_PI, 0, NULL);
        uint32_t w = *words[i];
        check(i == 0 ? "owner-exit-hands-lock-owner-died" : "robust-owner-exit-hands-lock-owner-died",
              got == 0 && w == (FUTEX_OWNER_DIED | FUTEX_WAITERS | tid), got ? got : w);
        got = futex(words[i], FUTEX_UNLOCK_PI, 0, NULL);
        check(i == 0 ? "unlock-after-owner-exit" : "unlock-after-robust-owner-exit", got == 0 && *words[i] == 0, got ? got : *words[i]);
    }
}

static volatile uint32_t cond_word;

/* pthread_cond_wait's kernel half with a PI mutex: waits on cond_word for lock_word, then unlocks it. */
static void *cond_waiter(void *arg) {
    int index = ((struct locker *)arg)->index;
    long r = syscall(SYS_futex, &cond_word, FUTEX_WAIT_REQUEUE_PI, 0, NULL, &lock_word, 0);
    r = r < 0 ? -errno : r;
    seen_word[index] = lock_word;
    seen_tid[index] = gettid_();
    order[finished++] = index;
    if (r == 0 && (lock_word & FUTEX_TID_MASK) == gettid_()) futex(&lock_word, FUTEX_UNLOCK_PI, 0, NULL);
    else thread_result = r ? r : -1000;
    return NULL;
}

static void requeue_pi(void) {
    uint32_t tid = gettid_();
    struct locker a = { 0 }, b = { 1 };
    pthread_t ta, tb;
    /* A free lock: the requeue takes it for the waiter, which wakes owning it
     * (FUTEX_WAITERS only if more may be moved, as Linux). */
    cond_word = 0;
    lock_word = 0;
    finished = 0;
    thread_result = 0;
    pthread_create(&ta, NULL, cond_waiter, &a);
    pause_ms(100);
    long woken = futex(&cond_word, FUTEX_WAKE, 1, NULL);
    check("wake-requeue-pi-waiter-einval", woken == -EINVAL, woken);
    long got = futex_requeue(&cond_word, FUTEX_CMP_REQUEUE_PI, 1, 0, &lock_word, 1);
    check("cmp-requeue-pi-value-differs-eagain", got == -EAGAIN, got);
    got = futex_requeue(&cond_word, FUTEX_CMP_REQUEUE_PI, 2, 0, &lock_word, 0);
    check("cmp-requeue-pi-wake-2-einval", got == -EINVAL, got);
    got = futex_requeue(&cond_word, FUTEX_CMP_REQUEUE_PI, 1, 0, &cond_word, 0);
    check("cmp-requeue-pi-same-word-einval", got == -EINVAL, got);
    got = futex_requeue(&cond_word, FUTEX_CMP_REQUEUE_PI, 1, 0, &lock_word, 0);
    pthread_join(ta, NULL);
    check("cmp-requeue-pi-takes-free-lock", got == 1 && thread_result == 0 && seen_word[0] == seen_tid[0], got != 1 ? got : thread_result ? thread_result : seen_word[0]);
    check("requeue-pi-owner-unlocks", lock_word == 0, lock_word);
    /* A held lock: both waiters move to it, and get it in turn from its unlocks. */
    finished = 0;
    futex(&lock_word, FUTEX_LOCK_PI, 0, NULL);
    pthread_create(&ta, NULL, cond_waiter, &a);
    pause_ms(100);
    pthread_create(&tb, NULL, cond_waiter, &b);
    pause_ms(100);
    got = futex_requeue(&cond_word, FUTEX_CMP_REQUEUE_PI, 1, 0x7fffffff, &lock_word, 0);
    woken = futex(&cond_word, FUTEX_WAKE, 1, NULL);
    check("cmp-requeue-pi-moves-all-to-held-lock", got == 2 && woken == 0 && lock_word == (FUTEX_WAITERS | tid), got != 2 ? got : woken ? woken : lock_word);
    got = futex(&lock_word, FUTEX_UNLOCK_PI, 0, NULL);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    check("requeued-waiters-get-lock-in-order", got == 0 && finished == 2 && order[0] == 0 && order[1] == 1 && thread_result == 0 && lock_word == 0, thread_result);
    got = futex_requeue(&cond_word, FUTEX_CMP_REQUEUE_PI, 1, 1, &lock_word, 0);
    check("cmp-requeue-pi-no-waiters-0", got == 0, got);
    got = syscall(SYS_futex, &cond_word, FUTEX_WAIT_REQUEUE_PI, 0, NULL, &cond_word, 0) < 0 ? -errno : 0;
    check("wait-requeue-pi-same-word-einval", got == -EINVAL, got);
    got = syscall(SYS_futex, &cond_word, FUTEX_WAIT_REQUEUE_PI, 1, NULL, &lock_word, 0) < 0 ? -errno : 0;
    check("wait-requeue-pi-value-differs-eagain", got == -EAGAIN, got);
    struct timespec deadline = in_ms(CLOCK_MONOTONIC, 50);
    got = syscall(SYS_futex, &cond_word, FUTEX_WAIT_REQUEUE_PI, 0, &deadline, &lock_word, 0) < 0 ? -errno : 0;
    check("wait-requeue-pi-deadline-etimedout", got == -ETIMEDOUT, got);
    deadline = in_ms(CLOCK_REALTIME, 50);
    got = syscall(SYS_futex, &cond_word, FUTEX_WAIT_REQUEUE_PI | FUTEX_CLOCK_REALTIME, 0, &deadline, &lock_word, 0) < 0 ? -errno : 0;
    check("wait-requeue-pi-realtime-etimedout", got == -ETIMEDOUT, got);
}

static pthread_mutex_t pi_mutex;
static volatile long counter;

static void *incrementer(void *arg) {
    (void)arg;
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&pi_mutex);
        long seen = counter;
        sched_yield(); /* let the others find it held */
        counter = seen + 1;
        pthread_mutex_unlock(&pi_mutex);
    }
    return NULL;
}

static void *robust_dier(void *arg) {
    (void)arg;
    pthread_mutex_lock(&pi_mutex);
    return NULL; /* ends holding it */
}

/* libc's own PTHREAD_PRIO_INHERIT mutexes, contended, and robust with an owner that dies. */
static void pthread_mutexes(void) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&pi_mutex, &attr);
    pthread_t t[4];
    counter = 0;
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, incrementer, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    check("pthread-pi-mutex-excludes", counter == 800, counter);
    pthread_mutex_destroy(&pi_mutex);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&pi_mutex, &attr);
    pthread_create(&t[0], NULL, robust_dier, NULL);
    pthread_join(t[0], NULL);
    int got = pthread_mutex_lock(&pi_mutex);
    check("pthread-robust-pi-mutex-eownerdead", got == EOWNERDEAD, got);
    if (got == EOWNERDEAD) pthread_mutex_consistent(&pi_mutex);
    got = pthread_mutex_unlock(&pi_mutex);
    check("pthread-robust-pi-mutex-unlock", got == 0, got);
    pthread_mutex_destroy(&pi_mutex);
}

static volatile uint32_t vwords[3];

static void *waitv_waiter(void *arg) {
    (void)arg;
    struct futex_waitv v[3];
    for (int i = 0; i < 3; i++) v[i] = (struct futex_waitv){ 0, (uint64_t)&vwords[i], FUTEX2_SIZE_U32 | FUTEX2_PRIVATE, 0 };
    thread_result = waitv(v, 3, 0, NULL, CLOCK_MONOTONIC);
    return NULL;
}

static void *waitv_signalled(void *arg) {
    (void)arg;
    struct futex_waitv v = { 0, (uint64_t)&vwords[0], FUTEX2_SIZE_U32, 0 };
    thread_result = waitv(&v, 1, 0, NULL, CLOCK_MONOTONIC);
    return NULL;
}

static void waitvs(void) {
    struct futex_waitv v[129];
    for (int i = 0; i < 3; i++) vwords[i] = 0;
    for (int i = 0; i < 129; i++) v[i] = (struct futex_waitv){ 0, (uint64_t)&vwords[i % 3], FUTEX2_SIZE_U32 | FUTEX2_PRIVATE, 0 };
    pthread_t t;
    thread_result = 1;
    pthread_create(&t, NULL, waitv_waiter, NULL);
    pause_ms(100);
    long woken = futex(&vwords[1], FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL);
    pthread_join(t, NULL);
    check("waitv-returns-woken-index", woken == 1 && thread_result == 1, thread_result);
    vwords[2] = 5;
    long got = waitv(v, 3, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-value-differs-eagain", got == -EAGAIN, got);
    vwords[2] = 0;
    struct timespec deadline = in_ms(CLOCK_MONOTONIC, 50);
    got = waitv(v, 128, 0, &deadline, CLOCK_MONOTONIC);
    check("waitv-128-monotonic-etimedout", got == -ETIMEDOUT, got);
    deadline = in_ms(CLOCK_REALTIME, 50);
    got = waitv(v, 2, 0, &deadline, CLOCK_REALTIME);
    check("waitv-realtime-etimedout", got == -ETIMEDOUT, got);
    got = waitv(v, 2, 0, &deadline, CLOCK_BOOTTIME);
    check("waitv-bad-clock-einval", got == -EINVAL, got);
    got = waitv(v, 129, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-129-einval", got == -EINVAL, got);
    got = waitv(v, 0, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-none-einval", got == -EINVAL, got);
    got = waitv(v, 1, 1, NULL, CLOCK_MONOTONIC);
    check("waitv-flags-einval", got == -EINVAL, got);
    got = waitv(NULL, 1, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-null-einval", got == -EINVAL, got);
    v[1].flags = FUTEX2_PRIVATE; /* size U8 */
    got = waitv(v, 2, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-size-u8-einval", got == -EINVAL, got);
    v[1].flags = FUTEX2_SIZE_U32;
    v[1].reserved = 1;
    got = waitv(v, 2, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-reserved-einval", got == -EINVAL, got);
    v[1].reserved = 0;
    v[1].uaddr = (uint64_t)&vwords[1] + 2;
    got = waitv(v, 2, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-misaligned-einval", got == -EINVAL, got);
    v[1].uaddr = (uint64_t)&vwords[1];
    v[1].val = 1ull << 32;
    got = waitv(v, 2, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-wide-value-einval", got == -EINVAL, got);
    v[1].val = 0;
    void *hole = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, 4096);
    v[1].uaddr = (uint64_t)hole;
    got = waitv(v, 2, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-unmapped-efault", got == -EFAULT, got);
    got = waitv((struct futex_waitv *)hole, 2, 0, NULL, CLOCK_MONOTONIC);
    check("waitv-unreadable-array-efault", got == -EFAULT, got);
    handled = 0;
    thread_result = 1;
    pthread_create(&t, NULL, waitv_signalled, NULL);
    pause_ms(100);
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    check("waitv-signal-handler-eintr", handled == 1 && thread_result == -EINTR, thread_result);
}

int main(void) {
    uncontended();
    handoff();
    contended_errors();
    signals();
    owner_exit();
    requeue_pi();
    pthread_mutexes();
    waitvs();
    printf("futexpi: %d failed\n", failures);
    return failures != 0;
}
