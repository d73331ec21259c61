/**
 * Measures sink throughput: sightings with realistic Zeek and Suricata
 * contexts pushed through (a) the STDOUT sink with stdout on /dev/null, (b) a
 * streaming command sink `sh -c 'cat > /dev/null'`, and (c) the per-sighting
 * command mode, the original's only mode, for comparison.
 *
 *   deno run --allow-run --allow-read scripts/bench_sinks.ts [--sightings N] [--per-sighting M]
 *
 * Each sighting is awaited before the next, as the bridge's reporter does.
 * Timing includes `close()`, i.e. until every line is delivered.
 */

import { systemClock } from "../src/adapters/clock.ts";
import { createLogger } from "../src/adapters/logger.ts";
import { createSink } from "../src/adapters/sinks/sink_factory.ts";
import { retroSighting, type Sighting } from "../src/core/sighting.ts";

/** What a benchmark run is asked to do. */
export interface BenchArgs {
  readonly sightings: number;
  readonly perSighting: number;
  /** Internal: run the STDOUT measurement in this process and report on stderr. */
  readonly child: boolean;
}

/** Reads `--sightings N`, `--per-sighting M` and the internal `--child-stdout`. */
export function parseBenchArgs(args: readonly string[]): BenchArgs {
  let sightings = 200_000;
  let perSighting = 300;
  let child = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const count = () => {
      const value = Number(args[++i]);
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(
          `Cannot use ${arg} ${JSON.stringify(args[i])}: expected a whole number ≥ 1`,
        );
      }
      return value;
    };
    if (arg === "--sightings") sightings = count();
    else if (arg === "--per-sighting") perSighting = count();
    else if (arg === "--child-stdout") child = true;
    else throw new Error(`Cannot use argument ${JSON.stringify(arg)}: unknown`);
  }
  return { sightings, perSighting, child };
}

const EVENTS_URL = new URL("../tests/fixtures/events.ndjson", import.meta.url);
const INDICATOR = {
  type: "indicator" as const,
  id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
  pattern: "[domain-name:value = 'evil.com']",
};

/** `count` retro sightings cycling through the recorded Zeek and Suricata events. */
async function makeSightings(count: number): Promise<Sighting[]> {
  const events = (await Deno.readTextFile(EVENTS_URL)).split("\n").filter((l) => l !== "")
    .map((line) => JSON.parse(line).event as Record<string, unknown>);
  const now = Date.now();
  return Array.from(
    { length: count },
    (_, n) =>
      retroSighting(INDICATOR, events[n % events.length] ?? {}, {
        uuid: crypto.randomUUID(),
        createdMs: now,
        source: "VAST",
      }),
  );
}

interface Measurement {
  readonly sightings: number;
  readonly seconds: number;
}

async function measure(
  sink: string,
  options: { readonly sightings: Sighting[]; readonly stdout: WritableStream<Uint8Array> },
): Promise<Measurement> {
  const clock = systemClock();
  const logger = createLogger({
    console: { enabled: true, level: "WARNING" },
    file: { enabled: false, level: "INFO", path: "" },
    clock,
  });
  const target = createSink({ sink }, {
    stdout: options.stdout,
    logger,
    clock,
    threatBusSink: {
      write: () => Promise.reject(new Error("Cannot write: no Threat Bus in a benchmark")),
      close: () => Promise.resolve(),
    },
  });
  const started = performance.now();
  for (const sighting of options.sightings) await target.write(sighting);
  await target.close();
  const seconds = (performance.now() - started) / 1000;
  const dropped = target.dropped ?? 0;
  if (dropped > 0) throw new Error(`Cannot trust the run: ${dropped} lines were dropped`);
  return { sightings: options.sightings.length, seconds };
}

/** Runs the STDOUT case in a child whose stdout is /dev/null, as in production. */
async function measureStdout(sightings: number): Promise<Measurement> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      new URL(import.meta.url).pathname,
      "--child-stdout",
      "--sightings",
      String(sightings),
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr).trim();
  if (!output.success) throw new Error(`Cannot measure the STDOUT sink: ${stderr}`);
  return JSON.parse(stderr.split("\n").at(-1) ?? "") as Measurement;
}

function rate(m: Measurement): number {
  return m.sightings / m.seconds;
}

async function main(args: readonly string[]): Promise<number> {
  const options = parseBenchArgs(args);
  if (options.child) {
    const result = await measure("STDOUT", {
      sightings: await makeSightings(options.sightings),
      stdout: Deno.stdout.writable,
    });
    console.error(JSON.stringify(result));
    return 0;
  }
  const nowhere = new WritableStream<Uint8Array>();
  const stdout = await measureStdout(options.sightings);
  const streaming = await measure("sh -c 'cat > /dev/null'", {
    sightings: await makeSightings(options.sightings),
    stdout: nowhere,
  });
  const perSighting = await measure("sh -c 'cat > /dev/null' sh %ioc", {
    sightings: await makeSightings(options.perSighting),
    stdout: nowhere,
  });
  const rows: [string, Measurement, number][] = [
    ["STDOUT (stdout on /dev/null)", stdout, 50_000],
    ["streaming command (sh -c 'cat > /dev/null')", streaming, 20_000],
    ["per-sighting command (... %ioc)", perSighting, 0],
  ];
  const ratio = rate(streaming) / rate(perSighting);
  const format = (n: number) => Math.round(n).toLocaleString("en-US");
  const lines = [
    `${"sink".padEnd(46)} ${"sightings".padStart(9)} ${"seconds".padStart(8)} ${
      "sightings/s".padStart(12)
    }  target`,
    ...rows.map(([name, m, target]) =>
      `${name.padEnd(46)} ${String(m.sightings).padStart(9)} ${m.seconds.toFixed(3).padStart(8)} ${
        format(rate(m)).padStart(12)
      }  ${target === 0 ? "-" : `≥ ${format(target)} ${rate(m) >= target ? "ok" : "MISSED"}`}`
    ),
    `streaming / per-sighting: ${ratio.toFixed(0)}×  target ≥ 50× ${ratio >= 50 ? "ok" : "MISSED"}`,
    "",
    `reproduce: deno run --allow-run --allow-read scripts/bench_sinks.ts --sightings ${options.sightings} --per-sighting ${options.perSighting}`,
  ];
  console.log(lines.join("\n"));
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
