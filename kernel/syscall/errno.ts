// Linux error numbers, returned negated from system calls.
export const EPERM: i64 = 1;
export const ENOENT: i64 = 2;
export const ESRCH: i64 = 3;
export const EINTR: i64 = 4;
export const EIO: i64 = 5;
export const E2BIG: i64 = 7;
export const ENOEXEC: i64 = 8;
export const EBADF: i64 = 9;
export const ECHILD: i64 = 10;
export const EAGAIN: i64 = 11;
export const ENOMEM: i64 = 12;
export const EACCES: i64 = 13;
export const EFAULT: i64 = 14;
export const EEXIST: i64 = 17;
export const ENODEV: i64 = 19;
export const ENOTDIR: i64 = 20;
export const EISDIR: i64 = 21;
export const EINVAL: i64 = 22;
export const EMFILE: i64 = 24;
export const ENOTTY: i64 = 25;
export const ESPIPE: i64 = 29;
export const EROFS: i64 = 30;
export const EPIPE: i64 = 32;
export const ERANGE: i64 = 34;
export const ENAMETOOLONG: i64 = 36;
export const ENOSYS: i64 = 38;
export const EOPNOTSUPP: i64 = 95;
export const ENXIO: i64 = 6;
export const ENOTBLK: i64 = 15;
export const EXDEV: i64 = 18;
export const EFBIG: i64 = 27;
export const ENOSPC: i64 = 28;
export const ENOTEMPTY: i64 = 39;
export const ELOOP: i64 = 40;
export const EBUSY: i64 = 16;
export const EOVERFLOW: i64 = 75;
export const ETIMEDOUT: i64 = 110;
export const EDEADLK: i64 = 35;
export const ETXTBSY: i64 = 26;
/**
 * Never seen by a program: a sleep a signal interrupted (Linux's
 * ERESTART_RESTARTBLOCK). The dispatcher makes it EINTR when a handler is
 * about to run, and otherwise restarts the sleep through restart_syscall.
 */
export const ERESTART_RESTARTBLOCK: i64 = 516;
/**
 * Never seen by a program either: a call a signal interrupted that runs
 * again after the handler whatever its SA_RESTART (Linux's ERESTARTNOINTR:
 * FUTEX_LOCK_PI, whose deadline is absolute).
 */
export const ERESTARTNOINTR: i64 = 513;
