/*
 * CPU time and resource limits, checked the way programs use them; passes
 * on Linux too. times, getrusage and wait4's rusage see user and system
 * time grow with the work done; CLOCK_PROCESS_CPUTIME_ID and another
 * process's CPU clock; POSIX timers on a CPU clock; ITIMER_VIRTUAL and
 * ITIMER_PROF; RLIMIT_CPU (SIGXCPU, then SIGKILL), RLIMIT_FSIZE (SIGXFSZ,
 * EFBIG and a short write), RLIMIT_STACK sizing a new program's stack;
 * getcpu.
 * Prints "ok NAME" or "FAIL NAME: why" per check, then "cputime: N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *name, const char *why) {
  if (ok) printf("ok %s\n", name);
  else {
    printf("FAIL %s: %s\n", name, why);
    failures++;
  }
}

static long long ns(clockid_t clock) {
  struct timespec t;
  if (clock_gettime(clock, &t) != 0) return -1;
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static volatile unsigned long sink;

/* Burns user time for about `ms` milliseconds of CPU time. */
static void spin_user(long ms) {
  long long end = ns(CLOCK_PROCESS_CPUTIME_ID) + ms * 1000000LL;
  while (ns(CLOCK_PROCESS_CPUTIME_ID) < end)
    for (int i = 0; i < 20000; i++) sink += i;
}

/* Burns kernel time: system calls that do real work, for about `ms` of CPU time. */
static void spin_system(long ms) {
  long long end = ns(CLOCK_PROCESS_CPUTIME_ID) + ms * 1000000LL;
  char buffer[4096];
  int fd = open("/proc/self/stat", O_RDONLY);
  while (ns(CLOCK_PROCESS_CPUTIME_ID) < end) {
    for (int i = 0; i < 20; i++) {
      lseek(fd, 0, SEEK_SET);
      read(fd, buffer, sizeof buffer);
      getppid();
    }
  }
  close(fd);
}

static long long tv_ns(struct timeval tv) {
  return (long long)tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

static void cpu_clock_and_times(void) {
  long long start = ns(CLOCK_PROCESS_CPUTIME_ID);
  long long thread_start = ns(CLOCK_THREAD_CPUTIME_ID);
  check(start >= 0 && thread_start >= 0, "cpu-clocks-readable", "clock_gettime on a CPU clock failed");
  struct timespec before_sleep = {0};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before_sleep);
  usleep(200000);
  long long slept = ns(CLOCK_PROCESS_CPUTIME_ID) - ((long long)before_sleep.tv_sec * 1000000000LL + before_sleep.tv_nsec);
  check(slept >= 0 && slept < 50000000, "sleep-uses-no-cpu-time", "200 ms asleep counted as CPU time");
  struct tms t0, t1;
  clock_t c0 = times(&t0);
  spin_user(150);
  spin_system(150);
  clock_t c1 = times(&t1);
  check(c0 != (clock_t)-1 && c1 >= c0, "times-answers-clock-ticks", "times failed or went back");
  check(t1.tms_utime > t0.tms_utime, "times-user-time-grows", "tms_utime did not grow with user work");
  check(t1.tms_stime > t0.tms_stime, "times-system-time-grows", "tms_stime did not grow with system calls");
  long long now = ns(CLOCK_PROCESS_CPUTIME_ID);
  check(now - start >= 300000000LL, "process-cpu-clock-counts-work", "CPU clock moved less than the 300 ms burnt");
  struct rusage self;
  getrusage(RUSAGE_SELF, &self);
  long long after = ns(CLOCK_PROCESS_CPUTIME_ID);
  long long sum = tv_ns(self.ru_utime) + tv_ns(self.ru_stime);
  /* Between the two clock reads, less the timevals' rounding down to microseconds. */
  check(sum >= now - 2000 && sum <= after, "rusage-matches-cpu-clock",
        "ru_utime + ru_stime disagree with CLOCK_PROCESS_CPUTIME_ID");
  check(self.ru_maxrss > 0, "rusage-maxrss", "ru_maxrss is 0");
  struct timespec resolution;
  check(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &resolution) == 0 && resolution.tv_sec == 0 && resolution.tv_nsec > 0,
        "cpu-clock-resolution", "clock_getres on the CPU clock failed");
  check(clock_settime(CLOCK_PROCESS_CPUTIME_ID, &resolution) == -1 && errno == EINVAL, "own-cpu-clock-not-settable",
        "clock_settime(CLOCK_PROCESS_CPUTIME_ID) did not say EINVAL");
  clockid_t own;
  clock_getcpuclockid(getpid(), &own);
  check(clock_settime(own, &resolution) == -1 && errno == EPERM, "pid-cpu-clock-cannot-be-set",
        "clock_settime on clock_getcpuclockid's clock did not say EPERM");
}

static void children_usage(void) {
  int pipefd[2];
  pipe(pipefd);
  pid_t child = fork();
  if (child == 0) {
    close(pipefd[1]);
    char c;
    read(pipefd[0], &c, 1); /* wait for the parent to read our clock first */
    spin_user(200);
    _exit(0);
  }
  close(pipefd[0]);
  clockid_t clock;
  int got = clock_getcpuclockid(child, &clock);
  long long before = got == 0 ? ns(clock) : -1;
  check(got == 0 && before >= 0 && before < 100000000LL, "other-process-cpu-clock", "the child's CPU clock was not readable");
  write(pipefd[1], "x", 1);
  close(pipefd[1]);
  usleep(100000);
  struct rusage usage;
  int status;
  pid_t waited = wait4(child, &status, 0, &usage);
  /* The child's 200 ms are mostly user time, but its clock reads are system calls: count both. */
  char why[96];
  snprintf(why, sizeof why, "wait4 gave %d, user %lld ns, system %lld ns, for 200 ms of CPU time", (int)waited,
           tv_ns(usage.ru_utime), tv_ns(usage.ru_stime));
  check(waited == child && tv_ns(usage.ru_utime) + tv_ns(usage.ru_stime) >= 199000000LL && tv_ns(usage.ru_utime) > 0,
        "wait4-rusage-child-times", why);
  struct rusage children;
  getrusage(RUSAGE_CHILDREN, &children);
  check(tv_ns(children.ru_utime) + tv_ns(children.ru_stime) >= 199000000LL, "rusage-children-after-wait",
        "RUSAGE_CHILDREN lacks the reaped child");
  struct tms t;
  times(&t);
  check(t.tms_cutime + t.tms_cstime >= 19, "times-children-cpu-time", "tms_cutime and tms_cstime lack the reaped child");
  clockid_t bad;
  check(clock_getcpuclockid(waited, &bad) != 0, "reaped-child-has-no-clock", "a reaped child's CPU clock was found");
}

static volatile sig_atomic_t alarms, vtalarms, profs, xcpus;

static void on_signal(int signal) {
  if (signal == SIGALRM) alarms++;
  else if (signal == SIGVTALRM) vtalarms++;
  else if (signal == SIGPROF) profs++;
  else if (signal == SIGXCPU) xcpus++;
}

static void cpu_timers(void) {
  struct sigaction action = {0};
  action.sa_handler = on_signal;
  sigaction(SIGALRM, &action, NULL);
  sigaction(SIGVTALRM, &action, NULL);
  sigaction(SIGPROF, &action, NULL);
  timer_t timer;
  struct sigevent event = {0};
  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = SIGALRM;
  check(timer_create(CLOCK_PROCESS_CPUTIME_ID, &event, &timer) == 0, "timer-create-cpu-clock", "timer_create failed");
  struct itimerspec setting = {{0, 0}, {0, 100000000}};
  timer_settime(timer, 0, &setting, NULL);
  usleep(300000);
  check(alarms == 0, "cpu-timer-waits-for-cpu-time", "a CPU-time timer fired while the process slept");
  spin_user(200);
  check(alarms == 1, "cpu-timer-fires-after-cpu-time", "the CPU-time timer did not fire once after 100 ms of work");
  struct itimerspec left;
  timer_gettime(timer, &left);
  check(left.it_value.tv_sec == 0 && left.it_value.tv_nsec == 0, "cpu-timer-one-shot-disarmed", "it_value is not 0 after firing");
  timer_delete(timer);

  struct itimerval virtual_timer = {{0, 50000}, {0, 50000}};
  check(setitimer(ITIMER_VIRTUAL, &virtual_timer, NULL) == 0, "setitimer-virtual", "setitimer(ITIMER_VIRTUAL) failed");
  struct itimerval prof_timer = {{0, 50000}, {0, 50000}};
  check(setitimer(ITIMER_PROF, &prof_timer, NULL) == 0, "setitimer-prof", "setitimer(ITIMER_PROF) failed");
  usleep(200000);
  check(vtalarms == 0 && profs == 0, "itimers-stand-still-asleep", "a CPU interval timer fired during a sleep");
  spin_user(400);
  struct itimerval current;
  getitimer(ITIMER_VIRTUAL, &current);
  check(current.it_interval.tv_usec == 50000, "getitimer-virtual-interval", "ITIMER_VIRTUAL lost its interval");
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_VIRTUAL, &off, NULL);
  setitimer(ITIMER_PROF, &off, NULL);
  /* 400 ms of work at 50 ms periods: 8 of each; fewer when a host stall makes two
   * expirations meet while the first signal is still pending (they merge). */
  char why[64];
  snprintf(why, sizeof why, "%d SIGVTALRM for 8 periods", (int)vtalarms);
  check(vtalarms >= 3 && vtalarms <= 9, "itimer-virtual-periodic", why);
  snprintf(why, sizeof why, "%d SIGPROF for 8 periods", (int)profs);
  check(profs >= 3 && profs <= 9, "itimer-prof-periodic", why);
  check(setitimer(3, &off, NULL) == -1 && errno == EINVAL, "setitimer-unknown-einval", "setitimer(3) did not say EINVAL");
}

static void cpu_limit(void) {
  pid_t child = fork();
  if (child == 0) {
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    sigaction(SIGXCPU, &action, NULL);
    struct rlimit limit = {1, 2};
    if (setrlimit(RLIMIT_CPU, &limit) != 0) _exit(100);
    for (;;) {
      sink++;
      if (xcpus > 0 && (sink & 0xffff) == 0) {
        struct rlimit now;
        getrlimit(RLIMIT_CPU, &now);
        if (now.rlim_cur != 2) _exit(101); /* Linux moves the soft limit on a second */
      }
    }
  }
  int status;
  waitpid(child, &status, 0);
  check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "rlimit-cpu-sigxcpu-then-sigkill",
        "a process past its CPU limits was not killed by SIGKILL after SIGXCPU");
}

static void file_size_limit(void) {
  pid_t child = fork();
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {10000, 10000};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(100);
    int fd = open("/tmp/cputime-fsize", O_CREAT | O_TRUNC | O_RDWR, 0600);
    char buffer[8192];
    memset(buffer, 'x', sizeof buffer);
    if (write(fd, buffer, 8192) != 8192) _exit(101);
    if (write(fd, buffer, 8192) != 10000 - 8192) _exit(102); /* cut short at the limit */
    if (write(fd, buffer, 1) != -1 || errno != EFBIG) _exit(103);
    if (ftruncate(fd, 20000) != -1 || errno != EFBIG) _exit(104);
    if (ftruncate(fd, 5000) != 0) _exit(105); /* shrinking is fine */
    unlink("/tmp/cputime-fsize");
    signal(SIGXFSZ, SIG_DFL);
    write(fd, buffer, 8192); /* now the signal's default action: core */
    _exit(106);
  }
  int status;
  waitpid(child, &status, 0);
  char why[64];
  snprintf(why, sizeof why, "child status %#x", status);
  check(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ, "rlimit-fsize-efbig-short-write-sigxfsz", why);
}

/* With RLIMIT_STACK at `limit`, does a child that recurses `depth` bytes deep survive? */
static int stack_survives(const char *self, rlim_t limit, long depth) {
  pid_t child = fork();
  if (child == 0) {
    struct rlimit rl = {limit, RLIM_INFINITY};
    setrlimit(RLIMIT_STACK, &rl);
    char argument[32];
    snprintf(argument, sizeof argument, "%ld", depth);
    execl(self, self, "--recurse", argument, (char *)NULL);
    _exit(127);
  }
  int status;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static long recurse(long bytes) {
  volatile char frame[4096];
  frame[0] = (char)bytes;
  if (bytes <= 4096) return frame[0];
  return recurse(bytes - 4096) + frame[0];
}

static void stack_limit(const char *self) {
  check(stack_survives(self, 64 << 20, 32 << 20), "rlimit-stack-64m-holds-32m", "32 MiB of stack under a 64 MiB limit failed");
  check(!stack_survives(self, 1 << 20, 4 << 20), "rlimit-stack-1m-overflows-at-4m", "4 MiB of stack under a 1 MiB limit survived");
  struct rlimit now;
  getrlimit(RLIMIT_STACK, &now);
  check(now.rlim_cur == 8 << 20, "rlimit-stack-default-8m", "RLIMIT_STACK is not 8 MiB");
}

/* getcpu names a CPU this process may run on (sched_getaffinity's mask), on node 0 here. */
static void which_cpu(void) {
  unsigned cpu = 99999, node = 99999;
  long got = syscall(SYS_getcpu, &cpu, &node, NULL);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  sched_getaffinity(0, sizeof allowed, &allowed);
  check(got == 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &allowed) && node < 1024, "getcpu-in-affinity-mask",
        "getcpu named a CPU outside the affinity mask");
  check(syscall(SYS_getcpu, (void *)8, NULL, NULL) == -1 && errno == EFAULT, "getcpu-bad-pointer-efault",
        "getcpu with a bad pointer did not say EFAULT");
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--recurse") == 0) {
    recurse(atol(argv[2]));
    return 0;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  cpu_clock_and_times();
  children_usage();
  cpu_timers();
  cpu_limit();
  file_size_limit();
  stack_limit(argv[0]);
  which_cpu();
  printf("cputime: %d failed\n", failures);
  return failures != 0;
}
