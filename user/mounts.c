/* mount and umount2 of the in-memory file systems, as Linux does them (run
 * as root on Linux it must pass too): a tmpfs over a directory (statfs says
 * TMPFS_MAGIC), EBUSY while a file in it is open, its files gone after
 * umount, EINVAL for what is not a mount, ENODEV for an unknown type,
 * MNT_EXPIRE (EAGAIN until a second call with no use between), and a
 * procfs mounted a second time. Prints "ok NAME" / "FAIL NAME" and
 * "mounts: N failed". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
static int fails;
static void check(const char *name, int ok, long got) {
    printf("%s %s (%ld)\n", ok ? "ok" : "FAIL", name, got);
    if (!ok) fails++;
}
int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp/mounts-test";
  mkdir(dir, 0755);
  check("mount-tmpfs", mount("x", dir, "tmpfs", 0, 0) == 0, errno);
  struct statfs fs; statfs(dir, &fs);
  check("statfs-tmpfs", fs.f_type == 0x01021994, fs.f_type);
  char path[256]; snprintf(path, sizeof path, "%s/file", dir);
  int fd = open(path, O_CREAT | O_RDWR, 0644);
  write(fd, "hello", 5);
  check("umount-busy", umount(dir) == -1 && errno == EBUSY, errno);
  close(fd);
  check("umount", umount(dir) == 0, errno);
  check("file-gone", access(path, F_OK) == -1 && errno == ENOENT, errno);
  check("umount-not-mounted", umount(dir) == -1 && errno == EINVAL, errno);
  check("mount-bad-type", mount("x", dir, "ext9", 0, 0) == -1 && errno == ENODEV, errno);
  check("mount-for-expire", mount("x", dir, "tmpfs", 0, 0) == 0, errno);
  check("expire-with-force-einval", umount2(dir, MNT_EXPIRE | MNT_FORCE) == -1 && errno == EINVAL, errno);
  check("expire-first-eagain", umount2(dir, MNT_EXPIRE) == -1 && errno == EAGAIN, errno);
  access(dir, F_OK);
  check("expire-after-use-eagain", umount2(dir, MNT_EXPIRE) == -1 && errno == EAGAIN, errno);
  check("expire-second-unmounts", umount2(dir, MNT_EXPIRE) == 0, errno);
  check("mount-proc", mount("proc", dir, "proc", 0, 0) == 0, errno);
  snprintf(path, sizeof path, "%s/meminfo", dir);
  check("proc-meminfo", access(path, R_OK) == 0, errno);
  check("umount-proc", umount(dir) == 0, errno);
  rmdir(dir);
  printf("mounts: %d failed\n", fails);
  return fails != 0;
}
