/**
 * Builds the adapters of one sweep from the config and the options: the
 * indicator source (Threat Bus or a file), the sink, the `vast` backend.
 */

import { LineWriter } from "../adapters/sinks/line_writer.ts";
import { readLines } from "../adapters/line_reader.ts";
import { createSink } from "../adapters/sinks/sink_factory.ts";
import { threatBusSink } from "../adapters/threatbus/sink.ts";
import { createTransformRunner } from "../adapters/transform_runner.ts";
import { VastCli } from "../adapters/vast_cli.ts";
import type { SourceLine, SweepDeps, SweepSource } from "../app/sweep.ts";
import { stix2Codec } from "../core/codec_stix2.ts";
import type { Config } from "../core/config_schema.ts";
import { IndicatorSourceParser } from "../core/indicator_source.ts";
import { MetricsRegistry } from "../core/metrics.ts";
import type { SweepTally } from "../core/sweep_summary.ts";
import type { ContextTransformer, Logger, SightingSink, ThreatBus } from "../ports.ts";
import type { SweepIo } from "./sweep.ts";
import type { SweepOptions } from "./sweep_args.ts";

/** Longest input line kept, so that a one-line bundle of this size is still read. */
const MAX_LINE_BYTES = 128 * 1024 * 1024;
/** How long queued sightings may take to reach Threat Bus at the end. */
const THREATBUS_FLUSH_MS = 10_000;

/** The deps of a sweep, ready to run. */
export interface PreparedSweep {
  readonly deps: SweepDeps;
  /** For the summary: where the indicators came from. */
  readonly sourceName: string;
  /** Writes buffered dry-run output. */
  readonly finish: () => Promise<void>;
}

/** Builds the adapters; throws for what the user must fix (file, sink command). */
export async function prepareSweep(
  options: SweepOptions,
  parts: { config: Config; io: SweepIo; logger: Logger; tally: SweepTally },
): Promise<PreparedSweep> {
  const { config, io, logger, tally } = parts;
  const codec = stix2Codec();
  const metrics = new MetricsRegistry();
  const needsThreatBus = options.indicators === undefined ||
    (!options.dryRun && config.sink === undefined);
  // Loading ZeroMQ's native addon is a good part of start-up; a sweep from a
  // file to a configured sink does without it.
  const zmq = needsThreatBus ? await import("../adapters/threatbus/client.ts") : undefined;
  const threatBus = (snapshot: number): ThreatBus => {
    if (zmq === undefined) throw new Error("Cannot connect to Threat Bus: ZeroMQ is not loaded");
    return new zmq.ThreatBusClient({
      endpoint: config.threatbus,
      topic: codec.subscribeTopic as string | string[],
      snapshot,
      logger: logger.child("threatbus"),
      clock: io.clock,
      maxMessageBytes: config.max_message_bytes,
      flushTimeoutMs: THREATBUS_FLUSH_MS,
    });
  };

  const sourceBus = options.indicators === undefined
    ? threatBus(options.snapshotDays ?? config.snapshot)
    : undefined;
  let sink: SightingSink | undefined;
  let transformer: ContextTransformer | undefined;
  let publishTo: ThreatBus | undefined;
  let printQuery: ((query: string) => Promise<void>) | undefined;
  let finish = () => Promise.resolve();
  try {
    if (options.dryRun) {
      const writer = new LineWriter(io.stdout);
      printQuery = (query) => writer.writeLine(query);
      finish = () => writer.close();
    } else {
      // The transformer first: it starts no process, while a streaming sink starts one.
      if (config.transform_context !== undefined) {
        transformer = createTransformRunner({
          template: config.transform_context,
          logger: logger.child("transform"),
          clock: io.clock,
        });
      }
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
    await publishTo?.close();
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
      retries: config.retro_match_retries,
      batchSize: config.retro_match_batch_size,
      dryRun: options.dryRun,
    },
    source,
    backend: new VastCli({
      binary: config.vast_binary,
      endpoint: config.vast,
      maxLineBytes: config.max_result_line_bytes,
      logger: logger.child("vast"),
      clock: io.clock,
    }),
    ...(sink === undefined ? {} : { sink }),
    ...(transformer === undefined ? {} : { transformer }),
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
