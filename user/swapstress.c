/* swapstress: anonymous memory larger than RAM, through swap.
 *
 *   swapstress pattern MIB       write MIB MiB with a pattern, read it back three
 *                                times (in order, backwards, by a stride), check
 *                                every byte
 *   swapstress forks MIB         write MIB MiB, fork three children that each
 *                                rewrite their own quarter and check the rest;
 *                                the parent checks all of it after they exit
 *   swapstress swapoff MIB PATH  write MIB MiB, swapoff PATH while its pages are
 *                                out, check every byte
 *   swapstress mixed MIB DEV     write MIB MiB, then read all of the pattern disk
 *                                DEV (scripts/disk-image.mjs's sectors) twice while
 *                                rechecking the memory between chunks: file and
 *                                anonymous pressure together, nothing lost or killed
 *   swapstress locked MIB        mlock 8 MiB and MAP_LOCKED 8 MiB more, then write
 *                                MIB MiB: the locked pages must stay in memory
 *   swapstress oom               a child writes memory without end: it must be killed
 *                                only once RAM and swap are both full
 *
 * Each prints what the kernel counted (pswpin/pswpout from /proc/vmstat,
 * SwapTotal/SwapFree from /proc/meminfo) and ends with "swapstress NAME: ok"
 * (exit 0) or "swapstress NAME: FAILED (N checks)" (exit 1). Output goes
 * through write(2), one line per call, so that forks never repeat it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static const char *scenario = "?";
static int failures;

static void say(const char *format, ...) {
	char line[512];
	va_list args;
	va_start(args, format);
	int n = vsnprintf(line, sizeof line, format, args);
	va_end(args);
	if (n > (int)sizeof line - 1) n = sizeof line - 1;
	write(1, line, n);
}

static void fail(const char *what, unsigned long at, uint64_t got, uint64_t expected) {
	if (failures++ < 8) say("swapstress %s: FAIL %s at word %lu: %#llx, expected %#llx\n", scenario, what, at,
		(unsigned long long)got, (unsigned long long)expected);
}

/* The word at index i, for writer `who` (0 = the first writer, 1.. = children). */
static uint64_t value(unsigned long i, int who) {
	uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull + (uint64_t)who * 0x632be59bd9b4e019ull;
	return x ^ (x >> 29);
}

static long field(const char *path, const char *name) {
	char text[8192];
	int fd = open(path, O_RDONLY);
	if (fd < 0) return -1;
	int n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0) return -1;
	text[n] = 0;
	char *at = strstr(text, name);
	if (at == NULL) return -1;
	return strtol(at + strlen(name), NULL, 10);
}

static long elapsed_ms(void) {
	static struct timespec start;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (start.tv_sec == 0 && start.tv_nsec == 0) start = now;
	return (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
}

static void counts(const char *when) {
	say("swapstress %s: %s at %ld ms: pswpout %ld pswpin %ld, SwapTotal %ld kB SwapFree %ld kB, VmSwap %ld kB\n", scenario, when, elapsed_ms(),
		field("/proc/vmstat", "pswpout "), field("/proc/vmstat", "pswpin "), field("/proc/meminfo", "SwapTotal:"),
		field("/proc/meminfo", "SwapFree:"), field("/proc/self/status", "VmSwap:"));
}

static uint64_t *take(unsigned long words) {
	void *p = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		say("swapstress %s: FAIL mmap of %lu MiB\n", scenario, words >> 17);
		exit(1);
	}
	return p;
}

/* One word a page is enough to see a lost or misplaced page; every word catches a torn one. */
static void fill(uint64_t *words, unsigned long from, unsigned long to, int who) {
	for (unsigned long i = from; i < to; i++) words[i] = value(i, who);
}

static void check(uint64_t *words, unsigned long from, unsigned long to, int who, const char *order) {
	unsigned long n = to - from, pages = (n + 511) / 512;
	for (unsigned long k = 0; k < n; k++) {
		unsigned long i;
		if (order[0] == 'f') i = from + k;
		else if (order[0] == 'b') i = to - 1 - k;
		else { /* pages in a scattered order (4099 is prime), the words of each together */
			unsigned long page = (k / 512) * 4099 % pages;
			i = from + page * 512 + k % 512;
			if (i >= to) continue;
		}
		if (words[i] != value(i, who)) fail(order, i, words[i], value(i, who));
	}
}

/* The leak check: the kernel's own audit (slot counts against the swap entries in page tables), and
 * no slot held but by this process's swap entries and the swap cache. */
static void audit(void) {
	long problems = field("/proc/memcheck", "problems ");
	long used = field("/proc/meminfo", "SwapTotal:") - field("/proc/meminfo", "SwapFree:");
	long mine = field("/proc/self/status", "VmSwap:"), cached = field("/proc/meminfo", "SwapCached:");
	say("swapstress %s: memcheck problems %ld; swap used %ld kB, this process's %ld kB, swap cache %ld kB\n", scenario,
		problems, used, mine, cached);
	if (problems != 0) fail("memcheck", 0, problems, 0);
	if (used > mine + cached) fail("slots held by nobody", 0, used, mine + cached);
}

static int finish(void) {
	audit();
	if (failures == 0) say("swapstress %s: ok\n", scenario);
	else say("swapstress %s: FAILED (%d checks)\n", scenario, failures);
	return failures == 0 ? 0 : 1;
}

static int pattern(unsigned long mib) {
	unsigned long words = mib << 17;
	uint64_t *w = take(words);
	counts("before");
	fill(w, 0, words, 0);
	counts("written");
	check(w, 0, words, 0, "forwards");
	check(w, 0, words, 0, "backwards");
	check(w, 0, words, 0, "strided");
	counts("read three times");
	munmap(w, words * 8);
	counts("unmapped");
	return finish();
}

static int forks(unsigned long mib) {
	unsigned long words = mib << 17, quarter = words / 4;
	uint64_t *w = take(words);
	fill(w, 0, words, 0);
	counts("parent wrote");
	for (int c = 1; c <= 3; c++) {
		pid_t pid = fork();
		if (pid < 0) {
			say("swapstress %s: FAIL fork\n", scenario);
			return 1;
		}
		if (pid == 0) {
			unsigned long from = quarter * c, to = quarter * (c + 1);
			fill(w, from, to, c);
			check(w, 0, from, 0, "forwards");
			check(w, from, to, c, "strided");
			check(w, to, words, 0, "backwards");
			say("swapstress %s: child %d rewrote words %lu..%lu, %d bad\n", scenario, c, from, to, failures);
			_exit(failures == 0 ? 0 : 1);
		}
	}
	for (int c = 1; c <= 3; c++) {
		int status;
		wait(&status);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			say("swapstress %s: FAIL a child ended with status %#x\n", scenario, status);
			failures++;
		}
	}
	check(w, 0, words, 0, "strided");
	counts("children gone");
	munmap(w, words * 8);
	counts("unmapped");
	return finish();
}

/* MIB must be more than RAM: the first swapoff cannot bring it all in and must fail with ENOMEM,
 * losing nothing; with half of it unmapped the second must bring the rest in. */
static int off(unsigned long mib, const char *path) {
	unsigned long words = mib << 17, half = words / 2;
	uint64_t *w = take(words);
	fill(w, 0, words, 0);
	counts("written");
	if (swapoff(path) == 0) fail("swapoff of more than RAM succeeded", 0, 0, 12);
	else if (errno != ENOMEM) fail("swapoff of more than RAM: errno", 0, errno, ENOMEM);
	check(w, 0, words, 0, "strided");
	counts("after the refused swapoff, all checked");
	munmap(w + half, (words - half) * 8);
	if (swapoff(path) != 0) fail("swapoff of what fits: errno", 0, errno, 0);
	counts("after swapoff");
	check(w, 0, half, 0, "forwards");
	if (field("/proc/self/status", "VmSwap:") != 0) fail("VmSwap after swapoff", 0, field("/proc/self/status", "VmSwap:"), 0);
	if (field("/proc/meminfo", "SwapTotal:") != 0) fail("SwapTotal after swapoff", 0, field("/proc/meminfo", "SwapTotal:"), 0);
	munmap(w, half * 8);
	return finish();
}

/* Every 512-byte sector of the pattern disk starts with its number; byte i of it is (s * 7 + i) & 0xff. */
static int check_sectors(const unsigned char *buffer, unsigned long first, unsigned long count) {
	for (unsigned long k = 0; k < count; k++) {
		const unsigned char *sector = buffer + k * 512;
		unsigned long s = first + k;
		if (*(const uint64_t *)sector != s) return 0;
		for (int i = 8; i < 512; i += 61) if (sector[i] != ((s * 7 + i) & 0xff)) return 0;
	}
	return 1;
}

static int mixed(unsigned long mib, const char *device) {
	unsigned long words = mib << 17;
	static unsigned char chunk[1 << 20];
	uint64_t *w = take(words);
	fill(w, 0, words, 0);
	counts("written");
	for (int pass = 0; pass < 2; pass++) {
		int fd = open(device, O_RDONLY);
		if (fd < 0) {
			say("swapstress %s: FAIL open %s: %m\n", scenario, device);
			return 1;
		}
		unsigned long sector = 0, part = 0;
		ssize_t n;
		while ((n = read(fd, chunk, sizeof chunk)) > 0) {
			if (!check_sectors(chunk, sector, n / 512)) fail("disk sectors", sector, 0, sector);
			sector += n / 512;
			/* A sixteenth of the memory checked after each MiB read: both kinds of page wanted at once. */
			unsigned long from = (part % 16) * (words / 16);
			check(w, from, from + words / 16, 0, "forwards");
			part++;
		}
		close(fd);
		say("swapstress %s: pass %d read %lu MiB of %s\n", scenario, pass + 1, sector / 2048, device);
	}
	check(w, 0, words, 0, "strided");
	counts("after both passes");
	munmap(w, words * 8);
	return finish();
}

/* Pages of [p, p + bytes) mincore says are resident. */
static unsigned long resident_pages(void *p, unsigned long bytes) {
	static unsigned char vector[1 << 16];
	unsigned long pages = bytes / 4096, n = 0;
	if (pages > sizeof vector || mincore(p, bytes, vector) != 0) return 0;
	for (unsigned long i = 0; i < pages; i++) n += vector[i] & 1;
	return n;
}

static int locked(unsigned long mib) {
	const unsigned long lockedWords = 8 << 17;
	uint64_t *a = take(lockedWords);
	uint64_t *b = mmap(NULL, lockedWords * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	if (b == MAP_FAILED) {
		say("swapstress %s: FAIL mmap MAP_LOCKED: %m\n", scenario);
		return 1;
	}
	fill(a, 0, lockedWords, 1);
	if (mlock(a, lockedWords * 8) != 0) fail("mlock", 0, errno, 0);
	fill(b, 0, lockedWords, 2);
	unsigned long words = mib << 17;
	uint64_t *w = take(words);
	fill(w, 0, words, 0);
	check(w, 0, words, 0, "forwards");
	counts("after the pressure");
	unsigned long inA = resident_pages(a, lockedWords * 8), inB = resident_pages(b, lockedWords * 8);
	unsigned long inW = resident_pages(w, words * 8);
	say("swapstress %s: resident pages: mlocked %lu of 2048, MAP_LOCKED %lu of 2048, the rest %lu of %lu\n", scenario,
		inA, inB, inW, words / 512);
	if (inA != 2048) fail("mlocked pages resident", 0, inA, 2048);
	if (inB != 2048) fail("MAP_LOCKED pages resident", 0, inB, 2048);
	if (inW == words / 512) fail("unlocked pages went out", 0, inW, 0);
	check(a, 0, lockedWords, 1, "forwards");
	check(b, 0, lockedWords, 2, "forwards");
	munmap(w, words * 8);
	munmap(a, lockedWords * 8);
	munmap(b, lockedWords * 8);
	return finish();
}

static int oom(void) {
	long swapTotal = field("/proc/meminfo", "SwapTotal:");
	pid_t pid = fork();
	if (pid == 0) {
		for (unsigned long n = 0;; n++) {
			uint64_t *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) _exit(3);
			fill(p, 0, 1 << 17, (int)n);
		}
	}
	int status;
	waitpid(pid, &status, 0);
	long swapFree = field("/proc/meminfo", "SwapFree:");
	say("swapstress %s: the child ended %s %d; SwapTotal %ld kB, SwapFree %ld kB after it\n", scenario,
		WIFSIGNALED(status) ? "by signal" : "with status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		swapTotal, swapFree);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) fail("child killed by SIGKILL", 0, status, SIGKILL);
	return finish();
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "oom") == 0) {
		scenario = "oom";
		return oom();
	}
	if (argc < 3) {
		say("usage: swapstress pattern|forks|swapoff|mixed|locked MIB [PATH] | oom\n");
		return 2;
	}
	scenario = argv[1];
	unsigned long mib = strtoul(argv[2], NULL, 10);
	if (strcmp(scenario, "pattern") == 0) return pattern(mib);
	if (strcmp(scenario, "forks") == 0) return forks(mib);
	if (strcmp(scenario, "swapoff") == 0 && argc > 3) return off(mib, argv[3]);
	if (strcmp(scenario, "mixed") == 0 && argc > 3) return mixed(mib, argv[3]);
	if (strcmp(scenario, "locked") == 0) return locked(mib);
	say("swapstress: unknown scenario %s\n", scenario);
	return 2;
}
