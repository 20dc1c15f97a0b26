/* The benchmark: runs unchanged as init on TSKernel and on Linux, and prints
 * one line per metric:
 *   BENCH <name> <unit> ns=<median ns per unit> ticks=<median TSC ticks per unit>
 *         faults=<minor faults per unit> reps=<repetitions>
 * Each metric is measured `reps` times inside the run; the median is kept.
 * At the end it powers the machine off (Linux) or exits (TSKernel, which
 * then ends QEMU itself). Built by `make bench`, not by the test build. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"

static char *map_anon(size_t size) {
    char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    return p;
}

static void touch_write(char *p, size_t size) { for (size_t i = 0; i < size; i += PAGE) p[i] = 1; }
static volatile char sink;
static void touch_read(char *p, size_t size) { for (size_t i = 0; i < size; i += PAGE) sink = p[i]; }

static struct span demand_zero_write(void) {
    char *p = map_anon(64 * MIB);
    struct span s = begin();
    touch_write(p, 64 * MIB);
    s = end(s);
    munmap(p, 64 * MIB);
    return s;
}

static struct span zero_page_read(void) {
    char *p = map_anon(64 * MIB);
    struct span s = begin();
    touch_read(p, 64 * MIB);
    s = end(s);
    munmap(p, 64 * MIB);
    return s;
}

static struct span write_after_read(void) {
    char *p = map_anon(64 * MIB);
    touch_read(p, 64 * MIB);
    struct span s = begin();
    touch_write(p, 64 * MIB);
    s = end(s);
    munmap(p, 64 * MIB);
    return s;
}

static struct span munmap_populated(void) {
    char *p = map_anon(64 * MIB);
    touch_write(p, 64 * MIB);
    struct span s = begin();
    munmap(p, 64 * MIB);
    return end(s);
}

/* The child times its own copy-on-write faults and sends the span back. */
static struct span cow_in_child(void) {
    char *p = map_anon(64 * MIB);
    touch_write(p, 64 * MIB);
    int fds[2];
    pipe(fds);
    if (fork() == 0) {
        struct span s = begin();
        touch_write(p, 64 * MIB);
        s = end(s);
        write(fds[1], &s, sizeof s);
        _exit(0);
    }
    struct span s;
    read(fds[0], &s, sizeof s);
    wait(0);
    close(fds[0]);
    close(fds[1]);
    munmap(p, 64 * MIB);
    return s;
}

static size_t resident;
static struct span fork_only(void) {
    char *p = resident ? map_anon(resident) : 0;
    if (p) touch_write(p, resident);
    struct span s = begin();
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    s = end(s);
    waitpid(pid, 0, 0);
    if (p) munmap(p, resident);
    return s;
}

static struct span fork_exit_wait(void) {
    char *p = resident ? map_anon(resident) : 0;
    if (p) touch_write(p, resident);
    struct span s = begin();
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, 0, 0);
    s = end(s);
    if (p) munmap(p, resident);
    return s;
}

static struct span fork_loop(void) {
    struct span s = begin();
    for (int i = 0; i < 1000; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        waitpid(pid, 0, 0);
    }
    return end(s);
}

static const char *data_file = "/data/file32m";
static size_t file_size;
static struct span file_read_faults(void) {
    int fd = open(data_file, O_RDONLY);
    char *p = mmap(0, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap file"); exit(1); }
    struct span s = begin();
    touch_read(p, file_size);
    s = end(s);
    munmap(p, file_size);
    close(fd);
    return s;
}

static struct span file_private_write(void) {
    int fd = open(data_file, O_RDONLY);
    char *p = mmap(0, file_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap file"); exit(1); }
    struct span s = begin();
    touch_write(p, file_size);
    s = end(s);
    munmap(p, file_size);
    close(fd);
    return s;
}

static const char *exec_path;
static struct span fork_exec_wait(void) {
    struct span s = begin();
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = { (char *)exec_path, 0 };
        execve(exec_path, argv, (char *[]){ 0 });
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    s = end(s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { printf("exec of %s failed\n", exec_path); exit(1); }
    return s;
}

/* 4 KiB through a pipe and back out, in one process: the copy in, the copy
 * out, and (on ours) taking and giving back the ring's page each time. */
static struct span pipe_round_trip(void) {
    static char block[PAGE];
    int fds[2];
    pipe(fds);
    struct span s = begin();
    for (int i = 0; i < 1000; i++) {
        write(fds[1], block, sizeof block);
        read(fds[0], block, sizeof block);
    }
    s = end(s);
    close(fds[0]);
    close(fds[1]);
    return s;
}

/* A signal to oneself, its handler, and the return through rt_sigreturn. */
static volatile int handled;
static void on_usr1(int signal) {
    (void)signal;
    handled++;
}

static struct span signal_round_trip(void) {
    struct sigaction action = {0};
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, 0);
    pid_t self = getpid();
    struct span s = begin();
    for (int i = 0; i < 1000; i++) kill(self, SIGUSR1);
    s = end(s);
    signal(SIGUSR1, SIG_DFL);
    return s;
}

/* A POSIX timer armed 1 ns ahead, its signal (blocked) taken with sigwaitinfo: the timer hot path, firing to queue to taking. */
static struct span timer_round_trip(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, 0);
    struct sigevent event = {0};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGUSR2;
    int timer;
    syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &timer);
    struct itimerspec soon = {{0, 0}, {0, 1}};
    siginfo_t info;
    struct span s = begin();
    for (int i = 0; i < 1000; i++) {
        syscall(SYS_timer_settime, timer, 0, &soon, 0);
        sigwaitinfo(&set, &info);
    }
    s = end(s);
    syscall(SYS_timer_delete, timer);
    sigprocmask(SIG_UNBLOCK, &set, 0);
    return s;
}

/* A blocked signal sent to oneself and read back as a record through a signalfd. */
static struct span signalfd_round_trip(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, 0);
    int fd = signalfd(-1, &set, 0);
    pid_t self = getpid();
    struct signalfd_siginfo record;
    struct span s = begin();
    for (int i = 0; i < 1000; i++) {
        kill(self, SIGUSR2);
        read(fd, &record, sizeof record);
    }
    s = end(s);
    close(fd);
    sigprocmask(SIG_UNBLOCK, &set, 0);
    return s;
}

/* A thread made and joined: clone, its first run, its exit and the joiner's futex wake. */
static void *return_at_once(void *arg) { return arg; }

static struct span thread_create_join(void) {
    struct span s = begin();
    for (int i = 0; i < 200; i++) {
        pthread_t thread;
        pthread_create(&thread, 0, return_at_once, 0);
        pthread_join(thread, 0);
    }
    return end(s);
}

/* Two threads passing a turn back and forth through a private futex
 * word (0: the first's, 1: the second's): a wake and a wait each way, and
 * two switches, per round trip. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
static volatile int turn;

static void *pass_back(void *arg) {
    for (int i = 0; i < 1000; i++) {
        while (turn != 1) syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
        turn = 0;
        syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    }
    return arg;
}

static struct span futex_ping_pong(void) {
    pthread_t partner;
    turn = 0;
    pthread_create(&partner, 0, pass_back, 0);
    struct span s = begin();
    for (int i = 0; i < 1000; i++) {
        turn = 1;
        syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
        while (turn != 0) syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, 1, 0, 0, 0);
    }
    s = end(s);
    pthread_join(partner, 0);
    return s;
}

/* The process's CPU clock: a system call on both kernels (the vDSO reads only the wall clocks). */
static struct span cpu_clock_read(void) {
    struct timespec t;
    struct span s = begin();
    for (int i = 0; i < 10000; i++) clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return end(s);
}

/* 4 KiB writes into a new file (the page cache makes its pages), then reads of them back. */
static const char *scratch_file = "/bench-file"; /* the root is writable on both kernels */
static struct span file_write(void) {
    static char block[PAGE];
    int fd = open(scratch_file, O_RDWR | O_CREAT | O_TRUNC, 0644);
    struct span s = begin();
    for (int i = 0; i < 1024; i++) write(fd, block, sizeof block);
    s = end(s);
    close(fd);
    return s;
}

static struct span file_read(void) {
    static char block[PAGE];
    int fd = open(scratch_file, O_RDONLY);
    struct span s = begin();
    for (int i = 0; i < 1024; i++) read(fd, block, sizeof block);
    s = end(s);
    close(fd);
    return s;
}

static struct span syscall_floor(void) {
    struct span s = begin();
    for (int i = 0; i < 10000; i++) syscall(SYS_getppid);
    return end(s);
}

/* sched_yield, and again with an rseq area registered: what the critical-section fixup on each switch back costs. */
static struct span yield_loop(void) {
    struct span s = begin();
    for (int i = 0; i < 10000; i++) sched_yield();
    return end(s);
}

static struct { uint32_t cpu_id_start, cpu_id; uint64_t rseq_cs; uint32_t flags, node_id, mm_cid; } __attribute__((aligned(32))) rseq_area;

static struct span yield_loop_rseq(void) {
    syscall(334, &rseq_area, 32, 0, 0x53053053); /* rseq */
    struct span s = yield_loop();
    syscall(334, &rseq_area, 32, 1, 0x53053053); /* RSEQ_FLAG_UNREGISTER */
    return s;
}

static struct span clock_floor(void) {
    struct timespec t;
    struct span s = begin();
    for (int i = 0; i < 10000; i++) clock_gettime(CLOCK_MONOTONIC, &t);
    return end(s);
}

static struct span rdtsc_floor(void) {
    struct span s = begin();
    for (int i = 0; i < 10000; i++) sink = (char)rdtsc();
    return end(s);
}

int main(void) {
    struct timespec boot;
    clock_gettime(CLOCK_BOOTTIME, &boot);
    printf("BENCH boot-to-user boot ns=%.1f ticks=0 faults=0 reps=1\n", boot.tv_sec * 1e9 + boot.tv_nsec);
    const uint64_t pages64 = 64 * MIB / PAGE;
    MEASURE("demand-zero-write", "page", pages64, demand_zero_write());
    MEASURE("zero-page-read", "page", pages64, zero_page_read());
    MEASURE("write-after-read", "page", pages64, write_after_read());
    MEASURE("munmap-populated", "page", pages64, munmap_populated());
    MEASURE("cow-write-child", "page", pages64, cow_in_child());
    const size_t sizes[] = { 0, 64 * MIB, 256 * MIB };
    const char *fork_names[] = { "fork-0M", "fork-64M", "fork-256M" };
    const char *few_names[] = { "fork-exit-wait-0M", "fork-exit-wait-64M", "fork-exit-wait-256M" };
    for (int i = 0; i < 3; i++) {
        resident = sizes[i];
        MEASURE(fork_names[i], "fork", 1, fork_only());
        MEASURE(few_names[i], "fork", 1, fork_exit_wait());
    }
    MEASURE("fork-exit-wait-loop", "fork", 1000, fork_loop());
    int fd = open(data_file, O_RDONLY);
    file_size = (size_t)lseek(fd, 0, SEEK_END);
    close(fd);
    MEASURE("file-read-fault", "page", file_size / PAGE, file_read_faults());
    MEASURE("file-private-write", "page", file_size / PAGE, file_private_write());
    exec_path = "/bin/bench-small";
    MEASURE("exec-small", "exec", 1, fork_exec_wait());
    exec_path = "/bin/bench-big";
    MEASURE("exec-32M", "exec", 1, fork_exec_wait());
    MEASURE("pipe-4k-write-read", "4KiB", 1000, pipe_round_trip());
    MEASURE("signal-handler-round-trip", "signal", 1000, signal_round_trip());
    MEASURE("timer-signal-round-trip", "signal", 1000, timer_round_trip());
    MEASURE("signalfd-round-trip", "signal", 1000, signalfd_round_trip());
    MEASURE("thread-create-join", "thread", 200, thread_create_join());
    MEASURE("futex-ping-pong", "roundtrip", 1000, futex_ping_pong());
    MEASURE("file-write-4k", "4KiB", 1024, file_write());
    MEASURE("file-read-4k", "4KiB", 1024, file_read());
    unlink(scratch_file);
    MEASURE("syscall-getppid", "call", 10000, syscall_floor());
    MEASURE("sched-yield", "call", 10000, yield_loop());
    MEASURE("sched-yield-rseq", "call", 10000, yield_loop_rseq());
    MEASURE("clock-gettime", "call", 10000, clock_floor());
    MEASURE("cpu-clock-gettime", "call", 10000, cpu_clock_read());
    MEASURE("rdtsc", "call", 10000, rdtsc_floor());
    printf("BENCH done\n");
    fflush(stdout);
    if (getpid() == 1) reboot(RB_POWER_OFF); /* Linux: power off; TSKernel: ENOSYS, then exit */
    return 0;
}
