/* The page cache under memory pressure (issue "Storage"): run as init on a
 * machine with less RAM than the disk, with a disk made by
 * `scripts/disk-image.mjs pattern IMAGE MIB` (no partition table needed).
 *
 * `pagecache DISK MIB` checks, through /dev/DISK and /proc/diskstats:
 *   - reading the whole disk twice: both passes see the right bytes, and the
 *     second reads (nearly) all of it from the disk again, since it cannot
 *     all stay cached; nothing is killed;
 *   - a working set (the first 8 MiB, read three times) stays cached while
 *     a scan of the rest of the disk passes through: reading it again
 *     afterwards reads under a tenth of it from the disk;
 *   - writes of more than RAM (from 16 MiB on, a pattern of its own) under
 *     that pressure, then fsync: every byte reads back right; the test
 *     checks the image on the host too;
 *   - /proc/vmstat counts pages reclaimed, /proc/meminfo shows the lists.
 * Prints "ok NAME" / "FAIL NAME: ..." per check, figures as "figure NAME
 * VALUE", and "pagecache: N failed"; exits 0 only if every check passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static int failures;
static char disk_name[16];
static unsigned char buffer[MIB];

static void check(int ok, const char *name, const char *detail) {
  if (ok) printf("ok %s\n", name);
  else {
    printf("FAIL %s: %s\n", name, detail);
    failures++;
  }
}

/** Sectors the disk has read so far (the third number after its name in /proc/diskstats). */
static uint64_t sectors_read(void) {
  static char text[8192];
  int fd = open("/proc/diskstats", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return 0;
  text[n] = 0;
  char needle[24];
  snprintf(needle, sizeof needle, " %s ", disk_name);
  char *at = strstr(text, needle);
  if (at == NULL) return 0;
  unsigned long long reads, merged, sectors;
  if (sscanf(at + strlen(needle), "%llu %llu %llu", &reads, &merged, &sectors) != 3) return 0;
  return sectors;
}

static uint64_t vmstat(const char *name) {
  static char text[4096];
  int fd = open("/proc/vmstat", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return 0;
  text[n] = 0;
  char needle[40];
  snprintf(needle, sizeof needle, "%s ", name);
  char *at = strstr(text, needle);
  return at == NULL ? 0 : strtoull(at + strlen(needle), NULL, 10);
}

/* The sector number the disk image holds in each sector's first 8 bytes, or the written pattern's. */
static int sector_ok(const unsigned char *sector, uint64_t number, int written) {
  uint64_t seen;
  memcpy(&seen, sector, 8);
  if (!written) return seen == number && sector[100] == (unsigned char)((number * 7 + 100) & 0xff);
  return seen == (number ^ 0x5757575757575757ull) && sector[100] == (unsigned char)(number * 13);
}

/* Reads [from, to) MiB of the disk; false at the first wrong sector. */
static int read_range(int fd, uint64_t from, uint64_t to, uint64_t written_from, uint64_t written_to) {
  for (uint64_t mib = from; mib < to; mib++) {
    if (pread(fd, buffer, MIB, mib * MIB) != MIB) return 0;
    for (int s = 0; s < MIB / 512; s++) {
      uint64_t number = mib * 2048 + s;
      int written = mib >= written_from && mib < written_to;
      if (!sector_ok(buffer + s * 512, number, written)) {
        printf("sector %llu wrong\n", (unsigned long long)number);
        return 0;
      }
    }
  }
  return 1;
}

static void fill_written(uint64_t mib) {
  for (int s = 0; s < MIB / 512; s++) {
    uint64_t number = mib * 2048 + s;
    uint64_t mark = number ^ 0x5757575757575757ull;
    unsigned char *sector = buffer + s * 512;
    memset(sector, (unsigned char)(number * 13), 512);
    memcpy(sector, &mark, 8);
  }
}

int main(int argc, char **argv) {
  snprintf(disk_name, sizeof disk_name, "%s", argc > 1 ? argv[1] : "vda");
  uint64_t size = argc > 2 ? strtoull(argv[2], NULL, 10) : 128;
  char path[32];
  snprintf(path, sizeof path, "/dev/%s", disk_name);
  int fd = open(path, O_RDWR);
  check(fd >= 0, "open the disk", path);
  if (fd < 0) return 1;

  uint64_t before = sectors_read();
  int good = read_range(fd, 0, size, 0, 0);
  uint64_t first = sectors_read() - before;
  good = good && read_range(fd, 0, size, 0, 0);
  uint64_t second = sectors_read() - before - first;
  printf("figure first-pass-mib %llu\nfigure second-pass-mib %llu\n", (unsigned long long)(first / 2048),
    (unsigned long long)(second / 2048));
  check(good, "two passes over a disk bigger than RAM read the right bytes", "a sector was wrong");
  check(first >= size * 2048, "the first pass read the whole disk", "read less");
  check(second >= size * 2048 * 9 / 10, "the second pass read it again from the disk", "it did not");

  for (int round = 0; round < 3; round++) read_range(fd, 0, 8, 0, 0);
  read_range(fd, 16, size, 0, 0);
  uint64_t mark = sectors_read();
  good = read_range(fd, 0, 8, 0, 0);
  uint64_t reread = sectors_read() - mark;
  printf("figure working-set-reread-kib %llu\n", (unsigned long long)(reread / 2));
  check(good, "the working set reads right", "a sector was wrong");
  check(reread < 8 * 2048 / 10, "a working set used again stays cached while a scan passes through", "it was read again");

  uint64_t end = size - size / 8;
  good = 1;
  for (uint64_t mib = 16; mib < end && good; mib++) {
    fill_written(mib);
    good = pwrite(fd, buffer, MIB, mib * MIB) == MIB;
  }
  check(good, "writes of more than RAM under pressure", strerror(errno));
  check(fsync(fd) == 0, "fsync", strerror(errno));
  check(read_range(fd, 0, size, 16, end), "every written byte reads back right, and the rest is untouched", "a sector was wrong");
  uint64_t stolen = vmstat("pgsteal");
  printf("figure pgsteal %llu\nfigure pgscan %llu\nfigure pgpgout-kib %llu\n", (unsigned long long)stolen,
    (unsigned long long)vmstat("pgscan"), (unsigned long long)vmstat("pgpgout"));
  check(stolen > 0, "/proc/vmstat counts pages reclaimed", "pgsteal is 0");
  close(fd);
  printf("pagecache: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
