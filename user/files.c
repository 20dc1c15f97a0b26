/* The file system as Linux behaves (issue "Files for real"): each check
 * names one behaviour and expects Linux's result, errno for errno. The
 * same binary runs on Linux (`build/user/bin/files DIR` on the host) and
 * must pass there too; the few checks that need to be init (the tmpfs
 * magic of /tmp, the leak check through /proc/memcheck) run only as pid 1.
 *
 * Arguments: `files [DIR]` works in DIR (made if missing, which must be
 * empty otherwise; default /tmp/files-test-PID) and removes what it made
 * there at the end. `--check-fds OPEN CLOSED...` is the exec'd half of the
 * close-on-exec check: OPEN must be open and read "kept", every CLOSED
 * must be closed.
 *
 * Covered: create/read/write/lseek/pread/pwrite and the vector forms,
 * O_EXCL, O_TRUNC, O_APPEND, the errnos of open, mkdir, rmdir, unlink,
 * rename (and renameat2's RENAME_NOREPLACE), hard links, symlinks (loops,
 * dangling, 40 in a chain), getdents64 with . and .. and d_type, chdir and
 * getcwd (after a rename of a parent, and of a removed directory), stat
 * fields and times, umask, chmod, chown, access, statx, truncate, a file
 * unlinked while open, MAP_SHARED and MAP_PRIVATE file mappings across
 * fork, msync, SIGBUS past the end of a file, /dev/null, zero, full,
 * random and urandom, mknod, /proc/self, statfs, close-on-exec across
 * exec (of this program and of a copy of it in DIR), exec errnos, and, as
 * init on TSKernel, no frame lost to a batch of file work or to an attempt
 * to create a file in a removed directory (/proc/memcheck around a child).
 *
 * Prints "ok NAME" or "FAIL NAME: ..." per check, "files: N checks" and
 * "files: N failed"; exits 0 only if every check passed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define TMPFS_MAGIC 0x01021994
#define PROC_SUPER_MAGIC 0x9fa0
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif
#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

static int failures, checks;
static char base[512];   /* the scratch directory, absolute, as getcwd names it */
static char self[512];   /* this program, absolute */
static char buf[65536];  /* scratch for reads */

/* ------------------------------------------------------------ reporting */

/* -errno for a failed call (-1), else the result. */
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
    static char text[64];
    if (e >= 0) {
        snprintf(text, sizeof text, "%ld", e);
        return text;
    }
    static const struct { int number; const char *name; } names[] = {
        {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {EBADF, "EBADF"}, {EACCES, "EACCES"}, {EEXIST, "EEXIST"},
        {EXDEV, "EXDEV"}, {ENODEV, "ENODEV"}, {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"}, {EINVAL, "EINVAL"},
        {ENOSPC, "ENOSPC"}, {ESPIPE, "ESPIPE"}, {ERANGE, "ERANGE"}, {ENAMETOOLONG, "ENAMETOOLONG"},
        {ENOSYS, "ENOSYS"}, {ENOTEMPTY, "ENOTEMPTY"}, {ELOOP, "ELOOP"}, {ENXIO, "ENXIO"}, {EBUSY, "EBUSY"},
        {ENOEXEC, "ENOEXEC"}, {ENOMEM, "ENOMEM"}, {EFAULT, "EFAULT"}, {EOPNOTSUPP, "EOPNOTSUPP"},
        {EROFS, "EROFS"}, {EMLINK, "EMLINK"}, {EFBIG, "EFBIG"},
    };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (-e == names[i].number) {
            snprintf(text, sizeof text, "-%s", names[i].name);
            return text;
        }
    snprintf(text, sizeof text, "-%ld (%s)", -e, strerror(-e));
    return text;
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

static void expect_mode(const char *name, long got, long expected) {
    check(name, got == expected, "got %#lo, expected %#lo", got, expected);
}

static void expect_true(const char *name, int ok) {
    check(name, ok, "not so");
}

static void expect_string(const char *name, const char *got, const char *expected) {
    check(name, strcmp(got, expected) == 0, "got \"%s\", expected \"%s\"", got, expected);
}

/* Init on TSKernel: pid 1 with /proc/memcheck (Linux has no such file). */
static int on_tskernel(void) {
    return getpid() == 1 && access("/proc/memcheck", F_OK) == 0;
}

static void skip(const char *name, const char *why) {
    printf("skip %s: %s\n", name, why);
}

/* ------------------------------------------------------------- helpers */

/* base/NAME, in one of 16 rotating buffers. */
static const char *P(const char *name) {
    static char paths[16][1024];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, 1024, "%s/%s", base, name);
    return p;
}

static long write_file(const char *path, const void *data, size_t length) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -errno;
    long n = E(write(fd, data, length));
    close(fd);
    return n;
}

/* Reads up to cap-1 bytes of path into out, NUL-terminated; the length or -errno. */
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
        if (n == 0) break;
        total += n;
        if ((size_t)total == cap - 1) break;
    }
    close(fd);
    if (total >= 0) out[total] = 0;
    return total;
}

static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

static long stat_errno(const char *path) {
    struct stat st;
    return E(stat(path, &st));
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

static int all_bytes(const char *p, long length, char value) {
    for (long i = 0; i < length; i++)
        if (p[i] != value) return 0;
    return 1;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* A timestamp within [now - 5 s, now + 1 s]: Linux stamps files from a coarse clock. */
static int recent(struct timespec t) {
    double at = t.tv_sec + t.tv_nsec / 1e9, now = now_seconds();
    return at >= now - 5 && at <= now + 1;
}

/* Runs fn in a child; its wait status. */
static int in_child(int (*fn)(void)) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) _exit(fn());
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return -1;
    return status;
}

static const char *status_text(int status) {
    static char text[64];
    if (status == -1) return "fork or wait failed";
    if (WIFEXITED(status)) snprintf(text, sizeof text, "exited with %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(text, sizeof text, "killed by signal %d", WTERMSIG(status));
    else snprintf(text, sizeof text, "status %#x", status);
    return text;
}

static void expect_exit_zero(const char *name, int status) {
    check(name, status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", status_text(status));
}

static void expect_signal(const char *name, int status, int signal) {
    check(name, status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == signal, "child %s, expected signal %d",
          status_text(status), signal);
}

/* ---- getdents64 */

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

#define MAX_ENTRIES 400
struct entry {
    char name[256];
    unsigned char type;
    uint64_t ino;
};
static struct entry entries[MAX_ENTRIES];

/* Lists fd from its current offset with a buffer of `size` bytes: the entry count, or -errno. */
static long list_fd(int fd, size_t size) {
    static char space[8192] __attribute__((aligned(8)));
    long count = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, space, size);
        if (n < 0) return -errno;
        if (n == 0) return count;
        for (long at = 0; at < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(space + at);
            if (count < MAX_ENTRIES) {
                snprintf(entries[count].name, sizeof entries[count].name, "%s", d->d_name);
                entries[count].type = d->d_type;
                entries[count].ino = d->d_ino;
            }
            count++;
            at += d->d_reclen;
            if (d->d_reclen == 0) return -EFAULT;
        }
    }
}

static long list_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -errno;
    long n = list_fd(fd, 4096);
    close(fd);
    return n;
}

static struct entry *find_entry(long count, const char *name) {
    for (long i = 0; i < count && i < MAX_ENTRIES; i++)
        if (strcmp(entries[i].name, name) == 0) return &entries[i];
    return 0;
}

static int occurrences(long count, const char *name) {
    int n = 0;
    for (long i = 0; i < count && i < MAX_ENTRIES; i++) n += strcmp(entries[i].name, name) == 0;
    return n;
}

/* Removes path and everything under it. */
static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char names[64][256];
        int again = 1;
        while (again) {
            /* Collect a batch, then remove it: removing while reading may skip entries. */
            int count = 0;
            rewinddir(d);
            while (count < 64 && (e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                snprintf(names[count++], 256, "%s", e->d_name);
            }
            again = count > 0;
            for (int i = 0; i < count; i++) {
                char child[1024];
                snprintf(child, sizeof child, "%.700s/%.255s", path, names[i]);
                remove_tree(child);
            }
        }
        closedir(d);
    }
    rmdir(path);
}

/* --------------------------------------------------------- reading and writing */

static void basic_io(void) {
    int fd = E(open(P("a"), O_CREAT | O_WRONLY | O_TRUNC, 0644));
    check("creat-new-file", fd >= 0, "got %s", errno_name(fd));
    expect_value("write-new-file", E(write(fd, "hello world", 11)), 11);
    expect_value("lseek-cur-after-write", E(lseek(fd, 0, SEEK_CUR)), 11);
    expect_errno("read-write-only-fd-ebadf", E(read(fd, buf, 1)), EBADF);
    close(fd);
    expect_errno("write-closed-fd-ebadf", E(write(fd, "x", 1)), EBADF);
    expect_errno("close-closed-fd-ebadf", E(close(fd)), EBADF);

    fd = open(P("a"), O_RDONLY);
    memset(buf, 0, 64);
    expect_value("read-whole-file", E(read(fd, buf, 100)), 11);
    expect_string("read-whole-file-bytes", buf, "hello world");
    expect_value("read-at-eof-0", E(read(fd, buf, 100)), 0);
    expect_errno("write-read-only-fd-ebadf", E(write(fd, "x", 1)), EBADF);
    expect_value("lseek-set", E(lseek(fd, 6, SEEK_SET)), 6);
    memset(buf, 0, 64);
    expect_value("read-after-lseek", E(read(fd, buf, 5)), 5);
    expect_string("read-after-lseek-bytes", buf, "world");
    expect_value("lseek-end-minus-5", E(lseek(fd, -5, SEEK_END)), 6);
    expect_value("lseek-cur-plus-2", E(lseek(fd, 2, SEEK_CUR)), 8);
    expect_errno("lseek-before-start-einval", E(lseek(fd, -100, SEEK_CUR)), EINVAL);
    expect_value("lseek-failed-keeps-offset", E(lseek(fd, 0, SEEK_CUR)), 8);
    expect_errno("lseek-bad-whence-einval", E(lseek(fd, 0, 7)), EINVAL);
    expect_value("lseek-past-end", E(lseek(fd, 100, SEEK_SET)), 100);
    expect_value("read-past-end-0", E(read(fd, buf, 10)), 0);
    memset(buf, 0, 64);
    expect_value("pread", E(pread(fd, buf, 5, 0)), 5);
    expect_string("pread-bytes", buf, "hello");
    expect_value("pread-keeps-offset", E(lseek(fd, 0, SEEK_CUR)), 100);
    expect_errno("pread-negative-offset-einval", E(pread(fd, buf, 5, -1)), EINVAL);
    expect_value("pread-past-end-0", E(pread(fd, buf, 5, 11)), 0);
    close(fd);

    fd = open(P("a"), O_RDWR);
    expect_value("pwrite-past-end", E(pwrite(fd, "XYZ", 3, 20)), 3);
    struct stat st;
    fstat(fd, &st);
    expect_value("pwrite-past-end-size", st.st_size, 23);
    memset(buf, 0x55, 64);
    expect_value("pread-over-hole", E(pread(fd, buf, 64, 0)), 23);
    expect_true("hole-reads-zeros", all_bytes(buf + 11, 9, 0) && memcmp(buf + 20, "XYZ", 3) == 0);
    expect_value("lseek-data-0", E(lseek(fd, 0, SEEK_DATA)), 0);
    expect_value("lseek-hole-is-end", E(lseek(fd, 0, SEEK_HOLE)), 23);
    expect_errno("lseek-data-at-end-enxio", E(lseek(fd, 23, SEEK_DATA)), ENXIO);
    expect_errno("lseek-hole-past-end-enxio", E(lseek(fd, 30, SEEK_HOLE)), ENXIO);
    lseek(fd, 0, SEEK_SET);
    struct iovec two[2] = {{"ab", 2}, {"cd", 2}};
    expect_value("writev-file", E(writev(fd, two, 2)), 4);
    expect_value("writev-advances-offset", E(lseek(fd, 0, SEEK_CUR)), 4);
    lseek(fd, 0, SEEK_SET);
    char x[2] = {0}, y[3] = {0};
    struct iovec in[2] = {{x, 2}, {y, 3}};
    expect_value("readv-file", E(readv(fd, in, 2)), 5);
    expect_true("readv-file-bytes", memcmp(x, "ab", 2) == 0 && memcmp(y, "cdo", 3) == 0);
    struct iovec pq[2] = {{"P", 1}, {"Q", 1}};
    expect_value("pwritev-file", E(pwritev(fd, pq, 2, 8)), 2);
    struct iovec back[1] = {{buf, 3}};
    expect_value("preadv-file", E(preadv(fd, back, 1, 7)), 3);
    expect_true("preadv-file-bytes", memcmp(buf, "oPQ", 3) == 0);
    expect_value("pwritev-preadv-keep-offset", E(lseek(fd, 0, SEEK_CUR)), 5);
    close(fd);

    expect_errno("open-excl-existing-eexist", E(open(P("a"), O_CREAT | O_EXCL | O_WRONLY, 0644)), EEXIST);
    fd = E(open(P("excl-new"), O_CREAT | O_EXCL | O_WRONLY, 0644));
    check("open-excl-new", fd >= 0, "got %s", errno_name(fd));
    close(fd);
    fd = E(open(P("a"), O_WRONLY | O_TRUNC));
    fstat(fd, &st);
    expect_value("open-trunc-empties", st.st_size, 0);
    close(fd);
    write_file(P("a"), "hello world", 11);
    fd = E(open(P("a"), O_RDONLY | O_TRUNC));
    fstat(fd, &st);
    expect_value("open-rdonly-trunc-truncates", st.st_size, 0);
    close(fd);
    write_file(P("a"), "hello world", 11);
    fd = open(P("a"), O_RDWR);
    expect_errno("read-into-bad-buffer-efault", E(read(fd, (void *)1, 10)), EFAULT);
    expect_errno("write-from-bad-buffer-efault", E(write(fd, (void *)1, 10)), EFAULT);
    fstat(fd, &st);
    expect_value("write-from-bad-buffer-writes-nothing", st.st_size, 11);
    close(fd);
    expect_errno("stat-bad-path-pointer-efault", E(stat((const char *)1, &st)), EFAULT);
    expect_errno("open-bad-path-pointer-efault", E(open((const char *)1, O_RDONLY)), EFAULT);
    fd = E(creat(P("excl-new"), 0644));
    expect_value("creat-on-existing-truncates", fd >= 0 && fstat(fd, &st) == 0 ? st.st_size : fd, 0);
    close(fd);

    write_file(P("append"), "one", 3);
    fd = open(P("append"), O_WRONLY | O_APPEND);
    expect_value("fcntl-getfl-append", fcntl(fd, F_GETFL) & (O_APPEND | O_ACCMODE), O_APPEND | O_WRONLY);
    lseek(fd, 0, SEEK_SET);
    expect_value("append-write", E(write(fd, "two", 3)), 3);
    expect_value("append-write-offset-at-end", E(lseek(fd, 0, SEEK_CUR)), 6);
    /* Linux's documented bug: pwrite on an O_APPEND file appends whatever the offset. */
    expect_value("append-pwrite", E(pwrite(fd, "3", 1, 0)), 1);
    close(fd);
    read_file(P("append"), buf, sizeof buf);
    expect_string("append-content", buf, "onetwo3");
    fd = open(P("append"), O_RDWR);
    expect_value("fcntl-setfl-append", E(fcntl(fd, F_SETFL, O_APPEND)), 0);
    expect_value("setfl-append-write", E(write(fd, "!", 1)), 1);
    close(fd);
    read_file(P("append"), buf, sizeof buf);
    expect_string("setfl-append-content", buf, "onetwo3!");

    /* Shared offsets: dup and fork share the open file, a second open does not. */
    fd = open(P("append"), O_RDONLY);
    int copy = dup(fd);
    read(fd, buf, 3);
    expect_value("dup-shares-offset", E(lseek(copy, 0, SEEK_CUR)), 3);
    int other = open(P("append"), O_RDONLY);
    expect_value("second-open-own-offset", E(lseek(other, 0, SEEK_CUR)), 0);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) _exit(read(fd, buf, 2) == 2 ? 0 : 1);
    int status = 0;
    waitpid(child, &status, 0);
    expect_value("fork-shares-offset", E(lseek(fd, 0, SEEK_CUR)), 5);
    close(fd);
    close(copy);
    close(other);

    /* A megabyte in odd-sized pieces, read back in other odd-sized pieces. */
    fd = open(P("big"), O_CREAT | O_RDWR | O_TRUNC, 0644);
    static char pattern[1 << 20];
    for (int i = 0; i < (1 << 20); i++) pattern[i] = (char)(i * 7 + i / 4099);
    long written = 0;
    while (written < (1 << 20)) {
        long piece = (1 << 20) - written < 3001 ? (1 << 20) - written : 3001;
        long n = write(fd, pattern + written, piece);
        if (n <= 0) break;
        written += n;
    }
    expect_value("write-1mib-in-pieces", written, 1 << 20);
    fstat(fd, &st);
    expect_value("write-1mib-size", st.st_size, 1 << 20);
    lseek(fd, 0, SEEK_SET);
    static char back_pattern[1 << 20];
    long got = 0;
    while (got < (1 << 20)) {
        long n = read(fd, back_pattern + got, 4093);
        if (n <= 0) break;
        got += n;
    }
    expect_value("read-1mib-in-pieces", got, 1 << 20);
    expect_true("read-1mib-bytes", memcmp(pattern, back_pattern, 1 << 20) == 0);
    expect_value("pwrite-across-page-boundary", E(pwrite(fd, "ACROSS", 6, 3 * PAGE - 3)), 6);
    memset(buf, 0, 16);
    pread(fd, buf, 6, 3 * PAGE - 3);
    expect_string("pread-across-page-boundary", buf, "ACROSS");
    expect_value("read-count-0", E(read(fd, buf, 0)), 0);
    expect_value("write-count-0", E(write(fd, buf, 0)), 0);
    /* Far past the end: a 1 TiB hole costs nothing. */
    expect_value("pwrite-at-1-tib", E(pwrite(fd, "T", 1, 1l << 40)), 1);
    fstat(fd, &st);
    expect_value("pwrite-at-1-tib-size", st.st_size, (1l << 40) + 1);
    buf[0] = 0;
    expect_value("pread-at-1-tib", E(pread(fd, buf, 10, 1l << 40)), 1);
    expect_value("pread-at-1-tib-byte", buf[0], 'T');
    memset(buf, 0x55, 100);
    expect_value("pread-in-1-tib-hole", E(pread(fd, buf, 100, 1l << 39)), 100);
    expect_true("pread-in-1-tib-hole-zeros", all_bytes(buf, 100, 0));
    expect_value("ftruncate-from-1-tib", E(ftruncate(fd, 1 << 20)), 0);
    close(fd);

    int p[2];
    pipe(p);
    expect_errno("lseek-pipe-espipe", E(lseek(p[0], 0, SEEK_SET)), ESPIPE);
    expect_errno("pread-pipe-espipe", E(pread(p[0], buf, 1, 0)), ESPIPE);
    expect_errno("fsync-pipe-einval", E(fsync(p[1])), EINVAL);
    fstat(p[0], &st);
    expect_true("fstat-pipe-is-fifo", S_ISFIFO(st.st_mode));
    close(p[0]);
    close(p[1]);

    fd = open(P("big"), O_RDWR);
    expect_value("fsync-file", E(fsync(fd)), 0);
    expect_value("fdatasync-file", E(fdatasync(fd)), 0);
    expect_value("syncfs-file", E(syncfs(fd)), 0);
    sync();
    close(fd);
    unlink(P("big"));
}

/* --------------------------------------------------------------- opening */

static void open_errors(void) {
    mkdir(P("od"), 0755);
    write_file(P("od/file"), "f", 1);
    symlink("file", P("od/link"));
    symlink("missing-target", P("od/dangling"));
    symlink(".", P("od/dirlink"));

    expect_errno("open-missing-enoent", E(open(P("missing"), O_RDONLY)), ENOENT);
    expect_errno("open-in-missing-dir-enoent", E(open(P("missing/x"), O_RDONLY)), ENOENT);
    expect_errno("open-creat-in-missing-dir-enoent", E(open(P("missing/x"), O_CREAT | O_WRONLY, 0644)), ENOENT);
    expect_errno("open-through-file-enotdir", E(open(P("od/file/x"), O_RDONLY)), ENOTDIR);
    expect_errno("open-creat-through-file-enotdir", E(open(P("od/file/x"), O_CREAT | O_WRONLY, 0644)), ENOTDIR);
    expect_errno("open-file-trailing-slash-enotdir", E(open(P("od/file/"), O_RDONLY)), ENOTDIR);
    expect_errno("open-creat-trailing-slash-eisdir", E(open(P("od/new/"), O_CREAT | O_WRONLY, 0644)), EISDIR);
    expect_errno("open-dir-wronly-eisdir", E(open(P("od"), O_WRONLY)), EISDIR);
    expect_errno("open-dir-rdwr-eisdir", E(open(P("od"), O_RDWR)), EISDIR);
    expect_errno("open-creat-existing-dir-eisdir", E(open(P("od"), O_CREAT | O_RDONLY, 0644)), EISDIR);
    expect_errno("open-empty-path-enoent", E(open("", O_RDONLY)), ENOENT);
    int fd = E(open(P("od"), O_RDONLY));
    check("open-dir-rdonly", fd >= 0, "got %s", errno_name(fd));
    expect_errno("read-dir-eisdir", E(read(fd, buf, 10)), EISDIR);
    int file_fd = open(P("od/file"), O_RDONLY);
    expect_errno("openat-dirfd-file-enotdir", E(openat(file_fd, "x", O_RDONLY)), ENOTDIR);
    close(file_fd);
    int rel = E(openat(fd, "file", O_RDONLY));
    check("openat-relative", rel >= 0, "got %s", errno_name(rel));
    close(rel);
    close(fd);
    expect_errno("openat-bad-dirfd-ebadf", E(openat(999, "file", O_RDONLY)), EBADF);
    fd = E(openat(999, P("od/file"), O_RDONLY));
    check("openat-absolute-ignores-dirfd", fd >= 0, "got %s", errno_name(fd));
    close(fd);
    expect_errno("open-directory-on-file-enotdir", E(open(P("od/file"), O_RDONLY | O_DIRECTORY)), ENOTDIR);
    fd = E(open(P("od"), O_RDONLY | O_DIRECTORY));
    check("open-directory-on-dir", fd >= 0, "got %s", errno_name(fd));
    close(fd);
    fd = E(open(P("od/dirlink"), O_RDONLY | O_DIRECTORY));
    check("open-directory-through-symlink", fd >= 0, "got %s", errno_name(fd));
    close(fd);
    expect_errno("open-nofollow-symlink-eloop", E(open(P("od/link"), O_RDONLY | O_NOFOLLOW)), ELOOP);
    fd = E(open(P("od/dirlink/file"), O_RDONLY | O_NOFOLLOW));
    check("open-nofollow-only-last-component", fd >= 0, "got %s", errno_name(fd));
    close(fd);
    fd = E(open(P("od/link"), O_PATH | O_NOFOLLOW));
    struct stat st;
    check("open-path-nofollow-gives-the-link", fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode), "fd %d", fd);
    close(fd);
    fd = E(open(P("od/file"), O_PATH));
    expect_errno("read-o-path-ebadf", E(read(fd, buf, 1)), EBADF);
    close(fd);
    expect_errno("open-excl-on-dangling-symlink-eexist", E(open(P("od/dangling"), O_CREAT | O_EXCL | O_WRONLY, 0644)),
                 EEXIST);
    fd = E(open(P("od/dangling"), O_CREAT | O_WRONLY, 0644));
    check("open-creat-through-dangling-symlink", fd >= 0, "got %s", errno_name(fd));
    close(fd);
    expect_true("open-creat-through-dangling-symlink-made-target", exists(P("od/missing-target")));
    expect_errno("open-excl-on-symlink-eexist", E(open(P("od/link"), O_CREAT | O_EXCL | O_WRONLY, 0644)), EEXIST);

    char name[300];
    memset(name, 'n', 255);
    name[255] = 0;
    fd = E(open(P(name), O_CREAT | O_WRONLY, 0644));
    check("open-creat-255-byte-name", fd >= 0, "got %s", errno_name(fd));
    close(fd);
    unlink(P(name));
    strcat(name, "n");
    expect_errno("open-creat-256-byte-name-enametoolong", E(open(P(name), O_CREAT | O_WRONLY, 0644)), ENAMETOOLONG);
    expect_errno("open-256-byte-name-enametoolong", E(open(P(name), O_RDONLY)), ENAMETOOLONG);

    /* Dots and doubled slashes. */
    mkdir(P("od/sub"), 0755);
    expect_value("stat-dotdot-is-parent", st_of(P("od/sub/..")).st_ino, st_of(P("od")).st_ino);
    expect_value("stat-dot-is-self", st_of(P("od/sub/.")).st_ino, st_of(P("od/sub")).st_ino);
    expect_value("stat-double-slash", st_of(P("od//sub///")).st_ino, st_of(P("od/sub")).st_ino);
    expect_value("stat-root-dotdot-is-root", st_of("/..").st_ino, st_of("/").st_ino);
    /* PATH_MAX: 4095 bytes and a NUL fit, one more does not. */
    static char long_path[5000];
    int at = snprintf(long_path, sizeof long_path, "%s/", base);
    int middle = 4095 - at - (int)strlen("od/file");
    for (int i = 0; i + 1 < middle; i += 2) at += snprintf(long_path + at, sizeof long_path - at, "./");
    if (middle % 2) long_path[at++] = '/';
    snprintf(long_path + at, sizeof long_path - at, "od/file");
    expect_value("path-of-4095-bytes-resolves", strlen(long_path) == 4095 ? stat_errno(long_path) : -1000, 0);
    memmove(long_path + 1, long_path, strlen(long_path) + 1);
    long_path[0] = '/';
    expect_errno("path-of-4096-bytes-enametoolong", stat_errno(long_path), ENAMETOOLONG);
    expect_errno("stat-dotdot-through-file-enotdir", stat_errno(P("od/file/..")), ENOTDIR);
    rmdir(P("od/sub"));
}

/* ----------------------------------------------------------- directories */

static void directories(void) {
    expect_value("mkdir", E(mkdir(P("d"), 0755)), 0);
    expect_errno("mkdir-existing-eexist", E(mkdir(P("d"), 0755)), EEXIST);
    write_file(P("dfile"), "x", 1);
    expect_errno("mkdir-over-file-eexist", E(mkdir(P("dfile"), 0755)), EEXIST);
    expect_errno("mkdir-through-file-enotdir", E(mkdir(P("dfile/x"), 0755)), ENOTDIR);
    expect_errno("mkdir-in-missing-enoent", E(mkdir(P("nodir/x"), 0755)), ENOENT);
    expect_errno("mkdir-dot-eexist", E(mkdir(P("d/."), 0755)), EEXIST);
    expect_errno("mkdir-root-eexist", E(mkdir("/", 0755)), EEXIST);
    expect_value("mkdir-trailing-slash", E(mkdir(P("d2/"), 0755)), 0);
    struct stat st = st_of(P("d"));
    expect_true("mkdir-is-directory", S_ISDIR(st.st_mode));
    expect_value("mkdir-nlink-2", st.st_nlink, 2);
    mkdir(P("d/sub"), 0755);
    expect_value("subdir-raises-parent-nlink", st_of(P("d")).st_nlink, 3);
    write_file(P("d/sub/f"), "x", 1);
    expect_errno("rmdir-nonempty-enotempty", E(rmdir(P("d/sub"))), ENOTEMPTY);
    expect_errno("rmdir-nonempty-parent-enotempty", E(rmdir(P("d"))), ENOTEMPTY);
    expect_errno("rmdir-file-enotdir", E(rmdir(P("dfile"))), ENOTDIR);
    expect_errno("rmdir-dot-einval", E(rmdir(P("d/."))), EINVAL);
    expect_errno("rmdir-dotdot-enotempty", E(rmdir(P("d/sub/.."))), ENOTEMPTY);
    expect_errno("rmdir-missing-enoent", E(rmdir(P("d/missing"))), ENOENT);
    expect_errno("rmdir-root-ebusy", E(rmdir("/")), EBUSY);
    expect_errno("unlink-dir-eisdir", E(unlink(P("d"))), EISDIR);
    expect_errno("unlink-dot-eisdir", E(unlink(P("d/."))), EISDIR);
    expect_errno("unlink-missing-enoent", E(unlink(P("d/missing"))), ENOENT);
    expect_errno("unlink-file-trailing-slash-enotdir", E(unlink(P("dfile/"))), ENOTDIR);
    expect_value("unlink-file", E(unlink(P("d/sub/f"))), 0);
    expect_errno("unlink-again-enoent", E(unlink(P("d/sub/f"))), ENOENT);
    expect_value("rmdir-empty", E(rmdir(P("d/sub"))), 0);
    expect_errno("rmdir-gone-enoent", stat_errno(P("d/sub")), ENOENT);
    expect_value("rmdir-lowers-parent-nlink", st_of(P("d")).st_nlink, 2);
    expect_value("rmdir-trailing-slash", E(rmdir(P("d2/"))), 0);
    mkdir(P("d3"), 0755);
    expect_value("unlinkat-removedir", E(unlinkat(AT_FDCWD, P("d3"), AT_REMOVEDIR)), 0);
    expect_errno("unlinkat-removedir-on-file-enotdir", E(unlinkat(AT_FDCWD, P("dfile"), AT_REMOVEDIR)), ENOTDIR);
    expect_errno("unlinkat-bad-flag-einval", E(unlinkat(AT_FDCWD, P("dfile"), 1)), EINVAL);
    int dfd = open(P("d"), O_RDONLY | O_DIRECTORY);
    expect_value("mkdirat-relative", E(mkdirat(dfd, "at", 0755)), 0);
    expect_true("mkdirat-made-it", S_ISDIR(st_of(P("d/at")).st_mode));
    expect_value("unlinkat-relative", E(unlinkat(dfd, "at", AT_REMOVEDIR)), 0);
    close(dfd);
    /* A removed directory takes no new entries. */
    mkdir(P("doomed"), 0755);
    int doomed = open(P("doomed"), O_RDONLY | O_DIRECTORY);
    rmdir(P("doomed"));
    expect_errno("creat-in-removed-dir-enoent", E(openat(doomed, "x", O_CREAT | O_WRONLY, 0644)), ENOENT);
    expect_errno("mkdir-in-removed-dir-enoent", E(mkdirat(doomed, "x", 0755)), ENOENT);
    fstat(doomed, &st);
    expect_value("removed-dir-nlink-0", st.st_nlink, 0);
    close(doomed);
}

/* ---------------------------------------------------------------- rename */

static void renames(void) {
    write_file(P("r1"), "one", 3);
    write_file(P("r2"), "two", 3);
    ino_t ino1 = st_of(P("r1")).st_ino;
    expect_true("rename-distinct-inodes", ino1 != st_of(P("r2")).st_ino);
    expect_value("rename-over-file", E(rename(P("r1"), P("r2"))), 0);
    read_file(P("r2"), buf, sizeof buf);
    expect_string("rename-over-file-content", buf, "one");
    write_file(P("r1"), "replacement", 11);
    int open_target = open(P("r2"), O_RDONLY);
    expect_value("rename-over-open-file", E(rename(P("r1"), P("r2"))), 0);
    memset(buf, 0, 16);
    pread(open_target, buf, 16, 0);
    expect_string("rename-over-open-file-old-still-readable", buf, "one");
    struct stat old;
    fstat(open_target, &old);
    expect_value("rename-over-open-file-old-nlink-0", old.st_nlink, 0);
    close(open_target);
    write_file(P("r2"), "one", 3);
    ino1 = st_of(P("r2")).st_ino;
    expect_errno("rename-source-gone-enoent", stat_errno(P("r1")), ENOENT);
    expect_value("rename-keeps-inode", st_of(P("r2")).st_ino, ino1);
    expect_value("rename-onto-itself", E(rename(P("r2"), P("r2"))), 0);
    expect_true("rename-onto-itself-keeps-file", exists(P("r2")));
    link(P("r2"), P("r2link"));
    expect_value("rename-onto-own-hard-link", E(rename(P("r2"), P("r2link"))), 0);
    expect_true("rename-onto-own-hard-link-keeps-both", exists(P("r2")) && exists(P("r2link")));
    unlink(P("r2link"));

    mkdir(P("rd1"), 0755);
    mkdir(P("rd2"), 0755);
    write_file(P("rd1/f"), "in rd1", 6);
    expect_value("rename-dir-over-empty-dir", E(rename(P("rd1"), P("rd2"))), 0);
    expect_true("rename-dir-moves-content", exists(P("rd2/f")) && !exists(P("rd1")));
    mkdir(P("rd4"), 0755);
    expect_errno("rename-dir-onto-nonempty-enotempty", E(rename(P("rd4"), P("rd2"))), ENOTEMPTY);
    expect_errno("rename-dir-onto-file-enotdir", E(rename(P("rd4"), P("r2"))), ENOTDIR);
    expect_errno("rename-file-onto-dir-eisdir", E(rename(P("r2"), P("rd4"))), EISDIR);
    mkdir(P("rd4/sub"), 0755);
    expect_errno("rename-dir-into-own-subdir-einval", E(rename(P("rd4"), P("rd4/sub/x"))), EINVAL);
    expect_errno("rename-dir-onto-own-subdir-einval", E(rename(P("rd4"), P("rd4/sub"))), EINVAL);
    expect_errno("rename-dir-onto-own-parent-enotempty", E(rename(P("rd4/sub"), P("rd4"))), ENOTEMPTY);
    expect_errno("rename-missing-enoent", E(rename(P("missing"), P("x"))), ENOENT);
    expect_errno("rename-into-missing-dir-enoent", E(rename(P("r2"), P("missing/x"))), ENOENT);
    expect_errno("rename-through-file-enotdir", E(rename(P("r2"), P("r2/x"))), ENOTDIR);
    expect_errno("rename-file-to-trailing-slash-enotdir", E(rename(P("r2"), P("r3/"))), ENOTDIR);
    expect_value("rename-dir-with-trailing-slashes", E(rename(P("rd4/sub/"), P("rd4/sub2/"))), 0);
    expect_errno("rename-dot-ebusy", E(rename(P("rd4/."), P("rd5"))), EBUSY);
    expect_errno("rename-across-mounts-exdev", E(rename(P("r2"), "/proc/files-xdev")), EXDEV);

    write_file(P("r3"), "three", 5);
    expect_errno("renameat2-noreplace-existing-eexist",
                 E(syscall(SYS_renameat2, AT_FDCWD, P("r3"), AT_FDCWD, P("r2"), RENAME_NOREPLACE)), EEXIST);
    read_file(P("r2"), buf, sizeof buf);
    expect_string("renameat2-noreplace-left-target", buf, "one");
    expect_value("renameat2-noreplace-new",
                 E(syscall(SYS_renameat2, AT_FDCWD, P("r3"), AT_FDCWD, P("r4"), RENAME_NOREPLACE)), 0);
    expect_true("renameat2-noreplace-moved", exists(P("r4")) && !exists(P("r3")));
    expect_errno("renameat2-unknown-flag-einval",
                 E(syscall(SYS_renameat2, AT_FDCWD, P("r4"), AT_FDCWD, P("r5"), 0x100)), EINVAL);
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    expect_value("renameat-relative", E(renameat(dfd, "r4", dfd, "r5")), 0);
    expect_true("renameat-relative-moved", exists(P("r5")) && !exists(P("r4")));
    close(dfd);

    /* A directory moving between parents moves a link count with it. */
    mkdir(P("pa"), 0755);
    mkdir(P("pb"), 0755);
    mkdir(P("pa/c"), 0755);
    expect_value("move-dir-parents-before", st_of(P("pa")).st_nlink * 10 + st_of(P("pb")).st_nlink, 32);
    expect_value("move-dir-between-parents", E(rename(P("pa/c"), P("pb/c"))), 0);
    expect_value("move-dir-parents-after", st_of(P("pa")).st_nlink * 10 + st_of(P("pb")).st_nlink, 23);
    expect_value("move-dir-dotdot-is-new-parent", st_of(P("pb/c/..")).st_ino, st_of(P("pb")).st_ino);

    /* Renaming over a symlink replaces the link, not its target. */
    write_file(P("rt"), "target", 6);
    symlink("rt", P("rl"));
    expect_value("rename-over-symlink", E(rename(P("r5"), P("rl"))), 0);
    read_file(P("rt"), buf, sizeof buf);
    expect_string("rename-over-symlink-target-intact", buf, "target");
    expect_true("rename-over-symlink-is-file", S_ISREG(lst_of(P("rl")).st_mode));
    symlink("rt", P("rl2"));
    expect_value("rename-symlink", E(rename(P("rl2"), P("rl3"))), 0);
    ssize_t n = readlink(P("rl3"), buf, sizeof buf);
    check("rename-symlink-keeps-target", n == 2 && memcmp(buf, "rt", 2) == 0, "readlink %ld", (long)n);
}

/* ------------------------------------------------------------- hard links */

static void hard_links(void) {
    write_file(P("h1"), "link", 4);
    expect_value("link", E(link(P("h1"), P("h2"))), 0);
    struct stat a = st_of(P("h1")), b = st_of(P("h2"));
    expect_value("link-nlink-2", a.st_nlink, 2);
    expect_value("link-nlink-2-other-name", b.st_nlink, 2);
    expect_value("link-same-inode", a.st_ino, b.st_ino);
    int fd = open(P("h2"), O_WRONLY | O_APPEND);
    write(fd, "ed", 2);
    close(fd);
    read_file(P("h1"), buf, sizeof buf);
    expect_string("link-shares-content", buf, "linked");
    link(P("h1"), P("h3"));
    expect_value("link-nlink-3", st_of(P("h2")).st_nlink, 3);
    expect_value("unlink-one-link", E(unlink(P("h1"))), 0);
    expect_value("unlink-one-link-nlink-2", st_of(P("h2")).st_nlink, 2);
    read_file(P("h3"), buf, sizeof buf);
    expect_string("unlink-one-link-content-stays", buf, "linked");
    mkdir(P("hd"), 0755);
    expect_errno("link-directory-eperm", E(link(P("hd"), P("hdlink"))), EPERM);
    expect_errno("link-onto-existing-eexist", E(link(P("h2"), P("h3"))), EEXIST);
    expect_errno("link-missing-enoent", E(link(P("missing"), P("h4"))), ENOENT);
    expect_errno("link-into-missing-dir-enoent", E(link(P("h2"), P("missing/h4"))), ENOENT);
    expect_errno("link-across-mounts-exdev", E(link("/proc/meminfo", P("h5"))), EXDEV);
    symlink("h2", P("hsym"));
    expect_value("linkat-symlink-nofollow", E(linkat(AT_FDCWD, P("hsym"), AT_FDCWD, P("hsymlink"), 0)), 0);
    expect_true("linkat-nofollow-links-the-symlink", S_ISLNK(lst_of(P("hsymlink")).st_mode) &&
                                                         lst_of(P("hsymlink")).st_ino == lst_of(P("hsym")).st_ino);
    expect_value("linkat-symlink-follow", E(linkat(AT_FDCWD, P("hsym"), AT_FDCWD, P("hfollow"), AT_SYMLINK_FOLLOW)), 0);
    expect_true("linkat-follow-links-the-target",
                S_ISREG(lst_of(P("hfollow")).st_mode) && lst_of(P("hfollow")).st_ino == st_of(P("h2")).st_ino);
    expect_value("linkat-follow-nlink-3", st_of(P("h2")).st_nlink, 3);
    expect_errno("linkat-bad-flag-einval", E(linkat(AT_FDCWD, P("h2"), AT_FDCWD, P("h6"), 1)), EINVAL);
    fd = open(P("h2"), O_RDONLY);
    unlink(P("h2"));
    unlink(P("h3"));
    unlink(P("hfollow"));
    struct stat st;
    fstat(fd, &st);
    expect_value("all-links-gone-nlink-0", st.st_nlink, 0);
    close(fd);
}

/* --------------------------------------------------------------- symlinks */

static void symlinks(void) {
    write_file(P("st"), "target data", 11);
    expect_value("symlink", E(symlink("st", P("sl"))), 0);
    memset(buf, 'Z', 16);
    expect_value("readlink-length", E(readlink(P("sl"), buf, 16)), 2);
    expect_true("readlink-bytes-no-nul", memcmp(buf, "stZ", 3) == 0);
    memset(buf, 'Z', 16);
    expect_value("readlink-truncates", E(readlink(P("sl"), buf, 1)), 1);
    expect_true("readlink-truncated-bytes", memcmp(buf, "sZ", 2) == 0);
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    expect_value("readlinkat-relative", E(readlinkat(dfd, "sl", buf, 16)), 2);
    close(dfd);
    struct stat l = lst_of(P("sl")), s = st_of(P("sl"));
    expect_true("lstat-is-symlink", S_ISLNK(l.st_mode));
    expect_value("lstat-symlink-size-is-target-length", l.st_size, 2);
    expect_mode("lstat-symlink-mode-0777", l.st_mode & 07777, 0777);
    expect_true("stat-follows-symlink", S_ISREG(s.st_mode) && s.st_ino == st_of(P("st")).st_ino);
    read_file(P("sl"), buf, sizeof buf);
    expect_string("open-through-symlink", buf, "target data");
    expect_errno("readlink-regular-file-einval", E(readlink(P("st"), buf, 16)), EINVAL);
    expect_errno("readlink-missing-enoent", E(readlink(P("missing"), buf, 16)), ENOENT);
    /* The system call: musl's readlink() turns a zero size into a one-byte read. */
    expect_errno("readlink-zero-buffer-einval", E(syscall(SYS_readlink, P("sl"), buf, 0)), EINVAL);
    static char long_target[4200];
    memset(long_target, 'q', 4095);
    long_target[4095] = 0;
    expect_value("symlink-4095-byte-target", E(symlink(long_target, P("slong"))), 0);
    expect_value("readlink-4095-byte-target", E(readlink(P("slong"), buf, sizeof buf)), 4095);
    expect_true("readlink-4095-byte-target-bytes", memcmp(buf, long_target, 4095) == 0);
    expect_value("lstat-4095-byte-target-size", lst_of(P("slong")).st_size, 4095);
    long_target[4095] = 'q';
    long_target[4096] = 0;
    expect_errno("symlink-4096-byte-target-enametoolong", E(symlink(long_target, P("slong2"))), ENAMETOOLONG);
    expect_errno("symlink-over-existing-eexist", E(symlink("x", P("st"))), EEXIST);
    expect_errno("symlink-empty-target-enoent", E(symlink("", P("sempty"))), ENOENT);

    symlink("loop2", P("loop1"));
    symlink("loop1", P("loop2"));
    symlink("self", P("self"));
    expect_errno("symlink-loop-open-eloop", E(open(P("loop1"), O_RDONLY)), ELOOP);
    expect_errno("symlink-loop-stat-eloop", stat_errno(P("loop1")), ELOOP);
    expect_errno("symlink-self-loop-eloop", E(open(P("self"), O_RDONLY)), ELOOP);
    expect_errno("symlink-loop-in-path-eloop", stat_errno(P("loop1/x")), ELOOP);
    expect_true("symlink-loop-lstat", S_ISLNK(lst_of(P("loop1")).st_mode));

    symlink("nowhere", P("dangling"));
    expect_errno("symlink-dangling-open-enoent", E(open(P("dangling"), O_RDONLY)), ENOENT);
    expect_errno("symlink-dangling-stat-enoent", stat_errno(P("dangling")), ENOENT);
    expect_true("symlink-dangling-lstat", S_ISLNK(lst_of(P("dangling")).st_mode));
    expect_errno("mkdir-on-dangling-symlink-eexist", E(mkdir(P("dangling"), 0755)), EEXIST);

    mkdir(P("sdir"), 0755);
    write_file(P("sdir/inner"), "inner", 5);
    symlink("sdir", P("sdl"));
    read_file(P("sdl/inner"), buf, sizeof buf);
    expect_string("symlink-to-dir-in-path", buf, "inner");
    expect_true("lstat-trailing-slash-follows", S_ISDIR(lst_of(P("sdl/")).st_mode));
    symlink("../st", P("sdir/up"));
    read_file(P("sdir/up"), buf, sizeof buf);
    expect_string("symlink-relative-to-its-directory", buf, "target data");
    symlink(P("st"), P("sabs"));
    read_file(P("sabs"), buf, sizeof buf);
    expect_string("symlink-absolute", buf, "target data");

    /* Linux follows at most 40 links in one lookup. */
    char name[32], target[32];
    for (int i = 0; i <= 40; i++) {
        snprintf(name, sizeof name, "chain%d", i);
        if (i == 40) snprintf(target, sizeof target, "st");
        else snprintf(target, sizeof target, "chain%d", i + 1);
        symlink(target, P(name));
    }
    read_file(P("chain1"), buf, sizeof buf);
    expect_string("symlink-chain-of-40", buf, "target data");
    expect_errno("symlink-chain-of-41-eloop", E(open(P("chain0"), O_RDONLY)), ELOOP);

    expect_value("unlink-symlink", E(unlink(P("sl"))), 0);
    expect_true("unlink-symlink-keeps-target", exists(P("st")) && !exists(P("sl")));
}

/* -------------------------------------------------------------- getdents */

static int type_is(long count, const char *name, unsigned char type) {
    struct entry *e = find_entry(count, name);
    return e && e->type == type && occurrences(count, name) == 1;
}

static void listing(void) {
    mkdir(P("L"), 0755);
    write_file(P("L/f1"), "1", 1);
    write_file(P("L/f2"), "2", 1);
    mkdir(P("L/s1"), 0755);
    symlink("f1", P("L/ln"));
    mknod(P("L/cdev"), S_IFCHR | 0644, makedev(1, 3));
    long n = list_dir(P("L"));
    expect_value("getdents-count", n, 7);
    expect_true("getdents-dot-is-dir", type_is(n, ".", DT_DIR));
    expect_true("getdents-dotdot-is-dir", type_is(n, "..", DT_DIR));
    expect_true("getdents-file-is-reg", type_is(n, "f1", DT_REG) && type_is(n, "f2", DT_REG));
    expect_true("getdents-subdir-is-dir", type_is(n, "s1", DT_DIR));
    expect_true("getdents-symlink-is-lnk", type_is(n, "ln", DT_LNK));
    expect_true("getdents-char-device-is-chr", type_is(n, "cdev", DT_CHR));
    struct entry *e = find_entry(n, ".");
    expect_true("getdents-dot-ino", e && e->ino == st_of(P("L")).st_ino);
    e = find_entry(n, "..");
    expect_true("getdents-dotdot-ino", e && e->ino == st_of(base).st_ino);
    e = find_entry(n, "f1");
    expect_true("getdents-file-ino", e && e->ino == st_of(P("L/f1")).st_ino);

    int fd = open(P("L"), O_RDONLY | O_DIRECTORY);
    list_fd(fd, 4096);
    expect_value("getdents-at-end-0", E(syscall(SYS_getdents64, fd, buf, 4096)), 0);
    unlink(P("L/f1"));
    write_file(P("L/f3"), "3", 1);
    rmdir(P("L/s1"));
    rename(P("L/f2"), P("L/g2"));
    expect_value("getdents-rewind", E(lseek(fd, 0, SEEK_SET)), 0);
    expect_errno("getdents-tiny-buffer-einval", E(syscall(SYS_getdents64, fd, buf, 8)), EINVAL);
    n = list_fd(fd, 4096);
    expect_value("getdents-after-changes-count", n, 6);
    expect_true("getdents-after-changes-names",
                find_entry(n, ".") && find_entry(n, "..") && !find_entry(n, "f1") && !find_entry(n, "f2") &&
                    !find_entry(n, "s1") && type_is(n, "f3", DT_REG) && type_is(n, "g2", DT_REG) && type_is(n, "ln", DT_LNK));
    close(fd);
    fd = open(P("L/f3"), O_RDONLY);
    expect_errno("getdents-on-file-enotdir", E(syscall(SYS_getdents64, fd, buf, 4096)), ENOTDIR);
    close(fd);
    mkdir(P("Lgone"), 0755);
    fd = open(P("Lgone"), O_RDONLY | O_DIRECTORY);
    rmdir(P("Lgone"));
    expect_errno("getdents-removed-dir-enoent", E(syscall(SYS_getdents64, fd, buf, 4096)), ENOENT);
    close(fd);

    /* 300 entries with long names: many calls with a small buffer, each entry once. */
    mkdir(P("many"), 0755);
    char name[128];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "many/entry-with-a-rather-long-name-%03d", i);
        write_file(P(name), "", 0);
    }
    fd = open(P("many"), O_RDONLY | O_DIRECTORY);
    n = list_fd(fd, 1024);
    close(fd);
    expect_value("getdents-300-count", n, 302);
    int each_once = 1;
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "entry-with-a-rather-long-name-%03d", i);
        if (occurrences(n, name) != 1) each_once = 0;
    }
    expect_true("getdents-300-each-once", each_once);
    for (int i = 0; i < 300; i += 2) {
        snprintf(name, sizeof name, "many/entry-with-a-rather-long-name-%03d", i);
        unlink(P(name));
    }
    n = list_dir(P("many"));
    expect_value("getdents-after-removing-half", n, 152);

    /* d_off is where the next entry starts: lseek there and the listing goes on from it. */
    fd = open(P("many"), O_RDONLY | O_DIRECTORY);
    static char space[600] __attribute__((aligned(8)));
    long got = syscall(SYS_getdents64, fd, space, sizeof space);
    int first = 0;
    int64_t resume = 0;
    char seen[8][256];
    for (long at = 0; at < got && first < 8;) {
        struct linux_dirent64 *d = (struct linux_dirent64 *)(space + at);
        snprintf(seen[first++], 256, "%s", d->d_name);
        resume = d->d_off;
        at += d->d_reclen;
        if (first == 3) break;
    }
    expect_value("getdents-small-buffer-some-entries", got > 0 && first == 3, 1);
    expect_value("getdents-lseek-to-d-off", E(lseek(fd, resume, SEEK_SET)), resume);
    n = list_fd(fd, 1024);
    int resumed_right = n == 152 - 3;
    for (int i = 0; i < 3; i++) resumed_right = resumed_right && !find_entry(n, seen[i]);
    check("getdents-resume-at-d-off", resumed_right, "%ld entries after the third", n);
    close(fd);
    remove_tree(P("many"));
    expect_errno("remove-tree-of-300", stat_errno(P("many")), ENOENT);
}

/* ---------------------------------------------------------- chdir, getcwd */

static long get_cwd(char *out, size_t size) {
    return E(syscall(SYS_getcwd, out, size));
}

static void cwd(void) {
    int home = open(".", O_RDONLY | O_DIRECTORY);
    mkdir(P("c1"), 0755);
    mkdir(P("c1/c2"), 0755);
    char expected[1100], got[1100];
    expect_value("chdir", E(chdir(P("c1/c2"))), 0);
    snprintf(expected, sizeof expected, "%s/c1/c2", base);
    long n = get_cwd(got, sizeof got);
    expect_value("getcwd-length-with-nul", n, (long)strlen(expected) + 1);
    expect_string("getcwd", n > 0 ? got : "", expected);
    int fd = open("rel", O_CREAT | O_WRONLY, 0644);
    close(fd);
    expect_true("relative-create-in-cwd", exists(P("c1/c2/rel")));
    expect_value("rename-parent-of-cwd", E(rename(P("c1"), P("c1renamed"))), 0);
    snprintf(expected, sizeof expected, "%s/c1renamed/c2", base);
    expect_string("getcwd-after-parent-renamed", get_cwd(got, sizeof got) > 0 ? got : "", expected);
    expect_true("relative-open-after-parent-renamed", stat_errno("rel") == 0);
    expect_value("chdir-dotdot", E(chdir("..")), 0);
    snprintf(expected, sizeof expected, "%s/c1renamed", base);
    expect_string("getcwd-after-dotdot", get_cwd(got, sizeof got) > 0 ? got : "", expected);
    expect_errno("chdir-file-enotdir", E(chdir("c2/rel")), ENOTDIR);
    expect_errno("chdir-missing-enoent", E(chdir("missing")), ENOENT);
    expect_errno("getcwd-small-buffer-erange", get_cwd(got, 3), ERANGE);
    int bfd = open(base, O_RDONLY | O_DIRECTORY);
    expect_value("fchdir", E(fchdir(bfd)), 0);
    expect_string("getcwd-after-fchdir", get_cwd(got, sizeof got) > 0 ? got : "", base);
    close(bfd);
    expect_errno("rmdir-cwd-dot-einval", E(rmdir(".")), EINVAL);
    fd = open(P("c1renamed/c2/rel"), O_RDONLY);
    expect_errno("fchdir-file-enotdir", E(fchdir(fd)), ENOTDIR);
    close(fd);
    fd = open(P("c1renamed"), O_PATH | O_DIRECTORY);
    expect_value("fchdir-o-path", E(fchdir(fd)), 0);
    close(fd);
    expect_true("fchdir-o-path-lands", stat_errno("c2/rel") == 0);

    /* The working directory removed from under the process. */
    mkdir(P("gone"), 0755);
    chdir(P("gone"));
    expect_value("rmdir-cwd-by-path", E(rmdir(P("gone"))), 0);
    expect_errno("getcwd-removed-enoent", get_cwd(got, sizeof got), ENOENT);
    struct stat st;
    expect_value("stat-removed-cwd", E(stat(".", &st)), 0);
    expect_value("stat-removed-cwd-nlink-0", st.st_nlink, 0);
    expect_errno("creat-in-removed-cwd-enoent", E(open("x", O_CREAT | O_WRONLY, 0644)), ENOENT);
    expect_errno("mkdir-in-removed-cwd-enoent", E(mkdir("y", 0755)), ENOENT);
    fchdir(home);
    close(home);
}

/* ------------------------------------------------------------ attributes */

struct statx_timestamp_ {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};
struct statx_ {
    uint32_t stx_mask, stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink, stx_uid, stx_gid;
    uint16_t stx_mode, spare0;
    uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    struct statx_timestamp_ stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
    uint64_t spare[14];
};

static void attributes(void) {
    umask(022);
    expect_value("umask-returns-previous", umask(027), 022);
    int fd = open(P("u1"), O_CREAT | O_WRONLY, 0666);
    close(fd);
    expect_mode("umask-applies-to-creat", st_of(P("u1")).st_mode & 07777, 0640);
    mkdir(P("u2"), 0777);
    expect_mode("umask-applies-to-mkdir", st_of(P("u2")).st_mode & 07777, 0750);
    mknod(P("u3"), S_IFREG | 0666, 0);
    expect_mode("umask-applies-to-mknod", st_of(P("u3")).st_mode & 07777, 0640);
    symlink("u1", P("u4"));
    expect_mode("umask-not-on-symlink", lst_of(P("u4")).st_mode & 07777, 0777);
    umask(0);
    fd = open(P("u5"), O_CREAT | O_WRONLY, 0777);
    close(fd);
    expect_mode("umask-0-creat-0777", st_of(P("u5")).st_mode & 07777, 0777);
    umask(022);
    fd = open(P("u1"), O_WRONLY | O_CREAT, 0600);
    close(fd);
    expect_mode("creat-existing-keeps-mode", st_of(P("u1")).st_mode & 07777, 0640);

    fd = open(P("fresh"), O_CREAT | O_RDWR | O_EXCL, 0644);
    struct stat st;
    fstat(fd, &st);
    expect_mode("new-file-mode", st.st_mode, S_IFREG | 0644);
    expect_value("new-file-size-0", st.st_size, 0);
    expect_value("new-file-blocks-0", st.st_blocks, 0);
    expect_value("new-file-nlink-1", st.st_nlink, 1);
    expect_value("new-file-uid-gid-root", st.st_uid * 1000 + st.st_gid, 0);
    expect_value("new-file-blksize", st.st_blksize, 4096);
    expect_true("new-file-times-recent", recent(st.st_atim) && recent(st.st_mtim) && recent(st.st_ctim));
    expect_true("new-file-same-dev-as-dir", st.st_dev == st_of(base).st_dev);
    expect_true("proc-other-dev", st.st_dev != st_of("/proc").st_dev);
    expect_true("new-file-ino-nonzero", st.st_ino != 0);
    static char five[5000];
    memset(five, 'f', sizeof five);
    write(fd, five, sizeof five);
    fstat(fd, &st);
    expect_value("written-file-size", st.st_size, 5000);
    expect_value("written-file-blocks-16", st.st_blocks, 16);
    expect_true("stat-matches-fstat", st_of(P("fresh")).st_ino == st.st_ino && st_of(P("fresh")).st_size == 5000);
    close(fd);
    fd = open(P("sparse"), O_CREAT | O_RDWR, 0644);
    ftruncate(fd, 1 << 20);
    fstat(fd, &st);
    expect_value("sparse-file-size", st.st_size, 1 << 20);
    expect_value("sparse-file-blocks-0", st.st_blocks, 0);
    pwrite(fd, "x", 1, 1 << 19);
    fstat(fd, &st);
    expect_value("sparse-file-one-page-blocks-8", st.st_blocks, 8);
    expect_value("sparse-lseek-data-skips-hole", E(lseek(fd, 0, SEEK_DATA)), 1 << 19);
    expect_value("sparse-lseek-hole-after-data", E(lseek(fd, 1 << 19, SEEK_HOLE)), (1 << 19) + PAGE);
    expect_value("sparse-lseek-hole-at-start", E(lseek(fd, 0, SEEK_HOLE)), 0);
    expect_errno("sparse-lseek-data-in-last-hole-enxio", E(lseek(fd, (1 << 19) + PAGE, SEEK_DATA)), ENXIO);
    close(fd);
    unlink(P("sparse"));
    st = st_of(P("u2"));
    expect_mode("new-dir-mode", st.st_mode, S_IFDIR | 0750);
    mkdir(P("sticky"), 07777);
    expect_mode("mkdir-keeps-sticky-drops-setid", st_of(P("sticky")).st_mode & 07777, 01755);
    fd = open(P("setid"), O_CREAT | O_WRONLY, 07777);
    close(fd);
    expect_mode("creat-keeps-setid-bits", st_of(P("setid")).st_mode & 07777, 07755);

    struct statx_ sx;
    memset(&sx, 0xff, sizeof sx);
    long r = E(syscall(SYS_statx, AT_FDCWD, P("fresh"), 0, 0x7ff /* STATX_BASIC_STATS */, &sx));
    expect_value("statx", r, 0);
    st = st_of(P("fresh"));
    expect_true("statx-basic-mask", (sx.stx_mask & 0x7ff) == 0x7ff);
    expect_true("statx-matches-stat", sx.stx_ino == st.st_ino && sx.stx_size == 5000 && sx.stx_nlink == 1 &&
                                          sx.stx_mode == st.st_mode && sx.stx_blocks == (uint64_t)st.st_blocks &&
                                          sx.stx_mtime.tv_sec == st.st_mtim.tv_sec &&
                                          sx.stx_mtime.tv_nsec == (uint32_t)st.st_mtim.tv_nsec);
    fd = open(P("fresh"), O_RDONLY);
    memset(&sx, 0, sizeof sx);
    r = E(syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ff, &sx));
    expect_true("statx-empty-path-on-fd", r == 0 && sx.stx_ino == st.st_ino);
    close(fd);
    expect_errno("statx-missing-enoent", E(syscall(SYS_statx, AT_FDCWD, P("missing"), 0, 0x7ff, &sx)), ENOENT);
    expect_errno("statx-unknown-flag-einval", E(syscall(SYS_statx, AT_FDCWD, P("fresh"), 0x80000000, 0x7ff, &sx)), EINVAL);
    r = E(fstatat(AT_FDCWD, P("u4"), &st, AT_SYMLINK_NOFOLLOW));
    expect_true("fstatat-nofollow", r == 0 && S_ISLNK(st.st_mode));

    /* Times. */
    struct timespec set[2] = {{1234567890, 123456789}, {1000000000, 5}};
    expect_value("utimensat", E(utimensat(AT_FDCWD, P("fresh"), set, 0)), 0);
    st = st_of(P("fresh"));
    expect_true("utimensat-sets-atime", st.st_atim.tv_sec == 1234567890 && st.st_atim.tv_nsec == 123456789);
    expect_true("utimensat-sets-mtime", st.st_mtim.tv_sec == 1000000000 && st.st_mtim.tv_nsec == 5);
    expect_true("utimensat-ctime-now", recent(st.st_ctim));
    struct timespec omit[2] = {{0, UTIME_OMIT}, {1100000000, 0}};
    utimensat(AT_FDCWD, P("fresh"), omit, 0);
    st = st_of(P("fresh"));
    expect_true("utimensat-omit-keeps-atime", st.st_atim.tv_sec == 1234567890 && st.st_mtim.tv_sec == 1100000000);
    struct timespec now_atime[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    utimensat(AT_FDCWD, P("fresh"), now_atime, 0);
    st = st_of(P("fresh"));
    expect_true("utimensat-now", recent(st.st_atim) && st.st_mtim.tv_sec == 1100000000);
    fd = open(P("fresh"), O_WRONLY);
    write(fd, "w", 1);
    fstat(fd, &st);
    expect_true("write-updates-mtime", recent(st.st_mtim) && recent(st.st_ctim));
    expect_value("futimens", E(futimens(fd, set)), 0);
    fstat(fd, &st);
    expect_true("futimens-sets-mtime", st.st_mtim.tv_sec == 1000000000 && st.st_mtim.tv_nsec == 5);
    ftruncate(fd, 10);
    fstat(fd, &st);
    expect_true("truncate-updates-mtime", recent(st.st_mtim));
    futimens(fd, set);
    expect_value("utimensat-null-is-now", E(utimensat(AT_FDCWD, P("fresh"), 0, 0)), 0);
    st = st_of(P("fresh"));
    expect_true("utimensat-null-times-now", recent(st.st_atim) && recent(st.st_mtim));
    close(fd);
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    expect_errno("utimensat-bad-nsec-einval", E(utimensat(AT_FDCWD, P("fresh"), bad, 0)), EINVAL);
    expect_errno("utimensat-missing-enoent", E(utimensat(AT_FDCWD, P("missing"), set, 0)), ENOENT);
    symlink("fresh", P("tlink"));
    utimensat(AT_FDCWD, P("fresh"), 0, 0);
    expect_value("utimensat-nofollow", E(utimensat(AT_FDCWD, P("tlink"), set, AT_SYMLINK_NOFOLLOW)), 0);
    expect_true("utimensat-nofollow-sets-link", lst_of(P("tlink")).st_mtim.tv_sec == 1000000000 &&
                                                    recent(st_of(P("fresh")).st_mtim));
    mkdir(P("tdir"), 0755);
    utimensat(AT_FDCWD, P("tdir"), set, 0);
    write_file(P("tdir/new"), "", 0);
    st = st_of(P("tdir"));
    expect_true("create-updates-dir-mtime", recent(st.st_mtim) && recent(st.st_ctim));
    utimensat(AT_FDCWD, P("tdir"), set, 0);
    unlink(P("tdir/new"));
    expect_true("unlink-updates-dir-mtime", recent(st_of(P("tdir")).st_mtim));

    /* Permissions and owners. */
    expect_value("chmod", E(chmod(P("fresh"), 0600)), 0);
    expect_mode("chmod-mode", st_of(P("fresh")).st_mode, S_IFREG | 0600);
    fd = open(P("fresh"), O_RDONLY);
    expect_value("fchmod", E(fchmod(fd, 0755)), 0);
    fstat(fd, &st);
    expect_mode("fchmod-mode", st.st_mode, S_IFREG | 0755);
    close(fd);
    expect_value("chmod-through-symlink", E(chmod(P("tlink"), 0640)), 0);
    expect_true("chmod-through-symlink-changes-target",
                (st_of(P("fresh")).st_mode & 07777) == 0640 && (lst_of(P("tlink")).st_mode & 07777) == 0777);
    expect_value("chmod-special-bits", E(chmod(P("fresh"), 07777)), 0);
    expect_mode("chmod-special-bits-kept", st_of(P("fresh")).st_mode & 07777, 07777);
    expect_value("fchmodat", E(fchmodat(AT_FDCWD, P("fresh"), 0644, 0)), 0);
    expect_mode("fchmodat-mode", st_of(P("fresh")).st_mode & 07777, 0644);
    expect_value("chmod-dir", E(chmod(P("u2"), 0700)), 0);
    expect_mode("chmod-dir-mode", st_of(P("u2")).st_mode, S_IFDIR | 0700);
    expect_errno("chmod-missing-enoent", E(chmod(P("missing"), 0644)), ENOENT);
    expect_value("chown", E(chown(P("fresh"), 0, 0)), 0);
    expect_value("chown-unchanged", E(chown(P("fresh"), -1, -1)), 0);
    fd = open(P("fresh"), O_RDONLY);
    expect_value("fchown", E(fchown(fd, 0, 0)), 0);
    close(fd);
    expect_value("lchown-symlink", E(lchown(P("tlink"), 0, 0)), 0);
    expect_value("fchownat-nofollow", E(fchownat(AT_FDCWD, P("tlink"), 0, 0, AT_SYMLINK_NOFOLLOW)), 0);
    expect_errno("chown-missing-enoent", E(chown(P("missing"), 0, 0)), ENOENT);
    st = st_of(P("fresh"));
    expect_value("chown-owner-root", st.st_uid * 1000 + st.st_gid, 0);

    expect_value("access-f-ok", E(access(P("fresh"), F_OK)), 0);
    expect_errno("access-missing-enoent", E(access(P("missing"), F_OK)), ENOENT);
    expect_errno("access-through-file-enotdir", E(access(P("fresh/x"), F_OK)), ENOTDIR);
    chmod(P("fresh"), 0);
    expect_value("access-root-reads-and-writes-mode-0", E(access(P("fresh"), R_OK | W_OK)), 0);
    expect_errno("access-root-x-needs-an-x-bit-eacces", E(access(P("fresh"), X_OK)), EACCES);
    chmod(P("fresh"), 0100);
    expect_value("access-root-x-with-owner-x", E(access(P("fresh"), X_OK)), 0);
    chmod(P("fresh"), 0644);
    expect_value("access-x-on-dir", E(access(P("u2"), X_OK)), 0);
    expect_value("faccessat-eaccess", E(faccessat(AT_FDCWD, P("fresh"), R_OK, AT_EACCESS)), 0);
    expect_errno("faccessat2-bad-flag-einval", E(syscall(SYS_faccessat2, AT_FDCWD, P("fresh"), R_OK, 1)), EINVAL);
    expect_errno("access-bad-mode-einval", E(access(P("fresh"), 8)), EINVAL);
}

/* -------------------------------------------------------------- truncate */

static void truncation(void) {
    static char eight[8192];
    memset(eight, 'x', sizeof eight);
    write_file(P("T"), eight, sizeof eight);
    expect_value("truncate-shrink", E(truncate(P("T"), 100)), 0);
    expect_value("truncate-shrink-size", st_of(P("T")).st_size, 100);
    int fd = open(P("T"), O_RDWR);
    expect_value("read-past-truncated-end", E(pread(fd, buf, 10, 100)), 0);
    expect_value("truncate-extend", E(truncate(P("T"), 8192)), 0);
    memset(buf, 0x55, 8192);
    expect_value("read-after-extend", E(pread(fd, buf, 8192, 0)), 8192);
    expect_true("shrink-then-extend-reads-zeros", all_bytes(buf, 100, 'x') && all_bytes(buf + 100, 8092, 0));
    pwrite(fd, eight, 5000, 0);
    lseek(fd, 5000, SEEK_SET);
    expect_value("ftruncate-shrink", E(ftruncate(fd, 10)), 0);
    expect_value("ftruncate-keeps-offset", E(lseek(fd, 0, SEEK_CUR)), 5000);
    expect_value("write-at-old-offset", E(write(fd, "z", 1)), 1);
    memset(buf, 0x55, 8192);
    expect_value("ftruncate-shrink-then-write-size", E(pread(fd, buf, 8192, 0)), 5001);
    expect_true("ftruncate-shrink-then-write-zeros",
                all_bytes(buf, 10, 'x') && all_bytes(buf + 10, 4990, 0) && buf[5000] == 'z');
    expect_errno("ftruncate-negative-einval", E(ftruncate(fd, -1)), EINVAL);
    expect_errno("truncate-negative-einval", E(truncate(P("T"), -1)), EINVAL);
    close(fd);
    fd = open(P("T"), O_RDONLY);
    expect_errno("ftruncate-read-only-fd-einval", E(ftruncate(fd, 0)), EINVAL);
    close(fd);
    mkdir(P("Tdir"), 0755);
    expect_errno("truncate-dir-eisdir", E(truncate(P("Tdir"), 0)), EISDIR);
    expect_errno("truncate-missing-enoent", E(truncate(P("missing"), 0)), ENOENT);
    int p[2];
    pipe(p);
    expect_errno("ftruncate-pipe-einval", E(ftruncate(p[1], 0)), EINVAL);
    close(p[0]);
    close(p[1]);

    /* Truncating a mapped file: the rest of the last page reads zeros at once. */
    write_file(P("Tmap"), eight, sizeof eight);
    fd = open(P("Tmap"), O_RDWR);
    char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        check("truncate-mapped-file-map", 0, "mmap %s", errno_name(-errno));
    } else {
        expect_true("mapped-before-truncate", all_bytes(m, 8192, 'x'));
        ftruncate(fd, 100);
        expect_true("truncate-zeroes-mapped-tail", all_bytes(m, 100, 'x') && all_bytes(m + 100, PAGE - 100, 0));
        ftruncate(fd, 8192);
        memset(buf, 0x55, 8192);
        pread(fd, buf, 8192, 0);
        expect_true("truncate-mapped-then-extend-reads-zeros", all_bytes(buf, 100, 'x') && all_bytes(buf + 100, 8092, 0));
        expect_true("truncate-mapped-then-extend-map-zeros", all_bytes(m + 100, 8092, 0));
        munmap(m, 8192);
    }
    close(fd);
}

/* ------------------------------------------------------- unlinked but open */

static void unlinked_open(void) {
    write_file(P("U"), "persist", 7);
    int fd = open(P("U"), O_RDWR);
    expect_value("unlink-open-file", E(unlink(P("U"))), 0);
    expect_errno("unlinked-name-gone-enoent", stat_errno(P("U")), ENOENT);
    struct stat st;
    fstat(fd, &st);
    expect_value("unlinked-open-nlink-0", st.st_nlink, 0);
    memset(buf, 0, 16);
    expect_value("unlinked-open-readable", E(pread(fd, buf, 16, 0)), 7);
    expect_string("unlinked-open-content", buf, "persist");
    expect_value("unlinked-open-writable", E(pwrite(fd, "ent", 3, 7)), 3);
    fstat(fd, &st);
    expect_value("unlinked-open-grows", st.st_size, 10);
    write_file(P("U"), "new", 3);
    memset(buf, 0, 16);
    pread(fd, buf, 16, 0);
    expect_string("unlinked-open-independent-of-new-name", buf, "persistent");
    char *m = mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    expect_true("unlinked-open-mappable", m != MAP_FAILED && memcmp(m, "persistent", 10) == 0);
    close(fd);
    expect_true("unlinked-mapping-outlives-fd", m != MAP_FAILED && memcmp(m, "persistent", 10) == 0);
    if (m != MAP_FAILED) munmap(m, PAGE);
    read_file(P("U"), buf, sizeof buf);
    expect_string("new-file-under-old-name", buf, "new");

    write_file(P("U2"), "mapped then unlinked", 20);
    fd = open(P("U2"), O_RDONLY);
    m = mmap(0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    unlink(P("U2"));
    expect_true("mapping-of-unlinked-closed-file", m != MAP_FAILED && memcmp(m, "mapped then unlinked", 20) == 0);
    if (m != MAP_FAILED) munmap(m, PAGE);
}

/* -------------------------------------------------------------- mappings */

static char *shared_map;
static int child_writes_map(void) {
    memcpy(shared_map, "child!", 6);
    memcpy(shared_map + 5000, "deep", 4);
    return 0;
}

static volatile char *touch_at;
static int child_reads(void) {
    return touch_at[0] == 0x7f ? 3 : 0;
}
static int child_writes(void) {
    touch_at[0] = 1;
    return 0;
}

static char *map_in_proc_maps(const char *name) {
    static char maps[32768];
    read_file("/proc/self/maps", maps, sizeof maps);
    return strstr(maps, name);
}

static void mappings(void) {
    struct stat st;
    int fd = open(P("M"), O_CREAT | O_RDWR | O_TRUNC, 0644);
    ftruncate(fd, 8192);
    pwrite(fd, "original", 8, 0);
    shared_map = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (shared_map == MAP_FAILED) {
        check("mmap-shared-file", 0, "%s", errno_name(-errno));
        close(fd);
        return;
    }
    expect_true("mmap-shared-sees-file", memcmp(shared_map, "original", 8) == 0);
    expect_true("proc-maps-names-the-file", map_in_proc_maps(P("M")) != 0);
    expect_exit_zero("mmap-shared-child-writes", in_child(child_writes_map));
    memset(buf, 0, 16);
    pread(fd, buf, 6, 0);
    expect_string("mmap-shared-child-write-read-by-parent", buf, "child!");
    memset(buf, 0, 16);
    pread(fd, buf, 4, 5000);
    expect_string("mmap-shared-child-write-second-page", buf, "deep");
    expect_true("mmap-shared-parent-map-sees-child", memcmp(shared_map, "child!", 6) == 0);
    pwrite(fd, "XYZ", 3, 100);
    expect_true("write-then-mapping-sees-it", memcmp(shared_map + 100, "XYZ", 3) == 0);
    shared_map[10] = 'k';
    pread(fd, buf, 1, 10);
    expect_value("mapping-write-then-read-sees-it", buf[0], 'k');
    expect_value("msync-sync", E(msync(shared_map, 8192, MS_SYNC)), 0);
    expect_value("msync-async", E(msync(shared_map, 8192, MS_ASYNC)), 0);
    expect_value("msync-invalidate", E(msync(shared_map, PAGE, MS_INVALIDATE)), 0);
    expect_errno("msync-sync-and-async-einval", E(msync(shared_map, 8192, MS_SYNC | MS_ASYNC)), EINVAL);
    expect_errno("msync-unaligned-einval", E(msync(shared_map + 1, 100, MS_SYNC)), EINVAL);

    char *private_map = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    expect_true("mmap-private-sees-file", private_map != MAP_FAILED && private_map[0] == 'c');
    if (private_map != MAP_FAILED) {
        private_map[0] = 'P';
        pread(fd, buf, 1, 0);
        expect_value("mmap-private-write-not-in-file", buf[0], 'c');
        expect_value("mmap-private-write-not-in-shared-map", shared_map[0], 'c');
        expect_value("mmap-private-write-visible-to-itself", private_map[0], 'P');
        pwrite(fd, "Q", 1, 6000);
        expect_value("mmap-private-sees-write-before-cow", private_map[6000], 'Q');
        pwrite(fd, "R", 1, 1);
        expect_value("mmap-private-copy-keeps-old-bytes", private_map[1], 'h');
        private_map[PAGE] = 'D';
        expect_value("madvise-dontneed-private", E(madvise(private_map, 8192, MADV_DONTNEED)), 0);
        expect_true("madvise-dontneed-private-reverts-to-file",
                    private_map[0] == 'c' && private_map[1] == 'R' && private_map[PAGE] == shared_map[PAGE]);
        munmap(private_map, 8192);
    }
    shared_map[PAGE + 7] = 'S';
    expect_value("madvise-dontneed-shared", E(madvise(shared_map, 8192, MADV_DONTNEED)), 0);
    expect_true("madvise-dontneed-shared-keeps-data", shared_map[PAGE + 7] == 'S' && memcmp(shared_map, "cRild!", 6) == 0);
    munmap(shared_map, 8192);
    expect_errno("msync-unmapped-enomem", E(msync(shared_map, 8192, MS_SYNC)), ENOMEM);
    close(fd);
    memset(buf, 0, 16);
    read_file(P("M"), buf, 16);
    expect_true("mapping-writes-persist-after-unmap", memcmp(buf, "cRild!", 6) == 0 && buf[10] == 'k');

    fd = open(P("M"), O_RDONLY);
    expect_errno("mmap-shared-write-on-read-only-fd-eacces",
                 (long)mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == -1 ? -errno : 0, EACCES);
    char *p = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    expect_true("mmap-private-write-on-read-only-fd", p != MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, PAGE);
    expect_errno("mmap-length-0-einval", (long)mmap(0, 0, PROT_READ, MAP_PRIVATE, fd, 0) == -1 ? -errno : 0, EINVAL);
    char *far = mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 16 * PAGE);
    expect_true("mmap-offset-past-eof-maps", far != MAP_FAILED);
    if (far != MAP_FAILED) {
        touch_at = far;
        expect_signal("mmap-offset-past-eof-touch-sigbus", in_child(child_reads), SIGBUS);
        munmap(far, PAGE);
    }
    expect_errno("mmap-unaligned-offset-einval", (long)mmap(0, PAGE, PROT_READ, MAP_PRIVATE, fd, 100) == -1 ? -errno : 0,
                 EINVAL);
    close(fd);
    fd = open(P("M"), O_WRONLY);
    expect_errno("mmap-write-only-fd-eacces", (long)mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 0) == -1 ? -errno : 0, EACCES);
    close(fd);
    fd = open(base, O_RDONLY | O_DIRECTORY);
    expect_errno("mmap-directory-enodev", (long)mmap(0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0) == -1 ? -errno : 0, ENODEV);
    close(fd);

    /* Past the end of the file: SIGBUS, in a child. */
    static char hundred[100];
    memset(hundred, 'b', sizeof hundred);
    write_file(P("B"), hundred, sizeof hundred);
    fd = open(P("B"), O_RDWR);
    char *b = mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *bp = mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (b == MAP_FAILED || bp == MAP_FAILED) {
        check("mmap-beyond-eof", 0, "mmap %s", errno_name(-errno));
    } else {
        expect_true("mmap-last-page-tail-zero", all_bytes(b, 100, 'b') && all_bytes(b + 100, PAGE - 100, 0));
        b[200] = 'w';
        fstat(fd, &st);
        expect_value("mmap-write-past-eof-keeps-size", st.st_size, 100);
        touch_at = b + PAGE;
        expect_signal("mmap-shared-read-past-eof-sigbus", in_child(child_reads), SIGBUS);
        touch_at = b + 2 * PAGE + 5;
        expect_signal("mmap-shared-write-past-eof-sigbus", in_child(child_writes), SIGBUS);
        touch_at = bp + PAGE;
        expect_signal("mmap-private-read-past-eof-sigbus", in_child(child_reads), SIGBUS);
        touch_at = bp + PAGE;
        expect_signal("mmap-private-write-past-eof-sigbus", in_child(child_writes), SIGBUS);
        munmap(b, 3 * PAGE);
        munmap(bp, 3 * PAGE);
    }
    close(fd);
    write_file(P("B2"), hundred, sizeof hundred);
    fd = open(P("B2"), O_RDWR);
    b = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (b != MAP_FAILED) {
        touch_at = b + PAGE;
        expect_signal("mmap-past-eof-before-extend-sigbus", in_child(child_reads), SIGBUS);
        ftruncate(fd, 2 * PAGE);
        expect_exit_zero("mmap-past-old-eof-after-extend", in_child(child_writes));
        pread(fd, buf, 1, PAGE);
        expect_value("mmap-after-extend-write-reaches-file", buf[0], 1);
        ftruncate(fd, 100);
        touch_at = b + PAGE;
        expect_signal("mmap-after-shrink-sigbus", in_child(child_reads), SIGBUS);
        munmap(b, 2 * PAGE);
    }
    close(fd);
}

/* --------------------------------------------------------------- devices */

static int shared_zero_child(void) {
    memcpy((char *)touch_at, "from child", 10);
    return 0;
}

static void devices(void) {
    struct stat st;
    int fd = open("/dev/null", O_RDWR);
    check("open-dev-null", fd >= 0, "%s", errno_name(-errno));
    expect_value("dev-null-write", E(write(fd, buf, 100)), 100);
    expect_value("dev-null-read-eof", E(read(fd, buf, 100)), 0);
    expect_value("dev-null-lseek", E(lseek(fd, 0, SEEK_SET)), 0);
    fstat(fd, &st);
    expect_true("dev-null-char-1-3", S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
    close(fd);

    fd = open("/dev/zero", O_RDWR);
    memset(buf, 0xff, PAGE);
    expect_value("dev-zero-read", E(read(fd, buf, PAGE)), PAGE);
    expect_true("dev-zero-reads-zeros", all_bytes(buf, PAGE, 0));
    expect_value("dev-zero-write", E(write(fd, buf, 10)), 10);
    fstat(fd, &st);
    expect_true("dev-zero-char-1-5", S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5));
    char *z = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    expect_true("mmap-dev-zero-private", z != MAP_FAILED && all_bytes(z, 2 * PAGE, 0));
    if (z != MAP_FAILED) {
        z[PAGE + 1] = 'q';
        expect_value("mmap-dev-zero-private-writable", z[PAGE + 1], 'q');
        munmap(z, 2 * PAGE);
    }
    z = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    expect_true("mmap-dev-zero-shared", z != MAP_FAILED && all_bytes(z, PAGE, 0));
    if (z != MAP_FAILED) {
        touch_at = z;
        expect_exit_zero("mmap-dev-zero-shared-child", in_child(shared_zero_child));
        expect_true("mmap-dev-zero-shared-with-child", memcmp(z, "from child", 10) == 0);
        munmap(z, PAGE);
    }
    close(fd);

    fd = open("/dev/full", O_RDWR);
    expect_errno("dev-full-write-enospc", E(write(fd, "x", 1)), ENOSPC);
    memset(buf, 0xff, 100);
    expect_value("dev-full-read", E(read(fd, buf, 100)), 100);
    expect_true("dev-full-reads-zeros", all_bytes(buf, 100, 0));
    fstat(fd, &st);
    expect_true("dev-full-char-1-7", S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 7));
    close(fd);

    char r1[64], r2[64];
    memset(r1, 0, 64);
    memset(r2, 0, 64);
    fd = open("/dev/urandom", O_RDONLY);
    expect_value("dev-urandom-read", E(read(fd, r1, 64)), 64);
    read(fd, r2, 64);
    expect_true("dev-urandom-not-zeros-and-changes", !all_bytes(r1, 64, 0) && memcmp(r1, r2, 64) != 0);
    fstat(fd, &st);
    expect_true("dev-urandom-char-1-9", S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 9));
    close(fd);
    fd = open("/dev/random", O_RDONLY);
    expect_value("dev-random-read", E(read(fd, r1, 16)), 16);
    fstat(fd, &st);
    expect_true("dev-random-char-1-8", S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 8));
    close(fd);

    expect_true("dev-shm-is-dir", S_ISDIR(st_of("/dev/shm").st_mode));
    char shm[64];
    snprintf(shm, sizeof shm, "/dev/shm/files-test-%d", getpid());
    expect_value("dev-shm-create", write_file(shm, "shm", 3), 3);
    memset(buf, 0, 8);
    read_file(shm, buf, 8);
    expect_string("dev-shm-read", buf, "shm");
    expect_value("dev-shm-unlink", E(unlink(shm)), 0);

    expect_value("mknod-char-device", E(mknod(P("mynull"), S_IFCHR | 0666, makedev(1, 3))), 0);
    st = lst_of(P("mynull"));
    expect_true("mknod-char-device-stat", S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
    fd = open(P("mynull"), O_RDWR);
    expect_value("mknod-char-device-writes-like-null", E(write(fd, "abc", 3)), 3);
    expect_value("mknod-char-device-reads-like-null", E(read(fd, buf, 10)), 0);
    close(fd);
    expect_value("mknod-char-device-file-stays-empty", st_of(P("mynull")).st_size, 0);
    expect_value("mknod-regular", E(mknod(P("mkreg"), S_IFREG | 0644, 0)), 0);
    expect_true("mknod-regular-stat", S_ISREG(st_of(P("mkreg")).st_mode) && st_of(P("mkreg")).st_size == 0);
    expect_value("mknod-mode-0-is-regular", E(mknod(P("mkreg0"), 0644, 0)), 0);
    expect_true("mknod-mode-0-stat", S_ISREG(st_of(P("mkreg0")).st_mode));
    expect_errno("mknod-existing-eexist", E(mknod(P("mkreg"), S_IFREG | 0644, 0)), EEXIST);
    expect_errno("mknod-directory-eperm", E(mknod(P("mkdir"), S_IFDIR | 0755, 0)), EPERM);
}

/* ----------------------------------------------------------------- /proc */

static int child_proc_self(void) {
    char text[32], expected[32];
    long n = readlink("/proc/self", text, sizeof text - 1);
    if (n < 0) return 1;
    text[n] = 0;
    snprintf(expected, sizeof expected, "%d", getpid());
    return strcmp(text, expected) == 0 ? 0 : 2;
}

static void procfs(void) {
    char text[64], expected[64];
    long n = E(readlink("/proc/self", text, sizeof text - 1));
    if (n >= 0) text[n] = 0;
    snprintf(expected, sizeof expected, "%d", getpid());
    expect_string("proc-self-links-to-pid", n >= 0 ? text : errno_name(n), expected);
    expect_true("proc-self-lstat-symlink", S_ISLNK(lst_of("/proc/self").st_mode));
    expect_exit_zero("proc-self-in-child-is-child", in_child(child_proc_self));
    snprintf(expected, sizeof expected, "%d (files) ", getpid());
    read_file("/proc/self/stat", buf, sizeof buf);
    check("proc-self-stat-starts-with-pid", strncmp(buf, expected, strlen(expected)) == 0, "got \"%.40s\"", buf);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", getpid());
    read_file(path, buf, sizeof buf);
    check("proc-pid-stat-starts-with-pid", strncmp(buf, expected, strlen(expected)) == 0, "got \"%.40s\"", buf);
    expect_true("proc-self-stat-is-regular", S_ISREG(st_of("/proc/self/stat").st_mode));
    snprintf(path, sizeof path, "/proc/%d", getpid());
    expect_true("proc-self-is-the-pid-dir",
                S_ISDIR(st_of("/proc/self").st_mode) && st_of("/proc/self").st_ino == st_of(path).st_ino);
    read_file("/proc/self/maps", buf, sizeof buf);
    expect_true("proc-self-maps-stack", strstr(buf, "[stack]") != 0);
    read_file("/proc/meminfo", buf, sizeof buf);
    expect_true("proc-meminfo", strncmp(buf, "MemTotal:", 9) == 0);
    read_file("/proc/mounts", buf, sizeof buf);
    check("proc-mounts-lists-proc", strstr(buf, " /proc proc ") != 0, "got \"%.200s\"", buf);
    long count = list_dir("/proc");
    snprintf(text, sizeof text, "%d", getpid());
    expect_true("proc-lists-self", type_is(count, "self", DT_LNK));
    expect_true("proc-lists-pid", type_is(count, text, DT_DIR));
    struct statfs fs;
    expect_value("statfs-proc", E(statfs("/proc", &fs)), 0);
    expect_value("statfs-proc-magic", fs.f_type, PROC_SUPER_MAGIC);
    expect_errno("proc-missing-enoent", stat_errno("/proc/self/no-such-file"), ENOENT);
    /* procfs's lookup fails for a name it does not know, before any create. */
    expect_errno("proc-creat-enoent", E(open("/proc/files-new", O_CREAT | O_WRONLY, 0644)), ENOENT);
}

/* ---------------------------------------------------------------- statfs */

static void statfs_checks(void) {
    struct statfs fs, fs2;
    expect_value("statfs-scratch", E(statfs(base, &fs)), 0);
    expect_true("statfs-block-size", fs.f_bsize > 0);
    int fd = open(base, O_RDONLY | O_DIRECTORY);
    expect_value("fstatfs", E(fstatfs(fd, &fs2)), 0);
    close(fd);
    expect_true("fstatfs-matches-statfs", fs.f_type == fs2.f_type);
    expect_errno("statfs-missing-enoent", E(statfs(P("missing"), &fs)), ENOENT);
    expect_value("statfs-tmp", E(statfs("/tmp", &fs)), 0);
    if (on_tskernel() || fs.f_type == TMPFS_MAGIC)
        check("statfs-tmp-is-tmpfs", fs.f_type == TMPFS_MAGIC, "f_type %#lx", (long)fs.f_type);
    else
        skip("statfs-tmp-is-tmpfs", "/tmp is not a tmpfs on this machine, and this is not TSKernel's init");
}

/* ---------------------------------------------------------- exec and fds */

static int check_fds(int argc, char **argv) {
    int open_fd = atoi(argv[2]);
    if (fcntl(open_fd, F_GETFD) != 0) return 2;
    char text[8] = {0};
    if (pread(open_fd, text, 4, 0) != 4 || memcmp(text, "kept", 4) != 0) return 3;
    for (int i = 3; i < argc; i++)
        if (fcntl(atoi(argv[i]), F_GETFD) != -1 || errno != EBADF) return 4;
    return 0;
}

/* Forks and execs path with argv; the wait status. */
static int run(const char *path, char *const argv[]) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        execv(path, argv);
        _exit(200 + (errno < 50 ? errno : 49));
    }
    int status = 0;
    waitpid(child, &status, 0);
    return status;
}

static void expect_exec_errno(const char *name, const char *path, int error) {
    char *argv[] = {(char *)path, 0};
    int status = run(path, argv);
    long got = WIFEXITED(status) && WEXITSTATUS(status) >= 200 ? -(WEXITSTATUS(status) - 200) : 0;
    check(name, got == -error, "child %s, expected exec to fail with %s", status_text(status), errno_name(-error));
}

static void exec_checks(void) {
    write_file(P("K"), "kept", 4);
    int keep = open(P("K"), O_RDONLY);
    int closing = open(P("K"), O_RDONLY | O_CLOEXEC);
    expect_value("open-cloexec-sets-fd-flag", fcntl(closing, F_GETFD), FD_CLOEXEC);
    expect_value("open-without-cloexec", fcntl(keep, F_GETFD), 0);
    expect_value("dup2-to-42", E(dup2(keep, 42)), 42);
    expect_value("dup3-cloexec-to-43", E(dup3(closing, 43, O_CLOEXEC)), 43);
    expect_value("dup2-to-44", E(dup2(keep, 44)), 44);
    expect_value("fcntl-setfd-cloexec-44", E(fcntl(44, F_SETFD, FD_CLOEXEC)), 0);
    char closing_text[16];
    snprintf(closing_text, sizeof closing_text, "%d", closing);
    char *argv[] = {self, "--check-fds", "42", "43", "44", closing_text, 0};
    expect_exit_zero("exec-closes-cloexec-keeps-others", run(self, argv));

    /* A copy of this program in the scratch directory runs too. */
    int in = open(self, O_RDONLY), out = open(P("files-copy"), O_CREAT | O_WRONLY | O_TRUNC, 0755);
    long n, copied = 0;
    while ((n = read(in, buf, sizeof buf)) > 0) copied += write(out, buf, n);
    close(in);
    close(out);
    check("copy-of-program", copied > 0 && copied == st_of(self).st_size, "copied %ld", copied);
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", P("files-copy"));
    argv[0] = copy;
    expect_exit_zero("exec-copy-in-scratch-dir", run(copy, argv));
    close(keep);
    close(closing);
    close(42);
    close(43);
    close(44);

    chmod(P("files-copy"), 0644);
    expect_exec_errno("exec-without-x-bit-eacces", P("files-copy"), EACCES);
    expect_exec_errno("exec-directory-eacces", base, EACCES);
    expect_exec_errno("exec-missing-enoent", P("missing"), ENOENT);
    expect_exec_errno("exec-through-file-enotdir", P("files-copy/x"), ENOTDIR);
    write_file(P("text"), "just text\n", 10);
    chmod(P("text"), 0755);
    expect_exec_errno("exec-text-file-enoexec", P("text"), ENOEXEC);
    symlink("files-copy", P("copy-link"));
    chmod(P("files-copy"), 0755);
    char link_path[1024];
    snprintf(link_path, sizeof link_path, "%s", P("copy-link"));
    char *link_argv[] = {link_path, "--check-fds", "0", 0};
    /* fd 0 is whatever stdin is: it is not "kept", so use a file we open here. */
    int fd = open(P("K"), O_RDONLY);
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", fd);
    link_argv[2] = fd_text;
    expect_exit_zero("exec-through-symlink", run(link_path, link_argv));
    close(fd);
}

/* ------------------------------------------------------------ leak check */

static long memcheck_number(const char *key) {
    static char text[2048];
    int fd = open("/proc/memcheck", O_RDONLY);
    if (fd < 0) return -1;
    long n = read(fd, text, sizeof text - 1);
    close(fd);
    text[n > 0 ? n : 0] = 0;
    char *at = strstr(text, key);
    return at ? atol(at + strlen(key)) : -1;
}

static long *batch_peak_free; /* a MAP_SHARED page: the child's free_frames with everything made */

static int batch(void) {
    static char data[3 * PAGE];
    memset(data, 'L', sizeof data);
    if (mkdir(P("leak"), 0755) != 0) return 1;
    char name[64], other[64];
    for (int i = 0; i < 48; i++) {
        snprintf(name, sizeof name, "leak/file-%d", i);
        int fd = open(P(name), O_CREAT | O_RDWR | O_TRUNC, 0644);
        if (fd < 0) return 2;
        if (write(fd, data, sizeof data) != sizeof data) return 3;
        char *m = mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) return 4;
        m[i] = 'M';
        m[PAGE + i] = 'M';
        char *p = mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) return 5;
        p[2 * PAGE] = 'P';
        if (i % 3 == 0) ftruncate(fd, PAGE);
        if (i % 3 == 1) ftruncate(fd, 6 * PAGE);
        munmap(p, 3 * PAGE);
        if (i % 2 == 0) munmap(m, 4 * PAGE);
        snprintf(other, sizeof other, "leak/renamed-%d", i);
        if (rename(P(name), P(other)) != 0) return 6;
        snprintf(name, sizeof name, "leak/link-%d", i);
        if (link(P(other), P(name)) != 0) return 7;
        snprintf(name, sizeof name, "leak/sym-%d", i);
        if (symlink(other, P(name)) != 0) return 8;
        snprintf(name, sizeof name, "leak/dir-%d", i);
        if (mkdir(P(name), 0755) != 0) return 9;
        if (i % 4 == 0) {
            unlink(P(other)); /* unlinked while open (and maybe mapped) */
        }
        if (i % 5 == 0) close(fd); /* the rest close at exit */
    }
    long n = list_dir(P("leak"));
    if (n < 48 * 3) return 10;
    if (batch_peak_free) *batch_peak_free = memcheck_number("free_frames ");
    remove_tree(P("leak"));
    return exists(P("leak")) ? 11 : 0;
}

/* Creating in a removed directory fails on Linux; where it does not, the
 * file must still not outlive its last reference. */
static int dead_dir_child(void) {
    static char data[1 << 20];
    memset(data, 'd', sizeof data);
    if (mkdir(P("deaddir"), 0755) != 0) return 1;
    int dir = open(P("deaddir"), O_RDONLY | O_DIRECTORY);
    if (dir < 0 || rmdir(P("deaddir")) != 0) return 2;
    int fd = openat(dir, "x", O_CREAT | O_RDWR, 0644);
    if (fd >= 0 && write(fd, data, sizeof data) != sizeof data) return 3;
    mkdirat(dir, "y", 0755);
    return 0;
}

static void leak_check(void) {
    if (!on_tskernel()) {
        skip("leak-check", "only as TSKernel's init (pid 1 with /proc/memcheck)");
        return;
    }
    batch_peak_free = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (batch_peak_free == MAP_FAILED) batch_peak_free = 0;
    else *batch_peak_free = 0;
    /* Warm-up: everything the parent touches and the kernel caches for the first time. */
    int status = in_child(batch);
    expect_exit_zero("leak-batch-warm-up", status);
    memcheck_number("free_frames ");
    long baseline = memcheck_number("free_frames ");
    long problems_before = memcheck_number("problems ");
    status = in_child(batch);
    long problems = memcheck_number("problems ");
    long after = memcheck_number("free_frames ");
    expect_exit_zero("leak-batch", status);
    expect_value("leak-memcheck-problems-0-before", problems_before, 0);
    expect_value("leak-memcheck-problems-0", problems, 0);
    check("leak-free-frames-unchanged", after == baseline && baseline > 0, "free_frames %ld before, %ld after", baseline,
          after);
    /* The batch did hold memory: fewer free frames while its files existed. */
    long peak = batch_peak_free ? *batch_peak_free : -1;
    check("leak-batch-held-frames", peak > 0 && baseline - peak >= 48, "free_frames %ld before, %ld at the peak", baseline,
          peak);
    printf("files: leak check: free_frames %ld before, %ld with the batch's files, %ld after\n", baseline, peak, after);

    expect_exit_zero("leak-removed-dir-warm-up", in_child(dead_dir_child));
    baseline = memcheck_number("free_frames ");
    status = in_child(dead_dir_child);
    problems = memcheck_number("problems ");
    after = memcheck_number("free_frames ");
    expect_exit_zero("leak-removed-dir-child", status);
    expect_value("leak-removed-dir-problems-0", problems, 0);
    check("leak-removed-dir-free-frames-unchanged", after == baseline, "free_frames %ld before, %ld after", baseline, after);
}

/* ------------------------------------------------------------------ main */

static int make_base(const char *dir) {
    int made = mkdir(dir, 0755) == 0;
    if (!made && errno != EEXIST) {
        printf("FAIL scratch-dir: mkdir %s: %s\n", dir, strerror(errno));
        exit(2);
    }
    long n = list_dir(dir);
    if (n != 2) {
        printf("FAIL scratch-dir: %s is not an empty directory (%s entries)\n", dir, errno_name(n));
        exit(2);
    }
    /* Its name as getcwd gives it, for the getcwd checks. */
    int home = open(".", O_RDONLY | O_DIRECTORY);
    if (chdir(dir) != 0 || syscall(SYS_getcwd, base, sizeof base) <= 0) {
        printf("FAIL scratch-dir: chdir or getcwd %s: %s\n", dir, strerror(errno));
        exit(2);
    }
    fchdir(home);
    close(home);
    return made;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--check-fds") == 0) return check_fds(argc, argv);
    setvbuf(stdout, 0, _IOLBF, 0);
    if (argv[0][0] == '/') {
        snprintf(self, sizeof self, "%s", argv[0]);
    } else {
        char here[400];
        if (!getcwd(here, sizeof here)) here[0] = 0;
        snprintf(self, sizeof self, "%s/%s", here, argv[0]);
    }
    char dir[400];
    if (argc >= 2) snprintf(dir, sizeof dir, "%s", argv[1]);
    else snprintf(dir, sizeof dir, "/tmp/files-test-%d", getpid());
    int made = make_base(dir);
    printf("files: working in %s (pid %d)\n", base, getpid());

    basic_io();
    open_errors();
    directories();
    renames();
    hard_links();
    symlinks();
    listing();
    cwd();
    attributes();
    truncation();
    unlinked_open();
    mappings();
    devices();
    procfs();
    statfs_checks();
    exec_checks();
    leak_check();

    /* Clean up: everything under base (it was empty), and base if we made it. */
    char names[MAX_ENTRIES][256];
    long n = list_dir(base);
    long count = n < MAX_ENTRIES ? n : MAX_ENTRIES;
    for (long i = 0; i < count; i++) snprintf(names[i], 256, "%.255s", entries[i].name);
    for (long i = 0; i < count; i++)
        if (strcmp(names[i], ".") && strcmp(names[i], "..")) remove_tree(P(names[i]));
    expect_value("cleanup-leaves-empty-dir", list_dir(base), 2);
    if (made) rmdir(base);

    printf("files: %d checks\n", checks);
    printf("files: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
