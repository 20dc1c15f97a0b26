// A model of a Linux tmpfs name space, for tmpfs-model.test.ts: directories,
// regular files (their sizes only), symbolic links and hard links; the path
// walk; and the answer each call that makes, changes or looks up names
// gives, its checks made in the order Linux makes them (fs/namei.c,
// fs/open.c). The model was checked against Linux 6.18's tmpfs by
// replaying its random operations there (seeds 1 to 10, 3000 operations
// each: every answer, and the tree every 25 operations). Link counts and
// directory sizes are not kept but computed from the tree, so they cannot
// drift from it.
import type { Random } from "./random";

const EPERM = 1;
const ENOENT = 2;
const EBUSY = 16;
const EEXIST = 17;
const ENOTDIR = 20;
const EISDIR = 21;
const EINVAL = 22;
const ENOTEMPTY = 39;
const ELOOP = 40;
const MAX_LINKS = 40;
/** Linux's tmpfs gives a directory 20 bytes a name (BOGO_DIRENT_SIZE), counting "." and "..". */
const ENTRY_BYTES = 20;

export type Kind = "file" | "dir" | "symlink";

export interface Node {
  id: number;
  kind: Kind;
  /** Permission bits (and the sticky bit). */
  mode: number;
  /** A file's size. */
  bytes: number;
  /** A symbolic link's target. */
  target: string;
  /** A directory's entries. */
  entries: Map<string, Node>;
  /** A directory's parent (the root's is the root). */
  parent: Node;
  /** A directory the model knows only by name (a mount point the operations never name): its contents are not modelled. */
  foreign: boolean;
}

/** Where a walk to the parent ended: the directory, the last component ("" for "/"), whether a slash followed it. */
interface Parent {
  dir: Node;
  last: string;
  slash: boolean;
}

/** A path's components, each with whether a slash follows it. */
type Components = { name: string; slash: boolean }[];

function componentsOf(path: string): Components {
  const parts = path.split("/");
  return parts.flatMap((name, i) => (name === "" ? [] : [{ name, slash: i < parts.length - 1 }]));
}

/** A name a call can make or remove: not "/" (""), "." or "..". */
const isName = (last: string) => last !== "" && last !== "." && last !== "..";

export type Op =
  | { kind: "mkdir"; path: string; mode: number }
  | { kind: "mknod"; path: string; mode: number } // a regular file
  | { kind: "create"; path: string; mode: number } // openat(O_CREAT | O_EXCL | O_WRONLY), then close
  | { kind: "append"; path: string; bytes: number } // openat(O_CREAT | O_WRONLY | O_APPEND, 0644), write, close
  | { kind: "truncate"; path: string; size: number }
  | { kind: "rename"; from: string; to: string; noReplace: boolean }
  | { kind: "unlink"; path: string }
  | { kind: "rmdir"; path: string }
  | { kind: "link"; from: string; to: string; follow: boolean }
  | { kind: "symlink"; target: string; path: string }
  | { kind: "stat"; path: string; follow: boolean };

export class Namespace {
  readonly root: Node;
  private nextId = 1;

  /** A root holding only the directories `foreign` (as the boot tree holds /tmp, /proc and /dev). */
  constructor(foreign: string[]) {
    this.root = this.node("dir", 0o755);
    for (const name of foreign) this.add(this.root, name, Object.assign(this.node("dir", 0o755), { foreign: true }));
  }

  private node(kind: Kind, mode: number, target = ""): Node {
    const node = { id: this.nextId++, kind, mode, bytes: 0, target, entries: new Map(), foreign: false } as Node;
    node.parent = node; // the root's stays so; a directory's is set when it gets its name
    return node;
  }

  private add(dir: Node, name: string, node: Node): Node {
    dir.entries.set(name, node);
    if (node.kind === "dir") node.parent = dir;
    return node;
  }

  /**
   * Walks `path` from `start` (the root for an absolute path): "." stays,
   * ".." goes up (not above the root), every component with more after it
   * must be a directory, links are followed (at most MAX_LINKS in one call,
   * counted in `links`) except a last one unless `follow` or a slash
   * follows it, and a slash after the last component asks for a directory;
   * a link's target keeps the slash that followed the link. `toParent`:
   * stop before the last component.
   */
  private walk(start: Node, path: string, toParent: boolean, follow: boolean, links = { count: 0 }): Node | Parent | number {
    if (path === "") return -ENOENT;
    let at = path.startsWith("/") ? this.root : start;
    let pending = componentsOf(path);
    if (pending.length === 0) return toParent ? { dir: at, last: "", slash: false } : at;
    let mustBeDirectory = false;
    while (pending.length > 0) {
      const { name, slash } = pending.shift()!;
      const last = pending.length === 0;
      if (at.kind !== "dir") return -ENOTDIR;
      if (last && toParent) return { dir: at, last: name, slash };
      const next = name === "." ? at : name === ".." ? at.parent : at.entries.get(name);
      if (next === undefined) return -ENOENT;
      if (next.kind === "symlink" && (!last || follow || slash)) {
        if (++links.count > MAX_LINKS) return -ELOOP;
        const body = componentsOf(next.target);
        if (last && body.length > 0) body[body.length - 1].slash ||= slash;
        else if (last) mustBeDirectory = slash;
        if (next.target.startsWith("/")) at = this.root;
        pending = [...body, ...pending];
        continue;
      }
      at = next;
      if (last) mustBeDirectory = slash;
    }
    if (mustBeDirectory && at.kind !== "dir") return -ENOTDIR;
    return at;
  }

  lookup(path: string, follow: boolean): Node | number {
    return this.walk(this.root, path, false, follow) as Node | number;
  }

  private parentOf(path: string): Parent | number {
    return this.walk(this.root, path, true, false) as Parent | number;
  }

  /** The checks of Linux's filename_create (mkdir, mknod, symlink, link's new name); null when the name may be made. */
  private refuseCreate(p: Parent, directory: boolean): number | null {
    if (!isName(p.last) || p.dir.entries.has(p.last)) return -EEXIST;
    if (p.slash && !directory) return -ENOENT;
    return null;
  }

  mkdir(path: string, mode: number): number {
    const p = this.parentOf(path);
    if (typeof p === "number") return p;
    const refused = this.refuseCreate(p, true);
    if (refused !== null) return refused;
    this.add(p.dir, p.last, this.node("dir", mode));
    return 0;
  }

  mknod(path: string, mode: number): number {
    const p = this.parentOf(path);
    if (typeof p === "number") return p;
    const refused = this.refuseCreate(p, false);
    if (refused !== null) return refused;
    this.add(p.dir, p.last, this.node("file", mode));
    return 0;
  }

  symlink(target: string, path: string): number {
    if (target === "") return -ENOENT;
    const p = this.parentOf(path);
    if (typeof p === "number") return p;
    const refused = this.refuseCreate(p, false);
    if (refused !== null) return refused;
    this.add(p.dir, p.last, this.node("symlink", 0o777, target));
    return 0;
  }

  /**
   * openat with O_CREAT (and O_EXCL if `exclusive`, which follows no link):
   * the file opened or made, or -errno. A link in the last component leads
   * on to its target, which is made if missing.
   */
  open(path: string, exclusive: boolean, mode: number): Node | number {
    const links = { count: 0 };
    let start = this.root;
    let rest = path;
    while (true) {
      const p = this.walk(start, rest, true, false, links) as Parent | number;
      if (typeof p === "number") return p;
      if (!isName(p.last)) return exclusive ? -EEXIST : -EISDIR; // the directory itself
      if (p.slash) return -EISDIR;
      const found = p.dir.entries.get(p.last);
      if (found === undefined) return this.add(p.dir, p.last, this.node("file", mode));
      if (exclusive) return -EEXIST;
      if (found.kind !== "symlink") return found.kind === "dir" ? -EISDIR : found;
      if (++links.count > MAX_LINKS) return -ELOOP;
      start = p.dir;
      rest = found.target;
    }
  }

  create(path: string, mode: number): number {
    const opened = this.open(path, true, mode);
    return typeof opened === "number" ? opened : 0;
  }

  append(path: string, bytes: number): number {
    const opened = this.open(path, false, 0o644);
    if (typeof opened === "number") return opened;
    opened.bytes += bytes;
    return 0;
  }

  truncate(path: string, size: number): number {
    const found = this.lookup(path, true);
    if (typeof found === "number") return found;
    if (found.kind === "dir") return -EISDIR;
    found.bytes = size;
    return 0;
  }

  unlink(path: string): number {
    const p = this.parentOf(path);
    if (typeof p === "number") return p;
    if (!isName(p.last)) return -EISDIR;
    const found = p.dir.entries.get(p.last);
    if (found === undefined) return -ENOENT;
    if (found.kind === "dir") return -EISDIR;
    if (p.slash) return -ENOTDIR;
    p.dir.entries.delete(p.last);
    return 0;
  }

  rmdir(path: string): number {
    const p = this.parentOf(path);
    if (typeof p === "number") return p;
    if (p.last === "..") return -ENOTEMPTY;
    if (p.last === ".") return -EINVAL;
    if (p.last === "") return -EBUSY;
    const found = p.dir.entries.get(p.last);
    if (found === undefined) return -ENOENT;
    if (found.kind !== "dir") return -ENOTDIR;
    if (found.entries.size > 0) return -ENOTEMPTY;
    p.dir.entries.delete(p.last);
    return 0;
  }

  link(from: string, to: string, follow: boolean): number {
    const source = this.lookup(from, follow);
    if (typeof source === "number") return source;
    const p = this.parentOf(to);
    if (typeof p === "number") return p;
    const refused = this.refuseCreate(p, false);
    if (refused !== null) return refused;
    if (source.kind === "dir") return -EPERM;
    this.add(p.dir, p.last, source);
    return 0;
  }

  /**
   * Linux's lock_rename trap: when one parent is above the other, the
   * child of the upper one on the way down to the lower one. The source
   * may not be it (EINVAL: a directory into its own subtree), nor the
   * target (ENOTEMPTY: over a directory above the source).
   */
  private trap(from: Node, to: Node): Node | null {
    if (from === to) return null;
    for (let at = to; at !== this.root; at = at.parent) if (at.parent === from) return at;
    for (let at = from; at !== this.root; at = at.parent) if (at.parent === to) return at;
    return null;
  }

  rename(from: string, to: string, noReplace: boolean): number {
    const pf = this.parentOf(from);
    if (typeof pf === "number") return pf;
    const pt = this.parentOf(to);
    if (typeof pt === "number") return pt;
    if (!isName(pf.last)) return -EBUSY;
    if (!isName(pt.last)) return noReplace ? -EEXIST : -EBUSY;
    const source = pf.dir.entries.get(pf.last);
    if (source === undefined) return -ENOENT;
    const target = pt.dir.entries.get(pt.last);
    if (noReplace && target !== undefined) return -EEXIST;
    if (source.kind !== "dir" && (pf.slash || pt.slash)) return -ENOTDIR;
    const trap = this.trap(pf.dir, pt.dir);
    if (source === trap) return -EINVAL;
    if (target !== undefined && target === trap) return -ENOTEMPTY;
    if (target === source) return 0; // two names of one file: nothing happens
    if (target !== undefined) {
      if (source.kind === "dir" && target.kind !== "dir") return -ENOTDIR;
      if (source.kind !== "dir" && target.kind === "dir") return -EISDIR;
      if (target.entries.size > 0) return -ENOTEMPTY;
    }
    pf.dir.entries.delete(pf.last);
    this.add(pt.dir, pt.last, source);
    return 0;
  }

  apply(op: Op): number {
    switch (op.kind) {
      case "mkdir": return this.mkdir(op.path, op.mode);
      case "mknod": return this.mknod(op.path, op.mode);
      case "create": return this.create(op.path, op.mode);
      case "append": return this.append(op.path, op.bytes);
      case "truncate": return this.truncate(op.path, op.size);
      case "rename": return this.rename(op.from, op.to, op.noReplace);
      case "unlink": return this.unlink(op.path);
      case "rmdir": return this.rmdir(op.path);
      case "link": return this.link(op.from, op.to, op.follow);
      case "symlink": return this.symlink(op.target, op.path);
      case "stat": {
        const found = this.lookup(op.path, op.follow);
        return typeof found === "number" ? found : 0;
      }
    }
  }

  /** Every name in the tree below the root (not inside foreign directories), parents before children. */
  names(): { path: string; node: Node }[] {
    const out: { path: string; node: Node }[] = [];
    const visit = (dir: Node, prefix: string) => {
      for (const [name, node] of dir.entries) {
        out.push({ path: prefix + name, node });
        if (node.kind === "dir" && !node.foreign) visit(node, `${prefix + name}/`);
      }
    };
    visit(this.root, "");
    return out;
  }

  /** Link counts: a name each, and a directory's "." and its subdirectories' "..". */
  linkCounts(): Map<Node, number> {
    const counts = new Map<Node, number>([[this.root, 2]]);
    for (const { node } of this.names()) {
      counts.set(node, (counts.get(node) ?? (node.kind === "dir" ? 1 : 0)) + 1);
      if (node.kind === "dir") counts.set(node.parent, counts.get(node.parent)! + 1);
    }
    return counts;
  }

  static size(node: Node): number {
    if (node.kind === "dir") return (2 + node.entries.size) * ENTRY_BYTES;
    return node.kind === "symlink" ? node.target.length : node.bytes;
  }
}

// ---- random operations -------------------------------------------------------

/** The names paths are made of: few, so that operations keep meeting each other's files. */
const NAMES = ["a", "b", "c", "d", "e"];

/**
 * A path to an existing name (of a file or link only if `notDirectory`), a
 * new name in an existing directory, or random names with dots (mostly the
 * first for `existing`, the second otherwise); now and then absolute, with
 * a "." or ".." put in, or with a trailing slash.
 */
export function randomPath(ns: Namespace, rng: Random, existing: boolean, notDirectory = false): string {
  const known = ns.names().filter(({ node }) => !node.foreign && !(notDirectory && node.kind === "dir"));
  const name = () => (known.length === 0 ? [] : rng.pick(known).path.split("/"));
  let parts: string[];
  switch (rng.weighted(existing ? { name: 6, child: 2, random: 2 } : { name: 2, child: 6, random: 2 })) {
    case "name":
      parts = name();
      break;
    case "child":
      parts = [...(rng.chance(0.3) ? [] : name()), rng.pick(NAMES)];
      break;
    default:
      parts = Array.from({ length: rng.between(1, 3) }, () => (rng.chance(0.15) ? rng.pick([".", ".."]) : rng.pick(NAMES)));
  }
  if (rng.chance(0.08)) parts.splice(rng.below(parts.length + 1), 0, rng.pick([".", ".."]));
  let path = parts.join("/");
  if (rng.chance(0.12)) path = `/${path}`;
  if (path === "") return rng.pick([".", "/", "..", ""]);
  if (rng.chance(0.08)) path += "/";
  return path;
}

const WEIGHTS = {
  mkdir: 12, mknod: 4, create: 6, append: 8, truncate: 4, rename: 22, unlink: 9, rmdir: 8, link: 9, symlink: 8, stat: 10,
};

export function randomOp(ns: Namespace, rng: Random): Op {
  const old = () => randomPath(ns, rng, true);
  const fresh = () => randomPath(ns, rng, false);
  switch (rng.weighted(WEIGHTS)) {
    case "mkdir": return { kind: "mkdir", path: fresh(), mode: rng.pick([0o755, 0o700, 0o1777]) };
    case "mknod": return { kind: "mknod", path: fresh(), mode: rng.pick([0o644, 0o600]) };
    case "create": return { kind: "create", path: fresh(), mode: rng.pick([0o644, 0o640]) };
    case "append": return { kind: "append", path: rng.chance(0.7) ? old() : fresh(), bytes: rng.between(1, 300) };
    case "truncate": return { kind: "truncate", path: old(), size: rng.between(0, 2000) };
    case "rename": return { kind: "rename", from: old(), to: rng.chance(0.5) ? old() : fresh(), noReplace: rng.chance(0.3) };
    case "unlink": return { kind: "unlink", path: old() };
    case "rmdir": return { kind: "rmdir", path: old() };
    case "link": return { kind: "link", from: randomPath(ns, rng, true, rng.chance(0.8)), to: fresh(), follow: rng.chance(0.5) };
    case "symlink": return { kind: "symlink", target: rng.chance(0.5) ? old() : fresh(), path: fresh() };
    default: return { kind: "stat", path: old(), follow: rng.chance(0.6) };
  }
}
