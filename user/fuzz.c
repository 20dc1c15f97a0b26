/* fuzz: the project's own system-call fuzzer and ELF-mutant runner. It
 * runs as init (pid 1):
 *
 *   exit=qemu init=/bin/fuzz -- seed=N calls=N [batch=N] [squeeze=0|1|KIB] [elf=DIR] ...
 *
 * (scripts/fuzz.mjs builds the initramfs and the ISO and boots it; see the
 * README section "Fuzzing"). Arguments, all optional:
 *
 *   seed=N      the run's seed (default 1); everything follows from it
 *   calls=N     system calls to make in all (default 10000; 0 = none)
 *   batch=N     calls per child process (default 500)
 *   squeeze=K   before the batches, a helper child fills memory until
 *               /proc/meminfo's MemFree is K KiB (1 = 1024 KiB; 0 = off);
 *               raised by half whenever 5 batches in a row die before
 *               their first call
 *   elf=DIR     first execute every file in DIR, one child each
 *   only=N      run batch N alone (a replay), with trace=1
 *   trace=1     each child prints every call on the console before making it
 *   tracefrom=N trace=1 from batch N on
 *   check=N     /proc/memcheck after every N batches (default 20; 0 = only at the end)
 *   noblock=1   avoid calls that can block forever (automatic when kill(2)
 *               of another process is not supported)
 *   batchms=N stallms=N hangms=N elfms=N   time limits (see below)
 *   verbose=N   0: only failures; 1 (default): also children killed by a
 *               signal; 2: every batch; 3: also the parent's stall decisions
 *   console=1   children keep a console descriptor among their valid ones
 *   bigpopulate=0  no MAP_POPULATE or MAP_LOCKED on mappings over 64 MiB (each can hold
 *               the kernel for seconds; for time-bounded runs)
 *   slowms=N    report calls that cannot block but took N ms (default 1000)
 *
 * The parent faults in everything it uses, reads /proc/memcheck (which drops
 * unmapped page-cache pages and audits every frame), then runs batches: each
 * batch is a child that makes `batch` system calls chosen by a PRNG seeded
 * from (seed, batch index), so a batch replays with only=INDEX. Before each
 * call the child writes the call into a MAP_SHARED ring of the last RING
 * calls (and its own "lane" entry), so when it hangs or dies the parent can
 * name the calls. The parent polls with wait4(WNOHANG) and nanosleep; a child
 * that makes no progress (stallms, default 20) is classified by the call
 * each of its processes is in and its state in /proc/processes: asleep in
 * a call that may block (read of an empty pipe, wait4, pause, nanosleep,
 * ...) is "blocked" (normal: killed at once); asleep for hangms (4 s) in
 * any other call is "hung" (a kernel bug, reported with the last calls);
 * runnable but making no calls for hangms (it returned into memory the
 * call replaced, say) is "stopped calling" (killed); a batch still running
 * after batchms (30 s) is "slow" (killed). After each batch every other
 * process is killed and reaped. Before every memcheck the files the
 * children made are deleted (the tree is listed at the start). At the end
 * /proc/memcheck again: the free-frame count must be exactly what it was
 * and there must be no problems. One closing line:
 *
 *   fuzz: seed 1: 200000 calls in 400 batches (...), free frames A -> B, ..., problems 0: ok
 *
 * and exit status 0 only if all is well (QEMU status 33; 39 otherwise).
 *
 * The parent never needs a free frame for its own memory: every fork is
 * made by spawn(), where the parent waits (touching no private page) until
 * the child has copied every page they share; afterwards the parent's
 * writes reuse its own frames. So out-of-memory in squeeze mode can only
 * kill children.
 *
 * Exclusions: reboot (169) is never called; calls that take a pid never get
 * pid 1 (nor 0 for kill unless the child could make its own session); a
 * call that would change or remove a file of the original tree gets a
 * scratch path ("fz-...") instead (see protect_files), so init's own
 * program and the others stay intact and the frame count stays exact; the
 * children reach the console only with console=1. A child calling exit
 * just ends its batch early. */
#define _GNU_SOURCE
#include <elf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

typedef uint64_t u64;
typedef int64_t i64;
typedef uint32_t u32;
typedef int32_t i32;
typedef uint8_t u8;

#define PAGE 4096ul

/* ------------------------------------------------------ raw system calls */

static inline i64 sys6(u64 n, u64 a, u64 b, u64 c, u64 d, u64 e, u64 f) {
    register u64 r10 __asm__("r10") = d;
    register u64 r8 __asm__("r8") = e;
    register u64 r9 __asm__("r9") = f;
    i64 ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sys0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6((n), (u64)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6((n), (u64)(a), (u64)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6((n), (u64)(a), (u64)(b), (u64)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (u64)(a), (u64)(b), (u64)(c), (u64)(d), 0, 0)

/* A process-creating call whose child must not return into C code (vfork,
 * clone with CLONE_VM or CLONE_VFORK, clone3: memory may be shared with the
 * caller): in the child, exec `path` with `argv` when `path` is not 0, then
 * exit at once, all inside this asm block. */
static inline i64 sys_spawnlike(u64 n, u64 a, u64 b, u64 c, u64 d, u64 e, u64 f, u64 path, u64 argv) {
    register u64 r10 __asm__("r10") = d;
    register u64 r8 __asm__("r8") = e;
    register u64 r9 __asm__("r9") = f;
    register u64 r12 __asm__("r12") = path;
    register u64 r13 __asm__("r13") = argv;
    i64 ret;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "test %%r12, %%r12\n\t"
        "jz 2f\n\t"
        "mov $59, %%eax\n\t"
        "mov %%r12, %%rdi\n\t"
        "mov %%r13, %%rsi\n\t"
        "xor %%edx, %%edx\n\t"
        "syscall\n\t"
        "2:\n\t"
        "mov $231, %%eax\n\t"
        "xor %%edi, %%edi\n\t"
        "syscall\n\t"
        "1:\n\t"
        : "=a"(ret), "+D"(a), "+S"(b), "+d"(c), "+r"(r10), "+r"(r8), "+r"(r9)
        : "a"(n), "r"(r12), "r"(r13)
        : "rcx", "r11", "memory");
    return ret;
}

enum {
    SYS_read = 0, SYS_write = 1, SYS_open = 2, SYS_close = 3, SYS_fstat = 5, SYS_lseek = 8, SYS_mmap = 9,
    SYS_mprotect = 10, SYS_munmap = 11, SYS_brk = 12, SYS_rt_sigaction = 13, SYS_rt_sigprocmask = 14,
    SYS_ioctl = 16, SYS_readv = 19, SYS_writev = 20, SYS_pipe = 22, SYS_sched_yield = 24, SYS_madvise = 28,
    SYS_dup = 32, SYS_dup2 = 33, SYS_nanosleep = 35, SYS_getpid = 39, SYS_clone = 56, SYS_fork = 57,
    SYS_vfork = 58, SYS_execve = 59, SYS_exit = 60, SYS_wait4 = 61, SYS_kill = 62, SYS_uname = 63,
    SYS_fcntl = 72, SYS_gettimeofday = 96, SYS_getrusage = 98, SYS_getppid = 110, SYS_setsid = 112,
    SYS_arch_prctl = 158, SYS_reboot = 169, SYS_gettid = 186, SYS_tkill = 200, SYS_getdents64 = 217,
    SYS_set_tid_address = 218, SYS_clock_gettime = 228, SYS_exit_group = 231, SYS_tgkill = 234,
    SYS_openat = 257, SYS_newfstatat = 262, SYS_dup3 = 292, SYS_pipe2 = 293, SYS_clone3 = 435,
};

#define MAX_SYSCALL 460
#define EINTR 4
#define ESRCH 3
#define EPERM 1
#define ECHILD 10
#define ENOEXEC 8
#define SIGKILL 9
#define SIGCONT 18
#define WNOHANG 1
#define O_RDONLY 0
#define O_DIRECTORY 0200000
#define O_CLOEXEC 02000000
#define CLONE_VM 0x100
#define CLONE_VFORK 0x4000
#define CLONE_THREAD 0x10000
#define CLOCK_MONOTONIC 1

static void sys_exit(int status) {
    for (;;) sys1(SYS_exit_group, status);
}

/* ------------------------------------------------------------ output */

static char line_buffer[4096];

static void write_all(int fd, const char *s, size_t n) {
    while (n > 0) {
        i64 w = sys3(SYS_write, fd, s, n);
        if (w == -EINTR) continue;
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static int out_fd = 1;

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line_buffer, sizeof line_buffer, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof line_buffer - 1) n = sizeof line_buffer - 1;
    write_all(out_fd, line_buffer, (size_t)n);
}

/* Appends to a buffer, never past its end. */
struct text {
    char *p;
    size_t size, used;
};

static void __attribute__((format(printf, 2, 3))) add(struct text *t, const char *fmt, ...) {
    if (t->used + 1 >= t->size) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->p + t->used, t->size - t->used, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    t->used += (size_t)n;
    if (t->used >= t->size) t->used = t->size - 1;
}

/* ------------------------------------------------------------- random */

static u64 splitmix(u64 *state) {
    u64 z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static u64 rng_state;

static inline u64 rdtsc(void) {
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64)hi << 32 | lo;
}

static u64 tsc_per_ms = 1;

static u64 rnd64(void) {
    return splitmix(&rng_state);
}

/* 0 .. n-1 (n > 0) */
static u64 rnd(u64 n) {
    return rnd64() % n;
}

/* true with probability percent/100 */
static int chance(unsigned percent) {
    return rnd(100) < percent;
}

static u64 batch_seed(u64 seed, u64 batch) {
    u64 s = seed * 0x2545f4914f6cdd1dull ^ (batch + 1) * 0x9e3779b97f4a7c15ull;
    splitmix(&s);
    return splitmix(&s);
}

/* ------------------------------------------------------------ time */

struct timespec_k {
    i64 sec, nsec;
};

static i64 now_ms(void) {
    struct timespec_k t;
    if (sys2(SYS_clock_gettime, CLOCK_MONOTONIC, &t) < 0) return 0;
    return t.sec * 1000 + t.nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec_k t = {ms / 1000, (ms % 1000) * 1000000};
    sys2(SYS_nanosleep, &t, 0);
}

/* ------------------------------------------------------- shared state */

#define RING 16
#define MAX_LANES 8
#define GRANDCHILD_CALLS 32

enum { CALL_EMPTY = 0, CALL_IN_PROGRESS = 1, CALL_DONE = 2 };

struct call {
    u64 seq;
    u32 pid, lane;
    u32 state, pad;
    u64 nr, a[6];
    i64 ret;
    u64 cycles; /* TSC cycles the call took (when done) */
};

struct lane {
    u32 pid, used;
    struct call current;
};

struct shared {
    volatile u64 calls;        /* calls made in this batch (all lanes) */
    volatile u64 seq;          /* calls started */
    volatile u32 lanes_used;
    volatile u32 finished;     /* lane 0 made all its calls */
    volatile u32 setup_done;
    volatile u32 flag;         /* the kill test's child waits for it */
    volatile i64 exec_error;   /* elf mode: execve's result when it failed */
    volatile u32 holder_pages, holder_ready;
    struct call slowest;       /* the batch's slowest call that cannot block */
    volatile i64 holder_free_kib;
    int sync_fds[2];
    char sync_byte[8];
    struct call ring[RING];
    struct lane lane[MAX_LANES];
};

static struct shared *sh;

/* --------------------------------------------------------- arguments */

static struct {
    u64 seed, calls, batch, squeeze, only, trace, check, noblock, verbose, console, bigpopulate;
    u64 batch_ms, stall_ms, hang_ms, elf_ms, slow_ms, trace_from;
    int only_set, noblock_set;
    const char *elf_dir;
} opt = {
    .seed = 1, .calls = 10000, .batch = 500, .check = 20, .verbose = 1, .bigpopulate = 1,
    .batch_ms = 30000, .stall_ms = 20, .hang_ms = 4000, .elf_ms = 3000, .slow_ms = 1000,
    .trace_from = ~0ull,
};

static int parse_number(const char *s, u64 *out) {
    u64 v = 0;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s) return 0;
    for (; *s; s++) {
        int d;
        if (*s >= '0' && *s <= '9') d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
        else return 0;
        v = v * (u64)base + (u64)d;
    }
    *out = v;
    return 1;
}

static int parse_argument(const char *arg) {
    static const struct {
        const char *name;
        u64 *value;
    } numbers[] = {
        {"seed", &opt.seed}, {"calls", &opt.calls}, {"batch", &opt.batch}, {"squeeze", &opt.squeeze},
        {"only", &opt.only}, {"trace", &opt.trace}, {"check", &opt.check}, {"noblock", &opt.noblock},
        {"verbose", &opt.verbose}, {"console", &opt.console}, {"bigpopulate", &opt.bigpopulate}, {"batchms", &opt.batch_ms},
        {"stallms", &opt.stall_ms}, {"hangms", &opt.hang_ms}, {"elfms", &opt.elf_ms}, {"slowms", &opt.slow_ms}, {"tracefrom", &opt.trace_from},
    };
    const char *eq = strchr(arg, '=');
    if (!eq) return 0;
    size_t length = (size_t)(eq - arg);
    if (length == 3 && strncmp(arg, "elf", 3) == 0) {
        opt.elf_dir = eq + 1;
        return 1;
    }
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        if (strlen(numbers[i].name) == length && strncmp(arg, numbers[i].name, length) == 0) {
            if (!parse_number(eq + 1, numbers[i].value)) return 0;
            if (numbers[i].value == &opt.only) opt.only_set = 1;
            if (numbers[i].value == &opt.noblock) opt.noblock_set = 1;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------ /proc readers */

static char proc_text[8192];

static long read_file(const char *path, char *buffer, size_t capacity) {
    i64 fd = sys2(SYS_open, path, O_RDONLY);
    if (fd < 0) return fd;
    size_t n = 0;
    while (n < capacity - 1) {
        i64 r = sys3(SYS_read, fd, buffer + n, capacity - 1 - n);
        if (r == -EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    sys1(SYS_close, fd);
    buffer[n] = 0;
    return (long)n;
}

/* The number after "NAME" (then spaces or a colon) at the start of a line; -1 if absent. */
static long field(const char *text, const char *name) {
    size_t length = strlen(name);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, name, length) == 0 && (p[length] == ' ' || p[length] == ':')) {
            const char *q = p + length;
            while (*q == ' ' || *q == ':') q++;
            long v = 0;
            while (*q >= '0' && *q <= '9') v = v * 10 + (*q++ - '0');
            return v;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return -1;
}

struct memcheck {
    long problems, free_frames, cached_pages, kernel_objects;
};

static struct memcheck memcheck(void) {
    struct memcheck m = {-1, -1, -1, -1};
    for (int attempt = 0; attempt < 200; attempt++) {
        if (read_file("/proc/memcheck", proc_text, sizeof proc_text) > 0) {
            m.problems = field(proc_text, "problems");
            m.free_frames = field(proc_text, "free_frames");
            m.cached_pages = field(proc_text, "cached_pages");
            m.kernel_objects = field(proc_text, "kernel_objects");
            return m;
        }
        sleep_ms(10); /* out of kernel memory for a moment (squeeze) */
    }
    say("fuzz: cannot read /proc/memcheck\n");
    return m;
}

static long mem_free_kib(void) {
    if (read_file("/proc/meminfo", proc_text, sizeof proc_text) <= 0) return -1;
    return field(proc_text, "MemFree");
}

/* /proc/processes: "  PID  PPID S   RSS_KIB NAME" lines. */
struct proc_entry {
    int pid, ppid;
    char state;
};
#define MAX_PROCS 256
static struct proc_entry procs[MAX_PROCS];

static int list_processes(void) {
    if (read_file("/proc/processes", proc_text, sizeof proc_text) <= 0) return -1;
    int n = 0;
    const char *p = strchr(proc_text, '\n');
    while (p && *++p && n < MAX_PROCS) {
        int pid = 0, ppid = 0;
        while (*p == ' ') p++;
        while (*p >= '0' && *p <= '9') pid = pid * 10 + (*p++ - '0');
        while (*p == ' ') p++;
        while (*p >= '0' && *p <= '9') ppid = ppid * 10 + (*p++ - '0');
        while (*p == ' ') p++;
        procs[n].pid = pid;
        procs[n].ppid = ppid;
        procs[n].state = *p;
        /* A kernel thread (kflushd) has no parent and takes no signal: it is not one of ours to end. */
        if (ppid != 0 || pid == 1) n++;
        p = strchr(p, '\n');
    }
    return n;
}

static char process_state(int n, int pid) {
    for (int i = 0; i < n; i++)
        if (procs[i].pid == pid) return procs[i].state;
    return 0;
}

/* ------------------------------------------- the parent's own memory */

struct range {
    u64 start, end;
};
#define MAX_RANGES 16
static struct range private_ranges[MAX_RANGES];
static int private_range_count;

static u64 parse_hex(const char **p) {
    u64 v = 0;
    for (;; (*p)++) {
        char c = **p;
        if (c >= '0' && c <= '9') v = v * 16 + (u64)(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (u64)(c - 'a' + 10);
        else return v;
    }
}

static void __attribute__((noinline)) touch_stack(void) {
    volatile char reserve[64 * 1024];
    for (size_t i = 0; i < sizeof reserve; i += PAGE) reserve[i] = 0;
    reserve[sizeof reserve - 1] = 0;
}

static volatile char *stack_low;

static void __attribute__((noinline)) find_stack_low(void) {
    volatile char here[64 * 1024];
    here[0] = 0;
    stack_low = (volatile char *)((u64)&here[0] & ~(PAGE - 1));
}

/* Every private writable page the parent has is made present now (and
 * recorded: a spawned child copies them all), every text page read, and
 * the shared zero page allocated, so that later nothing it does costs a
 * frame. */
static void prefault(void) {
    touch_stack();
    find_stack_low();
    if (read_file("/proc/self/maps", proc_text, sizeof proc_text) <= 0) {
        say("fuzz: cannot read /proc/self/maps\n");
        return;
    }
    for (const char *p = proc_text; p && *p;) {
        u64 start = parse_hex(&p);
        if (*p == '-') p++;
        u64 end = parse_hex(&p);
        while (*p == ' ') p++;
        char r = p[0], w = p[1], s = p[3];
        const char *eol = strchr(p, '\n');
        int is_stack = eol && eol - p >= 7 && strncmp(eol - 7, "[stack]", 7) == 0;
        int is_special = eol && (strstr(p, "[vvar]") && strstr(p, "[vvar]") < eol);
        if (r == 'r' && !is_special) {
            u64 from = is_stack ? (u64)stack_low : start;
            for (u64 a = from; a < end; a += PAGE) {
                volatile char *q = (volatile char *)a;
                char c = *q;
                if (w == 'w' && s == 'p') *q = c;
            }
            if (w == 'w' && s == 'p' && private_range_count < MAX_RANGES) {
                private_ranges[private_range_count].start = from;
                private_ranges[private_range_count].end = end;
                private_range_count++;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    /* The shared zero page appears at the first read of untouched memory. */
    i64 page = sys6(SYS_mmap, 0, PAGE, 3, 0x22, (u64)-1, 0);
    if (page > 0) {
        (void)*(volatile char *)page;
        sys2(SYS_munmap, page, PAGE);
    }
}

/* In a new child: write every page it shares with the parent, so that the
 * parent holds the only reference to its frames again. */
static void unshare_parent_pages(void) {
    for (int i = 0; i < private_range_count; i++)
        for (u64 a = private_ranges[i].start; a < private_ranges[i].end; a += PAGE) {
            volatile char *q = (volatile char *)a;
            *q = *q;
        }
}

/* fork, for the parent: it sleeps in read(2) on a pipe, touching none of its
 * private pages (the sequence is one asm block; the read lands in shared
 * memory), until the child has run unshare_parent_pages() and written a
 * byte, or died. Returns the pid (parent), 0 (child) or -errno. */
static i64 spawn(void) {
    i64 r = sys2(SYS_pipe2, sh->sync_fds, O_CLOEXEC);
    if (r < 0) return r;
    register u64 rfd __asm__("r12") = (u64)sh->sync_fds[0];
    register u64 wfd __asm__("r13") = (u64)sh->sync_fds[1];
    register u64 buf __asm__("r14") = (u64)sh->sync_byte;
    i64 pid;
    __asm__ volatile(
        "mov $57, %%eax\n\t"
        "syscall\n\t"
        "mov %%rax, %%r15\n\t"
        "test %%rax, %%rax\n\t"
        "jz 1f\n\t"
        "mov $3, %%eax\n\t"
        "mov %%r13, %%rdi\n\t"
        "syscall\n\t"
        "2:\n\t"
        "xor %%eax, %%eax\n\t"
        "mov %%r12, %%rdi\n\t"
        "mov %%r14, %%rsi\n\t"
        "mov $1, %%edx\n\t"
        "syscall\n\t"
        "cmp $-4, %%rax\n\t"
        "je 2b\n\t"
        "1:\n\t"
        "mov %%r15, %0\n\t"
        : "=r"(pid)
        : "r"(rfd), "r"(wfd), "r"(buf)
        : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "r15", "memory");
    if (pid == 0) {
        unshare_parent_pages();
        sys3(SYS_write, sh->sync_fds[1], "x", 1);
        sys1(SYS_close, sh->sync_fds[1]);
        sys1(SYS_close, sh->sync_fds[0]);
        return 0;
    }
    sys1(SYS_close, sh->sync_fds[0]);
    return pid;
}

/* ------------------------------------------------- the argument pool */

/* The child's memory, at fixed addresses (the parent has nothing there). */
#define POOL 0x100000000ul
#define W_BASE (POOL)                   /* writable buffer, random contents */
#define W_SIZE (64 * 1024ul)            /* followed by an unmapped page */
#define R_PAGE (POOL + 0x100000)        /* read-only anonymous page */
#define RF_PAGE (POOL + 0x102000)       /* read-only file mapping (/bin/hello) */
#define U_PAGE (POOL + 0x200000)        /* mapped once, then unmapped */
#define S_PAGE (POOL + 0x300000)        /* MAP_SHARED anonymous, 2 pages */
#define P_BASE (POOL + 0x400000)        /* paths, read-only, 6 pages, then unmapped */
#define P_SIZE (6 * PAGE)
#define PLAY (0x200000000ul)            /* playground for mmap/munmap/mprotect */
#define PLAY_SIZE (16ul << 20)
/* Per-argument structures (timespec, iovec, argv, sigaction): on the
 * child's stack, the memory least likely to be taken away by a random munmap. */
static u64 slots;
#define SLOT(i) (slots + (u64)(i) * 512)
#define TRACE_FD 60

static const char *const path_list[] = {
    "/bin/hello", "/proc/meminfo", "/proc/self/maps", "/proc/self/stat", "/proc/self/faults",
    "/proc/processes", "/", "/bin", "/bin/", "/etc", "/etc/motd", "/nonexistent", "", ".", "..",
    "bin/hello", "//bin///hello", "/bin/hello/", "/bin/./hello", "/bin/../bin/hello", "/proc",
    "/proc/", "/proc/self", "/proc/nonexistent", "/proc/self/", "/fuzz/elf", "/dev/console", "/dev/null",
    "/bin/hello\x01", "/bin/fuzz", "/bin/sh", "/etc/motd/x", "/tmp", "/tmp/", "/dev/zero", "/dev/full", "/dev/urandom",
    /* scratch names: a component starting "fz-" exists nowhere in the original tree */
    "fz-a", "fz-b", "fz-dir", "fz-dir/fz-c", "fz-dir/../fz-a", "./fz-b", "fz-a/", "/tmp/fz-t",
    "/tmp/fz-dir/fz-u", "/fz-root", "fz-dir/fz-sub/fz-d",
    "/proc/memcheck",
};
#define FIRST_SCRATCH 37 /* checked in main() */
#define SCRATCH_PATHS 11
#define PATHS (sizeof path_list / sizeof path_list[0])
#define PATH_MEMCHECK (PATHS - 1)

/* Where each path is in P, plus the long ones. */
static u64 path_at[PATHS];
static u64 path_long255, path_long4095, path_long4096, path_long5000, path_unterminated;

/* execve targets: small programs that end by themselves */
static const char *const exec_list[] = {
    "/bin/hello", "/bin/crash", "/bin/fuzz", "/nonexistent", "/", "/etc/motd", "/proc/meminfo", "/bin",
};
#define EXECS (sizeof exec_list / sizeof exec_list[0])
static u64 exec_at[EXECS];
static u64 word_fail, word_null;

static u64 initial_brk, initial_fs, my_pid, parent_pid, program_text;
static int own_session;

static u64 interesting_value(void) {
    static const u64 values[] = {
        0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 511, 512, 1000, 1023,
        1024, 4095, 4096, 4097, 8191, 8192, 65535, 65536, 1ul << 20, 1ul << 30, 1ul << 31, 0x7fffffff,
        0x80000000, 0xffffffff, 1ul << 32, 0x100000001, 1ul << 47, 0x7ffffffff000, 0x7fffffffffff,
        0x800000000000, 0xffff800000000000, 0xffffffff80000000, 0xfffffffffffff000, (u64)-1, (u64)-2,
        (u64)-4095, (u64)-4096, (u64)-100, 0x7fffffffffffffff, 0x8000000000000000, 0x7ffff000,
    };
    return values[rnd(sizeof values / sizeof values[0])];
}

static u64 any_value(void);

/* A pointer: mostly into the writable buffer, sometimes anything bad. */
static u64 arg_buffer(void) {
    switch (rnd(40)) {
    case 0: return W_BASE + W_SIZE - 1 - rnd(64);          /* runs into the unmapped page */
    case 1: return W_BASE + W_SIZE - 8 * (1 + rnd(8));
    case 2: case 3: return R_PAGE + rnd(PAGE);
    case 4: return RF_PAGE + rnd(PAGE);
    case 5: case 6: return U_PAGE + rnd(PAGE);
    case 7: case 8: return S_PAGE + rnd(2 * PAGE);
    case 9: return 0;
    case 10: return 0x7ffffffff000 + rnd(PAGE);            /* the last user page (unmapped) */
    case 11: return 0x7ffffffff000 - 8 * (1 + rnd(4));     /* the stack's top, then that page */
    case 12: return 0x800000000000 - 1 - rnd(16);         /* the end of the user half */
    case 13: return 0x800000000000 + rnd(PAGE);            /* non-canonical */
    case 14: return 0x8000000000000000ul + rnd(PAGE);
    case 15: return 0xffff800000000000ul + rnd(1 << 20);   /* the kernel's direct map */
    case 16: return 0xffffffff80000000ul + rnd(1 << 20);   /* kernel text */
    case 17: return (u64)-1 - rnd(16);
    case 18: return program_text + rnd(PAGE);             /* our own code: read-only */
    case 19: return P_BASE + rnd(P_SIZE);                  /* read-only paths */
    case 20: return PLAY + rnd(PLAY_SIZE / PAGE) * PAGE + rnd(2) * rnd(PAGE);
    case 21: return any_value();
    default: return W_BASE + 4096 + rnd(W_SIZE - 4096 - 64) / 8 * 8 + (chance(10) ? rnd(8) : 0);
    }
}

static u64 any_value(void) {
    switch (rnd(12)) {
    case 0: return rnd64();
    case 1: return rnd64() & 0xffffffff;
    case 2: return rnd(64);
    case 3: return (u64)-(i64)rnd(64);
    case 4: return rnd64() & 0x7ffffffff000ul;
    case 5: return arg_buffer();
    default: return interesting_value();
    }
}

static u64 arg_fd_any(void);

static u64 arg_fd(void) {
    u64 fd = arg_fd_any();
    return opt.trace && fd == TRACE_FD ? TRACE_FD + 1 : fd; /* keep the trace's descriptor */
}

static u64 arg_fd_any(void) {
    switch (rnd(30)) {
    case 0: return (u64)-1;
    case 1: return 64;
    case 2: return (u64)-100;
    case 3: return 0x7fffffff;
    case 4: return 0x100000000ul + rnd(4); /* must not be taken as a small fd */
    case 5: return 1000;
    case 6: case 7: return rnd(64);
    case 8: return any_value();
    default: {
        u64 fd = rnd(12);
        if ((fd == 3 || fd == 4) && chance(80)) fd = 5 + rnd(4); /* the pipe that can block: rarely */
        return fd;
    }
    }
}

static u64 arg_length(void) {
    static const u64 lengths[] = {0, 1, 2, 7, 8, 16, 64, 100, 512, 4095, 4096, 4097, 8192, 16384, 65536,
                                  W_SIZE, 1 << 20, 0x7ffff000, 1ul << 31, 1ul << 32, 1ul << 47, (u64)-1,
                                  (u64)-4096, 0x7fffffffffffffff};
    switch (rnd(5)) {
    case 0: return rnd(8192);
    case 1: return rnd(256);
    default: return lengths[rnd(sizeof lengths / sizeof lengths[0])];
    }
}

static u64 arg_path(void) {
    switch (rnd(30)) {
    case 0: return path_long255;
    case 1: return path_long4095;
    case 2: return path_long4096;
    case 3: return path_long5000;
    case 4: return path_unterminated;
    case 5: return arg_buffer();
    case 6: return 0;
    case 7: return U_PAGE;
    case 8: return 0xffffffff80000000ul;
    case 9: return W_BASE + 4096 + rnd(W_SIZE - 4096);
    default: {
        u64 i = rnd(PATHS);
        if (i == PATH_MEMCHECK && !chance(3)) i = 0; /* an audit of every frame: rare */
        return path_at[i];
    }
    }
}

static u64 arg_exec_path(void) {
    if (chance(15)) return arg_path();
    return exec_at[rnd(EXECS)];
}

static u64 arg_open_flags(void) {
    static const u64 flags[] = {0, 1, 2, 3, 0100, 0200, 01000, 02000, 04000, O_DIRECTORY, 0400000, O_CLOEXEC,
                                010000000, 020200000, 0100 | 0200, O_DIRECTORY | O_CLOEXEC, 01000000, 040000};
    switch (rnd(6)) {
    case 0: return rnd64() & 0xffffffff;
    case 1: return flags[rnd(sizeof flags / sizeof flags[0])] | flags[rnd(sizeof flags / sizeof flags[0])];
    default: return flags[rnd(sizeof flags / sizeof flags[0])];
    }
}

/* An address for the memory calls: mostly in the playground; rarely one
 * that takes away the child's own memory (it then dies, as it should). */
static u64 arg_address(void) {
    switch (rnd(100)) {
    case 0: return 0;
    case 1: return W_BASE + PAGE * rnd(W_SIZE / PAGE);
    case 2: return R_PAGE;
    case 3: return U_PAGE;
    case 4: return S_PAGE;
    case 5: return 0x7ffffffff000;
    case 6: return chance(10) ? 0x800000000000 - PAGE * (1 + rnd(4)) : 0x7ffffffff000; /* the stack, rarely */
    case 7: return 0x800000000000;
    case 8: return 0xffffffff80000000ul;
    case 9: return chance(20) ? 0x400000 + PAGE * rnd(16) : PLAY;
    case 10: case 11: return PLAY + rnd(PLAY_SIZE); /* unaligned */
    case 12: return (u64)-PAGE;
    case 13: return 0x10000000 + PAGE * rnd(16);
    case 14: case 15: return initial_brk + PAGE * rnd(4);
    case 16: case 17: return RF_PAGE;
    case 18: case 19: case 20: return any_value();
    default: return PLAY + rnd(PLAY_SIZE / PAGE) * PAGE;
    }
}

static u64 arg_map_length(void) {
    switch (rnd(16)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 1ul << 30;
    case 3: return 1ul << 40;
    case 4: return chance(10) ? 1ul << 47 : 1ul << 36;
    case 5: return (u64)-PAGE;
    case 6: return (u64)-1;
    case 7: return PLAY_SIZE;
    case 8: return rnd(1 << 20);
    case 9: return (1 + rnd(512)) * PAGE;
    default: return (1 + rnd(16)) * PAGE;
    }
}

static u64 arg_protection(void) {
    if (chance(85)) return rnd(8);
    return chance(50) ? 0x01000000 | rnd(8) : rnd64() & 0xffffffff;
}

static u64 arg_map_flags(void) {
    static const u64 flags[] = {0x22, 0x22, 0x21, 0x32, 0x31, 0x02, 0x01, 0x12, 0x11, 0x100022, 0x8022, 0x4022,
                                0x122, 0x20022, 0x03, 0, 0x23, 0x20, 0x40022};
    if (chance(8)) return rnd64() & 0xffffffff;
    return flags[rnd(sizeof flags / sizeof flags[0])];
}

static u64 arg_pid(void) {
    switch (rnd(20)) {
    case 0: case 1: return my_pid;
    case 2: case 3: return rnd(8);
    case 4: return 0;
    case 5: return (u64)-1;
    case 6: return parent_pid;
    case 7: return (u64)-(i64)(1 + rnd(40));
    case 8: return 0x7fffffff;
    case 9: return 0x100000000ul + my_pid;
    case 10: return 0x80000000;
    case 11: return any_value();
    default: return 2 + rnd(40);
    }
}

static u64 arg_signal(void) {
    static const u64 signals[] = {0, 9, 11, 15, 19, 17, 2, 6, 13, 18, 65, (u64)-1, 128, 64, 32, 33, 34};
    if (chance(30)) return rnd(65);
    return signals[rnd(sizeof signals / sizeof signals[0])];
}

static void put64(u64 address, u64 value) {
    *(volatile u64 *)address = value;
}

/* A struct timespec (or timeval) in argument slot `slot`, or a bad pointer. */
static u64 arg_timespec(int slot) {
    u64 at = SLOT(slot);
    if (chance(8)) return arg_buffer();
    u64 s = 0, ns = 0;
    switch (rnd(20)) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: break;
    case 7: case 8: case 9: case 10: ns = rnd(1000000); break;
    case 11: ns = 999999999; break;
    case 12: s = 1; break;
    case 13: s = 0x7fffffffffffffff; break;
    case 14: s = (u64)-1; break;
    case 15: ns = (u64)-1; break;
    case 16: ns = 1000000000; break;
    case 17: s = rnd64(); ns = rnd64(); break;
    default: ns = rnd(100000); break;
    }
    if (opt.noblock && (i64)s >= 0 && s != 0) s = 0;
    if (opt.noblock && ns < 1000000000 && ns > 1000000) ns = 1000000;
    put64(at, s);
    put64(at + 8, ns);
    if (chance(5)) return W_BASE + W_SIZE - 8; /* the second half unmapped */
    return at;
}

/* An iovec array in slot `slot`. */
static u64 arg_iovec(int slot) {
    if (chance(8)) return arg_buffer();
    u64 at = SLOT(slot);
    int n = 1 + (int)rnd(16);
    for (int i = 0; i < n && i < 32; i++) {
        put64(at + 16 * i, arg_buffer());
        put64(at + 16 * i + 8, chance(70) ? rnd(4096) : arg_length());
    }
    if (chance(5)) return W_BASE + W_SIZE - 16 * (1 + rnd(2));
    return at;
}

static u64 arg_iovec_count(void) {
    static const u64 counts[] = {0, 1, 2, 3, 4, 8, 16, 32, 1024, 1025, (u64)-1, 1ul << 31, 0x100000001};
    if (chance(40)) return 1 + rnd(4);
    return counts[rnd(sizeof counts / sizeof counts[0])];
}

static u64 arg_argv(int slot, u64 path) {
    u64 at = SLOT(slot);
    switch (rnd(12)) {
    case 0: return 0;
    case 1: return arg_buffer();
    case 2: /* not terminated before the unmapped page */
        put64(W_BASE + W_SIZE - 8, path);
        return W_BASE + W_SIZE - 8;
    case 3: put64(at, path); put64(at + 8, word_null); put64(at + 16, 0); return at;
    case 4: put64(at, path); put64(at + 8, word_fail); put64(at + 16, 0); return at;
    case 5: put64(at, path); put64(at + 8, U_PAGE); put64(at + 16, 0); return at;
    default: put64(at, path); put64(at + 8, 0); return at;
    }
}

static u64 arg_envp(int slot) {
    u64 at = SLOT(slot);
    switch (rnd(6)) {
    case 0: return arg_buffer();
    case 1: put64(at, word_fail); put64(at + 8, 0); return at;
    default: return 0;
    }
}

static u64 arg_sigaction(int slot) {
    if (chance(20)) return chance(50) ? 0 : arg_buffer();
    u64 at = SLOT(slot);
    static const u64 handlers[] = {0, 1, 2};
    put64(at, chance(70) ? handlers[rnd(3)] : (chance(50) ? program_text : any_value()));
    put64(at + 8, chance(50) ? 0 : (chance(50) ? 0x04000000 : rnd64() & 0xffffffff));
    put64(at + 16, chance(50) ? 0 : program_text);
    put64(at + 24, chance(50) ? 0 : rnd64());
    return at;
}

static u64 arg_sigset_size(void) {
    if (chance(70)) return 8;
    static const u64 sizes[] = {0, 4, 16, 128, (u64)-1};
    return sizes[rnd(5)];
}

static u64 arg_clone_flags(void) {
    switch (rnd(10)) {
    case 0: return 0;
    case 1: return CLONE_VM | CLONE_VFORK | 17;
    case 2: return 0x8000 | 17; /* CLONE_PARENT */
    case 3: return rnd64() & 0xffffffff;
    case 4: return 0x10f00 | 17;
    default: return 17; /* SIGCHLD: fork */
    }
}

enum arg_type {
    A_ANY, A_FD, A_BUF, A_LEN, A_PATH, A_EXEC_PATH, A_OFLAG, A_MODE, A_ADDR, A_MLEN, A_PROT, A_MFLAG,
    A_PID, A_WPID, A_SIG, A_TS, A_IOV, A_IOVCNT, A_ARGV, A_ENVP, A_WHENCE, A_FCNTL, A_ARCH, A_FSARG,
    A_CLOCK, A_WOPT, A_SMALL, A_BRK, A_OFF, A_DIRFD, A_ATFLAG, A_IOCTL, A_WHO, A_SIGACT, A_SIGSETSZ,
    A_HOW, A_CLONE, A_ZERO, A_ADVICE, A_PIPEFLAG,
};

static u64 make_argument(int type, int slot, u64 *args) {
    switch (type) {
    case A_FD: return arg_fd();
    case A_BUF: return arg_buffer();
    case A_LEN: return arg_length();
    case A_PATH: return arg_path();
    case A_EXEC_PATH: return arg_exec_path();
    case A_OFLAG: return arg_open_flags();
    case A_MODE: return chance(70) ? 0644 : rnd64() & 0xffff;
    case A_ADDR: return arg_address();
    case A_MLEN: return arg_map_length();
    case A_PROT: return arg_protection();
    case A_MFLAG: return arg_map_flags();
    case A_PID: return arg_pid();
    case A_WPID: return chance(60) ? (u64)-1 : arg_pid();
    case A_SIG: return arg_signal();
    case A_TS: return arg_timespec(slot);
    case A_IOV: return arg_iovec(slot);
    case A_IOVCNT: return arg_iovec_count();
    case A_ARGV: return arg_argv(slot, slot > 0 ? args[slot - 1] : exec_at[0]);
    case A_ENVP: return arg_envp(slot);
    case A_WHENCE: return chance(85) ? rnd(5) : any_value();
    case A_FCNTL: {
        static const u64 cmds[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1024, 1025, 1026, 1030, 1031, 1033, 1034};
        return chance(90) ? cmds[rnd(sizeof cmds / sizeof cmds[0])] : any_value();
    }
    case A_ARCH: {
        static const u64 codes[] = {0x1001, 0x1002, 0x1003, 0x1003, 0x1003, 0x1004, 0x1011, 0x1012, 0x3001, 0x3002, 0};
        return chance(90) ? codes[rnd(sizeof codes / sizeof codes[0])] : any_value();
    }
    case A_FSARG:
        if (args[0] == 0x1002) return chance(80) ? initial_fs : any_value(); /* ARCH_SET_FS: mostly harmless */
        return arg_buffer();
    case A_CLOCK: return chance(85) ? rnd(12) : any_value();
    case A_WOPT: {
        static const u64 options[] = {0, 1, 1, 1, 2, 8, 4, 0x40000000, 0x80000000, 0x20000000};
        return chance(90) ? options[rnd(sizeof options / sizeof options[0])] : any_value();
    }
    case A_SMALL: return rnd(16);
    case A_BRK:
        switch (rnd(8)) {
        case 0: return 0;
        case 1: return initial_brk;
        case 2: return initial_brk - PAGE * rnd(4);
        case 3: return initial_brk + (1ul << 30);
        case 4: return any_value();
        default: return initial_brk + rnd(64 * PAGE);
        }
    case A_OFF: return chance(50) ? 0 : chance(50) ? PAGE * rnd(16) : any_value();
    case A_DIRFD: return chance(50) ? (u64)-100 : arg_fd();
    case A_ATFLAG: {
        static const u64 flags[] = {0, 0, 0x100, 0x1000, 0x800, 0x200, 0x400};
        return chance(90) ? flags[rnd(sizeof flags / sizeof flags[0])] : any_value();
    }
    case A_IOCTL: {
        static const u64 requests[] = {0x5401, 0x5413, 0x541b, 0x5421, 0x540f, 0x5410, 0x5402, 0x5414};
        return chance(80) ? requests[rnd(sizeof requests / sizeof requests[0])] : any_value();
    }
    case A_WHO: return chance(80) ? (u64)(i64)(rnd(3) - 1) : any_value();
    case A_SIGACT: return arg_sigaction(slot);
    case A_SIGSETSZ: return arg_sigset_size();
    case A_HOW: return chance(90) ? rnd(4) : any_value();
    case A_CLONE: return arg_clone_flags();
    case A_ZERO: return chance(90) ? 0 : any_value();
    case A_ADVICE: return chance(85) ? rnd(24) : any_value();
    case A_PIPEFLAG: {
        static const u64 flags[] = {0, 0, O_CLOEXEC, 04000, O_CLOEXEC | 04000, 040000, 1};
        return chance(90) ? flags[rnd(sizeof flags / sizeof flags[0])] : any_value();
    }
    default: return any_value();
    }
}

/* ------------------------------------------------------ the call table */

struct signature {
    u32 nr;
    u32 weight;
    const char *name;
    u8 types[6];
};

/* The calls the kernel implements (heavy), then some it does not yet,
 * typed for the day it does. Every other number up to MAX_SYSCALL gets
 * OTHER_WEIGHT and arguments from the pool. */
static const struct signature signatures[] = {
    {0, 60, "read", {A_FD, A_BUF, A_LEN}},
    {1, 60, "write", {A_FD, A_BUF, A_LEN}},
    {2, 30, "open", {A_PATH, A_OFLAG, A_MODE}},
    {3, 40, "close", {A_FD}},
    {5, 20, "fstat", {A_FD, A_BUF}},
    {8, 20, "lseek", {A_FD, A_OFF, A_WHENCE}},
    {9, 50, "mmap", {A_ADDR, A_MLEN, A_PROT, A_MFLAG, A_FD, A_OFF}},
    {10, 30, "mprotect", {A_ADDR, A_MLEN, A_PROT}},
    {11, 30, "munmap", {A_ADDR, A_MLEN}},
    {12, 20, "brk", {A_BRK}},
    {13, 10, "rt_sigaction", {A_SIG, A_SIGACT, A_BUF, A_SIGSETSZ}},
    {14, 10, "rt_sigprocmask", {A_HOW, A_BUF, A_BUF, A_SIGSETSZ}},
    {16, 10, "ioctl", {A_FD, A_IOCTL, A_BUF}},
    {19, 20, "readv", {A_FD, A_IOV, A_IOVCNT}},
    {20, 20, "writev", {A_FD, A_IOV, A_IOVCNT}},
    {22, 8, "pipe", {A_BUF}},
    {24, 5, "sched_yield", {0}},
    {28, 10, "madvise", {A_ADDR, A_MLEN, A_ADVICE}},
    {32, 15, "dup", {A_FD}},
    {33, 15, "dup2", {A_FD, A_FD}},
    {35, 4, "nanosleep", {A_TS, A_BUF}},
    {39, 5, "getpid", {0}},
    {56, 2, "clone", {A_CLONE, A_ZERO, A_BUF, A_BUF, A_ZERO}},
    {57, 3, "fork", {0}},
    {58, 1, "vfork", {0}},
    {59, 1, "execve", {A_EXEC_PATH, A_ARGV, A_ENVP}},
    {60, 1, "exit", {A_SMALL}},
    {61, 8, "wait4", {A_WPID, A_BUF, A_WOPT, A_BUF}},
    {62, 3, "kill", {A_PID, A_SIG}},
    {63, 5, "uname", {A_BUF}},
    {72, 15, "fcntl", {A_FD, A_FCNTL, A_SMALL}},
    {96, 5, "gettimeofday", {A_BUF, A_BUF}},
    {98, 5, "getrusage", {A_WHO, A_BUF}},
    {110, 5, "getppid", {0}},
    {158, 5, "arch_prctl", {A_ARCH, A_FSARG}},
    {186, 3, "gettid", {0}},
    {200, 2, "tkill", {A_PID, A_SIG}},
    {217, 15, "getdents64", {A_FD, A_BUF, A_LEN}},
    {218, 5, "set_tid_address", {A_BUF}},
    {219, 1, "restart_syscall", {0}},
    {222, 3, "timer_create", {A_CLOCK, A_BUF, A_BUF}},
    {223, 3, "timer_settime", {A_SMALL, A_SMALL, A_BUF, A_BUF}},
    {224, 2, "timer_gettime", {A_SMALL, A_BUF}},
    {225, 1, "timer_getoverrun", {A_SMALL}},
    {226, 2, "timer_delete", {A_SMALL}},
    {227, 1, "clock_settime", {A_CLOCK, A_TS}},
    {228, 5, "clock_gettime", {A_CLOCK, A_BUF}},
    {229, 2, "clock_getres", {A_CLOCK, A_BUF}},
    {230, 3, "clock_nanosleep", {A_CLOCK, A_SMALL, A_TS, A_BUF}},
    {231, 1, "exit_group", {A_SMALL}},
    {257, 25, "openat", {A_DIRFD, A_PATH, A_OFLAG, A_MODE}},
    {262, 20, "newfstatat", {A_DIRFD, A_PATH, A_BUF, A_ATFLAG}},
    {292, 10, "dup3", {A_FD, A_FD, A_PIPEFLAG}},
    {293, 8, "pipe2", {A_BUF, A_PIPEFLAG}},
    /* not implemented yet: typed anyway */
    {4, 2, "stat", {A_PATH, A_BUF}},
    {6, 2, "lstat", {A_PATH, A_BUF}},
    {7, 2, "poll", {A_BUF, A_SMALL, A_ZERO}},
    {17, 2, "pread64", {A_FD, A_BUF, A_LEN, A_OFF}},
    {18, 2, "pwrite64", {A_FD, A_BUF, A_LEN, A_OFF}},
    {21, 2, "access", {A_PATH, A_SMALL}},
    {23, 1, "select", {A_SMALL, A_BUF, A_BUF, A_BUF, A_TS}},
    {25, 2, "mremap", {A_ADDR, A_MLEN, A_MLEN, A_SMALL, A_ADDR}},
    {26, 2, "msync", {A_ADDR, A_MLEN, A_SMALL}},
    {27, 2, "mincore", {A_ADDR, A_MLEN, A_BUF}},
    {34, 1, "pause", {0}},
    {79, 2, "getcwd", {A_BUF, A_LEN}},
    {80, 2, "chdir", {A_PATH}},
    {81, 2, "fchdir", {A_FD}},
    {89, 2, "readlink", {A_PATH, A_BUF, A_LEN}},
    {99, 2, "sysinfo", {A_BUF}},
    {100, 2, "times", {A_BUF}},
    {112, 1, "setsid", {0}},
    {131, 2, "sigaltstack", {A_BUF, A_BUF}},
    {137, 1, "statfs", {A_PATH, A_BUF}},
    {157, 2, "prctl", {A_SMALL, A_ANY, A_ANY, A_ANY, A_ANY}},
    {201, 1, "time", {A_BUF}},
    {202, 2, "futex", {A_BUF, A_SMALL, A_ANY, A_TS, A_BUF, A_ANY}},
    {234, 1, "tgkill", {A_PID, A_PID, A_SIG}},
    {247, 2, "waitid", {A_SMALL, A_PID, A_BUF, A_WOPT, A_BUF}},
    {302, 1, "prlimit64", {A_PID, A_SMALL, A_BUF, A_BUF}},
    {318, 2, "getrandom", {A_BUF, A_LEN, A_SMALL}},
    {319, 1, "memfd_create", {A_PATH, A_SMALL}},
    {322, 1, "execveat", {A_DIRFD, A_EXEC_PATH, A_ARGV, A_ENVP, A_ATFLAG}},
    {332, 2, "statx", {A_DIRFD, A_PATH, A_ATFLAG, A_ANY, A_BUF}},
    {435, 1, "clone3", {A_BUF, A_LEN}},
    {436, 1, "close_range", {A_FD, A_FD, A_SMALL}},
    {437, 1, "openat2", {A_DIRFD, A_PATH, A_BUF, A_LEN}},
};
#define SIGNATURES (sizeof signatures / sizeof signatures[0])
#define OTHER_WEIGHT 1 /* in tenths, like the weights above * 10 */

static const struct signature *signature_of[MAX_SYSCALL + 1];
static u32 cumulative[MAX_SYSCALL + 1];
static u32 total_weight;

static void build_table(void) {
    for (size_t i = 0; i < SIGNATURES; i++) signature_of[signatures[i].nr] = &signatures[i];
    u32 sum = 0;
    for (u32 nr = 0; nr <= MAX_SYSCALL; nr++) {
        u32 w = signature_of[nr] ? signature_of[nr]->weight * 10 : OTHER_WEIGHT * 5;
        if (nr == SYS_exit || nr == SYS_exit_group) w = 1; /* ends the batch: rarely */
        if (nr == SYS_reboot) w = 0; /* would end the run */
        sum += w;
        cumulative[nr] = sum;
    }
    total_weight = sum;
}

static const char *call_name(u64 nr) {
    if (nr <= MAX_SYSCALL && signature_of[nr]) return signature_of[nr]->name;
    return NULL;
}

static u64 pick_number(void) {
    if (chance(1)) {
        /* beyond the table: unknown numbers of every size */
        static const u64 far[] = {461, 462, 511, 512, 1000, 0x40000000, 0x40000001, 0xffffffff, 1ul << 32, (u64)-1};
        u64 nr = chance(50) ? 461 + rnd(600) : far[rnd(sizeof far / sizeof far[0])];
        if (((nr & 0xffffffff) & ~0x40000000ul) == SYS_reboot) nr = 461; /* Linux looks only at eax */
        return nr;
    }
    u32 r = (u32)rnd(total_weight);
    u32 lo = 0, hi = MAX_SYSCALL;
    while (lo < hi) {
        u32 mid = (lo + hi) / 2;
        if (cumulative[mid] > r) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* Calls that may sleep until something else happens: a child stuck in one
 * is "blocked", not hung. exit, kill and execve end the caller (or start
 * another program) and are treated the same way. */
static int may_block(u64 nr) {
    nr = (nr & 0xffffffff) & ~0x40000000ul; /* the kernel looks at eax only */
    switch (nr) {
    case 0: case 1: case 7: case 19: case 20: case 23: case 34: case 35: case 58: case 59: case 60: case 61:
    case 62: case 128: case 130: case 200: case 202: case 230: case 231: case 232: case 234: case 247:
    case 270: case 271: case 281: case 322: case 441: case 43: case 44: case 45: case 46: case 47:
    case 42: case 65: case 70: case 73: case 220: case 242: case 243: case 208: case 56: case 435: case 219:
    case 72: /* F_SETLKW */
        return 1;
    default: return 0;
    }
}

/* Calls whose arguments name a process: which arguments. */
static int pid_arguments(u64 nr) {
    switch (nr) {
    case 62: case 200: case 129: case 434: case 142: case 144: case 203: case 256: case 279: case 302:
    case 310: case 311: case 309: case 143: case 145: case 204: case 121: case 124: case 109:
        return 1;               /* argument 0 */
    case 101: case 141: case 251:
        return 2;               /* argument 1 */
    case 234: case 297: case 312:
        return 3;               /* arguments 0 and 1 */
    default: return 0;
    }
}

/* Which arguments of a call are paths it would change or remove (bit i:
 * argument i), given its other arguments. */
static int mutated_paths(u64 nr, const u64 *a) {
    switch (nr) {
    case 2: return (a[1] & 3) || (a[1] & 01000) ? 1 : 0;            /* open for writing or O_TRUNC */
    case 257: return (a[2] & 3) || (a[2] & 01000) ? 2 : 0;          /* openat */
    case 437: return 2;                                             /* openat2 */
    case 85: case 76: case 87: case 84: case 90: case 92: case 94: return 1; /* creat truncate unlink rmdir chmod chown lchown */
    case 263: case 268: case 452: case 260: return 2;               /* unlinkat fchmodat fchmodat2 fchownat */
    case 82: return 3;                                              /* rename */
    case 264: case 316: return 2 | 8;                               /* renameat renameat2 */
    case 86: case 88: return 2;                                     /* link, symlink: the new name */
    case 265: return 8;                                             /* linkat */
    case 266: return 4;                                             /* symlinkat */
    case 165: return 2;                                             /* mount: the target */
    case 166: return 1;                                             /* umount2 */
    default: return 0;
    }
}

static int is_scratch_path(u64 p) {
    for (int i = FIRST_SCRATCH; i < FIRST_SCRATCH + SCRATCH_PATHS; i++)
        if (p == path_at[i]) return 1;
    return 0;
}

/* The run's files stay as they were: a call that would change or remove a
 * path gets a scratch path instead, unless its pointer is plainly bad (then
 * it only tests EFAULT). The parent deletes whatever the scratch names made. */
static void protect_files(u64 nr, u64 *a) {
    int which = mutated_paths((nr & 0xffffffff) & ~0x40000000ul, a);
    for (int i = 0; i < 6; i++) {
        if (!(which & (1 << i))) continue;
        u64 p = a[i];
        int bad = p < 0x10000 || p >= 0x7ffffffff000ul || (p >= U_PAGE && p < U_PAGE + PAGE);
        if (!bad && !is_scratch_path(p)) a[i] = path_at[FIRST_SCRATCH + rnd(SCRATCH_PATHS)];
    }
}

static void exclude_init(u64 nr, u64 *a) {
    nr = (nr & 0xffffffff) & ~0x40000000ul; /* the kernel, like Linux, looks at eax only */
    int which = pid_arguments(nr);
    for (int i = 0; i < 2; i++) {
        if (!(which & (1 << i))) continue;
        i32 p = (i32)(u32)a[i];
        if (p == 1 || (p == 0 && nr == SYS_kill && !own_session)) a[i] = my_pid;
    }
}

/* ---------------------------------------------------- the fuzzing child */

static int my_lane;
static u64 calls_left;

static void format_call(struct text *t, const struct call *c) {
    const char *name = call_name(c->nr);
    if (name) add(t, "%s(", name);
    else add(t, "%lld(", (long long)c->nr);
    for (int i = 0; i < 6; i++) {
        u64 v = c->a[i];
        if ((i64)v > -4096 && (i64)v < 4096) add(t, "%s%lld", i ? "," : "", (long long)v);
        else add(t, "%s%#llx", i ? "," : "", (unsigned long long)v);
    }
    add(t, ")");
    if (c->state == CALL_DONE) {
        add(t, "=%lld", (long long)c->ret);
        u64 ms = c->cycles / tsc_per_ms;
        if (ms >= 10) add(t, " (%llu ms)", (unsigned long long)ms);
    } else {
        add(t, " unfinished");
    }
}

static void become_lane(void) {
    u32 lane = __atomic_fetch_add(&sh->lanes_used, 1, __ATOMIC_SEQ_CST);
    if (lane >= MAX_LANES) sys_exit(0);
    my_lane = (int)lane;
    my_pid = (u64)sys0(SYS_getpid);
    parent_pid = (u64)sys0(SYS_getppid);
    sh->lane[lane].pid = (u32)my_pid;
    sh->lane[lane].used = 1;
    rng_state ^= 0x5851f42d4c957f2dull * (lane + 1);
    if (calls_left > GRANDCHILD_CALLS) calls_left = GRANDCHILD_CALLS;
}

static void one_call(void) {
    u64 nr = pick_number();
    u64 a[6] = {0};
    const struct signature *sig = nr <= MAX_SYSCALL ? signature_of[nr] : NULL;
    int typed = sig && chance(90);
    for (int i = 0; i < 6; i++) {
        a[i] = typed ? make_argument(sig->types[i], i, a) : any_value();
        if (typed && sig->types[i] == 0 && chance(80)) a[i] = 0;
    }
    if (typed && chance(5)) a[rnd(6)] = any_value();
    exclude_init(nr, a);
    protect_files(nr, a);
    if (!opt.bigpopulate && ((nr & 0xffffffff) == SYS_mmap) && a[1] > (64ul << 20)) a[3] &= ~0xa000ul; /* POPULATE, LOCKED */
    if (opt.noblock) {
        if (nr == SYS_wait4) a[2] |= WNOHANG;
        if (nr == 247) a[3] |= WNOHANG;
        if (nr == 34 || nr == 202 || nr == 7 || nr == 23 || nr == 270 || nr == 271 || nr == 230) return;
    }
    u64 seq = __atomic_fetch_add(&sh->seq, 1, __ATOMIC_SEQ_CST);
    struct call *slot = &sh->ring[seq % RING];
    struct call c = {.seq = seq, .pid = (u32)my_pid, .lane = (u32)my_lane, .state = CALL_IN_PROGRESS, .nr = nr};
    for (int i = 0; i < 6; i++) c.a[i] = a[i];
    *slot = c;
    sh->lane[my_lane].current = c;
    if (opt.trace) {
        char buffer[400];
        struct text t = {buffer, sizeof buffer, 0};
        add(&t, "fuzz: [%d] #%llu ", (int)my_pid, (unsigned long long)seq);
        format_call(&t, &c);
        add(&t, "\n");
        write_all(TRACE_FD, buffer, t.used);
    }
    i64 ret;
    int shared_vm = nr == SYS_vfork || nr == SYS_clone3 || (nr == SYS_clone && (a[0] & (CLONE_VM | CLONE_VFORK)));
    if (shared_vm) {
        /* the child may share our memory: it execs or exits at once. A
         * thread (CLONE_THREAD) only exits: its execve would replace this
         * lane's whole process under the bookkeeping of a lane that still
         * looks busy in its last call (Linux's de_thread). */
        u64 path = chance(50) && !(nr == SYS_clone && (a[0] & CLONE_THREAD)) ? exec_at[0] : 0;
        put64(SLOT(7), exec_at[0]);
        put64(SLOT(7) + 8, 0);
        ret = sys_spawnlike(nr, a[0], a[1], a[2], a[3], a[4], a[5], path, SLOT(7));
    } else {
        u64 t0 = rdtsc();
        ret = sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        c.cycles = rdtsc() - t0;
    }
    if (ret == 0 && (nr == SYS_fork || nr == SYS_clone)) become_lane();
    if (opt.noblock && ret == 0 && (nr == SYS_pipe || nr == SYS_pipe2)) {
        /* keep one end only: nothing can wait on this pipe */
        volatile int *fds = (volatile int *)a[0];
        int keep = (int)rnd(2);
        sys1(SYS_close, fds[1 - keep]);
    }
    c.state = CALL_DONE;
    c.ret = ret;
    c.pid = (u32)my_pid;
    c.lane = (u32)my_lane;
    if (slot->seq == seq) *slot = c;
    sh->lane[my_lane].current = c;
    if (c.cycles > sh->slowest.cycles && !may_block(nr) && nr != SYS_fork && nr != SYS_clone && nr != SYS_sched_yield)
        sh->slowest = c; /* (fork and sched_yield let others run before they return) */
    __atomic_fetch_add(&sh->calls, 1, __ATOMIC_SEQ_CST);
    if (opt.trace) {
        char buffer[128];
        struct text t = {buffer, sizeof buffer, 0};
        add(&t, "fuzz: [%d] #%llu = %lld\n", (int)my_pid, (unsigned long long)seq, (long long)ret);
        write_all(TRACE_FD, buffer, t.used);
    }
}

static u64 map_fixed(u64 address, u64 length, u64 prot, u64 flags, i64 fd) {
    return (u64)sys6(SYS_mmap, address, length, prot, flags | 0x10, (u64)fd, 0);
}

static void fill_random(u64 from, u64 length) {
    for (u64 p = from; p + 8 <= from + length; p += 8) put64(p, chance(50) ? rnd64() : any_value());
}

static u64 place_string(u64 *at, const char *s) {
    u64 start = *at;
    size_t n = strlen(s);
    memcpy((void *)start, s, n + 1);
    *at += n + 1;
    return start;
}

static u64 place_repeated(u64 *at, size_t length) {
    u64 start = *at;
    char *p = (char *)start;
    p[0] = '/';
    for (size_t i = 1; i < length; i++) p[i] = (i % 64 == 0) ? '/' : 'a';
    p[length] = 0;
    *at += length + 1;
    return start;
}

/* The child's descriptors and memory (see the top of the file). */
static void setup_child(void) {
    my_pid = (u64)sys0(SYS_getpid);
    parent_pid = (u64)sys0(SYS_getppid);
    own_session = sys0(SYS_setsid) >= 0;
    /* SIGPIPE ignored: writes to the dead pipes below fail with EPIPE */
    u64 act[4] = {1, 0, 0, 0};
    sys4(SYS_rt_sigaction, 13, act, 0, 8);
    if (opt.trace || opt.console) sys2(SYS_dup2, 1, TRACE_FD);
    for (int fd = 0; fd < 64; fd++)
        if (fd != TRACE_FD) sys1(SYS_close, fd);
    int fds[2];
    /* 0: a pipe with no writer (reads see EOF); 1, 2: a pipe with no reader (EPIPE) */
    sys2(SYS_pipe2, fds, 0);   /* 0, 1 */
    sys1(SYS_close, 1);
    sys2(SYS_pipe2, fds, 0);   /* 1, 2 */
    sys2(SYS_dup2, 2, 1);      /* the read end goes */
    sys2(SYS_dup2, 1, 2);
    if (!opt.noblock) {
        sys2(SYS_pipe2, fds, 0); /* 3, 4: both ends, so reads and writes can block */
    } else {
        sys1(SYS_dup, 0);
        sys1(SYS_dup, 1);
    }
    sys2(SYS_open, "/bin/hello", O_RDONLY);                 /* 5 */
    sys2(SYS_open, "/", O_RDONLY | O_DIRECTORY);            /* 6 */
    sys2(SYS_open, "/proc/self/maps", O_RDONLY);            /* 7 */
    sys2(SYS_open, "/etc/motd", O_RDONLY);                  /* 8 */
    if (opt.console && !opt.noblock) sys2(SYS_dup2, TRACE_FD, 9);

    /* memory */
    map_fixed(W_BASE, W_SIZE, 3, 0x22, -1);
    map_fixed(R_PAGE, PAGE, 1, 0x22, -1);
    map_fixed(RF_PAGE, PAGE, 1, 0x02, 5);
    map_fixed(U_PAGE, PAGE, 3, 0x22, -1);
    sys2(SYS_munmap, U_PAGE, PAGE);
    map_fixed(S_PAGE, 2 * PAGE, 3, 0x21, -1);
    map_fixed(P_BASE, P_SIZE, 3, 0x22, -1);
    fill_random(W_BASE, W_SIZE);
    fill_random(S_PAGE, 2 * PAGE);
    u64 at = P_BASE;
    for (size_t i = 0; i < PATHS; i++) {
        const char *p = path_list[i];
        /* the console only with console=1: random writes would flood it */
        if (!opt.console && (!strcmp(p, "/dev/console") || !strcmp(p, "/dev/tty"))) p = "/dev/null";
        path_at[i] = place_string(&at, p);
    }
    for (size_t i = 0; i < EXECS; i++) exec_at[i] = place_string(&at, exec_list[i]);
    word_fail = place_string(&at, "fail");
    word_null = place_string(&at, "null");
    path_long255 = place_repeated(&at, 255);
    at = (at + 7) & ~7ul;
    path_long4095 = place_repeated(&at, 4095);
    path_long4096 = place_repeated(&at, 4096);
    path_long5000 = at; /* whatever fits */
    place_repeated(&at, P_BASE + P_SIZE - at - 64 > 5000 ? 5000 : P_BASE + P_SIZE - at - 64);
    path_unterminated = P_BASE + P_SIZE - 32;
    memset((void *)path_unterminated, 'b', 32); /* no NUL before the unmapped page */
    *(char *)path_unterminated = '/';
    sys3(SYS_mprotect, P_BASE, P_SIZE, 1);
    initial_brk = (u64)sys1(SYS_brk, 0);
    u64 fs = 0;
    sys2(SYS_arch_prctl, 0x1003, &fs);
    initial_fs = fs;
    program_text = (u64)getauxval(AT_ENTRY) & ~(PAGE - 1);
}

static void __attribute__((noreturn, noinline)) fuzz_child(u64 batch) {
    u64 structures[8 * 512 / 8] __attribute__((aligned(64)));
    slots = (u64)structures;
    rng_state = batch_seed(opt.seed, batch);
    my_lane = 0;
    setup_child();
    sh->lane[0].pid = (u32)my_pid;
    sh->lane[0].used = 1;
    sh->setup_done = 1;
    for (calls_left = opt.batch; calls_left > 0; calls_left--) one_call();
    if (my_lane == 0) sh->finished = 1;
    sys_exit(0);
    for (;;) {}
}

/* ---------------------------------------------------------- the parent */

static int kill_works;
static i64 holder_pid = -1;
static int holder_fd = -1;
static u64 squeeze_kib;

static struct {
    u64 calls, batches, done, ended, killed, blocked, hung, spinning, slow, abandoned, stray, fork_failed;
    u64 holders, slow_calls;
} stats;
static struct call run_slowest;
static u64 run_slowest_batch;
static int failed;

#define MAX_ABANDONED 64
static int abandoned[MAX_ABANDONED];
static int abandoned_count;

static int is_abandoned(int pid) {
    for (int i = 0; i < abandoned_count; i++)
        if (abandoned[i] == pid) return 1;
    return 0;
}

static void abandon(int pid) {
    if (!is_abandoned(pid) && abandoned_count < MAX_ABANDONED) abandoned[abandoned_count++] = pid;
}

/* The holder: fills memory, then waits for EOF on its pipe. */
static void __attribute__((noreturn)) holder_main(int fd) {
    for (int i = 0; i < 64; i++)
        if (i != fd && i != 1) sys1(SYS_close, i);
    long total = 0;
    if (read_file("/proc/meminfo", proc_text, sizeof proc_text) > 0) total = field(proc_text, "MemTotal");
    u64 size = (u64)(total > 0 ? total : 1 << 20) * 1024;
    i64 base = sys6(SYS_mmap, 0, size, 3, 0x4022, (u64)-1, 0);
    u64 pages = 0;
    long free_kib = mem_free_kib();
    if (base > 0) {
        while (free_kib > (long)squeeze_kib && (pages + 1) * PAGE < size) {
            u64 n = (u64)(free_kib - (long)squeeze_kib) / 4 / 2 + 1;
            if (n > 2048) n = 2048;
            for (u64 i = 0; i < n && (pages + 1) * PAGE < size; i++, pages++) *(volatile char *)(base + pages * PAGE) = 1;
            free_kib = mem_free_kib();
            if (free_kib < 0) break;
        }
    }
    sh->holder_pages = (u32)pages;
    sh->holder_free_kib = free_kib;
    sh->holder_ready = 1;
    char c;
    while (sys3(SYS_read, fd, &c, 1) == -EINTR) {}
    sys_exit(0);
    for (;;) {}
}

static void start_holder(void) {
    int fds[2];
    if (sys2(SYS_pipe2, fds, O_CLOEXEC) < 0) {
        say("fuzz: squeeze: no pipe for the holder\n");
        return;
    }
    sh->holder_ready = 0;
    i64 pid = spawn();
    if (pid == 0) {
        sys1(SYS_close, fds[1]);
        holder_main(fds[0]);
    }
    sys1(SYS_close, fds[0]);
    if (pid < 0) {
        sys1(SYS_close, fds[1]);
        say("fuzz: squeeze: cannot fork the holder (%lld)\n", (long long)pid);
        return;
    }
    holder_pid = pid;
    holder_fd = fds[1];
    stats.holders++;
    i64 start = now_ms();
    while (!sh->holder_ready && now_ms() - start < 120000) {
        int status;
        if (sys4(SYS_wait4, pid, &status, WNOHANG, 0) == pid) {
            say("fuzz: squeeze: the holder died while filling memory (status %#x)\n", status);
            holder_pid = -1;
            sys1(SYS_close, holder_fd);
            holder_fd = -1;
            return;
        }
        sleep_ms(5);
    }
    say("fuzz: squeeze: holder %d holds %llu KiB; MemFree %lld KiB\n", (int)pid,
        (unsigned long long)sh->holder_pages * 4, (long long)sh->holder_free_kib);
}

static void stop_holder(void) {
    if (holder_pid < 0) return;
    sys1(SYS_close, holder_fd);
    holder_fd = -1;
    /* A fuzzed kill may have stopped it (stop signals are real): continue it to see the pipe close. */
    sys2(SYS_kill, holder_pid, SIGCONT);
    i64 start = now_ms();
    int status;
    i64 r = 0;
    while (now_ms() - start < 10000) {
        r = sys4(SYS_wait4, holder_pid, &status, WNOHANG, 0);
        if (r == holder_pid || r == -ECHILD) break;
        sleep_ms(5);
    }
    if (r != holder_pid && r != -ECHILD) {
        sys2(SYS_kill, holder_pid, SIGKILL);
        sys4(SYS_wait4, holder_pid, &status, 0, 0);
    }
    holder_pid = -1;
}

/* Reaps any child that has ended; notes the holder's death. */
static void reap_some(void) {
    for (;;) {
        int status;
        i64 r = sys4(SYS_wait4, -1, &status, WNOHANG, 0);
        if (r <= 0) return;
        if (r == holder_pid) {
            if (opt.verbose >= 2) say("fuzz: the squeeze holder was killed (status %#x)\n", status);
            holder_pid = -1;
            sys1(SYS_close, holder_fd);
            holder_fd = -1;
        }
    }
}

/* Kills (when kill works) and reaps every process but init, the holder and
 * those already abandoned; gives up after 10 s. */
static void clean_up(const char *what) {
    i64 start = now_ms();
    int rounds = 0;
    for (;;) {
        reap_some();
        int n = list_processes();
        if (n < 0) {
            sleep_ms(5);
            if (now_ms() - start > 10000) break;
            continue;
        }
        int others = 0;
        for (int i = 0; i < n; i++) {
            int pid = procs[i].pid;
            if (pid == 1 || pid == holder_pid || is_abandoned(pid)) continue;
            others++;
            if (kill_works && procs[i].state != 'Z' && holder_pid >= 0) sys2(SYS_kill, pid, SIGKILL);
        }
        if (others == 0) return;
        if (kill_works && holder_pid < 0) sys2(SYS_kill, -1, SIGKILL);
        if (now_ms() - start > 10000) {
            say("fuzz: %s: %d processes would not end; left alone:", what, others);
            for (int i = 0; i < n; i++) {
                int pid = procs[i].pid;
                if (pid == 1 || pid == holder_pid || is_abandoned(pid)) continue;
                say(" %d(ppid %d, %c)", pid, procs[i].ppid, procs[i].state);
                abandon(pid);
            }
            say("\n");
            stats.stray += (u64)others;
            failed = 1;
            return;
        }
        rounds++;
        sleep_ms(rounds < 4 ? 1 : 5);
    }
}

/* The parent's copy of the ring, so a child cannot change it while printed. */
static struct call ring_copy[RING];

static void print_last_calls(const char *prefix, int count) {
    u64 seq = sh->seq;
    int n = 0;
    memcpy(ring_copy, (const void *)sh->ring, sizeof ring_copy);
    char buffer[3000];
    struct text t = {buffer, sizeof buffer, 0};
    add(&t, "%s", prefix);
    u64 first = seq > (u64)count ? seq - (u64)count : 0;
    for (u64 s = first; s < seq; s++) {
        const struct call *c = &ring_copy[s % RING];
        if (c->seq != s || c->state == CALL_EMPTY) continue;
        add(&t, "%s", n++ ? "; " : " ");
        if (c->lane != 0) add(&t, "[pid %u] ", c->pid);
        format_call(&t, c);
    }
    if (n == 0) add(&t, " (none)");
    add(&t, "\n");
    write_all(1, buffer, t.used);
}

enum stuck { STUCK_NONE, STUCK_BLOCKED, STUCK_HUNG, STUCK_SPINNING, STUCK_SLOW };

/* What the batch's live processes are doing after `stalled` ms without a
 * finished call: STUCK_NONE (wait and see), STUCK_BLOCKED (each sleeps in
 * a call that may block), STUCK_HUNG (one is in a call that should not
 * block), STUCK_SPINNING (running, but making no calls). */
static enum stuck classify(struct call *culprit, i64 stalled) {
    int n = list_processes();
    if (n < 0) {
        /* No /proc/processes (kernel memory exhausted): judge by the batch's
         * own process alone, which is alive (wait4 has not reaped it). */
        struct lane l = sh->lane[0];
        if (l.current.state == CALL_IN_PROGRESS && may_block(l.current.nr))
            return stalled >= 10 * (i64)opt.stall_ms ? STUCK_BLOCKED : STUCK_NONE;
        if (stalled < (i64)opt.hang_ms) return STUCK_NONE;
        if (l.current.state == CALL_IN_PROGRESS) {
            *culprit = l.current;
            return STUCK_HUNG;
        }
        return STUCK_SPINNING;
    }
    int hung = 0, active = 0, blocked = 0, running = 0;
    u32 lanes = sh->lanes_used;
    if (lanes > MAX_LANES) lanes = MAX_LANES;
    for (u32 i = 0; i < lanes; i++) {
        struct lane l = sh->lane[i];
        if (!l.used) continue;
        char state = process_state(n, (int)l.pid);
        if (state == 0 || state == 'Z') continue;
        if (l.current.state == CALL_IN_PROGRESS) {
            if (!may_block(l.current.nr) && state == 'S') {
                /* asleep in a call that never sleeps for long: a kernel bug */
                hung++;
                *culprit = l.current;
            } else if (!may_block(l.current.nr)) {
                /* runnable "in" a call that never returned to our code: it
                 * returned into memory the call itself replaced */
                running++;
            } else if (state == 'S') {
                blocked++;
            } else {
                active++;
            }
        } else if (state == 'R') {
            running++;
        } else {
            blocked++;
        }
    }
    if (opt.verbose >= 3) {
        say("fuzz: classify after %lld ms: %u lanes, hung %d active %d blocked %d running %d;", (long long)stalled,
            lanes, hung, active, blocked, running);
        for (u32 i = 0; i < lanes; i++)
            say(" lane %u pid %u state %c call %llu (%u)", i, sh->lane[i].pid, process_state(n, (int)sh->lane[i].pid),
                (unsigned long long)sh->lane[i].current.nr, sh->lane[i].current.state);
        say("\n");
    }
    if (hung) return stalled >= (i64)opt.hang_ms ? STUCK_HUNG : STUCK_NONE;
    if (active || running || !blocked) return stalled >= (i64)opt.hang_ms ? STUCK_SPINNING : STUCK_NONE;
    return STUCK_BLOCKED;
}

static int kill_child(i64 pid) {
    i64 r = sys2(SYS_kill, pid, SIGKILL);
    return r == 0;
}

/* Runs batch `index`; returns the calls it made. */
static u64 run_batch(u64 index) {
    sh->calls = 0;
    sh->seq = 0;
    sh->lanes_used = 1;
    sh->finished = 0;
    sh->setup_done = 0;
    memset((void *)sh->ring, 0, sizeof sh->ring);
    memset((void *)sh->lane, 0, sizeof sh->lane);
    memset((void *)&sh->slowest, 0, sizeof sh->slowest);
    i64 pid = -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        pid = spawn();
        if (pid >= 0) break;
        stats.fork_failed++;
        reap_some();
        sleep_ms(20);
    }
    if (pid < 0) {
        say("fuzz: batch %llu: fork keeps failing (%lld)\n", (unsigned long long)index, (long long)pid);
        failed = 1;
        return 0;
    }
    if (pid == 0) fuzz_child(index);
    stats.batches++;
    i64 start = now_ms(), last_change = start;
    u64 last_calls = 0;
    int status = 0, ended = 0, killed_by_us = 0;
    enum stuck why = STUCK_NONE;
    struct call culprit = {0};
    i64 kill_time = 0;
    for (;;) {
        i64 r = sys4(SYS_wait4, pid, &status, WNOHANG, 0);
        if (r == pid) {
            ended = 1;
            break;
        }
        if (r < 0 && r != -EINTR) break; /* not our child any more?! */
        i64 now = now_ms();
        u64 c = sh->calls;
        if (c != last_calls) {
            last_calls = c;
            last_change = now;
        }
        if (opt.verbose >= 3 && (now - start) / 1000 != (now - start - 5) / 1000)
            say("fuzz: batch %llu at %lld ms: calls %llu, stalled %lld ms\n", (unsigned long long)index,
                (long long)(now - start), (unsigned long long)c, (long long)(now - last_change));
        if (why == STUCK_NONE) {
            i64 stalled = now - last_change;
            if (stalled >= (i64)opt.stall_ms) why = classify(&culprit, stalled);
            if (why == STUCK_NONE && now - start >= (i64)opt.batch_ms) why = STUCK_SLOW;
            if (why == STUCK_HUNG) {
                char prefix[600];
                struct text t = {prefix, sizeof prefix, 0};
                add(&t, "fuzz: batch %llu hung after %llu calls: no progress for %lld ms in ", (unsigned long long)index,
                    (unsigned long long)c, (long long)stalled);
                format_call(&t, &culprit);
                add(&t, " [pid %u]; last calls:", culprit.pid);
                print_last_calls(prefix, RING);
                failed = 1;
            }
            if (why != STUCK_NONE) {
                i64 k = kill_works ? sys2(SYS_kill, pid, SIGKILL) : -EPERM;
                if (k == 0) {
                    killed_by_us = 1;
                    kill_time = now;
                } else {
                    say("fuzz: batch %llu %s after %llu calls, and kill(%lld, SIGKILL) returned %lld; left alone\n",
                        (unsigned long long)index, why == STUCK_BLOCKED ? "blocked" : why == STUCK_HUNG ? "hung" :
                        why == STUCK_SPINNING ? "stopped making calls" : "too slow", (unsigned long long)c,
                        (long long)pid, (long long)k);
                    if (why != STUCK_HUNG) print_last_calls("fuzz: its last calls:", 6);
                    abandon((int)pid);
                    stats.abandoned++;
                    failed = 1;
                    break;
                }
            }
        } else if (now - kill_time > 10000) {
            say("fuzz: batch %llu: pid %lld still there 10 s after SIGKILL\n", (unsigned long long)index,
                (long long)pid);
            print_last_calls("fuzz: its last calls:", RING);
            abandon((int)pid);
            stats.abandoned++;
            failed = 1;
            break;
        }
        sleep_ms(1);
    }
    u64 calls = sh->calls;
    i64 took = now_ms() - start;
    struct call slowest = sh->slowest;
    u64 slowest_ms = slowest.cycles / tsc_per_ms;
    if (slowest.state == CALL_DONE && slowest_ms >= opt.slow_ms) {
        char buffer[600];
        struct text t = {buffer, sizeof buffer, 0};
        add(&t, "fuzz: batch %llu: slow call [pid %u]: ", (unsigned long long)index, slowest.pid);
        format_call(&t, &slowest);
        add(&t, "\n");
        write_all(1, buffer, t.used);
        stats.slow_calls++;
    }
    if (slowest.state == CALL_DONE && slowest.cycles > run_slowest.cycles) {
        run_slowest = slowest;
        run_slowest_batch = index;
    }
    if (took > 2000 && (why == STUCK_NONE || why == STUCK_BLOCKED) && opt.verbose >= 1) {
        char prefix[200];
        snprintf(prefix, sizeof prefix, "fuzz: batch %llu took %lld ms for %llu calls; last calls:",
                 (unsigned long long)index, (long long)took, (unsigned long long)calls);
        print_last_calls(prefix, 4);
    }
    if (ended) {
        int signal = status & 0x7f;
        if (killed_by_us) {
            if (why == STUCK_HUNG) stats.hung++;
            else if (why == STUCK_BLOCKED) stats.blocked++;
            else if (why == STUCK_SPINNING) stats.spinning++;
            else stats.slow++;
            if (opt.verbose >= 2 || why == STUCK_SPINNING || why == STUCK_SLOW) {
                char prefix[200];
                snprintf(prefix, sizeof prefix, "fuzz: batch %llu %s after %llu calls; last calls:",
                         (unsigned long long)index,
                         why == STUCK_BLOCKED ? "blocked" : why == STUCK_HUNG ? "hung" :
                         why == STUCK_SPINNING ? "stopped making calls" : "too slow", (unsigned long long)calls);
                print_last_calls(prefix, why == STUCK_BLOCKED ? 2 : 6);
            }
        } else if (signal != 0) {
            stats.killed++;
            if (opt.verbose >= 1) {
                char prefix[200];
                snprintf(prefix, sizeof prefix, "fuzz: batch %llu killed by signal %d after %llu calls; last calls:",
                         (unsigned long long)index, signal, (unsigned long long)calls);
                print_last_calls(prefix, 3);
            }
        } else if (sh->finished) {
            stats.done++;
        } else {
            stats.ended++;
            if (opt.verbose >= 2) {
                char prefix[200];
                snprintf(prefix, sizeof prefix, "fuzz: batch %llu exited with status %d after %llu calls; last calls:",
                         (unsigned long long)index, (status >> 8) & 0xff, (unsigned long long)calls);
                print_last_calls(prefix, 2);
            }
        }
    }
    clean_up("cleanup");
    return calls;
}

/* Whether kill(2) can end another process (a new kernel feature). */
static void test_kill(void) {
    sh->flag = 0;
    i64 pid = spawn();
    if (pid == 0) {
        for (int i = 0; i < 20000 && !sh->flag; i++) sleep_ms(2);
        sys_exit(0);
    }
    if (pid < 0) return;
    i64 r = sys2(SYS_kill, pid, SIGKILL);
    if (r != 0) sh->flag = 1;
    int status = 0;
    i64 w;
    do w = sys4(SYS_wait4, pid, &status, 0, 0);
    while (w == -EINTR);
    kill_works = r == 0 && w == pid && (status & 0x7f) == SIGKILL;
    if (!kill_works)
        say("fuzz: kill(2) of another process is not supported (kill returned %lld, status %#x): "
            "calls that can block forever are avoided (noblock=1)\n", (long long)r, status);
}

/* ------------------------------------------------------------ ELF mode */

#define MAX_FILES 2048
static char names[128 * 1024];
static int name_at[MAX_FILES];
static int file_count;
static char dents[16384];

static int list_directory(const char *dir) {
    i64 fd = sys2(SYS_open, dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return (int)fd;
    size_t used = 0;
    for (;;) {
        i64 n = sys3(SYS_getdents64, fd, dents, sizeof dents);
        if (n <= 0) break;
        for (i64 off = 0; off < n;) {
            unsigned short reclen = *(unsigned short *)(dents + off + 16);
            unsigned char type = *(unsigned char *)(dents + off + 18);
            const char *name = dents + off + 19;
            size_t length = strlen(name);
            if (type != 4 && strcmp(name, ".") && strcmp(name, "..") && file_count < MAX_FILES &&
                used + length + 1 < sizeof names) {
                memcpy(names + used, name, length + 1);
                name_at[file_count++] = (int)used;
                used += length + 1;
            }
            if (reclen == 0) break;
            off += reclen;
        }
    }
    sys1(SYS_close, fd);
    /* sorted, so the order does not depend on the directory */
    for (int i = 1; i < file_count; i++) {
        int v = name_at[i], j = i;
        while (j > 0 && strcmp(names + name_at[j - 1], names + v) > 0) {
            name_at[j] = name_at[j - 1];
            j--;
        }
        name_at[j] = v;
    }
    return file_count;
}

static char elf_path[512];
static void scrub_files(void);

static void __attribute__((noreturn)) elf_child(const char *path) {
    sh->exec_error = 0;
    if (opt.console) sys2(SYS_dup2, 1, TRACE_FD);
    for (int fd = 0; fd < 64; fd++)
        if (fd != TRACE_FD) sys1(SYS_close, fd);
    int fds[2];
    sys2(SYS_pipe2, fds, 0); /* 0, 1 */
    sys1(SYS_close, 1);
    if (opt.console) {
        sys2(SYS_dup2, TRACE_FD, 1);
        sys2(SYS_dup2, TRACE_FD, 2);
        sys1(SYS_close, TRACE_FD);
    } else {
        sys2(SYS_pipe2, fds, 0); /* 1, 2 */
        sys2(SYS_dup2, 2, 1);
        sys2(SYS_dup2, 1, 2);
    }
    u64 act[4] = {1, 0, 0, 0};
    sys4(SYS_rt_sigaction, 13, act, 0, 8);
    const char *argv[] = {path, NULL};
    const char *envp[] = {"HOME=/", NULL};
    i64 r = sys3(SYS_execve, path, argv, envp);
    sh->exec_error = r;
    sys_exit(100);
    for (;;) {}
}

static const char *errno_name(i64 e) {
    switch (e) {
    case 8: return "ENOEXEC";
    case 13: return "EACCES";
    case 2: return "ENOENT";
    case 12: return "ENOMEM";
    case 14: return "EFAULT";
    case 7: return "E2BIG";
    case 22: return "EINVAL";
    case 5: return "EIO";
    case 21: return "EISDIR";
    default: return NULL;
    }
}

static struct {
    u64 files, noexec, other_error, ran, nonzero, signalled, timed_out, lost;
} elf_stats;

static void run_elf_files(void) {
    int n = list_directory(opt.elf_dir);
    if (n < 0) {
        say("fuzz: elf: cannot list %s (%d)\n", opt.elf_dir, n);
        failed = 1;
        return;
    }
    scrub_files();
    struct memcheck base = memcheck();
    for (int i = 0; i < n; i++) {
        const char *name = names + name_at[i];
        snprintf(elf_path, sizeof elf_path, "%s/%s", opt.elf_dir, name);
        sh->exec_error = 0;
        i64 pid = spawn();
        if (pid == 0) elf_child(elf_path);
        if (pid < 0) {
            say("fuzz: elf %s: cannot fork (%lld)\n", name, (long long)pid);
            failed = 1;
            continue;
        }
        elf_stats.files++;
        i64 start = now_ms();
        int status = 0, ended = 0, timed_out = 0;
        for (;;) {
            i64 r = sys4(SYS_wait4, pid, &status, WNOHANG, 0);
            if (r == pid) {
                ended = 1;
                break;
            }
            i64 now = now_ms();
            if (!timed_out && now - start >= (i64)opt.elf_ms) {
                timed_out = 1;
                if (!kill_works || !kill_child(pid)) {
                    say("fuzz: elf %s: still running after %llu ms and cannot be killed; left alone\n", name,
                        (unsigned long long)opt.elf_ms);
                    abandon((int)pid);
                    failed = 1;
                    break;
                }
            }
            if (timed_out && now - start >= (i64)opt.elf_ms + 10000) {
                say("fuzz: elf %s: pid %lld still there 10 s after SIGKILL\n", name, (long long)pid);
                abandon((int)pid);
                failed = 1;
                break;
            }
            sleep_ms(1);
        }
        char outcome[96];
        if (!ended) {
            snprintf(outcome, sizeof outcome, "hang");
            elf_stats.timed_out++;
        } else if (timed_out) {
            snprintf(outcome, sizeof outcome, "timeout (killed)");
            elf_stats.timed_out++;
        } else if ((status & 0x7f) != 0) {
            snprintf(outcome, sizeof outcome, "signal %d", status & 0x7f);
            elf_stats.signalled++;
        } else if (((status >> 8) & 0xff) == 100 && sh->exec_error < 0) {
            const char *e = errno_name(-sh->exec_error);
            if (e) snprintf(outcome, sizeof outcome, "%s", e);
            else snprintf(outcome, sizeof outcome, "errno %lld", (long long)-sh->exec_error);
            if (sh->exec_error == -ENOEXEC) elf_stats.noexec++;
            else elf_stats.other_error++;
        } else {
            snprintf(outcome, sizeof outcome, "exit %d", (status >> 8) & 0xff);
            if (((status >> 8) & 0xff) == 0) elf_stats.ran++;
            else elf_stats.nonzero++;
        }
        clean_up(name);
        scrub_files();
        struct memcheck m = memcheck();
        char leak[128] = "";
        if (m.problems != 0 || m.free_frames != base.free_frames) {
            snprintf(leak, sizeof leak, "; MEMCHECK: problems %ld, free frames %ld -> %ld", m.problems,
                     base.free_frames, m.free_frames);
            elf_stats.lost++;
            failed = 1;
            base = m;
        }
        say("fuzz: elf %s: %s%s\n", name, outcome, leak);
    }
    say("fuzz: elf: %llu files: %llu ENOEXEC, %llu other errors, %llu ran and exited 0, %llu exited non-zero, "
        "%llu killed by a signal, %llu timed out, %llu memcheck failures\n",
        (unsigned long long)elf_stats.files, (unsigned long long)elf_stats.noexec,
        (unsigned long long)elf_stats.other_error, (unsigned long long)elf_stats.ran,
        (unsigned long long)elf_stats.nonzero, (unsigned long long)elf_stats.signalled,
        (unsigned long long)elf_stats.timed_out, (unsigned long long)elf_stats.lost);
}

/* ------------------------------------------------- the file tree */

/* The tree as it was at the start (every path but /proc's), so that what
 * the children create can be deleted before each memcheck. */
#define MAX_SNAPSHOT 4096
static char snapshot_names[96 * 1024];
static int snapshot_at[MAX_SNAPSHOT];
static int snapshot_count;
static size_t snapshot_used;
static char walk_names[48 * 1024]; /* a stack of directory listings */
static size_t walk_top;
static u64 scrub_removed, scrub_failed;

static int snapshot_has(const char *path) {
    int lo = 0, hi = snapshot_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(snapshot_names + snapshot_at[mid], path);
        if (c == 0) return 1;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return 0;
}

/* st_mode's file type, without following a symbolic link; -1 if none. */
static int file_type(const char *path) {
    u64 st[18];
    if (sys4(262, (u64)-100, path, st, 0x100) < 0) return -1;
    return (int)((st[3] & 0xffffffff) & 0170000);
}

/* Pushes the names in directory `path` onto walk_names; returns how many. */
static int list_names(const char *path, size_t *start) {
    *start = walk_top;
    i64 fd = sys2(SYS_open, path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return 0;
    int n = 0;
    for (;;) {
        i64 got = sys3(SYS_getdents64, fd, dents, sizeof dents);
        if (got <= 0) break;
        for (i64 off = 0; off < got;) {
            unsigned short reclen = *(unsigned short *)(dents + off + 16);
            const char *name = dents + off + 19;
            size_t length = strlen(name);
            if (strcmp(name, ".") && strcmp(name, "..") && walk_top + length + 1 < sizeof walk_names) {
                memcpy(walk_names + walk_top, name, length + 1);
                walk_top += length + 1;
                n++;
            }
            if (reclen == 0) break;
            off += reclen;
        }
    }
    sys1(SYS_close, fd);
    return n;
}

static void remove_tree(const char *path, int depth) {
    if (file_type(path) == 0040000 && depth < 24) {
        size_t start;
        int n = list_names(path, &start);
        const char *name = walk_names + start;
        for (int i = 0; i < n; i++, name += strlen(name) + 1) {
            char child[1024];
            if (snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") ? path : "", name) < (int)sizeof child)
                remove_tree(child, depth + 1);
        }
        walk_top = start;
        if (sys3(263, (u64)-100, path, 0x200) == 0) scrub_removed++;
        else scrub_failed++;
    } else {
        if (sys3(263, (u64)-100, path, 0) == 0) scrub_removed++;
        else scrub_failed++;
    }
}

enum { WALK_SNAPSHOT, WALK_SCRUB };

static void walk(const char *path, int mode, int depth) {
    if (depth > 24) return;
    size_t start;
    int n = list_names(path, &start);
    const char *name = walk_names + start;
    for (int i = 0; i < n; i++, name += strlen(name) + 1) {
        char child[1024];
        if (snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") ? path : "", name) >= (int)sizeof child) continue;
        if (strcmp(child, "/proc") == 0) continue;
        if (mode == WALK_SNAPSHOT) {
            size_t length = strlen(child);
            if (snapshot_count < MAX_SNAPSHOT && snapshot_used + length + 1 < sizeof snapshot_names) {
                memcpy(snapshot_names + snapshot_used, child, length + 1);
                snapshot_at[snapshot_count++] = (int)snapshot_used;
                snapshot_used += length + 1;
            }
        } else if (!snapshot_has(child)) {
            remove_tree(child, depth + 1);
            continue;
        }
        if (file_type(child) == 0040000) walk(child, mode, depth + 1);
    }
    walk_top = start;
}

static void take_snapshot(void) {
    snapshot_count = 0;
    snapshot_used = 0;
    walk("/", WALK_SNAPSHOT, 0);
    for (int i = 1; i < snapshot_count; i++) { /* sorted, for snapshot_has */
        int v = snapshot_at[i], j = i;
        while (j > 0 && strcmp(snapshot_names + snapshot_at[j - 1], snapshot_names + v) > 0) {
            snapshot_at[j] = snapshot_at[j - 1];
            j--;
        }
        snapshot_at[j] = v;
    }
}

/* Deletes what the children made; every process but init must be gone. */
static void scrub_files(void) {
    walk("/", WALK_SCRUB, 0);
}

/* ---------------------------------------------------------------- main */

static void usage(void) {
    say("usage: fuzz seed=N calls=N [batch=N] [squeeze=0|1|KIB] [elf=DIR] [only=N] [trace=1] [check=N]\n"
        "            [noblock=1] [verbose=0|1|2] [console=1] [batchms=N] [stallms=N] [hangms=N] [elfms=N]\n");
}

int main(int argc, char **argv) {
    if (sys0(SYS_getpid) != 1) {
        /* a fuzzing child exec'd us: never fuzz from inside the fuzzer */
        if (argc > 1) say("fuzz: must run as init (pid 1): init=/bin/fuzz -- ARGS\n");
        return argc > 1 ? 2 : 0;
    }
    for (int i = 1; i < argc; i++) {
        if (!parse_argument(argv[i])) {
            say("fuzz: unknown argument \"%s\"\n", argv[i]);
            usage();
            return 2;
        }
    }
    if (opt.batch == 0) opt.batch = 1;
    if (opt.only_set) opt.trace = 1;
    squeeze_kib = opt.squeeze == 1 ? 1024 : opt.squeeze;
    build_table();
    if (strcmp(path_list[FIRST_SCRATCH], "fz-a") || strcmp(path_list[FIRST_SCRATCH + SCRATCH_PATHS], "/proc/memcheck")) {
        say("fuzz: FIRST_SCRATCH or SCRATCH_PATHS is wrong\n");
        return 1;
    }

    i64 shared = sys6(SYS_mmap, 0, (sizeof(struct shared) + PAGE - 1) & ~(PAGE - 1), 3, 0x21, (u64)-1, 0);
    if (shared < 0) {
        say("fuzz: cannot map shared memory (%lld)\n", (long long)shared);
        return 1;
    }
    sh = (struct shared *)shared;
    memset(sh, 0, sizeof *sh);
    prefault();
    {
        i64 t0 = now_ms();
        u64 c0 = rdtsc();
        sleep_ms(50);
        i64 t1 = now_ms();
        u64 c1 = rdtsc();
        if (t1 > t0) tsc_per_ms = (c1 - c0) / (u64)(t1 - t0);
        if (tsc_per_ms == 0) tsc_per_ms = 1;
    }
    test_kill();
    if (!kill_works && !opt.noblock_set) opt.noblock = 1;
    clean_up("start");

    take_snapshot();
    struct memcheck before = memcheck();
    say("fuzz: seed %llu, %llu calls in batches of %llu, %s%s; memcheck: free_frames %ld, problems %ld, "
        "kernel_objects %ld\n",
        (unsigned long long)opt.seed, (unsigned long long)opt.calls, (unsigned long long)opt.batch,
        opt.noblock ? "no blocking calls" : "blocking calls allowed", squeeze_kib ? ", memory squeezed" : "",
        before.free_frames, before.problems, before.kernel_objects);
    if (before.problems != 0) failed = 1;

    i64 started = now_ms();
    if (squeeze_kib) start_holder();
    if (opt.elf_dir) run_elf_files();

    scrub_files();
    struct memcheck mark = memcheck();
    u64 batches_since_check = 0, first_unchecked = 0;
    u64 index = opt.only_set ? opt.only : 0;
    u64 report_every = opt.calls / 10 ? opt.calls / 10 : 1, next_report = report_every;
    u64 fruitless = 0;
    while (opt.only_set || stats.calls < opt.calls) {
        if (squeeze_kib && fruitless >= 5) {
            /* children die before their first call: leave them more room */
            squeeze_kib += squeeze_kib / 2;
            say("fuzz: squeeze: %llu batches in a row made no call; MemFree target now %llu KiB\n",
                (unsigned long long)fruitless, (unsigned long long)squeeze_kib);
            stop_holder();
            fruitless = 0;
        }
        if (fruitless >= 200) {
            say("fuzz: 200 batches in a row made no call; giving up\n");
            failed = 1;
            break;
        }
        if (squeeze_kib && holder_pid < 0) {
            start_holder();
            scrub_files();
            mark = memcheck();
            first_unchecked = index;
            batches_since_check = 0;
        }
        if (index >= opt.trace_from) opt.trace = 1;
        u64 made = run_batch(index);
        stats.calls += made;
        fruitless = made ? 0 : fruitless + 1;
        index++;
        batches_since_check++;
        if (opt.only_set) break;
        if (opt.check && batches_since_check >= opt.check) {
            scrub_files();
            struct memcheck m = memcheck();
            if (holder_pid >= 0 || !squeeze_kib) {
                if (m.problems != 0 || m.free_frames != mark.free_frames) {
                    say("fuzz: MEMCHECK after batches %llu..%llu: problems %ld, free frames %ld -> %ld (%+ld), "
                        "kernel objects %ld -> %ld\n",
                        (unsigned long long)first_unchecked, (unsigned long long)index - 1, m.problems,
                        mark.free_frames, m.free_frames, m.free_frames - mark.free_frames, mark.kernel_objects,
                        m.kernel_objects);
                    failed = 1;
                }
            }
            mark = m;
            first_unchecked = index;
            batches_since_check = 0;
        }
        if (stats.calls >= next_report && !opt.only_set) {
            say("fuzz: %llu calls, %llu batches, %lld s\n", (unsigned long long)stats.calls,
                (unsigned long long)stats.batches, (long long)(now_ms() - started) / 1000);
            while (next_report <= stats.calls) next_report += report_every;
        }
    }
    stop_holder();
    clean_up("end");
    scrub_files();
    struct memcheck after = memcheck();
    if (after.problems != 0 || after.free_frames != before.free_frames) failed = 1;
    if (stats.hung || stats.abandoned || stats.stray) failed = 1;
    if (run_slowest.state == CALL_DONE) {
        char buffer[600];
        struct text t = {buffer, sizeof buffer, 0};
        add(&t, "fuzz: slowest call that cannot block: batch %llu [pid %u] ", (unsigned long long)run_slowest_batch,
            run_slowest.pid);
        format_call(&t, &run_slowest);
        add(&t, "; %llu calls took over %llu ms\n", (unsigned long long)stats.slow_calls,
            (unsigned long long)opt.slow_ms);
        write_all(1, buffer, t.used);
    }
    say("fuzz: files: %llu paths the children made were removed, %llu could not be\n",
        (unsigned long long)scrub_removed, (unsigned long long)scrub_failed);
    char elf_part[128] = "";
    if (opt.elf_dir)
        snprintf(elf_part, sizeof elf_part, "; elf %llu files (%llu ENOEXEC, %llu ran, %llu killed, %llu timed out)",
                 (unsigned long long)elf_stats.files, (unsigned long long)elf_stats.noexec,
                 (unsigned long long)(elf_stats.ran + elf_stats.nonzero), (unsigned long long)elf_stats.signalled,
                 (unsigned long long)elf_stats.timed_out);
    say("fuzz: seed %llu: %llu calls in %llu batches (%llu completed, %llu exited early, %llu killed by a signal, "
        "%llu blocked, %llu slow, %llu stopped calling), %llu hung, %llu unkillable%s, free frames %ld -> %ld, "
        "kernel objects %ld -> %ld, problems %ld, %lld s: %s\n",
        (unsigned long long)opt.seed, (unsigned long long)stats.calls, (unsigned long long)stats.batches,
        (unsigned long long)stats.done, (unsigned long long)stats.ended, (unsigned long long)stats.killed,
        (unsigned long long)stats.blocked, (unsigned long long)stats.slow, (unsigned long long)stats.spinning,
        (unsigned long long)stats.hung, (unsigned long long)(stats.abandoned + stats.stray), elf_part,
        before.free_frames, after.free_frames, before.kernel_objects, after.kernel_objects, after.problems,
        (long long)(now_ms() - started) / 1000, failed ? "FAILED" : "ok");
    return failed ? 1 : 0;
}
