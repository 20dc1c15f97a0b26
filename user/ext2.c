/* ext2 on a disk (kernel/fs/ext2): run as init with a virtio-blk disk
 * holding an ext2 image the test made with mke2fs -d, whose root has
 * "hello" ("hello from the host\n") and "old" (any bytes).
 *
 * `ext2 DISK` mounts /dev/DISK on /mnt and checks: hello's bytes; mkdir,
 * a 100000-byte file of a pattern (byte i = (i * 31 + 7) & 0xff) written
 * and fsynced, rename into the new directory, a hard link, a symbolic
 * link, unlink of "old", truncate to 4097 bytes of a second copy, rmdir
 * refusing a full directory; umount; a read-only mount that reads it all
 * back and refuses a write (EROFS); umount again. The test then runs
 * e2fsck and debugfs on the image.
 *
 * Prints "ok NAME" or "FAIL NAME: ..." per check and "ext2: N failed";
 * exits 0 only if every check passed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATTERN_BYTES 100000

static int failures;
static unsigned char buffer[PATTERN_BYTES];

static void check(int ok, const char *name, const char *detail) {
  if (ok) printf("ok %s\n", name);
  else {
    printf("FAIL %s: %s (errno %d)\n", name, detail, errno);
    failures++;
  }
}

static unsigned char pattern(size_t i) { return (unsigned char)((i * 31 + 7) & 0xff); }

/** Reads the whole file at `path` into buffer: its length, or -1. */
static long slurp(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  long total = 0;
  for (ssize_t n; (n = read(fd, buffer + total, sizeof buffer - total)) > 0;) total += n;
  close(fd);
  return total;
}

static int holdsPattern(const char *path, long length) {
  if (slurp(path) != length) return 0;
  for (long i = 0; i < length; i++) if (buffer[i] != pattern(i)) return 0;
  return 1;
}

static int writePattern(const char *path) {
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return 0;
  for (size_t i = 0; i < PATTERN_BYTES; i++) buffer[i] = pattern(i);
  int ok = write(fd, buffer, PATTERN_BYTES) == PATTERN_BYTES && fsync(fd) == 0;
  return close(fd) == 0 && ok;
}

static int countEntries(const char *path) {
  DIR *dir = opendir(path);
  if (dir == NULL) return -1;
  int count = 0;
  while (readdir(dir) != NULL) count++;
  closedir(dir);
  return count;
}

int main(int argc, char **argv) {
  char device[64];
  snprintf(device, sizeof device, "/dev/%s", argc > 1 ? argv[1] : "vda");
  mkdir("/mnt", 0755);
  check(mount(device, "/mnt", "ext2", 0, NULL) == 0, "mount", device);
  long n = slurp("/mnt/hello");
  check(n == 20 && memcmp(buffer, "hello from the host\n", 20) == 0, "read", "hello's bytes");
  check(mkdir("/mnt/dir", 0755) == 0, "mkdir", "/mnt/dir");
  check(writePattern("/mnt/file"), "write", "/mnt/file with fsync");
  check(rename("/mnt/file", "/mnt/dir/renamed") == 0, "rename", "into dir");
  check(link("/mnt/dir/renamed", "/mnt/linked") == 0, "link", "/mnt/linked");
  check(symlink("dir/renamed", "/mnt/symbolic") == 0, "symlink", "/mnt/symbolic");
  check(unlink("/mnt/old") == 0, "unlink", "/mnt/old");
  check(writePattern("/mnt/dir/cut") && truncate("/mnt/dir/cut", 4097) == 0, "truncate", "/mnt/dir/cut");
  check(rmdir("/mnt/dir") == -1 && errno == ENOTEMPTY, "rmdir", "a full directory is ENOTEMPTY");
  check(countEntries("/mnt/dir") == 4, "readdir", "., .., renamed, cut");
  struct stat st;
  check(stat("/mnt/linked", &st) == 0 && st.st_nlink == 2 && st.st_size == PATTERN_BYTES, "stat", "two links");
  check(umount("/mnt") == 0, "umount", "/mnt");
  check(mount(device, "/mnt", "ext2", MS_RDONLY, NULL) == 0, "mount-ro", device);
  check(holdsPattern("/mnt/dir/renamed", PATTERN_BYTES), "reread", "the pattern after a remount");
  check(holdsPattern("/mnt/symbolic", PATTERN_BYTES), "reread-link", "through the symbolic link");
  check(holdsPattern("/mnt/dir/cut", 4097), "reread-cut", "4097 bytes of the pattern");
  check(access("/mnt/old", F_OK) == -1 && errno == ENOENT, "unlinked", "/mnt/old is gone");
  check(open("/mnt/hello", O_WRONLY) == -1 && errno == EROFS, "read-only", "a write is EROFS");
  check(umount("/mnt") == 0, "umount-ro", "/mnt");
  printf("ext2: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
