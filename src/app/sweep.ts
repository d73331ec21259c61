/**
 * A one-shot retro sweep: read indicators from Threat Bus (until it goes quiet)
 * or from lines of a file, query each distinct IoC once with the configured
 * limits, report the sightings, and keep score in a {@linkcode SweepTally}.
 */

import type { IndicatorSourceParser } from "../core/indicator_source.ts";
import type { IocQuery } from "../core/ioc.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import type { Sighting, SightingAggregation } from "../core/sighting.ts";
import type { SweepFigures, SweepTally } from "../core/sweep_summary.ts";
import type { WireCodec } from "../core/wire_codec.ts";
import type {
  Backend,
  Clock,
  ContextTransformer,
  Logger,
  SightingSink,
  ThreatBus,
} from "../ports.ts";
import { framesUntilIdle } from "./frames_until_idle.ts";
import { describeError } from "../core/error_text.ts";
import { deliverSighting } from "./deliver.ts";
import { RetroMatcher } from "./retro/matcher.ts";
import { SweepIntake } from "./sweep_intake.ts";

/** The limits of a sweep, from the config and the command line. */
export interface SweepSettings {
  /** `retro_match_max_events`; 0 = unlimited. */
  readonly maxEvents: number;
  /** `retro_match_timeout` in seconds; 0 = none. */
  readonly timeoutSeconds: number;
  /** `max_background_tasks`: queries running at once. */
  readonly concurrency: number;
  /** `retro_match_retries`: further attempts for a refused query. */
  readonly retries: number;
  /** `retro_match_batch_size`: most indicators one query serves. */
  readonly batchSize: number;
  /** `source`: the sightings' `x_threatbus_source`. */
  readonly source: string;
  /** `sighting_aggregation`: a sighting per event, or one per query. */
  readonly aggregation: SightingAggregation;
  /** Print each distinct query through `printQuery` instead of running it. */
  readonly dryRun: boolean;
  /** Queries waiting before reading a file pauses; default 10,000. */
  readonly queueLimit?: number | undefined;
  /** Unusable items logged one by one before the rest are only counted; default 100. */
  readonly maxLoggedProblems?: number | undefined;
}

/** One line of a file source, or the size of a line too long to keep. */
export type SourceLine = string | { readonly oversizeBytes: number };

/** Where the indicators come from. */
export type SweepSource =
  | {
    readonly kind: "threatbus";
    /** Subscribed with the snapshot the sweep wants; closed at the end. */
    readonly threatBus: ThreatBus;
    readonly codec: WireCodec;
    /** Stop after this long without a new indicator. */
    readonly idleMs: number;
  }
  | {
    readonly kind: "lines";
    readonly lines: AsyncIterable<SourceLine>;
    readonly parser: IndicatorSourceParser;
  };

/** Every port a sweep uses. */
export interface SweepDeps {
  readonly settings: SweepSettings;
  readonly source: SweepSource;
  readonly backend: Backend;
  /** Where sightings go; closed at the end. Not needed for a dry run. */
  readonly sink?: SightingSink | undefined;
  /** Rewrites each sighting's context before delivery (`transform_context`). */
  readonly transformer?: ContextTransformer | undefined;
  /**
   * The Threat Bus that receives sightings when the source is a file: it is
   * kept subscribed meanwhile (the subscription tells where to publish) and
   * closed at the end.
   */
  readonly publishTo?: ThreatBus | undefined;
  /** Prints one query of a dry run, in the backend's language (stdout in production). */
  readonly printQuery?: ((query: IocQuery) => Promise<void>) | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly newUuid: () => string;
  readonly metrics: MetricsRegistry;
  /** Updated as the sweep runs, so a progress display can read it. */
  readonly tally: SweepTally;
}

const DEFAULT_QUEUE_LIMIT = 10_000;
const DEFAULT_MAX_LOGGED_PROBLEMS = 100;

/**
 * Runs the sweep until the source is exhausted and every query ended, or
 * until `signal` aborts (running queries are then killed and the tally marked
 * interrupted). Closes the sink and every Threat Bus it was given. Resolves
 * with the final figures; rejects only for errors that are not the sweep's
 * own business (a broken sink close is logged, not thrown).
 */
export async function sweepIndicators(deps: SweepDeps, signal: AbortSignal): Promise<SweepFigures> {
  const { settings, tally } = deps;
  const log = deps.logger.child("sweep");
  const sink = deps.sink;
  if (!settings.dryRun && sink === undefined) {
    throw new TypeError("Cannot sweep: no sink for the sightings");
  }
  const retro = settings.dryRun || sink === undefined ? undefined : new RetroMatcher(
    {
      backend: deps.backend,
      logger: deps.logger,
      clock: deps.clock,
      newUuid: deps.newUuid,
      metrics: deps.metrics,
      report: reporter({ sink, transformer: deps.transformer, tally }, log),
      onFinished: (result) => tally.finish(result.status),
      // Counted like a withdrawal before the query ran: queued, never started.
      onExpired: () => tally.cancel(1),
    },
    {
      concurrency: settings.concurrency,
      maxEvents: settings.maxEvents,
      timeoutSeconds: settings.timeoutSeconds,
      retries: settings.retries,
      batchSize: settings.batchSize,
      // A sweep must end: a node that went down costs its queries their retries.
      waitWhileBackendDown: false,
      source: settings.source,
      aggregation: settings.aggregation,
    },
  );
  const keeper = new AbortController();
  const keeping = deps.publishTo !== undefined && retro !== undefined
    ? keepSubscribed(deps.publishTo, AbortSignal.any([signal, keeper.signal]), log)
    : undefined;
  const intake = new SweepIntake({
    tally,
    log,
    clock: deps.clock,
    retro,
    printQuery: deps.printQuery,
    queueLimit: settings.queueLimit ?? DEFAULT_QUEUE_LIMIT,
    maxLoggedProblems: settings.maxLoggedProblems ?? DEFAULT_MAX_LOGGED_PROBLEMS,
    signal,
  });
  let failure: unknown;
  try {
    if (deps.source.kind === "threatbus") {
      const { threatBus, codec, idleMs } = deps.source;
      const frames = framesUntilIdle(threatBus, { codec, idleMs, clock: deps.clock, log, signal });
      for await (const decoded of frames) await intake.frame(decoded);
      if (tally.figures().indicatorsRead === 0) {
        log.warning("No indicator arrived from Threat Bus", {
          idle_s: deps.source.idleMs / 1000,
          hint: "is Threat Bus reachable, and is the snapshot long enough?",
        });
      }
    } else {
      const { lines, parser } = deps.source;
      for await (const line of lines) {
        const entries = typeof line === "string"
          ? parser.push(line)
          : parser.pushOversize(line.oversizeBytes);
        for (const entry of entries) await intake.entry(entry);
      }
      for (const entry of parser.end()) await intake.entry(entry);
    }
    tally.sourceFinished();
    log.info("All indicators read", { queries: tally.figures().queries });
    await retro?.idle(signal);
  } catch (error) {
    if (!signal.aborted) failure = error;
  } finally {
    if (signal.aborted) tally.interrupt();
    // An aborted signal kills running queries at once; otherwise none are left.
    await retro?.drain(signal.aborted || failure !== undefined ? AbortSignal.abort() : signal);
    if (sink !== undefined) await closeSink(sink, log);
    keeper.abort();
    await keeping;
    const buses = new Set([
      ...(deps.source.kind === "threatbus" ? [deps.source.threatBus] : []),
      ...(deps.publishTo === undefined ? [] : [deps.publishTo]),
    ]);
    for (const bus of buses) await bus.close();
  }
  if (failure !== undefined) throw failure;
  return tally.figures();
}

/** Keeps a Threat Bus subscribed, ignoring its frames, so sightings can be published. */
async function keepSubscribed(bus: ThreatBus, signal: AbortSignal, log: Logger): Promise<void> {
  try {
    for await (const _frame of bus.frames(signal)) {
      // Indicators arriving now are not part of this sweep's input.
    }
  } catch (error) {
    if (!signal.aborted) {
      log.error("Cannot stay connected to Threat Bus; sightings may be lost", {
        error: describeError(error),
      });
    }
  }
}

function reporter(
  parts: {
    readonly sink: SightingSink;
    readonly transformer: ContextTransformer | undefined;
    readonly tally: SweepTally;
  },
  log: Logger,
): (sighting: Sighting) => Promise<void> {
  const { sink, transformer, tally } = parts;
  return async (sighting) => {
    try {
      await deliverSighting(sighting, { sink, transformer });
      tally.sighting(true);
    } catch (error) {
      tally.sighting(false);
      log.error("Cannot deliver sighting", { sighting: sighting.id, error: describeError(error) });
    }
  };
}

async function closeSink(sink: SightingSink, log: Logger): Promise<void> {
  try {
    await sink.close();
  } catch (error) {
    log.error("Cannot close the sink", { error: describeError(error) });
  }
}
