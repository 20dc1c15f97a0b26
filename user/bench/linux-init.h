/* What user/bench/disk.c and swap.c do first when they are init on Linux:
 * Debian builds virtio_pci and virtio_blk (and ext4, which mounts ext2) as
 * modules, so init loads the ones in /lib/modules (NN-name.ko, in name
 * order, dependencies first: scripts/linux-modules.mjs numbers them) and
 * mounts devtmpfs and proc itself; TSKernel has the drivers built in and
 * both mounted, so there it does nothing. */
#ifndef BENCH_LINUX_INIT_H
#define BENCH_LINUX_INIT_H
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static void linux_init(void) {
    struct utsname names;
    if (uname(&names) != 0 || strcmp(names.sysname, "Linux") != 0) return;
    struct dirent **entries;
    int n = scandir("/lib/modules", &entries, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char path[300];
        snprintf(path, sizeof path, "/lib/modules/%s", entries[i]->d_name);
        int fd = entries[i]->d_name[0] == '.' ? -1 : open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && syscall(SYS_finit_module, fd, "", 0) != 0) perror(path);
        if (fd >= 0) close(fd);
        free(entries[i]);
    }
    if (n >= 0) free(entries);
    mkdir("/proc", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
}
#endif
