/* A disk under load (issue "Storage", the AHCI driver): run as init with a
 * disk whose sectors hold user/blockdev.c's pattern (the first 8 bytes of
 * sector s are s, little-endian, and byte i past them is (s * 7 + i) &
 * 0xff; sector 0 holds an MBR from byte 446 on).
 *
 * `blockload DISK readers [BAD]` forks four readers that each read a
 * quarter of /dev/DISK page by page at once, so that several requests are
 * in flight; each page must hold the pattern, except the page holding
 * sector BAD (an unreadable sector the test injected), which each reader
 * also reads every 64 pages and which must fail with EIO every time.
 * Afterwards the bad page fails again and a good one still reads.
 *
 * `blockload DISK speed` reads the whole disk once in 1 MiB reads and
 * prints "blockload: read N MiB in T ms (R MiB/s)".
 *
 * Prints "ok NAME" or "FAIL NAME: ..." per check and "blockload: N failed";
 * exits 0 only if every check passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define SECTOR 512
#define READERS 4

static int failures;

static void check(int ok, const char *name, const char *detail) {
  if (ok) printf("ok %s\n", name);
  else {
    printf("FAIL %s: %s (errno %d)\n", name, detail, errno);
    failures++;
  }
}

/* Whether `page` (PAGE bytes from byte offset `at`) holds the pattern. */
static int holdsPattern(const unsigned char *page, uint64_t at) {
  for (unsigned s = 0; s < PAGE / SECTOR; s++) {
    uint64_t sector = at / SECTOR + s;
    const unsigned char *bytes = page + s * SECTOR;
    uint64_t number;
    memcpy(&number, bytes, 8);
    if (number != sector) return 0;
    unsigned end = sector == 0 ? 446 : SECTOR; /* the MBR's partition table */
    for (unsigned i = 8; i < end; i++)
      if (bytes[i] != (unsigned char)((sector * 7 + i) & 0xff)) return 0;
  }
  return 1;
}

static int holdsSector(uint64_t at, long long sector) {
  return sector >= 0 && (uint64_t)sector / (PAGE / SECTOR) == at / PAGE;
}

/*
 * One reader: the pages of [from, to), and every 64 pages the bad one
 * again (a failed page is not cached, so each try reaches the disk while
 * the other readers' requests are in flight); exits 0 when each read as it
 * should.
 */
static void reader(int fd, uint64_t from, uint64_t to, long long bad) {
  static unsigned char page[PAGE];
  int wrong = 0, errors = 0;
  for (uint64_t at = from, n = 0; at < to; at += PAGE, n++) {
    uint64_t where = bad >= 0 && n % 64 == 63 ? (uint64_t)bad / (PAGE / SECTOR) * PAGE : at;
    ssize_t got = pread(fd, page, PAGE, where);
    if (holdsSector(where, bad)) {
      if (got == -1 && errno == EIO) errors++;
      else wrong++;
    } else if (got != PAGE || !holdsPattern(page, where)) {
      wrong++;
    }
    if (where != at) at -= PAGE; /* the page itself comes next */
  }
  printf("reader of %llu..%llu: %d wrong, %d read errors\n", (unsigned long long)from, (unsigned long long)to, wrong, errors);
  _exit(wrong == 0 ? 0 : 1);
}

static void readers(int fd, uint64_t size, long long bad) {
  pid_t children[READERS];
  uint64_t quarter = size / READERS / PAGE * PAGE;
  for (int i = 0; i < READERS; i++) {
    children[i] = fork();
    if (children[i] == 0) reader(fd, i * quarter, i == READERS - 1 ? size : (i + 1) * quarter, bad);
  }
  int passed = 0;
  for (int i = 0; i < READERS; i++) {
    int status;
    if (waitpid(children[i], &status, 0) == children[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0) passed++;
  }
  check(passed == READERS, "four readers at once read the pattern", "a reader saw wrong bytes or an unexpected error");
  if (bad < 0) return;
  static unsigned char page[PAGE];
  uint64_t badPage = (uint64_t)bad / (PAGE / SECTOR) * PAGE;
  errno = 0;
  check(pread(fd, page, PAGE, badPage) == -1 && errno == EIO, "the bad sector's page fails again with EIO", "it read");
  uint64_t good = badPage + 16 * PAGE < size ? badPage + 16 * PAGE : 0;
  check(pread(fd, page, PAGE, good) == PAGE && holdsPattern(page, good), "a good page still reads after the errors",
        "wrong count or bytes");
}

static void speed(int fd, uint64_t size) {
  static unsigned char buffer[1 << 20];
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  uint64_t total = 0;
  for (;;) {
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) break;
    total += got;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  long long ms = (end.tv_sec - start.tv_sec) * 1000LL + (end.tv_nsec - start.tv_nsec) / 1000000;
  check(total == size, "the whole disk reads", "short");
  printf("blockload: read %llu MiB in %lld ms (%lld MiB/s)\n", (unsigned long long)(total >> 20), ms,
         ms > 0 ? (long long)(total >> 20) * 1000 / ms : 0);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: blockload DISK readers [BAD] | blockload DISK speed\n");
    return 2;
  }
  char path[64];
  snprintf(path, sizeof path, "/dev/%s", argv[1]);
  int fd = open(path, O_RDONLY);
  check(fd >= 0, "open the disk", path);
  if (fd < 0) return 1;
  off_t size = lseek(fd, 0, SEEK_END);
  check(size > 0 && size % PAGE == 0, "the disk has whole pages", "lseek(SEEK_END)");
  lseek(fd, 0, SEEK_SET);
  if (strcmp(argv[2], "speed") == 0) speed(fd, size);
  else readers(fd, size, argc > 3 ? atoll(argv[3]) : -1);
  printf("blockload: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
