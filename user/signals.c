/* Signal delivery as Linux does it: handlers run with siginfo and a
 * ucontext and return through rt_sigreturn with every register and the
 * FPU state back; masks block and pending signals wait; SA_RESETHAND,
 * SA_NODEFER, SA_RESTART (a read interrupted by a handler is restarted,
 * without it EINTR); SIG_IGN; faults as signals (a SIGSEGV handler fixes
 * the mapping with mprotect and the access is retried; SIGBUS past the end
 * of a file; SIGFPE; SIGILL); alarm and setitimer; kill to a process group;
 * pause and sigsuspend; handlers reset by execve, SIG_IGN kept;
 * sigaltstack (SA_ONSTACK, SS_AUTODISARM, a stack overflow handled on it);
 * real-time signals queued with their si_value, standard ones merged;
 * sigwaitinfo and sigtimedwait; tgkill and rt_sigqueueinfo's checks.
 *
 * The same binary must pass on Linux. Prints "ok NAME" / "FAIL NAME: ..."
 * and "signals: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <sys/mman.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void check(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld\n", name, got);
        failures++;
    }
}

static volatile sig_atomic_t caught, caught_signal, caught_code, caught_pid;
static void *volatile caught_addr;

static void on_signal(int signal, siginfo_t *info, void *context) {
    (void)context;
    caught++;
    caught_signal = signal;
    caught_code = info->si_code;
    caught_pid = info->si_pid;
    caught_addr = info->si_addr;
}

static void install(int signal, void (*handler)(int, siginfo_t *, void *), int flags) {
    struct sigaction action = {0};
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, 0);
}

static void basics(void) {
    install(SIGUSR1, on_signal, 0);
    caught = 0;
    kill(getpid(), SIGUSR1);
    check("handler-runs-with-siginfo", caught == 1 && caught_signal == SIGUSR1 && caught_code == SI_USER && caught_pid == getpid(),
          caught);
    /* Registers survive the handler: a value kept in a callee-saved register and an SSE one. */
    volatile double x = 1.5;
    register long kept asm("r12") = 0x1234567890abcdef;
    asm volatile("" : "+r"(kept));
    kill(getpid(), SIGUSR1);
    asm volatile("" : "+r"(kept));
    check("registers-restored", kept == 0x1234567890abcdef && x * 2 == 3.0, caught);

    sigset_t block, pending, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    caught = 0;
    kill(getpid(), SIGUSR1);
    sigpending(&pending);
    check("blocked-signal-waits", caught == 0 && sigismember(&pending, SIGUSR1), caught);
    sigprocmask(SIG_SETMASK, &old, 0);
    check("unblocked-signal-arrives", caught == 1, caught);

    signal(SIGUSR2, SIG_IGN);
    kill(getpid(), SIGUSR2);
    check("sig-ign", 1, 0);

    install(SIGUSR1, on_signal, SA_RESETHAND);
    caught = 0;
    kill(getpid(), SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, 0, &now);
    check("sa-resethand", caught == 1 && now.sa_handler == SIG_DFL, caught);

    struct sigaction bad = {0};
    bad.sa_handler = SIG_IGN;
    check("sigaction-sigkill-einval", sigaction(SIGKILL, &bad, 0) == -1 && errno == EINVAL, errno);
    check("sigaction-bad-number", sigaction(65, &bad, 0) == -1 && errno == EINVAL, errno);
    check("sigprocmask-bad-how", syscall(SYS_rt_sigprocmask, 7, &block, 0, 8) == -1 && errno == EINVAL, errno);
}

static sigjmp_buf back;
static char *volatile guarded;

static void on_segv(int signal, siginfo_t *info, void *context) {
    (void)context;
    caught_signal = signal;
    caught_code = info->si_code;
    caught_addr = info->si_addr;
    /* Fix the mapping: the access is retried when the handler returns. */
    mprotect(guarded, 4096, PROT_READ | PROT_WRITE);
}

static void on_fault_jump(int signal, siginfo_t *info, void *context) {
    (void)context;
    caught_signal = signal;
    caught_code = info->si_code;
    caught_addr = info->si_addr;
    siglongjmp(back, 1);
}

static void faults(void) {
    guarded = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    install(SIGSEGV, on_segv, 0);
    guarded[10] = 42;
    check("segv-handler-fixes-and-retries",
          guarded[10] == 42 && caught_signal == SIGSEGV && caught_code == SEGV_ACCERR && caught_addr == guarded + 10, caught_code);
    install(SIGSEGV, on_fault_jump, SA_NODEFER);
    if (sigsetjmp(back, 1) == 0) *(volatile char *)16 = 1;
    check("segv-maperr-address", caught_code == SEGV_MAPERR && caught_addr == (void *)16, caught_code);

    char path[] = "/tmp/signals-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
        ftruncate(fd, 100);
        char *map = mmap(0, 8192, PROT_READ, MAP_SHARED, fd, 0);
        install(SIGBUS, on_fault_jump, SA_NODEFER);
        caught_signal = 0;
        if (sigsetjmp(back, 1) == 0) (void)((volatile char *)map)[4096];
        check("sigbus-past-end-of-file", caught_signal == SIGBUS && caught_addr == map + 4096, caught_signal);
        unlink(path);
        close(fd);
    }
    install(SIGFPE, on_fault_jump, SA_NODEFER);
    caught_signal = 0;
    if (sigsetjmp(back, 1) == 0) {
        int quotient, zero = 0;
        asm volatile("cltd; idivl %2" : "=a"(quotient) : "a"(7), "r"(zero) : "edx"); /* the compiler would fold 1 / x */
    }
    check("sigfpe-divide", caught_signal == SIGFPE && caught_code == FPE_INTDIV, caught_signal);
    install(SIGILL, on_fault_jump, SA_NODEFER);
    caught_signal = 0;
    if (sigsetjmp(back, 1) == 0) asm volatile("ud2");
    check("sigill-ud2", caught_signal == SIGILL, caught_signal);
}

static void timers_and_waits(void) {
    install(SIGALRM, on_signal, 0);
    caught = 0;
    alarm(1);
    check("alarm-remaining", alarm(1) == 1, 0);
    pause();
    check("pause-until-alarm", caught == 1 && caught_signal == SIGALRM, caught);
    struct itimerval every = {{0, 20000}, {0, 20000}};
    caught = 0;
    setitimer(ITIMER_REAL, &every, 0);
    while (caught < 3) pause();
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, 0);
    check("setitimer-interval", caught >= 3, caught);

    /* A read on an empty pipe interrupted by a handler: EINTR without SA_RESTART. */
    int p[2];
    pipe(p);
    install(SIGALRM, on_signal, 0);
    struct itimerval once = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &once, 0);
    char byte;
    long got = read(p[0], &byte, 1);
    check("read-interrupted-eintr", got == -1 && errno == EINTR, got);
    /* With SA_RESTART the read goes on, and a child's write ends it. */
    install(SIGALRM, on_signal, SA_RESTART);
    pid_t writer = fork();
    if (writer == 0) {
        struct timespec t = {0, 200000000};
        nanosleep(&t, 0);
        write(p[1], "x", 1);
        _exit(0);
    }
    setitimer(ITIMER_REAL, &once, 0);
    caught = 0;
    got = read(p[0], &byte, 1);
    check("read-restarted-sa-restart", got == 1 && byte == 'x' && caught == 1, got);
    waitpid(writer, 0, 0);

    sigset_t block, old, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    install(SIGUSR1, on_signal, 0);
    pid_t child = fork();
    if (child == 0) {
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    sigemptyset(&waitmask);
    caught = 0;
    sigsuspend(&waitmask);
    sigset_t after;
    sigprocmask(SIG_BLOCK, 0, &after);
    check("sigsuspend-restores-mask", caught == 1 && caught_pid == child && sigismember(&after, SIGUSR1), caught);
    sigprocmask(SIG_SETMASK, &old, 0);
    waitpid(child, 0, 0);
}

static void child_exit_signal(void) {
    install(SIGCHLD, on_signal, 0);
    caught = 0;
    pid_t child = fork();
    if (child == 0) _exit(3);
    while (caught == 0) pause();
    check("sigchld-on-child-exit", caught_signal == SIGCHLD && caught_pid == child, caught_pid);
    waitpid(child, 0, 0);
    signal(SIGCHLD, SIG_DFL);
}

static void groups_and_exec(const char *self) {
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        pause();
        _exit(0);
    }
    setpgid(child, child);
    struct timespec t = {0, 50000000};
    nanosleep(&t, 0);
    check("kill-process-group", kill(-child, SIGTERM) == 0, errno);
    int status = 0;
    waitpid(child, &status, 0);
    check("group-member-terminated", WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, status);

    install(SIGUSR1, on_signal, 0);
    signal(SIGUSR2, SIG_IGN);
    child = fork();
    if (child == 0) {
        execl(self, self, "--after-exec", (char *)0);
        _exit(99);
    }
    waitpid(child, &status, 0);
    check("exec-resets-handlers-keeps-ignored", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
    signal(SIGUSR2, SIG_DFL);
}

/* After exec: SIGUSR1 is back to its default action, SIGUSR2 still ignored. */
static int after_exec(void) {
    struct sigaction one, two;
    sigaction(SIGUSR1, 0, &one);
    sigaction(SIGUSR2, 0, &two);
    return one.sa_handler == SIG_DFL && two.sa_handler == SIG_IGN ? 0 : 1;
}

static char alt_stack[65536];
static volatile int on_alt, alt_flags_inside, alt_set_inside_errno;

static void on_alt_signal(int signal) {
    (void)signal;
    char here;
    on_alt = &here >= alt_stack && &here < alt_stack + sizeof alt_stack;
    stack_t now;
    sigaltstack(0, &now);
    alt_flags_inside = now.ss_flags;
    stack_t again = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack};
    alt_set_inside_errno = sigaltstack(&again, 0) == 0 ? 0 : errno;
}

static void on_overflow(int signal) {
    (void)signal;
    char here;
    _exit(&here >= alt_stack && &here < alt_stack + sizeof alt_stack ? 42 : 43);
}

static volatile int deeper = 1;

/* Runs into the stack's guard gap: only a handler on another stack can run then. */
static int recurse(volatile char *previous) {
    volatile char pad[1024];
    pad[0] = previous ? previous[0] + 1 : 0;
    return deeper ? recurse(pad) + pad[1] : 0;
}

static void alternate_stack(void) {
    stack_t old = {0};
    check("sigaltstack-none-at-start", sigaltstack(0, &old) == 0 && old.ss_flags == SS_DISABLE, old.ss_flags);
    /* The raw call: musl's wrapper checks the size and reads the struct itself. */
    stack_t tiny = {.ss_sp = alt_stack, .ss_size = MINSIGSTKSZ - 1};
    check("sigaltstack-too-small-enomem", syscall(SYS_sigaltstack, &tiny, 0) == -1 && errno == ENOMEM, errno);
    stack_t bad_flags = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0x10};
    check("sigaltstack-bad-flags-einval", syscall(SYS_sigaltstack, &bad_flags, 0) == -1 && errno == EINVAL, errno);
    check("sigaltstack-bad-pointer-efault", syscall(SYS_sigaltstack, (stack_t *)8, 0) == -1 && errno == EFAULT, errno);
    stack_t stack = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack};
    check("sigaltstack-set", sigaltstack(&stack, 0) == 0, errno);
    struct sigaction action = {0};
    action.sa_handler = on_alt_signal;
    action.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &action, 0);
    raise(SIGUSR2);
    check("sa-onstack-runs-on-alternate-stack", on_alt && alt_flags_inside == SS_ONSTACK, alt_flags_inside);
    check("sigaltstack-while-on-it-eperm", alt_set_inside_errno == EPERM, alt_set_inside_errno);
    check("sigaltstack-reports-stack", sigaltstack(0, &old) == 0 && old.ss_sp == alt_stack && old.ss_size == sizeof alt_stack &&
          old.ss_flags == 0, old.ss_flags);

    stack_t disarming = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = SS_AUTODISARM};
    sigaltstack(&disarming, 0);
    raise(SIGUSR2);
    check("ss-autodisarm-disarmed-in-handler", on_alt && alt_flags_inside == SS_DISABLE && alt_set_inside_errno == 0,
          alt_flags_inside);
    /* Re-armed from the frame's uc_stack, whose ss_flags never carries SS_AUTODISARM (as Linux saves it). */
    check("ss-autodisarm-rearmed-after", sigaltstack(0, &old) == 0 && old.ss_flags == 0 && old.ss_sp == alt_stack, old.ss_flags);
    sigaltstack(&stack, 0);

    pid_t child = fork();
    if (child == 0) {
        struct sigaction segv = {0};
        segv.sa_handler = on_overflow;
        segv.sa_flags = SA_ONSTACK;
        sigaction(SIGSEGV, &segv, 0);
        recurse(0);
        _exit(44);
    }
    int status = 0;
    waitpid(child, &status, 0);
    check("stack-overflow-handled-on-alternate-stack", WIFEXITED(status) && WEXITSTATUS(status) == 42, status);
    stack_t off = {.ss_flags = SS_DISABLE};
    check("sigaltstack-disable", sigaltstack(&off, 0) == 0 && sigaltstack(0, &old) == 0 && old.ss_flags == SS_DISABLE, errno);
    action.sa_handler = SIG_DFL;
    sigaction(SIGUSR2, &action, 0);
}

static volatile int rt_values[8], rt_count, usr1_count;

static void on_rt(int signal, siginfo_t *info, void *context) {
    (void)signal;
    (void)context;
    if (rt_count < 8) rt_values[rt_count] = info->si_value.sival_int;
    rt_count++;
}

static void on_usr1_count(int signal) {
    (void)signal;
    usr1_count++;
}

static void queued_signals(void) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);

    install(SIGRTMIN + 1, on_rt, 0);
    rt_count = 0;
    for (int i = 1; i <= 3; i++) sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = i * 10});
    struct sigaction count = {0};
    count.sa_handler = on_usr1_count;
    sigaction(SIGUSR1, &count, 0);
    usr1_count = 0;
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGRTMIN + 1);
    sigaddset(&unblock, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &unblock, 0);
    check("rt-signals-queue-in-order", rt_count == 3 && rt_values[0] == 10 && rt_values[1] == 20 && rt_values[2] == 30, rt_count);
    check("standard-signals-merge", usr1_count == 1, usr1_count);
    sigprocmask(SIG_BLOCK, &unblock, 0);

    siginfo_t info;
    sigqueue(getpid(), SIGUSR2, (union sigval){.sival_int = 7});
    sigset_t wait_for;
    sigemptyset(&wait_for);
    sigaddset(&wait_for, SIGUSR2);
    int got = sigwaitinfo(&wait_for, &info);
    check("sigwaitinfo-takes-queued", got == SIGUSR2 && info.si_code == SI_QUEUE && info.si_value.sival_int == 7 &&
          info.si_pid == getpid(), got);
    struct timespec none = {0, 0};
    check("sigtimedwait-nothing-eagain", sigtimedwait(&wait_for, &info, &none) == -1 && errno == EAGAIN, errno);
    struct timespec brief = {0, 30000000};
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    int r = sigtimedwait(&wait_for, &info, &brief);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long waited = (after.tv_sec - before.tv_sec) * 1000000000L + after.tv_nsec - before.tv_nsec;
    check("sigtimedwait-times-out", r == -1 && errno == EAGAIN && waited >= 25000000, waited);
    pid_t child = fork();
    if (child == 0) {
        struct timespec t = {0, 20000000};
        nanosleep(&t, 0);
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    got = sigwaitinfo(&wait_for, &info);
    check("sigwaitinfo-waits-for-sender", got == SIGUSR2 && info.si_code == SI_USER && info.si_pid == child, got);
    waitpid(child, 0, 0);

    struct sigaction ignore = {0};
    ignore.sa_handler = SIG_IGN;
    kill(getpid(), SIGUSR1);
    sigaction(SIGUSR1, &ignore, 0);
    sigset_t pending;
    sigpending(&pending);
    check("sig-ign-discards-pending", !sigismember(&pending, SIGUSR1), sigismember(&pending, SIGUSR1));

    siginfo_t forged = {0};
    forged.si_code = SI_USER;
    pid_t other = fork();
    if (other == 0) {
        for (;;) pause();
    }
    check("sigqueueinfo-forged-code-eperm", syscall(SYS_rt_sigqueueinfo, other, SIGUSR2, &forged) == -1 && errno == EPERM, errno);
    kill(other, SIGKILL);
    waitpid(other, 0, 0);
    check("tgkill-wrong-group-esrch", syscall(SYS_tgkill, getpid() + 1000, getpid(), 0) == -1 && errno == ESRCH, errno);
    check("tgkill-zero-tid-einval", syscall(SYS_tgkill, getpid(), 0, 0) == -1 && errno == EINVAL, errno);
    check("tgkill-self-check", syscall(SYS_tgkill, getpid(), getpid(), 0) == 0, errno);

    struct sigaction dfl = {0};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGUSR1, &dfl, 0);
    sigaction(SIGRTMIN + 1, &dfl, 0);
    sigprocmask(SIG_SETMASK, &old, 0);
}

/* signalfd: blocked signals read as records instead of delivered. */
static void signal_descriptors(void) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGRTMIN + 2);
    sigprocmask(SIG_BLOCK, &set, &old);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    check("signalfd-created", fd >= 0, errno);
    struct signalfd_siginfo records[4];
    check("signalfd-empty-eagain", read(fd, records, sizeof records) == -1 && errno == EAGAIN, errno);
    check("signalfd-short-buffer-einval", read(fd, records, 16) == -1 && errno == EINVAL, errno);
    struct pollfd waiting = {fd, POLLIN, 0};
    check("signalfd-not-readable-yet", poll(&waiting, 1, 0) == 0, waiting.revents);
    kill(getpid(), SIGUSR1);
    union sigval value = {.sival_int = 4242};
    sigqueue(getpid(), SIGRTMIN + 2, value);
    check("signalfd-poll-readable", poll(&waiting, 1, 0) == 1 && (waiting.revents & POLLIN), waiting.revents);
    ssize_t got = read(fd, records, sizeof records);
    check("signalfd-reads-both", got == 2 * (ssize_t)sizeof records[0], got);
    check("signalfd-first-sigusr1-from-self", records[0].ssi_signo == SIGUSR1 && records[0].ssi_code == SI_USER &&
          records[0].ssi_pid == (unsigned)getpid(), records[0].ssi_signo);
    check("signalfd-queued-value", records[1].ssi_signo == (unsigned)SIGRTMIN + 2 && records[1].ssi_code == SI_QUEUE &&
          records[1].ssi_int == 4242, records[1].ssi_int);
    sigset_t pending;
    sigpending(&pending);
    check("signalfd-took-them", !sigismember(&pending, SIGUSR1), 0);
    check("signalfd-write-einval", write(fd, records, sizeof records[0]) == -1 && errno == EINVAL, errno);
    check("signalfd-lseek-stays-0", lseek(fd, 100, SEEK_SET) == 0, errno);
    struct stat st;
    check("signalfd-fstat-anonymous", fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0, st.st_mode);
    char link[64] = {0};
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    readlink(path, link, sizeof link - 1);
    check("signalfd-proc-link", strcmp(link, "anon_inode:[signalfd]") == 0, 0);
    sigset_t other;
    sigemptyset(&other);
    sigaddset(&other, SIGUSR2);
    check("signalfd-new-set-same-fd", signalfd(fd, &other, 0) == fd, errno);
    check("signalfd-not-a-signalfd-einval", signalfd(0, &other, 0) == -1 && errno == EINVAL, errno);
    close(fd);
    /* A blocking read waits for a signal sent later, by a child. */
    int blocking = signalfd(-1, &set, 0);
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    got = read(blocking, records, sizeof records);
    check("signalfd-blocking-read-waits", got == sizeof records[0] && records[0].ssi_signo == SIGUSR1 &&
          records[0].ssi_pid == (unsigned)child, got);
    waitpid(child, 0, 0);
    close(blocking);
    sigprocmask(SIG_SETMASK, &old, 0);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--after-exec") == 0) return after_exec();
    setvbuf(stdout, 0, _IOLBF, 0);
    basics();
    faults();
    timers_and_waits();
    child_exit_signal();
    alternate_stack();
    queued_signals();
    signal_descriptors();
    groups_and_exec(argv[0]);
    printf("signals: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
