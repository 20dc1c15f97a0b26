/* memcheck: reads /proc/memcheck, which makes the kernel recount every
 * reference to every user frame and page table and compare the counts with
 * its frame database, and prints the result ("problems N", "free_frames N",
 * ...). Exits with status 1 when the kernel found problems, so a script can
 * say `memcheck >/dev/null || echo leak`. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    int fd = open("/proc/memcheck", O_RDONLY);
    if (fd < 0) {
        perror("memcheck: /proc/memcheck");
        return 2;
    }
    /* One read: the report is a few short lines. */
    char report[4096];
    ssize_t n = read(fd, report, sizeof report - 1);
    if (n < 0) {
        perror("memcheck: read");
        return 2;
    }
    report[n] = 0;
    fputs(report, stdout);
    const char *problems = strstr(report, "problems ");
    return problems && atoi(problems + 9) != 0;
}
