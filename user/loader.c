/* Executables of every kind: the Makefile builds this program static
 * (loader), static PIE (loader-static-pie), PIE with musl's dynamic loader
 * (loader-pie), PIE with glibc's (loader-glibc) and static with an
 * executable stack (loader-execstack). Each checks what exec gave it
 * against its own ELF file (/proc/self/exe):
 *   - the auxiliary vector: AT_PHDR points at a copy of the file's program
 *     header table, AT_PHENT and AT_PHNUM describe it, AT_ENTRY is the
 *     biased e_entry and _start, AT_BASE is 0 without an interpreter and
 *     where the interpreter is mapped with one, AT_EXECFN is the path
 *     execve was given, AT_RANDOM, AT_HWCAP (CPUID.1:EDX), AT_HWCAP2,
 *     AT_MINSIGSTKSZ, AT_PAGESZ, AT_CLKTCK, the ids, AT_SECURE, AT_PLATFORM
 *     and AT_SYSINFO_EHDR (the vDSO, as /proc/self/maps shows it);
 *   - where it was put: a PIE with an interpreter near two thirds of user
 *     space, a static PIE in the mmap area, the heap after the program (a
 *     static PIE's above ELF_ET_DYN_BASE);
 *   - the stack is executable exactly when PT_GNU_STACK asks (maps, and
 *     running code on it when it is);
 *   - its .bss reads as zeros;
 *   - two more runs of itself (execve, reports through a pipe) are placed
 *     differently, or identically when the layout is fixed: argv[1] says
 *     which to expect ("random", or "fixed" under norandmaps);
 *   - with an interpreter: copies of itself naming a missing interpreter
 *     (ENOENT), one that may not be run (EACCES), a directory (EACCES),
 *     a text file and an interpreter for another machine (ELIBBAD), a file
 *     shorter than an ELF header (EIO, from Linux's short read); and
 *     its interpreter run as a program, with this program to load.
 * The same binaries pass on Linux (randomize_va_space 2, or "fixed" under
 * setarch -R). Prints "ok NAME" or "FAIL NAME: ..." per check, then
 * "loader: N failed"; exits 0 only if all passed. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096ul
#define PIE_BASE 0x555555554000ul /* Linux's ELF_ET_DYN_BASE, page aligned */
#define MMAP_AREA_BOTTOM 0x7e0000000000ul /* below any randomised mmap top */
#define HEAP_RANDOM (1ul << 30)
#define HEAP_USED (1ul << 20) /* what libc may have taken from the heap before the check */

extern char _start[];
extern char _end[];

static int failures;
static Elf64_Ehdr header;
static Elf64_Phdr table[64];
static unsigned char zeros[3 * PAGE]; /* .bss */
static char interpreter[4096];        /* PT_INTERP's path, "" without one */
static char text[65536];
static const Elf64_auxv_t *auxv; /* the vector on the stack, as the kernel wrote it */

/**
 * An entry of the kernel's auxiliary vector. Not getauxval: glibc answers
 * AT_HWCAP with its own bits, and the vector must be checked as exec left it.
 */
static unsigned long aux(unsigned long type) {
    for (const Elf64_auxv_t *a = auxv; a->a_type != AT_NULL; a++)
        if (a->a_type == type) return a->a_un.a_val;
    return 0;
}

/** The auxiliary vector follows the environment's NULL on the first stack. */
static void find_auxv(char **envp) {
    while (*envp) envp++;
    auxv = (const Elf64_auxv_t *)(envp + 1);
}

static void check(const char *name, int ok, const char *fmt, ...) {
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

static long read_file(const char *path, void *into, long size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -errno;
    long total = 0, n;
    while (total < size && (n = read(fd, (char *)into + total, size - total)) > 0) total += n;
    close(fd);
    return total;
}

/** The first line of /proc/self/maps that starts at `start`, or NULL. */
static const char *maps_line(unsigned long start) {
    if (read_file("/proc/self/maps", text, sizeof text - 1) <= 0) return NULL;
    text[sizeof text - 1] = 0;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%lx-", start);
    for (char *line = text; *line; ) {
        char *end = strchr(line, '\n');
        if (end) *end = 0;
        if (strncmp(line, prefix, strlen(prefix)) == 0) return line;
        if (!end) break;
        line = end + 1;
    }
    return NULL;
}

static const Elf64_Phdr *find_header(uint32_t type) {
    const Elf64_Phdr *found = NULL;
    for (int i = 0; i < header.e_phnum; i++)
        if (table[i].p_type == type) found = &table[i]; /* the last one, as Linux's PT_GNU_STACK */
    return found;
}

static int read_own_headers(void) {
    static unsigned char file[PAGE * 2];
    long n = read_file("/proc/self/exe", file, sizeof file);
    if (n < (long)sizeof header) return 0;
    memcpy(&header, file, sizeof header);
    if (header.e_phnum > 64 || header.e_phoff + header.e_phnum * sizeof(Elf64_Phdr) > (unsigned long)n) return 0;
    memcpy(table, file + header.e_phoff, header.e_phnum * sizeof(Elf64_Phdr));
    const Elf64_Phdr *interp = find_header(PT_INTERP);
    if (interp && interp->p_offset + interp->p_filesz <= (unsigned long)n && interp->p_filesz < sizeof interpreter)
        memcpy(interpreter, file + interp->p_offset, interp->p_filesz);
    return 1;
}

/** What exec added to the file's addresses: AT_PHDR against the table's address in the file. */
static unsigned long bias(void) {
    for (int i = 0; i < header.e_phnum; i++) {
        const Elf64_Phdr *p = &table[i];
        if (p->p_type == PT_LOAD && header.e_phoff >= p->p_offset && header.e_phoff < p->p_offset + p->p_filesz)
            return aux(AT_PHDR) - (p->p_vaddr + header.e_phoff - p->p_offset);
    }
    return 0;
}

/* ------------------------------------------------------------ the auxiliary vector */

static void check_auxv(const char *self) {
    const void *phdr = (const void *)aux(AT_PHDR);
    check("auxv-phdr", phdr && memcmp(phdr, table, header.e_phnum * sizeof(Elf64_Phdr)) == 0 &&
          aux(AT_PHENT) == sizeof(Elf64_Phdr) && aux(AT_PHNUM) == header.e_phnum,
          "AT_PHDR %p AT_PHENT %lu AT_PHNUM %lu (the file: %u headers)", phdr, aux(AT_PHENT),
          aux(AT_PHNUM), header.e_phnum);
    unsigned long entry = aux(AT_ENTRY);
    check("auxv-entry", entry == header.e_entry + bias() && entry == (unsigned long)_start,
          "AT_ENTRY %#lx, e_entry %#lx + bias %#lx, _start %p", entry, (unsigned long)header.e_entry, bias(), _start);
    unsigned long base = aux(AT_BASE);
    if (!interpreter[0]) {
        check("auxv-base", base == 0, "AT_BASE %#lx without an interpreter", base);
    } else {
        const char *line = maps_line(base);
        char file[4096] = ""; /* maps names the file, its links resolved */
        int named = realpath(interpreter, file) && line && strlen(line) > strlen(file) &&
                    strcmp(line + strlen(line) - strlen(file), file) == 0;
        check("auxv-base", base != 0 && base % PAGE == 0 && named, "AT_BASE %#lx: %s (interpreter %s, %s)", base,
              line ? line : "no mapping starts there", interpreter, file);
    }
    const char *execfn = (const char *)aux(AT_EXECFN);
    check("auxv-execfn", execfn && strcmp(execfn, self) == 0, "AT_EXECFN \"%s\", execve's path \"%s\"",
          execfn ? execfn : "(null)", self);
    const unsigned char *random = (const unsigned char *)aux(AT_RANDOM);
    int zero = 1;
    for (int i = 0; random && i < 16; i++) zero &= random[i] == 0;
    check("auxv-random", random && !zero, "AT_RANDOM %p", random);
    unsigned int eax = 1, ebx, ecx = 0, edx;
    __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
    check("auxv-hwcap", aux(AT_HWCAP) == edx, "AT_HWCAP %#lx, CPUID.1:EDX %#x", aux(AT_HWCAP), edx);
    check("auxv-hwcap2", (aux(AT_HWCAP2) & ~3ul) == 0, "AT_HWCAP2 %#lx: x86 defines bits 0 and 1 only",
          aux(AT_HWCAP2));
    unsigned long minsigstksz = aux(AT_MINSIGSTKSZ);
    check("auxv-minsigstksz", minsigstksz >= 1024 && minsigstksz % 16 == 0,
          "AT_MINSIGSTKSZ %lu: a signal frame with the FPU state, 16-byte aligned", minsigstksz);
    check("auxv-pagesz-clktck", aux(AT_PAGESZ) == PAGE && aux(AT_CLKTCK) == 100,
          "AT_PAGESZ %lu AT_CLKTCK %lu", aux(AT_PAGESZ), aux(AT_CLKTCK));
    check("auxv-ids", aux(AT_UID) == getuid() && aux(AT_EUID) == geteuid() && aux(AT_GID) == getgid() &&
          aux(AT_EGID) == getegid() && aux(AT_SECURE) == 0,
          "AT_UID %lu AT_EUID %lu AT_GID %lu AT_EGID %lu AT_SECURE %lu", aux(AT_UID), aux(AT_EUID),
          aux(AT_GID), aux(AT_EGID), aux(AT_SECURE));
    const char *platform = (const char *)aux(AT_PLATFORM);
    check("auxv-platform", platform && strcmp(platform, "x86_64") == 0, "AT_PLATFORM \"%s\"", platform ? platform : "(null)");
    const unsigned char *vdso = (const unsigned char *)aux(AT_SYSINFO_EHDR);
    const char *line = vdso ? maps_line((unsigned long)vdso) : NULL;
    check("auxv-sysinfo-ehdr", vdso && memcmp(vdso, ELFMAG, SELFMAG) == 0 && line && strstr(line, "[vdso]"),
          "AT_SYSINFO_EHDR %p: %s", vdso, line ? line : "no mapping starts there");
}

/* ------------------------------------------------------------ placement */

static void check_placement(void) {
    unsigned long b = bias(), main_at = (unsigned long)check_placement;
    if (header.e_type == ET_EXEC) {
        check("placed-at-link-address", b == 0, "an ET_EXEC program moved by %#lx", b);
    } else if (interpreter[0]) {
        check("pie-near-elf-et-dyn-base", b % PAGE == 0 && b >= PIE_BASE && b < PIE_BASE + (1ul << 40) + PAGE,
              "bias %#lx", b);
    } else {
        check("static-pie-in-mmap-area", b % PAGE == 0 && b >= MMAP_AREA_BOTTOM && main_at < 0x7ffffffff000ul,
              "bias %#lx", b);
    }
    unsigned long heap = syscall(SYS_brk, 0);
    unsigned long end = ((unsigned long)_end + PAGE - 1) & ~(PAGE - 1);
    if (header.e_type == ET_DYN && !interpreter[0]) {
        unsigned long start = (PIE_BASE + 0xaaa + PAGE - 1) & ~(PAGE - 1); /* ELF_ET_DYN_BASE rounded up */
        check("heap-at-elf-et-dyn-base", heap >= start && heap < start + HEAP_RANDOM + HEAP_USED, "brk %#lx", heap);
    } else {
        check("heap-after-program", heap >= end && heap < end + PAGE + HEAP_RANDOM + HEAP_USED, "brk %#lx, _end %p", heap, _end);
    }
}

/* ------------------------------------------------------------ stack and .bss */

static void check_stack(void) {
    const Elf64_Phdr *stack = find_header(PT_GNU_STACK);
    int wanted = stack && (stack->p_flags & PF_X);
    const char *line = NULL;
    if (read_file("/proc/self/maps", text, sizeof text - 1) > 0) {
        char *found = strstr(text, " [stack]\n");
        if (found) {
            while (found > text && found[-1] != '\n') found--;
            line = found;
            *strchr(found, '\n') = 0;
        }
    }
    char permissions[5] = "";
    if (line) sscanf(line, "%*x-%*x %4s", permissions);
    check("stack-executable-as-pt-gnu-stack-says", line && (permissions[2] == 'x') == wanted,
          "PT_GNU_STACK %s, maps: %s", stack ? (wanted ? "RWX" : "RW") : "absent", line ? line : "no [stack]");
    if (wanted) {
        volatile unsigned char code[16] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov $42, %eax; ret */
        int result = ((int (*)(void))(uintptr_t)code)();
        check("stack-runs-code", result == 42, "code on the stack returned %d", result);
    }
}

static void check_bss(void) {
    int zero = 1;
    for (unsigned long i = 0; i < sizeof zeros; i++) zero &= ((volatile unsigned char *)zeros)[i] == 0;
    check("bss-zero", zero, ".bss at %p holds non-zero bytes", zeros);
}

/* ------------------------------------------------------------ runs of itself */

struct layout {
    unsigned long main, base, stack, heap, mapping, vdso, random[2];
    char execfn[256];
};

/** The --report half: where this run was put, written to descriptor `fd`. */
static int report(int fd) {
    int local;
    void *mapping = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const unsigned long *random = (const unsigned long *)aux(AT_RANDOM);
    const char *execfn = (const char *)aux(AT_EXECFN);
    dprintf(fd, "%lx %lx %lx %lx %lx %lx %lx %lx %s\n", (unsigned long)report, aux(AT_BASE),
            (unsigned long)&local, (unsigned long)syscall(SYS_brk, 0), (unsigned long)mapping,
            aux(AT_SYSINFO_EHDR), random ? random[0] : 0, random ? random[1] : 0, execfn ? execfn : "-");
    return 0;
}

/** Runs `path` with `argv` (NULL-ended, after it an fd placeholder "%d" is filled in) and reads its report. */
static int run_reporting(const char *path, char **argv, struct layout *out) {
    int fds[2];
    if (pipe(fds) != 0) return 0;
    char fd[16];
    snprintf(fd, sizeof fd, "%d", fds[1]);
    for (char **a = argv; *a; a++) if (strcmp(*a, "FD") == 0) *a = fd;
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        execv(path, argv);
        _exit(127);
    }
    close(fds[1]);
    char line[512] = "";
    long n = 0, got;
    while (n < (long)sizeof line - 1 && (got = read(fds[0], line + n, sizeof line - 1 - n)) > 0) n += got;
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    memset(out, 0, sizeof *out);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
           sscanf(line, "%lx %lx %lx %lx %lx %lx %lx %lx %255s", &out->main, &out->base, &out->stack, &out->heap,
                  &out->mapping, &out->vdso, &out->random[0], &out->random[1], out->execfn) == 9;
}

static void check_runs(const char *self, int randomised) {
    struct layout a, b;
    char *argv_a[] = {(char *)self, "--report", "FD", NULL}, *argv_b[] = {(char *)self, "--report", "FD", NULL};
    int ran = run_reporting(self, argv_a, &a) && run_reporting(self, argv_b, &b);
    check("runs-report", ran, "two runs of %s did not both report", self);
    if (!ran) return;
    check("runs-execfn", strcmp(a.execfn, self) == 0, "AT_EXECFN of the run: %s", a.execfn);
    check("runs-random-bytes-differ", a.random[0] != b.random[0] || a.random[1] != b.random[1], "AT_RANDOM the same twice");
    int relocatable = header.e_type == ET_DYN;
    struct { const char *what; unsigned long x, y; int moves; } places[] = {
        {"program", a.main, b.main, relocatable}, {"interpreter", a.base, b.base, interpreter[0] != 0},
        {"stack", a.stack, b.stack, 1}, {"heap", a.heap, b.heap, 1}, {"mmap", a.mapping, b.mapping, 1},
        {"vdso", a.vdso, b.vdso, 1},
    };
    for (unsigned i = 0; i < sizeof places / sizeof places[0]; i++) {
        char name[64];
        int moves = randomised && places[i].moves;
        snprintf(name, sizeof name, "runs-%s-%s", places[i].what, moves ? "moves" : "stays");
        check(name, moves ? places[i].x != places[i].y : places[i].x == places[i].y, "%#lx, then %#lx",
              places[i].x, places[i].y);
    }
}

/* ------------------------------------------------------------ bad interpreters */

#define SCRATCH "/tmp/ldt"

/** A copy of this program whose PT_INTERP names `path` (padded with NULs to the same length). */
static int copy_naming(const char *path, const char *copy) {
    static unsigned char file[4 << 20];
    long n = read_file("/proc/self/exe", file, sizeof file);
    const Elf64_Phdr *interp = find_header(PT_INTERP);
    if (n <= 0 || n == (long)sizeof file || !interp || strlen(path) >= interp->p_filesz) return 0;
    memset(file + interp->p_offset, 0, interp->p_filesz);
    memcpy(file + interp->p_offset, path, strlen(path));
    int fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0) return 0;
    int ok = write(fd, file, n) == n;
    return close(fd) == 0 && ok;
}

static long exec_error(const char *path) {
    pid_t child = fork();
    if (child == 0) {
        char *argv[] = {(char *)path, "--report", "-1", NULL};
        execv(path, argv);
        _exit(errno);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void check_bad_interpreters(void) {
    mkdir(SCRATCH, 0755);
    mkdir(SCRATCH "/dir", 0755);
    static const char script[] = "#!/bin/sh\n# a script is no interpreter, even one as long as an ELF header\nexit 0\n";
    int fd = open(SCRATCH "/text", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    int made = fd >= 0 && write(fd, script, sizeof script - 1) == sizeof script - 1 && close(fd) == 0;
    fd = open(SCRATCH "/short", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    made &= fd >= 0 && write(fd, script, 17) == 17 && close(fd) == 0;
    fd = open(SCRATCH "/plain", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    made &= fd >= 0 && close(fd) == 0;
    static unsigned char loader[4 << 20];
    long n = read_file(interpreter, loader, sizeof loader);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)loader;
    eh->e_machine = EM_AARCH64;
    fd = open(SCRATCH "/arm", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    made &= n > 0 && fd >= 0 && write(fd, loader, n) == n && close(fd) == 0;
    check("bad-interpreters-made", made, "could not make the files in " SCRATCH);
    struct { const char *name, *interpreter; long errno_; } cases[] = {
        {"interpreter-missing-enoent", "/no/such/loader", ENOENT},
        {"interpreter-not-executable-eacces", SCRATCH "/plain", EACCES},
        {"interpreter-directory-eacces", SCRATCH "/dir", EACCES},
        {"interpreter-not-elf-elibbad", SCRATCH "/text", ELIBBAD},
        {"interpreter-shorter-than-elf-header-eio", SCRATCH "/short", EIO}, /* Linux's short read */
        {"interpreter-wrong-machine-elibbad", SCRATCH "/arm", ELIBBAD},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char copy[64];
        snprintf(copy, sizeof copy, SCRATCH "/program-%u", i);
        if (!copy_naming(cases[i].interpreter, copy)) {
            check(cases[i].name, 0, "could not write %s", copy);
            continue;
        }
        long got = exec_error(copy);
        check(cases[i].name, got == cases[i].errno_, "execve gave %s (%ld), expected %s", strerror(got), got,
              strerror(cases[i].errno_));
    }
}

/** The interpreter run as a program (ET_DYN without PT_INTERP, like a static PIE), loading this program itself. */
static void check_interpreter_as_program(const char *self) {
    struct layout run;
    char *argv[] = {interpreter, (char *)self, "--report", "FD", NULL};
    int ran = run_reporting(interpreter, argv, &run);
    check("interpreter-runs-as-program", ran && run.main != 0, "%s %s did not report", interpreter, self);
}

int main(int argc, char **argv, char **envp) {
    find_auxv(envp);
    if (argc == 3 && strcmp(argv[1], "--report") == 0) return atoi(argv[2]) < 0 ? 0 : report(atoi(argv[2]));
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *self = (const char *)aux(AT_EXECFN);
    int randomised = argc < 2 || strcmp(argv[1], "fixed") != 0;
    if (!read_own_headers() || !self) {
        printf("FAIL headers: cannot read /proc/self/exe\nloader: 1 failed\n");
        return 1;
    }
    printf("loader: %s, %s, %s\n", header.e_type == ET_DYN ? "ET_DYN" : "ET_EXEC",
           interpreter[0] ? interpreter : "no interpreter", randomised ? "randomised" : "fixed");
    check_auxv(argv[0]);
    check_placement();
    check_stack();
    check_bss();
    check_runs(self, randomised);
    if (interpreter[0]) {
        check_bad_interpreters();
        check_interpreter_as_program(self);
    }
    printf("loader: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
