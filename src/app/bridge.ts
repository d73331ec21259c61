import { type Backoff, backoffDelay, DEFAULT_BACKOFF } from "../async/backoff.ts";
import { UnsupportedBackendError } from "../core/backend_error.ts";
import { describeError } from "../core/error_text.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import type { Sighting, SightingAggregation } from "../core/sighting.ts";
import type { WireCodec } from "../core/wire_codec.ts";
import type {
  Backend,
  Clock,
  ContextTransformer,
  LiveBackend,
  Logger,
  SightingSink,
  ThreatBus,
} from "../ports.ts";
import { deliverSighting } from "./deliver.ts";
import { FrameIntake, type IndicatorLifecycleSettings } from "./frame_intake.ts";
import {
  DEFAULT_UPDATE_CONCURRENCY,
  LiveMatcher,
  type LiveMatcherOptions,
} from "./live_matcher.ts";
import { RetroMatcher } from "./retro/matcher.ts";

/** The parts of the config the bridge acts on, complete (the config's defaults are applied). */
export interface BridgeSettings {
  readonly retroMatch: boolean;
  readonly retroMaxEvents: number;
  readonly retroTimeoutSeconds: number;
  readonly maxBackgroundTasks: number;
  /** Further attempts for a refused retro query (`retro_match_retries`). */
  readonly retroRetries: number;
  /** Most indicators one retro query serves (`retro_match_batch_size`). */
  readonly retroBatchSize: number;
  /** How long running queries may finish after shutdown began. */
  readonly shutdownGraceMs: number;
  /** For log lines only. */
  readonly backendName: string;
  /** The `x_threatbus_source` of every sighting (`source`). */
  readonly source: string;
  /** A retro sighting per event, or one per indicator and query (`sighting_aggregation`). */
  readonly sightingAggregation: SightingAggregation;
  /** How re-sent and edited indicators are told apart (`indicator_dedup_*`). */
  readonly indicators: IndicatorLifecycleSettings;
  /** Waits between retro query attempts; default 1 s doubling to 30 s. */
  readonly retroBackoff?: Backoff | undefined;
  /** Waits while the backend is not answering; default 1 s doubling to 30 s. */
  readonly backendBackoff?: Backoff | undefined;
  /** Live matching through the backend's matcher (its sightings' source is `source`); absent: none. */
  readonly live?: Omit<LiveMatcherOptions, "source"> | undefined;
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
  readonly liveBackend?: LiveBackend | undefined;
  /** Rewrites each sighting's context before delivery (`transform_context`). */
  readonly transformer?: ContextTransformer | undefined;
}

/**
 * Runs the bridge until `signal` aborts: waits for the backend, reads
 * indicators from Threat Bus, queries them, feeds the live matcher and reports
 * sightings; then drains running work, closes the sink and leaves Threat Bus.
 */
export async function runBridge(deps: BridgeDeps, signal: AbortSignal): Promise<void> {
  const log = deps.logger.child("bridge");
  const { settings } = deps;
  if (settings.live !== undefined && deps.liveBackend === undefined) {
    await closeAll(deps, log);
    throw new Error(`Cannot match live: ${settings.backendName} offers no live matching backend`);
  }
  try {
    await waitForBackend(deps, signal);
  } catch (error) {
    await closeAll(deps, log);
    if (signal.aborted) return;
    throw error;
  }
  const report = reporter(deps, log);
  const { backend, logger, clock, newUuid, metrics } = deps;
  const retro = new RetroMatcher({ backend, logger, clock, newUuid, metrics, report }, {
    concurrency: settings.maxBackgroundTasks,
    maxEvents: settings.retroMaxEvents,
    timeoutSeconds: settings.retroTimeoutSeconds,
    retries: settings.retroRetries,
    batchSize: settings.retroBatchSize,
    source: settings.source,
    aggregation: settings.sightingAggregation,
    retryBackoff: settings.retroBackoff,
    backendName: settings.backendName,
    backendBackoff: settings.backendBackoff,
  });
  const live = settings.live === undefined || deps.liveBackend === undefined
    ? undefined
    : new LiveMatcher(
      { backend: deps.liveBackend, logger, clock, newUuid, metrics, report },
      {
        ...settings.live,
        source: settings.source,
        // Matcher updates are backend calls too, so max_background_tasks caps them.
        updateConcurrency: Math.min(
          settings.maxBackgroundTasks,
          settings.live.updateConcurrency ?? DEFAULT_UPDATE_CONCURRENCY,
        ),
      },
    );
  const intake = new FrameIntake({
    codec: deps.codec,
    metrics,
    log,
    clock,
    indicators: settings.indicators,
    retro: settings.retroMatch ? retro : undefined,
    live,
  });
  try {
    live?.start(signal);
    for await (const frame of deps.threatBus.frames(signal)) await intake.frame(frame, signal);
  } finally {
    const grace = AbortSignal.timeout(settings.shutdownGraceMs);
    await Promise.all([retro.drain(grace), live?.drain(grace)]);
    await closeAll(deps, log);
  }
}

async function waitForBackend(deps: BridgeDeps, signal: AbortSignal): Promise<void> {
  const log = deps.logger.child("backend");
  const { backendName, backendBackoff = DEFAULT_BACKOFF } = deps.settings;
  for (let attempt = 0;; attempt++) {
    try {
      await deps.backend.status(signal);
      if (attempt > 0) log.info(`${backendName} is up`);
      return;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      // A node that answers but cannot be used (too old) will not change by waiting.
      if (error instanceof UnsupportedBackendError) throw error;
      const waitMs = backoffDelay(attempt, backendBackoff);
      log.warning(`${backendName} is not answering; retrying`, {
        attempt: attempt + 1,
        retry_in_s: waitMs / 1000,
        reason: (error as Error).message,
      });
      await deps.clock.sleep(waitMs, signal);
    }
  }
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
