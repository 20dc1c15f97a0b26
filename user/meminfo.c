/* meminfo: prints /proc/meminfo, the kernel's memory by use and its page
 * fault totals. Run it before and after a program to see what the program
 * cost and what came back. (busybox's `free` shows the Linux summary.) */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    int fd = open("/proc/meminfo", O_RDONLY);
    if (fd < 0) {
        perror("meminfo: /proc/meminfo");
        return 1;
    }
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) write(1, buffer, n);
    return n < 0;
}
