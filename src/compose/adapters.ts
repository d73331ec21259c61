import { ThreatBusClient } from "../adapters/threatbus/client.ts";
import { VastCli } from "../adapters/vast_cli.ts";
import { type ConfiguredSink, createSink } from "../adapters/sinks/sink_factory.ts";
import { createTransformRunner } from "../adapters/transform_runner.ts";
import { threatBusSink } from "../adapters/threatbus/sink.ts";
import { stix2Codec } from "../core/codec_stix2.ts";
import type { Config } from "../core/config_schema.ts";
import { MetricsRegistry } from "../core/metrics.ts";
import { fullyQualifiedHostName, runMetricsReporting } from "../adapters/metrics_file.ts";
import { startPrometheusServer } from "../adapters/prometheus_server.ts";
import { VERSION } from "../version.ts";
import type { Clock, Logger, Sighting, SightingSink } from "../ports.ts";
import { type BridgeSettings, runBridge } from "../app/bridge.ts";

/** The process-level things the wiring cannot create itself. */
export interface Environment {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly stdout: WritableStream<Uint8Array>;
  /**
   * Registers a listener for SIGHUP (log rotation); returns its removal.
   * Absent where no signal can arrive, e.g. in tests.
   */
  readonly onHangup?: (listener: () => void) => () => void;
}

/** Builds the production adapters from the config and runs the bridge. */
export async function startBridge(
  config: Config,
  env: Environment,
  signal: AbortSignal,
): Promise<void> {
  const codec = stix2Codec();
  const threatBus = new ThreatBusClient({
    endpoint: config.threatbus,
    topic: codec.subscribeTopic as string | string[],
    snapshot: config.snapshot,
    maxMessageBytes: config.max_message_bytes,
    logger: env.logger.child("threatbus"),
    clock: env.clock,
  });
  const backend = new VastCli({
    binary: config.vast_binary,
    endpoint: config.vast,
    maxLineBytes: config.max_result_line_bytes,
    logger: env.logger.child("vast"),
  });
  const metrics = new MetricsRegistry();
  // The transformer first: it starts no process, while a streaming sink starts one.
  const transformer = config.transform_context === undefined ? undefined : createTransformRunner({
    template: config.transform_context,
    logger: env.logger.child("transform"),
    clock: env.clock,
  });
  const sink = createSink(config, {
    stdout: env.stdout,
    logger: env.logger,
    clock: env.clock,
    threatBusSink: threatBusSink(threatBus, { codec, metrics }),
  });
  let reopening = Promise.resolve();
  const stopHangup = sink.reopen === undefined ? undefined : env.onHangup?.(() => {
    reopening = reopening.then(() => sink.reopen?.());
  });
  // Stopped only after the bridge, so the last line holds the figures of the shutdown drain.
  const metricsStop = new AbortController();
  const metricsLogger = env.logger.child("metrics");
  const prometheus = config.metrics.listen === undefined ? undefined : startPrometheusServer({
    registry: metrics,
    listen: config.metrics.listen,
    clock: env.clock,
    logger: metricsLogger,
    version: VERSION,
    signal: metricsStop.signal,
  });
  const reporting = runMetricsReporting({
    registry: metrics,
    clock: env.clock,
    logger: metricsLogger,
    intervalSeconds: config.metrics.interval,
    filename: config.metrics.filename,
    host: fullyQualifiedHostName(),
    signal: metricsStop.signal,
  });
  try {
    await runBridge({
      settings: bridgeSettings(config),
      threatBus,
      backend,
      codec,
      sink: countingDrops(sink, metrics),
      ...(transformer === undefined ? {} : { transformer }),
      logger: env.logger,
      clock: env.clock,
      newUuid: () => crypto.randomUUID(),
      metrics,
      liveBackend: backend,
    }, signal);
  } finally {
    stopHangup?.();
    await reopening;
    metricsStop.abort();
    await reporting;
    await prometheus?.finished;
  }
}

/** The bridge's view of the config. */
export function bridgeSettings(config: Config): BridgeSettings {
  return {
    retroMatch: config.retro_match,
    retroMaxEvents: config.retro_match_max_events,
    retroTimeoutSeconds: config.retro_match_timeout,
    maxBackgroundTasks: config.max_background_tasks,
    retroRetries: config.retro_match_retries,
    retroBatchSize: config.retro_match_batch_size,
    shutdownGraceMs: config.shutdown_timeout * 1000,
    backendName: `VAST at ${config.vast}`,
    // The config schema requires matcher_name whenever live_match is true.
    ...(config.live_match && config.matcher_name !== undefined
      ? { live: { matcherName: config.matcher_name } }
      : {}),
  };
}

/** Reports lines a sink had to drop (its buffer overflowed while the target was down). */
function countingDrops(sink: ConfiguredSink, metrics: MetricsRegistry): SightingSink {
  if (sink.dropped === undefined) return sink;
  let seen = 0;
  return {
    write: async (sighting: Sighting) => {
      await sink.write(sighting);
      const dropped = sink.dropped ?? 0;
      if (dropped > seen) {
        metrics.count("sink_dropped_lines", dropped - seen);
        seen = dropped;
      }
    },
    close: () => sink.close(),
  };
}
