/**
 * The composition root: the one module that turns a resolved config into the
 * adapters the program runs on (backend, wire codec, Threat Bus client, sink,
 * transformer, metrics, logger, clock). `run`, `sweep` and `check` all take
 * their adapters from here, so a second backend or wire format is one switch
 * in this file.
 */

import { systemClock } from "../adapters/clock.ts";
import { type ClosableLogger, createLogger, createLoggerFromConfig } from "../adapters/logger.ts";
import type { SyncWriter } from "../adapters/logger.ts";
import { readLines } from "../adapters/line_reader.ts";
import { fullyQualifiedHostName, runMetricsReporting } from "../adapters/metrics_file.ts";
import { startPrometheusServer } from "../adapters/prometheus_server.ts";
import { LineWriter } from "../adapters/sinks/line_writer.ts";
import { createSink } from "../adapters/sinks/sink_factory.ts";
import { ThreatBusClient } from "../adapters/threatbus/client.ts";
import { probeThreatBus } from "../adapters/threatbus/probe.ts";
import { threatBusSink } from "../adapters/threatbus/sink.ts";
import { createTransformRunner } from "../adapters/transform_runner.ts";
import type { ZmtpHeartbeat } from "../adapters/zmtp/connection_heartbeat.ts";
import { TenzirCli } from "../adapters/tenzir/tenzir_cli.ts";
import { VastCli } from "../adapters/vast/vast_cli.ts";
import { legacyCodec } from "../core/codec_legacy.ts";
import { backendIdentity, backendName } from "../core/backend_identity.ts";
import { stix2Codec } from "../core/codec_stix2.ts";
import type { Config } from "../core/config_schema.ts";
import { MetricsRegistry } from "../core/metrics.ts";
import { vastQueryAny } from "../core/vast_query.ts";
import type { WireCodec } from "../core/wire_codec.ts";
import type { Clock, SightingSink } from "../ports.ts";
import { VERSION } from "../version.ts";
import type {
  Adapters,
  Environment,
  IndicatorLine,
  IndicatorSource,
  SinkRequest,
  ThreatBusRequest,
} from "./adapter_set.ts";

export type {
  Adapters,
  Environment,
  IndicatorLine,
  IndicatorSource,
  SinkRequest,
  ThreatBusRequest,
};

/** Longest indicator line kept, so that a one-line bundle of this size is still read. */
const MAX_INDICATOR_LINE_BYTES = 128 * 1024 * 1024;

/** The clock of this process. */
export function processClock(): Clock {
  return systemClock();
}

/**
 * The logger a command logs with: the config's `logging.*` for `run` and
 * `sweep`; for `check` warnings on the console only, since a check must not
 * write into the service's log file.
 */
export function commandLogger(
  config: Config,
  options: {
    readonly purpose: "run" | "sweep" | "check";
    readonly clock: Clock;
    /** Where console lines go; default standard error. */
    readonly stderr?: SyncWriter | undefined;
  },
): ClosableLogger {
  const { clock, stderr } = options;
  if (options.purpose !== "check") return createLoggerFromConfig(config, clock, { stderr });
  return createLogger({
    component: "check",
    console: { enabled: config.logging.console, level: "WARNING" },
    file: { enabled: false, level: "WARNING", path: config.logging.filename },
    format: config.logging.format,
    clock,
    stderr,
  });
}

/** Builds the adapters of `config`; nothing starts until it is asked for. */
export function composeAdapters(config: Config, env: Environment): Adapters {
  const { clock, logger } = env;
  const codec = wireCodec(config);
  const metrics = new MetricsRegistry();
  const { backend, backendStatus, queryText } = composeBackend(config, env);
  return {
    codec,
    metrics,
    backend,
    backendName: backendName(backendIdentity(config)),
    backendStatus,
    queryText,
    newUuid: () => crypto.randomUUID(),
    threatBus: ({ snapshot, flushTimeoutMs }) =>
      new ThreatBusClient({
        endpoint: config.threatbus,
        topic: codec.subscribeTopic,
        format: codec.format,
        snapshot,
        maxMessageBytes: config.max_message_bytes,
        flushTimeoutMs,
        linkHeartbeat: linkHeartbeat(config),
        logger: logger.child("threatbus"),
        clock,
      }),
    probeThreatBus: ({ timeoutMs, signal }) =>
      probeThreatBus({ endpoint: config.threatbus, clock, timeoutMs, signal }),
    transformer: () =>
      config.transform_context === undefined ? undefined : createTransformRunner({
        template: config.transform_context,
        logger: logger.child("transform"),
        clock,
      }),
    sink: ({ threatBus, onDropped }) =>
      createSink(config, {
        stdout: env.stdout,
        logger,
        clock,
        threatBusSink: threatBus === undefined
          ? unusedSink()
          : threatBusSink(threatBus, { codec, metrics }),
        sightingLine: (sighting) => codec.encodeSighting(sighting).body,
        onResent: (lines) => metrics.count("sink_resent_lines", lines),
        onDropped: (lines) => {
          metrics.count("sink_dropped_lines", lines);
          onDropped?.(lines);
        },
      }),
    reportMetrics: (signal) => {
      const metricsLogger = logger.child("metrics");
      // Started before anything waits, so a `metrics.listen` that cannot be bound fails at once.
      const prometheus = config.metrics.listen === undefined ? undefined : startPrometheusServer({
        registry: metrics,
        listen: config.metrics.listen,
        clock,
        logger: metricsLogger,
        version: VERSION,
        signal,
      });
      return runMetricsReporting({
        registry: metrics,
        clock,
        logger: metricsLogger,
        intervalSeconds: config.metrics.interval,
        filename: config.metrics.filename,
        host: fullyQualifiedHostName(),
        signal,
      }).then(() => prometheus?.finished);
    },
    stdoutLines: () => new LineWriter(env.stdout),
    indicatorLines,
  };
}

/** The codec of `threatbus_format`. */
function wireCodec(config: Config): WireCodec {
  switch (config.threatbus_format) {
    case "stix2":
      return stix2Codec();
    case "legacy":
      // Only live sightings need remembered intel; retro ones carry their indicator.
      return legacyCodec({ rememberedIntel: config.live_match ? undefined : 0 });
  }
}

/** The ZMTP heartbeat of every Threat Bus connection, from its two keys (seconds). */
function linkHeartbeat(config: Config): ZmtpHeartbeat {
  return {
    intervalMs: config.zmtp_heartbeat_interval * 1000,
    timeoutMs: config.zmtp_heartbeat_timeout * 1000,
  };
}

/** The one switch between the backends of `config.backend`. */
function composeBackend(
  config: Config,
  env: Environment,
): Pick<Adapters, "backend" | "backendStatus" | "queryText"> {
  const { clock, logger } = env;
  if (config.backend === "tenzir") {
    const tenzir = new TenzirCli({
      binary: config.tenzir_binary,
      endpoint: config.tenzir_endpoint,
      connectTimeoutSeconds: config.tenzir_connect_timeout,
      maxLineBytes: config.max_result_line_bytes,
      logger: logger.child("tenzir"),
      clock,
    });
    return {
      backend: tenzir,
      backendStatus: (signal) => tenzir.version(signal),
      queryText: (query, options) => tenzir.retroQueryText(query, options),
    };
  }
  const vast = new VastCli({
    binary: config.vast_binary,
    endpoint: config.vast,
    maxLineBytes: config.max_result_line_bytes,
    logger: logger.child("vast"),
    clock,
  });
  return {
    backend: vast,
    backendStatus: (signal) => vast.status(signal).then(() => undefined),
    queryText: (query) => vastQueryAny(query),
  };
}

/** Stands in for the Threat Bus sink when `sink` is set and the factory will not use it. */
function unusedSink(): SightingSink {
  return {
    write: () => Promise.reject(new Error("Cannot write: Threat Bus is not the configured sink")),
    close: () => Promise.resolve(),
  };
}

async function indicatorLines(source: IndicatorSource): Promise<AsyncIterable<IndicatorLine>> {
  const stream = source.name === "-" ? source.stdin() : await openIndicators(source);
  return linesOf(stream, source.signal);
}

/** Input lines, with lines too long to keep reported by size in their place. */
async function* linesOf(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<IndicatorLine> {
  const oversize: number[] = [];
  const lines = readLines(stream, {
    maxLineBytes: MAX_INDICATOR_LINE_BYTES,
    signal,
    onOversize: (bytes) => oversize.push(bytes),
  });
  for await (const line of lines) {
    for (const bytes of oversize.splice(0)) yield { oversizeBytes: bytes };
    yield line;
  }
  for (const bytes of oversize.splice(0)) yield { oversizeBytes: bytes };
}

async function openIndicators(source: IndicatorSource): Promise<ReadableStream<Uint8Array>> {
  const { name, cwd } = source;
  const path = name.startsWith("/") ? name : `${cwd.replace(/\/+$/, "")}/${name}`;
  try {
    if (source.openFile !== undefined) return await source.openFile(path);
    const file = await Deno.open(path, { read: true });
    return file.readable;
  } catch (error) {
    throw new Error(`Cannot read indicators file "${name}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}
