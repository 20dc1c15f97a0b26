// Descriptors and open files (kernel/fs/file.ts, syscall/descriptors.ts,
// open.ts): close-on-exec belongs to the descriptor, while the access mode,
// the status flags (O_APPEND, O_NONBLOCK) and the offset belong to the open
// file, which every duplicate shares. Random open (with and without
// O_CLOEXEC), dup, dup2, dup3 (with O_CLOEXEC, or a flag it refuses),
// fcntl F_DUPFD, F_DUPFD_CLOEXEC, F_SETFD and F_SETFL, lseek and close, in
// several test processes, with fork's step for descriptors (the child's
// table refers to the parent's open files, flags and all: copyDescriptors),
// exec's (closeOnExec) and exit's, against a model of each table and open
// file. After every operation each table is read from memory (which open
// file each slot holds, its close-on-exec bit) and every open file's
// reference count must be the number of descriptors, in all processes,
// that refer to it; every CHECK_EVERY operations every descriptor is asked
// through fcntl(F_GETFD), fcntl(F_GETFL) and lseek. At the end every frame
// and kernel object must be back.
import { describe, expect, it } from "vitest";
import { type Kernel, loadKernel } from "./kernel-wasm";
import { freeCount } from "./mm";
import { archive, bootWithInitramfs } from "./initramfs";
import { Random } from "./random";
import {
  AT_FDCWD, ERRNO, O_APPEND, O_CLOEXEC, O_CREAT, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, SYS, type TestProcess, describeResult,
  exit, path, spawn, sys,
} from "./process";

const SEEDS = [1, 2, 3];
const OPERATIONS = 3000;
const CHECK_EVERY = 10;
const MAX_PROCESSES = 4;
/** The test process's RLIMIT_NOFILE (harness.ts), which is also the descriptor table's first size. */
const TABLE_SIZE = 64;
const FILES = ["/f1", "/f2"];
const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;
const SEEK_SET = 0;
const SEEK_CUR = 1;
const EBADF = -ERRNO.EBADF;
const EINVAL = -ERRNO.EINVAL;
const EMFILE = -ERRNO.EMFILE;
/** What F_GETFL reports that the model follows (Linux adds O_LARGEFILE, which this kernel does not keep). */
const FILE_FLAGS = 3 | O_APPEND | O_NONBLOCK;
const FILES_OFFSET = 36; // Process.files (process.ts): the FileTable, whose first field is the slots' address
const FILE_REFCOUNT = 4; // File.refCount (file.ts)

interface OpenFile {
  id: number;
  /** Access mode and status flags. */
  flags: number;
  offset: number;
}

interface Descriptor {
  file: OpenFile;
  cloexec: boolean;
}

interface Proc {
  p: TestProcess;
  table: Map<number, Descriptor>;
}

type Op =
  | { kind: "open"; file: string; flags: number }
  | { kind: "dup"; fd: number }
  | { kind: "dup2"; fd: number; target: number }
  | { kind: "dup3"; fd: number; target: number; flags: number }
  | { kind: "dupfd"; fd: number; lowest: number; cloexec: boolean }
  | { kind: "setfd"; fd: number; flags: number }
  | { kind: "setfl"; fd: number; flags: number }
  | { kind: "seek"; fd: number; offset: number }
  | { kind: "close"; fd: number }
  | { kind: "fork" }
  | { kind: "exec" }
  | { kind: "exit" };

class Model {
  readonly procs: Proc[] = [];
  private nextFile = 1;

  /** The lowest free descriptor at or above `lowest`, or -1. */
  private free(proc: Proc, lowest: number): number {
    for (let fd = lowest; fd < TABLE_SIZE; fd++) if (!proc.table.has(fd)) return fd;
    return -1;
  }

  private install(proc: Proc, fd: number, d: Descriptor): number {
    proc.table.set(fd, d);
    return fd;
  }

  /** The answer `op` must get in `proc`, the model changed as the kernel must change. */
  apply(proc: Proc, op: Op): number {
    const d = "fd" in op ? proc.table.get(op.fd) : undefined;
    switch (op.kind) {
      case "open": {
        const fd = this.free(proc, 0);
        if (fd < 0) return EMFILE;
        const file = { id: this.nextFile++, flags: op.flags & FILE_FLAGS, offset: 0 };
        return this.install(proc, fd, { file, cloexec: (op.flags & O_CLOEXEC) !== 0 });
      }
      case "dup": {
        if (!d) return EBADF;
        const fd = this.free(proc, 0);
        return fd < 0 ? EMFILE : this.install(proc, fd, { file: d.file, cloexec: false });
      }
      case "dup2":
      case "dup3": {
        const flags = op.kind === "dup3" ? op.flags : 0;
        if (op.kind === "dup3" && (flags & ~O_CLOEXEC) !== 0) return EINVAL;
        if (op.kind === "dup3" && op.fd === op.target) return EINVAL;
        if (!d || op.target < 0 || op.target >= TABLE_SIZE) return EBADF;
        if (op.fd === op.target) return op.target;
        return this.install(proc, op.target, { file: d.file, cloexec: flags !== 0 });
      }
      case "dupfd": {
        if (!d) return EBADF;
        if (op.lowest < 0 || op.lowest >= TABLE_SIZE) return EINVAL;
        const fd = this.free(proc, op.lowest);
        return fd < 0 ? EMFILE : this.install(proc, fd, { file: d.file, cloexec: op.cloexec });
      }
      case "setfd":
        if (!d) return EBADF;
        d.cloexec = (op.flags & FD_CLOEXEC) !== 0;
        return 0;
      case "setfl":
        if (!d) return EBADF;
        d.file.flags = (d.file.flags & 3) | (op.flags & (O_APPEND | O_NONBLOCK));
        return 0;
      case "seek":
        if (!d) return EBADF;
        d.file.offset = op.offset;
        return op.offset;
      case "close":
        return proc.table.delete(op.fd) ? 0 : EBADF;
      case "exec":
        for (const [fd, descriptor] of proc.table) if (descriptor.cloexec) proc.table.delete(fd);
        return 0;
      case "fork":
      case "exit":
        throw new Error(`${op.kind} changes the process list: the test runs it`);
    }
  }

  /** How many descriptors, in every process, refer to each open file. */
  holders(): Map<OpenFile, number> {
    const counts = new Map<OpenFile, number>();
    for (const proc of this.procs) for (const { file } of proc.table.values()) counts.set(file, (counts.get(file) ?? 0) + 1);
    return counts;
  }
}

/** A descriptor of `proc`: mostly an open one, sometimes any number, out of range included. */
function randomFd(proc: Proc, rng: Random): number {
  const open = [...proc.table.keys()];
  return open.length > 0 && rng.chance(0.8) ? rng.pick(open) : rng.between(-1, TABLE_SIZE + 2);
}

/** An operation in `proc`; `mayExit`: it is not the first process, which the test keeps to the end. */
function randomOp(model: Model, proc: Proc, rng: Random, mayExit: boolean): Op {
  const fd = () => randomFd(proc, rng);
  /** A target for dup2 and dup3: now and then the descriptor itself. */
  const target = (from: number) => (rng.chance(0.15) ? from : rng.chance(0.1) ? -1 : fd());
  switch (rng.weighted({ open: 10, dup: 12, dup2: 8, dup3: 8, dupfd: 8, setfd: 6, setfl: 4, seek: 4, close: 14,
    fork: model.procs.length < MAX_PROCESSES ? 2 : 0, exec: 2, exit: mayExit ? 1 : 0 })) {
    case "open": {
      const access = rng.pick([O_RDONLY, O_WRONLY, O_RDWR]);
      const flags = access | (rng.chance(0.4) ? O_CLOEXEC : 0) | (rng.chance(0.2) ? O_APPEND : 0) | (rng.chance(0.2) ? O_NONBLOCK : 0);
      return { kind: "open", file: rng.pick(FILES), flags };
    }
    case "dup": return { kind: "dup", fd: fd() };
    case "dup2": {
      const from = fd();
      return { kind: "dup2", fd: from, target: target(from) };
    }
    case "dup3": {
      const from = fd();
      return { kind: "dup3", fd: from, target: target(from), flags: rng.pick([0, O_CLOEXEC, O_CLOEXEC, O_NONBLOCK]) };
    }
    case "dupfd": return { kind: "dupfd", fd: fd(), lowest: rng.between(-1, TABLE_SIZE + 2), cloexec: rng.chance(0.5) };
    case "setfd": return { kind: "setfd", fd: fd(), flags: rng.pick([0, FD_CLOEXEC, 3]) };
    case "setfl": return { kind: "setfl", fd: fd(), flags: rng.pick([0, O_APPEND, O_NONBLOCK, O_APPEND | O_NONBLOCK | O_WRONLY]) };
    case "seek": return { kind: "seek", fd: fd(), offset: rng.below(10000) };
    case "close": return { kind: "close", fd: fd() };
    case "fork": return { kind: "fork" };
    case "exec": return { kind: "exec" };
    default: return { kind: "exit" };
  }
}

function run(proc: Proc, op: Op): number {
  const { p } = proc;
  switch (op.kind) {
    case "open": return sys(p, SYS.openat, AT_FDCWD, path(p, op.file), op.flags, 0);
    case "dup": return sys(p, SYS.dup, op.fd);
    case "dup2": return sys(p, SYS.dup2, op.fd, op.target);
    case "dup3": return sys(p, SYS.dup3, op.fd, op.target, op.flags);
    case "dupfd": return sys(p, SYS.fcntl, op.fd, op.cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, op.lowest);
    case "setfd": return sys(p, SYS.fcntl, op.fd, F_SETFD, op.flags);
    case "setfl": return sys(p, SYS.fcntl, op.fd, F_SETFL, op.flags);
    case "seek": return sys(p, SYS.lseek, op.fd, op.offset, SEEK_SET);
    case "close": return sys(p, SYS.close, op.fd);
    case "exec":
      p.k.exports.closeOnExec(p.address);
      return 0;
    case "fork":
    case "exit":
      throw new Error(`${op.kind} changes the process list: the test runs it`);
  }
}

/** Open files against kernel File records: each keeps the record it was first seen with while it is open, and no two share one. */
class Records {
  private recordOf = new Map<OpenFile, number>();

  check(model: Model, k: Kernel, what: string): void {
    const holders = model.holders();
    for (const file of this.recordOf.keys()) if (!holders.has(file)) this.recordOf.delete(file); // closed: the record may come back
    const owners = new Map<number, OpenFile>();
    const view = k.view();
    for (const [index, { p, table }] of model.procs.entries()) {
      const slots = view.getUint32(view.getUint32(p.address + FILES_OFFSET, true), true);
      for (let fd = 0; fd < TABLE_SIZE; fd++) {
        const entry = view.getUint32(slots + fd * 4, true);
        const d = table.get(fd);
        const where = () => `${what}: process ${index}, descriptor ${fd}`;
        if ((entry !== 0) !== (d !== undefined)) expect.fail(`${where()} is ${entry !== 0 ? "open" : "closed"}, not in the model`);
        if (d === undefined) continue;
        if (((entry & FD_CLOEXEC) !== 0) !== d.cloexec) expect.fail(`${where()}: close-on-exec is not ${d.cloexec}`);
        const record = entry & ~FD_CLOEXEC;
        const known = this.recordOf.get(d.file) ?? record;
        const owner = owners.get(record) ?? d.file;
        if (known !== record || owner !== d.file) expect.fail(`${where()}: open file record 0x${record.toString(16)}, not the model's`);
        this.recordOf.set(d.file, record);
        owners.set(record, d.file);
      }
    }
    const references = [...holders.keys()].map((file) => view.getUint32(this.recordOf.get(file)! + FILE_REFCOUNT, true));
    expect(references, `${what}: references to each open file`).toEqual([...holders.values()]);
  }
}

/** Every descriptor (and a few past the table) through fcntl and lseek. */
function askEveryDescriptor(model: Model, what: string): void {
  for (const [index, { p, table }] of model.procs.entries()) {
    const got = [];
    const expected = [];
    for (let fd = -1; fd < TABLE_SIZE + 2; fd++) {
      const d = table.get(fd);
      const flags = sys(p, SYS.fcntl, fd, F_GETFL);
      got.push({ fd, getfd: sys(p, SYS.fcntl, fd, F_GETFD), getfl: flags < 0 ? flags : flags & FILE_FLAGS, offset: sys(p, SYS.lseek, fd, 0, SEEK_CUR) });
      expected.push({ fd, getfd: d ? (d.cloexec ? FD_CLOEXEC : 0) : EBADF, getfl: d ? d.file.flags : EBADF, offset: d ? d.file.offset : EBADF });
    }
    expect(got, `${what}: process ${index}`).toEqual(expected);
  }
}

describe("descriptor flags through dup, fcntl, fork and exec, against a model", () => {
  for (const seed of SEEDS) {
    it(`agrees with the model for ${OPERATIONS} operations (seed ${seed}), and gives back everything`, () => {
      const k = loadKernel({ memoryPages: 512 });
      expect(bootWithInitramfs(k, archive([]).bytes)).toBe(0);
      expect(k.exports.zeroPage()).not.toBe(0); // allocated once, for good: not a leak
      const base = { free: freeCount(k), objects: k.exports.kernelObjectsInUse() };
      const model = new Model();
      const first: Proc = { p: spawn(k), table: new Map() };
      model.procs.push(first);
      for (const file of FILES) expect(sys(first.p, SYS.close, sys(first.p, SYS.openat, AT_FDCWD, path(first.p, file), O_CREAT | O_RDWR, 0o644))).toBe(0);
      const records = new Records();
      const rng = new Random(seed);
      for (let i = 0; i < OPERATIONS; i++) {
        const index = rng.below(model.procs.length);
        const proc = model.procs[index];
        const op = randomOp(model, proc, rng, index > 0);
        const what = `seed ${seed}, operation ${i}, process ${index}: ${JSON.stringify(op)}`;
        if (op.kind === "fork") {
          const child: Proc = { p: spawn(k), table: new Map([...proc.table].map(([fd, d]) => [fd, { ...d }])) };
          k.exports.copyDescriptorTable(child.p.address, proc.p.address);
          model.procs.push(child);
        } else if (op.kind === "exit") {
          exit(proc.p);
          model.procs.splice(index, 1);
        } else {
          expect(describeResult(run(proc, op)), what).toBe(describeResult(model.apply(proc, op)));
        }
        records.check(model, k, what);
        if (i % CHECK_EVERY === CHECK_EVERY - 1) askEveryDescriptor(model, what);
      }
      for (const { p } of model.procs.slice(1)) exit(p);
      for (const file of FILES) expect(sys(first.p, SYS.unlinkat, AT_FDCWD, path(first.p, file), 0)).toBe(0);
      exit(first.p);
      expect(k.exports.kernelObjectsInUse(), "kernel objects").toBe(base.objects);
      expect(freeCount(k), "free frames").toBe(base.free);
    });
  }
});
