/* ltp-run: runs Linux Test Project tests as init (pid 1), one after the other.
 *
 *   ltp-run [-t SECONDS] [-m TIMEOUT_MUL] [BATCH_FILE]
 *
 * BATCH_FILE (default /ltp/batch) holds one test per line as in LTP's
 * runtest/syscalls: `TAG PROGRAM ARGS...`; blank lines and lines starting
 * with '#' are skipped. Each test runs in a child with LTP's environment
 * (KCONFIG_SKIP_CHECK=1, TMPDIR=/tmp, LTPROOT=/ltp,
 * PATH=/ltp/bin:/bin:/usr/sbin:/sbin, LTP_DEV=/dev/vda when the scratch
 * disk is there, and LTP_TIMEOUT_MUL with -m), its output going to the console as it is, and is
 * given SECONDS (default 60) of wall-clock time: then it is killed with
 * SIGKILL. After each test every other process left over (the test's own
 * children) is killed too and everything is reaped, so each test starts
 * alone. Each test is framed by machine-readable lines:
 *
 *   LTP-START tag=brk01 program=brk01
 *   LTP-RESULT tag=brk01 status=PASS exit=0 signal=0 seconds=0.42
 *
 * status comes from the exit status, the OR of LTP's result bits: 0 PASS;
 * bit 1 (TFAIL) FAIL; else bit 2 (TBROK) BROK; else bit 4 (TWARN) WARN; 32
 * alone (TCONF) CONF; any other exit status (exec failed: 127) BROK. Killed
 * by a signal: BROK with signal=N; out of time: FAIL with timeout=1. The
 * batch starts with `LTP-BATCH tests=N timeout=T` and ends with `LTP-DONE`;
 * ltp-run then exits 0, whatever the tests did. Nothing a test does (no
 * TMPDIR, a crash, a hang) stops the batch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH (1 << 20)
#define MAX_ARGS 64

static void say(const char *format, ...) {
    char line[1024];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n < 0) return;
    if (n >= (int)sizeof line) n = sizeof line - 1;
    for (int done = 0; done < n;) {
        ssize_t w = write(1, line + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        done += w;
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void pause_ms(long ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {
    }
}

/* Kills every process but this one and reaps them all (with any zombie
 * left), giving up after `seconds`. Returns whether anything was left. */
static int kill_and_reap_all(double seconds) {
    /* Every process left is a child of init (orphans come to it), so "no
     * child" means none is left: kill(-1, 0) would also count the kernel's
     * own threads, which, as on Linux, take no signal and never end. */
    siginfo_t info;
    int left = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
    double deadline = now() + seconds;
    for (int round = 0;; round++) {
        if (round % 50 == 0) kill(-1, SIGKILL);
        int status;
        pid_t pid = wait4(-1, &status, WNOHANG, NULL);
        if (pid > 0) continue;
        if (pid < 0 && errno == EINTR) continue;
        if (pid < 0 && errno == ECHILD) break;  /* nobody left at all */
        if (now() > deadline) {
            say("ltp-run: processes still there after SIGKILL and %.0f s; carrying on\n", seconds);
            break;
        }
        pause_ms(5);
    }
    return left;
}

static char *read_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    char *text = malloc(MAX_BATCH + 1);
    if (!text) {
        close(fd);
        return NULL;
    }
    size_t size = 0;
    while (size < MAX_BATCH) {
        ssize_t n = read(fd, text + size, MAX_BATCH - size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        size += n;
    }
    close(fd);
    text[size] = 0;
    return text;
}

static char *environment[16];

static void exec_test(char **argv) {
    char path[512];
    const char *program = argv[0];
    if (strchr(program, '/')) {
        execve(program, argv, environment);
    } else {
        static const char *const dirs[] = { "/ltp/bin", "/bin" };
        for (unsigned i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", dirs[i], program);
            execve(path, argv, environment);
        }
    }
    say("ltp-run: cannot run %s: %s\n", program, strerror(errno));
    _exit(127);
}

/* Runs one test; prints its LTP-RESULT line. */
static void run_test(char *tag, char **argv, double limit) {
    say("LTP-START tag=%s program=%s\n", tag, argv[0]);
    double started = now();
    pid_t child = fork();
    if (child < 0) {
        say("ltp-run: fork: %s\n", strerror(errno));
        say("LTP-RESULT tag=%s status=BROK exit=-1 signal=0 seconds=0.00 fork=failed\n", tag);
        return;
    }
    if (child == 0) {
        /* A fresh default signal state for the test. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        exec_test(argv);
    }
    int status = 0, done = 0, timed_out = 0;
    long sleep_ms = 1;
    while (!done) {
        int s;
        pid_t pid = wait4(-1, &s, WNOHANG, NULL);
        if (pid == child) {
            status = s;
            done = 1;
            break;
        }
        if (pid > 0) continue;  /* an orphan re-parented to us: reaped */
        if (pid < 0 && errno != EINTR && errno != ECHILD) {
            say("ltp-run: wait4: %s\n", strerror(errno));
        }
        if (pid < 0 && errno == ECHILD) {
            /* Should not happen while the child lives: treat as lost. */
            say("ltp-run: %s: the test process vanished without a status\n", tag);
            status = -1;
            done = 1;
            break;
        }
        if (now() - started > limit) {
            timed_out = 1;
            kill(child, SIGKILL);
            kill(-1, SIGKILL);
            /* Collect the test's own status if it comes. */
            double deadline = now() + 10;
            while (now() < deadline) {
                pid = wait4(child, &s, WNOHANG, NULL);
                if (pid == child) {
                    status = s;
                    break;
                }
                if (pid < 0 && errno != EINTR) break;
                pause_ms(10);
            }
            done = 1;
            break;
        }
        pause_ms(sleep_ms);
        if (sleep_ms < 20) sleep_ms *= 2;
    }
    double seconds = now() - started;
    int leftovers = kill_and_reap_all(10);

    const char *verdict;
    int code = -1, signal = 0;
    if (timed_out) {
        verdict = "FAIL";
        if (status != -1 && WIFSIGNALED(status)) signal = WTERMSIG(status);
    } else if (status == -1) {
        verdict = "BROK";
    } else if (WIFSIGNALED(status)) {
        verdict = "BROK";
        signal = WTERMSIG(status);
    } else {
        code = WEXITSTATUS(status);
        if (code == 0) verdict = "PASS";
        else if (code & ~(1 | 2 | 4 | 32)) verdict = "BROK";
        else if (code & 1) verdict = "FAIL";
        else if (code & 2) verdict = "BROK";
        else if (code & 4) verdict = "WARN";
        else verdict = "CONF";
    }
    say("LTP-RESULT tag=%s status=%s exit=%d signal=%d seconds=%.2f%s%s\n", tag, verdict, code, signal,
        seconds, timed_out ? " timeout=1" : "", leftovers ? " leftovers=1" : "");
}

int main(int argc, char **argv) {
    double limit = 60;
    const char *mul = NULL;
    const char *batch = "/ltp/batch";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) limit = atof(argv[++i]);
        else if (!strcmp(argv[i], "-m") && i + 1 < argc) mul = argv[++i];
        else batch = argv[i];
    }
    if (limit <= 0) limit = 60;

    int e = 0;
    environment[e++] = "KCONFIG_SKIP_CHECK=1";
    environment[e++] = "TMPDIR=/tmp";
    environment[e++] = "LTPROOT=/ltp";
    environment[e++] = "PATH=/ltp/bin:/bin:/usr/sbin:/sbin"; /* mkfs.ext2, for the tests that format a device */
    environment[e++] = "HOME=/";
    environment[e++] = "LTP_COLORIZE_OUTPUT=0";
    static char mul_env[64];
    if (mul) {
        snprintf(mul_env, sizeof mul_env, "LTP_TIMEOUT_MUL=%s", mul);
        environment[e++] = mul_env;
    }
    /* The scratch disk scripts/ltp.mjs attaches: the device of the tests that need one. */
    struct stat device;
    if (stat("/dev/vda", &device) == 0 && S_ISBLK(device.st_mode)) environment[e++] = "LTP_DEV=/dev/vda";
    environment[e] = NULL;
    for (int i = 0; environment[i]; i++) putenv(environment[i]);

    /* LTP's tests make their directories under TMPDIR; without a writable
     * file system this fails, and the tests say so themselves. */
    if (access("/tmp", F_OK) < 0 && mkdir("/tmp", 01777) < 0) say("ltp-run: mkdir /tmp: %s (carrying on)\n", strerror(errno));

    char *text = read_file(batch);
    if (!text) {
        say("ltp-run: cannot read %s: %s\n", batch, strerror(errno));
        say("LTP-BATCH tests=0 timeout=%.0f\nLTP-DONE\n", limit);
        return 0;
    }
    int tests = 0;
    for (char *p = text; *p; p++) {
        char *line = p;
        while (*p && *p != '\n') p++;
        while (*line == ' ' || *line == '\t') line++;
        if (line < p && *line != '#' && *line != '\n' && *line != '\r') tests++;
        if (!*p) break;
    }
    say("LTP-BATCH tests=%d timeout=%.0f\n", tests, limit);

    char *line = text;
    while (*line) {
        char *end = strchr(line, '\n');
        char *next = end ? end + 1 : line + strlen(line);
        if (end) *end = 0;
        char *words[MAX_ARGS + 2];
        int n = 0;
        for (char *w = strtok(line, " \t\r"); w && n < MAX_ARGS + 1; w = strtok(NULL, " \t\r")) words[n++] = w;
        if (n > 0 && words[0][0] != '#') {
            if (n < 2) {
                say("LTP-START tag=%s program=\n", words[0]);
                say("ltp-run: %s: no program on the line\n", words[0]);
                say("LTP-RESULT tag=%s status=BROK exit=-1 signal=0 seconds=0.00\n", words[0]);
            } else {
                words[n] = NULL;
                run_test(words[0], words + 1, limit);
            }
        }
        line = next;
    }
    kill_and_reap_all(10);
    say("LTP-DONE\n");
    return 0;
}
