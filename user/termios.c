/* termios: the console's terminal ioctls and modes, run as init (pid 1,
 * whose session owns the console) by tests/integration/termios.test.ts.
 *
 * First the calls that need no typing: TCGETS defaults and what TCSETS and
 * TCSETA keep, the window size and SIGWINCH, the foreground group and
 * sessions (TIOCSPGRP, TIOCSCTTY, TIOCNOTTY), FIONREAD on pipes and files,
 * FIONBIO, FIOCLEX, TCFLSH, TCXONC stopping output, VMIN and VTIME without
 * input, poll, and the errors (EBADF, EFAULT, ENOTTY, EINVAL, ESRCH,
 * EPERM). Then output processing (OPOST and its flags; the test reads the
 * raw serial bytes between the [brackets]). Then the typed part: before
 * each step the program prints "STEP NAME", the test types that step's
 * keys and checks the echo on the serial line, and the program checks what
 * read() returned. Prints "ok NAME" / "FAIL NAME: ..." and "termios: N
 * failed"; exits 0 when all passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Linux's own structures, as the kernel copies them. */
struct kernel_termios {
    unsigned c_iflag, c_oflag, c_cflag, c_lflag;
    unsigned char c_line, c_cc[19];
};
struct kernel_termio {
    unsigned short c_iflag, c_oflag, c_cflag, c_lflag;
    unsigned char c_line, c_cc[8];
};

static int failures;

static void check(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld (errno %d)\n", name, got, errno);
        failures++;
    }
    fflush(stdout);
}

/* A call that must fail with `error`. */
static void check_error(const char *name, long result, int error) {
    int saved = errno;
    check(name, result == -1 && saved == error, result == -1 ? -saved : result);
}

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, 0);
}

static volatile sig_atomic_t caught[65];

static void on_signal(int signal) {
    caught[signal]++;
}

/* A handler without SA_RESTART: a blocked read() fails with EINTR. */
static void install(int signal) {
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    sigaction(signal, &action, 0);
}

/* waitpid, again after a handler interrupts it; the status. */
static int wait_for(pid_t child) {
    int status = -1;
    while (waitpid(child, &status, 0) == -1 && errno == EINTR) {
    }
    return status;
}

static struct termios defaults;

/* The default settings with some changes, in force now. */
static void set_mode(unsigned clear_lflag, unsigned set_lflag, unsigned char vmin, unsigned char vtime) {
    struct termios t = defaults;
    t.c_lflag = (t.c_lflag & ~clear_lflag) | set_lflag;
    t.c_cc[VMIN] = vmin;
    t.c_cc[VTIME] = vtime;
    tcsetattr(0, TCSANOW, &t);
}

static void restore(void) {
    tcsetattr(0, TCSANOW, &defaults);
}

static int pending(void) {
    int n = -1;
    ioctl(0, FIONREAD, &n);
    return n;
}

/* Waits (20 s at most) until the console has `n` bytes to read: the test's keys have arrived. */
static int wait_pending(int n) {
    for (long end = now_ms() + 20000; now_ms() < end; sleep_ms(20))
        if (pending() >= n) return 1;
    return 0;
}

/* ------------------------------------------------------------ settings */

static void settings(void) {
    struct kernel_termios k;
    memset(&k, 0xaa, sizeof k);
    unsigned char after[8];
    memset(after, 0xaa, sizeof after);
    struct {
        struct kernel_termios k;
        unsigned char tail[8];
    } probe;
    memset(&probe, 0xaa, sizeof probe);
    check("tcgets", ioctl(0, TCGETS, &probe.k) == 0, errno);
    k = probe.k;
    check("tcgets-writes-36-bytes", sizeof(struct kernel_termios) == 36 && memcmp(probe.tail, after, sizeof after) == 0, 0);
    check("default-iflag", k.c_iflag == (ICRNL | IXON), k.c_iflag);
    check("default-oflag", k.c_oflag == (OPOST | ONLCR), k.c_oflag);
    check("default-cflag", k.c_cflag == (B38400 | CS8 | CREAD | HUPCL), k.c_cflag);
    check("default-lflag", k.c_lflag == (ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN), k.c_lflag);
    static const unsigned char cc[19] = {3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0};
    check("default-cc", k.c_line == 0 && memcmp(k.c_cc, cc, sizeof cc) == 0, k.c_cc[VMIN]);
    tcgetattr(0, &defaults);

    struct termios t;
    check("tcgets-stdout-stderr", tcgetattr(1, &t) == 0 && tcgetattr(2, &t) == 0, errno);
    int tty = open("/dev/tty", O_RDWR), console = open("/dev/console", O_RDWR);
    check("tcgets-dev-tty-console", tty >= 0 && console >= 0 && tcgetattr(tty, &t) == 0 && tcgetattr(console, &t) == 0, errno);
    close(tty);
    close(console);
    check("isatty-console", isatty(0) && isatty(1), 0);

    /* Every bit is kept, those without effect here too (parity, stop bits, TOSTOP, ECHOPRT, IMAXBEL, a speed). */
    t = defaults;
    t.c_iflag |= IMAXBEL | IGNPAR | INPCK;
    t.c_cflag = (t.c_cflag & ~CBAUD) | B9600 | PARENB | CSTOPB | CRTSCTS;
    t.c_lflag |= TOSTOP | ECHOPRT | EXTPROC;
    t.c_cc[VEOL2] = 'q';
    t.c_cc[VDISCARD] = 1;
    struct kernel_termios back;
    check("tcsets", tcsetattr(0, TCSANOW, &t) == 0, errno);
    ioctl(0, TCGETS, &back);
    check("tcsets-keeps-every-bit", back.c_iflag == t.c_iflag && back.c_cflag == t.c_cflag && back.c_lflag == t.c_lflag &&
                                        back.c_oflag == t.c_oflag && memcmp(back.c_cc, t.c_cc, 19) == 0, back.c_cflag);
    check("tcsetsw-tcsetsf", tcsetattr(0, TCSADRAIN, &defaults) == 0 && tcsetattr(0, TCSAFLUSH, &defaults) == 0, errno);
    check("cfgetospeed", cfgetospeed(&defaults) == B38400, cfgetospeed(&defaults));

    /* struct termio: the low 16 bits of each flag word and cc[0..8); TCSETA leaves the high bits alone. */
    t = defaults;
    t.c_lflag |= EXTPROC; /* 0x10000: beyond termio's reach */
    tcsetattr(0, TCSANOW, &t);
    struct kernel_termio old;
    memset(&old, 0xaa, sizeof old);
    check("tcgeta", ioctl(0, TCGETA, &old) == 0 && old.c_iflag == (ICRNL | IXON) && old.c_lflag == (unsigned short)t.c_lflag &&
                        old.c_cc[VINTR] == 3 && old.c_cc[VMIN] == 1, old.c_lflag);
    old.c_lflag &= ~ECHO;
    old.c_cc[VINTR] = 7;
    check("tcseta", ioctl(0, TCSETA, &old) == 0, errno);
    ioctl(0, TCGETS, &back);
    check("tcseta-keeps-high-bits", back.c_lflag == (t.c_lflag & ~ECHO) && back.c_cc[VINTR] == 7 && back.c_cc[VSUSP] == 26,
          back.c_lflag);
    check("tcsetaw-tcsetaf", ioctl(0, TCSETAW, &old) == 0 && ioctl(0, TCSETAF, &old) == 0, errno);
    restore();
    /* Linux reads the request as 32 bits. */
    check("request-upper-bits-ignored", syscall(SYS_ioctl, 0, 0x100000000L | TCGETS, &back) == 0, errno);
}

/* ------------------------------------------------------------ errors */

static void errors(void) {
    struct termios t;
    int p[2];
    pipe(p);
    int file = open("/tmp/termios-file", O_RDWR | O_CREAT | O_TRUNC, 0644);
    int null = open("/dev/null", O_RDWR);
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    int path = open("/dev/tty", O_PATH);
    check_error("tcgets-regular-file-enotty", ioctl(file, TCGETS, &t), ENOTTY);
    check_error("tcgets-pipe-enotty", ioctl(p[0], TCGETS, &t), ENOTTY);
    check_error("tcgets-dev-null-enotty", ioctl(null, TCGETS, &t), ENOTTY);
    check_error("tcgets-directory-enotty", ioctl(dir, TCGETS, &t), ENOTTY);
    struct winsize w;
    check_error("tiocgwinsz-file-enotty", ioctl(file, TIOCGWINSZ, &w), ENOTTY);
    check_error("tiocgpgrp-pipe-enotty", ioctl(p[1], TIOCGPGRP, &w), ENOTTY);
    check("isatty-pipe", !isatty(p[0]) && errno == ENOTTY, errno);
    int n;
    check_error("fionread-dev-null-enotty", ioctl(null, FIONREAD, &n), ENOTTY);
    check_error("fionread-directory-enotty", ioctl(dir, FIONREAD, &n), ENOTTY);
    check_error("unknown-request-enotty", ioctl(0, 9999999, &t), ENOTTY);
    check_error("closed-fd-ebadf", ioctl(99, TCGETS, &t), EBADF);
    check_error("negative-fd-ebadf", ioctl(-1, TCGETS, &t), EBADF);
    check_error("o-path-ebadf", ioctl(path, TCGETS, &t), EBADF);
    check_error("fionbio-o-path-ebadf", ioctl(path, FIONBIO, &n), EBADF);
    check_error("tcgets-null-efault", ioctl(0, TCGETS, 0), EFAULT);
    check_error("tcgets-kernel-address-efault", ioctl(0, TCGETS, (void *)-1L), EFAULT);
    check_error("tcsets-null-efault", ioctl(0, TCSETS, 0), EFAULT);
    check_error("tcgeta-null-efault", ioctl(0, TCGETA, 0), EFAULT);
    check_error("tiocgwinsz-null-efault", ioctl(0, TIOCGWINSZ, 0), EFAULT);
    check_error("tiocswinsz-null-efault", ioctl(0, TIOCSWINSZ, 0), EFAULT);
    check_error("fionread-console-null-efault", ioctl(0, FIONREAD, 0), EFAULT);
    check_error("fionread-pipe-null-efault", ioctl(p[0], FIONREAD, 0), EFAULT);
    check_error("fionbio-null-efault", ioctl(0, FIONBIO, 0), EFAULT);
    check_error("tiocgpgrp-null-efault", ioctl(0, TIOCGPGRP, 0), EFAULT);
    check_error("tiocspgrp-null-efault", ioctl(0, TIOCSPGRP, 0), EFAULT);
    check_error("tcflsh-bad-queue-einval", ioctl(0, TCFLSH, 5), EINVAL);
    check_error("tcxonc-bad-action-einval", ioctl(0, TCXONC, 9), EINVAL);
    check("tcflsh-tcxonc-ok", ioctl(0, TCFLSH, TCIOFLUSH) == 0 && ioctl(0, TCFLSH, TCOFLUSH) == 0 && ioctl(0, TCXONC, TCOON) == 0,
          errno);
    check("tcdrain-tcsbrk", tcdrain(0) == 0 && ioctl(0, TCSBRK, 1) == 0, errno);
    int queued = -1;
    check("tiocoutq-empty", ioctl(1, TIOCOUTQ, &queued) == 0 && queued == 0, queued);
    check("fionread-console-empty", ioctl(0, FIONREAD, &n) == 0 && n == 0, n);
    close(p[0]);
    close(p[1]);
    close(file);
    close(null);
    close(dir);
    close(path);
}

/* ------------------------------------------------------------ generic requests */

static void generic(void) {
    int p[2];
    pipe(p);
    write(p[1], "12345", 5);
    int n = -1, m = -1;
    check("fionread-pipe", ioctl(p[0], FIONREAD, &n) == 0 && n == 5 && ioctl(p[1], FIONREAD, &m) == 0 && m == 5, n);
    int on = 1, off = 0;
    check("fionbio-on", ioctl(p[0], FIONBIO, &on) == 0 && (fcntl(p[0], F_GETFL) & O_NONBLOCK), fcntl(p[0], F_GETFL));
    char buffer[8];
    read(p[0], buffer, 5);
    check_error("fionbio-read-eagain", read(p[0], buffer, 1), EAGAIN);
    check("fionbio-off", ioctl(p[0], FIONBIO, &off) == 0 && !(fcntl(p[0], F_GETFL) & O_NONBLOCK), fcntl(p[0], F_GETFL));
    check("fioclex", ioctl(p[0], FIOCLEX) == 0 && fcntl(p[0], F_GETFD) == FD_CLOEXEC, fcntl(p[0], F_GETFD));
    check("fionclex", ioctl(p[0], FIONCLEX) == 0 && fcntl(p[0], F_GETFD) == 0, fcntl(p[0], F_GETFD));
    close(p[0]);
    close(p[1]);

    int file = open("/tmp/termios-file", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(file, "0123456789", 10);
    lseek(file, 3, SEEK_SET);
    check("fionread-file-to-end", ioctl(file, FIONREAD, &n) == 0 && n == 7, n);
    lseek(file, 14, SEEK_SET);
    check("fionread-file-past-end", ioctl(file, FIONREAD, &n) == 0 && n == -4, n);
    close(file);
    unlink("/tmp/termios-file");

    int flags = fcntl(0, F_GETFL);
    check("fionbio-console", ioctl(0, FIONBIO, &on) == 0 && (fcntl(0, F_GETFL) & O_NONBLOCK) && ioctl(0, FIONBIO, &off) == 0 &&
                                 fcntl(0, F_GETFL) == flags, fcntl(0, F_GETFL));
}

/* ------------------------------------------------------------ window size */

static void window_size(void) {
    struct winsize w = {0}, now;
    check("tiocgwinsz", ioctl(0, TIOCGWINSZ, &w) == 0 && w.ws_row > 0 && w.ws_col > 0 && w.ws_xpixel == 0, w.ws_row);
    printf("winsize %d %d\n", w.ws_row, w.ws_col);
    install(SIGWINCH);
    caught[SIGWINCH] = 0;
    struct winsize other = {30, 100, 0, 0};
    check("tiocswinsz", ioctl(0, TIOCSWINSZ, &other) == 0 && ioctl(1, TIOCGWINSZ, &now) == 0 && now.ws_row == 30 &&
                            now.ws_col == 100, now.ws_row);
    check("tiocswinsz-sigwinch", caught[SIGWINCH] == 1, caught[SIGWINCH]);
    ioctl(0, TIOCSWINSZ, &other);
    check("tiocswinsz-same-no-signal", caught[SIGWINCH] == 1, caught[SIGWINCH]);
    ioctl(0, TIOCSWINSZ, &w);
    check("tiocswinsz-restored", caught[SIGWINCH] == 2 && ioctl(0, TIOCGWINSZ, &now) == 0 && now.ws_row == w.ws_row, now.ws_row);
    signal(SIGWINCH, SIG_DFL);
}

/* ------------------------------------------------------------ process groups and sessions */

/* Runs `body` in a child; its exit status (0 = all its checks passed, else the number of the first that failed). */
static int in_child(int (*body)(void)) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) _exit(body());
    int status = wait_for(child);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static int child_gives_up_terminal(void) {
    pid_t group;
    if (ioctl(0, TIOCSCTTY, 0) != -1 || errno != EPERM) return 1; /* not a session leader */
    if (ioctl(0, TIOCNOTTY) != 0) return 2;
    if (ioctl(0, TIOCGPGRP, &group) != -1 || errno != ENOTTY) return 3;
    if (ioctl(0, TIOCNOTTY) != -1 || errno != ENOTTY) return 4;
    pid_t grandchild = fork();
    if (grandchild == 0) _exit(ioctl(0, TIOCGPGRP, &group) == -1 && errno == ENOTTY ? 0 : 1);
    int status;
    waitpid(grandchild, &status, 0);
    if (status != 0) return 5; /* inherited */
    struct termios t;
    if (tcgetattr(0, &t) != 0) return 6; /* still a terminal, only not a controlling one */
    return 0;
}

static int new_session_without_terminal(void) {
    pid_t group;
    if (setsid() != getpid()) return 1;
    if (ioctl(0, TIOCGPGRP, &group) != -1 || errno != ENOTTY) return 2;
    if (ioctl(0, TIOCSPGRP, &group) != -1 || errno != ENOTTY) return 3;
    if (ioctl(0, TIOCGSID, &group) != -1 || errno != ENOTTY) return 4;
    if (ioctl(0, TIOCNOTTY) != -1 || errno != ENOTTY) return 5;
    if (ioctl(0, TIOCSCTTY, 0) != -1 || errno != EPERM) return 6; /* it is session 1's */
    return 0;
}

/* A new session takes the console (root, argument 1), then gives it up: SIGHUP to its own foreground group. */
static int session_steals_terminal(void) {
    pid_t group, sid;
    setsid();
    signal(SIGHUP, SIG_IGN);
    if (ioctl(0, TIOCSCTTY, 1) != 0) return 1;
    if (ioctl(0, TIOCGSID, &sid) != 0 || sid != getpid()) return 2;
    if (ioctl(0, TIOCGPGRP, &group) != 0 || group != getpid()) return 3;
    if (ioctl(0, TIOCSCTTY, 0) != 0) return 4; /* already ours */
    if (ioctl(0, TIOCNOTTY) != 0) return 5;
    if (ioctl(0, TIOCGPGRP, &group) != -1 || errno != ENOTTY) return 6;
    return 0;
}

/* A new session takes the console and exits with it: the session leader's end frees it. */
static int session_exits_with_terminal(void) {
    setsid();
    return ioctl(0, TIOCSCTTY, 1) == 0 ? 0 : 1;
}

static void sessions(void) {
    pid_t group = -1, sid = -1;
    check("tiocgpgrp", ioctl(0, TIOCGPGRP, &group) == 0 && group == getpgrp() && tcgetpgrp(1) == getpgrp(), group);
    check("tiocgsid", ioctl(0, TIOCGSID, &sid) == 0 && sid == getsid(0), sid);
    group = getpgrp();
    check("tiocspgrp-own-group", ioctl(0, TIOCSPGRP, &group) == 0, errno);
    group = -1;
    check_error("tiocspgrp-negative-einval", ioctl(0, TIOCSPGRP, &group), EINVAL);
    group = 0;
    check_error("tiocspgrp-zero-esrch", ioctl(0, TIOCSPGRP, &group), ESRCH);
    group = 23456;
    check_error("tiocspgrp-no-group-esrch", ioctl(0, TIOCSPGRP, &group), ESRCH);

    /* A group of this session may come to the foreground; one of another session may not. */
    int ready[2];
    pipe(ready);
    pid_t same = fork();
    if (same == 0) {
        setpgid(0, 0);
        write(ready[1], "x", 1);
        pause();
        _exit(0);
    }
    setpgid(same, same);
    pid_t other = fork();
    if (other == 0) {
        setsid();
        write(ready[1], "x", 1);
        pause();
        _exit(0);
    }
    char c;
    read(ready[0], &c, 1);
    read(ready[0], &c, 1);
    group = same;
    pid_t now = -1;
    check("tiocspgrp-other-group", ioctl(0, TIOCSPGRP, &group) == 0 && ioctl(0, TIOCGPGRP, &now) == 0 && now == same, now);
    group = getpgrp();
    ioctl(0, TIOCSPGRP, &group);
    group = other;
    check_error("tiocspgrp-other-session-eperm", ioctl(0, TIOCSPGRP, &group), EPERM);
    kill(same, SIGKILL);
    kill(other, SIGKILL);
    waitpid(same, 0, 0);
    waitpid(other, 0, 0);
    close(ready[0]);
    close(ready[1]);

    check("tiocsctty-leader-has-it", ioctl(0, TIOCSCTTY, 0) == 0, errno);
    int result = in_child(child_gives_up_terminal);
    check("tiocnotty-non-leader", result == 0, result);
    check("parent-keeps-terminal", ioctl(0, TIOCGPGRP, &group) == 0 && group == getpgrp(), group);
    result = in_child(new_session_without_terminal);
    check("new-session-has-no-terminal", result == 0, result);
    int stolen = in_child(session_steals_terminal);
    check("tiocsctty-steal-and-tiocnotty", stolen == 0, stolen);
    check_error("console-nobodys-after-tiocnotty", ioctl(0, TIOCGPGRP, &group), ENOTTY);
    check("tiocsctty-takes-back", ioctl(0, TIOCSCTTY, 0) == 0 && ioctl(0, TIOCGPGRP, &group) == 0 && group == getpgrp(), group);
    int exited = in_child(session_exits_with_terminal);
    check("leader-exit-frees-terminal", exited == 0 && ioctl(0, TIOCGPGRP, &group) == -1 && errno == ENOTTY, exited);
    check("tiocsctty-takes-back-again", ioctl(0, TIOCSCTTY, 0) == 0 && ioctl(0, TIOCGPGRP, &group) == 0 && group == getpgrp(),
          group);
}

/* ------------------------------------------------------------ flow control and reads without input */

/* While output is stopped nothing may be printed: the results are checked after TCOON. */
static void flow_control(void) {
    install(SIGALRM);
    fflush(stdout);
    int stopped = tcflow(0, TCOOFF);
    int flags = fcntl(1, F_GETFL);
    fcntl(1, F_SETFL, flags | O_NONBLOCK);
    long nonblocking = write(1, "x", 1);
    int nonblocking_error = errno;
    fcntl(1, F_SETFL, flags);
    alarm(1);
    long started = now_ms();
    long blocking = write(1, "x", 1);
    int blocking_error = errno;
    long waited = now_ms() - started;
    int restarted = tcflow(0, TCOON);
    check("tcooff-tcoon", stopped == 0 && restarted == 0, errno);
    errno = nonblocking_error;
    check_error("write-stopped-nonblocking-eagain", nonblocking, EAGAIN);
    errno = blocking_error;
    check_error("write-stopped-waits-eintr", blocking, EINTR);
    check("write-stopped-waited", waited >= 800, waited);
    check("write-after-tcoon", write(1, "[written after TCOON]\n", 22) == 22, errno);
    check("tcion-tcioff", tcflow(0, TCIOFF) == 0 && tcflow(0, TCION) == 0, errno);
    printf("\n");
    signal(SIGALRM, SIG_DFL);
}

static void reads_without_input(void) {
    char c;
    set_mode(ICANON, 0, 0, 0);
    long started = now_ms();
    check("vmin0-vtime0-returns-at-once", read(0, &c, 1) == 0 && now_ms() - started < 200, now_ms() - started);
    set_mode(ICANON, 0, 0, 3);
    started = now_ms();
    long n = read(0, &c, 1);
    long took = now_ms() - started;
    check("vmin0-vtime3-times-out", n == 0 && took >= 250 && took < 3000, took);
    struct pollfd p = {0, POLLIN | POLLOUT, 0};
    set_mode(ICANON, 0, 1, 0);
    check("poll-raw-nothing", poll(&p, 1, 0) == 1 && p.revents == POLLOUT, p.revents);
    restore();
    check("poll-canonical-nothing", poll(&p, 1, 0) == 1 && p.revents == POLLOUT, p.revents);
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(0, &readable);
    struct timeval zero = {0, 0};
    check("select-canonical-nothing", select(1, &readable, 0, 0, &zero) == 0, 0);
    int flags = fcntl(0, F_GETFL);
    fcntl(0, F_SETFL, flags | O_NONBLOCK);
    check_error("nonblocking-canonical-eagain", read(0, &c, 1), EAGAIN);
    set_mode(ICANON, 0, 1, 0);
    check_error("nonblocking-raw-eagain", read(0, &c, 1), EAGAIN);
    set_mode(ICANON, 0, 0, 0);
    check("nonblocking-vmin0-returns-0", read(0, &c, 1) == 0, errno);
    fcntl(0, F_SETFL, flags);
    restore();
}

/* ------------------------------------------------------------ output processing */

static void output_mode(unsigned clear, unsigned set, const char *bytes) {
    struct termios t = defaults;
    t.c_oflag = (t.c_oflag & ~clear) | set;
    tcsetattr(1, TCSANOW, &t);
    write(1, bytes, strlen(bytes));
    tcsetattr(1, TCSANOW, &defaults);
    write(1, "\n", 1);
}

static void output(void) {
    fflush(stdout);
    output_mode(OPOST, 0, "[raw A\nB\rC\tD]");
    output_mode(ONLCR, 0, "[nocr A\nB]");
    output_mode(0, 0, "[onlcr A\nB]");
    output_mode(0, OCRNL, "[ocrnl A\rB]");
    output_mode(0, OLCUC, "[olcuc abc]");
    output_mode(0, XTABS, "\n[xt\tX]");
    output_mode(0, ONOCR, "\n\r[onocr]");
    output_mode(ONLCR, ONLRET | XTABS, "\r[ab\n\tX]");
    output_mode(ONLCR, XTABS, "\r[cd\n\tX]");
}

/* ------------------------------------------------------------ typed input */

static char line[256];

static void step(const char *name) {
    printf("STEP %s\n", name);
    fflush(stdout);
}

/* One read() of the console: it must return exactly `want` (`length` bytes). */
static void expect_read(const char *name, const char *want, long length) {
    long n = read(0, line, sizeof line);
    check(name, n == length && memcmp(line, want, length) == 0, n);
}

static void canonical(void) {
    step("canon-echo");
    expect_read("canon-echo", "hello world\n", 12);
    step("kill");
    expect_read("kill", "ok\n", 3);
    step("eof");
    expect_read("eof", "", 0);
    step("eof-mid-line");
    expect_read("eof-mid-line", "ab", 2);
    step("small-buffer");
    struct pollfd p = {0, POLLIN, 0};
    int readable = poll(&p, 1, 20000);
    int before = pending();
    long n = read(0, line, 4);
    int after = pending();
    check("small-buffer-fionread", readable == 1 && before == 7 && n == 4 && after == 3, before * 100 + after);
    expect_read("small-buffer", "ef\n", 3);
    step("werase");
    expect_read("werase", "one 2\n", 6);
    install(SIGINT);
    caught[SIGINT] = 0;
    step("lnext");
    expect_read("lnext", "\003\n", 2);
    check("lnext-no-signal", caught[SIGINT] == 0, caught[SIGINT]);
    step("echoctl");
    expect_read("echoctl", "\001\n", 2);
    set_mode(ECHOCTL, 0, 1, 0);
    step("no-echoctl");
    expect_read("no-echoctl", "\001\n", 2);
    restore();
    step("erase-control");
    expect_read("erase-control", "z\n", 2);
    step("tab-erase");
    expect_read("tab-erase", "\n", 1);
    step("reprint");
    expect_read("reprint", "abc\n", 4);
    set_mode(ECHOE, 0, 1, 0);
    step("no-echoe");
    expect_read("no-echoe", "a\n", 2);
    set_mode(ECHOKE, 0, 1, 0);
    step("echok");
    expect_read("echok", "b\n", 2);
    struct termios t = defaults;
    t.c_cc[VEOL] = ';';
    tcsetattr(0, TCSANOW, &t);
    step("veol");
    expect_read("veol", "x;", 2);
    restore();
    set_mode(ECHO, 0, 1, 0);
    step("no-echo");
    expect_read("no-echo", "secret\n", 7);
    set_mode(ECHO, ECHONL, 1, 0);
    step("echonl");
    expect_read("echonl", "hid\n", 4);
    restore();
    t = defaults;
    t.c_oflag &= ~OPOST;
    tcsetattr(0, TCSANOW, &t);
    step("echo-without-opost");
    expect_read("echo-without-opost", "q\n", 2);
    restore();
}

static void signal_keys(void) {
    install(SIGINT);
    install(SIGQUIT);
    install(SIGTSTP);
    caught[SIGINT] = caught[SIGQUIT] = caught[SIGTSTP] = 0;
    step("intr");
    long n = read(0, line, sizeof line);
    check("intr", n == -1 && errno == EINTR && caught[SIGINT] == 1 && pending() == 0, n);
    step("after-intr");
    expect_read("after-intr", "after\n", 6);
    step("quit");
    n = read(0, line, sizeof line);
    check("quit", n == -1 && errno == EINTR && caught[SIGQUIT] == 1, n);
    step("susp");
    n = read(0, line, sizeof line);
    check("susp", n == -1 && errno == EINTR && caught[SIGTSTP] == 1, n);
    set_mode(0, NOFLSH, 1, 0);
    step("noflsh");
    n = read(0, line, sizeof line);
    check("noflsh", n == -1 && errno == EINTR && caught[SIGINT] == 2, n);
    step("noflsh-rest");
    expect_read("noflsh-rest", "keep\n", 5);
    restore();

    /* VSUSP with no handler: the reader is in init's group, which POSIX calls orphaned (no member has
     * a parent outside it but init), so its SIGTSTP stops nothing and the read goes on. */
    fflush(stdout);
    pid_t reader = fork();
    if (reader == 0) {
        signal(SIGTSTP, SIG_DFL);
        step("susp-default");
        n = read(0, line, sizeof line);
        _exit(n == 3 && memcmp(line, "go\n", 3) == 0 ? 0 : 1);
    }
    int status = wait_for(reader);
    check("susp-default", status == 0, status);

    /* VINTR reaches the foreground group only. */
    pid_t background = fork();
    if (background == 0) {
        signal(SIGINT, SIG_DFL);
        setpgid(0, 0);
        for (;;) pause();
    }
    setpgid(background, background);
    pid_t member = fork();
    if (member == 0) {
        signal(SIGINT, SIG_DFL);
        for (;;) pause();
    }
    caught[SIGINT] = 0;
    step("intr-group");
    n = read(0, line, sizeof line);
    int read_error = errno;
    status = wait_for(member);
    errno = read_error;
    check("intr-group", n == -1 && errno == EINTR && WIFSIGNALED(status) && WTERMSIG(status) == SIGINT &&
                            waitpid(background, 0, WNOHANG) == 0, status);
    kill(background, SIGKILL);
    waitpid(background, 0, 0);

    pid_t foreground = fork();
    if (foreground == 0) {
        signal(SIGINT, SIG_DFL);
        setpgid(0, 0);
        for (;;) pause();
    }
    setpgid(foreground, foreground);
    pid_t group = foreground;
    ioctl(0, TIOCSPGRP, &group);
    caught[SIGINT] = 0;
    step("intr-foreground-child");
    status = wait_for(foreground);
    check("intr-foreground-child", WIFSIGNALED(status) && WTERMSIG(status) == SIGINT && caught[SIGINT] == 0, status);
    group = getpgrp();
    check("tiocspgrp-from-background", ioctl(0, TIOCSPGRP, &group) == 0, errno);
}

static void raw_modes(void) {
    set_mode(ICANON, 0, 1, 0);
    step("raw");
    long got = 0;
    while (got < 2) {
        long n = read(0, line + got, sizeof line - got);
        if (n <= 0) break;
        got += n;
    }
    check("raw", got == 2 && memcmp(line, "xy", 2) == 0, got);
    set_mode(ICANON | ECHO | ISIG, 0, 1, 0);
    caught[SIGINT] = 0;
    step("raw-no-isig");
    expect_read("raw-no-isig", "\003", 1);
    check("raw-no-isig-no-signal", caught[SIGINT] == 0, caught[SIGINT]);
    set_mode(ICANON, 0, 1, 0);
    step("raw-icrnl");
    expect_read("raw-icrnl", "\n", 1);
    struct termios t = defaults;
    t.c_lflag &= ~ICANON;
    t.c_iflag &= ~ICRNL;
    tcsetattr(0, TCSANOW, &t);
    step("raw-cr");
    expect_read("raw-cr", "\r", 1);
    t.c_iflag |= INLCR;
    tcsetattr(0, TCSANOW, &t);
    step("raw-inlcr");
    expect_read("raw-inlcr", "\r", 1);
    t.c_iflag = (t.c_iflag & ~INLCR) | IGNCR;
    tcsetattr(0, TCSANOW, &t);
    step("raw-igncr");
    expect_read("raw-igncr", "k", 1);

    set_mode(ICANON, 0, 3, 0);
    step("vmin3");
    struct pollfd p = {0, POLLIN, 0};
    int arrived = wait_pending(2);
    int early = poll(&p, 1, 0);
    check("vmin3-poll-waits-for-vmin", arrived && early == 0, early);
    step("vmin3-more");
    int later = poll(&p, 1, 20000);
    expect_read("vmin3", "123", 3);
    check("vmin3-poll", later == 1, later);

    set_mode(ICANON, 0, 0, 50);
    step("vtime-first-byte");
    expect_read("vtime-first-byte", "t", 1);
    set_mode(ICANON, 0, 5, 20);
    step("vmin-vtime");
    long started = now_ms();
    long n = read(0, line, sizeof line);
    long took = now_ms() - started;
    check("vmin-vtime", n == 2 && memcmp(line, "ab", 2) == 0 && took >= 1900, took);

    /* Canonical mode is readable only with a whole line; switching modes keeps what is pending. */
    restore();
    step("canon-poll");
    int ready = poll(&p, 1, 3000);
    set_mode(ICANON, 0, 1, 0);
    int raw_pending = pending();
    check("canon-poll-needs-a-line", ready == 0 && raw_pending == 3, raw_pending);
    expect_read("canon-to-raw-keeps-input", "abc", 3);
    step("raw-to-canon");
    arrived = wait_pending(2);
    restore();
    ready = poll(&p, 1, 0);
    check("raw-to-canon-pushes-a-line", arrived && ready == 1 && pending() == 2, pending());
    expect_read("raw-to-canon", "pq", 2);

    set_mode(ICANON, 0, 1, 0);
    step("tcsetsf");
    arrived = wait_pending(2);
    struct termios flushed = defaults;
    flushed.c_lflag &= ~ICANON;
    tcsetattr(0, TCSAFLUSH, &flushed);
    check("tcsetsf-flushes", arrived && pending() == 0, pending());
    step("tcflsh");
    arrived = wait_pending(2);
    check("tcflsh-tciflush", arrived && tcflush(0, TCIFLUSH) == 0 && pending() == 0, pending());
    restore();
}

static void output_stop(void) {
    step("ixon");
    long n = read(0, line, sizeof line);
    long written = write(1, "AFTER-STOP\n", 11);
    check("ixon", n == 3 && memcmp(line, "go\n", 3) == 0 && written == 11, n);
    struct termios t = defaults;
    t.c_iflag |= IXANY;
    tcsetattr(0, TCSANOW, &t);
    step("ixany");
    n = read(0, line, sizeof line);
    written = write(1, "AFTER-ANY\n", 10);
    check("ixany", n == 3 && memcmp(line, "go\n", 3) == 0 && written == 10, n);
    restore();
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    /* As a shell does: it hands the terminal to other groups and takes it back from the background,
     * which SIGTTOU would otherwise answer (for init, whose group is orphaned, with ENOTTY). */
    signal(SIGTTOU, SIG_IGN);
    printf("termios: pid %d, session %d, group %d\n", getpid(), getsid(0), getpgrp());
    settings();
    errors();
    generic();
    window_size();
    sessions();
    flow_control();
    reads_without_input();
    output();
    canonical();
    signal_keys();
    raw_modes();
    output_stop();
    restore();
    printf("termios: %d failed\n", failures);
    return failures != 0;
}
