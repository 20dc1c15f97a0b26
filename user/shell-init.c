/* The default process 1: starts a shell (busybox's, /bin/sh, or the
 * program its one argument names, such as /bin/bash) as a login shell in a
 * session of its own, with the console as its controlling terminal, and
 * reaps every orphan. A shell that is itself process 1 cannot have job
 * control: the groups of its jobs would have no parent outside them but
 * init, which POSIX calls orphaned, and the terminal's Ctrl-Z does not stop
 * an orphaned group. When the shell ends, so does init, with the shell's
 * status (the kernel then powers off). busybox's poweroff, reboot and halt
 * without -f signal process 1 (SIGUSR2, SIGTERM, SIGUSR1), as busybox's
 * init expects; this one answers them with reboot(2). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_power_signal(int signal) {
    sync();
    reboot(signal == SIGTERM ? RB_AUTOBOOT : signal == SIGUSR1 ? RB_HALT_SYSTEM : RB_POWER_OFF);
}

int main(int argc, char **argv) {
    const char *program = argc > 1 ? argv[1] : "/bin/sh";
    struct sigaction power = {0};
    power.sa_handler = on_power_signal;
    sigaction(SIGUSR2, &power, 0);
    sigaction(SIGTERM, &power, 0);
    sigaction(SIGUSR1, &power, 0);
    pid_t shell = fork();
    if (shell < 0) {
        perror("init: fork");
        return 1;
    }
    if (shell == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, 0);
        signal(SIGUSR2, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGUSR1, SIG_DFL);
        setsid();
        if (ioctl(0, TIOCSCTTY, 1) != 0) perror("init: TIOCSCTTY");
        /* A login shell is one whose argv[0] starts with '-': "-sh", "-bash". */
        const char *name = strrchr(program, '/') ? strrchr(program, '/') + 1 : program;
        char login[256];
        snprintf(login, sizeof login, "-%s", name);
        char *shell_argv[] = {login, 0};
        execv(program, shell_argv);
        fprintf(stderr, "init: %s: %s\n", program, strerror(errno));
        _exit(127);
    }
    for (;;) {
        int status;
        pid_t ended = wait(&status);
        if (ended == shell) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (ended < 0 && errno != EINTR) return 1;
    }
}
