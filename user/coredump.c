/* Core dumps as Linux writes them, with the default core_pattern "core":
 * a child killed by a "core" signal with RLIMIT_CORE raised leaves `core`
 * in its working directory and WCOREDUMP in its wait status (CLD_DUMPED
 * for waitid and SIGCHLD). The file is an ELF ET_CORE whose notes hold
 * NT_PRSTATUS (the signal, the ids, the registers of the faulting moment),
 * NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE and NT_PRFPREG, and whose
 * PT_LOADs hold the bytes the process wrote, with holes for pages it never
 * touched, and none for pages MADV_DONTDUMP marked (until MADV_DODUMP).
 * A limit of 0 (or under a page) writes nothing and sets no core bit; a
 * small one cuts the file short but still counts as a dump. An old `core`
 * is replaced (a link in its place is not followed, a second name keeps
 * the old bytes); a directory named `core`, or a working directory where
 * nothing can be made, means no dump.
 *
 * The same binary must pass on Linux, where it needs core_pattern "core"
 * and core_uses_pid 0 (else it says so and checks nothing). Prints
 * "ok NAME" / "FAIL NAME: ..." and "coredump: N failed". */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define BUFFER_PAGES 256

static int failures;

static void check(const char *name, int ok, long got) {
    if (ok) printf("ok %s\n", name);
    else {
        printf("FAIL %s: got %ld\n", name, got);
        failures++;
    }
}

/* ---------------------------------------------------------------- the children */

/* Made before fork, written only by the children: the parent knows where, and its own copy stays untouched. */
static unsigned char *buffer;
static const unsigned long REGISTER_MARK = 0x0101010101010101UL;
static const unsigned long XMM_MARK = 0x0123456789abcdefUL;
extern char coredump_fault_ip[];

static unsigned char pattern(long i) {
    return (unsigned char)(i * 7 + 3);
}

static void fill_buffer(void) {
    for (long i = 0; i < PAGE; i++) buffer[i] = pattern(i);
    for (long i = 0; i < PAGE; i++) buffer[5 * PAGE + i] = pattern(i + 1);
}

static void set_limit(rlim_t soft) {
    struct rlimit limit = {soft, RLIM_INFINITY};
    if (setrlimit(RLIMIT_CORE, &limit) != 0) _exit(100);
}

/* Reads NULL with known values in rbx, r12-r15 and xmm15, at a known instruction. */
static void __attribute__((noreturn)) fault_with_known_registers(void) {
    asm volatile(
        "movabs $0x0123456789abcdef, %%rax\n\t"
        "movq %%rax, %%xmm15\n\t"
        "movabs $0x0101010101010101, %%rax\n\t"
        "movq %%rax, %%rbx\n\t"
        "lea (%%rax,%%rax,1), %%r12\n\t"
        "lea (%%rax,%%rax,2), %%r13\n\t"
        "lea (%%rax,%%rax,4), %%r14\n\t"
        "lea (%%rax,%%rax,8), %%r15\n\t"
        "xor %%eax, %%eax\n\t"
        ".globl coredump_fault_ip\n"
        "coredump_fault_ip:\n\t"
        "movl (%%rax), %%eax\n\t"
        : : : "rax", "rbx", "r12", "r13", "r14", "r15", "xmm15", "memory");
    __builtin_unreachable();
}

enum action { FAULT, BIG_FAULT, DONTDUMP_FAULT, ABORT, WAIT_FOR_SIGNAL, BLOCKED_FAULT };

/* Forks a child that sets RLIMIT_CORE to `limit` (and the umask, and a working directory if `dir`), then does `what`. */
static pid_t spawn(enum action what, rlim_t limit, const char *dir) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    set_limit(limit);
    umask(0);
    if (dir && chdir(dir) != 0) _exit(101);
    fill_buffer();
    volatile unsigned char on_stack[64];
    for (int i = 0; i < 64; i++) on_stack[i] = pattern(i + 2);
    if (what == BIG_FAULT) memset(buffer, 0x5a, BUFFER_PAGES * PAGE);
    if (what == DONTDUMP_FAULT) {
        memset(buffer + 6 * PAGE, 0x66, 2 * PAGE);
        if (madvise(buffer + 5 * PAGE, 3 * PAGE, MADV_DONTDUMP) != 0 || madvise(buffer + 6 * PAGE, PAGE, MADV_DODUMP) != 0) _exit(102);
    }
    if (what == ABORT) abort();
    if (what == WAIT_FOR_SIGNAL) for (;;) pause();
    if (what == BLOCKED_FAULT) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        sigprocmask(SIG_BLOCK, &set, 0);
    }
    (void)on_stack[0];
    fault_with_known_registers();
}

static int reap(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return status;
}

static int run(enum action what, rlim_t limit, const char *dir) {
    return reap(spawn(what, limit, dir));
}

/* ---------------------------------------------------------------- reading a core */

struct core {
    unsigned char *bytes;
    long size;
    Elf64_Ehdr *header;
};

static int read_core(const char *path, struct core *core) {
    memset(core, 0, sizeof *core);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    struct stat st;
    fstat(fd, &st);
    core->size = st.st_size;
    core->bytes = malloc(st.st_size + 1);
    long done = 0;
    while (done < st.st_size) {
        long n = read(fd, core->bytes + done, st.st_size - done);
        if (n <= 0) break;
        done += n;
    }
    close(fd);
    core->size = done;
    core->header = (Elf64_Ehdr *)core->bytes;
    return done >= (long)sizeof(Elf64_Ehdr);
}

static int is_elf_core(struct core *core) {
    Elf64_Ehdr *h = core->header;
    return memcmp(h->e_ident, ELFMAG, SELFMAG) == 0 && h->e_ident[EI_CLASS] == ELFCLASS64 &&
           h->e_ident[EI_DATA] == ELFDATA2LSB && h->e_type == ET_CORE && h->e_machine == EM_X86_64 &&
           h->e_phentsize == sizeof(Elf64_Phdr) && h->e_phoff + h->e_phnum * sizeof(Elf64_Phdr) <= (unsigned long)core->size;
}

static Elf64_Phdr *segment(struct core *core, int i) {
    return (Elf64_Phdr *)(core->bytes + core->header->e_phoff) + i;
}

/* The description of the first note of `type` named "CORE", and its size; 0 if none. */
static void *find_note(struct core *core, unsigned type, unsigned *size) {
    for (int i = 0; i < core->header->e_phnum; i++) {
        Elf64_Phdr *p = segment(core, i);
        if (p->p_type != PT_NOTE || p->p_offset + p->p_filesz > (unsigned long)core->size) continue;
        unsigned char *at = core->bytes + p->p_offset, *end = at + p->p_filesz;
        while (at + sizeof(Elf64_Nhdr) <= end) {
            Elf64_Nhdr *n = (Elf64_Nhdr *)at;
            unsigned char *name = at + sizeof *n;
            unsigned char *desc = name + ((n->n_namesz + 3) & ~3u);
            if (desc + n->n_descsz > end) break;
            if (n->n_type == type && n->n_namesz == 5 && memcmp(name, "CORE", 5) == 0) {
                *size = n->n_descsz;
                return desc;
            }
            at = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
    return 0;
}

/* The PT_LOAD covering `address`, or 0. */
static Elf64_Phdr *load_for(struct core *core, unsigned long address) {
    for (int i = 0; i < core->header->e_phnum; i++) {
        Elf64_Phdr *p = segment(core, i);
        if (p->p_type == PT_LOAD && p->p_vaddr <= address && address < p->p_vaddr + p->p_memsz) return p;
    }
    return 0;
}

/* The core's bytes for [address, address + length), or 0 if the file does not hold them. */
static unsigned char *core_bytes(struct core *core, unsigned long address, unsigned long length) {
    Elf64_Phdr *p = load_for(core, address);
    if (!p || address + length > p->p_vaddr + p->p_filesz) return 0;
    unsigned long offset = p->p_offset + (address - p->p_vaddr);
    return offset + length <= (unsigned long)core->size ? core->bytes + offset : 0;
}

static void free_core(struct core *core) {
    free(core->bytes);
    core->bytes = 0;
}

/* ---------------------------------------------------------------- the checks */

static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

static void fault_core(void) {
    unlink("core");
    int status = run(FAULT, RLIM_INFINITY, 0);
    check("segv-killed-with-core-bit", WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV && WCOREDUMP(status), status);
    struct stat st;
    check("core-file-mode-0600", stat("core", &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600,
          st.st_mode);
    struct core core;
    if (!read_core("core", &core)) {
        check("core-file-readable", 0, errno);
        return;
    }
    check("core-is-elf-et-core", is_elf_core(&core), core.header->e_type);
    if (!is_elf_core(&core)) return;
    check("first-segment-is-pt-note", core.header->e_phnum > 1 && segment(&core, 0)->p_type == PT_NOTE,
          segment(&core, 0)->p_type);

    unsigned size = 0;
    struct elf_prstatus *status_note = find_note(&core, NT_PRSTATUS, &size);
    check("nt-prstatus-present", status_note && size == sizeof *status_note, size);
    if (status_note && size == sizeof *status_note) {
        struct user_regs_struct *regs = (struct user_regs_struct *)status_note->pr_reg;
        check("prstatus-cursig-sigsegv", status_note->pr_cursig == SIGSEGV && status_note->pr_info.si_signo == SIGSEGV,
              status_note->pr_cursig);
        check("prstatus-ids", status_note->pr_ppid == getpid() && status_note->pr_pgrp == getpgrp() &&
                                  status_note->pr_sid == getsid(0) && status_note->pr_pid > 0,
              status_note->pr_ppid);
        check("prstatus-rip-is-faulting-instruction", regs->rip == (unsigned long)coredump_fault_ip, (long)regs->rip);
        check("prstatus-rbx-r12-r15-in-order",
              regs->rbx == REGISTER_MARK && regs->r12 == 2 * REGISTER_MARK && regs->r13 == 3 * REGISTER_MARK &&
                  regs->r14 == 5 * REGISTER_MARK && regs->r15 == 9 * REGISTER_MARK,
              (long)regs->r12);
        check("prstatus-rax-0-orig-rax-minus-1", regs->rax == 0 && regs->orig_rax == (unsigned long)-1,
              (long)regs->orig_rax);
        unsigned long cs = 0, ss = 0;
        asm("mov %%cs, %0\n\tmov %%ss, %1" : "=r"(cs), "=r"(ss));
        check("prstatus-user-segments", regs->cs == cs && regs->ss == ss, (long)regs->cs);
        unsigned long fs_base = 0;
        syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fs_base);
        check("prstatus-fs-base-is-tls", regs->fs_base == fs_base && fs_base != 0, (long)regs->fs_base);
        check("prstatus-fpvalid", status_note->pr_fpvalid == 1, status_note->pr_fpvalid);
    }

    unsigned char *fpregs = find_note(&core, NT_PRFPREG, &size);
    check("nt-prfpreg-512-bytes", fpregs && size == 512, size);
    if (fpregs && size == 512) {
        unsigned long xmm15;
        memcpy(&xmm15, fpregs + 160 + 15 * 16, 8);
        check("prfpreg-holds-xmm15", xmm15 == XMM_MARK, (long)xmm15);
    }

    siginfo_t *info = find_note(&core, NT_SIGINFO, &size);
    check("nt-siginfo-segv-maperr-at-0",
          info && size == 128 && info->si_signo == SIGSEGV && info->si_code == SEGV_MAPERR && info->si_addr == 0,
          info ? info->si_code : -1);

    /* The buffer: the two written pages hold the pattern, the pages between are holes that read as zeros. */
    Elf64_Phdr *load = load_for(&core, (unsigned long)buffer);
    check("pt-load-covers-buffer-read-write",
          load && load->p_vaddr <= (unsigned long)buffer && load->p_memsz >= BUFFER_PAGES * PAGE &&
              load->p_flags == (PF_R | PF_W) && load->p_filesz == load->p_memsz,
          load ? (long)load->p_flags : -1);
    unsigned char *first = core_bytes(&core, (unsigned long)buffer, PAGE);
    unsigned char *sixth = core_bytes(&core, (unsigned long)buffer + 5 * PAGE, PAGE);
    int same = first && sixth;
    for (long i = 0; same && i < PAGE; i++) same = first[i] == pattern(i) && sixth[i] == pattern(i + 1);
    check("pt-load-holds-written-pattern", same, first ? first[1] : -1);
    unsigned char *between = core_bytes(&core, (unsigned long)buffer + PAGE, 4 * PAGE);
    int zeros = between != 0;
    for (long i = 0; zeros && i < 4 * PAGE; i++) zeros = between[i] == 0;
    check("untouched-pages-read-as-zeros", zeros, between ? 1 : 0);
    if (load) {
        int fd = open("core", O_RDONLY);
        off_t untouched = load->p_offset + PAGE;
        off_t data = lseek(fd, untouched, SEEK_DATA);
        close(fd);
        check("untouched-pages-are-holes", data >= (off_t)(load->p_offset + 5 * PAGE), (long)(data - load->p_offset));
    }
    free_core(&core);
}

/* Of the program file's NT_FILE entries: the start of the one at file offset 0, and of the one at `pgoff`. */
static unsigned long program_mapping(unsigned char *files, unsigned size, const char *exe, unsigned long pgoff) {
    unsigned long count = ((unsigned long *)files)[0];
    if (16 + count * 24 > size) return 0;
    char *name = (char *)files + 16 + count * 24;
    for (unsigned long i = 0; i < count && name < (char *)files + size; i++) {
        unsigned long *entry = (unsigned long *)(files + 16 + i * 24);
        if (strcmp(name, exe) == 0 && entry[2] == pgoff) return entry[0];
        name += strlen(name) + 1;
    }
    return 0;
}

static void abort_core(const char *argv0) {
    unlink("core");
    pid_t pid = spawn(ABORT, RLIM_INFINITY, 0);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int ok = waitid(P_PID, pid, &info, WEXITED) == 0;
    check("waitid-cld-dumped", ok && info.si_code == CLD_DUMPED && info.si_status == SIGABRT, info.si_code);
    struct core core;
    if (!read_core("core", &core) || !is_elf_core(&core)) {
        check("abort-core-written", 0, errno);
        return;
    }
    unsigned size = 0;
    struct elf_prstatus *status_note = find_note(&core, NT_PRSTATUS, &size);
    check("abort-prstatus-cursig-sigabrt", status_note && status_note->pr_cursig == SIGABRT && status_note->pr_pid == pid,
          status_note ? status_note->pr_cursig : -1);
    if (status_note) {
        /* musl's abort raises SIGABRT while every signal is blocked: it arrives as rt_sigprocmask unblocks it. */
        struct user_regs_struct *regs = (struct user_regs_struct *)status_note->pr_reg;
        check("abort-orig-rax-is-the-system-call", regs->orig_rax == SYS_rt_sigprocmask, (long)regs->orig_rax);
    }
    siginfo_t *sig = find_note(&core, NT_SIGINFO, &size);
    check("abort-siginfo-tkill-from-itself", sig && sig->si_signo == SIGABRT && sig->si_code == SI_TKILL && sig->si_pid == pid,
          sig ? sig->si_code : -1);

    struct elf_prpsinfo *ps = find_note(&core, NT_PRPSINFO, &size);
    check("nt-prpsinfo-present", ps && size == sizeof *ps, size);
    if (ps && size == sizeof *ps) {
        check("prpsinfo-ids-and-state", ps->pr_pid == pid && ps->pr_ppid == getpid() && ps->pr_pgrp == getpgrp() &&
                                            ps->pr_sid == getsid(0) && ps->pr_sname == 'R',
              ps->pr_pid);
        check("prpsinfo-fname", strncmp(ps->pr_fname, "coredump", sizeof ps->pr_fname) == 0, ps->pr_fname[0]);
        check("prpsinfo-psargs-from-argv", strncmp(ps->pr_psargs, argv0, strlen(argv0)) == 0, ps->pr_psargs[0]);
    }

    unsigned long *auxv = find_note(&core, NT_AUXV, &size);
    int pagesz = 0, entry = 0, terminated = 0;
    for (unsigned i = 0; auxv && i + 1 < size / 8; i += 2) {
        if (auxv[i] == AT_PAGESZ) pagesz = auxv[i + 1] == PAGE;
        if (auxv[i] == AT_ENTRY) entry = auxv[i + 1] == getauxval(AT_ENTRY);
        if (auxv[i] == AT_NULL) terminated = i + 2 == size / 8;
    }
    check("nt-auxv-holds-pagesz-entry-null", pagesz && entry && terminated, size);

    char exe[4096];
    long n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    unsigned char *files = find_note(&core, NT_FILE, &size);
    unsigned long start = files ? program_mapping(files, size, exe, 0) : 0;
    check("nt-file-lists-the-program", files && ((unsigned long *)files)[1] == PAGE && start != 0, start);
    /* Of the program's mappings the one with its ELF header shows its first page, its code nothing. */
    Elf64_Phdr *head = start ? load_for(&core, start) : 0;
    unsigned char *bytes = start ? core_bytes(&core, start, 4) : 0;
    check("program-elf-header-page-dumped", head && head->p_filesz == PAGE && bytes && memcmp(bytes, ELFMAG, 4) == 0,
          head ? (long)head->p_filesz : -1);
    Elf64_Phdr *text = load_for(&core, (unsigned long)coredump_fault_ip);
    check("program-text-not-dumped", text && text->p_filesz == 0 && (text->p_flags & PF_X), text ? (long)text->p_filesz : -1);

    /* The child's stack held a pattern it wrote. */
    int on_stack = 0;
    for (int i = 0; i < core.header->e_phnum && !on_stack; i++) {
        Elf64_Phdr *p = segment(&core, i);
        if (p->p_type != PT_LOAD || p->p_vaddr < 0x7f0000000000UL || p->p_filesz == 0 ||
            p->p_offset + p->p_filesz > (unsigned long)core.size) continue;
        unsigned char *at = core.bytes + p->p_offset;
        for (unsigned long j = 0; j + 64 <= p->p_filesz && !on_stack; j++) {
            int k = 0;
            while (k < 64 && at[j + k] == pattern(k + 2)) k++;
            on_stack = k == 64;
        }
    }
    check("stack-written-by-child-dumped", on_stack, 0);
    free_core(&core);
}

static void limits(void) {
    unlink("core");
    int status = run(FAULT, 0, 0);
    check("limit-0-no-core-bit", WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV && !WCOREDUMP(status), status);
    check("limit-0-no-core-file", !exists("core"), 1);

    pid_t pid = spawn(FAULT, 0, 0);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int ok = waitid(P_PID, pid, &info, WEXITED) == 0;
    check("limit-0-waitid-cld-killed", ok && info.si_code == CLD_KILLED && info.si_status == SIGSEGV, info.si_code);

    status = run(FAULT, PAGE - 1, 0);
    check("limit-under-a-page-no-core", !WCOREDUMP(status) && !exists("core"), status);

    /* One page: the headers and notes fit, no memory does; it still counts as dumped. */
    status = run(FAULT, PAGE, 0);
    struct stat st;
    int have = stat("core", &st) == 0;
    check("limit-one-page-core-bit", WIFSIGNALED(status) && WCOREDUMP(status), status);
    check("limit-one-page-file-cut-short", have && st.st_size > 0 && st.st_size <= PAGE, have ? (long)st.st_size : -1);
    struct core core;
    if (read_core("core", &core)) {
        check("limit-one-page-still-elf-core", is_elf_core(&core), core.header->e_type);
        free_core(&core);
    }

    /* The limit bounds the bytes written, not the holes between them: of a megabyte written, 16 pages at most. */
    unlink("core");
    rlim_t limit = 16 * PAGE;
    status = run(BIG_FAULT, limit, 0);
    long data = 0, runs = 0;
    int fd = open("core", O_RDONLY);
    off_t at = 0, end = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
    while (fd >= 0 && at < end) {
        off_t from = lseek(fd, at, SEEK_DATA);
        if (from < 0) break;
        off_t to = lseek(fd, from, SEEK_HOLE);
        data += to - from;
        runs++;
        at = to;
    }
    if (fd >= 0) close(fd);
    /* A file system counts whole blocks: each run of data may end in a partly written one. */
    check("limit-bounds-bytes-written", WCOREDUMP(status) && data > PAGE && data <= (long)limit + runs * PAGE, data);
    if (read_core("core", &core)) {
        check("limit-cuts-off-the-rest", is_elf_core(&core) && !core_bytes(&core, (unsigned long)buffer + 255 * PAGE, PAGE),
              core.size);
        free_core(&core);
    }
}

static void other_signals(void) {
    unlink("core");
    pid_t pid = spawn(WAIT_FOR_SIGNAL, RLIM_INFINITY, 0);
    usleep(100000);
    kill(pid, SIGQUIT);
    int status = reap(pid);
    check("sigquit-from-kill-dumps", WIFSIGNALED(status) && WTERMSIG(status) == SIGQUIT && WCOREDUMP(status), status);
    struct core core;
    unsigned size = 0;
    if (read_core("core", &core) && is_elf_core(&core)) {
        struct elf_prstatus *status_note = find_note(&core, NT_PRSTATUS, &size);
        siginfo_t *sig = find_note(&core, NT_SIGINFO, &size);
        check("sigquit-prstatus-and-siginfo", status_note && status_note->pr_cursig == SIGQUIT && sig &&
                                                   sig->si_signo == SIGQUIT && sig->si_code == SI_USER &&
                                                   sig->si_pid == getpid(),
              sig ? sig->si_code : -1);
        free_core(&core);
    } else {
        check("sigquit-core-written", 0, errno);
    }

    unlink("core");
    pid = spawn(WAIT_FOR_SIGNAL, RLIM_INFINITY, 0);
    usleep(100000);
    kill(pid, SIGTERM);
    status = reap(pid);
    check("sigterm-no-core", WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM && !WCOREDUMP(status) && !exists("core"),
          status);

    status = run(BLOCKED_FAULT, RLIM_INFINITY, 0);
    check("blocked-fault-still-dumps", WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV && WCOREDUMP(status), status);
}

/* MADV_DONTDUMP leaves pages out of the core; MADV_DODUMP puts them back. */
static void dontdump(void) {
    unlink("core");
    int status = run(DONTDUMP_FAULT, RLIM_INFINITY, 0);
    check("dontdump-child-dumped", WIFSIGNALED(status) && WCOREDUMP(status), status);
    struct core core;
    if (!read_core("core", &core) || !is_elf_core(&core)) {
        check("dontdump-core-written", 0, errno);
        return;
    }
    Elf64_Phdr *kept = load_for(&core, (unsigned long)buffer);
    Elf64_Phdr *left_out = load_for(&core, (unsigned long)buffer + 5 * PAGE);
    Elf64_Phdr *back = load_for(&core, (unsigned long)buffer + 6 * PAGE);
    Elf64_Phdr *after = load_for(&core, (unsigned long)buffer + 7 * PAGE);
    check("dontdump-splits-the-mapping", kept && left_out && back && after && kept->p_memsz == 5 * PAGE &&
                                              left_out->p_memsz == PAGE && back->p_memsz == PAGE && after->p_memsz == PAGE,
          left_out ? (long)left_out->p_memsz : -1);
    unsigned char *bytes = core_bytes(&core, (unsigned long)buffer + 6 * PAGE, PAGE);
    check("dontdump-pages-left-out-dodump-kept", left_out && left_out->p_filesz == 0 && after && after->p_filesz == 0 &&
                                                     bytes && bytes[0] == 0x66 && bytes[PAGE - 1] == 0x66,
          left_out ? (long)left_out->p_filesz : -1);
    unsigned char *first = core_bytes(&core, (unsigned long)buffer, PAGE);
    check("dontdump-rest-still-dumped", first && first[1] == pattern(1), first ? first[1] : -1);
    free_core(&core);
}

static volatile sig_atomic_t chld_code;
static void on_child(int signal, siginfo_t *info, void *context) {
    (void)signal;
    (void)context;
    chld_code = info->si_code;
}

static void sigchld_code(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_child;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGCHLD, &action, 0);
    chld_code = 0;
    int status = run(FAULT, RLIM_INFINITY, 0);
    check("sigchld-cld-dumped", WCOREDUMP(status) && chld_code == CLD_DUMPED, chld_code);
    signal(SIGCHLD, SIG_DFL);
}

static int read_all(const char *path, char *into, int size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int n = read(fd, into, size - 1);
    close(fd);
    into[n > 0 ? n : 0] = 0;
    return n;
}

static void old_core_files(void) {
    /* A link named core is replaced by the new file; what it pointed at is left alone. */
    unlink("core");
    int fd = open("target", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, "keep", 4);
    close(fd);
    symlink("target", "core");
    int status = run(FAULT, RLIM_INFINITY, 0);
    struct stat st;
    char text[16];
    check("symlink-core-replaced-by-file",
          WCOREDUMP(status) && lstat("core", &st) == 0 && S_ISREG(st.st_mode) && read_all("target", text, sizeof text) == 4 &&
              strcmp(text, "keep") == 0,
          status);

    /* An old core with a second name: the new one is a new file, the old bytes stay under the other name. */
    unlink("core");
    fd = open("core", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, "old", 3);
    close(fd);
    link("core", "other");
    struct stat before;
    stat("other", &before);
    status = run(FAULT, RLIM_INFINITY, 0);
    check("hard-linked-core-replaced",
          WCOREDUMP(status) && stat("core", &st) == 0 && st.st_ino != before.st_ino && st.st_nlink == 1 &&
              read_all("other", text, sizeof text) == 3 && strcmp(text, "old") == 0,
          status);
    unlink("other");
    unlink("target");

    unlink("core");
    mkdir("core", 0755);
    status = run(FAULT, RLIM_INFINITY, 0);
    check("directory-named-core-no-dump",
          WIFSIGNALED(status) && !WCOREDUMP(status) && stat("core", &st) == 0 && S_ISDIR(st.st_mode), status);
    rmdir("core");

    status = run(FAULT, RLIM_INFINITY, "/proc");
    check("cwd-where-nothing-can-be-made-no-dump", WIFSIGNALED(status) && !WCOREDUMP(status), status);
}

/* Linux writes `core` only under the default pattern; a host that pipes cores elsewhere cannot run these checks. */
static int default_core_pattern(void) {
    char text[256];
    if (read_all("/proc/sys/kernel/core_pattern", text, sizeof text) < 0 || strcmp(text, "core\n") != 0) {
        printf("coredump: core_pattern is not \"core\" here; nothing checked\n");
        return 0;
    }
    if (read_all("/proc/sys/kernel/core_uses_pid", text, sizeof text) > 0 && strcmp(text, "0\n") != 0) {
        printf("coredump: core_uses_pid is set here; nothing checked\n");
        return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    (void)argc;
    setvbuf(stdout, 0, _IOLBF, 0);
    if (!default_core_pattern()) return 0;
    mkdir("/tmp", 01777);
    char dir[] = "/tmp/coredump-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        printf("FAIL setup: no directory to work in (errno %d)\n", errno);
        return 1;
    }
    buffer = mmap(0, BUFFER_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fault_core();
    abort_core(argv[0]);
    limits();
    other_signals();
    dontdump();
    sigchld_code();
    old_core_files();
    unlink("core");
    chdir("/");
    rmdir(dir);
    printf("coredump: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
