// The modules a Debian kernel needs for a feature, in load order, from the
// unpacked linux-image package: Debian builds virtio_pci, virtio_blk and ext4
// as modules, and the package ships no modules.dep (depmod makes it at
// install time), so each module's dependencies come from the `depends=` of
// its own .modinfo section. Compressed modules (.ko.xz) are given back
// decompressed, since init loads them with finit_module and no decompressor.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const moduleName = (file) => basename(file).replace(/\.ko(\.xz)?$/, "").replaceAll("-", "_");

function allModules(dir, found = new Map()) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) allModules(path, found);
    else if (/\.ko(\.xz)?$/.test(entry.name)) found.set(moduleName(entry.name), path);
  }
  return found;
}

const contents = (path) => (path.endsWith(".xz") ? execFileSync("xz", ["-dc", path], { maxBuffer: 1 << 28 }) : readFileSync(path));

function dependencies(bytes) {
  const at = bytes.indexOf("\0depends=");
  if (at < 0) return [];
  const list = bytes.subarray(at + 9, bytes.indexOf(0, at + 9)).toString();
  return list ? list.split(",").map((name) => name.replaceAll("-", "_")) : [];
}

/**
 * Writes `names` and everything they depend on into `outDir` as NN-name.ko,
 * numbered so that loading the files in name order loads dependencies first.
 * Returns the written paths.
 */
export function linuxModules(moduleRoot, names, outDir) {
  const available = allModules(moduleRoot);
  const order = [];
  const visit = (name) => {
    if (order.some((m) => m.name === name)) return;
    const path = available.get(name);
    if (!path) throw new Error(`linux-modules: no module ${name} under ${moduleRoot}`);
    const bytes = contents(path);
    for (const dependency of dependencies(bytes)) visit(dependency);
    order.push({ name, bytes });
  };
  names.forEach(visit);
  mkdirSync(outDir, { recursive: true });
  return order.map(({ name, bytes }, i) => {
    const out = join(outDir, `${String(i).padStart(2, "0")}-${name}.ko`);
    writeFileSync(out, bytes);
    return out;
  });
}
