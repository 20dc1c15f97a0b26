/*
 * The vDSO: a small shared object the kernel maps into every process (its
 * address is the AT_SYSINFO_EHDR auxv entry) so that reading the clock
 * needs no system call. libc finds __vdso_clock_gettime through the dynamic
 * symbol table, as it does on Linux.
 *
 * The kernel maps one read-only page of its clock parameters (the vvar
 * page) just below this object's ELF header. Time zero is the TSC at the
 * kernel's start, and one TSC tick lasts ns_per_tick_q32 / 2^32
 * nanoseconds; only boot_epoch_ns changes after boot (clock_settime). The kernel's own clock
 * (kernel/time/clock.ts) uses the same formula, so the two agree to the
 * nanosecond. Clocks this code does not know go to the real system call.
 */
#include <stdint.h>

/* The vvar page, layout shared with kernel/time/clock.ts:
 *   0 boot_tsc          TSC value at time zero
 *   8 ns_per_tick_q32   nanoseconds per TSC tick, 32 fraction bits
 *  16 boot_epoch_ns     CLOCK_REALTIME at time zero
 */
struct vvar {
  uint64_t boot_tsc;
  uint64_t ns_per_tick_q32;
  uint64_t boot_epoch_ns;
};

struct timespec { int64_t tv_sec; int64_t tv_nsec; };
struct timeval { int64_t tv_sec; int64_t tv_usec; };

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define SYS_clock_gettime 228
#define NS_PER_SECOND 1000000000ull

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static inline const volatile struct vvar *vvar(void) {
  return (const volatile struct vvar *)(__ehdr_start - 4096);
}

static inline uint64_t since_boot(void) {
  uint32_t low, high;
  __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
  uint64_t ticks = (((uint64_t)high << 32) | low) - vvar()->boot_tsc;
  return (uint64_t)(((unsigned __int128)ticks * vvar()->ns_per_tick_q32) >> 32);
}

static inline long syscall2(long number, long a, long b) {
  long result;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return result;
}

int __vdso_clock_gettime(int clock, struct timespec *ts) {
  uint64_t ns;
  switch (clock) {
  case CLOCK_REALTIME:
  case CLOCK_REALTIME_COARSE:
    ns = vvar()->boot_epoch_ns + since_boot();
    break;
  case CLOCK_MONOTONIC:
  case CLOCK_MONOTONIC_RAW:
  case CLOCK_MONOTONIC_COARSE:
  case CLOCK_BOOTTIME:
    ns = since_boot();
    break;
  default:
    return (int)syscall2(SYS_clock_gettime, clock, (long)ts);
  }
  ts->tv_sec = (int64_t)(ns / NS_PER_SECOND);
  ts->tv_nsec = (int64_t)(ns % NS_PER_SECOND);
  return 0;
}

/* Like the system call, this ignores the time zone: the kernel keeps none. */
int __vdso_gettimeofday(struct timeval *tv, void *timezone) {
  if (tv) {
    uint64_t ns = vvar()->boot_epoch_ns + since_boot();
    tv->tv_sec = (int64_t)(ns / NS_PER_SECOND);
    tv->tv_usec = (int64_t)(ns % NS_PER_SECOND / 1000);
  }
  return 0;
}

int64_t __vdso_time(int64_t *out) {
  int64_t seconds = (int64_t)((vvar()->boot_epoch_ns + since_boot()) / NS_PER_SECOND);
  if (out) *out = seconds;
  return seconds;
}

int clock_gettime(int, struct timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
