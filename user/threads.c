/* POSIX threads as Linux runs them: pthread_create and pthread_join of
 * 100 threads; a mutex and condition variable under contention, with a
 * checked final count; thread-local storage; one pid and many tids;
 * per-thread signal masks; a signal to one thread (pthread_kill) and one
 * to the process, taken by the thread that does not block it; a thread
 * that faults and recovers in its SIGSEGV handler; exit_group from a
 * thread; the main thread leaving first with pthread_exit; fork and
 * execve from a thread; a robust mutex whose owner dies; a stopped and
 * continued process of several threads; clone's EINVAL cases; descriptor
 * tables shared or not (CLONE_FILES), one outliving its maker; a process
 * sharing descriptors and signal actions, and its execve's copies; and, as
 * TSKernel's init, no kernel object or frame left behind.
 *
 * Built twice: static with musl and dynamically linked with glibc. The
 * same binaries pass on Linux (tests/integration/threads.test.ts runs
 * them on the host too). Prints "ok NAME" / "FAIL NAME: ..." and
 * "threads: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int failures;

static void check(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld\n", name, got);
        failures++;
    }
    fflush(stdout);
}

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }

static void pause_ms(int ms) {
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&t, NULL);
}

/* The Threads: line of /proc/PID/status (-1 if it cannot be read). */
static int thread_count(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = -1;
    while (fgets(line, sizeof line, f)) if (sscanf(line, "Threads: %d", &n) == 1) break;
    fclose(f);
    return n;
}

/* ---- create and join ---------------------------------------------------- */

static void *return_arg(void *arg) { return arg; }

static void test_create_join(void) {
    pthread_t t[100];
    int created = 0, joined = 0;
    for (long i = 0; i < 100; i++) if (pthread_create(&t[i], NULL, return_arg, (void *)(i + 1)) == 0) created++;
    for (long i = 0; i < created; i++) {
        void *value;
        if (pthread_join(t[i], &value) == 0 && value == (void *)(i + 1)) joined++;
    }
    check("create-join-100", created == 100 && joined == 100, joined);
}

/* ---- ids ------------------------------------------------------------------ */

static pid_t seen_pid, seen_tid;

static void *ids(void *arg) {
    (void)arg;
    seen_pid = getpid();
    seen_tid = tid();
    return NULL;
}

static void test_ids(void) {
    pthread_t t;
    pthread_create(&t, NULL, ids, NULL);
    pthread_join(t, NULL);
    check("one-pid", seen_pid == getpid(), seen_pid);
    check("own-tid", seen_tid != tid() && seen_tid > 0, seen_tid);
    check("main-tid-is-pid", tid() == getpid(), tid());
}

/* ---- mutex and condition variable ---------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;

#define WORKERS 8
#define ROUNDS 2000

static void *add_many(void *arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        long v = counter;
        if ((i & 63) == 0) sched_yield(); /* let the others find the mutex held */
        counter = v + 1;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

/* Each of WORKERS threads waits for its turn, in order, ROUNDS / 20 times. */
static void *take_turns(void *arg) {
    int me = (int)(long)arg;
    for (int i = 0; i < ROUNDS / 20; i++) {
        pthread_mutex_lock(&lock);
        while (turn % WORKERS != me) pthread_cond_wait(&changed, &lock);
        turn++;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void test_mutex_condvar(void) {
    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++) pthread_create(&t[i], NULL, add_many, NULL);
    for (int i = 0; i < WORKERS; i++) pthread_join(t[i], NULL);
    check("mutex-count", counter == (long)WORKERS * ROUNDS, counter);
    for (long i = 0; i < WORKERS; i++) pthread_create(&t[i], NULL, take_turns, (void *)i);
    for (int i = 0; i < WORKERS; i++) pthread_join(t[i], NULL);
    check("condvar-turns", turn == WORKERS * (ROUNDS / 20), turn);
}

/* ---- thread-local storage ------------------------------------------------- */

static __thread long local = 42;

static void *use_local(void *arg) {
    long start = local;
    local = (long)arg;
    pause_ms(5);
    return (void *)(start == 42 && local == (long)arg ? 1L : 0L);
}

static void test_tls(void) {
    pthread_t t[4];
    int good = 0;
    local = 7;
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, use_local, (void *)(100 + i));
    for (int i = 0; i < 4; i++) {
        void *value;
        pthread_join(t[i], &value);
        good += value == (void *)1L;
    }
    check("tls-own-copy", good == 4 && local == 7, good);
}

/* ---- signals -------------------------------------------------------------- */

static volatile pid_t handled_by;
static volatile int handled;

static void note_thread(int signal) {
    (void)signal;
    handled_by = tid();
    handled++;
}

static volatile int stop_waiting;
static volatile pid_t waiter_tid;

static void *wait_for_signal(void *arg) {
    (void)arg;
    waiter_tid = tid();
    while (!stop_waiting) pause_ms(1);
    return NULL;
}

static void test_signals(void) {
    signal(SIGUSR1, note_thread);
    signal(SIGUSR2, note_thread);
    pthread_t t;
    stop_waiting = 0;
    waiter_tid = 0;
    pthread_create(&t, NULL, wait_for_signal, NULL);
    while (waiter_tid == 0) pause_ms(1);
    /* To one thread: its handler runs in that thread. */
    handled = 0;
    pthread_kill(t, SIGUSR1);
    for (int i = 0; i < 1000 && !handled; i++) pause_ms(1);
    check("pthread-kill-that-thread", handled == 1 && handled_by == waiter_tid, handled_by);
    /* To the process while this thread blocks it: the other thread takes it. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    handled = 0;
    kill(getpid(), SIGUSR2);
    for (int i = 0; i < 1000 && !handled; i++) pause_ms(1);
    check("process-signal-to-unblocked-thread", handled == 1 && handled_by == waiter_tid, handled_by);
    sigset_t pending;
    sigpending(&pending);
    check("mask-is-per-thread", !sigismember(&pending, SIGUSR2), 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    stop_waiting = 1;
    pthread_join(t, NULL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

/* ---- a thread that faults and recovers ------------------------------------ */

static __thread sigjmp_buf recover;
static volatile pid_t faulted_in;

static void on_segv(int signal) {
    (void)signal;
    faulted_in = tid();
    siglongjmp(recover, 1);
}

static int *volatile nowhere = (int *)16;

static void *fault(void *arg) {
    (void)arg;
    if (sigsetjmp(recover, 1) == 0) *nowhere = 1;
    return (void *)(long)tid();
}

static void test_fault(void) {
    signal(SIGSEGV, on_segv);
    pthread_t t;
    void *who;
    pthread_create(&t, NULL, fault, NULL);
    pthread_join(t, &who);
    check("fault-handled-in-thread", faulted_in == (pid_t)(long)who && faulted_in != tid(), faulted_in);
    signal(SIGSEGV, SIG_DFL);
}

/* ---- ending: exit_group, pthread_exit, fork, execve --------------------------- */

static void *exit_three(void *arg) {
    (void)arg;
    pause_ms(10);
    exit(3);
}

static volatile int forever = 1;

static void *sleep_forever(void *arg) {
    (void)arg;
    while (forever) pause_ms(1000);
    return NULL;
}

static int status_of(pid_t child) {
    int status = 0;
    if (waitpid(child, &status, 0) != child) return -1;
    return status;
}

static void test_exit_group(void) {
    pid_t child = fork();
    if (child == 0) {
        pthread_t a, b;
        pthread_create(&a, NULL, sleep_forever, NULL);
        pthread_create(&b, NULL, exit_three, NULL);
        pthread_join(a, NULL); /* never: b's exit ends every thread */
        _exit(9);
    }
    int status = status_of(child);
    check("exit-group-from-thread", WIFEXITED(status) && WEXITSTATUS(status) == 3, status);
}

static pid_t main_tid_seen;

static void *outlive_main(void *arg) {
    pid_t leader = (pid_t)(long)arg;
    pause_ms(30);
    /* The leader is gone as a thread but the process goes on: still one pid, and a zombie leader. */
    main_tid_seen = getpid() == leader;
    exit(main_tid_seen ? 5 : 6);
}

static void test_main_exits_first(void) {
    pid_t child = fork();
    if (child == 0) {
        pthread_t t;
        pthread_create(&t, NULL, outlive_main, (void *)(long)getpid());
        pthread_exit(NULL);
    }
    pause_ms(10);
    int reaped = waitpid(child, NULL, WNOHANG);
    check("leader-exited-not-reaped-early", reaped == 0, reaped);
    int status = status_of(child);
    check("main-pthread-exit-others-go-on", WIFEXITED(status) && WEXITSTATUS(status) == 5, status);
}

static void *fork_here(void *arg) {
    (void)arg;
    pid_t child = fork();
    if (child == 0) {
        /* Only the forking thread is copied. */
        _exit(thread_count(getpid()) == 1 && tid() == getpid() ? 0 : 1);
    }
    return (void *)(long)status_of(child);
}

static void test_fork_from_thread(void) {
    pthread_t t, idle;
    void *status;
    stop_waiting = 0;
    pthread_create(&idle, NULL, wait_for_signal, NULL);
    pthread_create(&t, NULL, fork_here, NULL);
    pthread_join(t, &status);
    stop_waiting = 1;
    pthread_join(idle, NULL);
    check("fork-from-thread-copies-one", WIFEXITED((int)(long)status) && WEXITSTATUS((int)(long)status) == 0, (long)status);
}

static char *self_path;

static void *exec_here(void *arg) {
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)(long)arg);
    char *argv[] = { self_path, "--after-exec", pid, NULL };
    execv(self_path, argv);
    _exit(8);
}

static void test_exec_from_thread(void) {
    pid_t child = fork();
    if (child == 0) {
        pthread_t a, b;
        pthread_create(&a, NULL, sleep_forever, NULL);
        pthread_create(&b, NULL, exec_here, (void *)(long)getpid());
        pthread_join(a, NULL);
        _exit(9);
    }
    int status = status_of(child);
    check("exec-from-thread-ends-others", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
}

/* The program execve'd from a thread: it has the process's pid, alone. */
static int after_exec(const char *pid) {
    int ok = getpid() == atoi(pid) && tid() == getpid() && thread_count(getpid()) == 1;
    return ok ? 0 : 1;
}

/* ---- a robust mutex whose owner dies ------------------------------------- */

static pthread_mutex_t robust;

static void *lock_and_die(void *arg) {
    (void)arg;
    pthread_mutex_lock(&robust);
    return NULL; /* ends holding it */
}

static void test_robust(void) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &attr);
    pthread_t t;
    pthread_create(&t, NULL, lock_and_die, NULL);
    pthread_join(t, NULL);
    int result = pthread_mutex_lock(&robust);
    check("robust-owner-died", result == EOWNERDEAD, result);
    if (result == EOWNERDEAD) {
        pthread_mutex_consistent(&robust);
        pthread_mutex_unlock(&robust);
    }
}

/* ---- job control ------------------------------------------------------------ */

static void *spin(void *arg) {
    (void)arg;
    while (forever) sched_yield();
    return NULL;
}

static char state_of(pid_t pid) {
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return '?';
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *close = strrchr(text, ')');
    return close && close[1] == ' ' ? close[2] : '?';
}

static void test_stop_continue(void) {
    pid_t child = fork();
    if (child == 0) {
        pthread_t t;
        pthread_create(&t, NULL, spin, NULL);
        pthread_create(&t, NULL, sleep_forever, NULL);
        spin(NULL);
    }
    pause_ms(20);
    check("threads-counted", thread_count(child) == 3, thread_count(child));
    kill(child, SIGSTOP);
    int status = 0;
    pid_t got = waitpid(child, &status, WUNTRACED);
    check("stop-reported", got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP, status);
    kill(child, SIGCONT);
    got = waitpid(child, &status, WCONTINUED);
    check("continue-reported", got == child && WIFCONTINUED(status), status);
    kill(child, SIGKILL);
    status = status_of(child);
    check("kill-ends-all-threads", WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, status);
    check("stopped-state-gone", state_of(child) == '?', state_of(child));
}

/* ---- clone's flags -------------------------------------------------------- */

/* Descriptor tables: a thread made without CLONE_FILES has a copy of its
 * own; one made with it by such a thread shares that copy, which outlives
 * its maker. The children make raw system calls only (no TLS of their own). */
static char stack_a[65536] __attribute__((aligned(16)));
static char stack_b[65536] __attribute__((aligned(16)));
static volatile int fd_a = -1, fd_b = -1, b_sees_a = -1, a_done, b_done;

static int child_b(void *arg) {
    (void)arg;
    while (!a_done) syscall(SYS_sched_yield); /* A has exited: its table lives on in B */
    char byte;
    b_sees_a = syscall(SYS_read, fd_a, &byte, 0) == 0;
    fd_b = (int)syscall(SYS_dup, 0);
    b_done = 1;
    syscall(SYS_exit, 0);
    return 0;
}

static int child_a(void *arg) {
    (void)arg;
    fd_a = (int)syscall(SYS_dup, 0);
    clone(child_b, stack_b + sizeof stack_b, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_FS | CLONE_FILES, NULL);
    a_done = 1;
    syscall(SYS_exit, 0);
    return 0;
}

static void test_descriptor_tables(void) {
    int made = clone(child_a, stack_a + sizeof stack_a, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_FS, NULL);
    for (int i = 0; i < 5000 && !b_done; i++) pause_ms(1);
    check("clone-without-files-made", made > 0 && b_done, made);
    check("thread-files-shared-outlive-maker", b_sees_a == 1, b_sees_a);
    /* fd_a and fd_b were made in A's table, not this one: here they are closed, or other files. */
    int mine = dup(0);
    check("thread-without-files-own-table", mine >= 0 && mine <= fd_b, mine);
    close(mine);
}

/* A process sharing the caller's descriptors and signal actions
 * (CLONE_FILES, CLONE_SIGHAND, with CLONE_VM and CLONE_VFORK): the handler
 * it installs is the caller's too; its execve gets copies of both, so
 * close-on-exec and the reset of handlers leave the caller's alone. */
static char stack_c[65536] __attribute__((aligned(16)));

static void on_usr2(int signal) { (void)signal; }

static int share_then_exec(void *arg) {
    (void)arg;
    struct sigaction action = {0};
    action.sa_handler = on_usr2;
    sigaction(SIGUSR2, &action, NULL);
    char *argv[] = {"/bin/true", NULL};
    char *envp[] = {NULL};
    syscall(SYS_execve, "/bin/true", argv, envp);
    syscall(SYS_exit, 9);
    return 0;
}

static void test_shared_process(void) {
    int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
    int child = clone(share_then_exec, stack_c + sizeof stack_c,
        CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_SIGHAND | SIGCHLD, NULL);
    int status = status_of(child);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    check("clone-sighand-process-shares-handler", WIFEXITED(status) && WEXITSTATUS(status) == 0 && now.sa_handler == on_usr2,
        status);
    check("exec-leaves-sharer-cloexec-fd", fcntl(fd, F_GETFD) == FD_CLOEXEC, fcntl(fd, F_GETFD));
    close(fd);
    signal(SIGUSR2, SIG_DFL);
}

static void test_clone_einval(void) {
    long r = syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0);
    check("clone-thread-needs-sighand", r == -1 && errno == EINVAL, r);
    r = syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0);
    check("clone-sighand-needs-vm", r == -1 && errno == EINVAL, r);
}

/* ---- nothing left behind ---------------------------------------------------- */

/* TSKernel's own report (Linux has no /proc/memcheck). */
static long memcheck_number(const char *key) {
    char report[4096];
    FILE *f = fopen("/proc/memcheck", "r");
    if (!f) return -1;
    size_t n = fread(report, 1, sizeof report - 1, f);
    fclose(f);
    report[n] = 0;
    char *at = strstr(report, key);
    return at ? atol(at + strlen(key)) : -1;
}

/* A child process whose threads end every way a thread can. */
static int leak_batch(void) {
    pid_t child = fork();
    if (child == 0) {
        pthread_t t[20];
        for (long i = 0; i < 20; i++) pthread_create(&t[i], NULL, return_arg, (void *)i);
        for (int i = 0; i < 10; i++) pthread_join(t[i], NULL);
        pthread_t a, b;
        pthread_create(&a, NULL, sleep_forever, NULL);
        pthread_create(&b, NULL, exit_three, NULL);
        pthread_exit(NULL); /* the others end by b's exit_group; ten are never joined */
    }
    int status = status_of(child);
    return WIFEXITED(status) && WEXITSTATUS(status) == 3;
}

static void test_no_leak(void) {
    if (getpid() != 1 || access("/proc/memcheck", F_OK) != 0) {
        printf("skip leak-check: only as TSKernel's init (pid 1 with /proc/memcheck)\n");
        return;
    }
    leak_batch(); /* warm-up: whatever the kernel caches the first time */
    long objects = memcheck_number("kernel_objects "), frames = memcheck_number("free_frames ");
    int ok = leak_batch();
    long objects_after = memcheck_number("kernel_objects "), frames_after = memcheck_number("free_frames ");
    check("leak-batch", ok, ok);
    check("leak-kernel-objects-unchanged", objects > 0 && objects_after == objects, objects_after - objects);
    check("leak-free-frames-unchanged", frames > 0 && frames_after == frames, frames_after - frames);
    check("leak-memcheck-problems-0", memcheck_number("problems ") == 0, memcheck_number("problems "));
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--after-exec") == 0) return after_exec(argv[2]);
    self_path = argv[0];
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_create_join();
    test_ids();
    test_mutex_condvar();
    test_tls();
    test_signals();
    test_fault();
    test_exit_group();
    test_main_exits_first();
    test_fork_from_thread();
    test_exec_from_thread();
    test_robust();
    test_stop_continue();
    test_clone_einval();
    test_descriptor_tables();
    test_shared_process();
    test_no_leak();
    printf("threads: %d failed\n", failures);
    return failures != 0;
}
