/* sh: the interactive shell, TSKernel's default init (pid 1).
 *
 * Reads a line, splits it into words (spaces and tabs separate, "double"
 * and 'single' quotes group), and either runs a builtin or forks and execs
 * /bin/WORD. No pipes, redirection or variables: it exists so that a
 * newcomer can poke at the kernel (memory counters, processes, the demo
 * programs) from the serial console. `sh -c 'COMMAND WORDS'` runs one
 * command line and ends, so that popen() and system() work (LTP asks
 * `systemd-detect-virt` that way).
 *
 * The kernel's console line discipline does the editing: read(0) returns
 * one line with its '\n', Ctrl-D on an empty line makes read() return 0,
 * and Ctrl-C kills every process but pid 1 and makes pid 1's pending read()
 * fail with EINTR. The shell still accumulates bytes until a '\n' so that it
 * behaves the same when fed by a pipe on Linux (where reads do not stop at
 * line ends), which is how it is smoke-tested. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINE_MAX_BYTES 1024
#define MAX_WORDS 64

extern char **environ;

static const char help_text[] =
    "Builtins:\n"
    "  help              this text\n"
    "  ls [DIR...]       list a directory of the initramfs (default /)\n"
    "  cat [FILE...]     print files; without FILE, echo what you type until Ctrl-D\n"
    "  echo WORDS        print the words\n"
    "  meminfo, free     /proc/meminfo: memory by use, page-fault totals\n"
    "  ps                /proc/processes: PID PPID STATE RSS_KIB NAME\n"
    "  memcheck          /proc/memcheck: free frames, kernel objects, consistency problems\n"
    "  exit [N]          end the shell with status N (as init: with 0 the machine powers off)\n"
    "  poweroff, reboot  turn the machine off, or restart it\n"
    "Any other word runs /bin/WORD (or a path with a '/'). The programs in /bin:\n"
    "  hello [fail]      argv, environment and auxiliary vector as the kernel passed them;\n"
    "                    with \"fail\" it exits 3\n"
    "  demandzero        64 MiB mmap + 16 MiB .bss touched sparsely: untouched pages cost nothing\n"
    "  spin              loops forever: stop it with Ctrl-C\n"
    "  lazy              reads 3 bytes of a big array in its ELF file: pages load on first touch\n"
    "  badinput          bad pointers, paths and arguments to system calls: errors, never crashes\n"
    "  crash KIND        one bad memory access: the kernel reports it and kills only the program\n"
    "                    KIND: null write-text exec-data exec-stack kernel-read noncanonical\n"
    "                    stack-overflow use-after-munmap write-after-mprotect exec-after-mprotect\n"
    "                    prot-none ud2 (SIGILL)\n"
    "  vdso              clock reads through the vDSO: same time as the system call, no system call\n"
    "  cowtest SCENARIO  fork, copy-on-write and paging, each with its own checks:\n"
    "    twothirds       writes 2/3 of memory, forks: the fork copies nothing, the child's\n"
    "                    16 writes copy 16 pages\n"
    "    generations     four generations of forks writing overlapping parts of one region\n"
    "    pipe            read() into memory shared copy-on-write: nobody sees the other's bytes\n"
    "    rounds          1200 processes (100 rounds of fork; fork;), no memory lost\n"
    "    sparse          a 1 GiB mapping touched every 256 KiB: a frame only per touched page\n"
    "    oom             a child runs out of memory mid copy-on-write: it is killed, the\n"
    "                    parent's memory is intact\n"
    "    heap            brk grows 100 MiB, shrinks back, regrows as zeros\n"
    "    sharing         processes share program text through the page cache\n"
    "    all             the eight above, each in a child, with a leak check after each\n"
    "    mprotect, sharedanon, forkfail: extras\n"
    "Try memcheck or meminfo before and after a program to see what it cost and freed.\n"
    "Keys: Ctrl-C kills the running program, Ctrl-D on an empty line ends the shell.\n";

/* Linux x86-64 signal numbers 1..31, for "[killed by signal 11 (SIGSEGV)]". */
static const char *const signal_names[32] = {
    "?",       "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP",  "SIGABRT", "SIGBUS",
    "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2", "SIGPIPE",  "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
};

/* ------------------------------------------------------------ builtins */

/* Copies fd to stdout. Returns 0, or -1 after printing the error. */
static int copy_out(int fd, const char *name) {
    char buffer[4096];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n == 0) return 0;
        if (n < 0) {
            /* Ctrl-C while `cat` copies the console: stop, like a killed cat would. */
            if (errno == EINTR) return 0;
            fprintf(stderr, "cat: %s: %s\n", name, strerror(errno));
            return -1;
        }
        fwrite(buffer, 1, n, stdout);
        fflush(stdout); /* stdout is line-buffered; files need not end in '\n' */
    }
}

static int cat_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "cat: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int result = copy_out(fd, path);
    close(fd);
    return result ? 1 : 0;
}

/* The kernel's getdents64 record (musl has no public struct for it). */
struct dirent64_record {
    uint64_t inode;
    int64_t offset;
    unsigned short length;
    unsigned char type;
    char name[];
};

static int list(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        /* `ls FILE` names the file, as ls does. */
        if (errno == ENOTDIR) return printf("%s\n", dir), 0;
        fprintf(stderr, "ls: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char buffer[4096] __attribute__((aligned(8)));
    long n;
    while ((n = syscall(SYS_getdents64, fd, buffer, sizeof buffer)) > 0) {
        for (long at = 0; at < n;) {
            struct dirent64_record *entry = (struct dirent64_record *)(buffer + at);
            if (strcmp(entry->name, ".") != 0 && strcmp(entry->name, "..") != 0)
                printf("%s%s\n", entry->name, entry->type == 4 /* DT_DIR */ ? "/" : "");
            at += entry->length;
        }
    }
    if (n < 0) fprintf(stderr, "ls: %s: %s\n", dir, strerror(errno));
    close(fd);
    return n < 0;
}

/* Runs words[0] if it is a builtin; returns 0 if it is not one. */
static int builtin(int count, char **words) {
    const char *name = words[0];
    if (!strcmp(name, "help")) {
        fputs(help_text, stdout);
    } else if (!strcmp(name, "meminfo") || !strcmp(name, "free")) {
        cat_file("/proc/meminfo");
    } else if (!strcmp(name, "ps")) {
        cat_file("/proc/processes");
    } else if (!strcmp(name, "memcheck")) {
        cat_file("/proc/memcheck");
    } else if (!strcmp(name, "cat")) {
        if (count == 1) copy_out(0, "stdin");
        for (int i = 1; i < count; i++) cat_file(words[i]);
    } else if (!strcmp(name, "ls")) {
        if (count == 1) list("/");
        for (int i = 1; i < count; i++) {
            if (count > 2) printf("%s%s:\n", i > 1 ? "\n" : "", words[i]);
            list(words[i]);
        }
    } else if (!strcmp(name, "echo")) {
        for (int i = 1; i < count; i++) printf("%s%s", words[i], i + 1 < count ? " " : "");
        putchar('\n');
    } else if (!strcmp(name, "exit")) {
        fflush(stdout);
        exit(count > 1 ? atoi(words[1]) : 0);
    } else if (!strcmp(name, "poweroff") || !strcmp(name, "reboot")) {
        fflush(stdout);
        reboot(!strcmp(name, "reboot") ? RB_AUTOBOOT : RB_POWER_OFF); /* returns only on failure */
        printf("%s: %s\n", name, strerror(errno));
    } else {
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ programs */

/* As pid 1 the shell inherits every orphan; collect the ones that ended so
 * they do not linger as zombies in ps. Elsewhere this finds nothing. */
static void reap_orphans(void) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

/* A word with a slash is a path; any other names a program in /bin. */
static void program_path(const char *word, char *path, size_t size) {
    if (strchr(word, '/')) snprintf(path, size, "%s", word);
    else snprintf(path, size, "/bin/%s", word);
}

static void run(char **words) {
    char path[256];
    program_path(words[0], path, sizeof path);
    fflush(stdout); /* our output first, and no buffered bytes copied into the child */
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "sh: fork: %s\n", strerror(errno));
        return;
    }
    if (pid == 0) {
        execve(path, words, environ);
        fprintf(stderr, "sh: %s: %s\n", words[0], strerror(errno));
        _exit(127);
    }
    /* Wait for any child rather than just this one, so that orphans that end
     * meanwhile are reaped too; EINTR (Ctrl-C) just means wait on. */
    int status;
    pid_t done;
    do done = waitpid(-1, &status, 0);
    while (done != pid && (done > 0 || errno == EINTR));
    if (done != pid) {
        fprintf(stderr, "sh: waitpid: %s\n", strerror(errno));
    } else if (WIFEXITED(status)) {
        if (WEXITSTATUS(status) != 0) printf("[exit %d]\n", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        int signal = WTERMSIG(status);
        printf("[killed by signal %d (%s)]\n", signal, signal < 32 ? signal_names[signal] : "?");
    }
}

/* --------------------------------------------------------------- input */

/* Splits line in place into words; returns the count, or -1 after an error. */
static int split(char *line, char **words) {
    int count = 0;
    char *in = line, *out = line;
    for (;;) {
        while (*in == ' ' || *in == '\t' || *in == '\r') in++;
        if (!*in) return count;
        if (count == MAX_WORDS) {
            fprintf(stderr, "sh: more than %d words\n", MAX_WORDS);
            return -1;
        }
        /* Copy the word to `out` (never ahead of `in`), dropping the quotes
         * and keeping what is between them, blanks included: a"b c"d is one word. */
        words[count++] = out;
        while (*in && *in != ' ' && *in != '\t' && *in != '\r') {
            if (*in == '"' || *in == '\'') {
                char quote = *in++;
                while (*in && *in != quote) *out++ = *in++;
                if (!*in) {
                    fprintf(stderr, "sh: unterminated %c quote\n", quote);
                    return -1;
                }
                in++;
            } else {
                *out++ = *in++;
            }
        }
        if (*in) in++; /* the blank that ended the word: `out` may overwrite it now */
        *out++ = 0;
    }
}

static void prompt(void) {
    reap_orphans();
    fputs("tsk$ ", stdout);
    fflush(stdout);
}

/* Ctrl-C on Linux, so that a smoke test at a terminal behaves like the
 * kernel: the handler does nothing, but without SA_RESTART it makes a
 * blocked read() fail with EINTR instead of killing the shell. A handler
 * (unlike SIG_IGN) is reset by execve, so programs still die of Ctrl-C.
 * TSKernel accepts the call and delivers no signals (Ctrl-C is its line
 * discipline's business). */
static void on_interrupt(int signal) {
    (void)signal;
}

/* sh -c LINE: a builtin, or the program exec'd in the shell's place; 127 when there is none, as POSIX shells say. */
static int run_one(char *line) {
    char *words[MAX_WORDS + 1];
    int count = split(line, words);
    if (count <= 0) return count < 0 ? 2 : 0;
    words[count] = NULL;
    if (builtin(count, words)) return 0;
    char path[256];
    program_path(words[0], path, sizeof path);
    execve(path, words, environ);
    fprintf(stderr, "sh: %s: %s\n", words[0], strerror(errno));
    return 127;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "-c") == 0) return run_one(argv[2]);
    struct sigaction action = {.sa_handler = on_interrupt};
    sigaction(SIGINT, &action, NULL);
    /* The console is no tty to musl (ioctl gives ENOTTY), so stdout would be
     * fully buffered; line buffering shows output as it is made. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("TSKernel: an x86-64 kernel written in TypeScript (AssemblyScript, compiled to native\n"
           "code) that runs unmodified static Linux programs. This is its shell, pid %d.\n"
           "Type help for what to try.\n",
           getpid());

    static char line[LINE_MAX_BYTES];
    size_t used = 0; /* bytes of an unfinished line already read */
    prompt();
    for (;;) {
        char *end = memchr(line, '\n', used);
        if (!end) {
            if (used == sizeof line) {
                fprintf(stderr, "sh: line longer than %d bytes ignored\n", LINE_MAX_BYTES - 1);
                used = 0;
                prompt();
                continue;
            }
            ssize_t n = read(0, line + used, sizeof line - used);
            /* Ctrl-C: drop the line and start afresh (the kernel has echoed "^C\n";
             * a Linux terminal echoes no newline, so there the prompt follows ^C). */
            if (n < 0 && errno == EINTR) {
                used = 0;
                prompt();
                continue;
            }
            if (n < 0) {
                fprintf(stderr, "sh: read: %s\n", strerror(errno));
                return 1;
            }
            if (n == 0 && used == 0) { /* end of input (Ctrl-D) */
                puts("exit");
                return 0;
            }
            if (n == 0) end = line + used; /* a last line without '\n' */
            used += n;
            if (!end) continue;
        }
        /* One complete line: terminate it, run it, keep what follows it. */
        size_t length = end - line;
        *end = 0;
        char *words[MAX_WORDS + 1];
        int count = split(line, words);
        if (count > 0) {
            words[count] = NULL;
            if (!builtin(count, words)) run(words);
        }
        size_t rest = length < used ? used - length - 1 : 0;
        memmove(line, line + length + 1, rest);
        used = rest;
        prompt();
    }
}
