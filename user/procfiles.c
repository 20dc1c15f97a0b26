/* The per-process files of /proc and the descriptor limit, as Linux has
 * them: /proc/PID/status (its fields, memory by kind, signal masks, state
 * of a sleeping and a zombie child), smaps_rollup (its format, private and
 * shared pages across a fork and a copy-on-write), cmdline and environ (read from
 * another process's memory, a retitled process), exe (readlink, stat, open
 * and execve through it, a deleted program), cwd and root, fd/ (its
 * listing, modes, readlink of files, directories, pipes and deleted files,
 * reopening a file with new flags and a pipe end), and RLIMIT_NOFILE:
 * getrlimit/setrlimit/prlimit64 with their errnos, EMFILE at the soft
 * limit, EBADF and EINVAL from dup2 and F_DUPFD past it, a limit lowered
 * below an open descriptor, a table grown to 4000 descriptors, fork and
 * exec keeping both.
 *
 * The same binary runs on Linux (as root) and must pass there; the checks
 * that depend on TSKernel (its default limits, the console's link, the
 * leak check through /proc/memcheck as init) run only there.
 *
 * Arguments: `procfiles [DIR]` works in DIR (made if missing; default
 * /tmp/procfiles-PID). The modes after `--` are the exec'd halves of
 * checks. Prints "ok NAME" or "FAIL NAME: ..." per check, then
 * "procfiles: N checks" and "procfiles: N failed"; exits 0 only if all
 * passed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static int failures, checks;
static char base[512];  /* the scratch directory, absolute */
static char self[512];  /* this program, absolute */
static char text[65536]; /* scratch for reads */

/* ------------------------------------------------------------ reporting */

static long E(long result) {
    return result == -1 ? -errno : result;
}

static void check(const char *name, int ok, const char *fmt, ...) {
    checks++;
    if (ok) {
        printf("ok %s\n", name);
        return;
    }
    failures++;
    printf("FAIL %s: ", name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static const char *errno_name(long e) {
    static char buf[64];
    if (e >= 0) {
        snprintf(buf, sizeof buf, "%ld", e);
        return buf;
    }
    static const struct { int number; const char *name; } names[] = {
        {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EBADF, "EBADF"}, {EACCES, "EACCES"},
        {EFAULT, "EFAULT"}, {ENOTDIR, "ENOTDIR"}, {EINVAL, "EINVAL"}, {EMFILE, "EMFILE"}, {ELOOP, "ELOOP"},
        {ENXIO, "ENXIO"}, {ENOMEM, "ENOMEM"}, {EISDIR, "EISDIR"},
    };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (-e == names[i].number) {
            snprintf(buf, sizeof buf, "-%s", names[i].name);
            return buf;
        }
    snprintf(buf, sizeof buf, "-%ld (%s)", -e, strerror(-e));
    return buf;
}

static void expect_value(const char *name, long got, long expected) {
    if (got < 0 && got > -4096 && expected >= 0)
        check(name, 0, "got %s, expected %ld", errno_name(got), expected);
    else
        check(name, got == expected, "got %ld, expected %ld", got, expected);
}

static void expect_errno(const char *name, long got, int error) {
    char g[64];
    snprintf(g, sizeof g, "%s", errno_name(got));
    check(name, got == -error, "got %s, expected %s", g, errno_name(-error));
}

static void expect_true(const char *name, int ok) {
    check(name, ok, "not so");
}

static void expect_string(const char *name, const char *got, const char *expected) {
    check(name, strcmp(got, expected) == 0, "got \"%s\", expected \"%s\"", got, expected);
}

static void expect_bytes(const char *name, const char *got, long length, const char *expected, long expected_length) {
    char shown[256];
    long n = 0;
    for (long i = 0; i < length && n < (long)sizeof shown - 4; i++) n += snprintf(shown + n, sizeof shown - n, "%c",
                                                                           got[i] ? got[i] : '|');
    shown[n] = 0;
    check(name, length == expected_length && memcmp(got, expected, length) == 0, "got %ld bytes \"%s\" (| for NUL)",
          length, shown);
}

static int on_tskernel(void) {
    return access("/proc/memcheck", F_OK) == 0;
}

static void skip(const char *name, const char *why) {
    printf("skip %s: %s\n", name, why);
}

/* ------------------------------------------------------------- helpers */

static const char *P(const char *name) {
    static char paths[16][1024];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, 1024, "%s/%s", base, name);
    return p;
}

/* Reads all of path (up to cap - 1 bytes, NUL-terminated after); the length or -errno. */
static long read_file(const char *path, char *out, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -errno;
    long total = 0;
    for (;;) {
        long n = read(fd, out + total, cap - 1 - total);
        if (n < 0) {
            total = -errno;
            break;
        }
        if (n == 0 || (size_t)(total += n) == cap - 1) break;
    }
    close(fd);
    if (total >= 0) out[total] = 0;
    return total;
}

static long write_file(const char *path, const char *data) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -errno;
    long n = E(write(fd, data, strlen(data)));
    close(fd);
    return n;
}

static long link_text(const char *path, char *out, size_t cap) {
    long n = E(readlink(path, out, cap - 1));
    out[n >= 0 ? n : 0] = 0;
    return n;
}

static struct stat st_of(const char *path) {
    struct stat st;
    memset(&st, 0, sizeof st);
    if (stat(path, &st) != 0) st.st_ino = (ino_t)-1;
    return st;
}

static struct stat lst_of(const char *path) {
    struct stat st;
    memset(&st, 0, sizeof st);
    if (lstat(path, &st) != 0) st.st_ino = (ino_t)-1;
    return st;
}

static long stat_errno(const char *path) {
    struct stat st;
    return E(stat(path, &st));
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The last status read, after a newline (so that every line starts with one). */
static char status_buffer[8192] = "\n";
static const char *status = status_buffer + 1;

/* Reads the status file of pid (0: self); its length or -errno. */
static long read_status(pid_t pid) {
    char path[64];
    if (pid) snprintf(path, sizeof path, "/proc/%d/status", pid);
    else snprintf(path, sizeof path, "/proc/self/status");
    return read_file(path, status_buffer + 1, sizeof status_buffer - 1);
}

/* The rest of the line "KEY:\t..." in the last status read, or "" if it has none. */
static const char *field(const char *key) {
    static char value[256];
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\n%s:\t", key);
    const char *at = strstr(status_buffer, pattern);
    value[0] = 0;
    if (!at) return value;
    at += strlen(pattern);
    size_t n = strcspn(at, "\n");
    if (n >= sizeof value) n = sizeof value - 1;
    memcpy(value, at, n);
    value[n] = 0;
    return value;
}

static long number(const char *key) {
    const char *v = field(key);
    return *v ? strtol(v, 0, 10) : -1;
}

static unsigned long long mask(const char *key) {
    return strtoull(field(key), 0, 16);
}

/* The state letter (field 3) of /proc/PID/stat, or '?'. */
static char state_of(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_file(path, buf, sizeof buf) <= 0) return '?';
    char *close = strrchr(buf, ')');
    return close && close[1] == ' ' ? close[2] : '?';
}

/* Waits (up to 3 s) until pid's state is `state`. */
static int wait_state(pid_t pid, char state) {
    for (int i = 0; i < 300; i++) {
        if (state_of(pid) == state) return 1;
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, 0);
    }
    return 0;
}

static int status_of_child(pid_t child) {
    int status = 0;
    return waitpid(child, &status, 0) == child ? status : -1;
}

static void expect_exit(const char *name, int status, int code) {
    check(name, status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code, "wait status %#x, expected exit %d",
          status, code);
}

/* A child that blocks reading `hold` (a pipe) until the parent writes or closes it, then exits with 0. */
static pid_t sleeping_child(int *hold) {
    int p[2];
    if (pipe(p) != 0) return -1;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        close(p[1]);
        char c;
        read(p[0], &c, 1);
        _exit(0);
    }
    close(p[0]);
    *hold = p[1];
    return child;
}

/* Runs this program with `argv` (argv[0] is replaced by self) and `envp`; its wait status. */
static int run_self(char **argv, char **envp) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        argv[0] = self;
        execve(self, argv, envp);
        _exit(127);
    }
    return child < 0 ? -1 : status_of_child(child);
}

/* ---------------------------------------------------------------- status */

static void on_signal(int signal) {
    (void)signal;
}

static void status_self(void) {
    umask(027);
    long n = read_status(0);
    check("status-readable", n > 0, "read gave %s", errno_name(n));
    expect_string("status-name", field("Name"), "procfiles");
    expect_string("status-umask", field("Umask"), "0027");
    umask(022);
    expect_string("status-state-running", field("State"), "R (running)");
    expect_value("status-tgid", number("Tgid"), getpid());
    expect_value("status-pid", number("Pid"), getpid());
    expect_value("status-ppid", number("PPid"), getppid());
    expect_value("status-tracerpid", number("TracerPid"), 0);
    expect_string("status-uid", field("Uid"), "0\t0\t0\t0");
    expect_string("status-gid", field("Gid"), "0\t0\t0\t0");
    check("status-fdsize", number("FDSize") >= 64 && number("FDSize") % 64 == 0, "FDSize %ld", number("FDSize"));
    expect_value("status-threads", number("Threads"), 1);
    check("status-nspid", number("NSpid") == getpid(), "NSpid \"%s\"", field("NSpid"));
    long rss = number("VmRSS"), size = number("VmSize"), peak = number("VmPeak"), hwm = number("VmHWM");
    long anon = number("RssAnon"), file = number("RssFile"), shmem = number("RssShmem");
    check("status-vmrss-sum", rss > 0 && rss == anon + file + shmem, "VmRSS %ld, RssAnon %ld + RssFile %ld + RssShmem %ld",
          rss, anon, file, shmem);
    check("status-vmsize-covers-rss", size >= rss && peak >= size && hwm >= rss, "VmPeak %ld VmSize %ld VmHWM %ld VmRSS %ld",
          peak, size, hwm, rss);
    check("status-vm-parts", number("VmStk") > 0 && number("VmExe") > 0 && number("VmData") > 0 && number("VmPTE") > 0,
          "VmStk %ld VmExe %ld VmData %ld VmPTE %ld", number("VmStk"), number("VmExe"), number("VmData"), number("VmPTE"));
    expect_value("status-vmswap", number("VmSwap"), 0);
    expect_value("status-vmlck-none", number("VmLck"), 0);
    check("status-kb-width", ends_with(field("VmSize"), " kB") && strlen(field("VmSize")) >= 11, "VmSize \"%s\"",
          field("VmSize"));
    const char *order[] = {"Name", "Umask", "State", "Tgid", "Pid", "PPid", "Uid", "FDSize", "VmPeak", "VmSize", "VmRSS",
                           "VmSwap", "Threads", "SigPnd", "SigCgt", "voluntary_ctxt_switches"};
    int in_order = strncmp(status, "Name:\t", 6) == 0;
    for (unsigned i = 1; i < sizeof order / sizeof order[0]; i++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "\n%s:\t", order[i - 1]);
        snprintf(b, sizeof b, "\n%s:\t", order[i]);
        in_order &= strstr(status_buffer, a) != 0 && strstr(status_buffer, a) < strstr(status_buffer, b);
    }
    expect_true("status-field-order", in_order);

    /* Memory by kind moves as pages are touched and let go. */
    char *anon_map = mmap(0, 256 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *shared = mmap(0, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    read_status(0);
    long size_mapped = number("VmSize"), anon_before = number("RssAnon"), shmem_before = number("RssShmem");
    for (int i = 0; i < 256; i++) anon_map[i * PAGE] = 1;
    for (int i = 0; i < 16; i++) shared[i * PAGE] = 1;
    read_status(0);
    long anon_touched = number("RssAnon"), shmem_touched = number("RssShmem"), rss_touched = number("VmRSS");
    check("status-vmsize-counts-mappings", size_mapped >= size + 256 * 4 + 16 * 4, "VmSize %ld before, %ld with 1088 kB mapped",
          size, size_mapped);
    check("status-rssanon-grows", anon_touched - anon_before >= 1024 && anon_touched - anon_before < 1024 + 64,
          "RssAnon %ld before, %ld after touching 1024 kB", anon_before, anon_touched);
    expect_value("status-rssshmem-grows", shmem_touched - shmem_before, 64);
    munmap(anon_map, 256 * PAGE);
    munmap(shared, 16 * PAGE);
    read_status(0);
    /* Linux's resident counts are batched per thread (up to 64 faults), so its high-water mark may lag a little. */
    long slack = on_tskernel() ? 0 : 64 * 4;
    check("status-peaks-stay", number("VmHWM") + slack >= rss_touched && number("VmPeak") >= size_mapped &&
          number("VmRSS") <= rss_touched - 1024, "VmHWM %ld VmPeak %ld VmRSS %ld after unmapping (RSS was %ld)",
          number("VmHWM"), number("VmPeak"), number("VmRSS"), rss_touched);

    /* Locked memory: mlock and munlock of part of a mapping, MAP_LOCKED, mlockall, munlockall; fork drops locks. */
    char *lock_map = mmap(0, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect_value("mlock-part", E(mlock(lock_map + 8 * PAGE, 16 * PAGE)), 0);
    read_status(0);
    expect_value("status-vmlck-mlock", number("VmLck"), 64);
    expect_errno("madvise-dontneed-locked-einval", E(madvise(lock_map + 8 * PAGE, PAGE, MADV_DONTNEED)), EINVAL);
    expect_value("madvise-dontneed-unlocked-part", E(madvise(lock_map, 8 * PAGE, MADV_DONTNEED)), 0);
    expect_value("munlock-part", E(munlock(lock_map + 12 * PAGE, 4 * PAGE)), 0);
    read_status(0);
    expect_value("status-vmlck-munlock", number("VmLck"), 48);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        read_status(0);
        _exit(number("VmLck") == 0 ? 0 : 1);
    }
    expect_exit("fork-drops-memory-locks", status_of_child(child), 0);
    munmap(lock_map, 64 * PAGE);
    read_status(0);
    expect_value("status-vmlck-after-munmap", number("VmLck"), 0);
    lock_map = mmap(0, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    read_status(0);
    expect_value("status-vmlck-map-locked", number("VmLck"), 128);
    munmap(lock_map, 32 * PAGE);
    expect_value("mlockall-current", E(mlockall(MCL_CURRENT)), 0);
    read_status(0);
    check("status-vmlck-mlockall", number("VmLck") > 0 && number("VmLck") <= number("VmSize"), "VmLck %ld of VmSize %ld",
          number("VmLck"), number("VmSize"));
    expect_value("munlockall", E(munlockall()), 0);
    read_status(0);
    expect_value("status-vmlck-munlockall", number("VmLck"), 0);

    /* Signal masks: blocked, ignored, caught, pending. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_SETMASK, &set, &old);
    signal(SIGUSR2, SIG_IGN);
    signal(SIGTERM, on_signal);
    kill(getpid(), SIGUSR1);
    read_status(0);
    check("status-sigblk", mask("SigBlk") == 1ull << (SIGUSR1 - 1), "SigBlk %s", field("SigBlk"));
    check("status-sigign", (mask("SigIgn") & (1ull << (SIGUSR2 - 1))) != 0, "SigIgn %s", field("SigIgn"));
    check("status-sigcgt", (mask("SigCgt") & (1ull << (SIGTERM - 1))) != 0 && (mask("SigCgt") & (1ull << (SIGUSR2 - 1))) == 0,
          "SigCgt %s", field("SigCgt"));
    check("status-shdpnd", mask("ShdPnd") == 1ull << (SIGUSR1 - 1) && mask("SigPnd") == 0, "SigPnd %s ShdPnd %s",
          field("SigPnd"), field("ShdPnd"));
    check("status-sigq", atol(field("SigQ")) >= 1 && strchr(field("SigQ"), '/'), "SigQ %s", field("SigQ")); /* the user's, all processes */
    check("status-masks-16-digits", strlen(field("SigBlk")) == 16 && strlen(field("CapEff")) == 16, "SigBlk \"%s\"",
          field("SigBlk"));
    signal(SIGUSR1, SIG_IGN); /* the pending one is thrown away when unblocked */
    sigprocmask(SIG_SETMASK, &old, 0);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    read_status(0);
    check("status-signals-cleared", mask("SigBlk") == 0 && mask("ShdPnd") == 0 && (mask("SigCgt") & (1ull << (SIGTERM - 1))) == 0,
          "SigBlk %s ShdPnd %s SigCgt %s", field("SigBlk"), field("ShdPnd"), field("SigCgt"));

    long voluntary = number("voluntary_ctxt_switches");
    struct timespec t = {0, 20 * 1000 * 1000};
    nanosleep(&t, 0);
    nanosleep(&t, 0);
    read_status(0);
    check("status-voluntary-switches", voluntary >= 0 && number("voluntary_ctxt_switches") >= voluntary + 2,
          "%ld before two sleeps, %ld after", voluntary, number("voluntary_ctxt_switches"));
    check("status-nonvoluntary-switches", number("nonvoluntary_ctxt_switches") >= 0, "\"%s\"",
          field("nonvoluntary_ctxt_switches"));
}

static void status_children(void) {
    int hold;
    pid_t child = sleeping_child(&hold);
    check("child-sleeps", wait_state(child, 'S'), "state %c", state_of(child));
    read_status(child);
    expect_string("child-status-sleeping", field("State"), "S (sleeping)");
    expect_value("child-status-ppid", number("PPid"), getpid());
    expect_value("child-status-pid", number("Pid"), child);
    check("child-status-memory", number("VmRSS") > 0, "VmRSS %ld", number("VmRSS"));
    close(hold);
    check("child-becomes-zombie", wait_state(child, 'Z'), "state %c", state_of(child));
    read_status(child);
    expect_string("zombie-status-state", field("State"), "Z (zombie)");
    expect_true("zombie-status-no-memory", strstr(status, "VmSize") == 0 && strstr(status, "VmRSS") == 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", child);
    expect_value("zombie-cmdline-empty", read_file(path, text, sizeof text), 0);
    snprintf(path, sizeof path, "/proc/%d/exe", child);
    expect_errno("zombie-exe-enoent", link_text(path, text, sizeof text), ENOENT);
    expect_exit("zombie-reaped", status_of_child(child), 0);
    snprintf(path, sizeof path, "/proc/%d/status", child);
    expect_errno("reaped-status-enoent", read_file(path, text, sizeof text), ENOENT);
}

/* --------------------------------------------------------- cmdline, environ */

static const char expected_args_tail[] = "--args\0a b\0\0c";   /* after self */
static const char expected_env[] = "X=1\0Y=two words\0";

/* exec'd: shows its own cmdline and environ, then waits for the parent to read them from outside, then retitles. */
static int args_mode(int argc, char **argv) {
    (void)argc;
    static char want[1024];
    long n = snprintf(want, sizeof want, "%s", self);
    memcpy(want + n + 1, expected_args_tail, sizeof expected_args_tail);
    long want_length = n + 1 + sizeof expected_args_tail;
    long got = read_file("/proc/self/cmdline", text, sizeof text);
    int bad = !(got == want_length && memcmp(text, want, got) == 0);
    got = read_file("/proc/self/environ", text, sizeof text);
    bad |= (!(got == sizeof expected_env - 1 && memcmp(text, expected_env, got) == 0)) << 1;
    /* Hand-shake on fds 3 (to the parent) and 4 (from it). */
    char c = 'r';
    write(3, &c, 1);
    read(4, &c, 1);
    /* A changed argument shows in place; then a retitled process (the last NUL overwritten). */
    argv[1][0] = 'Z';
    write(3, &c, 1);
    read(4, &c, 1);
    char *end = argv[argc - 1] + strlen(argv[argc - 1]);
    memset(argv[0], 'x', end - argv[0] + 1);
    strcpy(argv[0], "retitled");
    write(3, &c, 1);
    read(4, &c, 1);
    return bad;
}

static void arguments(void) {
    int up[2], down[2];
    pipe(up);
    pipe(down);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        dup2(up[1], 3);
        dup2(down[0], 4);
        char *argv[] = {0, "--args", "a b", "", "c", 0};
        char *envp[] = {"X=1", "Y=two words", 0};
        argv[0] = self;
        execve(self, argv, envp);
        _exit(127);
    }
    close(up[1]);
    close(down[0]);
    char c, path[64], want[1024];
    long n = snprintf(want, sizeof want, "%s", self);
    memcpy(want + n + 1, expected_args_tail, sizeof expected_args_tail);
    long want_length = n + 1 + sizeof expected_args_tail;
    check("args-child-ready", read(up[0], &c, 1) == 1, "no word from the child");
    snprintf(path, sizeof path, "/proc/%d/cmdline", child);
    long got = read_file(path, text, sizeof text);
    expect_bytes("cmdline-of-other-process", text, got, want, want_length);
    snprintf(path, sizeof path, "/proc/%d/environ", child);
    got = read_file(path, text, sizeof text);
    expect_bytes("environ-of-other-process", text, got, expected_env, sizeof expected_env - 1);
    write(down[1], "g", 1);
    read(up[0], &c, 1);
    snprintf(path, sizeof path, "/proc/%d/cmdline", child);
    got = read_file(path, text, sizeof text);
    want[n + 1] = 'Z';
    expect_bytes("cmdline-shows-changed-argument", text, got, want, want_length);
    write(down[1], "g", 1);
    read(up[0], &c, 1);
    got = read_file(path, text, sizeof text);
    expect_bytes("cmdline-retitled", text, got, "retitled", 9);
    write(down[1], "g", 1);
    int status = status_of_child(child);
    check("cmdline-environ-of-self", status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child: wait status %#x (1: cmdline differs, 2: environ differs)", status);
    close(up[0]);
    close(down[1]);
    expect_true("cmdline-mode", (st_of("/proc/self/cmdline").st_mode & 07777) == 0444);
    expect_true("environ-mode-owner-only", (st_of("/proc/self/environ").st_mode & 07777) == 0400);
}

/* ------------------------------------------------------- exe, cwd, root */

static int exe_mode(void) {
    return 42;
}

/* exec'd from a copy: tells the parent it runs, then waits to be released. */
static int hold_mode(void) {
    char c = 'r';
    write(3, &c, 1);
    read(4, &c, 1);
    return 0;
}

static long copy_file(const char *from, const char *to) {
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in < 0 || out < 0) return -1;
    long n, total = 0;
    while ((n = read(in, text, sizeof text)) > 0) {
        if (write(out, text, n) != n) return -1;
        total += n;
    }
    close(in);
    close(out);
    return total;
}

static void links(void) {
    expect_string("exe-readlink", link_text("/proc/self/exe", text, sizeof text) > 0 ? text : "(error)", self);
    struct stat exe = st_of("/proc/self/exe"), prog = st_of(self);
    check("exe-stat-is-the-program", exe.st_ino == prog.st_ino && exe.st_dev == prog.st_dev, "ino %ld vs %ld",
          (long)exe.st_ino, (long)prog.st_ino);
    struct stat l = lst_of("/proc/self/exe");
    check("exe-lstat-link-0777", S_ISLNK(l.st_mode) && (l.st_mode & 07777) == 0777, "mode %o", l.st_mode);
    char magic[4] = {0};
    int fd = open("/proc/self/exe", O_RDONLY);
    check("exe-open-reads-elf", fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0, "fd %d", fd);
    if (fd >= 0) close(fd);
    expect_errno("exe-nofollow-eloop", E(open("/proc/self/exe", O_RDONLY | O_NOFOLLOW)), ELOOP);
    expect_errno("exe-trailing-slash-enotdir", stat_errno("/proc/self/exe/"), ENOTDIR);
    /* busybox re-executes itself this way. */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char *argv[] = {"renamed", "--exe", 0};
        execve("/proc/self/exe", argv, environ);
        _exit(127);
    }
    expect_exit("execve-proc-self-exe", status_of_child(child), 42);

    /* A program whose file is deleted while it runs: " (deleted)", and still openable. */
    int up[2], down[2];
    pipe(up);
    pipe(down);
    check("exe-copy", copy_file(self, P("copy")) > 0, "copy failed");
    fflush(stdout);
    child = fork();
    if (child == 0) {
        dup2(up[1], 3);
        dup2(down[0], 4);
        char *argv[] = {(char *)P("copy"), "--hold", 0};
        execve(argv[0], argv, environ);
        _exit(127);
    }
    close(up[1]);
    close(down[0]);
    char c, path[64];
    check("exe-copy-runs", read(up[0], &c, 1) == 1, "no word from the child");
    snprintf(path, sizeof path, "/proc/%d/exe", child);
    expect_string("exe-of-other-process", link_text(path, text, sizeof text) > 0 ? text : "(error)", P("copy"));
    unlink(P("copy"));
    link_text(path, text, sizeof text);
    check("exe-deleted", text[0] == '/' && ends_with(text, "copy (deleted)"), "got \"%s\"", text);
    fd = open(path, O_RDONLY);
    check("exe-deleted-still-opens", fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0, "fd %d", fd);
    if (fd >= 0) close(fd);
    write(down[1], "g", 1);
    expect_exit("exe-copy-exits", status_of_child(child), 0);
    close(up[0]);
    close(down[1]);

    /* cwd and root. */
    int home = open(".", O_RDONLY | O_DIRECTORY);
    chdir(base);
    expect_string("cwd-readlink", link_text("/proc/self/cwd", text, sizeof text) > 0 ? text : "(error)", base);
    write_file(P("here"), "x");
    check("cwd-walks-on", st_of("/proc/self/cwd/here").st_ino == st_of(P("here")).st_ino, "stat through cwd differs");
    unlink(P("here"));
    mkdir(P("gone"), 0755);
    chdir(P("gone"));
    rmdir(P("gone"));
    link_text("/proc/self/cwd", text, sizeof text);
    check("cwd-deleted", text[0] == '/' && ends_with(text, "gone (deleted)"), "got \"%s\"", text);
    fchdir(home);
    close(home);
    expect_string("root-readlink", link_text("/proc/self/root", text, sizeof text) > 0 ? text : "(error)", "/");
    check("root-is-root", st_of("/proc/self/root").st_ino == st_of("/").st_ino, "stat differs");
    check("root-walks-on", st_of("/proc/self/root/proc/self/status").st_mode == st_of("/proc/self/status").st_mode,
          "not the same file");
}

/* ------------------------------------------------------------------- fd/ */

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Whether the listing of /proc/self/fd is exactly the open descriptors (its own included), all links. */
static int fd_listing_matches(void) {
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    if (dir < 0) return 0;
    static char seen[4096];
    memset(seen, 0, sizeof seen);
    char buf[4096];
    long n;
    int ok = 1;
    while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
        for (long at = 0; at < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + at);
            at += d->d_reclen;
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) {
                ok &= d->d_type == DT_DIR;
                continue;
            }
            int fd = atoi(d->d_name);
            ok &= d->d_type == DT_LNK && fd >= 0 && fd < 4096 && fcntl(fd, F_GETFD) >= 0;
            if (fd >= 0 && fd < 4096) seen[fd] = 1;
        }
    }
    for (int fd = 0; fd < 4096; fd++) ok &= seen[fd] == (fcntl(fd, F_GETFD) >= 0);
    close(dir);
    return ok;
}

static mode_t link_mode(int fd) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return lst_of(path).st_mode;
}

static const char *fd_link(int fd) {
    static char buf[4200];
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (link_text(path, buf, sizeof buf) < 0) snprintf(buf, sizeof buf, "(%s)", strerror(errno));
    return buf;
}

static int fd_open(int fd, int flags) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, flags);
}

static void descriptors(void) {
    write_file(P("f"), "hello");
    int r = open(P("f"), O_RDONLY), w = open(P("f"), O_WRONLY | O_APPEND), rw = open(P("f"), O_RDWR);
    int path_only = open(P("f"), O_PATH), dir = open(base, O_RDONLY | O_DIRECTORY);
    expect_string("fd-link-file", fd_link(r), P("f"));
    expect_string("fd-link-directory", fd_link(dir), base);
    expect_string("fd-link-o-path", fd_link(path_only), P("f"));
    check("fd-link-modes", link_mode(r) == (S_IFLNK | 0500) && link_mode(w) == (S_IFLNK | 0300) &&
          link_mode(rw) == (S_IFLNK | 0700) && link_mode(path_only) == S_IFLNK, "modes %o %o %o %o", link_mode(r),
          link_mode(w), link_mode(rw), link_mode(path_only));
    check("fd-dir-mode", (st_of("/proc/self/fd").st_mode & 07777) == 0500, "mode %o", st_of("/proc/self/fd").st_mode);
    expect_true("fd-listing-is-the-open-descriptors", fd_listing_matches());
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", r);
    check("fd-stat-is-the-file", st_of(path).st_ino == st_of(P("f")).st_ino, "ino differs");
    expect_errno("fd-nofollow-eloop", E(open(path, O_RDONLY | O_NOFOLLOW)), ELOOP);
    /* Reopening: a new open file of the same inode, with its own offset and flags. */
    char buf[16] = {0};
    read(rw, buf, 5);
    int again = fd_open(w, O_RDONLY);
    memset(buf, 0, sizeof buf);
    check("fd-reopen-new-flags-and-offset", again >= 0 && read(again, buf, 16) == 5 && !strcmp(buf, "hello") &&
          (fcntl(again, F_GETFL) & O_ACCMODE) == O_RDONLY, "fd %d read \"%s\"", again, buf);
    if (again >= 0) close(again);
    again = fd_open(r, O_WRONLY | O_TRUNC);
    check("fd-reopen-read-only-for-writing", again >= 0 && write(again, "bye", 3) == 3 && st_of(P("f")).st_size == 3,
          "fd %d, size %ld", again, (long)st_of(P("f")).st_size);
    if (again >= 0) close(again);
    /* A deleted file. */
    unlink(P("f"));
    check("fd-link-deleted", ends_with(fd_link(r), "/f (deleted)"), "got \"%s\"", fd_link(r));
    again = fd_open(r, O_RDONLY);
    memset(buf, 0, sizeof buf);
    check("fd-reopen-deleted", again >= 0 && read(again, buf, 16) == 3 && !strcmp(buf, "bye"), "fd %d read \"%s\"", again, buf);
    if (again >= 0) close(again);
    close(r);
    close(w);
    close(rw);
    close(path_only);
    close(dir);
    snprintf(path, sizeof path, "/proc/self/fd/%d", r);
    expect_errno("fd-closed-enoent", link_text(path, text, sizeof text), ENOENT);
    expect_errno("fd-leading-zero-enoent", stat_errno("/proc/self/fd/01"), ENOENT);
    expect_errno("fd-name-enoent", stat_errno("/proc/self/fd/x"), ENOENT);

    /* Pipes: both ends are one inode, pipe:[INO]; reopening gives a new end of the same pipe. */
    int p[2];
    pipe(p);
    struct stat a, b;
    fstat(p[0], &a);
    fstat(p[1], &b);
    char want[64];
    snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)a.st_ino);
    check("pipe-ends-one-inode", a.st_ino == b.st_ino && a.st_dev == b.st_dev, "ino %lu and %lu", (unsigned long)a.st_ino,
          (unsigned long)b.st_ino);
    expect_string("fd-link-pipe-read", fd_link(p[0]), want);
    expect_string("fd-link-pipe-write", fd_link(p[1]), want);
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
    struct stat through = st_of(path);
    check("fd-pipe-stat-fifo", S_ISFIFO(through.st_mode) && through.st_ino == a.st_ino, "mode %o ino %lu", through.st_mode,
          (unsigned long)through.st_ino);
    int reader = fd_open(p[0], O_RDONLY), writer = fd_open(p[0], O_WRONLY | O_NONBLOCK);
    memset(buf, 0, sizeof buf);
    check("fd-reopen-pipe-reader", reader >= 0 && write(p[1], "ab", 2) == 2 && read(reader, buf, 16) == 2 && !strcmp(buf, "ab"),
          "fd %d read \"%s\"", reader, buf);
    memset(buf, 0, sizeof buf);
    check("fd-reopen-pipe-writer", writer >= 0 && write(writer, "cd", 2) == 2 && read(p[0], buf, 16) == 2 &&
          !strcmp(buf, "cd") && (fcntl(writer, F_GETFL) & O_NONBLOCK), "fd %d read \"%s\"", writer, buf);
    close(p[1]);
    close(writer);
    check("pipe-eof-after-all-writers", read(reader, buf, 16) == 0, "not at end of file");
    close(reader);
    close(p[0]);

    /* Another process's descriptors. */
    int hold;
    int keep = open(base, O_RDONLY | O_DIRECTORY);
    pid_t child = sleeping_child(&hold);
    snprintf(path, sizeof path, "/proc/%d/fd/%d", child, keep);
    expect_string("fd-link-other-process", link_text(path, text, sizeof text) > 0 ? text : "(error)", base);
    close(keep);
    close(hold);
    status_of_child(child);

    if (on_tskernel()) expect_string("fd-link-console", fd_link(0), "/dev/console");
    else skip("fd-link-console", "the console's node depends on the system");
}

static void listing(void) {
    static const struct { const char *name; unsigned char type; } want[] = {
        {"status", DT_REG}, {"cmdline", DT_REG}, {"environ", DT_REG}, {"stat", DT_REG}, {"maps", DT_REG},
        {"mounts", DT_REG}, {"exe", DT_LNK}, {"cwd", DT_LNK}, {"root", DT_LNK}, {"fd", DT_DIR},
    };
    int dir = open("/proc/self", O_RDONLY | O_DIRECTORY);
    char buf[8192];
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    close(dir);
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
        int found = 0;
        for (long at = 0; at < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + at);
            at += d->d_reclen;
            if (!strcmp(d->d_name, want[i].name)) found = d->d_type == want[i].type ? 1 : -1;
        }
        char name[64];
        snprintf(name, sizeof name, "proc-self-lists-%s", want[i].name);
        check(name, found == 1, found ? "wrong d_type" : "not listed");
    }
}

/* ------------------------------------------------------ RLIMIT_NOFILE */

static int limit_mode(char **argv) {
    struct rlimit l;
    getrlimit(RLIMIT_NOFILE, &l);
    int fd = atoi(argv[4]);
    return (long)l.rlim_cur == atol(argv[2]) && (long)l.rlim_max == atol(argv[3]) && fcntl(fd, F_GETFD) >= 0 ? 0 : 1;
}

static int fork_sees_limit(long soft, int fd) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct rlimit l;
        getrlimit(RLIMIT_NOFILE, &l);
        _exit((long)l.rlim_cur == soft && fcntl(fd, F_GETFD) >= 0 ? 0 : 1);
    }
    return status_of_child(child);
}

static void nofile(void) {
    struct rlimit start, l;
    expect_value("getrlimit-nofile", E(getrlimit(RLIMIT_NOFILE, &start)), 0);
    if (on_tskernel()) {
        check("nofile-defaults", start.rlim_cur == 1024 && start.rlim_max == 4096, "soft %lu hard %lu",
              (unsigned long)start.rlim_cur, (unsigned long)start.rlim_max);
    } else {
        skip("nofile-defaults", "the host's own limits");
    }
    expect_value("getdtablesize-is-soft-limit", getdtablesize(), (long)start.rlim_cur);
    /* Errnos, in Linux's order of checks. */
    expect_errno("getrlimit-null-efault", syscall(SYS_getrlimit, RLIMIT_NOFILE, 0) == -1 ? -errno : 0, EFAULT);
    expect_errno("setrlimit-null-efault", syscall(SYS_setrlimit, RLIMIT_NOFILE, 0) == -1 ? -errno : 0, EFAULT);
    expect_errno("getrlimit-bad-resource-einval", syscall(SYS_getrlimit, 16, &l) == -1 ? -errno : 0, EINVAL);
    expect_errno("setrlimit-bad-resource-null-efault", syscall(SYS_setrlimit, 99, 0) == -1 ? -errno : 0, EFAULT);
    l.rlim_cur = start.rlim_max + 1;
    l.rlim_max = start.rlim_max;
    expect_errno("setrlimit-soft-above-hard-einval", E(setrlimit(RLIMIT_NOFILE, &l)), EINVAL);
    l.rlim_cur = 1024;
    l.rlim_max = 1024 * 1024 + 1;
    expect_errno("setrlimit-above-nr-open-eperm", E(setrlimit(RLIMIT_NOFILE, &l)), EPERM);
    l.rlim_cur = 4096;
    l.rlim_max = 8192;
    expect_value("setrlimit-raise-hard-as-root", E(setrlimit(RLIMIT_NOFILE, &l)), 0);
    struct rlimit got;
    getrlimit(RLIMIT_NOFILE, &got);
    check("getrlimit-after-setrlimit", got.rlim_cur == 4096 && got.rlim_max == 8192, "soft %lu hard %lu",
          (unsigned long)got.rlim_cur, (unsigned long)got.rlim_max);

    /* A table grown on demand, inherited by fork and kept by exec. */
    expect_value("dup2-far-descriptor", E(dup2(0, 4000)), 4000);
    read_status(0);
    check("fdsize-grows", number("FDSize") >= 4001, "FDSize %ld", number("FDSize"));
    int low = dup(0);
    check("dup-takes-lowest-after-growth", low >= 3 && low < 64, "dup gave %d", low);
    close(low);
    expect_exit("fork-copies-table-and-limit", fork_sees_limit(4096, 4000), 0);
    char *argv[] = {0, "--limit", "4096", "8192", "4000", 0};
    expect_exit("exec-keeps-table-and-limit", run_self(argv, environ), 0);
    static int many[1200];
    int opened = 0;
    while (opened < 1200 && (many[opened] = dup(1)) >= 0) opened++;
    expect_value("twelve-hundred-descriptors", opened, 1200);
    for (int i = 0; i < opened; i++) close(many[i]);

    /* prlimit64 on another process, and on none. */
    int hold;
    pid_t child = sleeping_child(&hold);
    struct rlimit theirs = {100, 200}, old;
    expect_value("prlimit-other-process", syscall(SYS_prlimit64, child, RLIMIT_NOFILE, &theirs, &old), 0);
    check("prlimit-other-old-value", old.rlim_cur == 4096 && old.rlim_max == 8192, "old soft %lu hard %lu",
          (unsigned long)old.rlim_cur, (unsigned long)old.rlim_max);
    syscall(SYS_prlimit64, child, RLIMIT_NOFILE, 0, &old);
    check("prlimit-other-new-value", old.rlim_cur == 100 && old.rlim_max == 200, "soft %lu hard %lu",
          (unsigned long)old.rlim_cur, (unsigned long)old.rlim_max);
    close(hold);
    status_of_child(child);
    expect_errno("prlimit-reaped-esrch", syscall(SYS_prlimit64, child, RLIMIT_NOFILE, 0, &old) == -1 ? -errno : 0, ESRCH);

    /* The soft limit, lowered below an open descriptor. */
    int high = dup2(0, 20);
    l.rlim_cur = 10;
    l.rlim_max = 8192;
    expect_value("setrlimit-below-open-descriptor", E(setrlimit(RLIMIT_NOFILE, &l)), 0);
    check("open-descriptor-above-limit-stays", fcntl(high, F_GETFD) >= 0 && fcntl(4000, F_GETFD) >= 0, "closed");
    int got_fd = -1, fd;
    long error = 0;
    while ((fd = open("/proc/self/stat", O_RDONLY)) >= 0) got_fd = fd;
    error = -errno;
    check("open-emfile-at-soft-limit", got_fd == 9 && error == -EMFILE, "last fd %d, then %s", got_fd, errno_name(error));
    expect_errno("dup-emfile", E(dup(0)), EMFILE);
    expect_errno("fcntl-dupfd-emfile", E(fcntl(0, F_DUPFD, 5)), EMFILE);
    expect_errno("fcntl-dupfd-at-limit-einval", E(fcntl(0, F_DUPFD, 10)), EINVAL);
    expect_errno("fcntl-dupfd-cloexec-at-limit-einval", E(fcntl(0, F_DUPFD_CLOEXEC, 10)), EINVAL);
    int p[2];
    expect_errno("pipe-emfile", E(pipe(p)), EMFILE);
    expect_errno("dup2-at-limit-ebadf", E(dup2(0, 10)), EBADF);
    expect_errno("dup2-onto-open-above-limit-ebadf", E(dup2(0, 20)), EBADF);
    expect_errno("dup3-at-limit-ebadf", E(dup3(0, 10, 0)), EBADF);
    expect_value("dup2-from-above-limit", E(dup2(high, 9)), 9);
    expect_errno("dup3-same-einval", E(dup3(5, 5, 0)), EINVAL);
    expect_errno("dup2-same-closed-ebadf", E(dup2(4001, 4001)), EBADF);
    struct pollfd many_polls[11];
    memset(many_polls, 0, sizeof many_polls);
    expect_errno("poll-more-than-limit-einval", E(poll(many_polls, 11, 0)), EINVAL);
    for (fd = 3; fd <= 9; fd++) close(fd);
    close(high);
    close(4000);
    setrlimit(RLIMIT_NOFILE, &start);
}

/* ------------------------------------------------------------- leak check */

static long memcheck_number(const char *key) {
    static char buf[2048];
    int fd = open("/proc/memcheck", O_RDONLY);
    if (fd < 0) return -1;
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    char *at = strstr(buf, key);
    return at ? atol(at + strlen(key)) : -1;
}

/* Everything above that holds kernel memory, in a child: /proc texts, links, reopened pipes, a grown table. */
static int leak_child(void) {
    struct rlimit l = {4096, 4096};
    setrlimit(RLIMIT_NOFILE, &l);
    dup2(0, 4000);
    for (int i = 0; i < 100; i++) dup(1);
    read_file("/proc/self/status", text, sizeof text);
    read_file("/proc/self/cmdline", text, sizeof text);
    read_file("/proc/self/environ", text, sizeof text);
    read_file("/proc/self/stat", text, sizeof text);
    int p[2];
    pipe(p);
    fd_open(p[0], O_RDONLY);
    fd_open(p[1], O_WRONLY);
    open("/proc/self/exe", O_RDONLY);
    open("/proc/self/cwd", O_RDONLY | O_DIRECTORY);
    open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    int kept = open("/proc/self/status", O_RDONLY);
    fd_open(kept, O_RDONLY);
    fd_link(kept);
    fd_listing_matches();
    return 0;
}

static void leak_check(void) {
    if (!on_tskernel() || getpid() != 1) {
        skip("leak-check", "only as TSKernel's init (pid 1 with /proc/memcheck)");
        return;
    }
    fflush(stdout);
    pid_t warm = fork();
    if (warm == 0) _exit(leak_child());
    status_of_child(warm);
    long frames = memcheck_number("free_frames "), objects = memcheck_number("kernel_objects ");
    pid_t child = fork();
    if (child == 0) _exit(leak_child());
    int status = status_of_child(child);
    long problems = memcheck_number("problems ");
    expect_exit("leak-child", status, 0);
    expect_value("leak-memcheck-problems-0", problems, 0);
    check("leak-free-frames-unchanged", memcheck_number("free_frames ") == frames, "free_frames %ld before, %ld after",
          frames, memcheck_number("free_frames "));
    check("leak-kernel-objects-unchanged", memcheck_number("kernel_objects ") == objects,
          "kernel_objects %ld before, %ld after", objects, memcheck_number("kernel_objects "));
}

/* ------------------------------------------------------- smaps_rollup */

/* The last smaps_rollup read, after a newline (so that every line starts with one). */
static char rollup_buffer[4096] = "\n";

static long read_rollup(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    return read_file(path, rollup_buffer + 1, sizeof rollup_buffer - 1);
}

/* The kB of "KEY:" in the last smaps_rollup read, or -1. */
static long rollup(const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\n%s:", key);
    const char *at = strstr(rollup_buffer, pattern);
    return at ? strtol(at + strlen(pattern), 0, 10) : -1;
}

static long shared_kb(void) {
    return rollup("Shared_Clean") + rollup("Shared_Dirty");
}

static long private_kb(void) {
    return rollup("Private_Clean") + rollup("Private_Dirty");
}

/*
 * smaps_rollup's format (Linux 6.1's fields in its order; later kernels add
 * some) and its accounting: 64 pages written are private and dirty; after a
 * fork they are shared, the child's Pss counting half of each; once the
 * parent writes them again, the child's copies are its own.
 */
static void smaps_rollup(void) {
    static const char *fields[] = {"Rss", "Pss", "Pss_Dirty", "Pss_Anon", "Pss_File", "Pss_Shmem", "Shared_Clean",
        "Shared_Dirty", "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "LazyFree", "AnonHugePages",
        "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked"};
    enum { PAGES = 64, KB = PAGES * PAGE / 1024 };
    long n = read_rollup(getpid());
    check("smaps-rollup-readable", n > 0, "read gave %s", errno_name(n));
    unsigned long low, high;
    char tail[64] = "";
    int header = sscanf(rollup_buffer + 1, "%lx-%lx ---p 00000000 00:00 0 %63s", &low, &high, tail) == 3;
    check("smaps-rollup-header", header && low < high && !strcmp(tail, "[rollup]") && strchr(rollup_buffer + 1, '\n') -
          (rollup_buffer + 1) == 73 + 8, "%.100s", rollup_buffer + 1);
    const char *at = rollup_buffer;
    int ordered = 1;
    for (unsigned i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char pattern[64];
        snprintf(pattern, sizeof pattern, "\n%s:", fields[i]);
        const char *found = strstr(at, pattern);
        if (!found) {
            ordered = 0;
            printf("  smaps_rollup: no %s after the fields before it\n", fields[i]);
            break;
        }
        at = found + 1;
    }
    check("smaps-rollup-fields-in-order", ordered, "%s", rollup_buffer + 1);
    long before_dirty = rollup("Private_Dirty"), before_anon = rollup("Anonymous");

    char *pages = mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
        check("smaps-rollup-mmap", 0, "mmap: %s", strerror(errno));
        return;
    }
    for (int i = 0; i < PAGES; i++) pages[i * PAGE] = 1;
    read_rollup(getpid());
    check("smaps-rollup-sums", rollup("Rss") == shared_kb() + private_kb() && rollup("Pss") <= rollup("Rss"),
          "Rss %ld, shared %ld, private %ld, Pss %ld", rollup("Rss"), shared_kb(), private_kb(), rollup("Pss"));
    check("smaps-rollup-written-private-dirty", rollup("Private_Dirty") - before_dirty >= KB &&
          rollup("Anonymous") - before_anon >= KB, "Private_Dirty %ld then %ld, Anonymous %ld then %ld kB", before_dirty,
          rollup("Private_Dirty"), before_anon, rollup("Anonymous"));

    int hold;
    pid_t child = sleeping_child(&hold);
    if (child < 0) {
        check("smaps-rollup-fork", 0, "fork: %s", strerror(errno));
        munmap(pages, PAGES * PAGE);
        return;
    }
    /* Asleep in read, the child has faulted in what it runs (Linux's fork leaves file pages to faults); and only
     * anonymous pages are compared, which fork maps in both. */
    wait_state(child, 'S');
    read_rollup(child);
    long shared = shared_kb(), private = private_kb(), rss = rollup("Rss"), anon = rollup("Anonymous");
    long pss_anon = rollup("Pss_Anon");
    check("smaps-rollup-shared-after-fork", shared >= KB && pss_anon <= anon - KB / 2 && rss == shared + private,
          "child: Rss %ld, shared %ld, private %ld, Anonymous %ld, Pss_Anon %ld kB", rss, shared, private, anon, pss_anon);
    for (int i = 0; i < PAGES; i++) pages[i * PAGE] = 2; /* the parent's own copies now */
    read_rollup(child);
    check("smaps-rollup-private-after-copy", private_kb() - private >= KB && rollup("Pss_Anon") - pss_anon >= KB / 2,
          "child: private %ld then %ld, Pss_Anon %ld then %ld kB", private, private_kb(), pss_anon, rollup("Pss_Anon"));
    close(hold);
    expect_exit("smaps-rollup-child", status_of_child(child), 0);
    munmap(pages, PAGES * PAGE);
}

/* ------------------------------------------------------------------ main */

/* /proc/uptime: seconds up and seconds idle (all CPUs), to the hundredth; both grow, idle never past up times CPUs. */
static void uptime_file(void) {
    FILE *f = fopen("/proc/uptime", "r");
    double up = -1, idle = -1, up2 = -1, idle2 = -1;
    char dot1, dot2;
    int parsed = f && fscanf(f, "%lf %lf", &up, &idle) == 2;
    if (f) fclose(f);
    f = fopen("/proc/uptime", "r");
    char text[64] = {0};
    if (f) {
        fgets(text, sizeof text, f);
        fclose(f);
    }
    int hundredths = sscanf(text, "%*d%c%*2d %*d%c%*2d", &dot1, &dot2) == 2 && dot1 == '.' && dot2 == '.';
    struct timespec pause = {0, 50000000};
    nanosleep(&pause, 0);
    f = fopen("/proc/uptime", "r");
    if (f && fscanf(f, "%lf %lf", &up2, &idle2) != 2) up2 = -1;
    if (f) fclose(f);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    check("uptime-format", parsed && hundredths, "%s", text);
    check("uptime-grows", up > 0 && up2 >= up + 0.04 && idle >= 0 && idle2 >= idle && idle <= up * cpus + 0.01,
          "%.2f %.2f then %.2f %.2f", up, idle, up2, idle2);
}

int main(int argc, char **argv) {
    if (argv[0][0] == '/') {
        snprintf(self, sizeof self, "%s", argv[0]);
    } else {
        char here[400];
        if (!getcwd(here, sizeof here)) here[0] = 0;
        snprintf(self, sizeof self, "%s/%s", here, argv[0]);
    }
    if (argc >= 2 && !strcmp(argv[1], "--args")) return args_mode(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "--exe")) return exe_mode();
    if (argc >= 2 && !strcmp(argv[1], "--hold")) return hold_mode();
    if (argc >= 5 && !strcmp(argv[1], "--limit")) return limit_mode(argv);
    setvbuf(stdout, 0, _IOLBF, 0);
    char dir[400];
    if (argc >= 2) snprintf(dir, sizeof dir, "%s", argv[1]);
    else snprintf(dir, sizeof dir, "/tmp/procfiles-%d", getpid());
    int made = mkdir(dir, 0755) == 0;
    int home = open(".", O_RDONLY | O_DIRECTORY);
    if (chdir(dir) != 0 || !getcwd(base, sizeof base)) {
        printf("FAIL scratch-dir: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    fchdir(home);
    close(home);
    printf("procfiles: working in %s (pid %d)\n", base, getpid());

    status_self();
    status_children();
    arguments();
    links();
    descriptors();
    listing();
    nofile();
    uptime_file();
    smaps_rollup();
    leak_check();

    if (made) rmdir(base);
    printf("procfiles: %d checks\n", checks);
    printf("procfiles: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
