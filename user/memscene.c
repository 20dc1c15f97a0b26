/* memscene: copy-on-write as the frame map sees it. Five moments, each
 * announced as "memscene: MOMENT":
 *   boot         nothing done yet
 *   touched      MiB of anonymous memory mapped and written, a page at a time
 *   forked       a child made: it shares every one of those frames
 *   child-wrote  the child wrote a quarter of them: copies, only of those
 *   exited       the child is gone, its copies freed
 * and the times of the writes: the parent's (demand-zero faults) and the
 * child's (copy-on-write faults), in microseconds per page.
 *
 *   memscene [-m MIB] [-d] [-s MS]
 *     -m MIB  how much to touch (default 64)
 *     -d      at each moment, run `memmap -d MOMENT` (the frame states on the console)
 *     -s MS   at each moment, wait MS milliseconds (to look at the live map)
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

extern char **environ;
static int dump;
static long pause_ms;

static void moment(const char *name) {
    printf("memscene: %s\n", name);
    fflush(stdout);
    if (dump) {
        /* posix_spawn is vfork and exec here: the dumper shares nothing with the pages it shows. */
        char *argv[] = {"memmap", "-d", (char *)name, NULL};
        pid_t pid;
        if (posix_spawn(&pid, "/bin/memmap", NULL, NULL, argv, environ) == 0) waitpid(pid, NULL, 0);
        else printf("memscene: cannot run /bin/memmap\n");
    }
    if (pause_ms > 0) {
        struct timespec wait = {pause_ms / 1000, (pause_ms % 1000) * 1000000};
        nanosleep(&wait, NULL);
    }
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Writes a byte to each of `pages` pages from `at`; returns the nanoseconds it took. */
static long long touch(char *at, size_t pages, char value) {
    long long start = now_ns();
    for (size_t i = 0; i < pages; i++) at[i * PAGE] = value;
    return now_ns() - start;
}

static void report(const char *who, const char *kind, size_t pages, long long ns) {
    printf("memscene: %s wrote %zu pages (%s) in %lld us: %lld ns a page\n", who, pages, kind, ns / 1000,
           ns / (long long)pages);
}

int main(int argc, char **argv) {
    size_t mib = 64;
    int option;
    while ((option = getopt(argc, argv, "m:ds:")) != -1) {
        if (option == 'm') mib = strtoul(optarg, NULL, 0);
        else if (option == 'd') dump = 1;
        else if (option == 's') pause_ms = strtol(optarg, NULL, 0);
        else {
            fprintf(stderr, "usage: memscene [-m MIB] [-d] [-s MS]\n");
            return 2;
        }
    }
    size_t pages = mib * 256;
    moment("boot");
    char *memory = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        perror("memscene: mmap");
        return 1;
    }
    report("parent", "demand-zero", pages, touch(memory, pages, 1));
    moment("touched");

    int go[2], done[2];
    if (pipe(go) != 0 || pipe(done) != 0) return 1;
    pid_t child = fork();
    if (child < 0) {
        perror("memscene: fork");
        return 1;
    }
    char token;
    if (child == 0) {
        if (read(go[0], &token, 1) != 1) _exit(1);
        report("child", "copy-on-write", pages / 4, touch(memory, pages / 4, 2));
        if (write(done[1], "w", 1) != 1 || read(go[0], &token, 1) != 1) _exit(1);
        _exit(0);
    }
    moment("forked");
    if (write(go[1], "g", 1) != 1 || read(done[0], &token, 1) != 1) return 1;
    moment("child-wrote");
    if (write(go[1], "x", 1) != 1) return 1;
    int status;
    waitpid(child, &status, 0);
    moment("exited");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && memory[0] == 1 ? 0 : 1;
}
