/**
 * Proves the layering of src/ (ARCHITECTURE.md): each layer imports only the
 * layers below it, and no module imports itself through a circle of imports.
 *
 *   main.ts → cli/ → compose/ → app/, adapters/ → async/ → ports.ts → core/
 *
 * `app/` and `adapters/` never import each other: the composition root joins them.
 */

const SRC = new URL("../src/", import.meta.url);

/** Which top-level parts of src/ each part may import (besides itself). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  "main.ts": ["cli", "version.ts"],
  cli: ["compose", "app", "adapters", "async", "core", "ports.ts", "version.ts"],
  compose: ["app", "adapters", "async", "core", "ports.ts", "version.ts"],
  app: ["async", "core", "ports.ts"],
  adapters: ["async", "core", "ports.ts", "version.ts"],
  async: ["core", "ports.ts"],
  "ports.ts": ["core"],
  core: [],
  "version.ts": [],
};

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walk(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

/** The part of src/ a file belongs to: its first path segment. */
function partOf(path: string): string {
  return path.split("/")[0] ?? path;
}

const IMPORT =
  /^\s*(?:import|export)\s+(type\s+)?(?:[^"']*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

const graph = new Map<string, string[]>();
const problems: string[] = [];
for await (const file of walk(SRC)) {
  const name = file.pathname.slice(SRC.pathname.length);
  const text = await Deno.readTextFile(file);
  const targets: string[] = [];
  for (const match of text.matchAll(IMPORT)) targets.push(match[2] as string);
  for (const match of text.matchAll(DYNAMIC)) targets.push(match[1] as string);
  const edges: string[] = [];
  for (const spec of targets) {
    const target = new URL(spec, file).pathname;
    // The version comes from deno.json, the one place that states it.
    if (name === "version.ts" && spec === "../deno.json") continue;
    if (!target.startsWith(SRC.pathname)) {
      problems.push(`${name}: imports ${spec}, outside src/`);
      continue;
    }
    const to = target.slice(SRC.pathname.length);
    edges.push(to);
    const from = partOf(name);
    const into = partOf(to);
    if (from !== into && !(ALLOWED[from] ?? []).includes(into)) {
      problems.push(`${name}: imports ${to} (${from} may not import ${into})`);
    }
  }
  graph.set(name, edges);
}

// Depth-first search; a back edge closes a circle.
const state = new Map<string, "open" | "done">();
const stack: string[] = [];
function visit(node: string): void {
  state.set(node, "open");
  stack.push(node);
  for (const next of graph.get(node) ?? []) {
    const seen = state.get(next);
    if (seen === "open") {
      problems.push(`import circle: ${[...stack.slice(stack.indexOf(next)), next].join(" → ")}`);
    } else if (seen === undefined && graph.has(next)) visit(next);
  }
  stack.pop();
  state.set(node, "done");
}
for (const node of graph.keys()) if (!state.has(node)) visit(node);

if (problems.length > 0) {
  console.error(`layers: ${problems.length} problem(s)`);
  for (const problem of problems) console.error(`  ${problem}`);
  Deno.exit(1);
}
console.error(`layers: ok (${graph.size} files, no circles)`);
