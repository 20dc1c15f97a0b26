// Shared by the tests that make system calls (tmpfs-model, page-cache-model,
// descriptor-flags): a test process (harness.ts: newTestProcess), its user
// memory reached the way the CPU reaches it (a walk of its page tables, and
// a page fault through handleUserFault whenever the entry found does not
// allow the access), and system calls in its name with their arguments
// placed in that memory. Linux's numbers and flags, as a C program would
// pass them.
import { expect } from "vitest";
import { type Kernel, bytesOf } from "./kernel-wasm";
import { PAGE } from "./mm";

/** Linux x86-64 system-call numbers. */
export const SYS = {
  read: 0, write: 1, close: 3, lseek: 8, mmap: 9, munmap: 11, pread64: 17, mincore: 27, madvise: 28, pwrite64: 18, dup: 32, dup2: 33, fcntl: 72,
  truncate: 76, ftruncate: 77, getdents64: 217, openat: 257, mkdirat: 258, mknodat: 259, newfstatat: 262, unlinkat: 263,
  linkat: 265, symlinkat: 266, readlinkat: 267, dup3: 292, renameat2: 316,
} as const;

export const ERRNO: Record<string, number> = {
  EPERM: 1, ENOENT: 2, EBADF: 9, ENOMEM: 12, EFAULT: 14, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21,
  EINVAL: 22, EMFILE: 24, ENAMETOOLONG: 36, ENOTEMPTY: 39, ELOOP: 40,
};
const ERRNO_NAMES = new Map(Object.entries(ERRNO).map(([name, value]) => [value, name]));

/** A system call's result for messages: the number, or -NAME for an error. */
export const describeResult = (result: number) => (result < 0 ? `-${ERRNO_NAMES.get(-result) ?? -result}` : `${result}`);

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const RENAME_NOREPLACE = 1;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_PRIVATE = 2;

/** FaultResponse in fault.ts. */
export const enum Fault {
  Continue = 0,
  Kill = 1,
  OutOfMemory = 2,
  BusError = 3,
  Forbidden = 4,
}
const FAULT_PRESENT = 1;
const FAULT_WRITE = 2;
const FAULT_USER = 4;
const PTE_PRESENT = 1n;
const PTE_WRITABLE = 2n;
const PTE_USER = 4n;
const PTE_ADDRESS = 0x000ffffffffff000n;

/** Where a test process keeps system-call arguments: PATHS pages of path strings, then ARGUMENT_PAGES - PATHS of buffers. */
export const ARGUMENTS = 0x400000;
const ARGUMENT_PAGES = 16;
const PATHS = 2;
export const BUFFER = BigInt(ARGUMENTS + PATHS * PAGE);
export const BUFFER_BYTES = (ARGUMENT_PAGES - PATHS) * PAGE;

export interface TestProcess {
  k: Kernel;
  /** The Process record. */
  address: number;
  /** Its AddressSpace. */
  space: number;
}

/** A test process with an anonymous read-write region at ARGUMENTS for system-call arguments. */
export function spawn(k: Kernel): TestProcess {
  const address = k.exports.newTestProcess() >>> 0;
  expect(address).not.toBe(0);
  const space = k.view().getUint32(address + 16, true); // Process.space
  const region = k.exports.newRegion(BigInt(ARGUMENTS), BigInt(ARGUMENTS + ARGUMENT_PAGES * PAGE), PROT_READ | PROT_WRITE, 0) >>> 0;
  expect(region).not.toBe(0);
  expect(k.exports.insertRegion(k.exports.addressSpaceRegions(space) >>> 0, region)).toBe(1);
  return { k, address, space };
}

export function exit(p: TestProcess): void {
  p.k.exports.destroyTestProcess(p.address);
}

/** System call `number` with up to six arguments; the result, negative for -errno. */
export function sys(p: TestProcess, number: number, ...args: (number | bigint)[]): number {
  const a = [...args.map((x) => BigInt(x)), 0n, 0n, 0n, 0n, 0n, 0n];
  return Number(p.k.exports.syscall(p.address, BigInt(number), a[0], a[1], a[2], a[3], a[4], a[5]));
}

/**
 * The frame behind user page `va` for a load or a store, as the CPU finds
 * it: the page-table entry if it allows the access, else a page fault
 * (user mode, a write if storing, present if the entry is) and another
 * look. A fault the kernel does not resolve gives its response.
 */
function userFrame(p: TestProcess, va: bigint, write: boolean): { frame: number } | { fault: Fault } {
  const { k } = p;
  const root = k.view().getUint32(p.space, true); // AddressSpace.root
  const page = va & ~BigInt(PAGE - 1);
  const needed = PTE_PRESENT | PTE_USER | (write ? PTE_WRITABLE : 0n);
  for (let attempt = 0; attempt < 2; attempt++) {
    const entry = BigInt.asUintN(64, k.exports.leafEntry(root, page));
    if ((entry & needed) === needed) return { frame: Number(entry & PTE_ADDRESS) };
    const code = FAULT_USER | (write ? FAULT_WRITE : 0) | ((entry & PTE_PRESENT) !== 0n ? FAULT_PRESENT : 0);
    const response: Fault = k.exports.handleUserFault(p.space, page, code);
    if (response !== Fault.Continue) return { fault: response };
  }
  throw new Error(`user page 0x${page.toString(16)}: the fault was resolved, but the entry still refuses the access`);
}

/** Stores `bytes` at user `va`, page by page; Continue, or the response of the first fault not resolved (nothing stored from there on). */
export function storeUser(p: TestProcess, va: bigint, bytes: Uint8Array): Fault {
  for (let done = 0; done < bytes.length; ) {
    const at = va + BigInt(done);
    const found = userFrame(p, at, true);
    if ("fault" in found) return found.fault;
    const offset = Number(at % BigInt(PAGE));
    const chunk = Math.min(PAGE - offset, bytes.length - done);
    p.k.write(found.frame + offset, bytes.subarray(done, done + chunk));
    done += chunk;
  }
  return Fault.Continue;
}

/** Loads `length` bytes from user `va`; the bytes, or the response of the first fault not resolved. */
export function loadUser(p: TestProcess, va: bigint, length: number): Uint8Array | Fault {
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const at = va + BigInt(done);
    const found = userFrame(p, at, false);
    if ("fault" in found) return found.fault;
    const offset = Number(at % BigInt(PAGE));
    const chunk = Math.min(PAGE - offset, length - done);
    out.set(p.k.read(found.frame + offset, chunk), done);
    done += chunk;
  }
  return out;
}

/** loadUser of memory the test owns: a fault there is a test failure. */
export function loadOwn(p: TestProcess, va: bigint, length: number): Uint8Array {
  const bytes = loadUser(p, va, length);
  if (!(bytes instanceof Uint8Array)) throw new Error(`load of 0x${va.toString(16)}: fault ${bytes}`);
  return bytes;
}

/** Places NUL-terminated `text` in path slot `slot` (0 or 1: a call's first and second path); its user address. */
export function path(p: TestProcess, text: string, slot = 0): bigint {
  expect(text.length).toBeLessThan(PAGE);
  const va = BigInt(ARGUMENTS + slot * PAGE);
  expect(storeUser(p, va, bytesOf(`${text}\0`))).toBe(Fault.Continue);
  return va;
}
