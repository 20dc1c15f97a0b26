/* System calls with bad input must fail with the right errno, never crash
 * the program or the kernel: bad buffers (NULL, kernel addresses, a buffer
 * running into an unmapped page, a read into read-only memory), bad paths,
 * unknown system call numbers, bad memory-call arguments, and execve of
 * malformed executables. Every failed execve must leave this process
 * running as it was.
 *
 * Arguments: names of malformed ELF files under /badelf/ (the test
 * generates them from a valid program, one defect each, and adds them to
 * the initramfs); each must give ENOEXEC. If /badelf/valid exists (the
 * unmodified program they were made from), the last step execs it with
 * argv[0] = "badinput-control", which proves the variants came from a
 * valid base and that exec still works after all the failures.
 *
 * With the one argument --linux-errno it runs only the checks of
 * linux_errno() below, where this kernel is known to differ from Linux.
 *
 * Prints "ok NAME" or "FAIL NAME: got X" per check; exits 0 only if all
 * pass (or with the control program's status). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096
#define KERNEL_DIRECT_MAP ((void *)0xffff800000000000ul)
#define KERNEL_TEXT ((void *)0xffffffff80000000ul)

static int failures;
int main(int argc, char **argv);

/* A raw system call's result: the value, or -errno. */
static long raw6(long number, long a, long b, long c, long d, long e, long f) {
    long result = syscall(number, a, b, c, d, e, f);
    return result == -1 ? -errno : result;
}

static long raw(long number, long a, long b, long c) {
    return raw6(number, a, b, c, 0, 0, 0);
}

static void expect_errno(const char *name, long result, int error) {
    if (result == -error) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: got %ld (%s), expected -%d (%s)\n", name, result,
               result < 0 ? strerror((int)-result) : "success", error, strerror(error));
        failures++;
    }
}

static void expect_true(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld\n", name, got);
        failures++;
    }
}

/* Two fresh pages, the second unmapped again: its first byte faults. */
static char *page_before_hole(void) {
    char *p = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || munmap(p + PAGE, PAGE) != 0) {
        printf("FAIL setup: mmap/munmap\n");
        _exit(2);
    }
    return p;
}

static void buffers(void) {
    expect_errno("write-null-buffer", raw(SYS_write, 1, 0, 10), EFAULT);
    expect_errno("write-direct-map-buffer", raw(SYS_write, 1, (long)KERNEL_DIRECT_MAP, 10), EFAULT);
    expect_errno("write-kernel-text-buffer", raw(SYS_write, 1, (long)KERNEL_TEXT, 16), EFAULT);
    expect_errno("write-noncanonical-buffer", raw(SYS_write, 1, 0x0000800000000000l, 16), EFAULT);
    expect_errno("write-bad-fd", raw(SYS_write, 99, (long)"x", 1), EBADF);

    /* 1024 valid bytes (16 lines) before an unmapped page, 8192 asked for:
     * Linux writes what it could read (1024); EFAULT is acceptable too,
     * anything else (or a crash) is not. */
    char *p = page_before_hole();
    char *start = p + PAGE - 1024;
    for (int line = 0; line < 16; line++) {
        char *l = start + line * 64;
        memset(l, '.', 64);
        memcpy(l, "badinput: filler for the partial-write check", 44);
        l[63] = '\n';
    }
    long n = raw(SYS_write, 1, (long)start, 8192);
    printf("badinput: write of 8192 bytes with 1024 readable returned %ld\n", n);
    expect_true("write-into-unmapped-page", n == -EFAULT || (n > 0 && n <= 1024), n);

    int fd = open("/etc/motd", O_RDONLY);
    if (fd < 0) {
        printf("FAIL setup: open /etc/motd: %s\n", strerror(errno));
        failures++;
        return;
    }
    char *readonly = mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect_errno("read-into-readonly-mapping", raw(SYS_read, fd, (long)readonly, 16), EFAULT);
    expect_errno("read-into-own-code", raw(SYS_read, fd, (long)(uintptr_t)main, 16), EFAULT);
    expect_errno("read-into-null", raw(SYS_read, fd, 0, 16), EFAULT);
    expect_errno("read-into-kernel", raw(SYS_read, fd, (long)KERNEL_DIRECT_MAP, 16), EFAULT);
    char *none = mmap(0, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect_errno("read-into-prot-none", raw(SYS_read, fd, (long)none, 16), EFAULT);
    /* The failed reads consumed nothing: the file still reads from its start. */
    char first[8] = {0};
    long got = raw(SYS_read, fd, (long)first, 1);
    expect_true("read-after-efault-still-works", got == 1 && readonly[0] == 0, got);
    expect_errno("readv-null-vector", raw(SYS_readv, fd, 0, 1), EFAULT);
    expect_errno("readv-into-readonly-mapping", raw(SYS_readv, fd, (long)&(struct iovec){readonly, 16}, 1), EFAULT);
    /* readv fills its buffers in order with what read would give. */
    char a[3] = {0}, b[4] = {0}, whole[7] = {0};
    got = raw(SYS_readv, fd, (long)(struct iovec[]){{a, 3}, {b, 4}}, 2);
    raw(SYS_lseek, fd, 1, SEEK_SET);
    long again = raw(SYS_read, fd, (long)whole, 7);
    expect_true("readv-fills-in-order", got == 7 && again == 7 && memcmp(a, whole, 3) == 0 && memcmp(b, whole + 3, 4) == 0, got);
    close(fd);
}

static void paths(void) {
    expect_errno("open-null-path", raw(SYS_open, 0, O_RDONLY, 0), EFAULT);
    expect_errno("open-kernel-path", raw(SYS_open, (long)KERNEL_DIRECT_MAP, O_RDONLY, 0), EFAULT);
    char *p = page_before_hole();
    memcpy(p + PAGE - 9, "/etc/motd", 9); /* no NUL before the hole */
    expect_errno("open-path-into-unmapped-page", raw(SYS_open, (long)(p + PAGE - 9), O_RDONLY, 0), EFAULT);
    static char longpath[5000];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    expect_errno("open-path-too-long", raw(SYS_open, (long)longpath, O_RDONLY, 0), ENAMETOOLONG);
    expect_errno("open-missing-file", raw(SYS_open, (long)"/no/such/file", O_RDONLY, 0), ENOENT);
    expect_errno("stat-null-buffer", raw6(SYS_newfstatat, AT_FDCWD, (long)"/etc/motd", 0, 0, 0, 0), EFAULT);
}

/* Other calls that write results to user memory, and descriptors. */
static void results(void) {
    expect_errno("uname-null", raw(SYS_uname, 0, 0, 0), EFAULT);
    expect_errno("clock_gettime-null", raw(SYS_clock_gettime, CLOCK_MONOTONIC, 0, 0), EFAULT);
    expect_errno("clock_gettime-kernel", raw(SYS_clock_gettime, CLOCK_REALTIME, (long)KERNEL_TEXT, 0), EFAULT);
    expect_errno("clock_gettime-bad-clock", raw(SYS_clock_gettime, 99, (long)&(struct timespec){0}, 0), EINVAL);
    expect_errno("gettimeofday-kernel", raw(SYS_gettimeofday, (long)KERNEL_DIRECT_MAP, 0, 0), EFAULT);
    expect_errno("nanosleep-null", raw(SYS_nanosleep, 0, 0, 0), EFAULT);
    expect_errno("nanosleep-bad-nanoseconds", raw(SYS_nanosleep, (long)&(struct timespec){0, 1000000000}, 0, 0), EINVAL);
    expect_errno("getrusage-null", raw(SYS_getrusage, 0, 0, 0), EFAULT);
    expect_errno("fstat-null", raw(SYS_fstat, 1, 0, 0), EFAULT);
    expect_errno("arch_prctl-get-fs-null", raw(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, 0, 0), EFAULT);
    expect_errno("arch_prctl-bad-code", raw(SYS_arch_prctl, 0x9999, 0, 0), EINVAL);
    expect_errno("writev-null-vector", raw(SYS_writev, 1, 0, 1), EFAULT);
    expect_errno("writev-negative-count", raw(SYS_writev, 1, (long)&(struct iovec){"x", 1}, -1), EINVAL);
    expect_errno("writev-null-buffer", raw(SYS_writev, 1, (long)&(struct iovec){0, 8}, 1), EFAULT);
    expect_errno("read-bad-fd", raw(SYS_read, 99, (long)&(char[8]){0}, 1), EBADF);
    expect_errno("read-negative-fd", raw(SYS_read, -1, (long)&(char[8]){0}, 1), EBADF);
    expect_errno("close-bad-fd", raw(SYS_close, 99, 0, 0), EBADF);
    expect_errno("lseek-console", raw(SYS_lseek, 1, 0, SEEK_SET), ESPIPE);
}

static void numbers(void) {
    expect_errno("syscall-400", raw(400, 0, 0, 0), ENOSYS);
    expect_errno("syscall-minus-1", raw(-1, 0, 0, 0), ENOSYS);
    expect_errno("syscall-100000", raw(100000, 0, 0, 0), ENOSYS);
}

static void memory_calls(void) {
    expect_errno("mmap-zero-length", raw6(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    expect_errno("mmap-no-sharing-type", raw6(SYS_mmap, 0, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
    expect_errno("mmap-bad-fd", raw6(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, 99, 0), EBADF);
    expect_errno("munmap-unaligned", raw(SYS_munmap, 0x10000001, PAGE, 0), EINVAL);
    expect_errno("mprotect-unmapped", raw(SYS_mprotect, 0x7e0000000000, PAGE, PROT_READ), ENOMEM);
    expect_errno("mprotect-unaligned", raw(SYS_mprotect, 0x10000001, PAGE, PROT_READ), EINVAL);
}

static void exec_errors(int count, char **names) {
    /* The bad arguments are for /bin/hello, a valid program: Linux checks
     * the file before the arguments, and exec must fail before replacing us. */
    static char *const argv[] = {"never-runs", 0};
    static char *const envp[] = {0};
    expect_errno("execve-null-path", raw(SYS_execve, 0, (long)argv, (long)envp), EFAULT);
    expect_errno("execve-missing-file", raw(SYS_execve, (long)"/no/such/program", (long)argv, (long)envp), ENOENT);
    expect_errno("execve-bad-argv", raw(SYS_execve, (long)"/bin/hello", (long)KERNEL_DIRECT_MAP, (long)envp), EFAULT);
    expect_errno("execve-bad-argv-string", raw(SYS_execve, (long)"/bin/hello", (long)(char *[]){(char *)1, 0}, (long)envp), EFAULT);
    expect_errno("execve-bad-envp", raw(SYS_execve, (long)"/bin/hello", (long)argv, (long)KERNEL_TEXT), EFAULT);
    static char huge[200 << 10]; /* one 200 KiB argument: above Linux's 128 KiB per string */
    memset(huge, 'x', sizeof huge - 1);
    expect_errno("execve-argument-too-long", raw(SYS_execve, (long)"/bin/hello", (long)(char *[]){huge, 0}, (long)envp), E2BIG);
    for (int i = 0; i < count; i++) {
        char path[256], name[300];
        snprintf(path, sizeof path, "/badelf/%s", names[i]);
        snprintf(name, sizeof name, "execve-%s", names[i]);
        expect_errno(name, raw(SYS_execve, (long)path, (long)argv, (long)envp), ENOEXEC);
    }
}

/* Where Linux answers differently (kept apart so that a known difference
 * does not hide the other checks): execve needs a regular file with
 * execute permission (EACCES otherwise); ARCH_SET_FS refuses a base
 * outside user space with EPERM; the last page below the canonical
 * boundary (0x7ffffffff000) is never user memory (TASK_SIZE): a syscall
 * instruction in its last two bytes would return to the non-canonical
 * 0x800000000000, which faults in kernel mode on Intel CPUs. */
static void linux_errno(void) {
    static char *const argv[] = {"never-runs", 0};
    static char *const envp[] = {0};
    expect_errno("execve-directory", raw(SYS_execve, (long)"/etc", (long)argv, (long)envp), EACCES);
    expect_errno("execve-without-execute-permission", raw(SYS_execve, (long)"/etc/motd", (long)argv, (long)envp), EACCES);
    expect_errno("arch_prctl-set-fs-kernel", raw(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, (long)KERNEL_TEXT, 0), EPERM);
    expect_errno("mmap-last-user-page", raw6(SYS_mmap, 0x7ffffffff000, PAGE, PROT_READ | PROT_EXEC,
                                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), ENOMEM);
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IONBF, 0); /* keep our lines in order with the kernel's */
    if (argc == 2 && !strcmp(argv[1], "--linux-errno")) {
        linux_errno();
        printf("badinput: %d failed\n", failures);
        return failures ? 1 : 0;
    }
    buffers();
    paths();
    results();
    numbers();
    memory_calls();
    exec_errors(argc - 1, argv + 1);
    printf("badinput: %d failed\n", failures);
    if (failures) return 1;
    int valid = open("/badelf/valid", O_RDONLY);
    if (valid >= 0) {
        close(valid);
        char *const control[] = {"badinput-control", "after", "bad", "execs", 0};
        char *const envp[] = {"BADINPUT=done", 0};
        execve("/badelf/valid", control, envp);
        printf("FAIL execve-valid-base: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
