/* Job control and process creation as Linux does them: stop signals stop
 * a process until SIGCONT (which it hears of even when it ignores it) or
 * SIGKILL; a parent hears of stops and continues through wait4 (WUNTRACED,
 * WCONTINUED), waitid (WSTOPPED, WCONTINUED, WNOWAIT) and SIGCHLD with
 * CLD_* codes, unless SA_NOCLDSTOP; SIGCONT throws away pending stop
 * signals; a blocking read stopped and continued is restarted; a parent
 * ignoring SIGCHLD or with SA_NOCLDWAIT leaves no zombies. And clone with
 * the flags libcs use for fork, vfork and posix_spawn: CLONE_CHILD_SETTID,
 * CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_SETTLS, CLONE_VM with
 * CLONE_VFORK, clone3, exit signals and __WALL/__WCLONE, and the errnos
 * for thread flags. prctl's parent-death signal, and SIGHUP and SIGCONT for
 * a stopped process whose group an exit leaves orphaned.
 *
 * The same binary must pass on Linux. Prints "ok NAME" / "FAIL NAME: ..."
 * and "jobs: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __WALL
#define __WALL 0x40000000
#endif
#ifndef __WCLONE
#define __WCLONE 0x80000000
#endif

static int failures;

static void check(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld\n", name, got);
        failures++;
    }
    fflush(stdout);
}

static void pause_ms(int ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, 0);
}

static volatile sig_atomic_t chld_count, chld_code, chld_status, chld_pid;

static void on_chld(int signal, siginfo_t *info, void *context) {
    (void)signal;
    (void)context;
    chld_count++;
    chld_code = info->si_code;
    chld_status = info->si_status;
    chld_pid = info->si_pid;
}

static void install_chld(int flags) {
    struct sigaction action = {0};
    action.sa_sigaction = on_chld;
    action.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&action.sa_mask);
    sigaction(SIGCHLD, &action, 0);
}

static void default_chld(void) {
    struct sigaction action = {0};
    action.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &action, 0);
}

/* Waits for the SIGCHLD count to reach `count` (a handler runs on the next return to user mode). */
static void await_chld(int count) {
    for (int i = 0; i < 200 && chld_count < count; i++) pause_ms(5);
}

static void stop_and_continue(void) {
    install_chld(0);
    chld_count = 0;
    int go[2];
    pipe(go);
    pid_t child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        char c;
        read(go[0], &c, 1);
        _exit(7);
    }
    int status = 0;
    pid_t got = waitpid(child, &status, WUNTRACED);
    check("wuntraced-reports-stop", got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP, status);
    await_chld(1);
    check("sigchld-cld-stopped", chld_count == 1 && chld_code == CLD_STOPPED && chld_status == SIGSTOP && chld_pid == child,
          chld_code);
    check("stop-reported-once", waitpid(child, &status, WUNTRACED | WNOHANG) == 0, status);
    check("kill-cont", kill(child, SIGCONT) == 0, errno);
    got = waitpid(child, &status, WCONTINUED);
    check("wcontinued-reports-continue", got == child && WIFCONTINUED(status), status);
    await_chld(2);
    check("sigchld-cld-continued", chld_count == 2 && chld_code == CLD_CONTINUED && chld_status == SIGCONT, chld_code);
    write(go[1], "x", 1);
    got = waitpid(child, &status, 0);
    check("exit-after-continue", got == child && WIFEXITED(status) && WEXITSTATUS(status) == 7, status);
    await_chld(3);
    check("sigchld-cld-exited", chld_count == 3 && chld_code == CLD_EXITED && chld_status == 7, chld_code);
    close(go[0]);
    close(go[1]);
    default_chld();
}

static void nocldstop(void) {
    install_chld(SA_NOCLDSTOP);
    chld_count = 0;
    pid_t child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        _exit(3);
    }
    int status = 0;
    pid_t got = waitpid(child, &status, WUNTRACED);
    check("sigstop-stops", got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP, status);
    pause_ms(20);
    check("sa-nocldstop-no-sigchld-for-stop", chld_count == 0, chld_count);
    kill(child, SIGCONT);
    got = waitpid(child, &status, 0);
    await_chld(1);
    check("sa-nocldstop-sigchld-for-exit", got == child && WEXITSTATUS(status) == 3 && chld_count == 1 &&
          chld_code == CLD_EXITED, chld_count);
    default_chld();
}

static void waitid_events(void) {
    pid_t child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        _exit(9);
    }
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int r = waitid(P_PID, child, &info, WSTOPPED | WNOWAIT);
    check("waitid-wstopped-wnowait", r == 0 && info.si_pid == child && info.si_code == CLD_STOPPED &&
          info.si_status == SIGSTOP && info.si_signo == SIGCHLD, info.si_code);
    memset(&info, 0, sizeof info);
    r = waitid(P_PID, child, &info, WSTOPPED);
    check("waitid-stop-kept-by-wnowait", r == 0 && info.si_code == CLD_STOPPED, info.si_code);
    memset(&info, 0, sizeof info);
    r = waitid(P_PID, child, &info, WSTOPPED | WNOHANG);
    check("waitid-stop-then-gone", r == 0 && info.si_pid == 0, info.si_pid);
    kill(child, SIGCONT);
    memset(&info, 0, sizeof info);
    r = waitid(P_PID, child, &info, WCONTINUED);
    check("waitid-wcontinued", r == 0 && info.si_code == CLD_CONTINUED && info.si_status == SIGCONT, info.si_code);
    memset(&info, 0, sizeof info);
    r = waitid(P_PID, child, &info, WEXITED);
    check("waitid-wexited", r == 0 && info.si_code == CLD_EXITED && info.si_status == 9, info.si_status);
    check("waitid-needs-an-event", waitid(P_ALL, 0, &info, WNOHANG) == -1 && errno == EINVAL, errno);
}

static void kill_stopped(void) {
    pid_t child = fork();
    if (child == 0) {
        for (;;) pause();
    }
    int status = 0;
    kill(child, SIGSTOP);
    pid_t got = waitpid(child, &status, WUNTRACED);
    check("sigstop-from-parent", got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP, status);
    kill(child, SIGTERM); /* pends: a stopped process acts on nothing but SIGKILL and SIGCONT */
    pause_ms(20);
    check("stopped-ignores-sigterm-until-continued", waitpid(child, &status, WNOHANG) == 0, status);
    kill(child, SIGKILL);
    got = waitpid(child, &status, 0);
    check("sigkill-ends-stopped", got == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, status);
}

static void cont_cancels_stop(void) {
    int ready[2];
    pipe(ready);
    pid_t child = fork();
    if (child == 0) {
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGTSTP);
        sigprocmask(SIG_BLOCK, &block, 0);
        write(ready[1], "r", 1);
        pause_ms(100); /* the parent sends SIGTSTP, then SIGCONT */
        sigprocmask(SIG_UNBLOCK, &block, 0);
        _exit(5);
    }
    char c;
    read(ready[0], &c, 1);
    kill(child, SIGTSTP);
    kill(child, SIGCONT);
    int status = 0;
    pid_t got = waitpid(child, &status, WUNTRACED);
    check("sigcont-discards-pending-stop", got == child && WIFEXITED(status) && WEXITSTATUS(status) == 5, status);
    close(ready[0]);
    close(ready[1]);
}

static void read_restarts_after_stop(void) {
    int data[2];
    pipe(data);
    pid_t child = fork();
    if (child == 0) {
        char c = 0;
        ssize_t n = read(data[0], &c, 1); /* stopped and continued while blocked here */
        _exit(n == 1 && c == 'x' ? 0 : n < 0 ? 100 + errno % 100 : 99);
    }
    pause_ms(30);
    kill(child, SIGSTOP);
    int status = 0;
    waitpid(child, &status, WUNTRACED);
    kill(child, SIGCONT);
    pause_ms(30);
    write(data[1], "x", 1);
    pid_t got = waitpid(child, &status, 0);
    check("read-restarted-after-stop", got == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
    close(data[0]);
    close(data[1]);
}

static void no_zombies(int ignore) {
    struct sigaction action = {0};
    action.sa_handler = ignore ? SIG_IGN : SIG_DFL;
    action.sa_flags = ignore ? 0 : SA_NOCLDWAIT;
    sigaction(SIGCHLD, &action, 0);
    pid_t child = fork();
    if (child == 0) _exit(1);
    int status;
    pid_t got = waitpid(-1, &status, 0); /* waits for the child's end, then finds none */
    check(ignore ? "sigchld-ignored-no-zombie" : "sa-nocldwait-no-zombie", got == -1 && errno == ECHILD, got);
    default_chld();
}

static long raw_clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid, unsigned long tls) {
    return syscall(SYS_clone, flags, stack, parent_tid, child_tid, tls);
}

static void clone_flags(void) {
    static int child_tid, parent_tid;
    child_tid = parent_tid = 0;
    long pid = raw_clone(CLONE_CHILD_SETTID | CLONE_PARENT_SETTID | SIGCHLD, 0, &parent_tid, &child_tid, 0);
    if (pid == 0) _exit(child_tid == getpid() ? 0 : 1);
    int status = 0;
    waitpid(pid, &status, 0);
    check("clone-child-settid-in-child", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
    check("clone-parent-settid-in-parent", parent_tid == pid && child_tid == 0, parent_tid);

    /* Combinations Linux itself refuses: handlers shared without memory, a thread without handlers. */
    check("clone-sighand-without-vm-einval", raw_clone(CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0) == -1 && errno == EINVAL, errno);
    check("clone-thread-without-sighand-einval", raw_clone(CLONE_THREAD | SIGCHLD, 0, 0, 0, 0) == -1 && errno == EINVAL, errno);
    /* As Linux: a thread id that cannot be stored is not an error. */
    pid = raw_clone(CLONE_CHILD_SETTID | SIGCHLD, 0, 0, (int *)8, 0);
    if (pid == 0) _exit(0);
    check("clone-child-settid-bad-address-ignored", pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status), pid);

    /* No exit signal: a "clone" child, seen only by __WALL or __WCLONE. */
    pid = raw_clone(0, 0, 0, 0, 0);
    if (pid == 0) _exit(4);
    pause_ms(20);
    check("clone-child-hidden-from-plain-wait", waitpid(pid, &status, WNOHANG) == -1 && errno == ECHILD, errno);
    check("clone-child-found-by-wclone", waitpid(pid, &status, __WCLONE) == pid && WEXITSTATUS(status) == 4, status);
}

static char vm_stack[65536] __attribute__((aligned(16)));
static volatile int shared_word;
static int clear_tid;

/* Runs on vm_stack in the parent's own memory while the parent waits (CLONE_VM | CLONE_VFORK). */
static void vm_child(void) {
    shared_word = 42;
    syscall(SYS_exit, 0);
}

static void clone_vm_vfork(void) {
    shared_word = 0;
    clear_tid = -1;
    unsigned long *top = (unsigned long *)(vm_stack + sizeof vm_stack);
    *--top = 0; /* vm_child's own return address, never used: it keeps the ABI's stack alignment */
    *--top = (unsigned long)vm_child; /* the child "returns" into vm_child from the syscall's ret */
    long pid;
    register long r10 __asm__("r10") = (long)&clear_tid;
    register long r8 __asm__("r8") = 0;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "ret\n"
        "1:"
        : "=a"(pid)
        : "0"(SYS_clone), "D"(CLONE_VM | CLONE_VFORK | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD), "S"(top),
          "d"(0), "r"(r10), "r"(r8)
        : "rcx", "r11", "memory");
    check("clone-vm-vfork-child-wrote-parent-memory", pid > 0 && shared_word == 42, shared_word);
    check("clone-child-cleartid-in-shared-memory", clear_tid == 0, clear_tid);
    int status = 0;
    check("clone-vm-vfork-child-waited", waitpid(pid, &status, 0) == pid && WIFEXITED(status), status);
}

struct clone_args_v0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static void clone3_calls(void) {
    static int parent_tid;
    struct clone_args_v0 args = {0};
    args.flags = CLONE_PARENT_SETTID;
    args.parent_tid = (uintptr_t)&parent_tid;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(6);
    int status = 0;
    check("clone3-fork", pid > 0 && waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 6 && parent_tid == pid, status);
    check("clone3-small-size-einval", syscall(SYS_clone3, &args, 32) == -1 && errno == EINVAL, errno);
    char big[sizeof args + 32]; /* past the 88 bytes Linux knows */
    memset(big, 0, sizeof big);
    memcpy(big, &args, sizeof args);
    big[sizeof args + 26] = 1;
    check("clone3-nonzero-tail-e2big", syscall(SYS_clone3, big, sizeof big) == -1 && errno == E2BIG, errno);
    args.flags = 0;
    args.exit_signal = 0;
    args.stack = (uintptr_t)vm_stack;
    check("clone3-stack-without-size-einval", syscall(SYS_clone3, &args, sizeof args) == -1 && errno == EINVAL, errno);
    args.stack = 0;
    args.exit_signal = 65;
    check("clone3-bad-exit-signal-einval", syscall(SYS_clone3, &args, sizeof args) == -1 && errno == EINVAL, errno);
    args.exit_signal = 0;
    args.flags = CSIGNAL & SIGCHLD;
    check("clone3-csignal-in-flags-einval", syscall(SYS_clone3, &args, sizeof args) == -1 && errno == EINVAL, errno);
}

static void vfork_shares_memory(void) {
    shared_word = 0;
    pid_t child = vfork();
    if (child == 0) {
        shared_word = 7;
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    check("vfork-child-writes-parent-memory", shared_word == 7, shared_word);
}

/* A group whose members' parents are all init or inside it is orphaned: SIGTSTP does not stop it, SIGSTOP does. */
static void orphaned_group_stops(void) {
    int report[2], ready[2];
    pipe(report);
    pipe(ready);
    pid_t middle = fork();
    if (middle == 0) {
        if (fork() == 0) {
            setpgid(0, 0);
            char c;
            read(ready[0], &c, 1); /* the middle child has gone: this group is orphaned now */
            raise(SIGTSTP);
            write(report[1], "t", 1);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(middle, 0, 0);
    write(ready[1], "g", 1);
    char c = 0;
    struct pollfd p = {report[0], POLLIN, 0};
    check("orphaned-group-not-stopped-by-sigtstp", poll(&p, 1, 2000) == 1 && read(report[0], &c, 1) == 1 && c == 't', c);
    close(report[0]);
    close(report[1]);
    close(ready[0]);
    close(ready[1]);
}

/* Waits up to two seconds for end of file on `fd`: the writer's death. */
static int ends_soon(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    char c;
    for (int i = 0; i < 40; i++) {
        if (poll(&p, 1, 50) == 1 && read(fd, &c, 1) == 0) return 1;
    }
    return 0;
}

/* A middle child starts a grandchild set up by `prepare`, waits for `ready`, and exits: the grandchild must then die. */
static void grandchild_dies_with_parent(const char *name, int stop_itself) {
    int life[2], ready[2];
    pipe(life);
    pipe(ready);
    pid_t middle = fork();
    if (middle == 0) {
        pid_t grandchild = fork();
        if (grandchild == 0) {
            close(life[0]);
            close(ready[0]);
            if (stop_itself) {
                setpgid(0, 0); /* a group of its own in the same session: orphaned when the middle child goes */
                write(ready[1], "r", 1);
                raise(SIGSTOP);
            } else {
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                write(ready[1], "r", 1);
            }
            for (;;) pause();
        }
        char c;
        read(ready[0], &c, 1);
        if (stop_itself) waitpid(grandchild, 0, WUNTRACED);
        _exit(0);
    }
    close(life[1]);
    close(ready[1]);
    waitpid(middle, 0, 0);
    check(name, ends_soon(life[0]), 0);
    close(life[0]);
    close(ready[0]);
}

static void parent_death(void) {
    int signal = -1;
    check("pdeathsig-get-default", prctl(PR_GET_PDEATHSIG, &signal) == 0 && signal == 0, signal);
    check("pdeathsig-bad-signal-einval", prctl(PR_SET_PDEATHSIG, 65) == -1 && errno == EINVAL, errno);
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    prctl(PR_GET_PDEATHSIG, &signal);
    check("pdeathsig-set-get", signal == SIGUSR1, signal);
    prctl(PR_SET_PDEATHSIG, 0);
    grandchild_dies_with_parent("pdeathsig-sent-when-parent-exits", 0);
    grandchild_dies_with_parent("orphaned-stopped-group-gets-sighup", 1);
}

/* The job a shell runs in the background reads the terminal: SIGTTIN stops it (where stdin is the
 * controlling terminal). The shell is a child of ours, so the job's group is not orphaned even when we
 * are init (a group whose members' parents are all init or inside it is, and then read gives EIO). */
static int run_background_reader(void) {
    pid_t job = fork();
    if (job == 0) {
        setpgid(0, 0);
        char c;
        _exit(read(0, &c, 1) == -1 && errno == EIO ? 3 : 0);
    }
    setpgid(job, job);
    int status = 0;
    pid_t got = waitpid(job, &status, WUNTRACED);
    int stopped = got == job && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTTIN;
    kill(job, SIGKILL);
    waitpid(job, 0, 0);
    return stopped ? 0 : 1;
}

static void background_read(void) {
    if (tcgetpgrp(0) != getpgrp()) return;
    pid_t shell = fork();
    if (shell == 0) _exit(run_background_reader());
    int status = 0;
    waitpid(shell, &status, 0);
    check("background-read-sigttin", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
}

int main(void) {
    stop_and_continue();
    nocldstop();
    waitid_events();
    kill_stopped();
    cont_cancels_stop();
    read_restarts_after_stop();
    no_zombies(1);
    no_zombies(0);
    clone_flags();
    clone_vm_vfork();
    clone3_calls();
    vfork_shares_memory();
    parent_death();
    background_read();
    orphaned_group_stops();
    printf("jobs: %d failed\n", failures);
    return failures != 0;
}
