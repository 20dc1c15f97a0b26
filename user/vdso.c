/* The vDSO, checked from user space: the auxiliary vector points at an ELF
 * shared object whose dynamic symbols (found here with our own walk of its
 * hash table and version records, not libc's) give clock_gettime,
 * gettimeofday and time; their results lie between two real system calls
 * made just before and just after; libc uses it (its clock reads add no
 * system call to this process's count in /proc/self/faults); clocks it
 * does not handle fall back to the system call; its pages are read-only
 * and /proc/self/maps shows them; and a child after fork reads the clock
 * through it too.
 *
 * Prints "ok NAME" or "FAIL NAME: ..." per check, then "vdso: N failed";
 * exits 0 only if all pass. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);

static int failures;

static void check(const char *name, int ok, const char *detail) {
    if (ok) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: %s\n", name, detail);
        failures++;
    }
}

static const Elf64_Ehdr *vdso_header(void) {
    return (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
}

/* Looks `name` up in the vDSO's dynamic symbols; it must carry version LINUX_2.6. */
static void *vdso_symbol(const char *name) {
    const Elf64_Ehdr *eh = vdso_header();
    const char *base = (const char *)eh;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    const Elf64_Dyn *dyn = 0;
    intptr_t load_bias = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD) load_bias = (intptr_t)base + (intptr_t)ph[i].p_offset - (intptr_t)ph[i].p_vaddr;
        if (ph[i].p_type == PT_DYNAMIC) dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
    }
    if (!dyn) return 0;
    const char *strings = 0;
    const Elf64_Sym *symbols = 0;
    const uint32_t *hash = 0;
    const uint16_t *versions = 0;
    const Elf64_Verdef *definitions = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        const void *at = (const void *)(load_bias + (intptr_t)dyn->d_un.d_ptr);
        if (dyn->d_tag == DT_STRTAB) strings = at;
        if (dyn->d_tag == DT_SYMTAB) symbols = at;
        if (dyn->d_tag == DT_HASH) hash = at;
        if (dyn->d_tag == DT_VERSYM) versions = at;
        if (dyn->d_tag == DT_VERDEF) definitions = at;
    }
    if (!strings || !symbols || !hash || !versions || !definitions) return 0;
    for (uint32_t i = 0; i < hash[1]; i++) { /* nchain = number of symbols */
        if (symbols[i].st_shndx == SHN_UNDEF || strcmp(strings + symbols[i].st_name, name) != 0) continue;
        const Elf64_Verdef *d = definitions;
        for (;;) {
            if (!(d->vd_flags & VER_FLG_BASE) && d->vd_ndx == (versions[i] & 0x7fff)) {
                const Elf64_Verdaux *aux = (const Elf64_Verdaux *)((const char *)d + d->vd_aux);
                if (strcmp(strings + aux->vda_name, "LINUX_2.6") == 0) return (void *)(load_bias + (intptr_t)symbols[i].st_value);
            }
            if (!d->vd_next) break;
            d = (const Elf64_Verdef *)((const char *)d + d->vd_next);
        }
    }
    return 0;
}

static long long ns(const struct timespec *t) {
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static long long raw_clock(clockid_t clock) {
    struct timespec t;
    if (syscall(SYS_clock_gettime, clock, &t) != 0) return -1;
    return ns(&t);
}

/* The process's system-call count, from /proc/self/faults: the count when
 * the file was opened, so it includes that open but not the read and close. */
static long system_calls(void) {
    char text[512];
    int fd = open("/proc/self/faults", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return -1;
    text[n] = 0;
    const char *line = strstr(text, "system_calls ");
    return line ? atol(line + 13) : -1;
}

static void check_header(void) {
    const Elf64_Ehdr *eh = vdso_header();
    char detail[128];
    snprintf(detail, sizeof detail, "AT_SYSINFO_EHDR = %p", (void *)eh);
    check("auxv-sysinfo-ehdr", eh != 0 && ((uintptr_t)eh & 4095) == 0, detail);
    if (!eh) exit(1);
    check("elf-header", memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
          eh->e_type == ET_DYN && eh->e_machine == EM_X86_64, "not an x86-64 ELF shared object");
}

static void check_sandwich(const char *name, clock_gettime_fn f, clockid_t clock) {
    struct timespec t;
    long long before = raw_clock(clock);
    int result = f(clock, &t);
    long long after = raw_clock(clock);
    char detail[160];
    snprintf(detail, sizeof detail, "returned %d; system call %lld, vDSO %lld, system call %lld", result, before, ns(&t), after);
    check(name, result == 0 && t.tv_nsec >= 0 && t.tv_nsec < 1000000000 && before <= ns(&t) && ns(&t) <= after, detail);
}

static void check_clocks(void) {
    clock_gettime_fn cgt = (clock_gettime_fn)vdso_symbol("__vdso_clock_gettime");
    gettimeofday_fn gtod = (gettimeofday_fn)vdso_symbol("__vdso_gettimeofday");
    time_fn tm = (time_fn)vdso_symbol("__vdso_time");
    check("symbols", cgt && gtod && tm, "__vdso_clock_gettime, __vdso_gettimeofday or __vdso_time missing");
    if (!cgt || !gtod || !tm) exit(1);
    check_sandwich("monotonic", cgt, CLOCK_MONOTONIC);
    check_sandwich("realtime", cgt, CLOCK_REALTIME);
    check_sandwich("boottime", cgt, CLOCK_BOOTTIME);
    check_sandwich("cputime-falls-back", cgt, CLOCK_PROCESS_CPUTIME_ID);
    struct timespec t;
    check("bad-clock-einval", cgt(99, &t) == -EINVAL, "clock 99 did not give -EINVAL");

    struct timeval tv;
    long long before = raw_clock(CLOCK_REALTIME) / 1000;
    int result = gtod(&tv, 0);
    long long after = raw_clock(CLOCK_REALTIME) / 1000;
    long long got = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
    char detail[160];
    snprintf(detail, sizeof detail, "returned %d; %lld <= %lld <= %lld us", result, before, got, after);
    check("gettimeofday", result == 0 && before <= got && got <= after, detail);

    long long seconds_before = raw_clock(CLOCK_REALTIME) / 1000000000;
    time_t out = 0;
    time_t seconds = tm(&out);
    long long seconds_after = raw_clock(CLOCK_REALTIME) / 1000000000;
    snprintf(detail, sizeof detail, "%lld <= %lld (stored %lld) <= %lld", seconds_before, (long long)seconds, (long long)out,
             seconds_after);
    check("time", seconds == out && seconds_before <= seconds && seconds <= seconds_after, detail);
}

/* libc's clock_gettime must not enter the kernel: between two reads of the
 * count, a thousand clock reads add nothing to the read, close and open
 * that lie between them. */
static void check_libc_uses_vdso(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* libc looks the vDSO up on its first call */
    long before = system_calls();
    long long first = 0, last = 0;
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (i == 0) first = ns(&t);
        last = ns(&t);
    }
    long after = system_calls();
    char detail[160];
    snprintf(detail, sizeof detail, "count %ld before, %ld after; clock %lld .. %lld", before, after, first, last);
    check("libc-uses-vdso", before > 0 && after - before == 3 && first <= last, detail);
}

/* A write to the vvar page or to the vDSO's code kills the writer with SIGSEGV. */
static void check_read_only(const char *name, volatile char *address) {
    pid_t child = fork();
    if (child == 0) {
        *address = 1;
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    char detail[96];
    snprintf(detail, sizeof detail, "wait status 0x%x", status);
    check(name, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, detail);
}

/* /proc/self/maps, in Linux's format, shows the two pages where the auxiliary vector says. */
static void check_maps(void) {
    char text[2048];
    int fd = open("/proc/self/maps", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0) close(fd);
    if (n <= 0) {
        check("maps", 0, "cannot read /proc/self/maps");
        return;
    }
    text[n] = 0;
    uintptr_t ehdr = (uintptr_t)vdso_header();
    char vvar[64], vdso[64];
    snprintf(vvar, sizeof vvar, "%08lx-%08lx r--p 00000000 00:00 0 [vvar]\n", ehdr - 4096, ehdr);
    snprintf(vdso, sizeof vdso, "%08lx-%08lx r-xp 00001000 00:00 0 [vdso]\n", ehdr, ehdr + 4096);
    int text_mapped = 0; /* a line for this program's code: executable, named by its path */
    for (char *line = text, *end; (end = strchr(line, '\n')) != 0; line = end + 1) {
        *end = 0;
        if (strstr(line, " r-xp ") && strstr(line, " /bin/vdso")) text_mapped = 1;
        *end = '\n';
    }
    check("maps-vvar-vdso", strstr(text, vvar) && strstr(text, vdso), text);
    check("maps-stack-and-text", strstr(text, " [stack]\n") && text_mapped, text);
}

static void check_child(void) {
    pid_t child = fork();
    if (child == 0) {
        clock_gettime_fn cgt = (clock_gettime_fn)vdso_symbol("__vdso_clock_gettime");
        struct timespec t;
        long long before = raw_clock(CLOCK_MONOTONIC);
        int ok = cgt && cgt(CLOCK_MONOTONIC, &t) == 0 && before <= ns(&t) && ns(&t) <= raw_clock(CLOCK_MONOTONIC);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    char detail[64];
    snprintf(detail, sizeof detail, "wait status 0x%x", status);
    check("child-after-fork", WIFEXITED(status) && WEXITSTATUS(status) == 0, detail);
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0); /* results in order with the kernel's reports of the children it kills */
    check_header();
    check_clocks();
    check_libc_uses_vdso();
    check_read_only("vvar-read-only", (volatile char *)vdso_header() - 4096);
    check_read_only("text-read-only", (volatile char *)vdso_header() + 0x100);
    check_maps();
    check_child();
    printf("vdso: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
