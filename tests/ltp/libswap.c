// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Our implementation of LTP's tse_swap.h (the swapon and swapoff tests'
 * library), written from the header's contract: LTP's own libswap is not
 * in the LTP sources we build from. scripts/ltp-libs.mjs links it into the
 * tests whose Makefile asks for LTPLIBS = swap.
 *
 * A swap file is made as mkswap makes one, without running mkswap (the
 * initramfs has none): every byte written (a swap file may have no
 * holes), then a version-1 header in the first page.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* A library, not a test: the test brings main. */
#define TST_NO_DEFAULT_MAIN
#include "tst_test.h"
#include "tst_fs.h"
#include "tst_safe_stdio.h"
#include "lapi/syscalls.h"
#include "tse_swap.h"

/* Linux's union swap_header (include/linux/swap.h): the signature ends the first page. */
struct swap_header_v1 {
	char bootbits[1024];
	uint32_t version;
	uint32_t last_page;
	uint32_t nr_badpages;
	unsigned char uuid[16];
	char volume_name[16];
};

#define SWAP_SIGNATURE "SWAPSPACE2"
#define CHUNK (64 * 1024)

/* The directory `path` is in, into `dir`. */
static const char *dir_of(const char *path, char *dir, size_t size)
{
	char *slash;

	snprintf(dir, size, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return ".";
	*slash = '\0';
	return dir[0] ? dir : "/";
}

/*
 * Writes `bytes` bytes of swap area to `fd`: zeros (every block allocated:
 * a swap file may have no holes), then the header over the first page.
 * NULL, or what failed (errno says why).
 */
static const char *write_swap_area(int fd, off_t bytes, long page)
{
	char *buf = calloc(1, CHUNK);
	struct swap_header_v1 *header = (struct swap_header_v1 *)buf;
	const char *failed = NULL;
	off_t done;

	if (!buf)
		return "calloc";
	for (done = 0; done < bytes && !failed; ) {
		ssize_t n = write(fd, buf, bytes - done < CHUNK ? bytes - done : CHUNK);

		if (n <= 0)
			failed = "write";
		else
			done += n;
	}
	header->version = 1;
	header->last_page = bytes / page - 1;
	memcpy(buf + page - strlen(SWAP_SIGNATURE), SWAP_SIGNATURE, strlen(SWAP_SIGNATURE));
	if (!failed && pwrite(fd, buf, page, 0) != page)
		failed = "pwrite of the header";
	if (!failed && fsync(fd) != 0)
		failed = "fsync";
	free(buf);
	return failed;
}

int make_swapfile(const char *file, const int lineno,
		  const char *swapfile, unsigned int num,
		  int safe, enum swapfile_method method)
{
	long page = getpagesize();
	char dir[PATH_MAX];
	struct statvfs fs;
	const char *failed = NULL;
	off_t bytes = (off_t)num << 20;
	int fd = -1;

	/* Blocks are the file system's, as mkswap's block counts are those of the device it is given. */
	if (method == SWAPFILE_BY_BLKS) {
		if (statvfs(dir_of(swapfile, dir, sizeof(dir)), &fs) != 0)
			failed = "statvfs of its directory";
		bytes = (off_t)num * fs.f_bsize;
	}
	if (!failed && bytes < 2 * page) {
		errno = EINVAL;
		failed = "size (under two pages)";
	}
	/* Swap files must not be readable by others (Linux warns of it): 0600, as mkswap advises. */
	if (!failed && (fd = open(swapfile, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		failed = "open";
	if (!failed)
		failed = write_swap_area(fd, bytes, page);
	if (fd >= 0 && close(fd) != 0 && !failed)
		failed = "close";
	if (!failed)
		return 0;
	if (safe)
		tst_brk_(file, lineno, TBROK | TERRNO, "making swap file %s: %s", swapfile, failed);
	tst_res_(file, lineno, TINFO | TERRNO, "making swap file %s: %s", swapfile, failed);
	return -1;
}

/*
 * Tries a small swap file at `filename` and takes it away again. A kernel
 * without swapon, or a file system that cannot hold swap files (EINVAL),
 * makes the test not applicable: TCONF, so false is never returned to the
 * tests, which call this for that end.
 */
bool is_swap_supported(const char *filename)
{
	char dir[PATH_MAX];
	const char *fs = tst_fs_type_name(tst_fs_type(dir_of(filename, dir, sizeof(dir))));

	make_swapfile(__FILE__, __LINE__, filename, MINIMAL_SWAP_SIZE_MB, 1, SWAPFILE_BY_SIZE);
	if (tst_syscall(__NR_swapon, filename, 0) != 0) {
		int err = errno;

		unlink(filename);
		errno = err;
		if (err == EINVAL)
			tst_brk(TCONF, "swap files are not supported on %s", fs);
		tst_brk(TBROK | TERRNO, "swapon(%s)", filename);
	}
	if (tst_syscall(__NR_swapoff, filename) != 0)
		tst_brk(TBROK | TERRNO, "swapoff(%s)", filename);
	SAFE_UNLINK(filename);
	return true;
}

/* The areas in use: /proc/swaps's lines after its heading. */
int tse_count_swaps(void)
{
	FILE *swaps = SAFE_FOPEN("/proc/swaps", "r");
	char line[512];
	int lines = 0;

	while (fgets(line, sizeof(line), swaps))
		if (strchr(line, '\n'))
			lines++;
	SAFE_FCLOSE(swaps);
	return lines > 0 ? lines - 1 : 0;
}
