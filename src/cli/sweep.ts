/**
 * `vast-threatbus sweep`: builds the adapters for one sweep from the config
 * and the options, runs it with a progress display, prints the summary and
 * turns the outcome into an exit status (0 all queries succeeded, 1 some
 * failed or timed out, 2 usage or config error).
 */

import { systemClock } from "../adapters/clock.ts";
import { ConfigError, loadConfig } from "../adapters/config_loader.ts";
import { LineWriter } from "../adapters/line_writer.ts";
import { readLines } from "../adapters/line_reader.ts";
import { type ClosableLogger, createLoggerFromConfig } from "../adapters/logger.ts";
import { createSink } from "../adapters/sink_factory.ts";
import { threatBusSink } from "../adapters/threatbus_sink.ts";
import { VastCli } from "../adapters/vast_cli.ts";
import { ZmqThreatBus } from "../adapters/zmq_threatbus.ts";
import {
  type SourceLine,
  type SweepDeps,
  sweepIndicators,
  type SweepSource,
} from "../app/sweep.ts";
import { stix2Codec } from "../core/codec_stix2.ts";
import type { Config } from "../core/config_schema.ts";
import { IndicatorSourceParser } from "../core/indicator_source.ts";
import { MetricsRegistry } from "../core/metrics.ts";
import {
  formatSweepSummary,
  sweepExitCode,
  type SweepFigures,
  SweepTally,
} from "../core/sweep_summary.ts";
import type { Clock, Logger, SightingSink } from "../ports.ts";
import { VERSION } from "../version.ts";
import {
  parseSweepArgs,
  SWEEP_OPTIONS_HELP,
  SWEEP_USAGE,
  type SweepOptions,
} from "./sweep_args.ts";
import { SweepProgress, type TerminalWriter } from "./sweep_progress.ts";

export { parseSweepArgs, type SweepOptions };

/** Exit statuses of a sweep. */
export const SWEEP_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The process around a sweep; {@linkcode processIo} gives the real one. */
export interface SweepIo {
  /** Standard input, opened only for `--indicators -`. */
  readonly stdin: () => ReadableStream<Uint8Array>;
  /** Standard output: sightings with a STDOUT sink, or the queries of a dry run. */
  readonly stdout: WritableStream<Uint8Array>;
  readonly stderr: TerminalWriter;
  /** Terminal width for the progress line. */
  readonly columns?: number;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly clock: Clock;
  /** Aborts the sweep (SIGINT/SIGTERM in production). */
  readonly signal: AbortSignal;
  /** Opens an indicators file; defaults to `Deno.open`. */
  readonly openFile?: (path: string) => Promise<ReadableStream<Uint8Array>>;
}

/** Longest input line kept, so that a one-line bundle of this size is still read. */
const MAX_LINE_BYTES = 128 * 1024 * 1024;
/** How long queued sightings may take to reach Threat Bus at the end. */
const THREATBUS_FLUSH_MS = 10_000;

/** The real standard streams and environment, for `main.ts`. */
export function processIo(signal: AbortSignal): SweepIo {
  let columns: number | undefined;
  try {
    columns = Deno.stderr.isTerminal() ? Deno.consoleSize().columns : undefined;
  } catch {
    columns = undefined;
  }
  return {
    stdin: () => Deno.stdin.readable,
    stdout: Deno.stdout.writable,
    stderr: Deno.stderr,
    ...(columns === undefined ? {} : { columns }),
    cwd: Deno.cwd(),
    env: Deno.env.toObject(),
    clock: systemClock(),
    signal,
  };
}

/** Parses the arguments after `sweep` and runs it; resolves to the exit status. */
export async function sweepMain(args: readonly string[], io: SweepIo): Promise<number> {
  const command = parseSweepArgs(args);
  switch (command.kind) {
    case "help":
      await writeText(io.stdout, `Usage:\n${SWEEP_USAGE}\n\n${SWEEP_OPTIONS_HELP}\n`);
      return SWEEP_EXIT.ok;
    case "version":
      await writeText(io.stdout, `vast-threatbus ${VERSION}\n`);
      return SWEEP_EXIT.ok;
    case "usage-error":
      printError(io, `${command.message}\nRun 'vast-threatbus --help' for usage.`);
      return SWEEP_EXIT.usage;
    case "sweep":
      return await runSweep(command.options, io);
  }
}

/** Runs one sweep as `options` say; resolves to the exit status. */
export async function runSweep(options: SweepOptions, io: SweepIo): Promise<number> {
  let config: Config;
  let warnings: string[];
  try {
    const loaded = await loadConfig({
      ...(options.configPath === undefined ? {} : { configPath: options.configPath }),
      cwd: io.cwd,
      env: io.env,
    });
    config = loaded.config;
    warnings = loaded.warnings;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const warning of error.warnings) printError(io, `warning: ${warning}`);
    for (const problem of error.errors) printError(io, problem);
    return SWEEP_EXIT.usage;
  }
  const tally = new SweepTally();
  const progress = new SweepProgress({
    stderr: io.stderr,
    tally,
    clock: io.clock,
    ...(io.columns === undefined ? {} : { columns: io.columns }),
  });
  let logger: ClosableLogger;
  try {
    logger = createLoggerFromConfig(config, io.clock, { stderr: progress.writer });
  } catch (error) {
    printError(io, (error as Error).message);
    return SWEEP_EXIT.usage;
  }
  try {
    const log = logger.child("main");
    for (const warning of warnings) log.warning(warning);
    log.info(`vast-threatbus ${VERSION} sweep starting`, {
      source: options.indicators ?? "threatbus",
      dry_run: options.dryRun,
    });
    let prepared: Prepared;
    try {
      prepared = await prepare(options, { config, io, logger, tally });
    } catch (error) {
      // Printed directly: the config may have turned console logging off.
      printError(io, describe(error));
      return SWEEP_EXIT.usage;
    }
    return await execute(prepared, { io, logger: log, progress, tally, dryRun: options.dryRun });
  } finally {
    logger.close();
  }
}

interface Prepared {
  readonly deps: SweepDeps;
  /** For the summary: where the indicators came from. */
  readonly sourceName: string;
  /** Writes buffered dry-run output. */
  readonly finish: () => Promise<void>;
}

/** Builds the adapters; throws for what the user must fix (file, sink command). */
async function prepare(
  options: SweepOptions,
  parts: { config: Config; io: SweepIo; logger: Logger; tally: SweepTally },
): Promise<Prepared> {
  const { config, io, logger, tally } = parts;
  const codec = stix2Codec();
  const metrics = new MetricsRegistry();
  const threatBus = (snapshot: number) =>
    new ZmqThreatBus({
      endpoint: config.threatbus,
      topic: codec.subscribeTopic as string | string[],
      snapshot,
      logger: logger.child("threatbus"),
      clock: io.clock,
      flushTimeoutMs: THREATBUS_FLUSH_MS,
    });

  const sourceBus = options.indicators === undefined
    ? threatBus(options.snapshotDays ?? config.snapshot)
    : undefined;
  let sink: SightingSink | undefined;
  let publishTo: ZmqThreatBus | undefined;
  let printQuery: ((query: string) => Promise<void>) | undefined;
  let finish = () => Promise.resolve();
  try {
    if (options.dryRun) {
      const writer = new LineWriter(io.stdout);
      printQuery = (query) => writer.writeLine(query);
      finish = () => writer.close();
    } else {
      const bus = config.sink !== undefined ? undefined : sourceBus ?? (publishTo = threatBus(0));
      sink = createSink(config, {
        stdout: io.stdout,
        logger,
        clock: io.clock,
        threatBusSink: bus === undefined ? unusedSink() : threatBusSink(bus, { codec, metrics }),
      });
    }
  } catch (error) {
    await sourceBus?.close();
    throw error;
  }

  let source: SweepSource;
  let sourceName: string;
  if (sourceBus !== undefined) {
    const snapshot = options.snapshotDays ?? config.snapshot;
    if (snapshot === 0) {
      logger.child("sweep").warning(
        "Snapshot is 0 days: only indicators published during the sweep are read",
      );
    }
    source = { kind: "threatbus", threatBus: sourceBus, codec, idleMs: idleMs(options) };
    sourceName = `Threat Bus at ${config.threatbus} (snapshot ${snapshot} days)`;
  } else {
    const name = options.indicators ?? "-";
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = name === "-" ? io.stdin() : await openIndicators(name, io);
    } catch (error) {
      await sink?.close().catch(() => undefined);
      await publishTo?.close();
      throw error;
    }
    source = {
      kind: "lines",
      lines: sourceLines(stream, io.signal),
      parser: new IndicatorSourceParser({ timestampMs: io.clock.now() }),
    };
    sourceName = name === "-" ? "standard input" : JSON.stringify(name);
  }
  const deps: SweepDeps = {
    settings: {
      maxEvents: config.retro_match_max_events,
      timeoutSeconds: config.retro_match_timeout,
      concurrency: config.max_background_tasks,
      dryRun: options.dryRun,
    },
    source,
    backend: new VastCli({
      binary: config.vast_binary,
      endpoint: config.vast,
      logger: logger.child("vast"),
      clock: io.clock,
    }),
    ...(sink === undefined ? {} : { sink }),
    ...(publishTo === undefined ? {} : { publishTo }),
    ...(printQuery === undefined ? {} : { printQuery }),
    logger,
    clock: io.clock,
    newUuid: () => crypto.randomUUID(),
    metrics,
    tally,
  };
  return { deps, sourceName, finish };
}

async function execute(
  prepared: Prepared,
  parts: {
    io: SweepIo;
    logger: Logger;
    progress: SweepProgress;
    tally: SweepTally;
    dryRun: boolean;
  },
): Promise<number> {
  const { io, logger, progress, tally, dryRun } = parts;
  const stopProgress = new AbortController();
  const showing = progress.run(logger, stopProgress.signal);
  let figures: SweepFigures;
  let crashed = false;
  try {
    figures = await sweepIndicators(prepared.deps, io.signal);
  } catch (error) {
    crashed = true;
    logger.critical("Sweep stopped by an error", { error: describe(error) });
    figures = tally.figures();
  } finally {
    stopProgress.abort();
    await showing;
    await prepared.finish();
  }
  const durationMs = progress.elapsedMs();
  progress.print(formatSweepSummary(figures, { durationMs, source: prepared.sourceName, dryRun }));
  const code = crashed
    ? SWEEP_EXIT.failed
    : dryRun && !figures.interrupted
    ? SWEEP_EXIT.ok
    : sweepExitCode(figures);
  logger.info("Sweep finished", {
    exit_status: code,
    indicators_read: figures.indicatorsRead,
    queries: figures.queries,
    failed: figures.failed,
    timed_out: figures.timedOut,
    sightings: figures.sightings,
    seconds: Number((durationMs / 1000).toFixed(3)),
  });
  return code;
}

function idleMs(options: SweepOptions): number {
  return options.idleSeconds * 1000;
}

async function openIndicators(name: string, io: SweepIo): Promise<ReadableStream<Uint8Array>> {
  const path = /^\//.test(name) ? name : `${io.cwd.replace(/\/+$/, "")}/${name}`;
  try {
    if (io.openFile !== undefined) return await io.openFile(path);
    const file = await Deno.open(path, { read: true });
    return file.readable;
  } catch (error) {
    throw new Error(`Cannot read indicators file "${name}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Input lines, with lines too long to keep reported by size in their place. */
async function* sourceLines(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<SourceLine> {
  const oversize: number[] = [];
  const lines = readLines(stream, {
    maxLineBytes: MAX_LINE_BYTES,
    signal,
    onOversize: (bytes) => oversize.push(bytes),
  });
  for await (const line of lines) {
    for (const bytes of oversize.splice(0)) yield { oversizeBytes: bytes };
    yield line;
  }
  for (const bytes of oversize.splice(0)) yield { oversizeBytes: bytes };
}

/** Stands in for the Threat Bus sink when `sink` is set and the factory will not use it. */
function unusedSink(): SightingSink {
  return {
    write: () => Promise.reject(new Error("Cannot write: Threat Bus is not the configured sink")),
    close: () => Promise.resolve(),
  };
}

function printError(io: SweepIo, message: string): void {
  const bytes = new TextEncoder().encode(`vast-threatbus: ${message}\n`);
  try {
    let offset = 0;
    while (offset < bytes.length) offset += io.stderr.writeSync(bytes.subarray(offset));
  } catch {
    // Nowhere left to report to.
  }
}

async function writeText(stream: WritableStream<Uint8Array>, text: string): Promise<void> {
  const writer = stream.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
  } finally {
    writer.releaseLock();
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause === undefined ? "" : ` (cause: ${describe(error.cause)})`;
  return `${error.message}${cause}`;
}
