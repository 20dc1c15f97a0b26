// The kernel's layering, checked from the source: the README's "Layers"
// table says which folder under kernel/ may import which, and this test
// reads every file's import lines (not a bundler's graph: madge misreads
// AssemblyScript's `<T>` casts and silently drops files) and fails on an
// import that goes up or sideways in that table, or on any import cycle.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";

const repo = join(__dirname, "..", "..");
const kernel = join(repo, "kernel");

type Rules = Map<string, Set<string> | "everything">;

/** The table under "### Layers" in the README: layer name to the layers it may use. */
export function parseLayerTable(readme: string): Rules {
  const start = readme.indexOf("### Layers");
  if (start < 0) throw new Error("README has no Layers section");
  const section = readme.slice(start, readme.indexOf("\n#", start + 1));
  const rules: Rules = new Map();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !cells[1].startsWith("`")) continue;
    const used = cells[2] === "everything" ? "everything" : new Set(cells[2] === "nothing" ? [] : cells[2].split(/,\s*/));
    for (const name of cells[1].split(/,\s*/)) rules.set(name.replace(/`/g, "").replace(/\/$/, "").replace(/\.ts$/, ""), used);
  }
  return rules;
}

/** Module specifiers of `import ... from "x"`, `import "x"` and `export ... from "x"`, comments ignored. */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  const clause = String.raw`(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+)(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?`;
  const statement = new RegExp(String.raw`^\s*(?:import|export)\s+(?:${clause}\s*from\s*)?"([^"]+)"`, "gm");
  for (const m of code.matchAll(statement)) found.push(m[1]);
  return found;
}

/** The layer of a path relative to kernel/: its first folder, or the file's own name at the top. */
function layerOf(path: string): string {
  const parts = path.split(sep);
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.ts$/, "");
}

function kernelFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return kernelFiles(path);
    return name.endsWith(".ts") ? [relative(kernel, path)] : [];
  });
}

/** Every file's imports, as paths relative to kernel/ (imports of anything outside kernel/ are reported as such). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of kernelFiles(kernel)) {
    const targets = importsOf(readFileSync(join(kernel, file), "utf8")).map((spec) => {
      if (!spec.startsWith(".")) return spec;
      return normalize(join(dirname(file), spec)) + ".ts";
    });
    graph.set(file, targets);
  }
  return graph;
}

/** Imports the table forbids, as "from -> to (layer -> layer)". */
export function layerViolations(graph: Map<string, string[]>, rules: Rules): string[] {
  const bad: string[] = [];
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    const allowed = rules.get(from);
    for (const target of targets) {
      const to = layerOf(target);
      if (to === from && !target.startsWith("..")) continue;
      if (allowed === "everything" && !target.startsWith("..")) continue;
      if (allowed === undefined) bad.push(`${file}: layer ${from} is not in the table`);
      else if (allowed === "everything" || !allowed.has(to)) bad.push(`${file} -> ${target} (${from} -> ${to})`);
    }
  }
  return bad;
}

/** Strongly connected groups of more than one file, or a file importing itself (Tarjan). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== file);
    if (group.length > 1 || (graph.get(file) ?? []).includes(file)) cycles.push(group.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return cycles;
}

describe("kernel layering", () => {
  const rules = parseLayerTable(readFileSync(join(repo, "README.md"), "utf8"));
  const graph = importGraph();

  it("reads a table naming every layer, and every file's imports", () => {
    const layers = new Set([...graph.keys()].map(layerOf));
    expect([...layers].filter((l) => !rules.has(l))).toEqual([]);
    // Every `from "` and bare `import "` in the source is one parsed import, so a statement the parser misreads cannot slip by.
    let written = 0;
    for (const file of graph.keys()) written += (readFileSync(join(kernel, file), "utf8").match(/\bfrom\s*"|^import\s+"/gm) ?? []).length;
    const parsed = [...graph.values()].reduce((n, t) => n + t.length, 0);
    expect(parsed).toBe(written);
    expect(parsed).toBeGreaterThan(400);
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (target.startsWith(".") || !target.endsWith(".ts")) throw new Error(`${file} imports ${target}, outside kernel/`);
        expect(graph.has(target), `${file} imports ${target}, which does not exist`).toBe(true);
      }
    }
  });

  it("has no import that goes up or sideways in the README's table", () => {
    expect(layerViolations(graph, rules)).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it("catches an upward import, a sideways one and a cycle when they are there", () => {
    const fake = new Map<string, string[]>([
      ["mm/fault.ts", ["proc/process.ts", "lib/format.ts"]],
      ["proc/process.ts", ["mm/fault.ts"]],
      ["console/serial.ts", ["time/clock.ts"]],
      ["lib/format.ts", []],
      ["time/clock.ts", []],
    ]);
    expect(layerViolations(fake, rules)).toEqual([
      "mm/fault.ts -> proc/process.ts (mm -> proc)",
      "console/serial.ts -> time/clock.ts (console -> time)",
    ]);
    expect(importCycles(fake)).toEqual([["mm/fault.ts", "proc/process.ts"]]);
    expect(importsOf('import {\n  a,\n  b,\n} from "../x";\n// import { c } from "../y";\nexport { d } from "./z";\nimport "./w";'))
      .toEqual(["../x", "./z", "./w"]);
  });
});
