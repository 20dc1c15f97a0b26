/* memmap: a picture of physical memory as text, from /proc/framestates
 * (a byte per frame: its state, 0x80 when two or more page tables map it).
 * One character per group of frames, the state most of the group is in,
 * a line per row with the physical address it starts at, then the legend
 * with each state's frames.
 *
 *   memmap [-c COLUMNS] [-g FRAMES]   COLUMNS characters a line (default 64),
 *                                     FRAMES frames a character (default: the
 *                                     map fits in 32 lines)
 *   memmap -d NAME                    the states themselves, run-length coded,
 *                                     between "memmap-dump NAME FRAMES" and
 *                                     "memmap-end NAME" (scripts/memmap reads
 *                                     them off the serial console)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHARED 0x80
#define KINDS 13 /* the 11 states, and anonymous and cache pages that are shared */

/* What each kind is drawn as and called; the first 11 are kernel/mm/frame.ts's FrameState. */
static const struct { char symbol; const char *name; } kinds[KINDS] = {
    {' ', "hole"}, {'.', "free"}, {'r', "reserved by firmware"}, {'K', "kernel image"},
    {'b', "boot modules and info"}, {'d', "frame database"}, {'p', "page tables"}, {'k', "kernel objects"},
    {'a', "anonymous"}, {'f', "file cache"}, {'z', "zero page"},
    {'A', "anonymous, shared (copy-on-write)"}, {'F', "file cache, mapped by several"},
};

static int kind_of(unsigned char state) {
    unsigned s = state & ~SHARED;
    if (s >= 11) return 0;
    if (state & SHARED) return s == 8 ? 11 : s == 9 ? 12 : (int)s;
    return (int)s;
}

/* The whole file: a byte per frame up to the highest frame of RAM. */
static unsigned char *read_states(size_t *frames) {
    int fd = open("/proc/framestates", O_RDONLY);
    if (fd < 0) {
        perror("memmap: /proc/framestates");
        exit(1);
    }
    size_t size = 0, capacity = 1 << 16;
    unsigned char *states = malloc(capacity);
    for (;;) {
        if (size == capacity) states = realloc(states, capacity *= 2);
        ssize_t n = read(fd, states + size, capacity - size);
        if (n < 0) {
            perror("memmap: read");
            exit(1);
        }
        if (n == 0) break;
        size += (size_t)n;
    }
    close(fd);
    *frames = size;
    return states;
}

static void dump(const unsigned char *states, size_t frames, const char *name) {
    printf("memmap-dump %s %zu\n", name, frames);
    int on_line = 0;
    for (size_t at = 0; at < frames;) {
        size_t run = 1;
        while (at + run < frames && states[at + run] == states[at]) run++;
        printf("%02x*%zx%c", states[at], run, ++on_line == 16 ? '\n' : ' ');
        if (on_line == 16) on_line = 0;
        at += run;
    }
    printf("%smemmap-end %s\n", on_line ? "\n" : "", name);
}

int main(int argc, char **argv) {
    size_t columns = 64, group = 0;
    const char *dump_name = NULL;
    int option;
    while ((option = getopt(argc, argv, "c:g:d:")) != -1) {
        if (option == 'c') columns = strtoul(optarg, NULL, 0);
        else if (option == 'g') group = strtoul(optarg, NULL, 0);
        else if (option == 'd') dump_name = optarg;
        else {
            fprintf(stderr, "usage: memmap [-c COLUMNS] [-g FRAMES] | memmap -d NAME\n");
            return 2;
        }
    }
    size_t frames;
    unsigned char *states = read_states(&frames);
    if (dump_name != NULL) {
        dump(states, frames, dump_name);
        return 0;
    }
    if (columns == 0) columns = 64;
    if (group == 0) group = (frames + columns * 32 - 1) / (columns * 32);
    if (group == 0) group = 1;
    printf("memmap: %zu frames of 4 KiB, %zu frames (%zu KiB) a character, %zu a line\n", frames, group, group * 4,
           columns);
    size_t totals[KINDS] = {0};
    for (size_t line = 0; line < frames; line += group * columns) {
        printf("%08zx ", line * 4096);
        for (size_t at = line; at < line + group * columns && at < frames; at += group) {
            size_t counts[KINDS] = {0};
            for (size_t i = at; i < at + group && i < frames; i++) counts[kind_of(states[i])]++;
            int most = 0;
            for (int k = 1; k < KINDS; k++) {
                if (counts[k] > counts[most]) most = k;
                totals[k] += counts[k];
            }
            totals[0] += counts[0];
            putchar(kinds[most].symbol);
        }
        putchar('\n');
    }
    printf("legend (a character shows the state most of its frames are in):\n");
    for (int k = 0; k < KINDS; k++) {
        if (totals[k] == 0 && k != 1) continue;
        printf("  '%c' %-34s %8zu frames %9zu KiB\n", kinds[k].symbol, kinds[k].name, totals[k], totals[k] * 4);
    }
    return 0;
}
