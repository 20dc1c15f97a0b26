/* Named pipes, as Linux has them (run as root on Linux it passes too):
 * `fifo DIR` makes FIFOs in DIR with mkfifo and mknod(S_IFIFO) and checks
 * stat's type; open for writing with O_NONBLOCK and no reader (ENXIO);
 * non-blocking ends that pass bytes and see end of file when the writer
 * goes; a blocking open that waits for the other end in another process,
 * then 200 KiB through it in order; O_RDWR, which waits for no one; a
 * blocking open cut short by a signal (EINTR); lseek (ESPIPE); poll;
 * /proc/self/fd naming the FIFO's path; a FIFO unlinked while open.
 * Prints "ok NAME" / "FAIL NAME" and "fifo: N failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int fails;

static void check(const char *name, int ok, long got) {
  printf("%s %s (%ld)\n", ok ? "ok" : "FAIL", name, got);
  if (!ok) fails++;
}

static void on_alarm(int signal) { (void)signal; }

#define BIG (200 * 1024)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 13 + 5); }

/* The child's half of the rendezvous: a blocking open for writing, then BIG bytes. */
static void writer_child(const char *path) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) _exit(10);
  static unsigned char buffer[BIG];
  for (size_t i = 0; i < BIG; i++) buffer[i] = pattern(i);
  size_t done = 0;
  while (done < BIG) {
    ssize_t n = write(fd, buffer + done, BIG - done);
    if (n <= 0) _exit(11);
    done += (size_t)n;
  }
  _exit(0);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  char path[256], other[256];
  snprintf(path, sizeof path, "%s/fifo-test", dir);
  snprintf(other, sizeof other, "%s/fifo-mknod", dir);
  unlink(path);
  unlink(other);
  check("mkfifo", mkfifo(path, 0600) == 0, errno);
  check("mknod-fifo", mknod(other, S_IFIFO | 0644, 0) == 0, errno);
  struct stat st;
  check("stat-type", stat(path, &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0600, st.st_mode);
  check("mkfifo-exists", mkfifo(path, 0600) == -1 && errno == EEXIST, errno);

  errno = 0;
  int fd = open(path, O_WRONLY | O_NONBLOCK);
  check("nonblocking-writer-no-reader-enxio", fd == -1 && errno == ENXIO, errno);

  int reader = open(path, O_RDONLY | O_NONBLOCK);
  check("nonblocking-reader-opens", reader >= 0, errno);
  char text[16] = {0};
  errno = 0;
  check("read-no-writer-yet-eof", read(reader, text, sizeof text) == 0, errno);
  int writer = open(path, O_WRONLY | O_NONBLOCK);
  check("nonblocking-writer-with-reader", writer >= 0, errno);
  errno = 0;
  check("read-empty-eagain", read(reader, text, sizeof text) == -1 && errno == EAGAIN, errno);
  check("write", write(writer, "hello", 5) == 5, errno);
  struct pollfd p = {.fd = reader, .events = POLLIN};
  check("poll-readable", poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0, p.revents);
  check("read", read(reader, text, sizeof text) == 5 && memcmp(text, "hello", 5) == 0, errno);
  check("fstat-is-the-fifo", fstat(reader, &st) == 0 && S_ISFIFO(st.st_mode), st.st_mode);
  errno = 0;
  check("lseek-espipe", lseek(reader, 0, SEEK_SET) == -1 && errno == ESPIPE, errno);
  char link[64], target[256] = {0};
  snprintf(link, sizeof link, "/proc/self/fd/%d", reader);
  check("proc-fd-names-path", readlink(link, target, sizeof target - 1) > 0 && strcmp(target, path) == 0, errno);
  close(writer);
  check("eof-after-writer-closes", read(reader, text, sizeof text) == 0, errno);
  close(reader);

  pid_t child = fork();
  if (child == 0) writer_child(path);
  usleep(100000); /* the child is asleep in its open by now */
  reader = open(path, O_RDONLY);
  check("blocking-rendezvous", reader >= 0, errno);
  static unsigned char got[BIG];
  size_t done = 0;
  while (done < BIG) {
    ssize_t n = read(reader, got + done, BIG - done);
    if (n <= 0) break;
    done += (size_t)n;
  }
  int same = done == BIG;
  for (size_t i = 0; same && i < BIG; i++) same = got[i] == pattern(i);
  check("bytes-in-order", same, (long)done);
  check("eof-at-the-end", read(reader, got, 1) == 0, errno);
  int status = -1;
  waitpid(child, &status, 0);
  check("writer-child-exit", WIFEXITED(status) && WEXITSTATUS(status) == 0, status);
  close(reader);

  int both = open(path, O_RDWR);
  check("rdwr-opens-alone", both >= 0, errno);
  check("rdwr-write", write(both, "xy", 2) == 2, errno);
  check("rdwr-read", read(both, text, 2) == 2 && memcmp(text, "xy", 2) == 0, errno);
  close(both);

  struct sigaction action = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &action, NULL); /* no SA_RESTART: the open ends with EINTR */
  alarm(1);
  errno = 0;
  fd = open(path, O_RDONLY);
  check("blocking-open-eintr", fd == -1 && errno == EINTR, errno);

  reader = open(path, O_RDONLY | O_NONBLOCK);
  writer = open(path, O_WRONLY);
  check("unlink-while-open", unlink(path) == 0, errno);
  check("still-works-unlinked", write(writer, "z", 1) == 1 && read(reader, text, 1) == 1 && text[0] == 'z', errno);
  close(writer);
  close(reader);
  check("unlink-mknod-fifo", unlink(other) == 0, errno);
  printf("fifo: %d failed\n", fails);
  return fails != 0;
}
