/**
 * What the composition root hands out: the set of adapters a command may use,
 * what it is asked for, and the process around it.
 */

import type { LineWriter } from "../adapters/sinks/line_writer.ts";
import type { ConfiguredSink } from "../adapters/sinks/sink_factory.ts";
import type { ThreatBusLink } from "../adapters/threatbus/probe.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import type { WireCodec } from "../core/wire_codec.ts";
import type {
  Backend,
  Clock,
  ContextTransformer,
  IocQuery,
  LiveBackend,
  Logger,
  ThreatBus,
} from "../ports.ts";

/** The process around the adapters: what they need and cannot make themselves. */
export interface Environment {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Standard output: sightings with `sink: STDOUT`, the queries of a dry run. */
  readonly stdout: WritableStream<Uint8Array>;
}

/** Every adapter a command may use; each is made when first asked for. */
export interface Adapters {
  /** The Threat Bus wire format. */
  readonly codec: WireCodec;
  readonly metrics: MetricsRegistry;
  /** The telemetry store for retro queries and live matching. */
  readonly backend: Backend & LiveBackend;
  /** Names the backend in log lines, e.g. `VAST at localhost:42000`. */
  readonly backendName: string;
  /**
   * Resolves when the backend answers, to the node's version where it tells
   * one (Tenzir); rejects with the reason otherwise (`check`).
   */
  backendStatus(signal: AbortSignal): Promise<string | undefined>;
  /** An IoC query in the backend's language, as a dry run prints it. */
  queryText(query: IocQuery, options: { readonly maxEvents: number }): string;
  /** Random sighting ids. */
  readonly newUuid: () => string;
  /** A Threat Bus client that asks for `snapshot` days of history when it subscribes. */
  threatBus(options: ThreatBusRequest): ThreatBus;
  /** The side-effect-free liveness probe of the Threat Bus manage endpoint (`check`). */
  probeThreatBus(
    options: { readonly timeoutMs: number; readonly signal: AbortSignal },
  ): Promise<ThreatBusLink>;
  /** The `transform_context` command, if the config names one. */
  transformer(): ContextTransformer | undefined;
  /**
   * The configured sink; `threatBus` receives the sightings when the config
   * names none (then it is required). Dropped lines count in the metrics.
   */
  sink(options: SinkRequest): ConfiguredSink;
  /**
   * Writes the metrics file and serves Prometheus until `signal` aborts (then
   * one last line); throws at once when `metrics.listen` cannot be bound.
   */
  reportMetrics(signal: AbortSignal): Promise<void>;
  /** Writes lines to standard output, batched, for a dry run's queries. */
  stdoutLines(): LineWriter;
  /**
   * Opens an indicator file (or `-`, standard input) and resolves to its lines,
   * with too long ones by size; rejects naming the file when it cannot be opened.
   */
  indicatorLines(source: IndicatorSource): Promise<AsyncIterable<IndicatorLine>>;
}

/** What {@linkcode Adapters.threatBus} is asked for. */
export interface ThreatBusRequest {
  /** Days of history to ask for; 0 asks for none. */
  readonly snapshot: number;
  /** How long closing lets queued sightings reach the broker; default 1 s. */
  readonly flushTimeoutMs?: number | undefined;
}

/** What {@linkcode Adapters.sink} is asked for. */
export interface SinkRequest {
  readonly threatBus: ThreatBus | undefined;
  /** Told of lines a buffering sink dropped, besides the metrics. */
  readonly onDropped?: ((lines: number) => void) | undefined;
}

/** One line of an indicator file, or the size of a line too long to keep. */
export type IndicatorLine = string | { readonly oversizeBytes: number };

/** Where {@linkcode Adapters.indicatorLines} reads from. */
export interface IndicatorSource {
  /** A path (relative to `cwd`) or `-` for standard input. */
  readonly name: string;
  readonly cwd: string;
  readonly stdin: () => ReadableStream<Uint8Array>;
  /** Opens a file; defaults to `Deno.open`. */
  readonly openFile?: ((path: string) => Promise<ReadableStream<Uint8Array>>) | undefined;
  readonly signal: AbortSignal;
}
