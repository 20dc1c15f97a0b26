/* Swap areas through swapon(2) and swapoff(2), with Linux's errnos and
 * /proc files. `swapareas` expects what tests/integration/swapon.test.ts
 * attaches: /dev/vda with four partitions made by Debian's mkswap (vda1 a
 * good 4 MiB area, vda2 a 2 MiB one whose header lists bad pages 5, 6 and
 * 7, vda3 with a wrong magic, vda4 holding the header of a 2 MiB area in
 * 1 MiB), /dev/vdb an empty ext2 file system of 4 KiB blocks, /dev/vdc one
 * of 1 KiB blocks, and in the initramfs
 * /swap/file.tmpl and /swap/small.tmpl (mkswap'd files of 512 and 10
 * pages). Swap files are made on the ext2 the way `dd` then `mkswap`
 * would: every page written. Checks: a partition and a file in use, in
 * /proc/swaps (Linux's exact text) and /proc/meminfo; priorities given and
 * numbered (-2, -3, renumbered by swapoff as Linux does); EBUSY by another
 * path or device node, and between swap and mount; writes, truncation and fallocate of an active area
 * ETXTBSY; refusals (wrong magic and version, truncated partition and
 * file, holes, bad pages on a file or past the end, tmpfs, a character
 * device, unknown flags, all 32 areas taken: EPERM before the path is
 * looked at); swapoff of what is no area; swapoff then swapon again.
 * On /dev/vdc a swap file is put in use and its size printed
 * ("1k-blocks-kib N"), for the test to compare with the blocks debugfs
 * finds in order on the disk. `swapareas boot` checks that the kernel's
 * swap=/dev/vda1 put vda1 in use; `swapareas fill` (below) pages memory
 * out to an area and back.
 * Prints "ok NAME" / "FAIL NAME" and "swapareas: N failed". (Named so as
 * not to shadow busybox's swapon applet.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PAGE 4096
#define MAX_AREAS 32
#ifndef SWAP_FLAG_DISCARD
#define SWAP_FLAG_DISCARD 0x10000
#endif

static int fails;

static void check(const char *name, int ok, long got) {
  printf("%s %s (%ld)\n", ok ? "ok" : "FAIL", name, got);
  if (!ok) fails++;
}

/* Whether `call` failed with `expected`; the errno it gave goes in the report. */
#define EXPECT_ERRNO(name, call, expected) \
  do { errno = 0; long r_ = (long)(call); check(name, r_ == -1 && errno == (expected), r_ == -1 ? errno : r_); } while (0)
#define EXPECT_OK(name, call) \
  do { errno = 0; long r_ = (long)(call); check(name, r_ == 0, r_ == -1 ? errno : r_); } while (0)

static char text[16384];

static const char *read_file(const char *path) {
  int fd = open(path, O_RDONLY);
  long n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
  if (fd >= 0) close(fd);
  text[n > 0 ? n : 0] = 0;
  return text;
}

/* One line of /proc/swaps as Linux's swap_show writes it. */
static int swaps_line(char *into, size_t room, const char *path, int partition, long kib, long used, int priority) {
  int length = (int)strlen(path);
  return snprintf(into, room, "%s%*s%s\t%ld\t%s%ld\t%s%d\n", path, length < 40 ? 40 - length : 1, " ",
                  partition ? "partition" : "file\t", kib, kib < 10000000 ? "\t" : "", used, used < 10000000 ? "\t" : "",
                  priority);
}

static const char SWAPS_HEADER[] = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

/* /proc/swaps is exactly the header and these lines (path, partition, KiB, priority; nothing in use), in this order. */
static void expect_swaps(const char *name, int count, const char **paths, const int *partition, const long *kib, const int *priority) {
  static char expected[8192];
  size_t n = snprintf(expected, sizeof expected, "%s", SWAPS_HEADER);
  for (int i = 0; i < count; i++) n += swaps_line(expected + n, sizeof expected - n, paths[i], partition[i], kib[i], 0, priority[i]);
  const char *seen = read_file("/proc/swaps");
  int same = strcmp(seen, expected) == 0;
  check(name, same, count);
  if (!same) printf("--- /proc/swaps:\n%s--- expected:\n%s---\n", seen, expected);
}

/* The number after "NAME:" in /proc/meminfo, its place in the text in *at; -1 if missing. */
static long meminfo_field(const char *name, long *at) {
  const char *all = read_file("/proc/meminfo");
  char key[64];
  snprintf(key, sizeof key, "\n%s:", name);
  const char *found = strstr(all, key);
  if (found == NULL) return -1;
  if (at) *at = found - all;
  return atol(found + strlen(key));
}

/* A copy of `from` at `to`, every page written (zeros too, so the file system gives each its blocks), then fsynced. */
static int copy_file(const char *from, const char *to, long pages) {
  static char page[PAGE];
  int in = open(from, O_RDONLY), out = open(to, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  int ok = in >= 0 && out >= 0;
  for (long i = 0; ok && i < pages; i++) {
    memset(page, 0, sizeof page);
    if (read(in, page, sizeof page) < 0 || write(out, page, sizeof page) != sizeof page) ok = 0;
  }
  if (ok && fsync(out) != 0) ok = 0;
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return ok;
}

/* Changes the 32-bit word at `offset` of file `path`. */
static int poke(const char *path, off_t offset, unsigned value) {
  int fd = open(path, O_WRONLY);
  int ok = fd >= 0 && pwrite(fd, &value, 4, offset) == 4 && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

/* Header fields (mkswap's union swap_header, info at 1024). */
#define VERSION_AT 1024
#define LAST_PAGE_AT 1028
#define BAD_PAGES_AT 1032
#define BAD_LIST_AT 1536

static void refusals(void) {
  EXPECT_ERRNO("wrong-magic", swapon("/dev/vda3", 0), EINVAL);
  EXPECT_ERRNO("truncated-partition", swapon("/dev/vda4", 0), EINVAL);
  check("make-truncated-file", copy_file("/swap/file.tmpl", "/mnt/truncated", 256), 0); /* the header says 512 pages */
  EXPECT_ERRNO("truncated-file", swapon("/mnt/truncated", 0), EINVAL);

  int fd = open("/mnt/holes", O_CREAT | O_WRONLY | O_TRUNC, 0600);
  static char header[PAGE];
  int in = open("/swap/file.tmpl", O_RDONLY);
  check("make-hole-file", fd >= 0 && read(in, header, PAGE) == PAGE && write(fd, header, PAGE) == PAGE &&
        ftruncate(fd, 512L * PAGE) == 0 && fsync(fd) == 0, errno);
  close(in);
  close(fd);
  EXPECT_ERRNO("file-all-holes", swapon("/mnt/holes", 0), EINVAL);
  /* Every page written but one in the middle. */
  check("make-one-hole", copy_file("/swap/file.tmpl", "/mnt/onehole", 200), 0);
  fd = open("/mnt/onehole", O_WRONLY);
  static char zeros[PAGE];
  check("fill-after-hole", fd >= 0 && pwrite(fd, zeros, PAGE, 511L * PAGE) == PAGE && fsync(fd) == 0, errno);
  for (long p = 201; fd >= 0 && p < 511; p++) pwrite(fd, zeros, PAGE, p * PAGE);
  if (fd >= 0) { fsync(fd); close(fd); }
  EXPECT_ERRNO("file-one-hole", swapon("/mnt/onehole", 0), EINVAL);
  check("hole-file-still-writable", poke("/mnt/onehole", 8192, 1), 0); /* the refused swapon let go of it */

  check("make-version2", copy_file("/swap/file.tmpl", "/mnt/version2", 512) && poke("/mnt/version2", VERSION_AT, 2), 0);
  EXPECT_ERRNO("wrong-version", swapon("/mnt/version2", 0), EINVAL);
  check("make-swapped-version", copy_file("/swap/file.tmpl", "/mnt/swapped", 512) &&
        poke("/mnt/swapped", VERSION_AT, 0x01000000) && poke("/mnt/swapped", LAST_PAGE_AT, __builtin_bswap32(511)), 0);
  EXPECT_OK("other-byte-order", swapon("/mnt/swapped", 0)); /* a header of the other byte order, as Linux takes it */
  EXPECT_OK("other-byte-order-off", swapoff("/mnt/swapped"));
  check("make-bad-file", copy_file("/swap/file.tmpl", "/mnt/badfile", 512) && poke("/mnt/badfile", BAD_PAGES_AT, 1) &&
        poke("/mnt/badfile", BAD_LIST_AT, 9), 0);
  EXPECT_ERRNO("bad-pages-on-a-file", swapon("/mnt/badfile", 0), EINVAL);
  check("make-empty-header", copy_file("/swap/file.tmpl", "/mnt/empty", 512) && poke("/mnt/empty", LAST_PAGE_AT, 0), 0);
  EXPECT_ERRNO("no-page-after-header", swapon("/mnt/empty", 0), EINVAL);

  EXPECT_ERRNO("tmpfs-file", swapon("/swap/file.tmpl", 0), EINVAL);
  EXPECT_ERRNO("character-device", swapon("/dev/null", 0), EINVAL);
  EXPECT_ERRNO("directory", swapon("/mnt", 0), EISDIR);
  EXPECT_ERRNO("missing", swapon("/mnt/missing", 0), ENOENT);
  EXPECT_ERRNO("not-a-directory", swapon("/mnt/swapfile/x", 0), ENOTDIR);
  EXPECT_ERRNO("unknown-flag", swapon("/dev/vda1", 0x80000), EINVAL);
  EXPECT_ERRNO("swapoff-not-an-area", swapoff("/dev/vda3"), EINVAL);
  EXPECT_ERRNO("swapoff-file-not-an-area", swapoff("/mnt/holes"), EINVAL);
  EXPECT_ERRNO("swapoff-directory", swapoff("/mnt"), EISDIR);
  EXPECT_ERRNO("swapoff-missing", swapoff("/mnt/missing"), ENOENT);
}

/* While /mnt/swapfile is an area: writes, truncation and fallocate are ETXTBSY (opening it for writing is not). */
static void busy_file(void) {
  int fd = open("/mnt/swapfile", O_RDWR);
  check("open-active-file-rdwr", fd >= 0, errno);
  EXPECT_ERRNO("write-active-file", write(fd, "x", 1), ETXTBSY);
  EXPECT_ERRNO("pwrite-active-file", pwrite(fd, "x", 1, 8192), ETXTBSY);
  EXPECT_ERRNO("ftruncate-active-file", ftruncate(fd, PAGE), ETXTBSY);
  EXPECT_ERRNO("fallocate-active-file", fallocate(fd, 0, 0, 2 * 1024 * 1024 + PAGE), ETXTBSY);
  close(fd);
  EXPECT_ERRNO("truncate-active-file", truncate("/mnt/swapfile", 0), ETXTBSY);
  EXPECT_ERRNO("open-trunc-active-file", open("/mnt/swapfile", O_WRONLY | O_TRUNC), ETXTBSY);
  fd = open("/dev/vda1", O_WRONLY);
  EXPECT_ERRNO("write-active-partition", write(fd, "x", 1), ETXTBSY);
  close(fd);
  struct stat st;
  check("active-file-size-kept", stat("/mnt/swapfile", &st) == 0 && st.st_size == 512L * PAGE, (long)st.st_size);
}

static void meminfo(long total_kib) {
  long cached_at = -1, swap_cached_at = -1, total_at = -1, free_at = -1, dirty_at = -1;
  meminfo_field("Cached", &cached_at);
  long swap_cached = meminfo_field("SwapCached", &swap_cached_at);
  long total = meminfo_field("SwapTotal", &total_at);
  long free_kib = meminfo_field("SwapFree", &free_at);
  meminfo_field("Dirty", &dirty_at);
  check("meminfo-swap-total", total == total_kib, total);
  check("meminfo-swap-free", free_kib == total_kib, free_kib);
  check("meminfo-swap-cached", swap_cached == 0, swap_cached);
  check("meminfo-linux-order", cached_at >= 0 && cached_at < swap_cached_at && swap_cached_at < total_at && total_at < free_at &&
        free_at < dirty_at, swap_cached_at);
}

/*
 * Names in /proc/swaps are escaped as Linux's seq_file_path escapes them
 * (a space, tab, newline or backslash as \ooo), and a file unlinked while
 * in use is shown " (deleted)", escaped too, and is swapped off through
 * a descriptor's /proc/self/fd link.
 */
static void names_escaped(void) {
  check("make-spaced-name", copy_file("/swap/small.tmpl", "/mnt/a b\\c", 10), 0);
  EXPECT_OK("swapon-spaced-name", swapon("/mnt/a b\\c", 0));
  {
    const char *paths[] = {"/mnt/a\\040b\\134c"};
    int partition[] = {0};
    long kib[] = {36};
    int priority[] = {-2};
    expect_swaps("names-escaped", 1, paths, partition, kib, priority);
  }
  check("make-doomed", copy_file("/swap/small.tmpl", "/mnt/doomed", 10), 0);
  EXPECT_OK("swapon-doomed", swapon("/mnt/doomed", 0));
  int fd = open("/mnt/doomed", O_RDONLY);
  check("unlink-active-file", fd >= 0 && unlink("/mnt/doomed") == 0, errno);
  /* Linux shows /mnt/doomed\040(deleted); here an unlinked ext2 file's path loses its directory (fs/names.ts). */
  const char *swaps = read_file("/proc/swaps");
  check("deleted-name", strstr(swaps, "doomed\\040(deleted) ") != NULL && strstr(swaps, " file\t\t36\t\t0\t\t-3\n") != NULL, 0);
  EXPECT_ERRNO("swapoff-unlinked-by-name", swapoff("/mnt/doomed"), ENOENT);
  /* Still reachable through a descriptor's /proc link, which leads to the file itself (as on Linux). */
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  EXPECT_OK("swapoff-unlinked-by-fd-link", swapoff(link));
  close(fd);
  EXPECT_OK("swapoff-spaced-name", swapoff("/mnt/a b\\c"));
}

/* Fills every one of the 32 areas: vda1 and the file are in use; 30 small files more. */
static void all_areas_taken(int in_use) {
  char path[64];
  int made = 0;
  for (int i = 0; i < MAX_AREAS - in_use; i++) {
    snprintf(path, sizeof path, "/mnt/small%d", i);
    if (copy_file("/swap/small.tmpl", path, 10) && swapon(path, 0) == 0) made++;
  }
  check("thirty-two-areas", made == MAX_AREAS - in_use, made);
  check("make-extra", copy_file("/swap/small.tmpl", "/mnt/extra", 10), 0);
  EXPECT_ERRNO("thirty-third-area", swapon("/mnt/extra", 0), EPERM);
  EXPECT_ERRNO("full-before-path", swapon("/mnt/missing", 0), EPERM); /* as Linux: the record is taken first */
  EXPECT_ERRNO("full-flags-first", swapon("/mnt/extra", 0x80000), EINVAL);
  long total = meminfo_field("SwapTotal", NULL);
  check("meminfo-thirty-two", total == 4092 + 2044 + (MAX_AREAS - in_use) * 36L, total);
  int off = 0;
  for (int i = 0; i < MAX_AREAS - in_use; i++) {
    snprintf(path, sizeof path, "/mnt/small%d", i);
    if (swapoff(path) == 0) off++;
  }
  check("thirty-off", off == MAX_AREAS - in_use, off);
  EXPECT_OK("extra-after-one-freed", swapon("/mnt/extra", 0));
  EXPECT_OK("extra-off", swapoff("/mnt/extra"));
}

/* A swap file on 1 KiB blocks: its pages' blocks in order on the disk become slots; how many depends on the layout. */
static void small_blocks(void) {
  mkdir("/mnt1k", 0755);
  EXPECT_OK("mount-1k-blocks", mount("/dev/vdc", "/mnt1k", "ext2", 0, NULL));
  check("make-1k-swapfile", copy_file("/swap/file.tmpl", "/mnt1k/swapfile", 512), 0);
  EXPECT_OK("swapon-1k-blocks", swapon("/mnt1k/swapfile", 0));
  const char *swaps = read_file("/proc/swaps");
  const char *at = strstr(swaps, "/mnt1k/swapfile ");
  long kib = at ? strtol(strstr(at, "file\t\t") + 6, NULL, 10) : -1;
  printf("1k-blocks-kib %ld\n", kib);
  check("1k-blocks-size", kib > 0 && kib <= 2044, kib);
  EXPECT_OK("swapoff-1k-blocks", swapoff("/mnt1k/swapfile"));
  EXPECT_OK("umount-1k-blocks", umount("/mnt1k"));
}

/* A vmstat counter ("pswpout"), or -1. */
static long vmstat_counter(const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\n%s ", name);
  const char *at = strstr(read_file("/proc/vmstat"), key);
  return at ? atol(at + strlen(key)) : -1;
}

#define STRIDE 64 /* words: one in each 512-byte stretch */
static uint64_t pattern(size_t i) { return i * 0x9e3779b97f4a7c15ull + 1; }

/*
 * `swapareas fill MIB AREA [DEVICE]`: MIB of anonymous memory (more than
 * RAM) written and read back forwards and backwards, so that it goes out
 * to swap and comes back: to AREA, which swap= put in use, or, with
 * DEVICE, a swap file in DEVICE's ext2 put in use here. Every word checked must be right; pages must have
 * gone out and come in; swapoff is ENOMEM while the memory is held, and
 * succeeds once it is unmapped.
 */
static int fill(int argc, char **argv) {
  size_t bytes = (size_t)atol(argv[2]) << 20;
  const char *area = argv[3];
  if (argc > 4) {
    mkdir("/mnt", 0755);
    EXPECT_OK("fill-mount", mount(argv[4], "/mnt", "ext2", 0, NULL));
    EXPECT_OK("fill-swapon", swapon(area, 0));
  }
  uint64_t *words = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check("fill-mmap-past-ram", words != MAP_FAILED, errno); /* the overcommit guess counts swap too */
  if (words == MAP_FAILED) return 1;
  size_t count = bytes / 8;
  for (size_t i = 0; i < count; i += STRIDE) words[i] = pattern(i);
  long wrong = 0;
  for (size_t i = 0; i < count; i += STRIDE) wrong += words[i] != pattern(i);
  for (size_t i = count; i >= STRIDE; i -= STRIDE) wrong += words[i - STRIDE] != pattern(i - STRIDE);
  check("fill-every-word-right", wrong == 0, wrong);
  long out = vmstat_counter("pswpout"), in = vmstat_counter("pswpin");
  printf("fill: pswpout %ld pswpin %ld\n", out, in);
  check("fill-pages-went-out", out > 0, out);
  check("fill-pages-came-in", in > 0, in);
  EXPECT_ERRNO("fill-swapoff-while-held", swapoff(area), ENOMEM);
  check("fill-munmap", munmap(words, bytes) == 0, errno);
  EXPECT_OK("fill-swapoff", swapoff(area));
  if (argc > 4) EXPECT_OK("fill-umount", umount("/mnt"));
  printf("swapareas: %d failed\n", fails);
  return fails != 0;
}

static int boot_check(void) {
  const char *paths[] = {"/dev/vda1"};
  int partition[] = {1};
  long kib[] = {4092};
  int priority[] = {-2};
  expect_swaps("boot-swap-in-use", 1, paths, partition, kib, priority);
  EXPECT_OK("boot-swapoff", swapoff("/dev/vda1"));
  printf("swapareas: %d failed\n", fails);
  return fails != 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "boot") == 0) return boot_check();
  if (argc > 3 && strcmp(argv[1], "fill") == 0) return fill(argc, argv);
  mkdir("/mnt", 0755);
  EXPECT_OK("mount-ext2", mount("/dev/vdb", "/mnt", "ext2", 0, NULL));
  check("make-swapfile", copy_file("/swap/file.tmpl", "/mnt/swapfile", 512), 0);
  expect_swaps("none-at-first", 0, NULL, NULL, NULL, NULL);
  check("meminfo-no-swap", meminfo_field("SwapTotal", NULL) == 0, meminfo_field("SwapTotal", NULL));

  EXPECT_OK("swapon-partition", swapon("/dev/vda1", 0));
  EXPECT_ERRNO("partition-again", swapon("/dev/vda1", 0), EBUSY);
  /* Another node of the same device is the same area (Linux compares the device's mapping, not the path). */
  check("mknod-alias", mknod("/dev/alias", S_IFBLK | 0600, makedev(254, 1)) == 0, errno);
  EXPECT_ERRNO("partition-by-other-node", swapon("/dev/alias", 0), EBUSY);
  /* A partition is the area's alone, as Linux's exclusive open: no mount of it, and no swapon of a mounted one. */
  mkdir("/mnt2", 0755);
  EXPECT_ERRNO("mount-active-partition", mount("/dev/vda1", "/mnt2", "ext2", 0, NULL), EBUSY);
  EXPECT_ERRNO("swapon-mounted-disk", swapon("/dev/vdb", 0), EBUSY);
  EXPECT_OK("swapon-file-priority", swapon("/mnt/swapfile", SWAP_FLAG_PREFER | 5));
  EXPECT_ERRNO("file-again", swapon("/mnt/swapfile", 0), EBUSY);
  check("link-file", link("/mnt/swapfile", "/mnt/samefile") == 0, errno);
  EXPECT_ERRNO("file-by-other-name", swapon("/mnt/samefile", 0), EBUSY);
  {
    const char *paths[] = {"/dev/vda1", "/mnt/swapfile"};
    int partition[] = {1, 0};
    long kib[] = {4092, 2044}; /* 1023 and 511 pages: the header is no slot */
    int priority[] = {-2, 5};
    expect_swaps("partition-and-file", 2, paths, partition, kib, priority);
  }
  meminfo(4092 + 2044);
  const char *vmstat = read_file("/proc/vmstat");
  check("vmstat-pswp", strstr(vmstat, "\npswpin 0\n") != NULL && strstr(vmstat, "\npswpout 0\n") != NULL, 0);
  busy_file();

  /* Bad pages listed in a partition's header are no slots: 511 - 3 pages. Discard flags are taken (and nothing discarded). */
  EXPECT_OK("swapon-bad-pages", swapon("/dev/vda2", SWAP_FLAG_DISCARD));
  {
    const char *paths[] = {"/dev/vda1", "/mnt/swapfile", "/dev/vda2"};
    int partition[] = {1, 0, 1};
    long kib[] = {4092, 2044, 2032};
    int priority[] = {-2, 5, -3};
    expect_swaps("bad-pages-not-counted", 3, paths, partition, kib, priority);
  }
  /* swapoff of -2 moves -3 up, as Linux's; the next area without a priority is -3 again. */
  EXPECT_OK("swapoff-by-other-node", swapoff("/dev/alias"));
  EXPECT_OK("swapon-partition-again", swapon("/dev/vda1", 0));
  {
    const char *paths[] = {"/dev/vda1", "/mnt/swapfile", "/dev/vda2"};
    int partition[] = {1, 0, 1};
    long kib[] = {4092, 2044, 2032};
    int priority[] = {-3, 5, -2};
    expect_swaps("priorities-renumbered", 3, paths, partition, kib, priority);
  }
  EXPECT_OK("swapoff-bad-pages", swapoff("/dev/vda2"));

  refusals();
  all_areas_taken(2);

  EXPECT_ERRNO("umount-while-file-active", umount("/mnt"), EBUSY);
  EXPECT_OK("swapoff-file", swapoff("/mnt/samefile")); /* by its other name */
  EXPECT_ERRNO("swapoff-file-twice", swapoff("/mnt/swapfile"), EINVAL);
  check("write-after-swapoff", poke("/mnt/swapfile", 8192, 7), 0);
  EXPECT_OK("swapoff-partition", swapoff("/dev/vda1"));
  expect_swaps("none-at-last", 0, NULL, NULL, NULL, NULL);
  check("meminfo-none-at-last", meminfo_field("SwapTotal", NULL) == 0, meminfo_field("SwapTotal", NULL));
  check("rewrite-header", poke("/mnt/swapfile", 8192, 0), 0);
  EXPECT_OK("swapon-file-again", swapon("/mnt/swapfile", 0));
  {
    const char *paths[] = {"/mnt/swapfile"};
    int partition[] = {0};
    long kib[] = {2044};
    int priority[] = {-2};
    expect_swaps("file-again-numbered", 1, paths, partition, kib, priority);
  }
  EXPECT_OK("swapoff-file-again", swapoff("/mnt/swapfile"));
  names_escaped();
  EXPECT_OK("umount", umount("/mnt"));
  small_blocks();
  printf("swapareas: %d failed\n", fails);
  return fails != 0;
}
