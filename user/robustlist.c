/* Robust futex lists as Linux 6.1 has them: set_robust_list's size check,
 * get_robust_list for the caller and for another process (ESRCH, EFAULT),
 * none in a fork child; the walk at exit and at exec over a list built by
 * hand in shared memory: a lock the process owned gets FUTEX_OWNER_DIED
 * (keeping FUTEX_WAITERS), another's lock and a pending unlock that got to
 * 0 are left alone, a priority-inheritance entry is marked too; a waiter
 * on a dead owner's lock is woken; and a process-shared robust mutex of
 * libc whose owner died gives the next locker EOWNERDEAD.
 *
 * The same binary must pass on Linux (tests/integration/futex.test.ts runs
 * it on the host too). Prints "ok NAME" / "FAIL NAME: ..." and
 * "robustlist: N failed". With argument --hold-and-exec ADDRESS (the
 * exec check's child) it execs /bin/true at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* <linux/futex.h>'s values (musl's headers have no linux/). */
#define FUTEX_WAIT 0
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u

static int failures;

static void check(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld (0x%lx)\n", name, got, got);
        failures++;
    }
    fflush(stdout);
}

/* -errno of a call, 0 on success. */
static long err(long result) { return result == -1 ? -errno : result; }

static long set_list(void *head, size_t length) { return syscall(SYS_set_robust_list, head, length); }
static long get_list(int pid, void *head, void *length) { return syscall(SYS_get_robust_list, pid, head, length); }

/* struct robust_list_head, and a lock: its link first, its futex word after (futex_offset 8). */
struct head {
    void *next;
    long offset;
    void *pending;
};
struct lock {
    void *next;
    uint32_t word;
    char pad[52];
};

/* One page shared with the children: a head and the locks it links. */
struct shared {
    struct head head;
    struct lock mine, others, pending, pi;
};

static struct shared *page;

/* The list of the walk checks: mine -> others -> pi (PI bit set) -> head, with pending as list_op_pending. */
static void build_list(struct shared *s, uint32_t tid) {
    memset(s, 0, sizeof *s);
    s->head.offset = offsetof(struct lock, word);
    s->head.next = &s->mine;
    s->mine.next = &s->others;
    s->others.next = (char *)&s->pi + 1;
    s->pi.next = &s->head;
    s->head.pending = &s->pending;
    s->mine.word = tid | FUTEX_WAITERS;
    s->others.word = 12345;
    s->pending.word = 0;
    s->pi.word = tid;
}

static void check_walked(const char *how, struct shared *s) {
    char name[64];
    snprintf(name, sizeof name, "%s-marks-owned-lock-keeps-waiters", how);
    check(name, s->mine.word == (FUTEX_WAITERS | FUTEX_OWNER_DIED), s->mine.word);
    snprintf(name, sizeof name, "%s-leaves-anothers-lock", how);
    check(name, s->others.word == 12345, s->others.word);
    snprintf(name, sizeof name, "%s-leaves-pending-unlocked-lock", how);
    check(name, s->pending.word == 0, s->pending.word);
    snprintf(name, sizeof name, "%s-marks-pi-lock", how);
    check(name, s->pi.word == FUTEX_OWNER_DIED, s->pi.word);
}

static int wait_status(pid_t pid) {
    int status = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return status;
}

static void calls(void) {
    struct head h = {&h, 0, 0};
    check("set-size-23-einval", err(set_list(&h, sizeof h - 1)) == -EINVAL, err(set_list(&h, sizeof h - 1)));
    check("set-size-24", err(set_list(&h, sizeof h)) == 0, 0);
    void *got = 0;
    size_t length = 0;
    long r = err(get_list(0, &got, &length));
    check("get-self", r == 0 && got == &h && length == sizeof h, r != 0 ? r : (long)length);
    check("get-bad-length-pointer-efault", err(get_list(0, &got, (void *)8)) == -EFAULT, err(get_list(0, &got, (void *)8)));
    check("get-bad-head-pointer-efault", err(get_list(0, (void *)8, &length)) == -EFAULT, err(get_list(0, (void *)8, &length)));

    /* A fork child has none until it sets one, which its parent then reads. */
    int ready[2], go[2];
    if (pipe(ready) || pipe(go)) exit(2);
    static struct head childs;
    pid_t child = fork();
    if (child == 0) {
        void *inherited = (void *)1;
        size_t n;
        get_list(0, &inherited, &n);
        set_list(&childs, sizeof childs);
        char c = inherited == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1) _exit(2);
        if (read(go[0], &c, 1) != 1) _exit(2);
        _exit(0);
    }
    char c = 0;
    if (read(ready[0], &c, 1) != 1) c = 0;
    check("fork-child-starts-with-none", c == 'y', c);
    got = 0;
    r = err(get_list(child, &got, &length));
    check("get-other-process", r == 0 && got == &childs, r != 0 ? r : (long)(intptr_t)got);
    if (write(go[1], "x", 1) != 1) exit(2);
    wait_status(child);
    check("get-reaped-pid-esrch", err(get_list(child, &got, &length)) == -ESRCH, err(get_list(child, &got, &length)));
    check("get-negative-pid-esrch", err(get_list(-1, &got, &length)) == -ESRCH, err(get_list(-1, &got, &length)));
    set_list(0, sizeof h); /* h goes out of scope */
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
}

static void walk_at_exit(void) {
    pid_t child = fork();
    if (child == 0) {
        build_list(page, getpid());
        set_list(&page->head, sizeof page->head);
        _exit(0);
    }
    int status = wait_status(child);
    check("exit-child-exited", WIFEXITED(status), status);
    check_walked("exit", page);
}

static void walk_at_exec(char *self) {
    pid_t child = fork();
    if (child == 0) {
        build_list(page, getpid());
        set_list(&page->head, sizeof page->head);
        char *argv[] = {self, "--hold-and-exec", 0};
        execv(self, argv);
        _exit(127);
    }
    int status = wait_status(child);
    check("exec-child-exited", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
    check_walked("exec", page);
}

/* A waiter on a lock whose owner dies is woken, and finds it marked. */
static void waiter_woken(void) {
    int go[2];
    if (pipe(go)) exit(2);
    memset(page, 0, sizeof *page);
    page->head.offset = offsetof(struct lock, word);
    page->head.next = &page->mine;
    page->mine.next = &page->head;
    pid_t child = fork();
    if (child == 0) {
        char c;
        set_list(&page->head, sizeof page->head);
        if (read(go[0], &c, 1) != 1) _exit(2);
        struct timespec pause = {0, 500 * 1000 * 1000}; /* time for the parent to be waiting */
        nanosleep(&pause, 0);
        _exit(0);
    }
    page->mine.word = child | FUTEX_WAITERS; /* as if the child held it with a waiter queued */
    if (write(go[1], "x", 1) != 1) exit(2);
    struct timespec limit = {5, 0};
    long r = err(syscall(SYS_futex, &page->mine.word, FUTEX_WAIT, child | FUTEX_WAITERS, &limit, 0, 0));
    check("waiter-woken-by-owner-exit", r == 0, r);
    check("waiter-finds-owner-died", page->mine.word == (FUTEX_WAITERS | FUTEX_OWNER_DIED), page->mine.word);
    wait_status(child);
    close(go[0]), close(go[1]);
}

/* libc's own use: a process-shared robust mutex locked by a process that exits. */
static void libc_mutex(void) {
    pthread_mutex_t *m = (pthread_mutex_t *)((char *)page + 2048);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(m, &a);
    pid_t child = fork();
    if (child == 0) _exit(pthread_mutex_lock(m) == 0 ? 0 : 1); /* and dies holding it */
    int status = wait_status(child);
    check("mutex-child-locked", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
    int r = pthread_mutex_lock(m);
    check("mutex-lock-eownerdead", r == EOWNERDEAD, r);
    if (r == EOWNERDEAD) {
        check("mutex-consistent", pthread_mutex_consistent(m) == 0, 0);
        check("mutex-unlock", pthread_mutex_unlock(m) == 0, 0);
        r = pthread_mutex_lock(m);
        check("mutex-lock-again", r == 0, r);
        pthread_mutex_unlock(m);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--hold-and-exec") == 0) {
        execl("/bin/true", "true", (char *)0);
        return 127;
    }
    page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 2;
    calls();
    walk_at_exit();
    walk_at_exec(argv[0]);
    waiter_woken();
    libc_mutex();
    printf("robustlist: %d failed\n", failures);
    return failures != 0;
}
