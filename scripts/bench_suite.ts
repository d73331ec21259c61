/**
 * Runs every benchmark script and prints one combined table, each row with
 * the command that reproduces it (`deno task bench`):
 *
 *   deno run --allow-read --allow-run scripts/bench_suite.ts [--quick] [--only core,e2e,...]
 *
 * Scripts: bench_core, bench_startup, bench_sinks, bench_e2e, bench_memory,
 * bench_footprint and bench_scale, each when it exists. Each runs as its own process with the
 * permissions its doc comment names, in its own process group, killed after a
 * time limit; its log passes through to stderr. Markdown tables in its stdout
 * become rows; other output lines are kept as they are.
 */
import { parseArgs } from "node:util";

const SCRIPTS_DIR = new URL(".", import.meta.url).pathname;

/** One benchmark script the suite knows. */
export interface SuiteEntry {
  readonly key: string;
  readonly script: string;
  /** Used when the script's doc comment names no `deno run` line. */
  readonly fallbackPermissions: readonly string[];
  /** Arguments for a full and for a quick run. */
  readonly args: { readonly full: readonly string[]; readonly quick: readonly string[] };
  readonly timeoutMinutes: number;
}

/** Every script, in the order they run. */
export const SUITE: readonly SuiteEntry[] = [
  {
    key: "core",
    script: "bench_core.ts",
    fallbackPermissions: ["--allow-read"],
    args: { full: [], quick: ["--seconds", "1"] },
    timeoutMinutes: 5,
  },
  {
    key: "startup",
    script: "bench_startup.ts",
    fallbackPermissions: ["--allow-run", "--allow-read", "--allow-write", "--allow-env"],
    args: { full: [], quick: ["--runs", "3"] },
    timeoutMinutes: 10,
  },
  {
    key: "sinks",
    script: "bench_sinks.ts",
    fallbackPermissions: ["--allow-run", "--allow-read"],
    args: { full: [], quick: ["--sightings", "50000", "--per-sighting", "100"] },
    timeoutMinutes: 10,
  },
  {
    key: "e2e",
    script: "bench_e2e.ts",
    fallbackPermissions: [],
    args: { full: ["--repeat", "3"], quick: ["--repeat", "1", "--workloads", "a,b,c,d,e"] },
    timeoutMinutes: 45,
  },
  {
    key: "memory",
    script: "bench_memory.ts",
    fallbackPermissions: [],
    args: {
      full: ["--repeat", "5"],
      quick: ["--repeat", "1", "--queued", "20000", "--streamed", "200000"],
    },
    timeoutMinutes: 30,
  },
  {
    key: "footprint",
    script: "bench_footprint.ts",
    fallbackPermissions: [],
    args: { full: ["--repeat", "3", "--vendored"], quick: ["--repeat", "1"] },
    timeoutMinutes: 20,
  },
  {
    key: "scale",
    script: "bench_scale.ts",
    fallbackPermissions: [],
    args: {
      full: ["--indicators", "1000000"],
      quick: ["--indicators", "100000", "--trickle", "200"],
    },
    timeoutMinutes: 30,
  },
];

/**
 * The `--allow-*` flags of the first `deno run ... scripts/<script>` line in
 * the script's leading doc comment, or undefined when there is none.
 */
export function documentedPermissions(source: string, script: string): string[] | undefined {
  const comment = /^\s*\/\*\*([\s\S]*?)\*\//.exec(source)?.[1];
  if (comment === undefined) return undefined;
  const text = comment.split("\n").map((line) => line.replace(/^\s*\*\s?/, "")).join("\n")
    .replace(/\\\n\s*/g, " ");
  const escaped = script.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`deno run ((?:--[\\w-]+(?:=\\S+)?\\s+)*)scripts/${escaped}`).exec(text);
  if (match === null) return undefined;
  return (match[1] ?? "").split(/\s+/).filter((flag) => flag.startsWith("--allow-"));
}

/** Splits a Markdown table row into cells; `|` inside backticks or escaped stays. */
export function tableCells(row: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let code = false;
  const text = row.trim().replace(/^\|/, "").replace(/\|$/, "");
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\" && text[i + 1] === "|") {
      cell += "\\|";
      i++;
    } else if (c === "`") {
      code = !code;
      cell += c;
    } else if (c === "|" && !code) {
      cells.push(cell.trim());
      cell = "";
    } else {
      cell += c;
    }
  }
  cells.push(cell.trim());
  return cells;
}

/** One row of the combined table. */
export interface SuiteRow {
  readonly part: string;
  readonly benchmark: string;
  readonly result: string;
  readonly command: string;
}

const COMMAND_LINE = /^(?:command|reproduce)(?: with)?:\s*(.+)$/i;

/**
 * Turns a script's stdout into rows: each Markdown table row becomes one
 * (first cell = benchmark, a `command` column = its command, the other
 * cells = `header: value`), any other non-blank line one of its own.
 */
export function rowsFromOutput(part: string, output: string, fallbackCommand: string): SuiteRow[] {
  const lines = output.split("\n");
  const printed = lines.map((line) =>
    COMMAND_LINE.exec(line.trim())?.[1] || /^deno (?:run|task) .+/.exec(line.trim())?.[0]
  ).find((c) => c);
  const defaultCommand = printed?.replace(/^`|`$/g, "") ?? fallbackCommand;
  const rows: SuiteRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    // A bare `deno run ...` line (and a "...:" line leading to it) is how to reproduce, not a result.
    const reproduce = /^deno (?:run|task) /;
    if (line === "" || COMMAND_LINE.test(line) || reproduce.test(line)) continue;
    if (line.endsWith(":") && reproduce.test((lines[i + 1] ?? "").trim())) {
      const lead = line.replace(/\s*\S+(?: with)?:$/, "").trim();
      if (lead !== "") rows.push({ part, benchmark: lead, result: "", command: defaultCommand });
      continue;
    }
    const next = (lines[i + 1] ?? "").trim();
    if (line.startsWith("|") && /^\|[\s:|-]+\|$/.test(next)) {
      const header = tableCells(line);
      const commandColumn = header.findIndex((h) => /^(command|reproduce)/i.test(h));
      i += 2;
      for (; i < lines.length && (lines[i] as string).trim().startsWith("|"); i++) {
        const cells = tableCells(lines[i] as string);
        const command = commandColumn >= 0
          ? cells[commandColumn]?.replace(/^`|`$/g, "")
          : undefined;
        const result = cells.flatMap((cell, index) =>
          index === 0 || index === commandColumn || cell === "" ? [] : [`${header[index]}: ${cell}`]
        ).join("; ");
        rows.push({ part, benchmark: cells[0] ?? "", result, command: command ?? defaultCommand });
      }
      i--;
      continue;
    }
    rows.push({
      part,
      benchmark: line.replace(/\s{2,}/g, " · ").replaceAll("|", "\\|"),
      result: "",
      command: defaultCommand,
    });
  }
  return rows;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Runs one script in its own process group; resolves with its stdout and how it ended. */
async function runEntry(
  entry: SuiteEntry,
  quick: boolean,
): Promise<{ readonly stdout: string; readonly command: string; readonly problem?: string }> {
  const path = `${SCRIPTS_DIR}${entry.script}`;
  const permissions = documentedPermissions(await Deno.readTextFile(path), entry.script) ??
    entry.fallbackPermissions;
  const args = quick ? entry.args.quick : entry.args.full;
  const command = ["deno", "run", ...permissions, `scripts/${entry.script}`, ...args].join(" ");
  console.error(`bench_suite: ${command}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissions, path, ...args],
    cwd: new URL("..", import.meta.url).pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    // Its own group, so a time-out also ends the bridges and emulators it started.
    detached: true,
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }, entry.timeoutMinutes * 60_000);
  try {
    const [stdout, status] = await Promise.all([new Response(child.stdout).text(), child.status]);
    const problem = timedOut
      ? `killed after ${entry.timeoutMinutes} min`
      : status.success
      ? undefined
      : `exit code ${status.code}`;
    return { stdout, command, ...(problem === undefined ? {} : { problem }) };
  } finally {
    clearTimeout(timer);
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
    },
  });
  const only = values.only === undefined ? undefined : new Set(values.only.split(","));
  const rows: SuiteRow[] = [];
  let failed = 0;
  const started = performance.now();
  for (const entry of SUITE) {
    if (only !== undefined && !only.has(entry.key)) continue;
    if (!await exists(`${SCRIPTS_DIR}${entry.script}`)) {
      console.error(`bench_suite: skipping ${entry.script}: not there`);
      continue;
    }
    const result = await runEntry(entry, values.quick);
    rows.push(...rowsFromOutput(entry.key, result.stdout, result.command));
    if (result.problem !== undefined) {
      failed++;
      rows.push({
        part: entry.key,
        benchmark: `FAILED: ${entry.script}`,
        result: result.problem,
        command: result.command,
      });
    }
  }
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  console.log(`Benchmarks (${values.quick ? "quick" : "full"} run, ${minutes} min)\n`);
  console.log("| part | benchmark | result | command |");
  console.log("|---|---|---|---|");
  for (const row of rows) {
    console.log(`| ${row.part} | ${row.benchmark} | ${row.result} | \`${row.command}\` |`);
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`bench_suite: ${(error as Error).message}`);
    Deno.exitCode = 2;
  }
}
