/*
 * epoll and eventfd, checked the way event loops use them; passes on
 * Linux too. One epoll watching a pipe, an eventfd, a signalfd and a
 * nested epoll; level-triggered, edge-triggered and one-shot items; the
 * EPOLL_CTL errnos; closing a watched file removes it; epoll_pwait with a
 * signal mask; eventfd's counter, semaphore mode, overflow and a blocking
 * read and write woken by a forked child, EINTR; epoll_pwait2; the
 * anonymous inodes' names; no kernel object left behind (as TSKernel's init).
 * Prints "ok NAME" or "FAIL NAME: why" per check, then "epoll: N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *name, const char *why) {
  if (ok) printf("ok %s\n", name);
  else {
    printf("FAIL %s: %s (errno %d)\n", name, why, errno);
    failures++;
  }
}

static int add(int ep, int fd, uint32_t events, uint64_t data) {
  struct epoll_event e = { .events = events, .data.u64 = data };
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/* The events reported for `data` by one epoll_wait of `ms` (0 if it is not reported, -1 on error). */
static int reported(int ep, uint64_t data, int ms) {
  struct epoll_event out[8];
  int n = epoll_wait(ep, out, 8, ms);
  if (n < 0) return -1;
  for (int i = 0; i < n; i++) if (out[i].data.u64 == data) return (int)out[i].events;
  return 0;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void on_usr1(int signal) { (void)signal; }

static void mixed_sources(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  check(ep >= 0 && (fcntl(ep, F_GETFD) & FD_CLOEXEC), "create1-cloexec", "epoll_create1(EPOLL_CLOEXEC)");
  int pipefd[2];
  pipe(pipefd);
  int efd = eventfd(0, EFD_NONBLOCK);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_NONBLOCK);
  int inner = syscall(SYS_epoll_create, 1);
  int inner_pipe[2];
  pipe(inner_pipe);
  add(inner, inner_pipe[0], EPOLLIN, 99);
  int ok = add(ep, pipefd[0], EPOLLIN, 1) == 0 && add(ep, efd, EPOLLIN, 2) == 0 && add(ep, sfd, EPOLLIN, 3) == 0 &&
    add(ep, inner, EPOLLIN, 4) == 0 && add(ep, pipefd[1], EPOLLOUT, 5) == 0;
  check(ok, "add-pipe-eventfd-signalfd-epoll", "EPOLL_CTL_ADD failed");
  struct epoll_event out[8];
  int n = epoll_wait(ep, out, 8, 0);
  check(n == 1 && out[0].data.u64 == 5 && out[0].events == EPOLLOUT, "only-write-end-ready", "expected just the pipe's write end");
  uint64_t one = 1;
  write(pipefd[1], "x", 1);
  write(efd, &one, 8);
  kill(getpid(), SIGUSR2);
  write(inner_pipe[1], "y", 1);
  n = epoll_wait(ep, out, 8, 1000);
  int seen = 0;
  for (int i = 0; i < n; i++) {
    if (out[i].events & EPOLLIN) seen |= 1 << out[i].data.u64;
  }
  check(n == 5 && seen == 0x1e, "all-four-readable", "pipe, eventfd, signalfd and nested epoll each reported EPOLLIN with their data");
  check(reported(inner, 99, 0) == EPOLLIN, "nested-epoll-reports-inner", "the inner epoll reports its pipe");
  struct signalfd_siginfo info;
  check(read(sfd, &info, sizeof info) == sizeof info && info.ssi_signo == SIGUSR2, "signalfd-read", "signalfd read");
  check(reported(ep, 3, 0) == 0, "signalfd-drained", "signalfd still reported after its signal was read");
  close(pipefd[1]);
  check(reported(ep, 1, 0) == (EPOLLIN | EPOLLHUP), "pipe-hup", "read end with data and no writer: EPOLLIN|EPOLLHUP");
  close(pipefd[0]);
  close(efd);
  close(sfd);
  close(inner);
  close(inner_pipe[0]);
  close(inner_pipe[1]);
  close(ep);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void triggering(void) {
  int ep = epoll_create1(0);
  int p[2];
  pipe(p);
  char c;
  add(ep, p[0], EPOLLIN, 1);
  write(p[1], "a", 1);
  check(reported(ep, 1, 0) == EPOLLIN && reported(ep, 1, 0) == EPOLLIN, "level-reports-again", "level-triggered item reported once only");
  read(p[0], &c, 1);
  check(reported(ep, 1, 0) == 0, "level-drained", "reported after the pipe drained");
  struct epoll_event e = { .events = EPOLLIN | EPOLLET, .data.u64 = 1 };
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e);
  write(p[1], "a", 1);
  check(reported(ep, 1, 0) == EPOLLIN && reported(ep, 1, 0) == 0, "edge-reports-once", "edge-triggered item not reported exactly once");
  read(p[0], &c, 1);
  write(p[1], "b", 1);
  check(reported(ep, 1, 0) == EPOLLIN, "edge-reports-new-data", "new data after a drain not reported");
  write(p[1], "c", 1);
  check(reported(ep, 1, 0) == EPOLLIN, "edge-reports-more-data", "more data on a readable pipe not reported");
  read(p[0], &c, 1);
  read(p[0], &c, 1);
  e.events = EPOLLIN | EPOLLONESHOT;
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e);
  write(p[1], "d", 1);
  check(reported(ep, 1, 0) == EPOLLIN && reported(ep, 1, 0) == 0, "oneshot-reports-once", "one-shot item not disabled after its report");
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e);
  check(reported(ep, 1, 0) == EPOLLIN, "oneshot-rearmed-by-mod", "EPOLL_CTL_MOD did not re-arm the item");
  e.data.u64 = 0x1234567890abcdefULL;
  e.events = EPOLLIN;
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e);
  check(reported(ep, 0x1234567890abcdefULL, 0) == EPOLLIN, "data-returned-as-given", "epoll_data changed");
  close(p[0]);
  close(p[1]);
  close(ep);
}

static void ctl_errors(void) {
  int ep = epoll_create1(0);
  int p[2];
  pipe(p);
  struct epoll_event e = { .events = EPOLLIN };
  add(ep, p[0], EPOLLIN, 0);
  check(add(ep, p[0], EPOLLIN, 0) == -1 && errno == EEXIST, "add-twice-eexist", "second ADD");
  check(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &e) == -1 && errno == ENOENT, "mod-missing-enoent", "MOD of a missing fd");
  check(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL) == -1 && errno == ENOENT, "del-missing-enoent", "DEL of a missing fd");
  check(add(ep, ep, EPOLLIN, 0) == -1 && errno == EINVAL, "add-self-einval", "epoll added to itself");
  int file = open("/proc/self/exe", O_RDONLY);
  check(add(ep, file, EPOLLIN, 0) == -1 && errno == EPERM, "regular-file-eperm", "regular file accepted");
  close(file);
  check(add(ep, 1000, EPOLLIN, 0) == -1 && errno == EBADF, "bad-fd-ebadf", "closed descriptor");
  check(add(p[0], p[1], EPOLLIN, 0) == -1 && errno == EINVAL, "not-an-epoll-einval", "a pipe used as the epoll");
  check(epoll_ctl(ep, 42, p[1], &e) == -1 && errno == EINVAL, "bad-op-einval", "unknown op");
  e.events = EPOLLIN | EPOLLEXCLUSIVE;
  check(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e) == -1 && errno == EINVAL, "exclusive-mod-einval", "EPOLLEXCLUSIVE with MOD");
  check(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &e) == 0, "exclusive-add", "EPOLLEXCLUSIVE with ADD");
  int a = epoll_create1(0), b = epoll_create1(0);
  add(a, b, EPOLLIN, 0);
  check(add(b, a, EPOLLIN, 0) == -1 && errno == ELOOP, "loop-eloop", "epoll loop accepted");
  /* A chain of 5 epolls is allowed (EP_MAX_NESTS 4 below the top), a sixth on top is not. */
  int chain[6];
  chain[0] = epoll_create1(0);
  add(chain[0], p[0], EPOLLIN, 0);
  int nested = 1;
  for (int i = 1; i < 5; i++) {
    chain[i] = epoll_create1(0);
    nested &= add(chain[i], chain[i - 1], EPOLLIN, 0) == 0;
  }
  check(nested, "chain-of-five", "a chain of 5 epolls refused");
  chain[5] = epoll_create1(0);
  check(add(chain[5], chain[4], EPOLLIN, 0) == -1 && errno == ELOOP, "sixth-level-eloop", "6 nested epolls accepted");
  for (int i = 0; i < 6; i++) close(chain[i]);
  /* The epolls above the one added to count too: 2 above and 4 below make 6. */
  int top = epoll_create1(0), middle = epoll_create1(0);
  add(top, middle, EPOLLIN, 0);
  chain[0] = epoll_create1(0);
  add(chain[0], p[0], EPOLLIN, 0);
  for (int i = 1; i < 4; i++) {
    chain[i] = epoll_create1(0);
    add(chain[i], chain[i - 1], EPOLLIN, 0);
  }
  check(add(middle, chain[3], EPOLLIN, 0) == -1 && errno == ELOOP, "depth-above-counts-eloop", "6 nested epolls accepted from above");
  check(add(middle, chain[2], EPOLLIN, 0) == 0, "depth-five-through-middle", "a chain of 5 through the middle refused");
  for (int i = 0; i < 4; i++) close(chain[i]);
  close(top);
  close(middle);
  struct epoll_event out[1];
  check(epoll_wait(ep, out, 0, 0) == -1 && errno == EINVAL, "maxevents-zero-einval", "maxevents 0");
  check(epoll_wait(p[0], out, 1, 0) == -1 && errno == EINVAL, "wait-not-epoll-einval", "epoll_wait on a pipe");
  check(syscall(SYS_epoll_create, 0) == -1 && errno == EINVAL, "create-size-zero-einval", "epoll_create(0)");
  check(epoll_create1(1) == -1 && errno == EINVAL, "create1-flags-einval", "epoll_create1(1)");
  close(a);
  close(b);
  close(p[0]);
  close(p[1]);
  close(ep);
}

static void close_removes(void) {
  int ep = epoll_create1(0);
  int p[2];
  pipe(p);
  add(ep, p[0], EPOLLIN, 1);
  int copy = dup(p[0]);
  write(p[1], "x", 1);
  close(p[0]);
  check(reported(ep, 1, 0) == EPOLLIN, "dup-keeps-item", "closing one of two descriptors removed the item");
  close(copy);
  check(reported(ep, 1, 0) == 0, "last-close-removes", "item reported after its file was closed");
  int q[2];
  pipe(q); /* likely the same numbers again: a new file, not the old item */
  struct epoll_event e = { .events = EPOLLIN };
  check(epoll_ctl(ep, EPOLL_CTL_DEL, q[0], &e) == -1 && errno == ENOENT, "closed-item-gone", "DEL found the old item");
  close(q[0]);
  close(q[1]);
  close(p[1]);
  close(ep);
}

static void pwait_mask(void) {
  signal(SIGUSR1, on_usr1);
  sigset_t block, empty;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigemptyset(&empty);
  sigprocmask(SIG_BLOCK, &block, NULL);
  kill(getpid(), SIGUSR1); /* pending, blocked */
  int ep = epoll_create1(0);
  struct epoll_event out[1];
  check(epoll_wait(ep, out, 1, 20) == 0, "blocked-signal-waits", "a blocked signal ended epoll_wait");
  long long start = now_ms();
  int n = epoll_pwait(ep, out, 1, 2000, &empty);
  check(n == -1 && errno == EINTR && now_ms() - start < 1000, "pwait-mask-eintr", "epoll_pwait with an empty mask was not interrupted");
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  check(sigismember(&now, SIGUSR1), "pwait-mask-restored", "the old mask did not come back");
  start = now_ms();
  n = epoll_wait(ep, out, 1, 50);
  long long took = now_ms() - start;
  check(n == 0 && took >= 45 && took < 1000, "timeout-ms", "epoll_wait(50 ms) timing");
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  close(ep);
}

static int eventfd2_flags_einval(void) {
  return syscall(SYS_eventfd2, 0, 0x10) == -1 && errno == EINVAL;
}

static void counters(void) {
  uint64_t v = 0;
  int efd = eventfd(3, EFD_NONBLOCK | EFD_SEMAPHORE | EFD_CLOEXEC);
  check(efd >= 0 && (fcntl(efd, F_GETFD) & FD_CLOEXEC), "eventfd-cloexec", "EFD_CLOEXEC");
  int sem = read(efd, &v, 8) == 8 && v == 1 && read(efd, &v, 8) == 8 && read(efd, &v, 8) == 8;
  check(sem && read(efd, &v, 8) == -1 && errno == EAGAIN, "semaphore-counts-down", "semaphore mode: three reads of 1, then EAGAIN");
  close(efd);
  efd = eventfd(0, EFD_NONBLOCK);
  v = 5;
  write(efd, &v, 8);
  v = 7;
  write(efd, &v, 8);
  check(read(efd, &v, 8) == 8 && v == 12, "read-takes-sum", "counter read");
  check(read(efd, &v, 4) == -1 && errno == EINVAL, "short-read-einval", "4-byte read");
  v = UINT64_MAX;
  check(write(efd, &v, 8) == -1 && errno == EINVAL, "write-max-einval", "write of 0xffffffffffffffff");
  v = UINT64_MAX - 1;
  check(write(efd, &v, 8) == 8, "write-to-ceiling", "write of 0xfffffffffffffffe");
  v = 1;
  check(write(efd, &v, 8) == -1 && errno == EAGAIN, "overflow-eagain", "write past the ceiling");
  int ep = epoll_create1(0);
  add(ep, efd, EPOLLIN | EPOLLOUT, 1);
  check(reported(ep, 1, 0) == EPOLLIN, "full-not-writable", "a full eventfd reported writable");
  read(efd, &v, 8);
  check(reported(ep, 1, 0) == EPOLLOUT, "empty-writable-only", "an empty eventfd's events");
  close(ep);
  check(eventfd2_flags_einval(), "eventfd-bad-flags-einval", "unknown flag accepted");
  char link[64] = "";
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", efd);
  readlink(path, link, sizeof link - 1);
  check(strcmp(link, "anon_inode:[eventfd]") == 0, "proc-fd-eventfd", link);
  close(efd);
  ep = epoll_create1(0);
  memset(link, 0, sizeof link);
  snprintf(path, sizeof path, "/proc/self/fd/%d", ep);
  readlink(path, link, sizeof link - 1);
  check(strcmp(link, "anon_inode:[eventpoll]") == 0, "proc-fd-eventpoll", link);
  close(ep);
}

static void blocking_read(void) {
  int efd = eventfd(0, 0);
  long long start = now_ms();
  pid_t child = fork();
  if (child == 0) {
    struct timespec t = { 0, 100000000 };
    nanosleep(&t, NULL);
    uint64_t v = 42;
    write(efd, &v, 8);
    _exit(0);
  }
  uint64_t v = 0;
  ssize_t n = read(efd, &v, 8);
  long long took = now_ms() - start;
  check(n == 8 && v == 42 && took >= 90, "blocking-read-woken-by-child", "blocking read");
  waitpid(child, NULL, 0);
  /* A full counter: the write waits until a child's read makes room. */
  v = UINT64_MAX - 1;
  write(efd, &v, 8);
  child = fork();
  if (child == 0) {
    struct timespec t = { 0, 50000000 };
    nanosleep(&t, NULL);
    uint64_t got;
    _exit(read(efd, &got, 8) == 8 && got == UINT64_MAX - 1 ? 0 : 1);
  }
  v = 3;
  n = write(efd, &v, 8);
  int status = -1;
  waitpid(child, &status, 0);
  check(n == 8 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && read(efd, &v, 8) == 8 && v == 3,
        "blocking-write-woken-by-read", "a write to a full counter");
  /* A handler without SA_RESTART ends a blocking read with EINTR. */
  struct sigaction action = { .sa_handler = on_usr1 };
  sigaction(SIGALRM, &action, NULL);
  struct itimerval once = { { 0, 0 }, { 0, 50000 } };
  setitimer(ITIMER_REAL, &once, NULL);
  errno = 0;
  n = read(efd, &v, 8);
  check(n == -1 && errno == EINTR, "blocking-read-eintr", "read of an empty counter with a signal");
  close(efd);
}

/* epoll_pwait2 through its number (musl has no wrapper): a timespec timeout, EINVAL for a bad one. */
static void pwait2(void) {
  int ep = epoll_create1(0);
  int p[2];
  pipe(p);
  add(ep, p[1], EPOLLOUT, 7);
  struct epoll_event out[2];
  struct timespec zero = { 0, 0 }, bad = { 0, 1000000000 };
  long n = syscall(441, ep, out, 2, &zero, NULL, 8);
  check(n == 1 && out[0].data.u64 == 7, "pwait2-reports", "epoll_pwait2 with a zero timeout");
  check(syscall(441, ep, out, 2, &bad, NULL, 8) == -1 && errno == EINVAL, "pwait2-bad-timespec-einval", "tv_nsec of 1e9");
  close(p[0]);
  close(p[1]);
  close(ep);
}

/* Init on TSKernel: pid 1 with /proc/memcheck (Linux has no such file). */
static long memcheck_number(const char *key) {
  char report[4096];
  int fd = open("/proc/memcheck", O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, report, sizeof report - 1);
  close(fd);
  if (n <= 0) return -1;
  report[n] = 0;
  char *at = strstr(report, key);
  return at ? atol(at + strlen(key)) : -1;
}

/* Epolls watching each other, items, eventfds; some closed, the rest left for exit to release. */
static int leak_batch(void) {
  int outer = epoll_create1(0), inner = epoll_create1(0);
  int p[2];
  pipe(p);
  int efd = eventfd(1, 0);
  add(inner, p[0], EPOLLIN, 1);
  add(inner, efd, EPOLLIN | EPOLLET, 2);
  add(outer, inner, EPOLLIN, 3);
  add(outer, p[1], EPOLLOUT, 4);
  struct epoll_event out[4];
  if (epoll_wait(outer, out, 4, 0) != 2) return 1;
  close(p[0]); /* its item goes from inner */
  close(outer);
  int more = epoll_create1(0);
  add(more, efd, EPOLLIN, 5);
  return 0; /* inner, more, efd and p[1] are closed by exit */
}

static int run_batch(void) {
  pid_t child = fork();
  if (child == 0) _exit(leak_batch());
  int status = -1;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void leak_check(void) {
  if (getpid() != 1 || access("/proc/memcheck", F_OK) != 0) {
    printf("skip leak-check: only as TSKernel's init (pid 1 with /proc/memcheck)\n");
    return;
  }
  run_batch(); /* warm-up: whatever the kernel caches the first time */
  long before = memcheck_number("kernel_objects ");
  int ok = run_batch();
  long after = memcheck_number("kernel_objects ");
  char why[96];
  snprintf(why, sizeof why, "kernel_objects %ld before, %ld after", before, after);
  check(ok && before > 0 && after == before, "leak-kernel-objects-unchanged", why);
  check(memcheck_number("problems ") == 0, "leak-memcheck-problems-0", "memcheck found problems");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  mixed_sources();
  triggering();
  ctl_errors();
  close_removes();
  pwait_mask();
  counters();
  blocking_read();
  pwait2();
  leak_check();
  printf("epoll: %d failed\n", failures);
  return failures != 0;
}
