/* The first user program: prints through printf (stdio, malloc, writev),
 * then shows what the kernel passed it: argv, envp and the auxiliary
 * vector, so tests can check them against what a C program expects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("hello, world from %s (pid %d)\n", argv[0], getpid());
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d]=\"%s\"\n", i, argv[i]);
    for (char **e = environ; *e; e++) printf("env: %s\n", *e);
    printf("auxv: AT_PAGESZ=%lu AT_PHNUM=%lu AT_ENTRY=%#lx AT_PHDR=%#lx random=%s\n",
           getauxval(AT_PAGESZ), getauxval(AT_PHNUM), getauxval(AT_ENTRY), getauxval(AT_PHDR),
           getauxval(AT_RANDOM) ? "yes" : "no");
    /* volatile: without it the compiler drops malloc, memset and free */
    char *volatile buffer = malloc(100000);
    memset(buffer, 'x', 100000);
    printf("malloc'd and filled 100000 bytes: %s\n", buffer[99999] == 'x' ? "ok" : "BAD");
    free(buffer);
    return argc > 1 && strcmp(argv[1], "fail") == 0 ? 3 : 0;
}
