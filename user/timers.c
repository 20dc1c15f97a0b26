/* POSIX timers, sleeps and clocks as Linux 6.1 has them, through the raw
 * system calls (the kernel's timer_t is an int): timer_create's clocks,
 * sigevents and errnos, ids counting up from 0 per process, the EAGAIN cap;
 * timer_settime relative, absolute, periodic, disarming, the old value and
 * its EFAULT after the new one took effect; timer_gettime (1 ns for a timer
 * due but not fired, 0 once a one-shot fired); the signal's siginfo
 * (SI_TIMER, si_timerid, si_value, si_overrun), overruns while it waits in
 * the queue, capped at INT_MAX, timer_getoverrun; a deleted timer's queued
 * signal kept (as Linux 6.1: later ones drop it); no timers in a fork child
 * or after exec. clock_nanosleep
 * and nanosleep: errnos, TIMER_ABSTIME, EINTR with the time left, EFAULT
 * for a bad rem, a sleep stopped and continued going on to its original
 * end, restart_syscall. clock_getres, clock_settime.
 *
 * The same binary must pass on Linux (this is checked on the build host).
 * Differences are the kernel's documented ones, taken when uname says
 * TSKernel: timers and sleeps on the CPU-time clocks are refused (EINVAL),
 * and only there is the real-time clock moved (on a shared Linux host the
 * clock is only set to what it reads) or the kernel-object count checked.
 * Prints "ok NAME" / "FAIL NAME: ..." and "timers: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#ifndef CLOCK_TAI
#define CLOCK_TAI 11
#endif

static int failures;
static int tskernel;
static void *bad; /* an unmapped page: EFAULT */

static void check(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld\n", name, got);
        failures++;
    }
    fflush(stdout);
}

static long tcreate(long clock, struct sigevent *ev, int *id) { return syscall(SYS_timer_create, clock, ev, id); }
static long tset(int id, int flags, const struct itimerspec *n, struct itimerspec *o) {
    return syscall(SYS_timer_settime, id, flags, n, o);
}
static long tget(int id, struct itimerspec *cur) { return syscall(SYS_timer_gettime, id, cur); }
static long tover(int id) { return syscall(SYS_timer_getoverrun, id); }
static long tdel(int id) { return syscall(SYS_timer_delete, id); }
static long cnsleep(long clock, int flags, const struct timespec *req, struct timespec *rem) {
    return syscall(SYS_clock_nanosleep, clock, flags, req, rem);
}

/* -errno of a call, 0 on success: checks read "errno_of(...) == -EINVAL". */
static long err(long result) { return result == -1 ? -errno : result; }

static long long now_ns(clockid_t clock) {
    struct timespec t;
    syscall(SYS_clock_gettime, clock, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long ts_ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }
static struct timespec ns_ts(long long ns) { return (struct timespec){ns / 1000000000, ns % 1000000000}; }

static void sleep_ms(int ms) {
    struct timespec t = ns_ts(ms * 1000000LL);
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {}
}

static struct itimerspec spec_ms(long value_ms, long interval_ms) {
    struct itimerspec s = {ns_ts(interval_ms * 1000000LL), ns_ts(value_ms * 1000000LL)};
    return s;
}

static void block(int signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    sigprocmask(SIG_BLOCK, &set, 0);
}

static void unblock(int signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    sigprocmask(SIG_UNBLOCK, &set, 0);
}

/* Takes `signal` (blocked) within `ms`: its number, or -errno. */
static int take(int signal, siginfo_t *info, int ms) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    struct timespec t = ns_ts(ms * 1000000LL);
    memset(info, 0, sizeof *info);
    int got = sigtimedwait(&set, info, &t);
    return got < 0 ? -errno : got;
}

static struct sigevent event(int notify, int signal, long value) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = notify;
    ev.sigev_signo = signal;
    ev.sigev_value.sival_ptr = (void *)value;
    return ev;
}

static int no_rtc(void) { return access("/sys/class/rtc/rtc0", F_OK) != 0; }

/* ---- timer_create ----------------------------------------------------------- */

static void create_errors(void) {
    struct sigevent ev = event(SIGEV_NONE, SIGALRM, 0);
    int id;
    check("create-bad-sigevent-efault", err(tcreate(CLOCK_REALTIME, bad, &id)) == -EFAULT, errno);
    check("create-bad-id-pointer-efault", err(tcreate(CLOCK_REALTIME, &ev, bad)) == -EFAULT, errno);
    check("create-clock-16-einval", err(tcreate(16, &ev, &id)) == -EINVAL, errno);
    check("create-clock-12-einval", err(tcreate(12, &ev, &id)) == -EINVAL, errno);
    check("create-clock-10-einval", err(tcreate(10, &ev, &id)) == -EINVAL, errno);
    check("create-monotonic-raw-eopnotsupp", err(tcreate(CLOCK_MONOTONIC_RAW, &ev, &id)) == -EOPNOTSUPP, errno);
    check("create-realtime-coarse-eopnotsupp", err(tcreate(CLOCK_REALTIME_COARSE, &ev, &id)) == -EOPNOTSUPP, errno);
    check("create-monotonic-coarse-eopnotsupp", err(tcreate(CLOCK_MONOTONIC_COARSE, &ev, &id)) == -EOPNOTSUPP, errno);
    if (no_rtc()) {
        check("create-realtime-alarm-eopnotsupp-without-rtc", err(tcreate(CLOCK_REALTIME_ALARM, &ev, &id)) == -EOPNOTSUPP, errno);
        check("create-boottime-alarm-eopnotsupp-without-rtc", err(tcreate(CLOCK_BOOTTIME_ALARM, &ev, &id)) == -EOPNOTSUPP, errno);
        struct sigevent wrong = event(99, SIGALRM, 0);
        check("create-alarm-checks-sigevent-first", err(tcreate(CLOCK_REALTIME_ALARM, &wrong, &id)) == -EINVAL, errno);
    }
    long cpu = err(tcreate(CLOCK_PROCESS_CPUTIME_ID, &ev, &id));
    if (cpu == 0) tdel(id);
    check("create-process-cputime", cpu == 0, cpu);
    cpu = err(tcreate(CLOCK_THREAD_CPUTIME_ID, &ev, &id));
    if (cpu == 0) tdel(id);
    check("create-thread-cputime", cpu == 0, cpu);

    struct sigevent e = event(INT_MAX, SIGALRM, 0);
    check("create-notify-int-max-einval", err(tcreate(CLOCK_REALTIME, &e, &id)) == -EINVAL, errno);
    e = event(SIGEV_SIGNAL | 54321, SIGALRM, 0);
    e.sigev_notify_thread_id = getpid();
    check("create-notify-unknown-bits-einval", err(tcreate(CLOCK_MONOTONIC, &e, &id)) == -EINVAL, errno);
    e = event(3, SIGALRM, 0);
    check("create-notify-3-einval", err(tcreate(CLOCK_MONOTONIC, &e, &id)) == -EINVAL, errno);
    e = event(SIGEV_SIGNAL, INT_MAX, 0);
    check("create-signal-int-max-einval", err(tcreate(CLOCK_REALTIME, &e, &id)) == -EINVAL, errno);
    e = event(SIGEV_SIGNAL, 0, 0);
    check("create-signal-0-einval", err(tcreate(CLOCK_REALTIME, &e, &id)) == -EINVAL, errno);
    e = event(SIGEV_SIGNAL, 65, 0);
    check("create-signal-65-einval", err(tcreate(CLOCK_REALTIME, &e, &id)) == -EINVAL, errno);
    e = event(SIGEV_NONE, 0, 0);
    long none = err(tcreate(CLOCK_REALTIME, &e, &id));
    check("create-sigev-none-ignores-signal", none == 0, none);
    if (none == 0) tdel(id);
    e = event(SIGEV_THREAD_ID, SIGALRM, 0);
    e.sigev_notify_thread_id = getpid() + 100000;
    check("create-thread-id-unknown-einval", err(tcreate(CLOCK_REALTIME, &e, &id)) == -EINVAL, errno);
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    e.sigev_notify_thread_id = child;
    check("create-thread-id-other-process-einval", err(tcreate(CLOCK_REALTIME, &e, &id)) == -EINVAL, errno);
    kill(child, SIGKILL);
    waitpid(child, 0, 0);
    e = event(SIGEV_THREAD_ID, 64, 0);
    e.sigev_notify_thread_id = 0;
    check("create-thread-id-0-einval", err(tcreate(CLOCK_REALTIME, &e, &id)) == -EINVAL, errno);

    int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI};
    const char *names[] = {"create-realtime", "create-monotonic", "create-boottime", "create-tai"};
    for (int i = 0; i < 4; i++) {
        long r = err(tcreate(clocks[i], 0, &id));
        check(names[i], r == 0 && tdel(id) == 0, r);
    }
}

/* In a fresh process: ids from 0, not reused at once; the cap is EAGAIN. */
static void ids_and_cap(void) {
    pid_t child = fork();
    if (child == 0) {
        int a = -1, b = -1, c = -1;
        tcreate(CLOCK_MONOTONIC, 0, &a);
        tcreate(CLOCK_MONOTONIC, 0, &b);
        tdel(a);
        tcreate(CLOCK_MONOTONIC, 0, &c);
        if (a != 0 || b != 1 || c != 2) _exit(1);
        struct rlimit limit = {200, 200};
        setrlimit(RLIMIT_SIGPENDING, &limit); /* each timer counts against it, here and on Linux */
        int made = 0, id;
        long r = 0;
        while (made < 5000 && (r = err(tcreate(CLOCK_MONOTONIC, 0, &id))) == 0) made++;
        if (r != -EAGAIN || made == 0) _exit(2);
        if (tskernel && made != 200 - 2) _exit(3); /* Linux's count includes the user's other pending signals */
        _exit(0);
    }
    int status = -1;
    waitpid(child, &status, 0);
    check("ids-count-from-0-without-reuse-and-cap-eagain", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
}

/* ---- timer_settime and timer_gettime ------------------------------------------ */

static void settime_errors(void) {
    int id;
    tcreate(CLOCK_MONOTONIC, 0, &id);
    struct itimerspec s = spec_ms(5000, 0), old;
    check("settime-null-new-einval", err(tset(id, 0, 0, &old)) == -EINVAL, errno);
    check("settime-bad-new-efault", err(tset(id, 0, bad, &old)) == -EFAULT, errno);
    s.it_value.tv_nsec = -1;
    check("settime-value-nsec-negative-einval", err(tset(id, 0, &s, &old)) == -EINVAL, errno);
    s.it_value.tv_nsec = 1000000000;
    check("settime-value-nsec-too-big-einval", err(tset(id, 0, &s, &old)) == -EINVAL, errno);
    s = spec_ms(5000, 0);
    s.it_interval.tv_sec = -1;
    check("settime-interval-negative-einval", err(tset(id, 0, &s, &old)) == -EINVAL, errno);
    s = spec_ms(5000, 0);
    check("settime-unknown-id-einval", err(tset(-1, 0, &s, &old)) == -EINVAL, errno);
    check("settime-bad-old-efault", err(tset(id, 0, &s, bad)) == -EFAULT, errno);
    struct itimerspec cur;
    tget(id, &cur);
    check("settime-bad-old-still-armed", cur.it_value.tv_sec >= 4 && cur.it_value.tv_sec <= 5, cur.it_value.tv_sec);
    check("gettime-unknown-id-einval", err(tget(-1, &cur)) == -EINVAL, errno);
    check("gettime-null-efault", err(tget(id, 0)) == -EFAULT, errno);
    check("getoverrun-unknown-einval", err(tover(12345)) == -EINVAL, errno);
    check("getoverrun-fresh-0", tover(id) == 0, tover(id));
    check("delete", tdel(id) == 0, errno);
    check("delete-again-einval", err(tdel(id)) == -EINVAL, errno);
    check("getoverrun-deleted-einval", err(tover(id)) == -EINVAL, errno);
    check("delete-minus-1-einval", err(tdel(-1)) == -EINVAL, errno);
}

static void one_shot(void) {
    block(SIGUSR1);
    int id;
    struct sigevent ev = event(SIGEV_SIGNAL, SIGUSR1, 0x1234567890L);
    tcreate(CLOCK_MONOTONIC, &ev, &id);
    struct itimerspec cur;
    tget(id, &cur);
    check("gettime-disarmed-zero", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0 && cur.it_interval.tv_nsec == 0,
          cur.it_value.tv_nsec);
    struct itimerspec s = spec_ms(50, 0);
    long long start = now_ns(CLOCK_MONOTONIC);
    tset(id, 0, &s, 0);
    tget(id, &cur);
    long long left = ts_ns(cur.it_value);
    check("gettime-counts-down", left > 0 && left <= 50000000 && cur.it_interval.tv_nsec == 0, left);
    siginfo_t info;
    int got = take(SIGUSR1, &info, 2000);
    long long waited = now_ns(CLOCK_MONOTONIC) - start;
    check("one-shot-fires", got == SIGUSR1, got);
    check("one-shot-not-early", waited >= 50000000, waited);
    check("one-shot-not-late", waited < 1000000000, waited);
    check("siginfo-si-timer", info.si_code == SI_TIMER, info.si_code);
    check("siginfo-timerid", info.si_timerid == id, info.si_timerid);
    check("siginfo-value", (long)info.si_value.sival_ptr == 0x1234567890L, (long)info.si_value.sival_ptr);
    check("siginfo-overrun-0", info.si_overrun == 0, info.si_overrun);
    tget(id, &cur);
    check("gettime-fired-one-shot-zero", ts_ns(cur.it_value) == 0, ts_ns(cur.it_value));
    check("one-shot-fires-once", take(SIGUSR1, &info, 100) == -EAGAIN, 0);

    /* The old value; a zero it_value disarms and forgets the interval. */
    s = spec_ms(3000, 7);
    tset(id, 0, &s, 0);
    struct itimerspec old;
    s = spec_ms(0, 20);
    tset(id, 0, &s, &old);
    check("settime-old-value", ts_ns(old.it_interval) == 7000000 && ts_ns(old.it_value) > 2000000000 &&
          ts_ns(old.it_value) <= 3000000000LL, ts_ns(old.it_value));
    tget(id, &cur);
    check("settime-zero-disarms", ts_ns(cur.it_value) == 0 && ts_ns(cur.it_interval) == 0, ts_ns(cur.it_interval));
    check("disarmed-sends-nothing", take(SIGUSR1, &info, 80) == -EAGAIN, 0);

    /* Absolute times, on the clock the timer was made on. */
    s = (struct itimerspec){{0, 0}, ns_ts(now_ns(CLOCK_MONOTONIC) + 30000000)};
    start = now_ns(CLOCK_MONOTONIC);
    tset(id, TIMER_ABSTIME, &s, 0);
    got = take(SIGUSR1, &info, 2000);
    check("absolute-monotonic-fires-on-time", got == SIGUSR1 && now_ns(CLOCK_MONOTONIC) >= ts_ns(s.it_value), got);
    s = (struct itimerspec){{0, 0}, {1, 0}};
    start = now_ns(CLOCK_MONOTONIC);
    tset(id, TIMER_ABSTIME, &s, 0);
    got = take(SIGUSR1, &info, 2000);
    check("absolute-past-fires-at-once", got == SIGUSR1 && now_ns(CLOCK_MONOTONIC) - start < 500000000, got);
    tdel(id);

    tcreate(CLOCK_REALTIME, &ev, &id);
    s = (struct itimerspec){{0, 0}, ns_ts(now_ns(CLOCK_REALTIME) + 30000000)};
    tset(id, TIMER_ABSTIME, &s, 0);
    got = take(SIGUSR1, &info, 2000);
    check("absolute-realtime-fires-on-time", got == SIGUSR1 && now_ns(CLOCK_REALTIME) >= ts_ns(s.it_value), got);
    tdel(id);

    /* No sigevent: SIGALRM with the timer's id as si_value. */
    block(SIGALRM);
    tcreate(CLOCK_MONOTONIC, 0, &id);
    s = spec_ms(10, 0);
    tset(id, 0, &s, 0);
    got = take(SIGALRM, &info, 2000);
    check("null-sigevent-sigalrm-with-id", got == SIGALRM && info.si_code == SI_TIMER && info.si_timerid == id &&
          info.si_value.sival_int == id, got);
    tdel(id);
    unblock(SIGALRM);
    unblock(SIGUSR1);
}

static void periodic_and_overruns(void) {
    block(SIGUSR1);
    int id;
    struct sigevent ev = event(SIGEV_SIGNAL, SIGUSR1, 7);
    tcreate(CLOCK_MONOTONIC, &ev, &id);
    struct itimerspec s = spec_ms(10, 10);
    tset(id, 0, &s, 0);
    sleep_ms(105); /* about ten expirations while the first signal waits, blocked */
    struct itimerspec cur;
    tget(id, &cur);
    check("gettime-periodic-pending-next-expiry", ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 10000000 &&
          ts_ns(cur.it_interval) == 10000000, ts_ns(cur.it_value));
    siginfo_t info;
    int got = take(SIGUSR1, &info, 1000);
    check("periodic-one-signal-with-overruns", got == SIGUSR1 && info.si_overrun >= 7 && info.si_overrun <= 12,
          info.si_overrun);
    check("getoverrun-as-delivered", tover(id) == info.si_overrun, tover(id));
    got = take(SIGUSR1, &info, 1000);
    check("periodic-goes-on", got == SIGUSR1 && info.si_overrun <= 2, info.si_overrun);
    s = spec_ms(0, 0);
    tset(id, 0, &s, 0);
    check("settime-resets-getoverrun", tover(id) == 0, tover(id));

    /* Overruns far beyond INT_MAX are reported as INT_MAX (LTP timer_settime03's case). */
    tdel(id);
    tcreate(CLOCK_REALTIME, &ev, &id);
    s = (struct itimerspec){{0, 1}, ns_ts(now_ns(CLOCK_REALTIME) - 3000000000LL)};
    tset(id, TIMER_ABSTIME, &s, 0);
    got = take(SIGUSR1, &info, 1000);
    check("overrun-capped-int-max", got == SIGUSR1 && info.si_overrun == INT_MAX && tover(id) == INT_MAX, info.si_overrun);
    tdel(id);
    /* It fires every nanosecond: a signal it queued after the take stays
     * pending once it is deleted (below), and would be taken for the next
     * timer's. */
    while (take(SIGUSR1, &info, 0) == SIGUSR1) {}

    /* A deleted timer's queued signal stays pending in Linux 6.1 (and here); later Linux drops it. */
    tcreate(CLOCK_MONOTONIC, &ev, &id);
    s = spec_ms(5, 5);
    tset(id, 0, &s, 0);
    sleep_ms(30);
    tdel(id);
    got = take(SIGUSR1, &info, 100);
    int kept = got == SIGUSR1 && info.si_code == SI_TIMER && info.si_timerid == id;
    check("deleted-timer-signal-kept", kept || (!tskernel && got == -EAGAIN), got);
    check("deleted-timer-sends-no-more", take(SIGUSR1, &info, 50) == -EAGAIN, 0);

    /* SIGEV_NONE: nothing sent, the time left read. */
    ev = event(SIGEV_NONE, 0, 0);
    tcreate(CLOCK_MONOTONIC, &ev, &id);
    s = spec_ms(20, 0);
    tset(id, 0, &s, 0);
    tget(id, &cur);
    check("sigev-none-counts-down", ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 20000000, ts_ns(cur.it_value));
    sleep_ms(40);
    tget(id, &cur);
    check("sigev-none-expired-zero", ts_ns(cur.it_value) == 0, ts_ns(cur.it_value));
    s = spec_ms(10, 10);
    tset(id, 0, &s, 0);
    sleep_ms(35);
    tget(id, &cur);
    check("sigev-none-periodic-wraps", ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 10000000, ts_ns(cur.it_value));
    check("sigev-none-sends-nothing", take(SIGUSR1, &info, 30) == -EAGAIN, 0);
    tdel(id);
    unblock(SIGUSR1);
}

static volatile sig_atomic_t handled, handled_code, handled_timerid, handled_overrun;
static volatile long handled_value;
static int handler_timer;

static void on_timer(int signal, siginfo_t *info, void *context) {
    (void)signal;
    (void)context;
    handled++;
    handled_code = info->si_code;
    handled_timerid = info->si_timerid;
    handled_value = (long)info->si_value.sival_ptr;
    handled_overrun = syscall(SYS_timer_getoverrun, handler_timer);
    struct itimerspec stop = {{0, 0}, {0, 0}};
    syscall(SYS_timer_settime, handler_timer, 0, &stop, 0);
}

static void handler_delivery(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_timer;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR2, &action, 0);
    struct sigevent ev = event(SIGEV_THREAD_ID, SIGUSR2, 99);
    ev.sigev_notify_thread_id = syscall(SYS_gettid);
    long r = err(tcreate(CLOCK_MONOTONIC, &ev, &handler_timer));
    check("create-thread-id-self", r == 0, r);
    handled = 0;
    struct itimerspec s = spec_ms(10, 0);
    tset(handler_timer, 0, &s, 0);
    for (int i = 0; i < 200 && !handled; i++) sleep_ms(5);
    check("handler-runs-with-siginfo", handled == 1 && handled_code == SI_TIMER && handled_timerid == handler_timer &&
          handled_value == 99, handled);
    /* A busy loop (LTP timer_settime01's way) is interrupted by the tick. */
    handled = 0;
    s = spec_ms(20, 0);
    long long start = now_ns(CLOCK_MONOTONIC);
    tset(handler_timer, 0, &s, 0);
    while (!handled && now_ns(CLOCK_MONOTONIC) - start < 2000000000LL) {}
    check("handler-interrupts-busy-loop", handled == 1 && now_ns(CLOCK_MONOTONIC) - start >= 20000000, handled);
    tdel(handler_timer);
    signal(SIGUSR2, SIG_DFL);
}

static void fork_and_exec(char *self) {
    int id;
    block(SIGUSR1);
    struct sigevent ev = event(SIGEV_SIGNAL, SIGUSR1, 0);
    tcreate(CLOCK_MONOTONIC, &ev, &id);
    struct itimerspec s = spec_ms(50, 0);
    tset(id, 0, &s, 0);
    pid_t child = fork();
    if (child == 0) {
        struct itimerspec cur;
        siginfo_t info;
        int inherited = syscall(SYS_timer_gettime, id, &cur) != -1 || errno != EINVAL;
        _exit(inherited ? 1 : take(SIGUSR1, &info, 150) == -EAGAIN ? 0 : 2);
    }
    int status = -1;
    waitpid(child, &status, 0);
    check("fork-child-has-no-timers", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
    siginfo_t info;
    check("parent-timer-still-fires", take(SIGUSR1, &info, 1000) == SIGUSR1, 0);

    child = fork();
    if (child == 0) {
        tcreate(CLOCK_MONOTONIC, &ev, &id);
        s = spec_ms(5, 0);
        tset(id, 0, &s, 0);
        sleep_ms(30); /* its signal is queued (blocked) when exec comes */
        char number[16];
        snprintf(number, sizeof number, "%d", id);
        execl(self, self, "exec-check", number, (char *)0);
        _exit(9);
    }
    waitpid(child, &status, 0);
    check("exec-deletes-timers-keeps-their-signal", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
    tdel(id);
    unblock(SIGUSR1);
}

static int exec_check(int id) {
    struct itimerspec cur;
    siginfo_t info;
    if (syscall(SYS_timer_gettime, id, &cur) != -1 || errno != EINVAL) return 1;
    int got = take(SIGUSR1, &info, 100);
    if (got == -EAGAIN && !tskernel) return 0; /* Linux after 6.1 drops a deleted timer's signal */
    if (got != SIGUSR1 || info.si_code != SI_TIMER || info.si_timerid != id) return 2;
    return 0;
}

/* ---- sleeps ------------------------------------------------------------------- */

static volatile sig_atomic_t alarms;
static void on_alarm(int signal) {
    (void)signal;
    alarms++;
}

/* SIGALRM (with a handler) in `ms`. */
static void alarm_in(int ms, int flags) {
    struct sigaction action = {0};
    action.sa_handler = on_alarm;
    action.sa_flags = flags;
    sigemptyset(&action.sa_mask);
    sigaction(SIGALRM, &action, 0);
    struct itimerval t = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &t, 0);
}

static void sleep_errors(void) {
    struct timespec t = {0, 1000}, rem;
    check("nsleep-clock-16-einval", err(cnsleep(16, 0, &t, 0)) == -EINVAL, errno);
    check("nsleep-thread-cputime-eopnotsupp", err(cnsleep(CLOCK_THREAD_CPUTIME_ID, 0, &t, 0)) == -EOPNOTSUPP, errno);
    check("nsleep-monotonic-raw-eopnotsupp", err(cnsleep(CLOCK_MONOTONIC_RAW, 0, &t, 0)) == -EOPNOTSUPP, errno);
    check("nsleep-realtime-coarse-eopnotsupp", err(cnsleep(CLOCK_REALTIME_COARSE, 0, &t, 0)) == -EOPNOTSUPP, errno);
    if (no_rtc()) {
        check("nsleep-alarm-eopnotsupp-without-rtc", err(cnsleep(CLOCK_REALTIME_ALARM, 0, &t, 0)) == -EOPNOTSUPP, errno);
        check("nsleep-alarm-bad-request-efault-first", err(cnsleep(CLOCK_BOOTTIME_ALARM, 0, bad, 0)) == -EFAULT, errno);
    }
    /* Linux sleeps on this process's CPU time (which does not pass while it sleeps); refused here. */
    if (tskernel) check("nsleep-process-cputime-einval", err(cnsleep(CLOCK_PROCESS_CPUTIME_ID, 0, &t, 0)) == -EINVAL, errno);
    t = (struct timespec){0, -1};
    check("nsleep-nsec-negative-einval", err(cnsleep(CLOCK_REALTIME, 0, &t, 0)) == -EINVAL, errno);
    t = (struct timespec){0, 1000000000};
    check("nsleep-nsec-too-big-einval", err(cnsleep(CLOCK_MONOTONIC, 0, &t, 0)) == -EINVAL, errno);
    t = (struct timespec){-1, 0};
    check("nsleep-sec-negative-einval", err(cnsleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, 0)) == -EINVAL, errno);
    check("nsleep-bad-request-efault", err(cnsleep(CLOCK_MONOTONIC, 0, bad, 0)) == -EFAULT, errno);
    check("nanosleep-bad-request-efault", err(syscall(SYS_nanosleep, bad, &rem)) == -EFAULT, errno);
    t = (struct timespec){-5, 9999};
    check("nanosleep-sec-negative-einval", err(syscall(SYS_nanosleep, &t, &rem)) == -EINVAL, errno);
    t = (struct timespec){1, -100};
    check("nanosleep-nsec-negative-einval", err(syscall(SYS_nanosleep, &t, &rem)) == -EINVAL, errno);
}

static void sleep_times(void) {
    int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI};
    const char *relative[] = {"nsleep-relative-realtime", "nsleep-relative-monotonic", "nsleep-relative-boottime",
                              "nsleep-relative-tai"};
    const char *absolute[] = {"nsleep-absolute-realtime", "nsleep-absolute-monotonic", "nsleep-absolute-boottime",
                              "nsleep-absolute-tai"};
    for (int i = 0; i < 4; i++) {
        struct timespec t = {0, 20000000};
        long long start = now_ns(CLOCK_MONOTONIC);
        long r = err(cnsleep(clocks[i], 0, &t, 0));
        long long slept = now_ns(CLOCK_MONOTONIC) - start;
        check(relative[i], r == 0 && slept >= 20000000 && slept < 1000000000, r ? r : slept);
        long long deadline = now_ns(clocks[i]) + 20000000;
        t = ns_ts(deadline);
        r = err(cnsleep(clocks[i], TIMER_ABSTIME, &t, 0));
        check(absolute[i], r == 0 && now_ns(clocks[i]) >= deadline && now_ns(clocks[i]) - deadline < 1000000000,
              r ? r : now_ns(clocks[i]) - deadline);
    }
    struct timespec past = {0, 1};
    long long start = now_ns(CLOCK_MONOTONIC);
    long r = err(cnsleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, 0));
    check("nsleep-absolute-past-returns-at-once", r == 0 && now_ns(CLOCK_MONOTONIC) - start < 100000000, r);
}

static void sleep_interrupted(void) {
    struct timespec t = {2, 0}, rem = {-1, -1};
    alarm_in(50, 0);
    long long start = now_ns(CLOCK_MONOTONIC);
    long r = err(syscall(SYS_nanosleep, &t, &rem));
    long long slept = now_ns(CLOCK_MONOTONIC) - start;
    check("nanosleep-eintr-for-handler", r == -EINTR && alarms == 1, r);
    long long left = ts_ns(rem);
    check("nanosleep-writes-time-left", left > 0 && left < 2000000000LL && llabs(left - (2000000000LL - slept)) < 50000000,
          left);

    rem = (struct timespec){-1, -1};
    alarm_in(50, SA_RESTART);
    r = err(cnsleep(CLOCK_REALTIME, 0, &t, &rem));
    check("clock-nanosleep-eintr-even-with-sa-restart", r == -EINTR, r);
    left = ts_ns(rem);
    check("clock-nanosleep-writes-time-left", left > 1000000000 && left < 2000000000, left);

    alarm_in(50, 0);
    r = err(cnsleep(CLOCK_MONOTONIC, 0, &t, bad));
    check("clock-nanosleep-bad-rem-efault", r == -EFAULT, r);

    rem = (struct timespec){-1, -1};
    struct timespec until = ns_ts(now_ns(CLOCK_MONOTONIC) + 2000000000LL);
    alarm_in(50, 0);
    r = err(cnsleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, &rem));
    check("absolute-nsleep-eintr-rem-untouched", r == -EINTR && rem.tv_sec == -1 && rem.tv_nsec == -1, r);
    signal(SIGALRM, SIG_DFL);

    /* Nothing to restart: restart_syscall says EINTR. */
    check("restart-syscall-without-sleep-eintr", err(syscall(SYS_restart_syscall)) == -EINTR, errno);
}

/* A child sleeps `kind` for 300 ms and is stopped for 150 ms meanwhile: it must wake 300 ms after it began. */
static void stopped_sleep(int kind, const char *name) {
    pid_t child = fork();
    if (child == 0) {
        struct timespec t = {0, 300000000}, rem;
        long long start = now_ns(CLOCK_MONOTONIC);
        long r;
        if (kind == 0) r = syscall(SYS_nanosleep, &t, &rem);
        else if (kind == 1) r = cnsleep(CLOCK_REALTIME, 0, &t, &rem);
        else {
            struct timespec until = ns_ts(start + 300000000);
            r = cnsleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, 0);
        }
        long long slept = now_ns(CLOCK_MONOTONIC) - start;
        _exit(r != 0 ? 1 : slept < 300000000 ? 2 : slept >= 440000000 ? 3 : 0);
    }
    sleep_ms(50);
    kill(child, SIGSTOP);
    int status = -1;
    waitpid(child, &status, WUNTRACED);
    sleep_ms(150);
    kill(child, SIGCONT);
    waitpid(child, &status, 0);
    check(name, WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
}

/* ---- clock_getres and clock_settime ---------------------------------------------- */

static void getres(void) {
    int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_MONOTONIC_RAW,
                    CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    int good = 1;
    for (int i = 0; i < 7; i++) {
        struct timespec res = {-1, -1};
        good &= syscall(SYS_clock_getres, clocks[i], &res) == 0 && res.tv_sec == 0 && res.tv_nsec == 1;
    }
    check("getres-1ns", good, 0);
    struct timespec res;
    check("getres-coarse", syscall(SYS_clock_getres, CLOCK_MONOTONIC_COARSE, &res) == 0 && res.tv_nsec > 0, res.tv_nsec);
    check("getres-null", syscall(SYS_clock_getres, CLOCK_MONOTONIC, 0) == 0, errno);
    check("getres-unknown-einval", err(syscall(SYS_clock_getres, 16, &res)) == -EINVAL, errno);
    check("getres-minus-1-einval", err(syscall(SYS_clock_getres, -1, &res)) == -EINVAL, errno);
    check("getres-bad-pointer-efault", err(syscall(SYS_clock_getres, CLOCK_REALTIME, bad)) == -EFAULT, errno);
    if (no_rtc()) {
        check("getres-alarm-einval-without-rtc", err(syscall(SYS_clock_getres, CLOCK_REALTIME_ALARM, &res)) == -EINVAL, errno);
        check("gettime-alarm-einval-without-rtc", err(syscall(SYS_clock_gettime, CLOCK_BOOTTIME_ALARM, &res)) == -EINVAL,
              errno);
    }
    struct timespec tai;
    check("gettime-tai", syscall(SYS_clock_gettime, CLOCK_TAI, &tai) == 0 && tai.tv_sec > 1000000000, tai.tv_sec);
}

static long settime(long clock, const struct timespec *t) { return err(syscall(SYS_clock_settime, clock, t)); }

/* What the real-time clock should read now: where it was set, plus the monotonic time since. */
static long long base_real, base_mono;
static void restore_realtime(void) {
    struct timespec t = ns_ts(base_real + now_ns(CLOCK_MONOTONIC) - base_mono);
    syscall(SYS_clock_settime, CLOCK_REALTIME, &t);
}

static void settime_checks(void) {
    base_mono = now_ns(CLOCK_MONOTONIC);
    base_real = now_ns(CLOCK_REALTIME);
    struct timespec t = ns_ts(base_real);
    check("settime-monotonic-einval", settime(CLOCK_MONOTONIC, &t) == -EINVAL, errno);
    check("settime-boottime-einval", settime(CLOCK_BOOTTIME, &t) == -EINVAL, errno);
    check("settime-tai-einval", settime(CLOCK_TAI, &t) == -EINVAL, errno);
    check("settime-process-cputime-einval", settime(CLOCK_PROCESS_CPUTIME_ID, &t) == -EINVAL, errno);
    check("settime-16-einval", settime(16, &t) == -EINVAL, errno);
    check("settime-unknown-clock-before-pointer", settime(16, bad) == -EINVAL, errno);
    check("settime-bad-pointer-efault", settime(CLOCK_REALTIME, bad) == -EFAULT, errno);
    t = (struct timespec){-1, 0};
    check("settime-sec-negative-einval", settime(CLOCK_REALTIME, &t) == -EINVAL, errno);
    t = (struct timespec){base_real / 1000000000, -1};
    check("settime-nsec-negative-einval", settime(CLOCK_REALTIME, &t) == -EINVAL, errno);
    t = (struct timespec){base_real / 1000000000, 1000000001};
    check("settime-nsec-too-big-einval", settime(CLOCK_REALTIME, &t) == -EINVAL, errno);
    /* Before boot (the real-time clock would go below the monotonic one), and past Linux's limit. */
    t = (struct timespec){0, 0};
    long r = settime(CLOCK_REALTIME, &t);
    if (r == 0) restore_realtime();
    check("settime-before-boot-einval", r == -EINVAL, r);
    t = (struct timespec){9223372036LL - 30LL * 365 * 24 * 3600 + 1, 0};
    r = settime(CLOCK_REALTIME, &t);
    if (r == 0) restore_realtime();
    check("settime-past-limit-einval", r == -EINVAL, r);
    /* Setting the time it is (all a shared Linux host lets us do). */
    long long want = base_real + now_ns(CLOCK_MONOTONIC) - base_mono;
    t = ns_ts(want);
    r = settime(CLOCK_REALTIME, &t);
    check("settime-realtime", r == 0 && llabs(now_ns(CLOCK_REALTIME) - want) < 100000000, r);
    if (!tskernel) return;

    /* Here the clock may move: forward 1000 s, seen by the system call, the vDSO and gettimeofday. */
    want = now_ns(CLOCK_REALTIME) + 1000000000000LL;
    t = ns_ts(want);
    settime(CLOCK_REALTIME, &t);
    struct timespec v;
    clock_gettime(CLOCK_REALTIME, &v);
    struct timeval tv;
    gettimeofday(&tv, 0);
    check("settime-forward-syscall", llabs(now_ns(CLOCK_REALTIME) - want) < 100000000, now_ns(CLOCK_REALTIME) - want);
    check("settime-forward-vdso", llabs(ts_ns(v) - want) < 100000000, ts_ns(v) - want);
    check("settime-forward-gettimeofday", llabs(tv.tv_sec * 1000000000LL - want) < 1100000000, tv.tv_sec);
    check("settime-tai-follows", llabs(now_ns(CLOCK_TAI) - now_ns(CLOCK_REALTIME)) < 100000000, 0);
    check("settime-leaves-monotonic", now_ns(CLOCK_MONOTONIC) - base_mono < 100000000000LL, 0);

    /* An absolute real-time sleep wakes when the clock is set past its end; a relative one does not move. */
    pid_t child = fork();
    if (child == 0) {
        struct timespec until = ns_ts(now_ns(CLOCK_REALTIME) + 100000000000LL);
        long long start = now_ns(CLOCK_MONOTONIC);
        long s = cnsleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, 0);
        _exit(s == 0 && now_ns(CLOCK_MONOTONIC) - start < 5000000000LL ? 0 : 1);
    }
    pid_t relative = fork();
    if (relative == 0) {
        struct timespec t300 = {0, 300000000};
        long long start = now_ns(CLOCK_MONOTONIC);
        long s = cnsleep(CLOCK_REALTIME, 0, &t300, 0);
        long long slept = now_ns(CLOCK_MONOTONIC) - start;
        _exit(s == 0 && slept >= 300000000 && slept < 1000000000 ? 0 : 1);
    }
    block(SIGUSR1);
    int id;
    struct sigevent ev = event(SIGEV_SIGNAL, SIGUSR1, 0);
    tcreate(CLOCK_REALTIME, &ev, &id);
    struct itimerspec s = {{0, 0}, ns_ts(now_ns(CLOCK_REALTIME) + 100000000000LL)};
    tset(id, TIMER_ABSTIME, &s, 0);
    sleep_ms(50);
    t = ns_ts(now_ns(CLOCK_REALTIME) + 200000000000LL);
    settime(CLOCK_REALTIME, &t);
    int status = -1;
    waitpid(child, &status, 0);
    check("absolute-realtime-sleep-follows-settime", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
    waitpid(relative, &status, 0);
    check("relative-realtime-sleep-ignores-settime", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
    siginfo_t info;
    check("absolute-realtime-timer-follows-settime", take(SIGUSR1, &info, 1000) == SIGUSR1, 0);
    tdel(id);
    unblock(SIGUSR1);
    restore_realtime();
    check("settime-restored", llabs(now_ns(CLOCK_REALTIME) - (base_real + now_ns(CLOCK_MONOTONIC) - base_mono)) < 100000000,
          0);
}

/* ---- leaks (TSKernel: /proc/memcheck's kernel-object count) ------------------------ */

/* Read with read(2) into the stack: stdio's buffer would grow the heap, a kernel object of its own. */
static long kernel_objects(void) {
    char text[512];
    int fd = open("/proc/memcheck", O_RDONLY);
    if (fd < 0) return -1;
    long n = read(fd, text, sizeof text - 1);
    close(fd);
    text[n > 0 ? n : 0] = 0;
    char *at = strstr(text, "kernel_objects");
    return at ? strtol(at + strlen("kernel_objects") + 1, 0, 10) : -1;
}

static void no_leaks(void) {
    long before = kernel_objects();
    pid_t child = fork();
    if (child == 0) {
        block(SIGUSR1);
        struct sigevent ev = event(SIGEV_SIGNAL, SIGUSR1, 0);
        int id, last = -1;
        for (int i = 0; i < 1000 && tcreate(CLOCK_MONOTONIC, &ev, &id) == 0; i++) {
            struct itimerspec s = spec_ms(1, i % 3 == 0 ? 1 : 0);
            if (i % 2 == 0) tset(id, 0, &s, 0);
            last = id;
        }
        sleep_ms(20);
        for (int i = 0; i < last; i += 4) tdel(i); /* some with their signal queued */
        _exit(0);
    }
    int status = -1;
    waitpid(child, &status, 0);
    long after = kernel_objects();
    check("exit-frees-timers-and-their-signals", WIFEXITED(status) && before > 0 && after == before, after - before);
}

int main(int argc, char **argv) {
    struct utsname name;
    uname(&name);
    tskernel = strcmp(name.sysname, "TSKernel") == 0;
    if (argc == 3 && strcmp(argv[1], "exec-check") == 0) return exec_check(atoi(argv[2]));
    bad = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sleep_interrupted();
    create_errors();
    ids_and_cap();
    settime_errors();
    one_shot();
    periodic_and_overruns();
    handler_delivery();
    fork_and_exec(argv[0]);
    sleep_errors();
    sleep_times();
    stopped_sleep(0, "nanosleep-stopped-and-continued-keeps-deadline");
    stopped_sleep(1, "clock-nanosleep-stopped-and-continued-keeps-deadline");
    stopped_sleep(2, "absolute-nsleep-stopped-and-continued");
    getres();
    settime_checks();
    if (tskernel) no_leaks();
    printf("timers: %d failed\n", failures);
    return failures != 0;
}
