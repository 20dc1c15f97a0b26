// tmpfs (kernel/fs/tmpfs.ts), the path walk (fs/path.ts) and the system
// calls that make, change, remove and look up names (syscall/names.ts,
// open.ts, attributes.ts, directories.ts), made by a test process under
// random operations and held against a model of Linux's rules
// (fs-model.ts): mkdir, mknod, open with O_CREAT (with O_EXCL, and
// appending through links), truncate, rename (with RENAME_NOREPLACE, over
// files and empty directories, a directory into its own subtree), unlink,
// rmdir, link, symlink and stat. After every operation the answer must be
// the model's; every CHECK_EVERY operations the whole tree is read back
// through getdents64, newfstatat and readlinkat and compared: names, kinds,
// modes, sizes, link counts (a directory's 2 + its subdirectories), and
// inode numbers, which hard links share and nothing else does. At the end
// everything is removed, and every frame and kernel object must be back.
import { describe, expect, it } from "vitest";
import { type Kernel, latin1, loadKernel } from "./kernel-wasm";
import { freeCount } from "./mm";
import { archive, bootWithInitramfs } from "./initramfs";
import { type Node, Namespace, type Op, randomOp } from "./fs-model";
import { Random } from "./random";
import {
  AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, BUFFER, BUFFER_BYTES, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL,
  O_RDONLY, O_WRONLY, RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFREG, SYS, type TestProcess, describeResult, exit, loadOwn,
  path, spawn, sys,
} from "./process";

const SEEDS = [1, 2, 3];
const OPERATIONS = 3000;
const CHECK_EVERY = 25;
/** What the boot tree's root holds besides what the operations make (mount points and /tmp). */
const BOOT_NAMES = ["tmp", "proc", "sys", "dev"];

const TYPE_BITS = { file: S_IFREG, dir: S_IFDIR, symlink: S_IFLNK };
const DIRENT_TYPES = { file: 8, dir: 4, symlink: 10 };

/** Runs `op` as the system calls a program would make; the answer, 0 or -errno. */
function run(p: TestProcess, op: Op): number {
  switch (op.kind) {
    case "mkdir": return sys(p, SYS.mkdirat, AT_FDCWD, path(p, op.path), op.mode);
    case "mknod": return sys(p, SYS.mknodat, AT_FDCWD, path(p, op.path), S_IFREG | op.mode, 0);
    case "create": {
      const fd = sys(p, SYS.openat, AT_FDCWD, path(p, op.path), O_CREAT | O_EXCL | O_WRONLY, op.mode);
      return fd < 0 ? fd : sys(p, SYS.close, fd);
    }
    case "append": {
      const fd = sys(p, SYS.openat, AT_FDCWD, path(p, op.path), O_CREAT | O_WRONLY | O_APPEND, 0o644);
      if (fd < 0) return fd;
      expect(sys(p, SYS.write, fd, BUFFER, op.bytes)).toBe(op.bytes);
      return sys(p, SYS.close, fd);
    }
    case "truncate": return sys(p, SYS.truncate, path(p, op.path), op.size);
    case "rename":
      return sys(p, SYS.renameat2, AT_FDCWD, path(p, op.from), AT_FDCWD, path(p, op.to, 1), op.noReplace ? RENAME_NOREPLACE : 0);
    case "unlink": return sys(p, SYS.unlinkat, AT_FDCWD, path(p, op.path), 0);
    case "rmdir": return sys(p, SYS.unlinkat, AT_FDCWD, path(p, op.path), AT_REMOVEDIR);
    case "link":
      return sys(p, SYS.linkat, AT_FDCWD, path(p, op.from), AT_FDCWD, path(p, op.to, 1), op.follow ? AT_SYMLINK_FOLLOW : 0);
    case "symlink": return sys(p, SYS.symlinkat, path(p, op.target), AT_FDCWD, path(p, op.path, 1));
    case "stat": return sys(p, SYS.newfstatat, AT_FDCWD, path(p, op.path), BUFFER, op.follow ? 0 : AT_SYMLINK_NOFOLLOW);
  }
}

/** The fields of struct stat the model knows, as newfstatat left them at BUFFER. */
function statBuffer(p: TestProcess) {
  const view = new DataView(loadOwn(p, BUFFER, 144).buffer);
  return {
    ino: view.getBigUint64(8, true),
    nlink: Number(view.getBigUint64(16, true)),
    mode: view.getUint32(24, true),
    size: Number(view.getBigUint64(48, true)),
  };
}

/** Every entry of the directory at `at`, read with getdents64 until it gives 0. */
function readDirectory(p: TestProcess, at: string): { ino: bigint; type: number; name: string }[] {
  const fd = sys(p, SYS.openat, AT_FDCWD, path(p, at), O_RDONLY | O_DIRECTORY, 0);
  expect(fd, `open ${at}`).toBeGreaterThanOrEqual(0);
  const entries = [];
  for (let n; (n = sys(p, SYS.getdents64, fd, BUFFER, BUFFER_BYTES)) !== 0; ) {
    expect(n, `getdents64 of ${at}`).toBeGreaterThan(0);
    const bytes = loadOwn(p, BUFFER, n);
    const view = new DataView(bytes.buffer);
    for (let offset = 0; offset < n; offset += view.getUint16(offset + 16, true)) {
      const name = bytes.subarray(offset + 19, bytes.indexOf(0, offset + 19));
      entries.push({ ino: view.getBigUint64(offset, true), type: view.getUint8(offset + 18), name: latin1(name) });
    }
  }
  expect(sys(p, SYS.close, fd)).toBe(0);
  return entries;
}

/** Inode numbers against model nodes: each node keeps the number it was first seen with, and no two share one. */
class Identities {
  private inoOf = new Map<Node, bigint>();
  private nodeOf = new Map<bigint, Node>();

  check(node: Node, ino: bigint, what: string): void {
    const known = this.inoOf.get(node) ?? ino;
    const owner = this.nodeOf.get(ino) ?? node;
    if (known !== ino || owner !== node) expect.fail(`${what}: inode ${ino}, but the model says ${known} (a name of node ${owner.id})`);
    this.inoOf.set(node, ino);
    this.nodeOf.set(ino, node);
  }
}

/** Reads the whole tree back from the kernel and compares it with the model. */
function checkTree(p: TestProcess, ns: Namespace, identities: Identities): void {
  const links = ns.linkCounts();
  const checkStat = (node: Node, at: string) => {
    expect(sys(p, SYS.newfstatat, AT_FDCWD, path(p, at), BUFFER, AT_SYMLINK_NOFOLLOW), `stat ${at}`).toBe(0);
    const got = statBuffer(p);
    const expected = { mode: TYPE_BITS[node.kind] | node.mode, nlink: links.get(node), size: Namespace.size(node) };
    expect({ mode: got.mode, nlink: got.nlink, size: got.size }, at).toEqual(expected);
    identities.check(node, got.ino, at);
  };
  const visit = (dir: Node, at: string) => {
    const entries = readDirectory(p, at);
    expect(entries.map((e) => e.name).sort(), `names in ${at}`).toEqual([".", "..", ...dir.entries.keys()].sort());
    for (const entry of entries) {
      const prefix = at === "/" ? "/" : `${at}/`;
      if (entry.name === "." || entry.name === "..") {
        identities.check(entry.name === "." ? dir : dir.parent, entry.ino, `${prefix}${entry.name}`);
        continue;
      }
      const node = dir.entries.get(entry.name)!;
      expect(entry.type, `type of ${prefix}${entry.name}`).toBe(DIRENT_TYPES[node.kind]);
      if (node.foreign) continue;
      checkStat(node, prefix + entry.name);
      identities.check(node, entry.ino, `${prefix}${entry.name} in getdents64`);
      if (node.kind === "symlink") {
        const n = sys(p, SYS.readlinkat, AT_FDCWD, path(p, prefix + entry.name), BUFFER, 4096);
        expect(latin1(loadOwn(p, BUFFER, Math.max(n, 0))), `target of ${prefix}${entry.name}`).toBe(node.target);
      }
      if (node.kind === "dir") visit(node, prefix + entry.name);
    }
  };
  checkStat(ns.root, "/");
  visit(ns.root, "/");
}

function boot(): Kernel {
  const k = loadKernel({ memoryPages: 512 });
  expect(bootWithInitramfs(k, archive([]).bytes)).toBe(0);
  expect(k.exports.zeroPage()).not.toBe(0); // allocated once, for good: not a leak
  return k;
}

describe("tmpfs under random name operations, against a model of Linux", () => {
  for (const seed of SEEDS) {
    it(`agrees with the model for ${OPERATIONS} operations (seed ${seed}), and gives back everything`, () => {
      const k = boot();
      const base = { free: freeCount(k), objects: k.exports.kernelObjectsInUse() };
      const p = spawn(k);
      const ns = new Namespace(BOOT_NAMES);
      const identities = new Identities();
      const rng = new Random(seed);
      const step = (i: number | string, op: Op) => {
        const what = `seed ${seed}, operation ${i}: ${JSON.stringify(op)}`;
        let got: number;
        try {
          got = run(p, op);
        } catch (error) {
          throw new Error(`${what}: ${(error as Error).message}`);
        }
        expect(describeResult(got), what).toBe(describeResult(ns.apply(op)));
        if (op.kind === "stat" && got === 0) identities.check(ns.lookup(op.path, op.follow) as Node, statBuffer(p).ino, what);
      };
      for (let i = 0; i < OPERATIONS; i++) {
        step(i, randomOp(ns, rng));
        if (i % CHECK_EVERY === CHECK_EVERY - 1) checkTree(p, ns, identities);
      }
      // Children before their directories; every name of a hard-linked file separately.
      for (const { path: at, node } of ns.names().reverse()) {
        if (!node.foreign) step("teardown", node.kind === "dir" ? { kind: "rmdir", path: at } : { kind: "unlink", path: at });
      }
      checkTree(p, ns, identities);
      exit(p);
      expect(k.exports.cachedPageCount(), "cached pages").toBe(0);
      expect(k.exports.kernelObjectsInUse(), "kernel objects").toBe(base.objects);
      expect(freeCount(k), "free frames").toBe(base.free);
    });
  }
});
