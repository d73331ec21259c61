/**
 * A one-shot retro sweep: read indicators from Threat Bus (until it goes quiet)
 * or from lines of a file, query each distinct IoC once with the configured
 * limits, report the sightings, and keep score in a {@linkcode SweepTally}.
 */

import { isRemoval } from "../core/indicator.ts";
import {
  formatLocation,
  type IndicatorSourceParser,
  type SourceEntry,
  type SourceLocation,
} from "../core/indicator_source.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import { pointIocFromPattern } from "../core/point_ioc.ts";
import type { Sighting } from "../core/sighting.ts";
import type { SweepFigures, SweepTally } from "../core/sweep_summary.ts";
import { vastQuery } from "../core/vast_query.ts";
import type { DecodedFrame, WireCodec } from "../core/wire_codec.ts";
import type {
  Backend,
  BrokerFrame,
  Clock,
  Indicator,
  Logger,
  SightingSink,
  ThreatBus,
} from "../ports.ts";
import { RetroMatcher } from "./retro_matcher.ts";

/** The limits of a sweep, from the config and the command line. */
export interface SweepSettings {
  /** `retro_match_max_events`; 0 = unlimited. */
  readonly maxEvents: number;
  /** `retro_match_timeout` in seconds; 0 = none. */
  readonly timeoutSeconds: number;
  /** `max_background_tasks`: queries running at once. */
  readonly concurrency: number;
  /** Print each distinct query through `printQuery` instead of running it. */
  readonly dryRun: boolean;
  /** Queries waiting before reading a file pauses; default 10,000. */
  readonly queueLimit?: number;
  /** Unusable items logged one by one before the rest are only counted; default 100. */
  readonly maxLoggedProblems?: number;
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
  readonly sink?: SightingSink;
  /**
   * The Threat Bus that receives sightings when the source is a file: it is
   * kept subscribed meanwhile (the subscription tells where to publish) and
   * closed at the end.
   */
  readonly publishTo?: ThreatBus;
  /** Prints one query of a dry run (stdout in production). */
  readonly printQuery?: (query: string) => Promise<void>;
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
      report: reporter(sink, tally, log),
      onFinished: (result) => tally.finish(result.status),
    },
    {
      concurrency: settings.concurrency,
      maxEvents: settings.maxEvents,
      timeoutSeconds: settings.timeoutSeconds,
    },
  );
  const keeper = new AbortController();
  const keeping = deps.publishTo !== undefined && retro !== undefined
    ? keepSubscribed(deps.publishTo, AbortSignal.any([signal, keeper.signal]), log)
    : undefined;
  const intake = new Intake({ deps, log, retro, signal });
  let failure: unknown;
  try {
    if (deps.source.kind === "threatbus") {
      for await (
        const decoded of framesUntilIdle(deps.source, { clock: deps.clock, log, signal })
      ) {
        await intake.frame(decoded);
      }
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
    if (sink !== undefined) await closeSink(sink, tally, log);
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

/** Turns what the source delivers into queries, counting and logging what is skipped. */
class Intake {
  readonly #deps: SweepDeps;
  readonly #log: Logger;
  readonly #retro: RetroMatcher | undefined;
  readonly #signal: AbortSignal;
  readonly #seen = new Set<string>();
  readonly #queueLimit: number;
  readonly #maxLogged: number;
  #logged = 0;

  constructor(
    options: { deps: SweepDeps; log: Logger; retro: RetroMatcher | undefined; signal: AbortSignal },
  ) {
    this.#deps = options.deps;
    this.#log = options.log;
    this.#retro = options.retro;
    this.#signal = options.signal;
    this.#queueLimit = Math.max(1, options.deps.settings.queueLimit ?? DEFAULT_QUEUE_LIMIT);
    this.#maxLogged = options.deps.settings.maxLoggedProblems ?? DEFAULT_MAX_LOGGED_PROBLEMS;
  }

  /** One decoded Threat Bus frame (ignored ones never get here). */
  async frame(decoded: Exclude<DecodedFrame, { kind: "ignored" }>): Promise<void> {
    if (decoded.kind === "invalid") {
      this.#deps.tally.read();
      this.#deps.tally.skip("unreadable");
      this.#problem("Skipping broker message", { reason: decoded.reason });
      return;
    }
    await this.#indicator(decoded.indicator, undefined);
  }

  /** One entry of a file source. */
  async entry(entry: SourceEntry): Promise<void> {
    switch (entry.kind) {
      case "other-object":
        this.#deps.tally.otherObject();
        this.#log.debug("Ignoring a STIX object that is not an indicator", {
          at: formatLocation(entry.at),
          type: entry.objectType,
        });
        return;
      case "unusable":
        this.#deps.tally.read();
        this.#deps.tally.skip(entry.category === "invalid-value" ? "invalid-value" : "unreadable");
        this.#problem(`Skipping ${formatLocation(entry.at)}`, { reason: entry.reason });
        return;
      case "indicator":
        await this.#indicator(entry.indicator, entry.at);
    }
  }

  async #indicator(indicator: Indicator, at: SourceLocation | undefined): Promise<void> {
    const { tally, settings } = this.#deps;
    tally.read();
    const where = at === undefined ? {} : { at: formatLocation(at) };
    if (isRemoval(indicator)) {
      tally.skip("withdrawn");
      const cancelled = this.#retro?.cancel(indicator.id) ?? 0;
      tally.cancel(cancelled);
      this.#log.info("Indicator withdrawn", {
        indicator: indicator.id,
        ...where,
        cancelled_queries: cancelled,
      });
      return;
    }
    const point = pointIocFromPattern(indicator.pattern);
    if (!point.ok) {
      tally.skip(
        point.kind === "syntax"
          ? "invalid-pattern"
          : point.kind === "invalid-value"
          ? "invalid-value"
          : "unsupported-pattern",
      );
      this.#problem("Skipping indicator", {
        indicator: indicator.id,
        ...where,
        reason: point.reason,
      });
      return;
    }
    const key = `${point.ioc.type}\u0000${point.ioc.value}`;
    if (this.#seen.has(key)) {
      tally.skip("duplicate");
      this.#log.debug("IoC already queried in this sweep", {
        indicator: indicator.id,
        ...where,
        ioc: point.ioc.value,
      });
      return;
    }
    this.#seen.add(key);
    tally.queue();
    if (settings.dryRun || this.#retro === undefined) {
      await this.#deps.printQuery?.(vastQuery(point.ioc));
      return;
    }
    // Bounded memory for huge files: stop reading while the queue is long.
    if (this.#deps.source.kind === "lines") {
      await this.#retro.waitForBacklog(this.#queueLimit - 1, this.#signal);
    }
    this.#retro.enqueue(indicator, point.ioc);
  }

  #problem(message: string, fields: Record<string, unknown>): void {
    this.#logged++;
    if (this.#logged <= this.#maxLogged) this.#log.warning(message, fields);
    else this.#log.debug(message, fields);
    if (this.#logged === this.#maxLogged) {
      this.#log.warning("Further skipped items are counted but logged only at DEBUG level");
    }
  }
}

/**
 * Yields the decoded frames of one subscription until no indicator arrived for
 * `idleMs`, then stops iterating, which unsubscribes. Frames the codec ignores
 * do not count as activity.
 */
async function* framesUntilIdle(
  source: SweepSource & { kind: "threatbus" },
  options: { readonly clock: Clock; readonly log: Logger; readonly signal: AbortSignal },
): AsyncGenerator<Exclude<DecodedFrame, { kind: "ignored" }>> {
  const { clock, log, signal } = options;
  const stop = new AbortController();
  const run = AbortSignal.any([signal, stop.signal]);
  const iterator = source.threatBus.frames(run)[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<BrokerFrame>> | undefined;
  let deadline = clock.monotonic() + source.idleMs;
  try {
    while (!run.aborted) {
      const next = pending ??= iterator.next();
      const timer = new AbortController();
      const idle = clock.sleep(
        Math.max(0, deadline - clock.monotonic()),
        AbortSignal.any([run, timer.signal]),
      ).then(() => "idle" as const, () => "cancelled" as const);
      const winner = await Promise.race([next.then((result) => ({ result })), idle]);
      timer.abort();
      await idle;
      if (winner === "idle") {
        log.info("No new indicator; leaving Threat Bus", { idle_s: source.idleMs / 1000 });
        return;
      }
      if (winner === "cancelled") continue;
      pending = undefined;
      if (winner.result.done) return;
      const decoded = source.codec.decode(winner.result.value);
      if (decoded.kind === "ignored") {
        log.debug("Skipping broker message", { reason: decoded.reason });
        continue;
      }
      deadline = clock.monotonic() + source.idleMs;
      yield decoded;
    }
  } finally {
    stop.abort();
    // The subscription ends (and unsubscribes) only once the pending read settles.
    await pending?.catch(() => undefined);
    await iterator.return?.();
  }
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
        error: describe(error),
      });
    }
  }
}

function reporter(
  sink: SightingSink,
  tally: SweepTally,
  log: Logger,
): (sighting: Sighting) => Promise<void> {
  return async (sighting) => {
    try {
      await sink.write(sighting);
      tally.sighting(true);
    } catch (error) {
      tally.sighting(false);
      log.error("Cannot deliver sighting", { sighting: sighting.id, error: describe(error) });
    }
  };
}

async function closeSink(sink: SightingSink, tally: SweepTally, log: Logger): Promise<void> {
  try {
    await sink.close();
  } catch (error) {
    log.error("Cannot close the sink", { error: describe(error) });
  }
  // Sinks that buffer while their target is down say how many lines they had to drop.
  const dropped = (sink as { readonly dropped?: unknown }).dropped;
  if (typeof dropped === "number" && dropped > 0) {
    tally.lost(dropped);
    log.error("The sink dropped sightings", { dropped });
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause === undefined ? "" : ` (cause: ${describe(error.cause)})`;
  return `${error.message}${cause}`;
}
