// kernel/fs/ext2 under the random name operations of tmpfs-model.test.ts
// (fs-model.ts: Linux's rules for mkdir, mknod, create, append, truncate,
// rename, unlink, rmdir, link, symlink and stat), with an ext2 file
// system as the root of the tree, as a root=/dev/vda boot makes it. Every
// answer must be the model's, and every CHECK_EVERY operations the tree
// read back (names, kinds, modes, link counts, file sizes, inode numbers,
// link targets) must be the model's; at the end, unmounted, the image
// must pass e2fsck -fn.
import { describe, expect, it } from "vitest";
import { latin1 } from "./kernel-wasm";
import { type Node, Namespace, type Op, randomOp } from "./fs-model";
import { Random } from "./random";
import {
  AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, BUFFER, O_APPEND, O_CREAT, O_EXCL, O_WRONLY,
  RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFREG, SYS, type TestProcess, describeResult, exit, loadOwn, path, spawn, sys,
} from "./process";
import { DISK_RDEV, bootDisk, diskImage, fsck, listDirectory, makeImage } from "./ext2-disk";

/** Each seed on its own block size. */
const RUNS = [{ seed: 1, blockSize: 1024 }, { seed: 2, blockSize: 2048 }, { seed: 3, blockSize: 4096 }] as const;
const OPERATIONS = 3000;
const CHECK_EVERY = 25;
const TYPE_BITS = { file: S_IFREG, dir: S_IFDIR, symlink: S_IFLNK };
const DIRENT_TYPES = { file: 8, dir: 4, symlink: 10 };

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

function statOf(p: TestProcess, at: string) {
  expect(sys(p, SYS.newfstatat, AT_FDCWD, path(p, at), BUFFER, AT_SYMLINK_NOFOLLOW), `stat ${at}`).toBe(0);
  const view = new DataView(loadOwn(p, BUFFER, 144).buffer);
  return { ino: view.getBigUint64(8, true), nlink: Number(view.getBigUint64(16, true)), mode: view.getUint32(24, true), size: Number(view.getBigUint64(48, true)) };
}

/** The tree read back against the model: a directory's size is ext2's (whole blocks), so only files' and links' are compared. */
function checkTree(p: TestProcess, ns: Namespace, inos: Map<Node, bigint>): void {
  const links = ns.linkCounts();
  const checkNode = (node: Node, at: string, ino: bigint) => {
    const got = statOf(p, at);
    expect({ mode: got.mode, nlink: got.nlink }, at).toEqual({ mode: TYPE_BITS[node.kind] | node.mode, nlink: links.get(node) });
    if (node.kind !== "dir") expect(got.size, `size of ${at}`).toBe(Namespace.size(node));
    expect(got.ino, `inode of ${at}`).toBe(ino);
    const known = inos.get(node) ?? ino;
    expect(ino, `${at} keeps its inode number`).toBe(known);
    inos.set(node, ino);
  };
  const visit = (dir: Node, at: string) => {
    const entries = listDirectory(p, at);
    if (typeof entries === "number") throw new Error(`getdents64 ${at}: ${entries}`);
    expect(entries.map((e) => e.name).sort(), `names in ${at}`).toEqual([".", "..", ...dir.entries.keys()].sort());
    const prefix = at === "/" ? "/" : `${at}/`;
    for (const entry of entries) {
      if (entry.name === "." || entry.name === "..") continue;
      const node = dir.entries.get(entry.name)!;
      expect(entry.type, `type of ${prefix}${entry.name}`).toBe(DIRENT_TYPES[node.kind]);
      if (node.foreign) continue;
      checkNode(node, prefix + entry.name, entry.ino);
      if (node.kind === "symlink") {
        const n = sys(p, SYS.readlinkat, AT_FDCWD, path(p, prefix + entry.name), BUFFER, 4096);
        expect(latin1(loadOwn(p, BUFFER, Math.max(n, 0))), `target of ${prefix}${entry.name}`).toBe(node.target);
      }
      if (node.kind === "dir") visit(node, prefix + entry.name);
    }
  };
  visit(ns.root, "/");
}

describe("ext2 as the root, under random name operations, against a model of Linux", () => {
  for (const { seed, blockSize } of RUNS) {
    it(`agrees with the model for ${OPERATIONS} operations (seed ${seed}, ${blockSize}-byte blocks), and e2fsck finds it clean`, () => {
      const d = bootDisk(makeImage({ blockSize, kib: 8192 }));
      const { k } = d;
      expect(k.exports.mountExt2AsRoot(d.device, DISK_RDEV)).toBe(0n);
      const p = spawn(k); // its working directory is the new root
      const ns = new Namespace(["lost+found"]);
      const inos = new Map<Node, bigint>();
      const rng = new Random(seed);
      for (let i = 0; i < OPERATIONS; i++) {
        const op = randomOp(ns, rng);
        const what = `seed ${seed}, operation ${i}: ${JSON.stringify(op)}`;
        expect(describeResult(run(p, op)), what).toBe(describeResult(ns.apply(op)));
        if (i % CHECK_EVERY === CHECK_EVERY - 1) checkTree(p, ns, inos);
      }
      checkTree(p, ns, inos);
      exit(p);
      expect(k.exports.unmountExt2Root()).toBe(0n);
      const check = fsck(diskImage(d));
      expect(check.status, check.output).toBe(0);
      expect(k.serial()).not.toMatch(/ext2:/);
    });
  }
});
