import { isRemoval } from "../core/indicator.ts";
import { pointIocFromPattern } from "../core/point_ioc.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import type { Sighting } from "../core/sighting.ts";
import type { BrokerFrame, WireCodec } from "../core/wire_codec.ts";
import type { Backend, Clock, Logger, SightingSink, ThreatBus } from "../ports.ts";
import { backoffDelay, type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
import { RetroMatcher } from "./retro_matcher.ts";

/** The parts of the config the bridge acts on. */
export interface BridgeSettings {
  readonly retroMatch: boolean;
  readonly retroMaxEvents: number;
  readonly retroTimeoutSeconds: number;
  readonly maxBackgroundTasks: number;
  /** How long running queries may finish after shutdown began. */
  readonly shutdownGraceMs: number;
  /** For log lines only. */
  readonly backendName: string;
  readonly backendBackoff?: BackoffOptions;
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
}

/**
 * Runs the bridge until `signal` aborts: waits for the backend, reads
 * indicators from Threat Bus, queries them and reports sightings; then drains
 * running work, closes the sink and leaves Threat Bus.
 */
export async function runBridge(deps: BridgeDeps, signal: AbortSignal): Promise<void> {
  const log = deps.logger.child("bridge");
  try {
    await waitForBackend(deps, signal);
  } catch (error) {
    if (signal.aborted) {
      await closeAll(deps, log);
      return;
    }
    throw error;
  }
  const report = reporter(deps.sink, log);
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
    },
  );
  try {
    for await (const frame of deps.threatBus.frames(signal)) {
      handleFrame(frame, { deps, log, retro });
    }
  } finally {
    const grace = AbortSignal.timeout(deps.settings.shutdownGraceMs);
    await retro.drain(grace);
    await closeAll(deps, log);
  }
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
}

function handleFrame(frame: BrokerFrame, { deps, log, retro }: FrameContext): void {
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
}

function reporter(sink: SightingSink, log: Logger): (sighting: Sighting) => Promise<void> {
  return async (sighting) => {
    try {
      await sink.write(sighting);
    } catch (error) {
      log.error("Cannot deliver sighting", {
        sighting: sighting.id,
        error: (error as Error).message,
      });
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
