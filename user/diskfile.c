/* Block devices as files (issue "Storage"): run as init with a disk
 * attached whose sectors hold a pattern the test made (scripts/disk-image
 * pattern: the first 8 bytes of sector s are s, little-endian, and byte i
 * of it, past them, is (s * 7 + i) & 0xff), with an MBR naming partition 1
 * at sectors 2048..10239.
 *
 * `diskfile DISK` (e.g. vda, sda or nvme0n1) checks, through /dev/DISK and
 * its partition 1 (/dev/DISK1, or /dev/DISKp1 when DISK ends in a digit, as
 * Linux names them): the sizes lseek(SEEK_END) and BLKGETSIZE64 give, the pattern
 * read by read, pread at odd offsets and across pages, and through a
 * MAP_SHARED mapping; then it writes: pwrite of "written by pwrite" at byte
 * 5000 of the disk, a store of "stored through mmap" at byte 0 of page 3
 * of partition 1 then msync(MS_SYNC), and write past the end (ENOSPC);
 * fsync; /proc/partitions and /proc/diskstats name the devices and count
 * sectors read. The test reads the image on the host afterwards.
 *
 * Prints "ok NAME" or "FAIL NAME: ..." per check and "diskfile: N failed";
 * exits 0 only if every check passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *name, const char *detail) {
  if (ok) printf("ok %s\n", name);
  else {
    printf("FAIL %s: %s (errno %d)\n", name, detail, errno);
    failures++;
  }
}

static unsigned char expected(uint64_t sector, unsigned i) {
  if (i < 8) return (unsigned char)(sector >> (8 * i));
  return (unsigned char)((sector * 7 + i) & 0xff);
}

/* Whether `length` bytes at `buffer` are the pattern from byte `offset` of the disk. */
static int is_pattern(const unsigned char *buffer, uint64_t offset, size_t length) {
  for (size_t k = 0; k < length; k++) {
    uint64_t at = offset + k;
    if (buffer[k] != expected(at / 512, at % 512)) return 0;
  }
  return 1;
}

static char path[64], partition[64], partition_name[64];

static void sizes(int disk, int part) {
  off_t end = lseek(disk, 0, SEEK_END);
  check(end == 16 << 20, "lseek SEEK_END gives the disk's size", "not 16 MiB");
  uint64_t bytes = 0;
  check(ioctl(part, BLKGETSIZE64, &bytes) == 0 && bytes == 8192 * 512, "BLKGETSIZE64 gives the partition's size", "wrong");
  check(lseek(disk, 0, SEEK_SET) == 0, "lseek back to 0", "failed");
}

static void reads(int disk, int part) {
  static unsigned char buffer[3 * 4096];
  check(read(disk, buffer, 512) == 512 && is_pattern(buffer + 8, 8, 400), "read of sector 0 (past the MBR's code area)", "wrong bytes");
  check(pread(disk, buffer, 3 * 4096, 4096 * 7 + 123) == 3 * 4096 && is_pattern(buffer, 4096 * 7 + 123, 3 * 4096),
    "pread across pages at an odd offset", "wrong bytes");
  check(pread(disk, buffer, 100, (16 << 20) - 50) == 50 && is_pattern(buffer, (16 << 20) - 50, 50), "pread at the end is short",
    "wrong count or bytes");
  check(pread(disk, buffer, 100, 16 << 20) == 0, "pread past the end reads nothing", "not 0");
  check(pread(part, buffer, 4096, 0) == 4096 && is_pattern(buffer, 2048 * 512, 4096), "the partition starts at sector 2048",
    "wrong bytes");
  unsigned char *map = mmap(NULL, 8192 * 512, PROT_READ, MAP_SHARED, part, 0);
  check(map != MAP_FAILED && is_pattern(map + 4096 * 100, 2048 * 512 + 4096 * 100, 4096), "a mapping of the partition reads its bytes",
    "wrong bytes");
  if (map != MAP_FAILED) munmap(map, 8192 * 512);
}

static void writes(int disk, int part) {
  const char text[] = "written by pwrite";
  check(pwrite(disk, text, sizeof text, 5000) == sizeof text, "pwrite to the disk", "failed");
  char back[sizeof text];
  check(pread(disk, back, sizeof back, 5000) == sizeof back && memcmp(back, text, sizeof text) == 0, "pread reads it back", "differs");
  unsigned char *map = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, part, 0);
  check(map != MAP_FAILED, "a writable shared mapping of the partition", "mmap failed");
  if (map != MAP_FAILED) {
    strcpy((char *)map + 3 * 4096, "stored through mmap");
    check(msync(map, 16 * 4096, MS_SYNC) == 0, "msync(MS_SYNC)", "failed");
    char seen[32];
    check(pread(part, seen, 20, 3 * 4096) == 20 && strcmp(seen, "stored through mmap") == 0, "read sees the store", "differs");
    strcpy((char *)map + 5 * 4096, "stored after the sync");
    munmap(map, 16 * 4096);
  }
  errno = 0;
  check(pwrite(part, text, sizeof text, 8192 * 512) == -1 && errno == ENOSPC, "a write past the end is ENOSPC", "not ENOSPC");
  check(pwrite(part, text, sizeof text, 8192 * 512 - 4) == 4, "a write across the end is short", "not 4");
  check(fsync(disk) == 0 && fsync(part) == 0, "fsync of both", "failed");
}

static int file_has(const char *file, const char *needle) {
  static char text[8192];
  int fd = open(file, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = 0;
  return strstr(text, needle) != NULL;
}

static void proc_files(const char *name) {
  char line[64];
  snprintf(line, sizeof line, "16384 %s\n", name);
  check(file_has("/proc/partitions", line), "/proc/partitions lists the disk in KiB", "missing");
  snprintf(line, sizeof line, " 4096 %s\n", partition_name);
  check(file_has("/proc/partitions", line), "/proc/partitions lists partition 1", "missing");
  snprintf(line, sizeof line, " %s ", name);
  check(file_has("/proc/diskstats", line), "/proc/diskstats lists the disk", "missing");
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "vda";
  snprintf(path, sizeof path, "/dev/%s", name);
  size_t length = strlen(name);
  int digit = length > 0 && name[length - 1] >= '0' && name[length - 1] <= '9';
  snprintf(partition_name, sizeof partition_name, "%s%s1", name, digit ? "p" : "");
  snprintf(partition, sizeof partition, "/dev/%s", partition_name);
  int disk = open(path, O_RDWR);
  int part = open(partition, O_RDWR);
  check(disk >= 0 && part >= 0, "open the disk and its partition", path);
  if (disk < 0 || part < 0) return 1;
  errno = 0;
  check(open("/dev/nonexistent-disk", O_RDONLY) == -1 && errno == ENOENT, "no node for a missing disk", "not ENOENT");
  sizes(disk, part);
  reads(disk, part);
  writes(disk, part);
  proc_files(name);
  close(part);
  close(disk);
  sync();
  printf("diskfile: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
