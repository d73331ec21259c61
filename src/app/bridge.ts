import { isRemoval } from "../core/indicator.ts";
import { pointIocFromPattern } from "../core/point_ioc.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import type { Sighting } from "../core/sighting.ts";
import type { BrokerFrame, WireCodec } from "../core/wire_codec.ts";
import type {
  Backend,
  Clock,
  ContextTransformer,
  LiveBackend,
  Logger,
  SightingSink,
  ThreatBus,
} from "../ports.ts";
import { type Backoff, backoffDelay, DEFAULT_BACKOFF } from "../async/backoff.ts";
import { DEFAULT_UPDATE_CONCURRENCY, LiveMatcher } from "./live_matcher.ts";
import { describeError } from "../core/error_text.ts";
import { deliverSighting } from "./deliver.ts";
import { RetroMatcher } from "./retro/matcher.ts";

/** Live matching through the backend's matcher (`live_match`, `matcher_name`). */
export interface LiveSettings {
  readonly matcherName: string;
  /** Matcher add/remove calls at once; defaults to the live matcher's own. */
  readonly updateConcurrency?: number;
  /** Waits between re-attachments; default 1 s doubling to 30 s. */
  readonly backoff?: Backoff;
}

/** The parts of the config the bridge acts on. */
export interface BridgeSettings {
  readonly retroMatch: boolean;
  readonly retroMaxEvents: number;
  readonly retroTimeoutSeconds: number;
  readonly maxBackgroundTasks: number;
  /** Further attempts for a refused retro query (`retro_match_retries`); default 0. */
  readonly retroRetries?: number;
  /** Waits between those attempts; default 1 s doubling to 30 s. */
  readonly retroBackoff?: Backoff;
  /** Most indicators one retro query serves (`retro_match_batch_size`); default 1. */
  readonly retroBatchSize?: number;
  /** How long running queries may finish after shutdown began. */
  readonly shutdownGraceMs: number;
  /** For log lines only. */
  readonly backendName: string;
  readonly backendBackoff?: Backoff;
  /** Absent: no live matching. */
  readonly live?: LiveSettings;
}

/** Every adapter the bridge uses, passed in so tests can swap them. */
export interface BridgeDeps {
  readonly settings: BridgeSettings;
  readonly threatBus: ThreatBus;
  readonly backend: Backend;
  readonly codec: WireCodec;
  /** Where sightings go: Threat Bus or a configured sink. */
  readonly sink: SightingSink;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly newUuid: () => string;
  readonly metrics: MetricsRegistry;
  /** Required when `settings.live` is set; usually the same object as `backend`. */
  readonly liveBackend?: LiveBackend;
  /** Rewrites each sighting's context before delivery (`transform_context`). */
  readonly transformer?: ContextTransformer;
}

/**
 * Runs the bridge until `signal` aborts: waits for the backend, reads
 * indicators from Threat Bus, queries them, feeds the live matcher and reports
 * sightings; then drains running work, closes the sink and leaves Threat Bus.
 */
export async function runBridge(deps: BridgeDeps, signal: AbortSignal): Promise<void> {
  const log = deps.logger.child("bridge");
  if (deps.settings.live !== undefined && deps.liveBackend === undefined) {
    await closeAll(deps, log);
    throw new Error(
      `Cannot match live: ${deps.settings.backendName} offers no live matching backend`,
    );
  }
  try {
    await waitForBackend(deps, signal);
  } catch (error) {
    if (signal.aborted) {
      await closeAll(deps, log);
      return;
    }
    throw error;
  }
  const report = reporter(deps, log);
  const retro = new RetroMatcher(
    {
      backend: deps.backend,
      logger: deps.logger,
      clock: deps.clock,
      newUuid: deps.newUuid,
      metrics: deps.metrics,
      report,
    },
    {
      concurrency: deps.settings.maxBackgroundTasks,
      maxEvents: deps.settings.retroMaxEvents,
      timeoutSeconds: deps.settings.retroTimeoutSeconds,
      ...(deps.settings.retroRetries === undefined ? {} : { retries: deps.settings.retroRetries }),
      ...(deps.settings.retroBatchSize === undefined
        ? {}
        : { batchSize: deps.settings.retroBatchSize }),
      ...(deps.settings.retroBackoff === undefined
        ? {}
        : { retryBackoff: deps.settings.retroBackoff }),
    },
  );
  const live = liveMatcher(deps, report);
  try {
    live?.start(signal);
    for await (const frame of deps.threatBus.frames(signal)) {
      await handleFrame(frame, { deps, log, retro, live, signal });
    }
  } finally {
    const grace = AbortSignal.timeout(deps.settings.shutdownGraceMs);
    await Promise.all([retro.drain(grace), live?.drain(grace)]);
    await closeAll(deps, log);
  }
}

function liveMatcher(
  deps: BridgeDeps,
  report: (sighting: Sighting) => Promise<void>,
): LiveMatcher | undefined {
  const { live } = deps.settings;
  if (live === undefined || deps.liveBackend === undefined) return undefined;
  return new LiveMatcher(
    {
      backend: deps.liveBackend,
      logger: deps.logger,
      clock: deps.clock,
      newUuid: deps.newUuid,
      metrics: deps.metrics,
      report,
    },
    {
      matcherName: live.matcherName,
      // Matcher updates are VAST calls too, so max_background_tasks caps them.
      updateConcurrency: Math.min(
        deps.settings.maxBackgroundTasks,
        live.updateConcurrency ?? DEFAULT_UPDATE_CONCURRENCY,
      ),
      ...(live.backoff === undefined ? {} : { backoff: live.backoff }),
    },
  );
}

async function waitForBackend(deps: BridgeDeps, signal: AbortSignal): Promise<void> {
  const log = deps.logger.child("backend");
  for (let attempt = 0;; attempt++) {
    try {
      await deps.backend.status(signal);
      if (attempt > 0) log.info(`${deps.settings.backendName} is up`);
      return;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const waitMs = backoffDelay(attempt, deps.settings.backendBackoff ?? DEFAULT_BACKOFF);
      log.warning(`${deps.settings.backendName} is not answering; retrying`, {
        attempt: attempt + 1,
        retry_in_s: waitMs / 1000,
        reason: (error as Error).message,
      });
      await deps.clock.sleep(waitMs, signal);
    }
  }
}

interface FrameContext {
  readonly deps: BridgeDeps;
  readonly log: Logger;
  readonly retro: RetroMatcher;
  readonly live: LiveMatcher | undefined;
  readonly signal: AbortSignal;
}

async function handleFrame(frame: BrokerFrame, context: FrameContext): Promise<void> {
  const { deps, log, retro, live, signal } = context;
  const decoded = deps.codec.decode(frame);
  if (decoded.kind === "ignored") {
    log.debug("Skipping broker message", { reason: decoded.reason });
    return;
  }
  if (decoded.kind === "invalid") {
    deps.metrics.count("indicators_skipped_invalid_message");
    log.warning("Skipping broker message", { reason: decoded.reason });
    return;
  }
  const indicator = decoded.indicator;
  if (isRemoval(indicator)) {
    deps.metrics.count("removed_iocs");
    const cancelled = retro.cancel(indicator.id);
    log.info("Indicator withdrawn", { indicator: indicator.id, cancelled_queries: cancelled });
    if (live === undefined) return;
    const point = pointIocFromPattern(indicator.pattern);
    if (point.ok) await live.remove(indicator, point.ioc, signal);
    else {
      log.warning("Cannot remove the indicator from the live matcher", {
        indicator: indicator.id,
        reason: point.reason,
      });
    }
    return;
  }
  const point = pointIocFromPattern(indicator.pattern);
  if (!point.ok) {
    deps.metrics.count(
      point.kind === "invalid-value"
        ? "indicators_skipped_invalid_value"
        : point.kind === "syntax"
        ? "indicators_skipped_invalid_message"
        : "indicators_skipped_unsupported_pattern",
    );
    log.warning("Skipping indicator", { indicator: indicator.id, reason: point.reason });
    return;
  }
  log.debug("Indicator received", { indicator: indicator.id, ioc: point.ioc.value });
  deps.metrics.count("added_iocs");
  if (deps.settings.retroMatch) retro.enqueue(indicator, point.ioc);
  // Awaited so that a backed-up matcher slows down reading instead of queueing without bound.
  if (live !== undefined) await live.add(indicator, point.ioc, signal);
}

function reporter(
  deps: Pick<BridgeDeps, "sink" | "transformer">,
  log: Logger,
): (sighting: Sighting) => Promise<void> {
  const { sink, transformer } = deps;
  return async (sighting) => {
    try {
      await deliverSighting(sighting, { sink, transformer });
    } catch (error) {
      log.error("Cannot deliver sighting", { sighting: sighting.id, error: describeError(error) });
    }
  };
}

async function closeAll(deps: BridgeDeps, log: Logger): Promise<void> {
  try {
    await deps.sink.close();
  } catch (error) {
    log.error("Cannot close the sink", { error: (error as Error).message });
  }
  await deps.threatBus.close();
}
