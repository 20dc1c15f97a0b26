// make-initramfs.mjs OUT.cpio DEST=SOURCE...
// Writes a cpio "newc" archive (the format Linux's initramfs uses). Each
// argument puts SOURCE (a file, or a directory copied recursively) at DEST
// inside the archive, e.g. `/=user/rootfs /bin/hello=build/user/bin/hello`;
// SOURCE `char:MAJOR:MINOR` makes a character device node (Linux needs
// /dev/console in an initramfs) and `link:TARGET` a symbolic link; symbolic
// links in a SOURCE directory stay links. Parent directories are added as
// needed; the output is deterministic.
// `make-initramfs.mjs --tree DIR DEST=SOURCE...` writes the same files into
// the directory DIR instead (for an ext2 image made from it: make disk);
// device nodes are left out there (the kernel makes /dev at boot).
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const tree = process.argv[2] === "--tree";
const [out, ...mappings] = process.argv.slice(tree ? 3 : 2);
const entries = new Map(); // archive path (no leading slash) -> { mode, data }

function addDirectory(path) {
  if (path === "" || entries.has(path)) return;
  addDirectory(path.split("/").slice(0, -1).join("/"));
  entries.set(path, { mode: 0o040755, data: Buffer.alloc(0) });
}

function add(dest, source) {
  const path = dest.replace(/^\/+|\/+$/g, "");
  const device = source.match(/^char:(\d+):(\d+)$/);
  if (device) {
    addDirectory(path.split("/").slice(0, -1).join("/"));
    entries.set(path, { mode: 0o020600, data: Buffer.alloc(0), rdev: [Number(device[1]), Number(device[2])] });
    return;
  }
  const link = source.match(/^link:(.+)$/);
  if (link) {
    addDirectory(path.split("/").slice(0, -1).join("/"));
    entries.set(path, { mode: 0o120777, data: Buffer.from(link[1]) });
    return;
  }
  const stat = lstatSync(source);
  if (stat.isSymbolicLink()) {
    add(dest, `link:${readlinkSync(source)}`);
    return;
  }
  if (stat.isDirectory()) {
    addDirectory(path);
    for (const name of readdirSync(source).sort()) add(path ? `${path}/${name}` : name, join(source, name));
    return;
  }
  addDirectory(path.split("/").slice(0, -1).join("/"));
  entries.set(path, { mode: 0o100000 | (stat.mode & 0o111 ? 0o755 : 0o644), data: readFileSync(source) });
}

for (const mapping of mappings) {
  const at = mapping.indexOf("=");
  add(mapping.slice(0, at), mapping.slice(at + 1));
}

if (tree) {
  mkdirSync(out, { recursive: true });
  for (const path of [...entries.keys()].sort()) {
    const { mode, data } = entries.get(path);
    const at = join(out, path);
    if ((mode & 0o170000) === 0o040000) mkdirSync(at, { recursive: true });
    else if ((mode & 0o170000) === 0o120000) symlinkSync(data.toString(), at);
    else if ((mode & 0o170000) === 0o100000) {
      writeFileSync(at, data);
      chmodSync(at, mode & 0o7777);
    }
  }
  process.exit(0);
}

const hex = (n) => n.toString(16).padStart(8, "0");
const pad4 = (n) => (4 - (n % 4)) % 4;
const parts = [];
let ino = 1;
function record(name, mode, data, rdev = [0, 0]) {
  const nameBytes = Buffer.from(name + "\0");
  const fields = [ino++, mode, 0, 0, mode & 0o040000 ? 2 : 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from("070701" + fields.map(hex).join(""), "ascii");
  parts.push(header, nameBytes, Buffer.alloc(pad4(header.length + nameBytes.length)), data, Buffer.alloc(pad4(data.length)));
}
record(".", 0o040755, Buffer.alloc(0));
for (const path of [...entries.keys()].sort()) {
  const entry = entries.get(path);
  record(path, entry.mode, entry.data, entry.rdev);
}
record("TRAILER!!!", 0, Buffer.alloc(0));
writeFileSync(out, Buffer.concat(parts));
