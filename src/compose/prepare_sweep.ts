/**
 * `sweep`: the adapters of one sweep from the config and the command line:
 * the indicator source (Threat Bus or a file), the sink, the backend.
 */

import type { SweepDeps, SweepSource } from "../app/sweep.ts";
import type { Config } from "../core/config_schema.ts";
import { IndicatorSourceParser } from "../core/indicator_source.ts";
import type { SweepTally } from "../core/sweep_summary.ts";
import type { ContextTransformer, IocQuery, SightingSink, ThreatBus } from "../ports.ts";
import { composeAdapters, type Environment, type IndicatorSource } from "./adapters.ts";
import { sweepSettings } from "./settings.ts";

/** How long queued sightings may take to reach Threat Bus at the end. */
const THREATBUS_FLUSH_MS = 10_000;

/** What the command line asks of a sweep. */
export interface SweepRequest {
  /** An indicators file or `-`; absent: read Threat Bus. */
  readonly indicators?: string | undefined;
  /** Days of history from Threat Bus; absent: the config's `snapshot`. */
  readonly snapshotDays?: number | undefined;
  /** Seconds without a new indicator after which Threat Bus is left. */
  readonly idleSeconds: number;
  readonly dryRun: boolean;
}

/** The process around a sweep. */
export interface SweepEnvironment extends Environment {
  readonly stdin: () => ReadableStream<Uint8Array>;
  readonly cwd: string;
  readonly openFile?: IndicatorSource["openFile"];
  readonly signal: AbortSignal;
}

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
  request: SweepRequest,
  parts: { readonly config: Config; readonly env: SweepEnvironment; readonly tally: SweepTally },
): Promise<PreparedSweep> {
  const { config, env, tally } = parts;
  const adapters = composeAdapters(config, env);
  const snapshot = request.snapshotDays ?? config.snapshot;
  const threatBus = (days: number) =>
    adapters.threatBus({ snapshot: days, flushTimeoutMs: THREATBUS_FLUSH_MS });
  const sourceBus = request.indicators === undefined ? threatBus(snapshot) : undefined;
  let sink: SightingSink | undefined;
  let transformer: ContextTransformer | undefined;
  let publishTo: ThreatBus | undefined;
  let printQuery: ((query: IocQuery) => Promise<void>) | undefined;
  let finish = () => Promise.resolve();
  try {
    if (request.dryRun) {
      const writer = adapters.stdoutLines();
      const maxEvents = config.retro_match_max_events;
      printQuery = (query) => writer.writeLine(adapters.queryText(query, { maxEvents }));
      finish = () => writer.close();
    } else {
      // The transformer first: it starts no process, while a streaming sink starts one.
      transformer = adapters.transformer();
      const bus = config.sink !== undefined ? undefined : sourceBus ?? (publishTo = threatBus(0));
      sink = adapters.sink({ threatBus: bus, onDropped: (lines) => tally.lost(lines) });
    }
  } catch (error) {
    await sourceBus?.close();
    await publishTo?.close();
    throw error;
  }

  let source: SweepSource;
  let sourceName: string;
  if (sourceBus !== undefined) {
    if (snapshot === 0) {
      env.logger.child("sweep").warning(
        "Snapshot is 0 days: only indicators published during the sweep are read",
      );
    }
    const idleMs = request.idleSeconds * 1000;
    source = { kind: "threatbus", threatBus: sourceBus, codec: adapters.codec, idleMs };
    sourceName = `Threat Bus at ${config.threatbus} (snapshot ${snapshot} days)`;
  } else {
    const name = request.indicators ?? "-";
    let lines;
    try {
      lines = await adapters.indicatorLines({ ...env, name });
    } catch (error) {
      await sink?.close().catch(() => undefined);
      await publishTo?.close();
      throw error;
    }
    source = {
      kind: "lines",
      lines,
      parser: new IndicatorSourceParser({ timestampMs: env.clock.now() }),
    };
    sourceName = name === "-" ? "standard input" : JSON.stringify(name);
  }
  const deps: SweepDeps = {
    settings: sweepSettings(config, { dryRun: request.dryRun }),
    source,
    backend: adapters.backend,
    sink,
    transformer,
    publishTo,
    printQuery,
    logger: env.logger,
    clock: env.clock,
    newUuid: adapters.newUuid,
    metrics: adapters.metrics,
    tally,
  };
  return { deps, sourceName, finish };
}
