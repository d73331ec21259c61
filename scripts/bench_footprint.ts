/**
 * Where the bridge's resident memory goes (issue 19), in figures from /proc
 * beside what `Deno.memoryUsage()` says:
 * 1. imports: a script that only imports something and waits, for each of
 *    node:util, zod, `zod/mini`, yaml (and yaml parsing the example config),
 *    local ES-module copies of zod and of yaml's browser build (the same code
 *    without an `npm:` import, so without Deno's Node layer), and all of src/;
 * 2. idle: the bridge subscribed to the emulator with nothing to do, under
 *    the start task's flags and each extra flag set given (V8 flags by
 *    default), and, with `--vendored`, a copy of the program whose import map
 *    points zod and yaml at such local copies. A checkout given as `--main`
 *    runs with the start task of its own deno.json.
 * Columns: VmRSS, VmHWM, RssAnon, RssFile and of that the pages of the
 * Deno executable itself; each the median (lowest–highest) of `--repeat`
 * runs taken in turns.
 *
 *   deno run --allow-read --allow-write --allow-run --allow-env --allow-ffi --allow-sys \
 *     scripts/bench_footprint.ts [--parts imports,idle] [--repeat 3] [--vendored] \
 *     [--flag-sets='--no-code-cache;--v8-flags=--jitless'] [--main PATH]
 */
import { parseArgs } from "node:util";
import { ThreatBusEmulator } from "../tests/emulators/threatbus_emulator.ts";
import {
  DEFAULT_MAIN,
  measureProbe,
  probeSuffix,
  quantile,
  sleep,
  startFlags,
} from "./bench_bridge.ts";
import { startWorkloadBridge } from "./bench_e2e.ts";
import { makeFastVastBinary } from "../tests/emulators/fast_vast.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const DENO_JSON = `${ROOT}/deno.json`;
const PERMISSIONS = "--allow-read --allow-write --allow-run --allow-env --allow-ffi --allow-sys";
/** Extra flag sets the idle part compares with the start task's own. */
const DEFAULT_FLAG_SETS = [
  "--v8-flags=--optimize-for-size",
  "--v8-flags=--single-threaded",
  "--v8-flags=--max-old-space-size=64",
  "--v8-flags=--no-maglev",
  "--v8-flags=--no-opt,--no-maglev",
  "--v8-flags=--jitless",
];

/** Resident memory of one process, in KB. */
export interface Footprint {
  readonly rssKb: number;
  readonly hwmKb: number;
  readonly anonKb: number;
  readonly fileKb: number;
  /** Resident pages mapped from the Deno executable. */
  readonly executableKb: number;
  readonly threads: number;
}

/** Parses `/proc/<pid>/status` followed by `/proc/<pid>/smaps`, as `cat` prints them. */
export function parseFootprint(text: string, executable: string): Footprint {
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
  let mapping = "";
  let executableKb = 0;
  for (const line of text.split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header !== null) {
      mapping = header[1] ?? "";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null && mapping === executable) executableKb += Number(rss[1]);
  }
  return {
    rssKb: kb("VmRSS"),
    hwmKb: kb("VmHWM"),
    anonKb: kb("RssAnon"),
    fileKb: kb("RssFile"),
    executableKb,
    threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1]),
  };
}

/** Reads a process' footprint through `cat` (Deno lets only --allow-all read /proc). */
async function readFootprint(pid: number): Promise<Footprint> {
  const output = await new Deno.Command("cat", {
    args: [`/proc/${pid}/status`, `/proc/${pid}/smaps`],
    stdin: "null",
    stderr: "null",
  }).output();
  if (!output.success) throw new Error(`Cannot read /proc/${pid}`);
  return parseFootprint(new TextDecoder().decode(output.stdout), Deno.execPath());
}

/** What a probe script reports about itself. */
interface ProbeReport {
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly rss: number;
}

const PROBE_SUFFIX = probeSuffix("JSON.stringify(Deno.memoryUsage())");

/** Runs a probe; its /proc footprint and its own report are taken at the same moment. */
async function probe(
  path: string,
  flags: readonly string[],
): Promise<{ readonly footprint: Footprint; readonly report: ProbeReport }> {
  const { line, measured } = await measureProbe(path, flags, readFootprint);
  return { footprint: measured, report: JSON.parse(line) as ProbeReport };
}

/** The npm cache directory of one package version, from `deno info --json`. */
async function npmPackageDir(name: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(DENO_JSON)) as {
    imports: Record<string, string>;
  };
  const version = /@([^@/]+)$/.exec(config.imports[name] ?? "")?.[1];
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const cache = (JSON.parse(new TextDecoder().decode(info.stdout)) as { npmCache: string })
    .npmCache;
  if (version === undefined) throw new Error(`Cannot find the version of "${name}" in deno.json`);
  return `${cache}/registry.npmjs.org/${name}/${version}`;
}

async function copyTree(from: string, to: string): Promise<void> {
  const output = await new Deno.Command("cp", { args: ["-r", from, to] }).output();
  if (!output.success) throw new Error(`Cannot copy ${from} to ${to}`);
}

/** Local ES-module copies of zod and yaml under `dir`; their entry points. */
async function localCopies(dir: string): Promise<{ zod: string; zodMini: string; yaml: string }> {
  await copyTree(await npmPackageDir("zod"), `${dir}/zod`);
  await copyTree(await npmPackageDir("yaml"), `${dir}/yaml`);
  return {
    zod: `${dir}/zod/index.js`,
    zodMini: `${dir}/zod/mini/index.js`,
    // What the package's "default" (non-Node) export condition names: ES modules.
    yaml: `${dir}/yaml/browser/index.js`,
  };
}

async function sourceModules(main: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) found.push(path);
    }
  };
  await walk(new URL(".", `file://${main}`).pathname.replace(/\/$/, ""));
  return found.sort();
}

function mb(values: readonly number[]): string {
  const m = (kb: number) => (kb / 1024).toFixed(1);
  if (values.length === 1) return m(values[0] as number);
  return `${m(quantile(values, 0.5))} (${m(Math.min(...values))}–${m(Math.max(...values))})`;
}

function footprintCells(runs: readonly Footprint[]): string[] {
  const pick = (f: (r: Footprint) => number) => mb(runs.map(f));
  return [
    pick((r) => r.rssKb),
    pick((r) => r.hwmKb),
    pick((r) => r.anonKb),
    pick((r) => r.fileKb),
    pick((r) => r.executableKb),
    String(quantile(runs.map((r) => r.threads), 0.5)),
  ];
}

const HEADER = "| footprint | VmRSS MB | VmHWM MB | RssAnon MB | RssFile MB | " +
  "of which the deno executable MB | threads | Deno.memoryUsage(): rss / heapTotal / heapUsed / external MB | command |";

async function importRows(main: string, repeat: number, command: string): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-footprint-" });
  try {
    const local = await localCopies(dir);
    const example = `${ROOT}/config.yaml.example`;
    const parse = `const { parseDocument } = await import("yaml");\n` +
      `parseDocument(await Deno.readTextFile(${JSON.stringify(example)}), { merge: true }).toJS();`;
    const modules = await sourceModules(main);
    const variants: [string, string][] = [
      ["bare deno run (empty script)", ""],
      ['import "node:util" (parseArgs, src/cli/)', 'import "node:util";'],
      ['import "zod" (npm)', 'import "zod";'],
      ['import "zod/mini" (npm)', 'import "npm:zod@4.6.7/mini";'],
      ['import "yaml" (npm: its CommonJS build)', 'import "yaml";'],
      ['import "yaml" and parse config.yaml.example', parse],
      ['import "zod" + "yaml" (npm; what src/ loads)', 'import "zod"; import "yaml";'],
      ["zod as a local ES module copy", `import "${local.zod}";`],
      ["zod/mini as a local ES module copy", `import "${local.zodMini}";`],
      ["yaml's ES module build as a local copy", `import "${local.yaml}";`],
      ["zod + yaml as local ES module copies", `import "${local.zod}"; import "${local.yaml}";`],
      [
        `all ${modules.length} modules under src/ (not run)`,
        modules.map((m) => `import "${m}";`).join("\n"),
      ],
    ];
    const flags = await startFlags(main);
    const paths = await Promise.all(variants.map(async ([, source], index) => {
      const path = `${dir}/probe_${index}.ts`;
      await Deno.writeTextFile(path, `${source}\n${PROBE_SUFFIX}`);
      return path;
    }));
    // One warm-up each, so caches are filled before anything is measured.
    for (const path of paths) await probe(path, flags);
    const runs = variants.map(() => [] as Awaited<ReturnType<typeof probe>>[]);
    for (let round = 0; round < repeat; round++) {
      for (const [index, path] of paths.entries()) {
        runs[index]?.push(await probe(path, flags));
      }
    }
    return variants.map(([name], index) => {
      const these = runs[index] ?? [];
      const usage = (f: (r: ProbeReport) => number) =>
        (quantile(these.map((r) => f(r.report)), 0.5) / 1048576).toFixed(1);
      const cells = [
        `imports: ${name}`,
        ...footprintCells(these.map((r) => r.footprint)),
        `${usage((r) => r.rss)} / ${usage((r) => r.heapTotal)} / ${usage((r) => r.heapUsed)} / ${
          usage((r) => r.external)
        }`,
        `\`${command}\``,
      ];
      return `| ${cells.join(" | ")} |`;
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A copy of the program whose import map points zod and yaml at local ES-module copies. */
async function vendoredProgram(main: string, dir: string): Promise<string> {
  const root = new URL("..", `file://${main}`).pathname.replace(/\/$/, "");
  await Deno.mkdir(dir, { recursive: true });
  await copyTree(`${root}/src`, `${dir}/src`);
  const local = await localCopies(dir);
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)) as {
    imports: Record<string, string>;
  };
  config.imports["zod"] = local.zod;
  config.imports["yaml"] = local.yaml;
  await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(config, null, 2));
  return `${dir}/src/main.ts`;
}

/**
 * A copy of the program that writes `Deno.memoryUsage()` to `<dir>/memory.json`
 * twice a second, for the V8 heap's share of an idle bridge.
 */
async function instrumentedProgram(main: string, dir: string): Promise<string> {
  const root = new URL("..", `file://${main}`).pathname.replace(/\/$/, "");
  await Deno.mkdir(dir, { recursive: true });
  await copyTree(`${root}/src`, `${dir}/src`);
  await copyTree(`${root}/deno.json`, `${dir}/deno.json`);
  const path = `${dir}/src/main.ts`;
  const source = await Deno.readTextFile(path);
  const hook = `Deno.unrefTimer(setInterval(() => Deno.writeTextFileSync(` +
    `${JSON.stringify(`${dir}/memory.json`)}, JSON.stringify(Deno.memoryUsage())), 500));\n`;
  const at = source.lastIndexOf("if (import.meta.main)");
  if (at < 0) throw new Error(`Cannot instrument ${path}: no "if (import.meta.main)"`);
  await Deno.writeTextFile(path, source.slice(0, at) + hook + source.slice(at));
  return path;
}

/** The bridge subscribed and idle for 2 s. */
async function idleFootprint(main: string, denoFlags: readonly string[]): Promise<Footprint> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-idle-" });
  const emulator = await ThreatBusEmulator.start();
  try {
    const vastBinary = await makeFastVastBinary({ dir, queriesFile: `${dir}/queries.log` });
    const bridge = await startWorkloadBridge({
      dir,
      main,
      denoFlags,
      threatbus: emulator.manageEndpoint,
      vastBinary,
    });
    try {
      await emulator.waitForSubscriber({ timeoutMs: 30_000 });
      await sleep(2000);
      return await readFootprint(bridge.pid);
    } finally {
      await bridge.stop();
    }
  } finally {
    await emulator.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function idleRows(
  main: string,
  options: { readonly repeat: number; readonly flagSets: readonly string[]; vendored: boolean },
  command: string,
): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-vendored-" });
  try {
    const instrumented = await instrumentedProgram(main, `${dir}/instrumented`);
    const programs: { name: string; main: string; flags: string[] }[] = [
      { name: "start task flags", main, flags: [] },
      {
        name: "start task flags, a copy reporting Deno.memoryUsage()",
        main: instrumented,
        flags: [],
      },
      ...options.flagSets.map((set) => ({
        name: `start task flags + ${set}`,
        main,
        flags: set.split(/\s+/).filter((f) => f !== ""),
      })),
    ];
    if (options.vendored) {
      programs.push({
        name: "zod and yaml as local ES modules (no npm: import)",
        main: await vendoredProgram(main, `${dir}/vendored`),
        flags: [],
      });
    }
    // Warm-up: type-checking and caching of a fresh copy must not count.
    for (const program of programs) await idleFootprint(program.main, program.flags);
    const runs = programs.map(() => [] as Footprint[]);
    for (let round = 0; round < options.repeat; round++) {
      for (const [index, program] of programs.entries()) {
        runs[index]?.push(await idleFootprint(program.main, program.flags));
      }
    }
    const usage = await Deno.readTextFile(`${dir}/instrumented/memory.json`)
      .then((text) => JSON.parse(text) as ProbeReport, () => undefined);
    const mbOf = (bytes: number | undefined) => ((bytes ?? NaN) / 1048576).toFixed(1);
    return programs.map((program, index) => {
      const cells = [
        `idle bridge: ${program.name}`,
        ...footprintCells(runs[index] ?? []),
        program.main === instrumented
          ? `${mbOf(usage?.rss)} / ${mbOf(usage?.heapTotal)} / ${mbOf(usage?.heapUsed)} / ${
            mbOf(usage?.external)
          } (the last run)`
          : "–",
        `\`${command}\``,
      ];
      return `| ${cells.join(" | ")} |`;
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      parts: { type: "string", default: "imports,idle" },
      repeat: { type: "string", default: "3" },
      "flag-sets": { type: "string", default: DEFAULT_FLAG_SETS.join(";") },
      vendored: { type: "boolean", default: false },
      main: { type: "string", default: DEFAULT_MAIN },
    },
  });
  const parts = new Set(values.parts.split(","));
  const repeat = Number(values.repeat);
  const flagSets = values["flag-sets"].split(";").map((s) => s.trim()).filter((s) => s !== "");
  const mainFlag = values.main === DEFAULT_MAIN ? "" : ` --main ${values.main}`;
  const base = `deno run ${PERMISSIONS} scripts/bench_footprint.ts`;
  const rows: string[] = [];
  if (parts.has("imports")) {
    rows.push(
      ...await importRows(
        values.main,
        repeat,
        `${base} --parts imports --repeat ${repeat}${mainFlag}`,
      ),
    );
  }
  if (parts.has("idle")) {
    const sets = values["flag-sets"] === DEFAULT_FLAG_SETS.join(";")
      ? ""
      : ` --flag-sets='${values["flag-sets"]}'`;
    rows.push(
      ...await idleRows(
        values.main,
        { repeat, flagSets, vendored: values.vendored },
        `${base} --parts idle --repeat ${repeat}${sets}${
          values.vendored ? " --vendored" : ""
        }${mainFlag}`,
      ),
    );
  }
  console.log(HEADER);
  console.log("|---|---:|---:|---:|---:|---:|---:|---|---|");
  for (const row of rows) console.log(row);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`bench_footprint: ${(error as Error).message}`);
    Deno.exitCode = 2;
  }
}
