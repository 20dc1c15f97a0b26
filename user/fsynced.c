/* Durability of fsync when the machine dies (issue "Storage"): writes
 * FILE (1 MiB of a pattern, in 4 KiB writes) and fsyncs it, then writes
 * FILE.later the same way without fsync, says "fsynced FILE", and waits
 * forever. The test kills the machine then: FILE must be whole on the
 * disk, and the file system consistent for e2fsck (FILE.later may or may
 * not be there, in part or whole). The same on Linux.
 *
 * Usage: fsynced FILE */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_pattern(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  char block[4096];
  for (int i = 0; i < 256; i++) {
    memset(block, 'a' + i % 26, sizeof block);
    snprintf(block, sizeof block, "block %d of %s\n", i, path);
    if (write(fd, block, sizeof block) != sizeof block) return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: fsynced FILE\n");
    return 2;
  }
  int fd = write_pattern(argv[1]);
  if (fd < 0 || fsync(fd) != 0) {
    perror(argv[1]);
    return 1;
  }
  close(fd);
  char later[256];
  snprintf(later, sizeof later, "%s.later", argv[1]);
  int other = write_pattern(later);
  if (other < 0) {
    perror(later);
    return 1;
  }
  printf("fsynced %s\n", argv[1]);
  fflush(stdout);
  for (;;) pause();
}
