/* Read-only mounts and remounts, as Linux does them (run as root on Linux
 * it passes too): `readonly DIR` mounts a tmpfs at DIR, `readonly DIR ext2
 * DEVICE` mounts DEVICE's ext2 there. Files are made, then
 * mount(MS_REMOUNT | MS_RDONLY) is refused with EBUSY while a file is open
 * for writing and taken once it is closed (a file open for reading stays
 * open and readable); /proc/mounts says "ro"; every change is EROFS (open
 * for writing, O_CREAT, O_TRUNC, mkdir, mknod, unlink, rmdir, rename,
 * link, symlink, chmod, chown, utimensat, truncate), while EEXIST still
 * comes first for a name that is taken; MS_REMOUNT without MS_RDONLY makes
 * it writable again; a remount of a directory that is not a mount is
 * EINVAL. Prints "ok NAME" / "FAIL NAME" and "readonly: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int fails;

static void check(const char *name, int ok, long got) {
  printf("%s %s (%ld)\n", ok ? "ok" : "FAIL", name, got);
  if (!ok) fails++;
}

/* Whether `call` failed with `expected`; the errno it gave goes in the report. */
#define EXPECT_ERRNO(name, call, expected) \
  do { errno = 0; long r_ = (long)(call); check(name, r_ == -1 && errno == (expected), r_ == -1 ? errno : r_); } while (0)

static char path_buffer[4][512];

static const char *in(int slot, const char *dir, const char *name) {
  snprintf(path_buffer[slot], sizeof path_buffer[slot], "%s/%s", dir, name);
  return path_buffer[slot];
}

/* The option field of DIR's line in /proc/mounts starts with "ro" or "rw". */
static int mounted_with(const char *dir, const char *option) {
  FILE *mounts = fopen("/proc/mounts", "r");
  if (mounts == NULL) return 0;
  char source[256], point[256], type[64], options[256];
  int found = 0;
  while (fscanf(mounts, "%255s %255s %63s %255s %*d %*d", source, point, type, options) == 4) {
    if (strcmp(point, dir) == 0) found = strncmp(options, option, 2) == 0 && (options[2] == 0 || options[2] == ',');
  }
  fclose(mounts);
  return found;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp/readonly-test";
  const char *type = argc > 2 ? argv[2] : "tmpfs";
  const char *device = argc > 3 ? argv[3] : "none";
  mkdir(dir, 0755);
  check("mount", mount(device, dir, type, 0, NULL) == 0, errno);
  int fd = open(in(0, dir, "file"), O_CREAT | O_RDWR | O_TRUNC, 0644);
  check("write", write(fd, "hello", 5) == 5, errno);
  check("mkdir-sub", mkdir(in(0, dir, "sub"), 0755) == 0, errno);
  check("mounted-rw", mounted_with(dir, "rw"), 0);
  EXPECT_ERRNO("remount-ro-busy-writer", mount(NULL, dir, type, MS_REMOUNT | MS_RDONLY, NULL), EBUSY);
  close(fd);
  int reader = open(in(0, dir, "file"), O_RDONLY);
  check("remount-ro", mount(NULL, dir, type, MS_REMOUNT | MS_RDONLY, NULL) == 0, errno);
  check("mounted-ro", mounted_with(dir, "ro"), 0);
  char text[8] = {0};
  check("reader-still-reads", pread(reader, text, 5, 0) == 5 && memcmp(text, "hello", 5) == 0, errno);
  close(reader);
  fd = open(in(0, dir, "file"), O_RDONLY);
  check("open-read-only", fd >= 0, errno);
  close(fd);

  EXPECT_ERRNO("open-write-erofs", open(in(0, dir, "file"), O_WRONLY), EROFS);
  EXPECT_ERRNO("open-trunc-erofs", open(in(0, dir, "file"), O_RDONLY | O_TRUNC), EROFS);
  EXPECT_ERRNO("create-erofs", open(in(0, dir, "new"), O_CREAT | O_WRONLY, 0644), EROFS);
  EXPECT_ERRNO("mkdir-erofs", mkdir(in(0, dir, "newdir"), 0755), EROFS);
  EXPECT_ERRNO("mkdir-existing-eexist", mkdir(in(0, dir, "sub"), 0755), EEXIST);
  EXPECT_ERRNO("mknod-erofs", mknod(in(0, dir, "node"), S_IFCHR | 0600, makedev(1, 3)), EROFS);
  EXPECT_ERRNO("unlink-erofs", unlink(in(0, dir, "file")), EROFS);
  EXPECT_ERRNO("unlink-missing-erofs", unlink(in(0, dir, "missing")), EROFS);
  EXPECT_ERRNO("rmdir-erofs", rmdir(in(0, dir, "sub")), EROFS);
  EXPECT_ERRNO("rename-erofs", rename(in(0, dir, "file"), in(1, dir, "renamed")), EROFS);
  EXPECT_ERRNO("link-erofs", link(in(0, dir, "file"), in(1, dir, "linked")), EROFS);
  EXPECT_ERRNO("symlink-erofs", symlink("file", in(0, dir, "symlink")), EROFS);
  EXPECT_ERRNO("chmod-erofs", chmod(in(0, dir, "file"), 0600), EROFS);
  EXPECT_ERRNO("chown-erofs", chown(in(0, dir, "file"), 1, 1), EROFS);
  EXPECT_ERRNO("utimensat-erofs", utimensat(AT_FDCWD, in(0, dir, "file"), NULL, 0), EROFS);
  EXPECT_ERRNO("truncate-erofs", truncate(in(0, dir, "file"), 1), EROFS);
  struct stat st;
  check("unchanged", stat(in(0, dir, "file"), &st) == 0 && st.st_size == 5 && (st.st_mode & 0777) == 0644, st.st_size);

  check("remount-rw", mount(NULL, dir, type, MS_REMOUNT, NULL) == 0, errno);
  check("mounted-rw-again", mounted_with(dir, "rw"), 0);
  fd = open(in(0, dir, "new"), O_CREAT | O_WRONLY, 0644);
  check("create-after-rw", fd >= 0, errno);
  close(fd);
  check("unlink-after-rw", unlink(in(0, dir, "new")) == 0, errno);
  EXPECT_ERRNO("remount-not-a-mount", mount(NULL, in(0, dir, "sub"), type, MS_REMOUNT | MS_RDONLY, NULL), EINVAL);
  check("umount", umount(dir) == 0, errno);
  printf("readonly: %d failed\n", fails);
  return fails != 0;
}
