/**
 * `vast-threatbus sweep`: builds the adapters for one sweep from the config
 * and the options, runs it with a progress display, prints the summary and
 * turns the outcome into an exit status (0 all queries succeeded, 1 some
 * failed or timed out, 2 usage or config error).
 */

import { describeError } from "../core/error_text.ts";
import { ConfigError, loadConfig } from "../adapters/config_loader.ts";
import type { ClosableLogger } from "../adapters/logger.ts";
import { sweepIndicators } from "../app/sweep.ts";
import type { Config } from "../core/config_schema.ts";
import {
  formatSweepSummary,
  sweepExitCode,
  type SweepFigures,
  SweepTally,
} from "../core/sweep_summary.ts";
import type { Clock, Logger } from "../ports.ts";
import { VERSION } from "../version.ts";
import {
  parseSweepArgs,
  SWEEP_OPTIONS_HELP,
  SWEEP_USAGE,
  type SweepOptions,
} from "./sweep_args.ts";
import { commandLogger, processClock } from "../compose/adapters.ts";
import { type PreparedSweep, prepareSweep } from "../compose/prepare_sweep.ts";
import { EXIT } from "./exit.ts";
import { formatOverrides } from "./format_option.ts";
import { SweepProgress, type TerminalWriter } from "./sweep_progress.ts";

export { parseSweepArgs, type SweepOptions };

/** The process around a sweep; {@linkcode processIo} gives the real one. */
export interface SweepIo {
  /** Standard input, opened only for `--indicators -`. */
  readonly stdin: () => ReadableStream<Uint8Array>;
  /** Standard output: sightings with a STDOUT sink, or the queries of a dry run. */
  readonly stdout: WritableStream<Uint8Array>;
  readonly stderr: TerminalWriter;
  /** Terminal width for the progress line. */
  readonly columns?: number | undefined;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly clock: Clock;
  /** Aborts the sweep (SIGINT/SIGTERM in production). */
  readonly signal: AbortSignal;
  /** Opens an indicators file; defaults to `Deno.open`. */
  readonly openFile?: ((path: string) => Promise<ReadableStream<Uint8Array>>) | undefined;
}

/** The real standard streams and environment, for `main.ts`. */
export function processIo(signal: AbortSignal): SweepIo {
  let columns: number | undefined;
  try {
    // A pseudo-terminal without a size reports 0 columns: use the default then.
    const reported = Deno.stderr.isTerminal() ? Deno.consoleSize().columns : 0;
    columns = reported > 0 ? reported : undefined;
  } catch {
    columns = undefined;
  }
  return {
    stdin: () => Deno.stdin.readable,
    stdout: Deno.stdout.writable,
    stderr: Deno.stderr,
    columns,
    cwd: Deno.cwd(),
    env: Deno.env.toObject(),
    clock: processClock(),
    signal,
  };
}

/** Parses the arguments after `sweep` and runs it; resolves to the exit status. */
export async function sweepMain(args: readonly string[], io: SweepIo): Promise<number> {
  const command = parseSweepArgs(args);
  switch (command.kind) {
    case "help":
      await writeText(io.stdout, `Usage:\n${SWEEP_USAGE}\n\n${SWEEP_OPTIONS_HELP}\n`);
      return EXIT.ok;
    case "version":
      await writeText(io.stdout, `vast-threatbus ${VERSION}\n`);
      return EXIT.ok;
    case "usage-error":
      printError(io, `${command.message}\nRun 'vast-threatbus --help' for usage.`);
      return EXIT.usage;
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
      configPath: options.configPath,
      cwd: io.cwd,
      env: io.env,
      overrides: formatOverrides(options.threatbusFormat),
    });
    config = loaded.config;
    warnings = loaded.warnings;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const warning of error.warnings) printError(io, `warning: ${warning}`);
    for (const problem of error.errors) printError(io, problem);
    return EXIT.usage;
  }
  const tally = new SweepTally();
  const progress = new SweepProgress({
    stderr: io.stderr,
    tally,
    clock: io.clock,
    columns: io.columns,
  });
  let logger: ClosableLogger;
  try {
    logger = commandLogger(config, { purpose: "sweep", clock: io.clock, stderr: progress.writer });
  } catch (error) {
    printError(io, (error as Error).message);
    return EXIT.usage;
  }
  try {
    const log = logger.child("main");
    for (const warning of warnings) log.warning(warning);
    log.info(`vast-threatbus ${VERSION} sweep starting`, {
      source: options.indicators ?? "threatbus",
      dry_run: options.dryRun,
    });
    let prepared: PreparedSweep;
    try {
      prepared = await prepareSweep(options, {
        config,
        env: { ...io, logger },
        tally,
      });
    } catch (error) {
      // Printed directly: the config may have turned console logging off.
      printError(io, describeError(error));
      return EXIT.usage;
    }
    return await execute(prepared, { io, logger: log, progress, tally, dryRun: options.dryRun });
  } finally {
    logger.close();
  }
}

async function execute(
  prepared: PreparedSweep,
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
    logger.critical("Sweep stopped by an error", { error: describeError(error) });
    figures = tally.figures();
  } finally {
    stopProgress.abort();
    await showing;
    await prepared.finish();
  }
  const durationMs = progress.elapsedMs();
  progress.print(formatSweepSummary(figures, { durationMs, source: prepared.sourceName, dryRun }));
  const code = crashed
    ? EXIT.failed
    : dryRun && !figures.interrupted
    ? EXIT.ok
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
