/**
 * Start-up benchmark for cron sweeps: wall time from spawning the program to
 * (a) the exit of `--version`, and (b) the first `vast export` query of a
 * one-indicator sweep, plus that sweep's exit. Several runs after a warm-up,
 * medians printed as a table with the command that reproduces them:
 *
 *   deno run --allow-run --allow-read --allow-write --allow-env scripts/bench_startup.ts [--runs N]
 *
 * `vast` is a tiny shell script that appends `<epoch ns> <argv>` to a file
 * and exits, so the figures measure this program, not a VAST node or the
 * emulator's own start-up.
 */

import denoConfig from "../deno.json" with { type: "json" };

/** The permission flags of the `start` task, so the benchmark runs what users run. */
const RUN_PERMISSIONS = denoConfig.tasks.start.split(" ").filter((w) => w.startsWith("--allow-"));

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;

/** Reads `--runs N` (default 7). */
export function parseRuns(args: readonly string[]): number {
  if (args.length === 0) return 7;
  const [flag, value] = args;
  const runs = Number(value);
  if (flag !== "--runs" || args.length !== 2 || !Number.isInteger(runs) || runs < 1) {
    throw new Error(`Cannot use arguments ${JSON.stringify(args)}: expected --runs N (N ≥ 1)`);
  }
  return runs;
}

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[mid] as number
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function sweepEntry(): string[] {
  return [MAIN, "sweep"];
}

async function setUp(dir: string): Promise<{ callsFile: string }> {
  const callsFile = `${dir}/vast-calls.txt`;
  const shim = `${dir}/vast`;
  await Deno.writeTextFile(
    shim,
    `#!/bin/sh\nprintf '%s %s\\n' "$(date +%s%N)" "$*" >> '${callsFile}'\nexit 0\n`,
    { mode: 0o755 },
  );
  await Deno.chmod(shim, 0o755);
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    [
      "logging:",
      "  console_verbosity: WARNING",
      `vast_binary: ${shim}`,
      "vast: 127.0.0.1:42000",
      "sink: STDOUT",
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(`${dir}/indicators.txt`, "6.6.6.6\n");
  await Deno.writeTextFile(`${dir}/empty.ts`, "");
  return { callsFile };
}

/** Spawns `deno run <perms> <args>` in `dir`; resolves to [spawn epoch ms, exit epoch ms]. */
async function timeRun(args: readonly string[], dir: string): Promise<[number, number]> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...RUN_PERMISSIONS, ...args],
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  });
  const started = Date.now();
  const output = await command.output();
  const ended = Date.now();
  if (!output.success) {
    throw new Error(
      `Cannot benchmark ${args.join(" ")}: exit ${output.code}: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  return [started, ended];
}

/** Epoch ms of the first recorded call whose argv matches, after `since`. */
async function firstCall(
  callsFile: string,
  matches: (argv: string) => boolean,
): Promise<number> {
  const lines = (await Deno.readTextFile(callsFile)).split("\n").filter((l) => l !== "");
  for (const line of lines) {
    const space = line.indexOf(" ");
    if (matches(line.slice(space + 1))) return Number(line.slice(0, space)) / 1e6;
  }
  throw new Error(`Cannot find the expected vast call in ${callsFile}`);
}

interface Row {
  readonly what: string;
  readonly samples: number[];
  readonly command: string;
}

async function main(args: readonly string[]): Promise<number> {
  const runs = parseRuns(args);
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-bench-" });
  try {
    const { callsFile } = await setUp(dir);
    const version = [MAIN, "--version"];
    const sweep = [...sweepEntry(), "-c", "config.yaml", "--indicators", "indicators.txt"];
    const emptyMs: number[] = [];
    const versionMs: number[] = [];
    const firstVastMs: number[] = [];
    const firstQueryMs: number[] = [];
    const sweepExitMs: number[] = [];
    // The first run of each fills Deno's caches; it is not counted.
    for (let i = 0; i <= runs; i++) {
      const [eStart, eEnd] = await timeRun(["empty.ts"], dir);
      const [vStart, vEnd] = await timeRun(version, dir);
      await Deno.remove(callsFile).catch(() => {});
      const [sStart, sEnd] = await timeRun(sweep, dir);
      const anyCall = await firstCall(callsFile, () => true);
      const query = await firstCall(callsFile, (argv) => / export .* json /.test(` ${argv} `));
      if (i === 0) continue;
      emptyMs.push(eEnd - eStart);
      versionMs.push(vEnd - vStart);
      firstVastMs.push(anyCall - sStart);
      firstQueryMs.push(query - sStart);
      sweepExitMs.push(sEnd - sStart);
    }
    const show = (argv: readonly string[]) =>
      `deno run ${RUN_PERMISSIONS.join(" ")} ${
        argv.map((a) => a.replace(`${Deno.cwd()}/`, "")).join(" ")
      }`;
    const rows: Row[] = [
      {
        what: "baseline: Deno runs an empty script",
        samples: emptyMs,
        command: show(["empty.ts"]),
      },
      { what: "start → `--version` exit", samples: versionMs, command: show(version) },
      {
        what: "start → first `vast` call (export --help probe)",
        samples: firstVastMs,
        command: show(sweep),
      },
      { what: "start → first `vast export` query", samples: firstQueryMs, command: show(sweep) },
      { what: "start → sweep exit (1 IoC)", samples: sweepExitMs, command: show(sweep) },
    ];
    console.log(`Start-up, ${runs} runs after a warm-up, milliseconds (wall clock)\n`);
    console.log("| measurement | median | min | max | command |");
    console.log("|---|---:|---:|---:|---|");
    for (const row of rows) {
      const fmt = (n: number) => n.toFixed(0);
      console.log(
        `| ${row.what} | ${fmt(median(row.samples))} | ${fmt(Math.min(...row.samples))} | ${
          fmt(Math.max(...row.samples))
        } | \`${row.command}\` |`,
      );
    }
    console.log(
      "\n`vast` is a shell shim that logs `date +%s%N` and exits; config: sink STDOUT, " +
        "console log level WARNING. Reproduce with:\n" +
        `  deno run --allow-run --allow-read --allow-write --allow-env scripts/bench_startup.ts --runs ${runs}`,
    );
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
