/**
 * Proves that src/core does no I/O: no `Deno.` API, no timers, no console,
 * no fetch, and imports only other core modules, the ports, zod, or type-only modules.
 */
const FORBIDDEN: [RegExp, string][] = [
  [/\bDeno\./, "uses the Deno namespace"],
  [/\b(setTimeout|setInterval|queueMicrotask)\s*\(/, "uses a timer"],
  [/\bconsole\./, "logs"],
  [/\bfetch\s*\(/, "fetches"],
  [/\bMath\.random\s*\(|crypto\.randomUUID/, "draws randomness"],
  [/\bDate\.now\s*\(|new Date\(\s*\)/, "reads the clock"],
];

const coreDir = new URL("../src/core/", import.meta.url);
const problems: string[] = [];

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walk(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

let files = 0;
for await (const file of walk(coreDir)) {
  files++;
  const text = await Deno.readTextFile(file);
  const name = file.pathname.slice(file.pathname.indexOf("/src/core/") + 1);
  text.split("\n").forEach((line, index) => {
    const code = line.replace(/\/\/.*$/, "");
    for (const [pattern, why] of FORBIDDEN) {
      if (pattern.test(code)) problems.push(`${name}:${index + 1}: ${why}: ${line.trim()}`);
    }
    const imported = /^\s*import\s+(type\s+)?.*from\s+"([^"]+)"/.exec(code);
    if (imported) {
      const [, typeOnly, spec = ""] = imported;
      const allowed = spec.startsWith("./") ||
        spec.startsWith("../") && !spec.includes("adapters") &&
          !spec.includes("/app/") ||
        spec === "zod" || typeOnly !== undefined;
      // ports.ts holds only interfaces and constants; anything else outside core is I/O.
      const target = new URL(spec, file).pathname;
      const escapes = spec.startsWith("../") && !typeOnly && !target.includes("/src/core/") &&
        !target.endsWith("/src/ports.ts");
      if (!allowed || escapes) problems.push(`${name}:${index + 1}: imports ${spec}`);
    }
  });
}

if (problems.length > 0) {
  console.error(`core purity: ${problems.length} problem(s)`);
  for (const problem of problems) console.error(`  ${problem}`);
  Deno.exit(1);
}
console.error(`core purity: ok (${files} files)`);
