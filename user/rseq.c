/* rseq(2), restartable sequences, as Linux has them: registration and
 * every errno of it (EINVAL, EBUSY, EPERM, EFAULT, unregistering), the
 * ids the kernel writes (cpu_id 0: the program pins itself to CPU 0, so
 * this holds on a Linux machine with more CPUs too), AT_RSEQ_FEATURE_SIZE
 * and AT_RSEQ_ALIGN, and real critical sections: a read, a long delay and
 * a committing store to a per-CPU counter, in inline assembly with the
 * abort handler after its signature. Two threads share CPU 0 and the
 * counter, and a SIGALRM handler adds to it too, for 100 ms each: without
 * the kernel moving a preempted or signalled section to its abort handler
 * updates would be lost; the test checks none were and that aborts
 * happened. Bad descriptors (wrong signature, a version, an abort handler
 * inside the section) are SIGSEGV; a descriptor outside its section is
 * cleared. A fork child keeps the registration, execve drops it (the new
 * program registers again), a new thread starts with none.
 *
 * musl, with raw system calls (glibc registers an area of its own, so a
 * second registration would be EBUSY). The same binary must pass on Linux
 * (tests/integration/rseq.test.ts runs it on the host too). Prints
 * "ok NAME" / "FAIL NAME: ..." and "rseq: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#define SYS_RSEQ 334
#define RSEQ_FLAG_UNREGISTER 1
#define RSEQ_SIG 0x53053053 /* librseq's x86 signature */
#define RSEQ_CPU_ID_UNINITIALIZED 0xffffffffu
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#define RUN_NS 100000000LL

struct rseq_area {
  uint32_t cpu_id_start;
  uint32_t cpu_id;
  uint64_t rseq_cs;
  uint32_t flags;
  uint32_t node_id;
  uint32_t mm_cid;
  char pad[4];
} __attribute__((aligned(32)));

struct rseq_cs {
  uint32_t version;
  uint32_t flags;
  uint64_t start_ip;
  uint64_t post_commit_offset;
  uint64_t abort_ip;
} __attribute__((aligned(32)));

static int failures;

static void ok(const char *name) { printf("ok %s\n", name); }

static void fail(const char *name, const char *why, long a, long b) {
  printf("FAIL %s: %s (%ld, %ld)\n", name, why, a, b);
  failures++;
}

static long rseq(void *area, uint32_t len, int flags, uint32_t sig) {
  long r = syscall(SYS_RSEQ, area, len, flags, sig);
  return r < 0 ? -errno : r;
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct rseq_area main_area, thread_area, other_area, big_area[2];
static char unaligned_buf[96] __attribute__((aligned(32)));
static long counts[64]; /* per CPU, added to only inside critical sections (and by the handler) */

/*
 * One increment of the counter of the CPU the thread is on, as a
 * restartable sequence: the descriptor goes in rseq_cs, then inside the
 * section the CPU is checked, the counter read, `spin` rounds of delay,
 * and the commit store. Returns 0 when it committed, 1 when the kernel
 * (or the CPU check) sent it to the abort handler.
 */
static int percpu_add(struct rseq_area *rs, long spin) {
  int aborted;
  uint32_t cpu = __atomic_load_n(&rs->cpu_id_start, __ATOMIC_RELAXED);
  long *counter = &counts[cpu & 63];
  __asm__ volatile(
      ".pushsection __rseq_cs, \"aw\"\n\t"
      ".balign 32\n\t"
      "3: .long 0, 0\n\t"
      ".quad 1f, 2f - 1f, 4f\n\t"
      ".popsection\n\t"
      "leaq 3b(%%rip), %%rax\n\t"
      "movq %%rax, 8(%[rs])\n\t"
      "1:\n\t"
      "cmpl 4(%[rs]), %[cpu]\n\t"
      "jnz 4f\n\t"
      "movq (%[counter]), %%rax\n\t"
      "movq %[spin], %%rcx\n\t"
      "5: decq %%rcx\n\t"
      "jnz 5b\n\t"
      "incq %%rax\n\t"
      "movq %%rax, (%[counter])\n\t" /* the commit */
      "2:\n\t"
      "movl $0, %[aborted]\n\t"
      "jmp 6f\n\t"
      ".pushsection __rseq_failure, \"ax\"\n\t"
      ".byte 0x0f, 0xb9, 0x3d\n\t" /* ud1 <sig>(%rip), %edi: the signature is its displacement */
      ".long 0x53053053\n\t"
      "4:\n\t"
      "movl $1, %[aborted]\n\t"
      "jmp 6f\n\t"
      ".popsection\n\t"
      "6:\n\t"
      : [aborted] "=m"(aborted)
      : [rs] "r"(rs), [counter] "r"(counter), [spin] "r"(spin), [cpu] "r"(cpu)
      : "rax", "rcx", "memory", "cc");
  return aborted;
}

struct loop_result { long commits, aborts; };

static struct loop_result run_sections(struct rseq_area *rs, long long ns) {
  struct loop_result r = {0, 0};
  long long end = now_ns() + ns;
  while (now_ns() < end) {
    if (percpu_add(rs, 20000)) r.aborts++;
    else r.commits++;
  }
  return r;
}

static long total_counts(void) {
  long sum = 0;
  for (int i = 0; i < 64; i++) sum += counts[i];
  return sum;
}

static void pin_to_cpu0(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) fail("pin", "sched_setaffinity", errno, 0);
}

static void test_auxv(void) {
  unsigned long size = getauxval(AT_RSEQ_FEATURE_SIZE), align = getauxval(AT_RSEQ_ALIGN);
  if (size < 28 || align != 32) fail("auxv", "AT_RSEQ_FEATURE_SIZE, AT_RSEQ_ALIGN", (long)size, (long)align);
  else ok("auxv");
}

static void expect(const char *name, long got, long want) {
  if (got != want) fail(name, "result", got, want);
  else ok(name);
}

static void test_register_errors(void) {
  expect("unregister-none", rseq(&main_area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), -EINVAL);
  expect("short-length", rseq(&main_area, 16, 0, RSEQ_SIG), -EINVAL);
  expect("misaligned", rseq(unaligned_buf + 8, 32, 0, RSEQ_SIG), -EINVAL);
  expect("misaligned-long", rseq(unaligned_buf + 16, 64, 0, RSEQ_SIG), -EINVAL);
  expect("unknown-flag", rseq(&main_area, 32, 2, RSEQ_SIG), -EINVAL);
  expect("unregister-extra-flag", rseq(&main_area, 32, RSEQ_FLAG_UNREGISTER | 2, RSEQ_SIG), -EINVAL);
  expect("kernel-address", rseq((void *)0xffff800000000000ul, 32, 0, RSEQ_SIG), -EFAULT);
}

static void test_register(void) {
  main_area.cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
  main_area.cpu_id_start = 77;
  long r = rseq(&main_area, 32, 0, RSEQ_SIG);
  if (r != 0) fail("register", "rseq", r, 0);
  else if (main_area.cpu_id != 0 || main_area.cpu_id_start != 0 || main_area.node_id != 0 || main_area.mm_cid != 0)
    fail("register", "cpu_id, cpu_id_start", main_area.cpu_id, main_area.cpu_id_start);
  else ok("register");
  expect("again-same", rseq(&main_area, 32, 0, RSEQ_SIG), -EBUSY);
  expect("again-other-sig", rseq(&main_area, 32, 0, RSEQ_SIG + 1), -EPERM);
  expect("again-other-area", rseq(&other_area, 32, 0, RSEQ_SIG), -EINVAL);
  expect("again-other-length", rseq(&main_area, 64, 0, RSEQ_SIG), -EINVAL);
  expect("unregister-other-sig", rseq(&main_area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG + 1), -EPERM);
  expect("unregister-other-length", rseq(&main_area, 64, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), -EINVAL);
  expect("unregister-other-area", rseq(&other_area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), -EINVAL);
  r = rseq(&main_area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
  if (r != 0) fail("unregister", "rseq", r, 0);
  else if (main_area.cpu_id != RSEQ_CPU_ID_UNINITIALIZED || main_area.cpu_id_start != 0)
    fail("unregister", "cpu_id after", main_area.cpu_id, main_area.cpu_id_start);
  else ok("unregister");
  /* A longer area (rseq_len beyond the original 32, as glibc 2.40 passes AT_RSEQ_FEATURE_SIZE rounded up). */
  r = rseq(big_area, 64, 0, RSEQ_SIG);
  long u = rseq(big_area, 64, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
  if (r != 0 || u != 0) fail("long-area", "register, unregister", r, u);
  else ok("long-area");
  r = rseq(&main_area, 32, 0, RSEQ_SIG);
  if (r != 0 || main_area.cpu_id != 0) fail("reregister", "rseq, cpu_id", r, main_area.cpu_id);
  else ok("reregister");
}

/* ---- critical sections, preempted by another thread on the same CPU ---- */

static struct loop_result thread_result;
static long thread_unregistered, thread_register;

static void *section_thread(void *arg) {
  (void)arg;
  thread_unregistered = rseq(&main_area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG); /* not its own: it has none */
  thread_register = rseq(&thread_area, 32, 0, RSEQ_SIG);
  if (thread_register == 0) thread_result = run_sections(&thread_area, RUN_NS);
  rseq(&thread_area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
  return NULL;
}

static void test_threads(void) {
  long before = total_counts();
  pthread_t t;
  if (pthread_create(&t, NULL, section_thread, NULL) != 0) {
    fail("threads", "pthread_create", errno, 0);
    return;
  }
  struct loop_result mine = run_sections(&main_area, RUN_NS);
  pthread_join(t, NULL);
  if (thread_unregistered != -EINVAL) fail("thread-starts-unregistered", "unregister", thread_unregistered, -EINVAL);
  else ok("thread-starts-unregistered");
  if (thread_register != 0) {
    fail("thread-register", "rseq", thread_register, 0);
    return;
  }
  long commits = mine.commits + thread_result.commits;
  long aborts = mine.aborts + thread_result.aborts;
  printf("threads: %ld commits, %ld aborts\n", commits, aborts);
  if (total_counts() - before != commits) fail("threads-consistent", "counter, commits", total_counts() - before, commits);
  else ok("threads-consistent");
  if (aborts == 0) fail("threads-aborted", "no abort in 200 ms of preempted sections", 0, 0);
  else ok("threads-aborted");
}

/* ---- critical sections interrupted by a signal handler that adds too ---- */

static volatile long handler_adds;

static void on_alarm(int sig) {
  (void)sig;
  counts[main_area.cpu_id_start & 63]++;
  handler_adds++;
}

static void test_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval every = {{0, 1000}, {0, 1000}};
  setitimer(ITIMER_REAL, &every, NULL);
  long before = total_counts();
  struct loop_result r = run_sections(&main_area, RUN_NS);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  signal(SIGALRM, SIG_DFL);
  printf("signals: %ld commits, %ld aborts, %ld handler runs\n", r.commits, r.aborts, handler_adds);
  if (handler_adds == 0) fail("signals-ran", "no SIGALRM in 100 ms", 0, 0);
  else ok("signals-ran");
  if (total_counts() - before != r.commits + handler_adds)
    fail("signals-consistent", "counter, commits + handler adds", total_counts() - before, r.commits + handler_adds);
  else ok("signals-consistent");
  if (r.aborts == 0) fail("signals-aborted", "no abort", 0, 0);
  else ok("signals-aborted");
}

/* ---- descriptors: outside their section cleared, bad ones SIGSEGV ---- */

static void nothing(int sig) { (void)sig; }

extern const char bad_start[], bad_end[], bad_abort_wrong_sig[], bad_abort_right_sig[];
__asm__(".pushsection .text\n"
        "bad_start: nop\n nop\n"
        "bad_end: nop\n"
        ".long 0x12345678\n"
        "bad_abort_wrong_sig: ret\n"
        ".long 0x53053053\n"
        "bad_abort_right_sig: ret\n"
        ".popsection\n");

static struct rseq_cs descriptors[4];

/* Sets rseq_cs and takes a signal (its delivery runs the fixup) outside any section. */
static void signal_with(struct rseq_cs *cs) {
  signal(SIGUSR1, nothing);
  main_area.rseq_cs = (uint64_t)(uintptr_t)cs;
  raise(SIGUSR1);
}

static void test_descriptors(void) {
  struct rseq_cs *good = &descriptors[0];
  *good = (struct rseq_cs){0, 0, (uint64_t)bad_start, (uint64_t)(bad_end - bad_start), (uint64_t)bad_abort_right_sig};
  signal_with(good);
  if (main_area.rseq_cs != 0) fail("outside-cleared", "rseq_cs after a signal", (long)main_area.rseq_cs, 0);
  else ok("outside-cleared");

  struct { const char *name; struct rseq_cs cs; } bad[] = {
    {"bad-signature", {0, 0, (uint64_t)bad_start, (uint64_t)(bad_end - bad_start), (uint64_t)bad_abort_wrong_sig}},
    {"bad-version", {1, 0, (uint64_t)bad_start, (uint64_t)(bad_end - bad_start), (uint64_t)bad_abort_right_sig}},
    {"abort-inside", {0, 0, (uint64_t)bad_start, (uint64_t)(bad_abort_right_sig + 1 - bad_start), (uint64_t)bad_abort_right_sig}},
    {"overflow", {0, 0, (uint64_t)bad_start, ~0ull, (uint64_t)bad_abort_right_sig}},
  };
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      struct rlimit none = {0, 0};
      setrlimit(RLIMIT_CORE, &none);
      descriptors[1] = bad[i].cs;
      signal_with(&descriptors[1]);
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV) fail(bad[i].name, "status, want SIGSEGV", status, SIGSEGV);
    else ok(bad[i].name);
  }
}

/* ---- fork keeps the registration; execve drops it ---- */

static void test_fork(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    long again = rseq(&main_area, 32, 0, RSEQ_SIG);
    long before = total_counts();
    struct loop_result r = run_sections(&main_area, RUN_NS / 5);
    _exit(again == -EBUSY && main_area.cpu_id == 0 && total_counts() - before == r.commits ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("fork-keeps", "child status", status, 0);
  else ok("fork-keeps");
}

static int exec_child(void) {
  long none = rseq(&main_area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
  long r = rseq(&main_area, 32, 0, RSEQ_SIG);
  return none == -EINVAL && r == 0 && main_area.cpu_id == 0 ? 0 : 1;
}

static void test_exec(const char *self) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    execl(self, self, "exec-child", (char *)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("exec-clears", "child status", status, 0);
  else ok("exec-clears");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pin_to_cpu0();
  if (argc > 1 && strcmp(argv[1], "exec-child") == 0) return exec_child();
  test_auxv();
  test_register_errors();
  test_register();
  test_threads();
  test_signals();
  test_descriptors();
  test_fork();
  test_exec(argv[0]);
  printf("rseq: %d failed\n", failures);
  return failures != 0;
}
