/**
 * The config as the application reads it: each setting taken once from the
 * validated config (whose schema states every default) into the complete
 * settings objects of `src/app`.
 */

import type { BridgeSettings } from "../app/bridge.ts";
import type { SweepSettings } from "../app/sweep.ts";
import { liveMatcherName, sightingSource } from "../core/backend_identity.ts";
import type { Config } from "../core/config_schema.ts";

/** The bridge's view of the config. */
export function bridgeSettings(config: Config, backendName: string): BridgeSettings {
  // The config schema requires matcher_name whenever live_match is true with VAST.
  const matcherName = liveMatcherName(config);
  return {
    retroMatch: config.retro_match,
    retroMaxEvents: config.retro_match_max_events,
    retroTimeoutSeconds: config.retro_match_timeout,
    maxBackgroundTasks: config.max_background_tasks,
    retroRetries: config.retro_match_retries,
    retroBatchSize: config.retro_match_batch_size,
    shutdownGraceMs: config.shutdown_timeout * 1000,
    backendName,
    source: sightingSource(config),
    sightingAggregation: config.sighting_aggregation,
    indicators: {
      dedupWindowMs: config.indicator_dedup_window * 1000,
      maxRememberedIds: config.indicator_dedup_max_ids,
    },
    live: config.live_match && matcherName !== undefined
      ? {
        matcherName,
        sightingsPerIocPerMinute: config.live_sightings_per_ioc_per_minute,
        maxAgeMs: (config.indicator_max_age ?? 0) * 1000,
      }
      : undefined,
  };
}

/** A sweep's view of the config. */
export function sweepSettings(
  config: Config,
  options: { readonly dryRun: boolean },
): SweepSettings {
  return {
    maxEvents: config.retro_match_max_events,
    timeoutSeconds: config.retro_match_timeout,
    concurrency: config.max_background_tasks,
    retries: config.retro_match_retries,
    batchSize: config.retro_match_batch_size,
    source: sightingSource(config),
    aggregation: config.sighting_aggregation,
    dryRun: options.dryRun,
  };
}
