/* /proc/self/pagemap, /proc/kpageflags and /proc/kpagecount, as Linux has
 * them, watched around a fork and a write: an untouched page is absent, a
 * read maps the zero page, a write gives the page a frame of its own
 * (anonymous, mapped once, exclusive), a fork shares that frame with the
 * child (mapped twice, exclusive in neither), and the child's write moves
 * the child to another frame (anonymous, exclusive) and leaves the
 * parent's exclusive again. A page of a mapped file is a file page on an
 * LRU list; an unmapped page reads as 0; reads must be whole entries.
 *
 * The same binary runs on Linux as root (frame numbers are shown to
 * CAP_SYS_ADMIN only). Prints "ok NAME" or "FAIL NAME: ..." per check,
 * then "pagemap: N checks" and "pagemap: N failed"; exits 0 only if all
 * passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

/* Documentation/admin-guide/mm/pagemap.rst */
#define PM_PFN(e) ((e) & ((1ULL << 55) - 1))
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_FILE (1ULL << 61)
#define PM_SWAP (1ULL << 62)
#define PM_PRESENT (1ULL << 63)

/* include/uapi/linux/kernel-page-flags.h */
#define KPF_LRU 5
#define KPF_BUDDY 10
#define KPF_MMAP 11
#define KPF_ANON 12
#define KPF_NOPAGE 20
#define KPF_ZERO_PAGE 24
#define KPF(n) (1ULL << (n))

static int failures, checks;
static int pagemap_fd, flags_fd, count_fd;

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

/* The u64 at entry `index` of `fd`, or ~0 if it cannot be read. */
static uint64_t entry(int fd, uint64_t index) {
    uint64_t value;
    if (pread(fd, &value, 8, (off_t)(index * 8)) != 8) return ~0ULL;
    return value;
}

static uint64_t page_entry(const void *address) {
    return entry(pagemap_fd, (uintptr_t)address / PAGE);
}

static uint64_t page_flags(uint64_t pfn) { return entry(flags_fd, pfn); }
static uint64_t page_count(uint64_t pfn) { return entry(count_fd, pfn); }

static int open_or_die(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("FAIL open-%s: %s\npagemap: 1 failed\n", path, strerror(errno));
        exit(1);
    }
    return fd;
}

/* The child's half of the fork: its view of the shared page, before and after writing it. */
static int child(volatile char *page, uint64_t parent_pfn) {
    /* The descriptor inherited shows the parent's pages: pagemap is of the process that opened it. */
    uint64_t parents = page_entry((const void *)page);
    close(pagemap_fd);
    pagemap_fd = open_or_die("/proc/self/pagemap");
    check("inherited-pagemap-is-parents", PM_PFN(parents) == parent_pfn, "entry %#llx", (unsigned long long)parents);
    uint64_t before = page_entry((const void *)page);
    check("child-shares-parents-frame", (before & PM_PRESENT) && PM_PFN(before) == parent_pfn,
          "entry %#llx, parent's frame %#llx", (unsigned long long)before, (unsigned long long)parent_pfn);
    check("child-shared-not-exclusive", !(before & PM_EXCLUSIVE), "entry %#llx", (unsigned long long)before);
    check("shared-frame-mapped-twice", page_count(parent_pfn) == 2, "kpagecount %llu",
          (unsigned long long)page_count(parent_pfn));
    page[0] = 'c';
    uint64_t after = page_entry((const void *)page);
    uint64_t pfn = PM_PFN(after);
    check("child-write-moves-to-new-frame", (after & PM_PRESENT) && pfn != parent_pfn && pfn != 0,
          "entry %#llx, parent's frame %#llx", (unsigned long long)after, (unsigned long long)parent_pfn);
    check("child-copy-exclusive", (after & PM_EXCLUSIVE) && !(after & PM_FILE), "entry %#llx", (unsigned long long)after);
    uint64_t flags = page_flags(pfn);
    check("child-copy-anonymous-mapped", (flags & KPF(KPF_ANON)) && (flags & KPF(KPF_MMAP)), "kpageflags %#llx",
          (unsigned long long)flags);
    check("child-copy-mapped-once", page_count(pfn) == 1, "kpagecount %llu", (unsigned long long)page_count(pfn));
    check("parents-frame-mapped-once-again", page_count(parent_pfn) == 1, "kpagecount %llu",
          (unsigned long long)page_count(parent_pfn));
    return failures;
}

int main(void) {
    pagemap_fd = open_or_die("/proc/self/pagemap");
    flags_fd = open_or_die("/proc/kpageflags");
    count_fd = open_or_die("/proc/kpagecount");
    setvbuf(stdout, NULL, _IONBF, 0); /* the child prints too */

    /* Whole entries only. */
    uint64_t word;
    errno = 0;
    check("read-of-part-entry-einval", pread(pagemap_fd, &word, 4, 0) == -1 && errno == EINVAL, "errno %d", errno);
    errno = 0;
    check("unaligned-offset-einval", pread(flags_fd, &word, 8, 4) == -1 && errno == EINVAL, "errno %d", errno);
    check("kpageflags-ends-at-ram", pread(flags_fd, &word, 8, (off_t)1 << 40) == 0, "read past the end");

    volatile char *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    check("untouched-page-absent", page_entry((const void *)page) == 0, "entry %#llx",
          (unsigned long long)page_entry((const void *)page));

    (void)page[0];
    uint64_t zero = page_entry((const void *)page);
    uint64_t zero_flags = page_flags(PM_PFN(zero));
    check("read-maps-zero-page", (zero & PM_PRESENT) && (zero_flags & KPF(KPF_ZERO_PAGE)), "entry %#llx, kpageflags %#llx",
          (unsigned long long)zero, (unsigned long long)zero_flags);
    check("zero-page-neither-exclusive-nor-file", !(zero & (PM_EXCLUSIVE | PM_FILE | PM_SWAP)), "entry %#llx",
          (unsigned long long)zero);

    page[0] = 'p';
    uint64_t own = page_entry((const void *)page);
    uint64_t pfn = PM_PFN(own);
    check("write-gives-own-frame", (own & PM_PRESENT) && pfn != PM_PFN(zero) && pfn != 0, "entry %#llx",
          (unsigned long long)own);
    check("own-frame-exclusive", (own & PM_EXCLUSIVE) && !(own & PM_FILE), "entry %#llx", (unsigned long long)own);
    uint64_t flags = page_flags(pfn);
    check("own-frame-anonymous-mapped", (flags & KPF(KPF_ANON)) && (flags & KPF(KPF_MMAP)) &&
          !(flags & KPF(KPF_BUDDY)) && !(flags & KPF(KPF_NOPAGE)), "kpageflags %#llx", (unsigned long long)flags);
    check("own-frame-mapped-once", page_count(pfn) == 1, "kpagecount %llu", (unsigned long long)page_count(pfn));

    pid_t pid = fork();
    if (pid == 0) _exit(child(page, pfn));
    int status = 0;
    waitpid(pid, &status, 0);
    check("child-checks-passed", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    if (WIFEXITED(status)) failures += WEXITSTATUS(status); /* the child's checks count here too */
    uint64_t kept = page_entry((const void *)page);
    check("parent-keeps-its-frame", PM_PFN(kept) == pfn && page[0] == 'p', "entry %#llx", (unsigned long long)kept);
    check("parent-exclusive-again", (kept & PM_EXCLUSIVE) != 0, "entry %#llx", (unsigned long long)kept);

    /* A page of a mapped file: this program's own first page. */
    int exe = open("/proc/self/exe", O_RDONLY);
    const volatile char *file = exe < 0 ? MAP_FAILED : mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, exe, 0);
    if (file != MAP_FAILED) {
        (void)file[0];
        uint64_t e = page_entry((const void *)file);
        uint64_t f = page_flags(PM_PFN(e));
        check("file-page-present-file", (e & PM_PRESENT) && (e & PM_FILE), "entry %#llx", (unsigned long long)e);
        check("file-page-lru-not-anonymous", (f & KPF(KPF_LRU)) && (f & KPF(KPF_MMAP)) && !(f & KPF(KPF_ANON)),
              "kpageflags %#llx", (unsigned long long)f);
    } else {
        check("file-page-mapped", 0, "%s", strerror(errno));
    }

    munmap((void *)page, PAGE);
    check("unmapped-page-zero", page_entry((const void *)page) == 0, "entry %#llx",
          (unsigned long long)page_entry((const void *)page));
    check("null-page-zero", entry(pagemap_fd, 0) == 0, "entry %#llx", (unsigned long long)entry(pagemap_fd, 0));

    printf("pagemap: %d checks\npagemap: %d failed\n", checks, failures);
    return failures != 0;
}
